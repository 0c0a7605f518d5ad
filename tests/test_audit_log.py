"""The audit trail: written with each change, readable by admins only through auditEvents."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import utcnow
from tests.cast import Cast, call
from tests.support import Api, gid

EVENTS = """
query($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id action targetType targetId at details actor { id firstName } } }
  }
}
"""
CREATE_GROUP = "mutation($name: String!) { createGroup(input: {name: $name}) { group { id } } }"
SET_ROLES = """
mutation($input: SetUserRolesInput!) { setUserRoles(input: $input) { user { id } } }
"""


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("student", "FORBIDDEN"),
        ("analyst", "FORBIDDEN"),
        ("admin", None),
        ("owner", None),
    ],
)
async def test_audit_events_permission(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    error = await call(api, EVENTS, {}, cast.token(role), expected)
    if expected == "FORBIDDEN":
        assert "admins" in error["message"]


async def test_each_change_is_recorded_with_actor_target_and_change(api: Api, cast: Cast) -> None:
    group = await call(api, CREATE_GROUP, {"name": "Cohort"}, cast.token("admin"), None)
    group_id = group["createGroup"]["group"]["id"]
    uid = gid("User", cast.student.id)
    await call(
        api,
        SET_ROLES,
        {"input": {"userId": uid, "roles": ["STUDENT", "GROUP_ANALYST"]}},
        cast.token("owner"),
        None,
    )
    data = await call(api, EVENTS, {"first": 2}, cast.token("admin"), None)
    nodes = [edge["node"] for edge in data["auditEvents"]["edges"]]
    # Newest first.
    assert [n["action"] for n in nodes] == ["USER_ROLES_SET", "GROUP_CREATE"]
    roles, created = nodes
    assert roles["actor"] == {"id": gid("User", cast.owner.id), "firstName": "Olivia"}
    assert roles["targetType"] == "User" and roles["targetId"] == uid
    assert roles["details"] == {
        "before": ["STUDENT"],
        "after": ["GROUP_ANALYST", "STUDENT"],
        "assignmentsRemoved": 0,
    }
    assert created["actor"]["id"] == gid("User", cast.admin.id)
    assert created["targetId"] == group_id
    assert created["details"] == {"name": "Cohort"}


async def test_filter_and_paginate(api: Api, cast: Cast) -> None:
    for n in range(3):
        await call(api, CREATE_GROUP, {"name": f"G{n}"}, cast.token("admin"), None)
    await call(api, CREATE_GROUP, {"name": "By owner"}, cast.token("owner"), None)
    token = cast.token("owner")
    admin_filter = {"actorId": gid("User", cast.admin.id), "action": "GROUP_CREATE"}
    page = await call(api, EVENTS, {"first": 2, "filter": admin_filter}, token, None)
    events = page["auditEvents"]
    assert events["totalCount"] == 3
    assert events["pageInfo"]["hasNextPage"] is True
    names = [e["node"]["details"]["name"] for e in events["edges"]]
    rest = await call(
        api,
        EVENTS,
        {"first": 2, "after": events["pageInfo"]["endCursor"], "filter": admin_filter},
        token,
        None,
    )
    names += [e["node"]["details"]["name"] for e in rest["auditEvents"]["edges"]]
    assert names == ["G2", "G1", "G0"]
    assert rest["auditEvents"]["pageInfo"]["hasNextPage"] is False

    future = (utcnow() + timedelta(hours=1)).isoformat()
    past = (utcnow() - timedelta(hours=1)).isoformat()
    later = await call(api, EVENTS, {"filter": {"since": future}}, token, None)
    assert later["auditEvents"]["totalCount"] == 0
    earlier = await call(api, EVENTS, {"filter": {"until": past}}, token, None)
    assert earlier["auditEvents"]["totalCount"] == 0
    window = await call(api, EVENTS, {"filter": {"since": past, "until": future}}, token, None)
    # site.init and the four group.create events.
    assert window["auditEvents"]["totalCount"] == 5


async def test_bad_arguments(api: Api, cast: Cast) -> None:
    token = cast.token("admin")
    for variables, field in (
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"after": "nonsense"}, "after"),
        # A cursor of another list: a text key where the trail's is an id, or two values.
        ({"after": "WyJ4Il0="}, "after"),
        ({"after": "WyJ4IiwxXQ=="}, "after"),
        ({"filter": {"actorId": gid("Group", 1)}}, "filter.actorId"),
        ({"filter": {"since": "2026-01-01T00:00:00"}}, "filter.since"),
    ):
        error = await call(api, EVENTS, variables, token, "BAD_USER_INPUT")
        assert error["extensions"]["field"] == field


async def test_a_refused_change_leaves_no_event(api: Api, cast: Cast) -> None:
    await call(api, CREATE_GROUP, {"name": "x" * 500}, cast.token("admin"), "BAD_USER_INPUT")
    await call(api, CREATE_GROUP, {"name": "Nope"}, cast.token("analyst"), "FORBIDDEN")
    data = await call(api, EVENTS, {}, cast.token("owner"), None)
    actions = [e["node"]["action"] for e in data["auditEvents"]["edges"]]
    assert actions == ["SITE_INIT"]


NODE_EVENT = "query($id: ID!) { node(id: $id) { id ... on AuditEvent { action } } }"


@pytest.mark.parametrize(
    ("role", "sees"),
    [("anonymous", False), ("student", False), ("analyst", False), ("admin", True)],
)
async def test_an_audit_event_is_fetchable_by_node_by_admins_only(
    api: Api, cast: Cast, role: str, sees: bool
) -> None:
    data = await call(api, EVENTS, {"first": 1}, cast.token("owner"), None)
    event = data["auditEvents"]["edges"][0]["node"]
    found = await api.data(NODE_EVENT, {"id": event["id"]}, token=cast.token(role))
    assert found == {"node": {"id": event["id"], "action": event["action"]} if sees else None}


async def test_filter_by_several_actions(api: Api, cast: Cast) -> None:
    await call(api, CREATE_GROUP, {"name": "Cohort"}, cast.token("admin"), None)
    both = {"action": ["GROUP_CREATE", "SITE_INIT"]}
    data = await call(api, EVENTS, {"filter": both}, cast.token("owner"), None)
    assert [e["node"]["action"] for e in data["auditEvents"]["edges"]] == [
        "GROUP_CREATE",
        "SITE_INIT",
    ]
    unknown = await api.raw(EVENTS, {"filter": {"action": ["group.create"]}}, cast.token("owner"))
    assert unknown["errors"][0]["extensions"]["code"] in (
        "BAD_USER_INPUT",
        "GRAPHQL_VALIDATION_FAILED",
    )
