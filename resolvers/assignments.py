"""The `GroupAnalystAssignment` type: which analyst reports on which group, until when."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from app.models import AnalystAssignment
from permissions.policy import in_force
from resolvers.context import Info
from resolvers.groups import GroupType, load_group
from resolvers.relay import Node, node_of, present
from resolvers.users import UserType, load_user


@strawberry.enum(description="Whether an assignment grants access now.")
class AssignmentStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"


@strawberry.type(
    name="GroupAnalystAssignment",
    description="An analyst's access to one group; an expired assignment grants nothing.",
)
class GroupAnalystAssignmentType(Node):
    assigned_at: datetime
    expires_at: datetime | None
    analyst_id: strawberry.Private[int]
    group_id: strawberry.Private[int]
    assigned_by_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, assignment: AnalystAssignment) -> GroupAnalystAssignmentType:
        return node_of(cls, "GroupAnalystAssignment", assignment)

    @strawberry.field(
        description="EXPIRED once `expiresAt` has passed: the access ended (the group itself "
        "is then hidden from the analyst)."
    )
    def status(self, info: Info) -> AssignmentStatus:
        active = in_force(self.expires_at, info.context.scope.now)
        return AssignmentStatus.ACTIVE if active else AssignmentStatus.EXPIRED

    @strawberry.field
    async def analyst(self, info: Info) -> UserType:
        # Readable wherever the assignment is (`rules.ASSIGNMENT`): by admins, or by itself.
        return present(await load_user(info.context, self.analyst_id), "user")

    @strawberry.field(
        description="The group; null for an analyst's own ended assignment (an analyst sees "
        "its groups only while assigned)."
    )
    async def group(self, info: Info) -> GroupType | None:
        return await load_group(info.context, self.group_id)

    @strawberry.field(description="Who assigned it; null if that account is gone or not visible.")
    async def assigned_by(self, info: Info) -> UserType | None:
        return await load_user(info.context, self.assigned_by_id)
