"""Keyset cursors: a row's sort key as an opaque cursor, and the SQL that resumes after it.

Invariants:
- a cursor encodes the sort key of its row, and the next page starts strictly after that
  key, so inserts before the cursor never shift or repeat rows (keyset, not offset);
- every order ends with a unique column, so the order is total and deterministic;
- a cursor holds only values the viewer may read on its row (never a hidden email: that
  would leak it, and a forged cursor would be an oracle for it);
- a cursor that is not one of this list's (garbage, another list's arity, or values that do
  not match the order's column types) is BAD_USER_INPUT on `after`, never a database error.
Below `resolvers/` and `loaders/` (both page with it); `resolvers.pagination` re-exports it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement

from app.errors import AppError, bad_input

CursorValue = str | int | None


def encode_cursor(key: Sequence[CursorValue]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode()


def bad_cursor() -> AppError:
    return bad_input("after", "'after' is not a cursor from this list; start again without it.")


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
        raise bad_cursor()
    return key


def _bigint(value: object) -> bool:
    """An int a database integer column can hold (a larger one is a database error)."""
    return type(value) is int and -(2**63) <= value < 2**63


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
            raise bad_cursor()
    return values


def after_clause(order_by: Sequence[ColumnElement[Any]], cursor: str | None) -> ColumnElement[bool]:
    if cursor is None:
        return sa.true()
    values = check_cursor(order_by, cursor)
    return sa.tuple_(*order_by) > sa.tuple_(*(sa.literal(v) for v in values))
