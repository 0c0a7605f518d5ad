"""The base of every loader: one SQL statement per batch, in its own short session.

Invariant: a batch never shares a session with another task (sibling resolvers and
batches run concurrently), and every statement is filtered by the request's scope, so a
loader can only return what the viewer may see; `batch_load` answers `None` (or `[]`) for
keys out of scope, exactly as for keys that do not exist (`one_per_key`, `all_per_key`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Row
from sqlalchemy.sql import Executable
from strawberry.dataloader import DataLoader

from app.db import Database
from permissions.policy import AccessScope

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


def one_per_key(keys: Sequence[K], found: Iterable[tuple[K, T]]) -> list[T | None]:
    """For each key, its item, or None when the statement returned none for it."""
    by_key = dict(found)
    return [by_key.get(key) for key in keys]


def all_per_key(keys: Sequence[K], found: Iterable[tuple[K, T]]) -> list[list[T]]:
    """For each key, its items in the statement's order ([] when none)."""
    by_key: dict[K, list[T]] = defaultdict(list)
    for key, item in found:
        by_key[key].append(item)
    return [by_key.get(key, []) for key in keys]


class Loader(DataLoader[K, V], Generic[K, V]):
    def __init__(self, db: Database, scope: AccessScope) -> None:
        super().__init__(load_fn=self._load)
        self.db = db
        self.scope = scope

    async def _load(self, keys: list[K]) -> list[V]:
        return await self.batch_load(keys)

    async def batch_load(self, keys: Sequence[K]) -> list[V]:
        raise NotImplementedError

    async def fetch(self, statement: Executable) -> Sequence[Row[*tuple[Any, ...]]]:
        """Every row of `statement`, read in a session of this batch's own."""
        async with self.db.read() as session:
            return (await session.execute(statement)).all()
