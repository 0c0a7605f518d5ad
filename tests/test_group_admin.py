"""createGroup, renameGroup, deleteGroup, addGroupMembers, removeGroupMembers."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from app.models import AnalystAssignment, Enrollment, Group, GroupMembership, User
from tests.cast import ADMINS_ONLY, Cast, audit_count, call
from tests.support import Api, gid

CREATE = "mutation($name: String!) { createGroup(input: {name: $name}) { group { id name } } }"
RENAME = """
mutation($id: ID!, $name: String!) {
  renameGroup(input: {groupId: $id, name: $name}) { group { id name } }
}
"""
DELETE = "mutation($id: ID!) { deleteGroup(input: {groupId: $id}) { deletedGroupId } }"
ADD = """
mutation($id: ID!, $users: [ID!]!) {
  addGroupMembers(input: {groupId: $id, userIds: $users}) { group { id name } addedUserIds }
}
"""
REMOVE = """
mutation($id: ID!, $users: [ID!]!) {
  removeGroupMembers(input: {groupId: $id, userIds: $users}) { group { id } removedUserIds }
}
"""


async def group_names(cast: Cast) -> list[str]:
    return sorted(await cast.world.scalars(select(Group.name)))


async def member_ids(cast: Cast, group_id: int | None) -> set[int]:
    return set(
        await cast.world.scalars(
            select(GroupMembership.user_id).where(col(GroupMembership.group_id) == group_id)
        )
    )


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_create_group_permission(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    await call(api, CREATE, {"name": "Cohort 1"}, cast.token(role), expected)
    assert await group_names(cast) == (["Cohort 1"] if expected is None else [])


async def test_create_group_success_and_errors(api: Api, cast: Cast) -> None:
    data = await call(api, CREATE, {"name": "  Cohort 1 "}, cast.token("admin"), None)
    assert data["createGroup"]["group"]["name"] == "Cohort 1"
    error = await call(api, CREATE, {"name": "COHORT 1"}, cast.token("admin"), "CONFLICT")
    assert error["extensions"]["field"] == "name"
    assert "Cohort 1" in error["message"]
    for bad in ("", "   ", "x" * 201):
        error = await call(api, CREATE, {"name": bad}, cast.token("admin"), "BAD_USER_INPUT")
        assert error["extensions"]["field"] == "name"
    assert await group_names(cast) == ["Cohort 1"]
    assert await audit_count(cast.world, "group.create") == 1


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_rename_group_permission(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    group = await cast.world.group("Old")
    await call(
        api, RENAME, {"id": gid("Group", group.id), "name": "New"}, cast.token(role), expected
    )
    assert await group_names(cast) == (["New"] if expected is None else ["Old"])


async def test_rename_group_success_and_errors(api: Api, cast: Cast) -> None:
    group = await cast.world.group("Old")
    await cast.world.group("Taken")
    gid_ = gid("Group", group.id)
    data = await call(api, RENAME, {"id": gid_, "name": "Renamed"}, cast.token("admin"), None)
    assert data["renameGroup"]["group"] == {"id": gid_, "name": "Renamed"}
    # Changing only the case of its own name is allowed.
    await call(api, RENAME, {"id": gid_, "name": "RENAMED"}, cast.token("admin"), None)
    error = await call(api, RENAME, {"id": gid_, "name": "taken"}, cast.token("admin"), "CONFLICT")
    assert error["extensions"]["field"] == "name"
    error = await call(api, RENAME, {"id": gid_, "name": ""}, cast.token("admin"), "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "name"
    error = await call(
        api, RENAME, {"id": gid("Group", 999_999), "name": "X"}, cast.token("admin"), "NOT_FOUND"
    )
    assert error["extensions"]["field"] == "groupId"
    assert await group_names(cast) == ["RENAMED", "Taken"]
    assert await audit_count(cast.world, "group.rename") == 2


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_delete_group_permission(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    group = await cast.world.group("Doomed")
    await call(api, DELETE, {"id": gid("Group", group.id)}, cast.token(role), expected)
    assert await group_names(cast) == ([] if expected is None else ["Doomed"])


async def test_delete_group_keeps_users_and_enrollments(api: Api, cast: Cast) -> None:
    world = cast.world
    course = await world.course("Python", lessons=2)
    await world.enroll(cast.student, course, viewed=1)
    group = await world.group("Doomed", members=(cast.student,))
    await world.assign(cast.analyst, group)
    data = await call(api, DELETE, {"id": gid("Group", group.id)}, cast.token("owner"), None)
    assert data["deleteGroup"]["deletedGroupId"] == gid("Group", group.id)
    async with world.db.read() as session:
        for model in (GroupMembership, AnalystAssignment):
            count = (await session.execute(select(func.count()).select_from(model))).scalar_one()
            assert count == 0
        assert await session.get(User, cast.student.id) is not None
        enrollments = (await session.execute(select(Enrollment))).scalars().all()
        assert [e.lessons_viewed for e in enrollments] == [1]
    await call(api, DELETE, {"id": gid("Group", group.id)}, cast.token("owner"), "NOT_FOUND")
    assert await audit_count(world, "group.delete") == 1


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_add_members_permission(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    group = await cast.world.group("Cohort")
    variables = {"id": gid("Group", group.id), "users": [gid("User", cast.student.id)]}
    await call(api, ADD, variables, cast.token(role), expected)
    assert await member_ids(cast, group.id) == ({cast.student.id} if expected is None else set())


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_remove_members_permission(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    group = await cast.world.group("Cohort", members=(cast.student,))
    variables = {"id": gid("Group", group.id), "users": [gid("User", cast.student.id)]}
    await call(api, REMOVE, variables, cast.token(role), expected)
    assert await member_ids(cast, group.id) == (set() if expected is None else {cast.student.id})


async def test_add_and_remove_members_are_idempotent(api: Api, cast: Cast) -> None:
    world = cast.world
    group = await world.group("Cohort")
    other = await world.user("Olga", "Other")
    ids = [gid("User", cast.student.id), gid("User", other.id)]
    variables = {"id": gid("Group", group.id), "users": [*ids, ids[0]]}
    first = await call(api, ADD, variables, cast.token("admin"), None)
    assert first["addGroupMembers"]["addedUserIds"] == ids
    assert first["addGroupMembers"]["group"]["name"] == "Cohort"
    again = await call(api, ADD, variables, cast.token("admin"), None)
    assert again["addGroupMembers"]["addedUserIds"] == []
    assert await member_ids(cast, group.id) == {cast.student.id, other.id}
    assert await audit_count(world, "group.members.add") == 1

    removed = await call(
        api, REMOVE, {"id": gid("Group", group.id), "users": ids[:1]}, cast.token("admin"), None
    )
    assert removed["removeGroupMembers"]["removedUserIds"] == ids[:1]
    again = await call(
        api, REMOVE, {"id": gid("Group", group.id), "users": ids[:1]}, cast.token("admin"), None
    )
    assert again["removeGroupMembers"]["removedUserIds"] == []
    assert await member_ids(cast, group.id) == {other.id}
    assert await audit_count(world, "group.members.remove") == 1


@pytest.mark.parametrize("query", [ADD, REMOVE])
async def test_member_changes_validate_everything_before_writing(
    api: Api, cast: Cast, query: str
) -> None:
    group = await cast.world.group("Cohort")
    admin = cast.token("admin")
    student = gid("User", cast.student.id)
    missing = gid("User", 999_999)
    error = await call(
        api, query, {"id": gid("Group", group.id), "users": [student, missing]}, admin, "NOT_FOUND"
    )
    assert error["extensions"]["field"] == "userIds"
    assert missing in error["message"]
    assert await member_ids(cast, group.id) == set()
    error = await call(
        api, query, {"id": gid("Group", 999_999), "users": [student]}, admin, "NOT_FOUND"
    )
    assert error["extensions"]["field"] == "groupId"
    error = await call(
        api, query, {"id": gid("Group", group.id), "users": []}, admin, "BAD_USER_INPUT"
    )
    assert error["extensions"]["field"] == "userIds"
    error = await call(
        api,
        query,
        {"id": gid("Group", group.id), "users": [gid("Course", 1)]},
        admin,
        "BAD_USER_INPUT",
    )
    assert error["extensions"]["field"] == "userIds"
