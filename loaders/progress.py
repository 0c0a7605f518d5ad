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
    CourseSummary,
    ProgressFilter,
    ProgressRow,
    ReportRow,
    course_summary,
    learnt,
    progress_row,
    report_from,
    report_order,
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


class ProgressByIdLoader(Loader[int, ProgressRow | None]):
    async def batch_load(self, keys: Sequence[int]) -> list[ProgressRow | None]:
        rows = await self.fetch(
            enrollment_rows(self.scope).where(
                col(Enrollment.id).in_(keys),
                rules.ENROLLMENT.clause(self.scope, col(Enrollment.user_id)),
            )
        )
        found = list(map(progress_row, rows))
        self.scope.learn_visible_users(row.student_id for row in found)
        return one_per_key(keys, ((row.enrollment_id, row) for row in found))


class ProgressByUserIdLoader(Loader[int, list[ProgressRow]]):
    """A student's enrollments, in course-name order, if the viewer may report on it."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[ProgressRow]]:
        rows = await self.fetch(progress_of_users(self.scope, keys))
        found = list(map(progress_row, rows))
        self.scope.learn_visible_users(row.student_id for row in found)
        return all_per_key(keys, ((row.student_id, row) for row in found))


def _report(scope: AccessScope, parents: list[Any], flt: ProgressFilter) -> sa.Select[Any]:
    return report_from(sa.select(col(GroupMembership.group_id).label(PARENT))).where(
        col(GroupMembership.group_id).in_(parents), *report_where(scope, flt)
    )


def report_rows_of_groups(
    scope: AccessScope, group_ids: Sequence[Any], flt: ProgressFilter
) -> sa.Select[Any]:
    """The report rows of `group_ids` (ids, or a column the compiled read path correlates)
    matching `flt`, with their group as `PARENT`, unordered: what `Group.progress` pages."""
    return _report(scope, list(group_ids), flt).add_columns(*REPORT_COLUMNS)


class ReportRowsByGroupIdLoader(PageLoader[ProgressFilter, ReportRow]):
    """A page of each group's report rows, in report order."""

    def parent(self) -> Any:
        return col(GroupMembership.group_id)

    def rows(self, parents: list[int], flt: ProgressFilter) -> sa.Select[Any]:
        return report_rows_of_groups(self.scope, parents, flt)

    def order(self) -> Order:
        return report_order(self.scope)

    def item(self, row: sa.Row[Any]) -> ReportRow:
        return learnt(self.scope, ReportRow.from_row(row))


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
        found = (learnt(self.scope, ReportRow.from_row(row)) for row in rows)
        return one_per_key(keys, (((r.group_id, r.progress.enrollment_id), r) for r in found))


class ReportRowCountByGroupIdLoader(CountLoader[ProgressFilter]):
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


def _summary_and_course(row: sa.Row[Any]) -> tuple[CourseSummary, Course]:
    course = Course(
        id=row.course_id,
        name=row.course_name,
        lesson_count=row.lesson_count,
        created_at=row.course_created_at,
    )
    return course_summary(row), course
