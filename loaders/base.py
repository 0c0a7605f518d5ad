"""The base of every loader: one SQL statement per batch, in its own short session.

Invariant: a batch never shares a session with another task (sibling resolvers and
batches run concurrently), and every statement is filtered by the request's scope, so a
loader can only return what the viewer may see; `batch_load` answers `None` (or `[]`) for
keys out of scope, exactly as for keys that do not exist.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

from strawberry.dataloader import DataLoader

from app.db import Database
from permissions.policy import Scope

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Loader(DataLoader[K, V], Generic[K, V]):
    def __init__(self, db: Database, scope: Scope) -> None:
        super().__init__(load_fn=self._load)
        self.db = db
        self.scope = scope

    async def _load(self, keys: list[K]) -> list[V]:
        return await self.batch_load(keys)

    async def batch_load(self, keys: Sequence[K]) -> list[V]:
        raise NotImplementedError
