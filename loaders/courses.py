"""Loaders for courses and their lessons."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement
from sqlmodel import col, select

from app.listing import LESSON_ORDER
from app.models import Course, Lesson
from loaders.base import Loader, RowByIdLoader, all_per_key
from permissions import rules


class CourseByIdLoader(RowByIdLoader[Course]):
    model = Course

    def visible(self) -> ColumnElement[bool]:
        return rules.COURSE.clause(self.scope, col(Course.id))


class LessonsByCourseIdLoader(Loader[int, list[Lesson]]):
    """Lessons in course order, of courses the viewer may see (`rules.COURSE`)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[Lesson]]:
        rows = await self.fetch(
            select(Lesson)
            .where(
                col(Lesson.course_id).in_(keys),
                rules.COURSE.clause(self.scope, col(Lesson.course_id)),
            )
            .order_by(col(Lesson.course_id), *LESSON_ORDER.by())
        )
        return all_per_key(keys, ((lesson.course_id, lesson) for (lesson,) in rows))


class LessonByIdLoader(RowByIdLoader[Lesson]):
    """Lessons of courses the viewer may see."""

    model = Lesson

    def visible(self) -> ColumnElement[bool]:
        return rules.COURSE.clause(self.scope, col(Lesson.course_id))
