"""Property: in random worlds, whatever a random viewer reads is allowed by DESIGN.md §2,
and admins read everything.

The oracle below restates the rules from the design, in plain Python over the generated
world; it shares no code with `permissions.policy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from app import tokens
from app.db import Database
from app.ids import parse_global_id
from app.models import (
    AnalystAssignment,
    Course,
    Enrollment,
    Group,
    GroupMembership,
    Role,
    User,
    UserRole,
    utcnow,
)
from tests.support import Api

ROLE_SETS = st.sets(st.sampled_from([Role.SITE_ADMIN, Role.GROUP_ANALYST, Role.STUDENT]))
EXPIRY = st.sampled_from(["never", "future", "past"])


@dataclass
class Spec:
    roles: list[set[Role]]  # user 0 is the site owner
    groups: int
    memberships: set[tuple[int, int]]  # (user, group)
    assignments: dict[tuple[int, int], str]  # (analyst, group) -> expiry kind
    courses: int
    enrollments: dict[tuple[int, int], tuple[int, bool]]  # (user, course) -> (done, expires)
    viewer: int | None


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    roles = [{Role.SITE_OWNER}, *draw(st.lists(ROLE_SETS, min_size=1, max_size=6))]
    users = range(len(roles))
    groups = draw(st.integers(0, 3))
    pairs = [(u, g) for u in users for g in range(groups)]
    # A coin per pair (not a short list of pairs), so that shared members, co-analysts
    # and analysts of other groups are common.
    memberships = {pair for pair in pairs if draw(st.booleans())}
    assignments: dict[tuple[int, int], str] = {}
    for u, g in pairs:
        if Role.GROUP_ANALYST in roles[u]:
            kind = draw(st.sampled_from(["none", "never", "future", "past"]))
            if kind != "none":
                assignments[(u, g)] = kind
    courses = draw(st.integers(1, 2))
    enrollments = {
        (u, c): draw(st.tuples(st.integers(0, 3), st.booleans()))
        for u in users
        for c in range(courses)
        if draw(st.booleans())
    }
    # Analysts are the interesting viewers: pick one most of the time.
    analysts = [u for u in users if Role.GROUP_ANALYST in roles[u]]
    pick = draw(st.sampled_from(["analyst", "anyone", "anonymous"]))
    viewer: int | None = None
    if pick == "analyst" and analysts:
        viewer = draw(st.sampled_from(analysts))
    elif pick != "anonymous":
        viewer = draw(st.sampled_from(list(users)))
    return Spec(roles, groups, memberships, assignments, courses, enrollments, viewer)


@dataclass
class Built:
    user_ids: list[int] = field(default_factory=list)
    group_ids: list[int] = field(default_factory=list)
    course_ids: list[int] = field(default_factory=list)
    enrollment_ids: dict[tuple[int, int], int] = field(default_factory=dict)
    assignment_ids: dict[tuple[int, int], int] = field(default_factory=dict)
    token: str | None = None


async def build(db: Database, spec: Spec) -> Built:
    """Wipe every table but the plans and the site, then write the world in one transaction."""
    now = utcnow()
    expiry = {"never": None, "future": now + timedelta(days=1), "past": now - timedelta(days=1)}
    built = Built()
    async with db.write() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name not in ("plan", "site"):
                await session.execute(sa.delete(table))
        for i, roles in enumerate(spec.roles):
            email = f"user{i}@example.com"
            user = User(
                first_name=f"F{i}", last_name=f"L{i}", email=email, email_key=email,
                company=f"C{i}", created_at=now,
            )  # fmt: skip
            session.add(user)
            await session.flush()
            assert user.id is not None
            built.user_ids.append(user.id)
            session.add_all(UserRole(user_id=user.id, role=r) for r in roles)
        for g in range(spec.groups):
            group = Group(name=f"G{g}", name_key=f"g{g}", created_at=now)
            session.add(group)
            await session.flush()
            assert group.id is not None
            built.group_ids.append(group.id)
        for u, g in sorted(spec.memberships):
            session.add(
                GroupMembership(
                    group_id=built.group_ids[g], user_id=built.user_ids[u], added_at=now
                )
            )
        for (u, g), kind in sorted(spec.assignments.items()):
            assignment = AnalystAssignment(
                analyst_id=built.user_ids[u], group_id=built.group_ids[g],
                assigned_at=now, expires_at=expiry[kind],
            )  # fmt: skip
            session.add(assignment)
            await session.flush()
            assert assignment.id is not None
            built.assignment_ids[(u, g)] = assignment.id
        for c in range(spec.courses):
            course = Course(name=f"Course{c}", lesson_count=3, created_at=now)
            session.add(course)
            await session.flush()
            assert course.id is not None
            built.course_ids.append(course.id)
        for (u, c), (done, expires) in sorted(spec.enrollments.items()):
            enrollment = Enrollment(
                user_id=built.user_ids[u], course_id=built.course_ids[c],
                activated_at=now - timedelta(days=3),
                expires_at=now + timedelta(days=9) if expires else None,
                completed_at=now if done == 3 else None,
                lessons_viewed=done, lessons_completed=done,
            )  # fmt: skip
            session.add(enrollment)
            await session.flush()
            assert enrollment.id is not None
            built.enrollment_ids[(u, c)] = enrollment.id
        if spec.viewer is not None:
            issued = await tokens.issue(
                session,
                user_id=built.user_ids[spec.viewer],
                name="t",
                expires_at=now + timedelta(hours=1),
            )
            built.token = issued.secret
    return built


@dataclass
class Allowed:
    """What DESIGN.md §2 lets the viewer read, in database ids."""

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
        if admin or (pair[0] == v and pair in active and pair[1] in groups)
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
    progress { id expiresAt student { id email } course { id } group { id } }
  } } }
  groups(first: 10) { totalCount edges { node {
    id name
    members(first: 50) { totalCount edges { node {
      id email company progress { id expiresAt group { id } } } } }
    analysts { id email company }
    progress(first: 50) { totalCount edges { node {
      id expiresAt student { id email } group { id } course { id } } } }
    progressSummary { enrolled course { id } }
  } } }
  courses(first: 100) { totalCount edges { node { id lessons { id } } } }
  groupProgress(first: 100) { totalCount edges { node {
    id expiresAt student { id email company } group { id } course { id } } } }
}"""


def check(node: Any, allowed: Allowed, seen: dict[str, set[int]]) -> None:
    """Every object and every non-null protected field in the response is allowed."""
    if isinstance(node, list):
        for item in node:
            check(item, allowed, seen)
        return
    if not isinstance(node, dict):
        return
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


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=specs())
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
