"""The Relay `Node` interface; global ids themselves are `app.ids` (re-exported here)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry

from app.errors import not_found
from app.ids import from_global_id, parse_global_id, parse_global_key, to_global_id

__all__ = [
    "Node",
    "from_global_id",
    "node_of",
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


N = TypeVar("N")


_COPIED: dict[type[Any], tuple[str, ...]] = {}


def _copied(cls: type[Any]) -> tuple[str, ...]:
    """The fields `node_of` reads from the row: every constructor argument but the id."""
    names = _COPIED.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if f.init and f.name != "id")
        _COPIED[cls] = names
    return names


def node_of(cls: type[N], type_name: str, row: Any, **given: Any) -> N:
    """The `cls` object (a Strawberry type with an `id`) of a database row: its global id
    (`type_name`, `row.id`), the fields in `given` as given, every other field (private ones
    too) copied from the row's attribute of the same name."""
    assert row.id is not None
    make: Callable[..., N] = cls
    copied = {name: getattr(row, name) for name in _copied(cls) if name not in given}
    return make(id=to_global_id(type_name, row.id), **copied, **given)
