"""Mutations on analyst assignments: `assignGroupAnalyst`, `unassignGroupAnalyst`.

The rules live in `app.assignment_admin`; this module decodes inputs, runs one transaction per
call and shapes the payloads.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry

from app import assignment_admin
from resolvers.assignments import GroupAnalystAssignmentType
from resolvers.context import Info
from resolvers.groups import GroupType, load_group
from resolvers.relay import from_global_id


@strawberry.input
class AssignGroupAnalystInput:
    user_id: strawberry.ID = strawberry.field(description="A user holding GROUP_ANALYST.")
    group_id: strawberry.ID
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="When the access ends by itself; null: never. Left out: a new assignment "
        "never expires and an existing one keeps its expiry.",
    )


def _expiry(value: datetime | None) -> assignment_admin.Expiry:
    """UNSET (left out) keeps the existing expiry; an explicit null means never."""
    return assignment_admin.Keep.EXPIRY if value is strawberry.UNSET else value


@strawberry.type
class AssignGroupAnalystPayload:
    assignment: GroupAnalystAssignmentType


@strawberry.input
class SetAnalystGroupsInput:
    user_id: strawberry.ID = strawberry.field(description="A user holding GROUP_ANALYST.")
    group_ids: list[strawberry.ID] = strawberry.field(
        description="Every group the analyst reports on afterwards (up to 500; [] for none)."
    )
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="The expiry of every listed assignment; null: never. Left out: new "
        "assignments never expire and kept ones keep theirs.",
    )


@strawberry.type
class SetAnalystGroupsPayload:
    added: list[GroupAnalystAssignmentType]
    kept: list[GroupAnalystAssignmentType] = strawberry.field(
        description="Assignments that existed already (with the expiry asked for, if any)."
    )
    removed: list[GroupType] = strawberry.field(
        description="The groups the analyst no longer reports on."
    )


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
        "repeating it returns the existing assignment (with the expiry given, if given)."
    )
    async def assign_group_analyst(
        self, info: Info, input: AssignGroupAnalystInput
    ) -> AssignGroupAnalystPayload:
        user_id = from_global_id(input.user_id, "User", "userId")
        group_id = from_global_id(input.group_id, "Group", "groupId")
        assignment, _changed = await info.context.write(
            lambda s, scope: assignment_admin.assign_analyst(
                s, scope, user_id=user_id, group_id=group_id, expires_at=_expiry(input.expires_at)
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

    @strawberry.mutation(
        description="Make a Group Analyst's groups exactly the ones listed (admins), in one "
        "transaction: adds, removes, updates expiries; one audit event per change. Repeating "
        "it changes nothing."
    )
    async def set_analyst_groups(
        self, info: Info, input: SetAnalystGroupsInput
    ) -> SetAnalystGroupsPayload:
        ctx = info.context
        user_id = from_global_id(input.user_id, "User", "userId")
        group_ids = [from_global_id(g, "Group", "groupIds") for g in input.group_ids]
        done = await ctx.write(
            lambda s, scope: assignment_admin.set_analyst_groups(
                s, scope, user_id=user_id, group_ids=group_ids, expires_at=_expiry(input.expires_at)
            ),
        )
        # Gathered: one batch of the group loader for all of them.
        removed = await asyncio.gather(*(load_group(ctx, g) for g in done.removed_group_ids))
        return SetAnalystGroupsPayload(
            added=[GroupAnalystAssignmentType.from_model(a) for a in done.added],
            kept=[GroupAnalystAssignmentType.from_model(a) for a in done.kept],
            removed=[group for group in removed if group is not None],
        )
