"""The `Group` type (a cohort of students)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.models import Group
from resolvers.node import Node, to_global_id


@strawberry.type(name="Group", description="A cohort of students.")
class GroupType(Node):
    name: str
    created_at: datetime
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, group: Group) -> GroupType:
        assert group.id is not None
        return cls(
            id=to_global_id("Group", group.id),
            name=group.name,
            created_at=group.created_at,
            db_id=group.id,
        )
