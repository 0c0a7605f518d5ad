"""Bulk worlds for the dashboard's batching test and benchmark: thousands of rows in a few
statements, so a 2,000-student world builds in a second or two.

Shape: `groups` groups of equal size, every student in one group and enrolled in every
course with a spread of progress; one analyst assigned (unexpired) to the first two groups,
a co-analyst on the first, and one expired assignment to the third.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from app.db import Database
from app.models import (
    AnalystAssignment,
    Course,
    Enrollment,
    Group,
    GroupMembership,
    Lesson,
    Role,
    User,
    UserRole,
    table_of,
    utcnow,
)
from tests.support import World


@dataclass
class BulkWorld:
    analyst: User
    co_analyst: User
    group_ids: list[int]
    course_ids: list[int]
    student_ids: list[int]


async def _insert(db: Database, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    # An executemany takes its columns from the first row: every row must have the same keys.
    assert all(row.keys() == rows[0].keys() for row in rows)
    if rows:
        async with db.write() as session:
            await session.execute(sa.insert(table_of(model)), rows)


async def _ids(db: Database, model: type[SQLModel], column: str, values: list[str]) -> list[int]:
    table = table_of(model)
    async with db.read() as session:
        rows = (
            await session.execute(
                sa.select(table.c.id, table.c[column]).where(table.c[column].in_(values))
            )
        ).all()
    by_value = {row[1]: row[0] for row in rows}
    return [by_value[v] for v in values]


async def build(
    world: World,
    students: int,
    groups: int = 4,
    courses: int = 3,
    tag: str = "a",
    analyst: User | None = None,
) -> BulkWorld:
    """Add a bulk world; `tag` keeps names unique, `analyst` reuses an existing analyst."""
    db, now = world.db, utcnow()
    if analyst is None:
        analyst = await world.user("Ana", "Analyst", Role.GROUP_ANALYST, email=f"ana@{tag}.test")
    co_analyst = await world.user("Cody", "Coanalyst", Role.GROUP_ANALYST, email=f"cody@{tag}.test")
    group_names = [f"Bulk Cohort {tag} {g:02d}" for g in range(groups)]
    await _insert(
        db, Group, [{"name": n, "name_key": n.lower(), "created_at": now} for n in group_names]
    )
    group_ids = await _ids(db, Group, "name_key", [n.lower() for n in group_names])
    course_names = [f"Bulk Course {tag} {c}" for c in range(courses)]
    await _insert(
        db,
        Course,
        [{"name": n, "lesson_count": 5 + i, "created_at": now} for i, n in enumerate(course_names)],
    )
    course_ids = await _ids(db, Course, "name", course_names)
    await _insert(
        db,
        Lesson,
        [
            {"course_id": cid, "position": p, "title": f"Lesson {p}"}
            for i, cid in enumerate(course_ids)
            for p in range(1, 6 + i)
        ],
    )
    emails = [f"student{s:05d}@{tag}.test" for s in range(students)]
    await _insert(
        db,
        User,
        [
            {
                "first_name": f"First{s % 37}",
                "last_name": f"Last{s % 101:03d}",
                "email": email,
                "email_key": email,
                "company": "Bulk Co" if s % 3 else None,
                "created_at": now,
            }
            for s, email in enumerate(emails)
        ],
    )
    student_ids = await _ids(db, User, "email_key", emails)
    await _insert(db, UserRole, [{"user_id": u, "role": Role.STUDENT.value} for u in student_ids])
    await _insert(
        db,
        GroupMembership,
        [
            {"group_id": group_ids[s % groups], "user_id": u, "added_at": now}
            for s, u in enumerate(student_ids)
        ],
    )
    await _insert(
        db,
        Enrollment,
        [
            {
                "user_id": u,
                "course_id": cid,
                "activated_at": now - timedelta(days=30 - s % 20),
                "expires_at": now + timedelta(days=300) if s % 4 == 0 else None,
                "completed_at": now - timedelta(days=1) if (s + i) % 5 == 0 else None,
                "lessons_viewed": 5 + i if (s + i) % 5 == 0 else (s + i) % 5,
                "lessons_completed": 5 + i if (s + i) % 5 == 0 else (s + i) % 3,
            }
            for s, u in enumerate(student_ids)
            for i, cid in enumerate(course_ids)
        ],
    )
    assert analyst.id is not None and co_analyst.id is not None
    await _insert(
        db,
        AnalystAssignment,
        [
            {
                "analyst_id": analyst.id,
                "group_id": group_ids[0],
                "assigned_at": now,
                "expires_at": None,
            },
            {
                "analyst_id": analyst.id,
                "group_id": group_ids[1],
                "assigned_at": now,
                "expires_at": None,
            },
            {
                "analyst_id": co_analyst.id,
                "group_id": group_ids[0],
                "assigned_at": now,
                "expires_at": None,
            },
            {
                "analyst_id": analyst.id,
                "group_id": group_ids[2],
                "assigned_at": now - timedelta(days=60),
                "expires_at": now - timedelta(days=1),
            },
        ],
    )
    return BulkWorld(analyst, co_analyst, group_ids, course_ids, student_ids)
