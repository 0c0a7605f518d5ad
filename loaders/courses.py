"""Loaders for courses and their lessons."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import col, select

from app.models import Course, Lesson
from loaders.base import Loader


class CourseByIdLoader(Loader[int, Course | None]):
    def remember(self, course: Course) -> None:
        """Cache a course read by another scoped statement (one that applied
        `courses_clause`), so resolving it later costs no statement."""
        assert course.id is not None
        self.prime(course.id, course)

    async def batch_load(self, keys: Sequence[int]) -> list[Course | None]:
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(Course).where(
                        col(Course.id).in_(keys), self.scope.courses_clause(col(Course.id))
                    )
                )
            ).scalars()
            by_key = {course.id: course for course in rows}
        return [by_key.get(key) for key in keys]


class LessonsByCourseIdLoader(Loader[int, list[Lesson]]):
    """Lessons in course order, for courses the caller already resolved (and so may see)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[Lesson]]:
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(Lesson)
                    .where(col(Lesson.course_id).in_(keys))
                    .order_by(col(Lesson.course_id), col(Lesson.position))
                )
            ).scalars()
            by_key: dict[int, list[Lesson]] = defaultdict(list)
            for lesson in rows:
                by_key[lesson.course_id].append(lesson)
        return [by_key.get(key, []) for key in keys]


class LessonByIdLoader(Loader[int, Lesson | None]):
    """Lessons of courses the viewer may see."""

    async def batch_load(self, keys: Sequence[int]) -> list[Lesson | None]:
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(Lesson).where(
                        col(Lesson.id).in_(keys), self.scope.courses_clause(col(Lesson.course_id))
                    )
                )
            ).scalars()
            by_key = {lesson.id: lesson for lesson in rows}
        return [by_key.get(key) for key in keys]
