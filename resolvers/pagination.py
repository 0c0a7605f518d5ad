"""Relay connections with keyset pagination.

Invariants:
- `first` defaults to 25 and must be 1..100 (BAD_USER_INPUT otherwise): no list is unbounded;
- a cursor encodes the sort key of its row, and the next page starts strictly after that
  key, so inserts before the cursor never shift or repeat rows (keyset, not offset);
- every order ends with a unique column, so the order is total and deterministic;
- a cursor holds only values the viewer may read on its row (never a hidden email: that
  would leak it, and a forged cursor would be an oracle for it), and a crafted cursor whose
  values do not match the order's column types is BAD_USER_INPUT, never a database error;
- `totalCount` runs its COUNT only when asked for.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
import strawberry
from sqlalchemy import ColumnElement

from app.errors import bad_input

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

CursorValue = str | int | None

BAD_CURSOR = "'after' is not a cursor from this list; start again without it."


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise bad_input("first", f"'first' must be between 1 and {MAX_PAGE_SIZE}.")
    return first


def encode_cursor(key: Sequence[CursorValue]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode()


def _bigint(value: object) -> bool:
    """An int a database integer column can hold (a larger one is a database error)."""
    return type(value) is int and -(2**63) <= value < 2**63


def decode_cursor(cursor: str, arity: int) -> list[CursorValue]:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != arity
        or not all(v is None or isinstance(v, str) or _bigint(v) for v in key)
    ):
        raise bad_input("after", BAD_CURSOR)
    return key


def _cursor_type(column: Any) -> type | None:
    """str or int for a text or integer order column (through SQLModel's type decorators)."""
    kind = getattr(column.type, "impl_instance", column.type)
    if isinstance(kind, sa.String):
        return str
    if isinstance(kind, sa.Integer):
        return int
    return None


def check_cursor(order_by: Sequence[Any], cursor: str) -> list[CursorValue]:
    """The cursor's values, each of its order column's type (PostgreSQL will not compare a
    text column with a number: a crafted cursor must be BAD_USER_INPUT, not a crash)."""
    values = decode_cursor(cursor, len(order_by))
    for value, column in zip(values, order_by, strict=True):
        kind = _cursor_type(column)
        if kind is not None and type(value) is not kind:
            raise bad_input("after", BAD_CURSOR)
    return values


def after_clause(order_by: Sequence[ColumnElement[Any]], cursor: str | None) -> ColumnElement[bool]:
    if cursor is None:
        return sa.true()
    values = check_cursor(order_by, cursor)
    return sa.tuple_(*order_by) > sa.tuple_(*(sa.literal(v) for v in values))


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
