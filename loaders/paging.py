"""Batched pages of nested connections (e.g. `Group.members` across many groups).

Invariants:
- a batch runs one statement per distinct argument set (`first`, `after`, filters), in one
  short session: each key's page is the first `first + 1` rows of its partition by
  `ROW_NUMBER() OVER (PARTITION BY owner ORDER BY …)`, after the keyset cursor (applied in
  WHERE, before numbering); the extra row tells `build_connection` another page exists;
- counts (`totalCount`) are batched the same way, as one grouped COUNT per argument set;
- the caller's statement carries the scope's clauses: nothing here decides access.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from app.keyset import CursorValue
from loaders.base import Loader

A = TypeVar("A", bound=Hashable)
T = TypeVar("T")

OWNER = "_owner"


@dataclass(frozen=True)
class Page:
    first: int
    after: str | None


def first_rows_per_owner(
    stmt: sa.Select[Any], owner: Any, order: Sequence[Any], limit: int
) -> sa.Select[Any]:
    """`stmt` (which must select `owner` labelled `_owner`) cut to `limit` rows per owner."""
    rank = sa.func.row_number().over(partition_by=owner, order_by=list(order)).label("_rn")
    sub = stmt.add_columns(rank).subquery()
    return sa.select(sub).where(sub.c._rn <= limit).order_by(sub.c[OWNER], sub.c._rn)


def _by_args(keys: Sequence[tuple[int, A]]) -> dict[A, list[int]]:
    owners: dict[A, list[int]] = defaultdict(list)
    for owner, args in keys:
        if owner not in owners[args]:
            owners[args].append(owner)
    return owners


class PageLoader(Loader[tuple[int, A], list[tuple[T, list[CursorValue]]]], Generic[A, T]):
    """Key: (owner id, arguments); value: up to `first + 1` (item, cursor key) pairs."""

    def statement(self, owners: list[int], args: A) -> sa.Select[Any]:
        raise NotImplementedError

    def item(self, row: Any) -> tuple[T, list[CursorValue]]:
        raise NotImplementedError

    async def batch_load(
        self, keys: Sequence[tuple[int, A]]
    ) -> list[list[tuple[T, list[CursorValue]]]]:
        found: dict[tuple[int, A], list[tuple[T, list[CursorValue]]]] = defaultdict(list)
        async with self.db.read() as session:
            for args, owners in _by_args(keys).items():
                for row in await session.execute(self.statement(owners, args)):
                    found[(row._mapping[OWNER], args)].append(self.item(row))
        return [found.get(key, []) for key in keys]


class CountLoader(Loader[tuple[int, A], int], Generic[A]):
    """Key: (owner id, arguments); value: how many rows the owner's whole list holds."""

    def statement(self, owners: list[int], args: A) -> sa.Select[Any]:
        """Must select `_owner` and `n`, grouped by owner."""
        raise NotImplementedError

    async def batch_load(self, keys: Sequence[tuple[int, A]]) -> list[int]:
        found: dict[tuple[int, A], int] = {}
        async with self.db.read() as session:
            for args, owners in _by_args(keys).items():
                for row in await session.execute(self.statement(owners, args)):
                    found[(row._mapping[OWNER], args)] = int(row.n)
        return [found.get(key, 0) for key in keys]
