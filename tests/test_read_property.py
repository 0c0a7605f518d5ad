"""Property: in random worlds, whatever a random viewer reads is allowed by the access rules
(stated in `permissions/policy.py`), and admins read everything.

The oracle below restates those rules in plain Python over the generated world; it shares
no code with `permissions.rules` or `permissions.policy`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from app.db import Database
from app.ids import parse_global_id, parse_global_key
from app.models import Role
from app.settings import Settings
from tests.support import Api
from tests.worlds import Built, Spec, build, over_worlds


@pytest.fixture(name="settings")
def unmetered_settings(settings: Settings) -> Settings:
    """One app serves every Hypothesis example of a test, hundreds of broad queries a minute
    with one token: the per-token cost budget (tested in tests/test_cost_budget.py) would
    answer RATE_LIMITED long before the access rules under test are exhausted."""
    return replace(settings, cost_budget_per_minute=10**12)


@dataclass
class Allowed:
    """What the access rules let the viewer read, in database ids."""

    admin: bool
    users: set[int]
    emails: set[int]
    private: set[int]
    groups: set[int]
    enrollments: set[int]
    courses: set[int]
    assignments: set[int]
    report_rows: int


def oracle(spec: Spec, built: Built) -> Allowed:
    users = range(len(spec.roles))
    v = spec.viewer
    if v is None:
        return Allowed(False, set(), set(), set(), set(), set(), set(), set(), 0)
    roles = spec.roles[v]
    admin = bool(roles & {Role.SITE_OWNER, Role.SITE_ADMIN})
    active = {pair for pair, kind in spec.assignments.items() if kind != "past"}
    if admin:
        groups = set(range(spec.groups))
    elif Role.GROUP_ANALYST in roles:
        groups = {g for (a, g) in active if a == v}
    else:
        groups = set()
    members = {u for (u, g) in spec.memberships if g in groups}
    co_analysts = {a for (a, g) in active if g in groups}
    seen_users = set(users) if admin else {v} | members | co_analysts
    email_users = set(users) if admin else {v} | members
    enrolled = {key for key in spec.enrollments if admin or key[0] == v or key[0] in members}
    if admin or Role.GROUP_ANALYST in roles:
        courses = set(range(spec.courses))
    else:
        courses = {c for (u, c) in spec.enrollments if u == v}
    assignments = {
        pair
        for pair, kind in spec.assignments.items()
        # An analyst reads its own, expired ones too (their group stays hidden).
        if admin or pair[0] == v
    }
    report_rows = sum(
        1 for (u, g) in spec.memberships if g in groups for (eu, _c) in spec.enrollments if eu == u
    )
    return Allowed(
        admin=admin,
        users={built.user_ids[u] for u in seen_users},
        emails={built.user_ids[u] for u in email_users},
        private={built.user_ids[u] for u in (users if admin else [v])},
        groups={built.group_ids[g] for g in groups},
        enrollments={built.enrollment_ids[k] for k in enrolled},
        courses={built.course_ids[c] for c in courses},
        assignments={built.assignment_ids[p] for p in assignments},
        report_rows=report_rows,
    )


BROAD = """{
  viewer { id email company roles }
  users(first: 100) { totalCount edges { node {
    id email company roles
    groups { id name }
    analystAssignments { id expiresAt group { id } analyst { id email } }
    progress { id expiresAt student { id email } course { id } }
  } } }
  groups(first: 10) { totalCount edges { node {
    id name
    members(first: 50) { totalCount edges { node {
      id email company progress { id expiresAt } } } }
    analysts { id email company }
    progress(first: 50) { totalCount edges { node {
      id group { id } student { id email } course { id } progress { id expiresAt } } } }
    progressSummary { enrolled course { id } }
  } } }
  courses(first: 100) { totalCount edges { node { id lessons { id } } } }
  groupProgress(first: 100) { totalCount edges { node {
    id student { id email company } group { id } course { id } progress { id expiresAt } } } }
}"""


def check(node: Any, allowed: Allowed, seen: dict[str, set[int]]) -> None:
    """Every object and every non-null protected field in the response is allowed."""
    if isinstance(node, list):
        for item in node:
            check(item, allowed, seen)
        return
    if not isinstance(node, dict):
        return
    row = parse_global_key(node["id"]) if isinstance(node.get("id"), str) else None
    if row is not None and row[0] == "GroupProgressRow":
        group_id, enrollment_id = row[1]
        assert group_id in allowed.groups and enrollment_id in allowed.enrollments, row
    parsed = parse_global_id(node["id"]) if isinstance(node.get("id"), str) else None
    if parsed is not None:
        kind, pk = parsed
        seen.setdefault(kind, set()).add(pk)
        if kind == "User":
            assert pk in allowed.users, ("user", pk)
            if node.get("email") is not None or node.get("company") is not None:
                assert pk in allowed.emails, ("email", pk)
            if node.get("roles"):
                assert pk in allowed.private, ("roles", pk)
        elif kind == "Group":
            assert pk in allowed.groups, ("group", pk)
        elif kind == "Progress":
            assert pk in allowed.enrollments, ("progress", pk)
        elif kind == "Course":
            assert pk in allowed.courses, ("course", pk)
        elif kind == "GroupAnalystAssignment":
            assert pk in allowed.assignments, ("assignment", pk)
    for value in node.values():
        check(value, allowed, seen)


@over_worlds(60)
async def test_every_read_is_allowed_and_admins_read_everything(
    api: Api, db: Database, spec: Spec
) -> None:
    built = await build(db, spec)
    allowed = oracle(spec, built)
    data = await api.data(BROAD, token=built.token)
    seen: dict[str, set[int]] = {}
    check(data, allowed, seen)

    # The lists hold exactly what the rules allow (nothing missing, nothing extra).
    listed = [parse_global_id(e["node"]["id"]) for e in data["users"]["edges"]]
    assert {parsed[1] for parsed in listed if parsed is not None} == allowed.users
    assert data["users"]["totalCount"] == len(allowed.users)
    assert data["groups"]["totalCount"] == len(allowed.groups)
    assert data["courses"]["totalCount"] == len(allowed.courses)
    assert data["groupProgress"]["totalCount"] == allowed.report_rows
    if allowed.admin:
        assert len(allowed.users) == len(spec.roles)
        assert seen.get("Group", set()) == set(built.group_ids)
        assert seen.get("Progress", set()) == set(built.enrollment_ids.values())
        emails = {e["node"]["email"] for e in data["users"]["edges"]}
        assert None not in emails
