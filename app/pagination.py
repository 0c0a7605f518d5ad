"""Keyset pagination in SQL, for every list: top-level lists, nested pages, the audit trail.

`resolvers.pagination` turns the rows into Relay connections; `loaders.base` batches nested
pages (`Group.members`, `Group.progress`) with `pages_per_parent`. Nothing here decides
access: the caller's statement already carries the scope's clauses.

Invariants:
- every list has one `Order`, defined once (`app.listing`, `app.report`), ending with a unique
  column, so the order is total and deterministic;
- a cursor encodes the sort key of its row (`Order.key_columns`, read back by `Order.key`),
  and the next page starts strictly after that key, so inserts before the cursor never shift
  or repeat rows (keyset, not offset);
- a cursor holds only values the viewer may read on its row (an order puts a hidden email in
  as '': that would leak it, and a forged cursor would be an oracle for it), and it is
  opaque: AES-256-GCM under a key derived from `GROUPANALYST_SECRET_KEY` (`CURSOR_KEY`), so
  no name or email is readable in a URL, and a cursor edited by hand fails authentication
  (BAD_USER_INPUT); like export links, cursors need one shared secret across workers;
- a cursor that is not one of this list's (garbage, another list's arity, or values that do
  not match the order's column types) is BAD_USER_INPUT on `after`, never a database error;
- `first` defaults to 25 and must be 1..100 (BAD_USER_INPUT otherwise): no list is unbounded;
  a page reads `first + 1` rows, the extra one telling that another page exists.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import ColumnElement

from app.errors import AppError, bad_input

CursorValue = str | int | None

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

# The label of the column a nested page is partitioned by (a group's id for its members).
PARENT = "_parent"

F = TypeVar("F", bound=Hashable)


_NONCE = 12
# Bound to this purpose: a cursor is no other ciphertext of this key's, and vice versa.
_CURSOR_AAD = b"groupanalyst pagination cursor v1"


class _CursorKey:
    """The process's cursor key: from `GROUPANALYST_SECRET_KEY` once `use_secret` is called
    (by `app.main.create_app`), random per process until then."""

    def __init__(self) -> None:
        self.aead = AESGCM(AESGCM.generate_key(bit_length=256))

    def use_secret(self, secret: str) -> None:
        # A key of its own, derived from the secret: never the export links' signing key.
        derived = hmac.new(secret.encode(), b"pagination cursors", hashlib.sha256).digest()
        self.aead = AESGCM(derived)


CURSOR_KEY = _CursorKey()


def encode_cursor(key: Sequence[CursorValue]) -> str:
    """The sort key, encrypted and authenticated (AES-256-GCM): opaque, nothing readable
    (no name or email in URLs, history or proxy logs), and unforgeable."""
    nonce = os.urandom(_NONCE)
    plain = json.dumps(list(key), separators=(",", ":")).encode()
    sealed = nonce + CURSOR_KEY.aead.encrypt(nonce, plain, _CURSOR_AAD)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def cursor_values(cursor: str) -> list[CursorValue] | None:
    """The sort key a cursor seals, or None when it is not one of ours (two cursors of the
    same row differ by their random nonce: compare them by this)."""
    try:
        sealed = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        plain = CURSOR_KEY.aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], _CURSOR_AAD)
        key = json.loads(plain)
    except (binascii.Error, ValueError, UnicodeError, InvalidTag):
        return None
    return key if isinstance(key, list) else None


def bad_cursor() -> AppError:
    return bad_input("after", "'after' is not a cursor from this list; start again without it.")


def decode_cursor(cursor: str, arity: int) -> list[CursorValue]:
    key = cursor_values(cursor)
    if (
        key is None
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


@dataclass(frozen=True)
class Order:
    """A list's sort order: its columns, all ascending or all descending, the last unique."""

    columns: tuple[Any, ...]
    descending: bool = False

    def by(self) -> list[Any]:
        """The ORDER BY terms."""
        return [c.desc() for c in self.columns] if self.descending else list(self.columns)

    def check(self, cursor: str) -> list[CursorValue]:
        """The cursor's values, each of its order column's type (PostgreSQL will not compare a
        text column with a number: a crafted cursor must be BAD_USER_INPUT, not a crash)."""
        values = decode_cursor(cursor, len(self.columns))
        for value, column in zip(values, self.columns, strict=True):
            kind = _cursor_type(column)
            if kind is not None and type(value) is not kind:
                raise bad_cursor()
        return values

    def after(self, cursor: str | None) -> ColumnElement[bool]:
        """Rows strictly after the cursor's row in this order (every row without a cursor)."""
        if cursor is None:
            return sa.true()
        key = sa.tuple_(*self.columns)
        values = sa.tuple_(*(sa.literal(v) for v in self.check(cursor)))
        return key < values if self.descending else key > values

    def key_columns(self) -> list[Any]:
        """The order's columns labelled `_k0`…, so that a row carries its own cursor key."""
        return [column.label(f"_k{i}") for i, column in enumerate(self.columns)]

    def by_keys(self, keys: Any) -> list[Any]:
        """The ORDER BY terms over the `key_columns` of a derived table (`keys`: its `.c`),
        for ordering by values a row already carries instead of computing them again."""
        columns = [keys[f"_k{i}"] for i in range(len(self.columns))]
        return [c.desc() for c in columns] if self.descending else columns

    def key(self, row: sa.Row[Any]) -> list[CursorValue]:
        """The cursor key of a row selected with `key_columns`."""
        return [row._mapping[f"_k{i}"] for i in range(len(self.columns))]


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise bad_input("first", f"'first' must be between 1 and {MAX_PAGE_SIZE}.")
    return first


def check_page(first: int | None, after: str | None, order: Order) -> int:
    """The page size; BAD_USER_INPUT for a bad `first` or a cursor of another list."""
    size = page_size(first)
    if after is not None:
        order.check(after)
    return size


@dataclass(frozen=True)
class PageKey(Generic[F]):
    """What a nested page is asked for, besides its parent: size, cursor and the list's filter
    (a loader key part, so equal requests share one statement)."""

    first: int
    after: str | None
    filter: F


def page_statement(
    stmt: sa.Select[Any], order: Order, size: int, after: str | None
) -> sa.Select[Any]:
    """One page of `stmt`: up to `size + 1` rows after the cursor, in order, with their keys."""
    return (
        stmt.add_columns(*order.key_columns())
        .where(order.after(after))
        .order_by(*order.by())
        .limit(size + 1)
    )


def pages_per_parent(
    stmt: sa.Select[Any], parent: Any, order: Order, size: int, after: str | None
) -> sa.Select[Any]:
    """`page_statement` for each parent at once: `stmt` (which must select `parent` labelled
    `_parent`) cut to `size + 1` rows per parent by `ROW_NUMBER() OVER (PARTITION BY parent …)`,
    the cursor applied before numbering."""
    rank = sa.func.row_number().over(partition_by=parent, order_by=order.by()).label("_rn")
    sub = stmt.add_columns(*order.key_columns(), rank).where(order.after(after)).subquery()
    return sa.select(sub).where(sub.c._rn <= size + 1).order_by(sub.c[PARENT], sub.c._rn)


def count_statement(stmt: sa.Select[Any]) -> sa.Select[Any]:
    """How many rows `stmt` selects: a list's `totalCount`, all pages together."""
    return sa.select(sa.func.count()).select_from(stmt.subquery())
