"""assignGroupAnalyst and unassignGroupAnalyst."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from app.auth import viewer_for_token
from app.models import AnalystAssignment, utcnow
from permissions import rules
from permissions.policy import load_scope
from tests.cast import ADMINS_ONLY, Cast, audit_count, call
from tests.support import Api, gid

ASSIGN = """
mutation($user: ID!, $group: ID!, $expiresAt: DateTime) {
  assignGroupAnalyst(input: {userId: $user, groupId: $group, expiresAt: $expiresAt}) {
    assignment { id analyst { id } group { id } assignedBy { id } assignedAt expiresAt }
  }
}
"""
UNASSIGN = """
mutation($user: ID!, $group: ID!) {
  unassignGroupAnalyst(input: {userId: $user, groupId: $group}) { removed }
}
"""


async def assignments(cast: Cast) -> list[AnalystAssignment]:
    return await cast.world.scalars(select(AnalystAssignment))


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_assign_permission(api: Api, cast: Cast, role: str, expected: str | None) -> None:
    group = await cast.world.group("Cohort")
    variables = {"user": gid("User", cast.analyst.id), "group": gid("Group", group.id)}
    await call(api, ASSIGN, variables, cast.token(role), expected)
    assert len(await assignments(cast)) == (1 if expected is None else 0)


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_unassign_permission(api: Api, cast: Cast, role: str, expected: str | None) -> None:
    group = await cast.world.group("Cohort")
    await cast.world.assign(cast.analyst, group)
    variables = {"user": gid("User", cast.analyst.id), "group": gid("Group", group.id)}
    await call(api, UNASSIGN, variables, cast.token(role), expected)
    assert len(await assignments(cast)) == (0 if expected is None else 1)


async def test_assign_returns_the_assignment_and_repeating_is_idempotent(
    api: Api, cast: Cast
) -> None:
    group = await cast.world.group("Cohort")
    variables = {"user": gid("User", cast.analyst.id), "group": gid("Group", group.id)}
    first = (await call(api, ASSIGN, variables, cast.token("admin"), None))["assignGroupAnalyst"]
    assignment = first["assignment"]
    assert assignment["analyst"] == {"id": gid("User", cast.analyst.id)}
    assert assignment["group"] == {"id": gid("Group", group.id)}
    assert assignment["assignedBy"] == {"id": gid("User", cast.admin.id)}
    assert assignment["expiresAt"] is None

    again = (await call(api, ASSIGN, variables, cast.token("owner"), None))["assignGroupAnalyst"]
    assert again["assignment"] == assignment
    assert len(await assignments(cast)) == 1
    assert await audit_count(cast.world, "analyst.assign") == 1

    # Repeating with an expiry updates it on the same assignment.
    expires = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    updated = await call(
        api, ASSIGN, {**variables, "expiresAt": expires.isoformat()}, cast.token("admin"), None
    )
    assert updated["assignGroupAnalyst"]["assignment"]["id"] == assignment["id"]
    assert updated["assignGroupAnalyst"]["assignment"]["expiresAt"].startswith(
        expires.strftime("%Y-%m-%dT%H:%M:%S")
    )
    rows = await assignments(cast)
    assert [r.expires_at for r in rows] == [expires]
    assert await audit_count(cast.world, "analyst.assign.update") == 1


async def test_assigning_a_user_without_the_role_says_to_grant_it(api: Api, cast: Cast) -> None:
    group = await cast.world.group("Cohort")
    variables = {"user": gid("User", cast.student.id), "group": gid("Group", group.id)}
    error = await call(api, ASSIGN, variables, cast.token("admin"), "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "userId"
    assert "GROUP_ANALYST" in error["message"] and "grant" in error["message"]
    assert await assignments(cast) == []


async def test_assign_errors(api: Api, cast: Cast) -> None:
    group = await cast.world.group("Cohort")
    admin = cast.token("admin")
    analyst, group_id = gid("User", cast.analyst.id), gid("Group", group.id)
    error = await call(
        api, ASSIGN, {"user": gid("User", 999_999), "group": group_id}, admin, "NOT_FOUND"
    )
    assert error["extensions"]["field"] == "userId"
    error = await call(
        api, ASSIGN, {"user": analyst, "group": gid("Group", 999_999)}, admin, "NOT_FOUND"
    )
    assert error["extensions"]["field"] == "groupId"
    past = (utcnow() - timedelta(days=1)).isoformat()
    error = await call(
        api,
        ASSIGN,
        {"user": analyst, "group": group_id, "expiresAt": past},
        admin,
        "BAD_USER_INPUT",
    )
    assert error["extensions"]["field"] == "expiresAt"
    error = await call(api, ASSIGN, {"user": group_id, "group": group_id}, admin, "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "userId"
    assert await assignments(cast) == []


async def test_unassign_ends_access_at_once_and_is_idempotent(api: Api, cast: Cast) -> None:
    world = cast.world
    group = await world.group("Cohort", members=(cast.student,))
    await world.assign(cast.analyst, group)
    token = cast.token("analyst")
    assert token is not None
    analyst_viewer = await viewer_for_token(world.db, token)
    assert (await load_scope(world.db, analyst_viewer)).analysed_group_ids == {group.id}
    variables = {"user": gid("User", cast.analyst.id), "group": gid("Group", group.id)}
    data = await call(api, UNASSIGN, variables, cast.token("admin"), None)
    assert data["unassignGroupAnalyst"]["removed"] is True
    scope = await load_scope(world.db, analyst_viewer)
    assert scope.analysed_group_ids == frozenset()
    assert not rules.CONTACT.allows(scope, cast.student.id or 0)
    data = await call(api, UNASSIGN, variables, cast.token("admin"), None)
    assert data["unassignGroupAnalyst"]["removed"] is False
    assert await audit_count(world, "analyst.unassign") == 1
    error = await call(
        api,
        UNASSIGN,
        {"user": variables["user"], "group": gid("Group", 999_999)},
        cast.token("admin"),
        "NOT_FOUND",
    )
    assert error["extensions"]["field"] == "groupId"
    error = await call(
        api,
        UNASSIGN,
        {"user": gid("User", 999_999), "group": variables["group"]},
        cast.token("admin"),
        "NOT_FOUND",
    )
    assert error["extensions"]["field"] == "userId"
