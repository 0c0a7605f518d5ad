"""The demo world: deterministic, consistent, and only into an empty database."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, col, select

from app.db import Database
from app.demo import DemoSpec, load_demo
from app.models import Enrollment, LessonProgress


async def _dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table except secrets that are salted on purpose."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with db.read() as session:
        for name, table in SQLModel.metadata.tables.items():
            columns = [c for c in table.columns if c.name != "password_hash"]
            rows = (await session.execute(sa.select(*columns).order_by(*table.primary_key))).all()
            out[name] = [tuple(r) for r in rows]
    return out


@pytest.fixture
def spec() -> DemoSpec:
    return DemoSpec(students=60, groups=4, courses=3, seed=7)


async def test_same_seed_same_world(db: Database, spec: DemoSpec, database_url: str) -> None:
    await load_demo(db, spec)
    first = await _dump(db)
    # Wipe and load again into the same database.
    async with db.write() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            await session.execute(table.delete())
    await load_demo(db, spec)
    assert await _dump(db) == first


async def test_other_seed_other_world(db: Database, spec: DemoSpec) -> None:
    await load_demo(db, spec)
    first = await _dump(db)
    async with db.write() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            await session.execute(table.delete())
    await load_demo(db, DemoSpec(students=60, groups=4, courses=3, seed=8))
    assert (await _dump(db))["user_account"] != first["user_account"]


async def test_counters_match_lesson_rows(db: Database, spec: DemoSpec) -> None:
    summary = await load_demo(db, spec)
    assert summary.enrollments > spec.students
    async with db.read() as session:
        counted = (
            await session.execute(
                select(
                    LessonProgress.enrollment_id,
                    sa.func.count(col(LessonProgress.viewed_at)),
                    sa.func.count(col(LessonProgress.completed_at)),
                ).group_by(col(LessonProgress.enrollment_id))
            )
        ).all()
        enrollments = (await session.execute(select(Enrollment))).scalars().all()
    by_id = {row[0]: (row[1], row[2]) for row in counted}
    for e in enrollments:
        assert e.id is not None
        assert by_id.get(e.id, (0, 0)) == (e.lessons_viewed, e.lessons_completed)
    statuses = {
        "not started": sum(e.lessons_viewed == 0 for e in enrollments),
        "completed": sum(e.completed_at is not None for e in enrollments),
        "expiring": sum(e.expires_at is not None for e in enrollments),
    }
    assert all(count > 0 for count in statuses.values()), statuses


async def test_demo_refuses_a_database_with_users(db: Database, spec: DemoSpec) -> None:
    await load_demo(db, spec)
    with pytest.raises(ValueError, match="already has users"):
        await load_demo(db, spec)
