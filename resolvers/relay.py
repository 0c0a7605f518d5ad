"""The Relay `Node` interface; global ids themselves are `app.ids` (re-exported here)."""

from __future__ import annotations

import strawberry

from app.ids import from_global_id, parse_global_id, to_global_id

__all__ = ["Node", "from_global_id", "parse_global_id", "to_global_id"]


@strawberry.interface(description="An object with an opaque global id, fetchable by `node(id:)`.")
class Node:
    id: strawberry.ID
