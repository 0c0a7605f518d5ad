"""One event, many subscribers in one server process: each still receives exactly what its own
access allows at delivery time, while their tokens and scopes are read once per event for all
of them (`app.live_access`), not once per subscriber. A subscriber checking alone (its periodic
re-check, or with `live_batch_reads` off) reads its own token only, not everyone's."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.models import ApiToken, Role, utcnow
from app.security import token_digest
from app.settings import Settings
from tests.cast import Cast, call
from tests.support import Api, gid
from tests.test_lesson_events import COMPLETE
from tests.test_live import (
    PROGRESS,
    closed_with,
    live_server,
    next_message,
    open_ws,
    subscribe,
    world_with_group,
)
from tests.test_read_batching import count_statements


async def _analysts(cast: Cast, n: int, group: Any) -> list[str]:
    tokens = []
    for i in range(n):
        analyst = await cast.world.user(f"An{i}", "Analyst", Role.GROUP_ANALYST)
        await cast.world.assign(analyst, group)
        tokens.append(await cast.world.token(analyst))
    return tokens


async def test_many_subscribers_are_checked_in_one_read_per_event(
    api: Api, cast: Cast, settings: Settings
) -> None:
    group, _, lessons = await world_with_group(cast)
    tokens = await _analysts(cast, 5, group)
    for batch, expected in ((True, 1), (False, 5)):
        live_settings = dataclasses.replace(
            settings, live_recheck_seconds=30, live_batch_reads=batch
        )
        async with live_server(cast.world.db, live_settings) as port:
            sockets = [await open_ws(port, token) for token in tokens]
            for ws in sockets:
                await subscribe(ws, PROGRESS, {"g": [gid("Group", group.id)]})
            await asyncio.sleep(0.5)  # every subscription is listening
            with count_statements(cast.world.db) as statements:
                lesson = lessons[0] if batch else lessons[1]
                await call(api, COMPLETE, {"lesson": lesson}, cast.token("student"), None)
                messages = [await next_message(ws) for ws in sockets]
            for ws in sockets:
                await ws.close()
        assert [m["type"] for m in messages] == ["next"] * 5
        reads = _token_reads(statements)
        # The mutation's own sign-in reads one token; the subscribers' checks the rest: all
        # five tokens at once, or each subscriber its own.
        assert len(reads) == 1 + expected, (batch, reads)
        assert sorted(_tokens_asked(s) for s in reads) == ([1, 5] if batch else [1] * 6)


def _token_reads(statements: list[str]) -> list[str]:
    """Statements reading tokens with their users (`app.auth.viewers_for_tokens`)."""
    return [s for s in statements if "api_token.token_hash IN" in s]


def _tokens_asked(statement: str) -> int:
    """How many tokens a token read asks for: the placeholders of its IN list."""
    return statement.split("api_token.token_hash IN (", 1)[1].split(")", 1)[0].count(",") + 1


async def test_a_periodic_recheck_reads_its_own_token_and_closes_an_expired_one_alone(
    api: Api, cast: Cast, settings: Settings
) -> None:
    """No event at all: the token that ran out is seen by its own re-check, every re-check
    reads one token, and the other subscribers keep their streams."""
    group, _, lessons = await world_with_group(cast)
    tokens = await _analysts(cast, 3, group)
    live_settings = dataclasses.replace(settings, live_recheck_seconds=0.3)
    async with live_server(cast.world.db, live_settings) as port:
        sockets = [await open_ws(port, token) for token in tokens]
        for ws in sockets:
            await subscribe(ws, PROGRESS, {"g": [gid("Group", group.id)]})
        with count_statements(cast.world.db) as statements:
            async with cast.world.db.write() as session:  # its time runs out: no event
                await session.execute(
                    sa.update(ApiToken)
                    .where(col(ApiToken.token_hash) == token_digest(tokens[0]))
                    .values(expires_at=utcnow())
                )
            code, reason = await closed_with(sockets[0])
            reads = _token_reads(statements)
        await call(api, COMPLETE, {"lesson": lessons[0]}, cast.token("student"), None)
        messages = [await next_message(ws) for ws in sockets[1:]]
        for ws in sockets[1:]:
            await ws.close()
    assert code == 4403 and reason.startswith("Token revoked or expired")
    assert reads and [_tokens_asked(s) for s in reads] == [1] * len(reads)
    assert [m["type"] for m in messages] == ["next", "next"]


async def test_each_subscriber_gets_the_rows_of_its_own_groups_and_loses_access_alone(
    api: Api, cast: Cast, settings: Settings
) -> None:
    """Sam is in two groups, each with its own analyst; the admin watches every group."""
    first, _, lessons = await world_with_group(cast)
    second = await cast.world.group("Second", members=(cast.student,))
    (other,) = await _analysts(cast, 1, second)
    revoked = await cast.world.token(cast.analyst)
    live_settings = dataclasses.replace(settings, live_recheck_seconds=30)
    async with live_server(cast.world.db, live_settings) as port:
        watchers = {
            "analyst": (await open_ws(port, cast.token("analyst")), [gid("Group", first.id)]),
            "other": (await open_ws(port, other), None),
            "admin": (await open_ws(port, cast.token("admin")), None),
            "revoked": (await open_ws(port, revoked), [gid("Group", first.id)]),
        }
        for ws, groups in watchers.values():
            await subscribe(ws, PROGRESS, {"g": groups})
        await asyncio.sleep(0.5)
        # The analyst's second token (another tab) logs out; its first one keeps working.
        await call(api, "mutation { logout { apiToken { id } } }", {}, revoked, None)
        await call(api, COMPLETE, {"lesson": lessons[0]}, cast.token("student"), None)
        got = {}
        for name in ("analyst", "other"):
            message = await next_message(watchers[name][0])
            got[name] = message["payload"]["data"]["progressChanged"]["group"]["name"]
        admin = [await next_message(watchers["admin"][0]) for _ in range(2)]
        got["admin"] = sorted(
            m["payload"]["data"]["progressChanged"]["group"]["name"] for m in admin
        )
        code, reason = await closed_with(watchers["revoked"][0])
        for ws, _ in watchers.values():
            await ws.close()
    assert got == {"analyst": "Cohort", "other": "Second", "admin": ["Cohort", "Second"]}
    assert code == 4403 and reason.startswith("Token revoked or expired")
