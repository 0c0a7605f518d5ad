"""The access review: who can see a student now, and what an analyst can see now.

Invariants:
- an analyst's side is its own access scope, computed by `permissions.policy.load_scope`
  exactly as for its requests (a deactivated account, which cannot sign in, sees nothing);
- a student's side selects the assignments in force (`in_force_clause`, the clause
  `load_scope` uses) of the groups the student is a member of, so it names exactly the analysts
  whose scope holds the student (`tests/test_access_review.py` checks this over random
  worlds);
- "since" is when both the membership and the assignment existed; "until" the assignment's
  expiry (None: no end).
Admins see every student anyway; the review lists access through analyst assignments.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select

from app.auth import viewer_by_id
from app.db import Database
from app.models import AnalystAssignment, GroupMembership, Role, UserRole, utcnow
from permissions.policy import in_force_clause, load_scope


@dataclass(frozen=True)
class SeenBy:
    """One analyst seeing the student through one group."""

    analyst_id: int
    group_id: int
    since: datetime
    until: datetime | None


@dataclass(frozen=True)
class GroupSeen:
    group_id: int
    student_count: int


@dataclass(frozen=True)
class AnalystSees:
    groups: list[GroupSeen]
    student_count: int  # distinct members over all its groups


async def who_sees(db: Database, student_id: int, now: datetime | None = None) -> list[SeenBy]:
    """Every analyst that can see the student now, per group, by analyst then group id."""
    now = now or utcnow()
    analysts = select(UserRole.user_id).where(col(UserRole.role) == Role.GROUP_ANALYST.value)
    stmt = (
        sa.select(
            col(AnalystAssignment.analyst_id),
            col(AnalystAssignment.group_id),
            col(AnalystAssignment.assigned_at),
            col(AnalystAssignment.expires_at),
            col(GroupMembership.added_at),
        )
        .join(GroupMembership, col(GroupMembership.group_id) == col(AnalystAssignment.group_id))
        .where(
            col(GroupMembership.user_id) == student_id,
            col(AnalystAssignment.analyst_id) != student_id,
            col(AnalystAssignment.analyst_id).in_(analysts),
            in_force_clause(now),
        )
        .order_by(col(AnalystAssignment.analyst_id), col(AnalystAssignment.group_id))
    )
    async with db.read() as session:
        rows = (await session.execute(stmt)).all()
    return [
        SeenBy(row.analyst_id, row.group_id, max(row.assigned_at, row.added_at), row.expires_at)
        for row in rows
    ]


async def what_analyst_sees(
    db: Database, analyst_id: int, now: datetime | None = None
) -> AnalystSees:
    """The groups the analyst can see now, with their member counts, and its students."""
    viewer = await viewer_by_id(db, analyst_id)
    if viewer is None or Role.GROUP_ANALYST not in viewer.roles:
        return AnalystSees(groups=[], student_count=0)
    # As a plain analyst: an admin's other powers are not access through assignments.
    scope = await load_scope(db, replace(viewer, roles=frozenset({Role.GROUP_ANALYST})), now)
    group_ids = sorted(scope.analysed_group_ids)
    counts: dict[int, int] = {}
    students = 0
    if group_ids:
        others = sa.and_(
            col(GroupMembership.group_id).in_(group_ids),
            col(GroupMembership.user_id) != analyst_id,
        )
        async with db.read() as session:
            rows = await session.execute(
                sa.select(col(GroupMembership.group_id), sa.func.count())
                .where(others)
                .group_by(col(GroupMembership.group_id))
            )
            counts = {group_id: int(n) for group_id, n in rows.all()}
            # A student in two of the groups counts once.
            students = (
                await session.scalar(
                    sa.select(sa.func.count(sa.distinct(col(GroupMembership.user_id)))).where(
                        others
                    )
                )
                or 0
            )
    return AnalystSees(
        groups=[GroupSeen(g, counts.get(g, 0)) for g in group_ids], student_count=students
    )
