"""Top-level connections: one keyset page of a scoped statement, and its count on demand.

Invariant: the caller's statement already carries the scope's clauses; this module only
orders, cuts and counts it, so `totalCount` counts exactly the rows the pages walk through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from resolvers.context import Context
from resolvers.pagination import (
    Connection,
    CursorValue,
    after_clause,
    build_connection,
    check_cursor,
    page_size,
)

T = TypeVar("T")


def check_page(first: int | None, after: str | None, order: Sequence[Any]) -> int:
    """The page size; BAD_USER_INPUT for a bad `first` or a cursor of another list."""
    size = page_size(first)
    if after is not None:
        check_cursor(order, after)
    return size


async def list_page(
    ctx: Context,
    stmt: sa.Select[Any],
    order: Sequence[Any],
    first: int | None,
    after: str | None,
    item: Callable[[Any], tuple[T, list[CursorValue]]],
) -> Connection[T]:
    size = check_page(first, after, order)
    page = stmt.where(after_clause(order, after)).order_by(*order).limit(size + 1)
    async with ctx.db.read() as session:
        rows = (await session.execute(page)).all()

    async def count() -> int:
        async with ctx.db.read() as session:
            total = await session.execute(sa.select(sa.func.count()).select_from(stmt.subquery()))
            return int(total.scalar_one())

    return build_connection([item(row) for row in rows], size, after, count)
