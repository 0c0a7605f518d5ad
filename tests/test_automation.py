"""Automation in one call: `setAnalystGroups`, `assignGroupAnalyst` keeping an expiry when it
is left out, and SEAT_LIMIT_REACHED saying how far over the plan a call would go."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from app.models import AnalystAssignment, Group, Role, utcnow
from tests.cast import ADMINS_ONLY, Cast, audit_count, call
from tests.support import Api, gid

SET_GROUPS = """
mutation SetGroups($userId: ID!, $groupIds: [ID!]!, $expiresAt: DateTime) {
  setAnalystGroups(input: {userId: $userId, groupIds: $groupIds, expiresAt: $expiresAt}) {
    added { group { name } expiresAt }
    kept { group { name } expiresAt }
    removed { name }
  }
}
"""
SET_GROUPS_NO_EXPIRY = """
mutation SetGroups($userId: ID!, $groupIds: [ID!]!) {
  setAnalystGroups(input: {userId: $userId, groupIds: $groupIds}) {
    added { group { name } expiresAt } kept { group { name } expiresAt } removed { name }
  }
}
"""
ASSIGN_KEEP = """
mutation Assign($userId: ID!, $groupId: ID!) {
  assignGroupAnalyst(input: {userId: $userId, groupId: $groupId}) { assignment { expiresAt } }
}
"""
ASSIGN_NEVER = """
mutation Assign($userId: ID!, $groupId: ID!) {
  assignGroupAnalyst(input: {userId: $userId, groupId: $groupId, expiresAt: null}) {
    assignment { expiresAt }
  }
}
"""


def _names(items: list[dict[str, Any]], key: str = "group") -> list[str]:
    return sorted(i[key]["name"] if key else i["name"] for i in items)


async def _assigned(cast: Cast) -> dict[int, Any]:
    rows = await cast.world.scalars(
        select(AnalystAssignment).where(col(AnalystAssignment.analyst_id) == cast.analyst.id)
    )
    return {row.group_id: row.expires_at for row in rows}


async def _groups(cast: Cast, *names: str) -> list[Group]:
    return [await cast.world.group(name) for name in names]


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_set_analyst_groups_who_may_and_what_it_does(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    a, b, c = await _groups(cast, "Alpha", "Beta", "Gamma")
    await cast.world.assign(cast.analyst, a, expires_at=utcnow() + timedelta(days=3))
    await cast.world.assign(cast.analyst, b)
    variables = {
        "userId": gid("User", cast.analyst.id),
        "groupIds": [gid("Group", b.id), gid("Group", c.id)],
    }
    before = await audit_count(cast.world, None)
    body = await call(api, SET_GROUPS_NO_EXPIRY, variables, cast.token(role), expected)
    if expected is None:
        done = body["setAnalystGroups"]
        assert _names(done["added"]) == ["Gamma"]
        assert _names(done["kept"]) == ["Beta"]
        assert _names(done["removed"], key="") == ["Alpha"]
        assert set(await _assigned(cast)) == {b.id, c.id}
        # One audit event per change: Gamma added, Alpha removed; Beta untouched.
        assert await audit_count(cast.world, "analyst.assign") == 1
        assert await audit_count(cast.world, "analyst.unassign") == 1
        # Idempotent: again changes nothing and says so.
        again = (await api.data(SET_GROUPS_NO_EXPIRY, variables, token=cast.token(role)))[
            "setAnalystGroups"
        ]
        assert again["added"] == [] and again["removed"] == []
        assert _names(again["kept"]) == ["Beta", "Gamma"]
        assert await audit_count(cast.world, None) == before + 2
    else:
        assert set(await _assigned(cast)) == {a.id, b.id}
        assert await audit_count(cast.world, None) == before


async def test_set_analyst_groups_sets_or_clears_every_expiry(api: Api, cast: Cast) -> None:
    a, b = await _groups(cast, "Alpha", "Beta")
    await cast.world.assign(cast.analyst, a)
    until = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    variables: dict[str, Any] = {
        "userId": gid("User", cast.analyst.id),
        "groupIds": [gid("Group", a.id), gid("Group", b.id)],
        "expiresAt": until.isoformat(),
    }
    await api.data(SET_GROUPS, variables, token=cast.token("admin"))
    assert set((await _assigned(cast)).values()) == {until}
    assert await audit_count(cast.world, "analyst.assign.update") == 1
    await api.data(SET_GROUPS, {**variables, "expiresAt": None}, token=cast.token("admin"))
    assert set((await _assigned(cast)).values()) == {None}


async def test_set_analyst_groups_is_one_transaction(api: Api, cast: Cast) -> None:
    (a,) = await _groups(cast, "Alpha")
    await cast.world.assign(cast.analyst, a)
    variables = {"userId": gid("User", cast.analyst.id), "groupIds": [gid("Group", 10**9)]}
    before = await audit_count(cast.world, None)
    assert await api.error_code(SET_GROUPS, variables, token=cast.token("admin")) == "NOT_FOUND"
    assert set(await _assigned(cast)) == {a.id}  # Alpha was not removed
    assert await audit_count(cast.world, None) == before


async def test_set_analyst_groups_to_none_and_for_a_non_analyst(api: Api, cast: Cast) -> None:
    (a,) = await _groups(cast, "Alpha")
    await cast.world.assign(cast.analyst, a)
    done = await api.data(
        SET_GROUPS, {"userId": gid("User", cast.analyst.id), "groupIds": []}, cast.token("admin")
    )
    assert _names(done["setAnalystGroups"]["removed"], key="") == ["Alpha"]
    body = await api.raw(
        SET_GROUPS, {"userId": gid("User", cast.student.id), "groupIds": []}, cast.token("admin")
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "userId"}


@pytest.mark.parametrize(
    ("group_ids", "expires_at", "field"),
    [
        (["", "x"], None, "groupIds"),
        (["\ud800"], None, "groupIds"),
        ([gid("Group", 10**9) + "\x00"], None, "groupIds"),
        ([gid("User", 1)], None, "groupIds"),
        ([gid("Group", n) for n in range(1, 502)], None, "groupIds"),
        ([], "2000-01-01T00:00:00Z", "expiresAt"),
        ([], "2030-01-01T00:00:00", "expiresAt"),
    ],
)
async def test_set_analyst_groups_hostile_inputs(
    api: Api, cast: Cast, group_ids: list[str], expires_at: str | None, field: str
) -> None:
    (a,) = await _groups(cast, "Alpha")
    await cast.world.assign(cast.analyst, a)
    variables = {
        "userId": gid("User", cast.analyst.id),
        "groupIds": group_ids,
        "expiresAt": expires_at,
    }
    body = await api.raw(SET_GROUPS, variables, cast.token("admin"))
    assert body["errors"][0]["extensions"]["code"] in ("BAD_USER_INPUT", "NOT_FOUND")
    if body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT":
        assert body["errors"][0]["extensions"]["field"] == field
    assert set(await _assigned(cast)) == {a.id}


async def test_assign_without_expiry_keeps_it_and_null_clears_it(api: Api, cast: Cast) -> None:
    (a,) = await _groups(cast, "Alpha")
    until = (utcnow() + timedelta(days=5)).replace(microsecond=0)
    await cast.world.assign(cast.analyst, a, expires_at=until)
    variables = {"userId": gid("User", cast.analyst.id), "groupId": gid("Group", a.id)}
    before = await audit_count(cast.world, None)
    kept = await api.data(ASSIGN_KEEP, variables, token=cast.token("admin"))
    assert kept["assignGroupAnalyst"]["assignment"]["expiresAt"] is not None
    assert await _assigned(cast) == {a.id: until}
    assert await audit_count(cast.world, None) == before  # a retry changes nothing
    never = await api.data(ASSIGN_NEVER, variables, token=cast.token("admin"))
    assert never["assignGroupAnalyst"]["assignment"]["expiresAt"] is None
    assert await _assigned(cast) == {a.id: None}


async def test_seat_limit_reached_says_plan_limit_and_used(api: Api, cast: Cast) -> None:
    # PRO_GROWTH: 3 seats; the cast's analyst and two more fill them.
    for n in range(2):
        await cast.world.user("Fill", f"Seat{n}", Role.GROUP_ANALYST)
    body = await api.raw(
        'mutation C { createUser(input: {firstName: "X", lastName: "Y", email: "xy@example.com",'
        " roles: [GROUP_ANALYST]}) { user { id } } }",
        token=cast.token("admin"),
    )
    extensions = body["errors"][0]["extensions"]
    assert extensions == {
        "code": "SEAT_LIMIT_REACHED",
        "field": "roles",
        "plan": "PRO_GROWTH",
        "limit": 3,
        "used": 3,
    }
