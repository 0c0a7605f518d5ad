"""The `Progress` type (one student in one course, seen through one group in reports) and the
`groupProgress` report.

Invariant: report rows come from `app.report` (the CSV export's SQL), so both agree on
which rows exist, their order and their percentages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import strawberry

from app.models import Enrollment
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
from resolvers.context import Info
from resolvers.courses import CourseType, load_course
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
    course_id: strawberry.Private[int]
    group_id: strawberry.Private[int | None]
    expires_at_value: strawberry.Private[datetime | None]

    @classmethod
    def from_enrollment(
        cls, enrollment: Enrollment, lesson_count: int, group_id: int | None = None
    ) -> ProgressType:
        assert enrollment.id is not None
        return cls(
            id=to_global_id("Progress", enrollment.id),
            activated_at=enrollment.activated_at,
            completed_at=enrollment.completed_at,
            percent_viewed=percent(enrollment.lessons_viewed, lesson_count),
            percent_completed=percent(enrollment.lessons_completed, lesson_count),
            status=status_of(
                enrollment.lessons_viewed, enrollment.lessons_completed, enrollment.completed_at
            ),
            student_id=enrollment.user_id,
            course_id=enrollment.course_id,
            group_id=group_id,
            expires_at_value=enrollment.expires_at,
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
    async def course(self, info: Info) -> CourseType | None:
        return await load_course(info.context, self.course_id)

    @strawberry.field(description="The group this row is reported under; null outside reports.")
    async def group(self, info: Info) -> GroupType | None:
        return await load_group(info.context, self.group_id)


def progress_from_report_row(row: Any) -> ProgressType:
    """A `Progress` from an `app.report` row, reported under the row's group."""
    enrollment = Enrollment(
        id=row.enrollment_id,
        user_id=row.student_id,
        course_id=row.course_id,
        activated_at=row.activated_at,
        expires_at=row.expires_at,
        completed_at=row.completed_at,
        lessons_viewed=row.lessons_viewed,
        lessons_completed=row.lessons_completed,
    )
    return ProgressType.from_enrollment(enrollment, row.lesson_count, group_id=row.group_id)


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
        stmt = report_from(sa.select(*REPORT_COLUMNS)).where(
            *report_where(info.context.scope, to_filter(filter))
        )
        return await list_page(
            info.context, stmt, REPORT_ORDER, first, after, progress_from_report_row
        )
