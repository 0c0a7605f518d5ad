"""Mutations on analyst assignments: `assignGroupAnalyst`, `unassignGroupAnalyst`.

The rules live in `app.assignment_admin`; this module decodes inputs, runs one transaction per
call and shapes the payloads.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import assignment_admin
from resolvers.assignments import GroupAnalystAssignmentType
from resolvers.context import Info
from resolvers.relay import from_global_id


@strawberry.input
class AssignGroupAnalystInput:
    user_id: strawberry.ID = strawberry.field(description="A user holding GROUP_ANALYST.")
    group_id: strawberry.ID
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the access ends by itself; null: never. Repeating the call sets it.",
    )


@strawberry.type
class AssignGroupAnalystPayload:
    assignment: GroupAnalystAssignmentType


@strawberry.input
class UnassignGroupAnalystInput:
    user_id: strawberry.ID
    group_id: strawberry.ID


@strawberry.type
class UnassignGroupAnalystPayload:
    removed: bool = strawberry.field(
        description="False when there was no such assignment (nothing changed)."
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Give a Group Analyst progress reporting for a group (admins). Idempotent: "
        "repeating it returns the existing assignment with the expiry given."
    )
    async def assign_group_analyst(
        self, info: Info, input: AssignGroupAnalystInput
    ) -> AssignGroupAnalystPayload:
        user_id = from_global_id(input.user_id, "User", "userId")
        group_id = from_global_id(input.group_id, "Group", "groupId")
        assignment, _changed = await info.context.write(
            lambda s, scope: assignment_admin.assign_analyst(
                s, scope, user_id=user_id, group_id=group_id, expires_at=input.expires_at
            ),
        )
        return AssignGroupAnalystPayload(
            assignment=GroupAnalystAssignmentType.from_model(assignment)
        )

    @strawberry.mutation(description="End a Group Analyst's access to a group at once (admins).")
    async def unassign_group_analyst(
        self, info: Info, input: UnassignGroupAnalystInput
    ) -> UnassignGroupAnalystPayload:
        user_id = from_global_id(input.user_id, "User", "userId")
        group_id = from_global_id(input.group_id, "Group", "groupId")
        removed = await info.context.write(
            lambda s, scope: assignment_admin.unassign_analyst(
                s, scope, user_id=user_id, group_id=group_id
            ),
        )
        return UnassignGroupAnalystPayload(removed=removed)
