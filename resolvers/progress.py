"""The `Progress` type (one student in one course, seen through one group in reports) and the
`groupProgress` report.

Invariants: report rows come from `app.report` (the CSV export's SQL), so both agree on
which rows exist, their order and their percentages. A `Progress` is built with its course
in hand and answers `course` without a lookup: every path that builds one read the course
in the viewer's course scope (the progress loaders filter by `rules.COURSE`; report rows
exist only for admins and analysts, who see every course; the lesson and enrollment
mutations answer the enrolled student itself or an admin), so the course shown is one the
viewer may see, exactly as `node(id:)` on that course would answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
import strawberry

from app.models import Course, Enrollment
from app.report import (
    REPORT_COLUMNS,
    REPORT_ORDER,
    ProgressStatus,
    percent,
    report_from,
    report_where,
    status_of,
)
from permissions import rules
from permissions.fields import visible_field
from permissions.policy import AccessScope
from resolvers.context import Info
from resolvers.courses import CourseType
from resolvers.groups import GroupType, load_group
from resolvers.pagination import Connection, list_page
from resolvers.progress_filter import ProgressFilterInput, to_filter
from resolvers.relay import Node, to_global_id
from resolvers.users import UserType, load_user


def _student_id(progress: ProgressType) -> int:
    return progress.student_id


@strawberry.type(name="Progress", description="One student's progress in one course.")
class ProgressType(Node):
    activated_at: datetime = strawberry.field(description="When the student was enrolled.")
    completed_at: datetime | None = strawberry.field(
        description="When the student first reached 100% completion."
    )
    percent_viewed: float = strawberry.field(
        description="Lessons navigated to, as 0-100 with one decimal, rounded down."
    )
    percent_completed: float = strawberry.field(
        description="Lessons marked complete, as 0-100 with one decimal, rounded down."
    )
    status: ProgressStatus
    student_id: strawberry.Private[int]
    course_value: strawberry.Private[CourseType]
    group_id: strawberry.Private[int | None]
    expires_at_value: strawberry.Private[datetime | None]

    @classmethod
    def from_row(cls, row: Any, group_id: int | None = None) -> ProgressType:
        """From a row with the labels of `app.report.PROGRESS_COLUMNS` (report rows too)."""
        lessons = row.lesson_count
        return cls(
            id=to_global_id("Progress", row.enrollment_id),
            activated_at=row.activated_at,
            completed_at=row.completed_at,
            percent_viewed=percent(row.lessons_viewed, lessons),
            percent_completed=percent(row.lessons_completed, lessons),
            status=status_of(row.lessons_viewed, row.lessons_completed, row.completed_at),
            student_id=row.student_id,
            course_value=CourseType(
                id=to_global_id("Course", row.course_id),
                name=row.course_name,
                lesson_count=lessons,
                db_id=row.course_id,
            ),
            group_id=group_id,
            expires_at_value=row.expires_at,
        )

    @classmethod
    def from_enrollment(cls, enrollment: Enrollment, course: Course) -> ProgressType:
        """From an enrollment a mutation holds, with its course."""
        assert enrollment.id is not None and course.id is not None
        return cls.from_row(
            EnrollmentRow(
                enrollment_id=enrollment.id,
                student_id=enrollment.user_id,
                course_id=course.id,
                course_name=course.name,
                lesson_count=course.lesson_count,
                activated_at=enrollment.activated_at,
                expires_at=enrollment.expires_at,
                completed_at=enrollment.completed_at,
                lessons_viewed=enrollment.lessons_viewed,
                lessons_completed=enrollment.lessons_completed,
            )
        )

    @visible_field(
        rules.ENROLLMENT,
        _student_id,
        "When the student loses access to the course (the export's Expiry Date).",
    )
    def expires_at(self) -> datetime | None:
        return self.expires_at_value

    @strawberry.field
    async def student(self, info: Info) -> UserType | None:
        return await load_user(info.context, self.student_id)

    @strawberry.field
    def course(self) -> CourseType | None:
        return self.course_value

    @strawberry.field(description="The group this row is reported under; null outside reports.")
    async def group(self, info: Info) -> GroupType | None:
        return await load_group(info.context, self.group_id)


class EnrollmentRow(NamedTuple):
    """An enrollment in hand, under the labels of `app.report.PROGRESS_COLUMNS`."""

    enrollment_id: int
    student_id: int
    course_id: int
    course_name: str
    lesson_count: int
    activated_at: datetime
    expires_at: datetime | None
    completed_at: datetime | None
    lessons_viewed: int
    lessons_completed: int


def progress_from_report_row(scope: AccessScope, row: Any) -> ProgressType:
    """A `Progress` from an `app.report` row, reported under the row's group (the row reached
    its student through a membership of that group: the scope learns it is a member)."""
    scope.learn_reached_members((row.student_id,))
    return ProgressType.from_row(row, group_id=row.group_id)


@strawberry.type
class Query:
    @strawberry.field(
        description="Report rows (one per group, member and enrollment) across the groups you "
        "may see, by group, last name, first name, email, course. `first`: 1 to 100, default 25."
    )
    async def group_progress(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ProgressFilterInput | None = None,
    ) -> Connection[ProgressType]:
        scope = info.context.scope
        stmt = report_from(sa.select(*REPORT_COLUMNS)).where(
            *report_where(scope, to_filter(filter))
        )
        return await list_page(
            info.context,
            stmt,
            REPORT_ORDER,
            first,
            after,
            lambda row: progress_from_report_row(scope, row),
        )
