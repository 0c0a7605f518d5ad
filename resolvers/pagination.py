"""Relay connections over keyset pages (cursors and their SQL: `app.keyset`, re-exported).

Invariants:
- `first` defaults to 25 and must be 1..100 (BAD_USER_INPUT otherwise): no list is unbounded;
- `totalCount` runs its COUNT only when asked for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from app.errors import bad_input
from app.keyset import (
    CursorValue,
    after_clause,
    bad_cursor,
    check_cursor,
    decode_cursor,
    encode_cursor,
)

__all__ = [
    "Connection",
    "CursorValue",
    "Edge",
    "PageInfo",
    "after_clause",
    "bad_cursor",
    "build_connection",
    "check_cursor",
    "decode_cursor",
    "encode_cursor",
    "page_size",
]

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise bad_input("first", f"'first' must be between 1 and {MAX_PAGE_SIZE}.")
    return first


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
