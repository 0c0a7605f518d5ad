"""The access of live subscribers, read for many of them at once.

One event reaches every subscriber of a server process; each must be checked against its
access at delivery time (`resolvers.live`). `check_tokens` reads the tokens and viewers of any
number of subscribers in one statement (`app.auth.viewers_for_tokens`), then their scopes
(`permissions.policy.load_scopes`: one UNION ALL statement per 200 analysts, one for the
others' enrollments), with exactly the rules of one at a time: a revoked or expired token,
a deactivated user, an assignment ended or expired is seen by the read that follows it.

`Shared` holds what the subscribers of one event read once for all of them: the first to ask
starts the read, the others wait for its answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from app.auth import Viewer, viewers_for_tokens
from app.db import Database
from app.models import utcnow
from permissions.policy import AccessScope, load_scopes

T = TypeVar("T")


@dataclass(frozen=True)
class Access:
    viewer: Viewer
    scope: AccessScope


async def check_tokens(db: Database, tokens: Collection[str]) -> dict[str, Access | None]:
    """Each token's viewer and scope now; None for a token that no longer works."""
    now = utcnow()
    viewers = await viewers_for_tokens(db, tokens, now)
    scopes = await load_scopes(db, list(viewers.values()), now)
    return {
        token: Access(viewer, scopes[viewer.id]) if (viewer := viewers.get(token)) else None
        for token in tokens
    }


class Shared:
    """Reads made once for every subscriber of one event, by key."""

    def __init__(self) -> None:
        self._reads: dict[str, asyncio.Future[Any]] = {}

    async def once(self, key: str, read: Callable[[], Awaitable[T]]) -> T:
        future = self._reads.get(key)
        if future is None:
            future = self._reads[key] = asyncio.ensure_future(read())
        # Shielded: a subscriber leaving does not cancel the read the others wait for.
        return cast(T, await asyncio.shield(future))
