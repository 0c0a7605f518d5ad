"""Mutations on groups and members: `createGroup`, `renameGroup`, `deleteGroup`,
`addGroupMembers`, `removeGroupMembers`.

The rules live in `app.group_admin`; this module decodes inputs, runs one transaction per call
and shapes the payloads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from app import group_admin
from app.models import Group
from resolvers.context import Info
from resolvers.groups import GroupType
from resolvers.relay import from_global_id, to_global_id

MembersChange = Callable[..., Awaitable[tuple[Group, list[int]]]]


async def _change_members(
    info: Info, input: GroupMembersInput, change: MembersChange
) -> tuple[GroupType, list[strawberry.ID]]:
    """Run `group_admin.add_members` or `remove_members`: the group and the users changed."""
    group_id = from_global_id(input.group_id, "Group", "groupId")
    user_ids = [from_global_id(value, "User", "userIds") for value in input.user_ids]
    group, changed = await info.context.write(
        lambda session, scope: change(session, scope, group_id=group_id, user_ids=user_ids)
    )
    return GroupType.from_model(group), [to_global_id("User", uid) for uid in changed]


@strawberry.input
class CreateGroupInput:
    name: str


@strawberry.type
class CreateGroupPayload:
    group: GroupType


@strawberry.input
class RenameGroupInput:
    group_id: strawberry.ID
    name: str


@strawberry.type
class RenameGroupPayload:
    group: GroupType


@strawberry.input
class DeleteGroupInput:
    group_id: strawberry.ID


@strawberry.type
class DeleteGroupPayload:
    deleted_group_id: strawberry.ID


@strawberry.input
class GroupMembersInput:
    group_id: strawberry.ID
    user_ids: list[strawberry.ID]


@strawberry.type
class AddGroupMembersPayload:
    group: GroupType
    added_user_ids: list[strawberry.ID] = strawberry.field(
        description="Users who were not members before; repeating the call adds none."
    )


@strawberry.type
class RemoveGroupMembersPayload:
    group: GroupType
    removed_user_ids: list[strawberry.ID] = strawberry.field(
        description="Users who were members before; repeating the call removes none."
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a group (admins). Names are unique, ignoring case.")
    async def create_group(self, info: Info, input: CreateGroupInput) -> CreateGroupPayload:
        group = await info.context.write(
            lambda s, scope: group_admin.create_group(s, scope, name=input.name)
        )
        return CreateGroupPayload(group=GroupType.from_model(group))

    @strawberry.mutation(description="Rename a group (admins).")
    async def rename_group(self, info: Info, input: RenameGroupInput) -> RenameGroupPayload:
        group_id = from_global_id(input.group_id, "Group", "groupId")
        group = await info.context.write(
            lambda s, scope: group_admin.rename_group(s, scope, group_id=group_id, name=input.name),
        )
        return RenameGroupPayload(group=GroupType.from_model(group))

    @strawberry.mutation(
        description="Delete a group with its memberships and analyst assignments (admins); "
        "its users and their enrollments stay."
    )
    async def delete_group(self, info: Info, input: DeleteGroupInput) -> DeleteGroupPayload:
        group_id = from_global_id(input.group_id, "Group", "groupId")
        await info.context.write(
            lambda s, scope: group_admin.delete_group(s, scope, group_id=group_id)
        )
        return DeleteGroupPayload(deleted_group_id=to_global_id("Group", group_id))

    @strawberry.mutation(description="Add users to a group (admins); idempotent.")
    async def add_group_members(
        self, info: Info, input: GroupMembersInput
    ) -> AddGroupMembersPayload:
        group, added = await _change_members(info, input, group_admin.add_members)
        return AddGroupMembersPayload(group=group, added_user_ids=added)

    @strawberry.mutation(description="Remove users from a group (admins); idempotent.")
    async def remove_group_members(
        self, info: Info, input: GroupMembersInput
    ) -> RemoveGroupMembersPayload:
        group, removed = await _change_members(info, input, group_admin.remove_members)
        return RemoveGroupMembersPayload(group=group, removed_user_ids=removed)
