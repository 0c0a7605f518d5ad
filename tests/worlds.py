"""Random worlds for property tests: users with random roles, groups, memberships, analyst
assignments (in force or expired), courses and enrollments, and a random viewer.

`build` writes one into a test's database (wiping what was there but the plans and the site).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from app import tokens
from app.db import Database
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

# An async test over a world (`over_worlds`).
WorldTest = Callable[..., Coroutine[Any, Any, None]]

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


def over_worlds(examples: int) -> Callable[[WorldTest], Callable[..., Any]]:
    """Run a test (its `spec` argument) over `examples` random worlds drawn by `specs`: each
    builds a database, so no deadline, and the function-scoped `db` fixture is shared."""

    def decorate(test: WorldTest) -> Callable[..., Any]:
        return settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )(given(spec=specs())(test))

    return decorate


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
