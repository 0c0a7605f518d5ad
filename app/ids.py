"""Opaque global ids: `base64("Type:pk")`, as GraphQL clients, audit details and export
links know objects.

Invariants: decoding never raises anything but BAD_USER_INPUT; a well-formed id of the
wrong type is reported as such, so clients cannot confuse a User id with a Group id; and
each object has exactly one id (only the issued spelling decodes, trailing padding optional).
This module is below `resolvers/` (which re-exports it from `resolvers.relay`), so `app/`
code (audit, export) can name objects without importing the GraphQL layer.
"""

from __future__ import annotations

import base64
import binascii

import strawberry

from app.errors import bad_input


def to_global_id(type_name: str, pk: int, *more: int) -> strawberry.ID:
    """`Type:pk`, or `Type:pk:pk` for an object named by two keys (a report row)."""
    key = ":".join(str(k) for k in (pk, *more))
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode())


# At most this many keys in one id (a report row: group and enrollment).
MAX_KEYS = 2
# Keys are PostgreSQL `integer` columns: a larger key names no object, and comparing one with
# such a column fails the whole statement ("value out of range"), so it is no id of ours.
MAX_KEY = 2**31 - 1


def parse_global_key(value: str) -> tuple[str, tuple[int, ...]] | None:
    """The type name and keys of an id of this API, or None for anything else."""
    try:
        raw = base64.urlsafe_b64decode(value.encode() + b"=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, rest = raw.partition(":")
    keys = rest.split(":")
    # ASCII only: str.isdigit() accepts "²" (which int() refuses) and other scripts' digits.
    if not sep or not type_name or len(keys) > MAX_KEYS:
        return None
    if not all(k.isascii() and k.isdigit() and len(k) <= 18 for k in keys):
        return None
    ints = tuple(int(k) for k in keys)
    if any(key > MAX_KEY for key in ints):
        return None
    # Only the spelling we issue (padding optional): the decoder skips stray bytes such as
    # NUL and accepts "+/" for "-_" and leading zeros, which would give one object many ids.
    if to_global_id(type_name, *ints).rstrip("=") != value.rstrip("="):
        return None
    return type_name, ints


def parse_global_id(value: str) -> tuple[str, int] | None:
    """The type name and key of an id naming its object by one key."""
    parsed = parse_global_key(value)
    if parsed is None or len(parsed[1]) != 1:
        return None
    return parsed[0], parsed[1][0]


def from_global_id(value: str, expected_type: str, field: str) -> int:
    parsed = parse_global_id(value)
    if parsed is None or parsed[0] != expected_type:
        raise bad_input(field, f"'{field}' must be the id of a {expected_type}.")
    return parsed[1]
