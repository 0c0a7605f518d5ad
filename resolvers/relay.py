"""The Relay `Node` interface; global ids themselves are `app.ids` (re-exported here)."""

from __future__ import annotations

from typing import TypeVar

import strawberry

from app.errors import not_found
from app.ids import from_global_id, parse_global_id, parse_global_key, to_global_id

__all__ = [
    "Node",
    "from_global_id",
    "parse_global_id",
    "parse_global_key",
    "present",
    "to_global_id",
]

T = TypeVar("T")


def present(value: T | None, what: str) -> T:
    """`value`, for a non-null field whose object the rules let the viewer read wherever its
    parent is readable: absent only if it was deleted (or left the viewer's scope) since the
    parent was read, which is NOT_FOUND."""
    if value is None:
        raise not_found(what)
    return value


@strawberry.interface(description="An object with an opaque global id, fetchable by `node(id:)`.")
class Node:
    id: strawberry.ID
