"""Loaders for progress: enrollments by id or student, and report rows/summaries per group.

Report rows and summaries are built by `app.report`, the same SQL as the CSV export.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.listing import COURSE_ORDER
from app.models import Course, Enrollment, GroupMembership
from app.pagination import PARENT, Order
from app.report import (
    PROGRESS_COLUMNS,
    REPORT_COLUMNS,
    REPORT_ORDER,
    CourseSummary,
    ProgressFilter,
    course_summary,
    report_from,
    report_where,
    summary_rows,
)
from loaders.base import CountLoader, Loader, PageLoader, all_per_key, one_per_key
from permissions import rules
from permissions.policy import AccessScope


def enrollment_rows(scope: AccessScope) -> sa.Select[Any]:
    """`PROGRESS_COLUMNS` of enrollments joined to their course, in the viewer's course scope
    (so every `Progress` built from them may show its course). Plain rows, not ORM objects:
    nothing here is written back, and rows cost a fraction of entities."""
    return (
        sa.select(*PROGRESS_COLUMNS)
        .select_from(Enrollment)
        .join(Course, col(Course.id) == col(Enrollment.course_id))
        .where(rules.COURSE.clause(scope, col(Course.id)))
    )


def progress_of_users(scope: AccessScope, user_ids: Sequence[Any]) -> sa.Select[Any]:
    """The enrollments of `user_ids` (ids, or a column the compiled read path correlates) the
    viewer may report on, in course order."""
    return (
        enrollment_rows(scope)
        .where(
            col(Enrollment.user_id).in_(list(user_ids)),
            rules.ENROLLMENT.clause(scope, col(Enrollment.user_id)),
        )
        .order_by(*COURSE_ORDER.by())
    )


class ProgressByIdLoader(Loader[int, Any]):
    async def batch_load(self, keys: Sequence[int]) -> list[Any]:
        rows = await self.fetch(
            enrollment_rows(self.scope).where(
                col(Enrollment.id).in_(keys),
                rules.ENROLLMENT.clause(self.scope, col(Enrollment.user_id)),
            )
        )
        return one_per_key(keys, ((row.enrollment_id, row) for row in rows))


class ProgressByUserIdLoader(Loader[int, list[Any]]):
    """A student's enrollments, in course-name order, if the viewer may report on it."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[Any]]:
        rows = await self.fetch(progress_of_users(self.scope, keys))
        return all_per_key(keys, ((row.student_id, row) for row in rows))


def _report(scope: AccessScope, parents: list[int], flt: ProgressFilter) -> sa.Select[Any]:
    return report_from(sa.select(col(GroupMembership.group_id).label(PARENT))).where(
        col(GroupMembership.group_id).in_(parents), *report_where(scope, flt)
    )


class ProgressByGroupIdLoader(PageLoader[ProgressFilter, Any]):
    """A page of each group's report rows (`app.report` columns), in report order."""

    def parent(self) -> Any:
        return col(GroupMembership.group_id)

    def rows(self, parents: list[int], flt: ProgressFilter) -> sa.Select[Any]:
        return _report(self.scope, parents, flt).add_columns(*REPORT_COLUMNS)

    def order(self) -> Order:
        return REPORT_ORDER

    def item(self, row: Any) -> Any:
        return row


class ProgressCountByGroupIdLoader(CountLoader[ProgressFilter]):
    """Key: (group id, filter)."""

    def parent(self) -> Any:
        return col(GroupMembership.group_id)

    def rows(self, parents: list[int], flt: ProgressFilter) -> sa.Select[Any]:
        return _report(self.scope, parents, flt)


def summaries_of_groups(scope: AccessScope, group_ids: Sequence[Any]) -> sa.Select[Any]:
    """Per (group, course), the figures of `group_ids`' report rows (ids, or a column the
    compiled read path correlates), with the course, in the viewer's course scope."""
    return summary_rows(scope, group_ids).where(rules.COURSE.clause(scope, col(Course.id)))


class ProgressSummaryByGroupIdLoader(Loader[int, list[tuple[CourseSummary, Course]]]):
    """Per course, the figures of the group's report rows (one grouped statement), with the
    course (in the viewer's course scope, so the summary may show it)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[tuple[CourseSummary, Course]]]:
        rows = await self.fetch(summaries_of_groups(self.scope, keys))
        return all_per_key(keys, ((row.group_id, _summary_and_course(row)) for row in rows))


def _summary_and_course(row: Any) -> tuple[CourseSummary, Course]:
    course = Course(
        id=row.course_id,
        name=row.course_name,
        lesson_count=row.lesson_count,
        created_at=row.course_created_at,
    )
    return course_summary(row), course
