"""Loaders for progress: enrollments by id or student, and report rows/summaries per group.

Report rows and summaries are built by `app.report`, the same SQL as the CSV export.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from app.listing import COURSE_ORDER
from app.models import Course, Enrollment, GroupMembership
from app.pagination import PARENT, Order
from app.report import (
    REPORT_COLUMNS,
    CourseSummary,
    ProgressFilter,
    ReportRow,
    course_summary,
    report_from,
    report_order,
    report_where,
    summary_rows,
)
from loaders.base import CountLoader, Loader, PageLoader, all_per_key, one_per_key
from permissions import rules
from permissions.policy import AccessScope

# An enrollment and its course (the percentages divide by its lesson count). The course
# passed the viewer's course scope too, so resolvers may prime `CourseByIdLoader` with it.
EnrollmentRow = tuple[Enrollment, Course]


def _enrollments(scope: AccessScope) -> Any:
    return (
        select(Enrollment, Course)
        .join(Course, col(Course.id) == col(Enrollment.course_id))
        .where(rules.COURSE.clause(scope, col(Course.id)))
    )


class ProgressByIdLoader(Loader[int, EnrollmentRow | None]):
    async def batch_load(self, keys: Sequence[int]) -> list[EnrollmentRow | None]:
        rows = await self.fetch(
            _enrollments(self.scope).where(
                col(Enrollment.id).in_(keys),
                rules.ENROLLMENT.clause(self.scope, col(Enrollment.user_id)),
            )
        )
        return one_per_key(keys, ((e.id, (e, course)) for e, course in rows))


class ProgressByUserIdLoader(Loader[int, list[EnrollmentRow]]):
    """A student's enrollments, in course-name order, if the viewer may report on it."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[EnrollmentRow]]:
        rows = await self.fetch(
            _enrollments(self.scope)
            .where(
                col(Enrollment.user_id).in_(keys),
                rules.ENROLLMENT.clause(self.scope, col(Enrollment.user_id)),
            )
            .order_by(*COURSE_ORDER.by())
        )
        return all_per_key(keys, ((e.user_id, (e, course)) for e, course in rows))


def _report(scope: AccessScope, parents: list[int], flt: ProgressFilter) -> sa.Select[Any]:
    return report_from(sa.select(col(GroupMembership.group_id).label(PARENT))).where(
        col(GroupMembership.group_id).in_(parents), *report_where(scope, flt)
    )


class ReportRowsByGroupIdLoader(PageLoader[ProgressFilter, ReportRow]):
    """A page of each group's report rows, in report order."""

    def parent(self) -> Any:
        return col(GroupMembership.group_id)

    def rows(self, parents: list[int], flt: ProgressFilter) -> sa.Select[Any]:
        return _report(self.scope, parents, flt).add_columns(*REPORT_COLUMNS)

    def order(self) -> Order:
        return report_order(self.scope)

    def item(self, row: Any) -> ReportRow:
        return ReportRow.from_row(row)


class ReportRowByKeyLoader(Loader[tuple[int, int], ReportRow | None]):
    """Report rows by (group id, enrollment id), for `node(id:)`."""

    async def batch_load(self, keys: Sequence[tuple[int, int]]) -> list[ReportRow | None]:
        # Rows of any of the groups and any of the enrollments: a superset of the keys,
        # from which `one_per_key` keeps exactly the pairs asked for.
        rows = await self.fetch(
            report_from(sa.select(*REPORT_COLUMNS)).where(
                col(GroupMembership.group_id).in_(sorted({g for g, _ in keys})),
                col(Enrollment.id).in_(sorted({e for _, e in keys})),
                *report_where(self.scope, ProgressFilter()),
            )
        )
        found = (ReportRow.from_row(row) for row in rows)
        return one_per_key(keys, (((r.group_id, r.enrollment_id), r) for r in found))


class ReportRowCountByGroupIdLoader(CountLoader[ProgressFilter]):
    """Key: (group id, filter)."""

    def parent(self) -> Any:
        return col(GroupMembership.group_id)

    def rows(self, parents: list[int], flt: ProgressFilter) -> sa.Select[Any]:
        return _report(self.scope, parents, flt)


class ProgressSummaryByGroupIdLoader(Loader[int, list[tuple[CourseSummary, Course]]]):
    """Per course, the figures of the group's report rows (one grouped statement), with the
    course (in the viewer's course scope, so resolvers may prime `CourseByIdLoader`)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[tuple[CourseSummary, Course]]]:
        rows = await self.fetch(
            summary_rows(self.scope, keys).where(rules.COURSE.clause(self.scope, col(Course.id)))
        )
        return all_per_key(keys, ((row.group_id, _summary_and_course(row)) for row in rows))


def _summary_and_course(row: Any) -> tuple[CourseSummary, Course]:
    course = Course(
        id=row.course_id,
        name=row.course_name,
        lesson_count=row.lesson_count,
        created_at=row.course_created_at,
    )
    return course_summary(row), course
