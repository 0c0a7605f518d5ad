"""Relay connections over keyset pages (`app.pagination` builds their SQL and cursors).

Invariants:
- `list_page` only orders, cuts and counts the caller's statement, which already carries
  the scope's clauses, so `totalCount` counts exactly the rows the pages walk through;
- `totalCount` runs its COUNT only when asked for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from sqlalchemy import Row, Select
from strawberry.dataloader import DataLoader

from app.pagination import (
    MAX_PAGE_SIZE,
    CursorValue,
    Order,
    PageKey,
    check_page,
    count_statement,
    encode_cursor,
    page_statement,
)
from resolvers.context import Context

T = TypeVar("T")
M = TypeVar("M")
F = TypeVar("F")

# Every list's `first` argument: `first: First = DEFAULT_PAGE_SIZE` shows the real default.
First = Annotated[
    int | None,
    strawberry.argument(description=f"How many items: 1 to {MAX_PAGE_SIZE} (null: the default)."),
]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds, all pages together.")
    async def total_count(self) -> int:
        return await self.count()


def build_connection(
    rows: Sequence[tuple[T, Sequence[CursorValue]]],
    first: int,
    after: str | None,
    count: Callable[[], Awaitable[int]],
) -> Connection[T]:
    """`rows` are up to `first + 1` (node, sort key) pairs; the extra one means another page."""
    page = rows[:first]
    edges = [Edge(cursor=encode_cursor(key), node=node) for node, key in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > first,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=count,
    )


async def list_page(
    ctx: Context,
    stmt: Select[Any],
    order: Order,
    first: int | None,
    after: str | None,
    node: Callable[[Row[Any]], T],
) -> Connection[T]:
    """One page of a top-level list: `stmt` (scoped by the caller) in `order`, each row made
    into a node by `node`."""
    size = check_page(first, after, order)
    async with ctx.db.read() as session:
        rows = (await session.execute(page_statement(stmt, order, size, after))).all()

    async def count() -> int:
        async with ctx.db.read() as session:
            return int((await session.execute(count_statement(stmt))).scalar_one())

    return build_connection([(node(row), order.key(row)) for row in rows], size, after, count)


async def entity_page(
    ctx: Context,
    stmt: Select[Any],
    order: Order,
    first: int | None,
    after: str | None,
    node: Callable[[Any], T],
) -> Connection[T]:
    """`list_page` of a statement selecting one table's entities (`select(Model)`), each
    made into a node by `node`."""
    return await list_page(ctx, stmt, order, first, after, lambda row: node(row[0]))


async def nested_page(
    pages: DataLoader[tuple[int, PageKey[F]], list[tuple[M, list[CursorValue]]]],
    counts: DataLoader[tuple[int, F], int],
    parent: int,
    order: Order,
    first: int | None,
    after: str | None,
    flt: F,
    node: Callable[[M], T],
) -> Connection[T]:
    """One page of a parent's nested list (a group's members or report rows) through its
    page and count loaders, which batch the parents of a request into one statement each."""
    size = check_page(first, after, order)
    rows = await pages.load((parent, PageKey(first=size, after=after, filter=flt)))

    async def count() -> int:
        return await counts.load((parent, flt))

    return build_connection([(node(item), key) for item, key in rows], size, after, count)
