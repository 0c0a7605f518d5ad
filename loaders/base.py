"""The base of every loader: one SQL statement per batch, in its own short session.

Invariants: a batch never shares a session with another task (sibling resolvers and
batches run concurrently); every loader's statement carries the clause of the read rule
(`permissions.rules`) for what it returns (users `USER`, roles `PRIVATE`, groups `GROUP`,
courses and lessons `COURSE`, enrollments `ENROLLMENT` and `COURSE`, assignments
`ASSIGNMENT`, API tokens `TOKEN`, audit events `AUDIT_TRAIL`, report rows `GROUP`, summaries
`GROUP` and `COURSE`), so a loader can only return what the viewer may see; `batch_load`
answers `None` (or `[]`) for keys out of scope, exactly as for keys that do not exist
(`one_per_key`, `all_per_key`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Row
from sqlalchemy.sql import Executable
from sqlmodel import SQLModel, select
from strawberry.dataloader import DataLoader

from app.db import Database
from app.models import table_of
from app.pagination import PARENT, CursorValue, Order, PageKey, pages_per_parent
from permissions.policy import AccessScope

K = TypeVar("K", bound=Hashable)
A = TypeVar("A", bound=Hashable)
F = TypeVar("F", bound=Hashable)
V = TypeVar("V")
M = TypeVar("M", bound=SQLModel)
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


class RowByIdLoader(Loader[int, M | None], Generic[M]):
    """A `model` row by its id, only where the viewer may read it (`visible`, the row's read
    rule as SQL); otherwise None, exactly like an id that does not exist."""

    model: type[M]

    def visible(self) -> ColumnElement[bool]:
        raise NotImplementedError

    def found(self, ids: list[int]) -> None:
        """Told the ids of the rows `visible` let through (a user loader tells the scope)."""

    async def batch_load(self, keys: Sequence[int]) -> list[M | None]:
        ids = table_of(self.model).c.id
        rows = await self.fetch(select(ids, self.model).where(ids.in_(keys), self.visible()))
        self.found([pk for pk, _ in rows])
        return one_per_key(keys, ((pk, row) for pk, row in rows))


def _by_args(keys: Sequence[tuple[int, A]]) -> dict[A, list[int]]:
    """The parents asked for, per argument set (one statement per argument set)."""
    parents: dict[A, list[int]] = defaultdict(list)
    for parent, args in keys:
        if parent not in parents[args]:
            parents[args].append(parent)
    return parents


class PageLoader(Loader[tuple[int, PageKey[F]], list[tuple[T, list[CursorValue]]]], Generic[F, T]):
    """A page of a nested list per parent (e.g. each group's members), one statement per
    distinct (`first`, `after`, filter): key (parent id, `PageKey`); value up to `first + 1`
    (item, cursor key) pairs, the extra one telling `build_connection` another page exists."""

    def parent(self) -> Any:
        """The column the list belongs to (a group's members: the membership's group id)."""
        raise NotImplementedError

    def rows(self, parents: list[int], flt: F) -> sa.Select[Any]:
        """The parents' whole lists, selecting `parent` labelled `_parent`."""
        raise NotImplementedError

    def order(self) -> Order:
        raise NotImplementedError

    def item(self, row: Row[Any]) -> T:
        raise NotImplementedError

    async def batch_load(
        self, keys: Sequence[tuple[int, PageKey[F]]]
    ) -> list[list[tuple[T, list[CursorValue]]]]:
        order = self.order()
        found: dict[tuple[int, PageKey[F]], list[tuple[T, list[CursorValue]]]] = defaultdict(list)
        async with self.db.read() as session:
            for args, parents in _by_args(keys).items():
                stmt = self.rows(parents, args.filter)
                page = pages_per_parent(stmt, self.parent(), order, args.first, args.after)
                for row in await session.execute(page):
                    found[(row._mapping[PARENT], args)].append((self.item(row), order.key(row)))
        return [found.get(key, []) for key in keys]


class CountLoader(Loader[tuple[int, F], int], Generic[F]):
    """Key: (parent id, filter); value: how many rows the parent's whole list holds (one
    grouped COUNT per distinct filter, over the same `rows` as the list's `PageLoader`)."""

    def parent(self) -> Any:
        raise NotImplementedError

    def rows(self, parents: list[int], flt: F) -> sa.Select[Any]:
        raise NotImplementedError

    async def batch_load(self, keys: Sequence[tuple[int, F]]) -> list[int]:
        found: dict[tuple[int, F], int] = {}
        async with self.db.read() as session:
            for flt, parents in _by_args(keys).items():
                stmt = self.rows(parents, flt).add_columns(sa.func.count().label("n"))
                for row in await session.execute(stmt.group_by(self.parent())):
                    found[(row._mapping[PARENT], flt)] = int(row.n)
        return [found.get(key, 0) for key in keys]
