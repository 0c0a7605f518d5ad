"""`Progress` (one student in one course: an enrollment) and `GroupProgressRow` (one row of
the group progress report: a member of a group in one course), and the `groupProgress` report.

Invariants:
- a `Progress` is the same object on every path (`User.progress`, `GroupProgressRow.progress`,
  `node`): its id is the enrollment's and none of its fields depends on how it was reached, so
  normalising client caches (keyed by id) never mix two paths' values; the group a row is
  reported under belongs to the `GroupProgressRow`, whose id names the group and the
  enrollment;
- report rows come from `app.report` (the CSV export's SQL), so both agree on which rows
  exist, their order and their percentages; a row is shown whole from its own columns (its
  group, student and course are readable wherever the row is: `app.report`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import strawberry

from app.models import Course, Enrollment
from app.pagination import DEFAULT_PAGE_SIZE
from app.report import (
    REPORT_COLUMNS,
    ProgressStatus,
    ReportRow,
    percent,
    report_from,
    report_order,
    report_where,
    status_of,
)
from permissions import rules
from permissions.fields import visible_field
from resolvers.context import Context, Info
from resolvers.courses import CourseType
from resolvers.groups import GroupType
from resolvers.pagination import Connection, First, list_page
from resolvers.progress_filter import ProgressFilterInput, to_filter
from resolvers.relay import Node, present, to_global_id
from resolvers.users import UserType, load_user


def _student_id(progress: ProgressType) -> int:
    return progress.student_id


@strawberry.type(
    name="Progress",
    description="One student's progress in one course (an enrollment): the same on every path.",
)
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
    course: CourseType
    student_id: strawberry.Private[int]
    expires_at_value: strawberry.Private[datetime | None]

    @classmethod
    def from_enrollment(cls, enrollment: Enrollment, course: Course) -> ProgressType:
        """The progress of `enrollment` in `course` (read by the same scoped statement)."""
        assert enrollment.id is not None
        return cls(
            id=to_global_id("Progress", enrollment.id),
            activated_at=enrollment.activated_at,
            completed_at=enrollment.completed_at,
            percent_viewed=percent(enrollment.lessons_viewed, course.lesson_count),
            percent_completed=percent(enrollment.lessons_completed, course.lesson_count),
            status=status_of(
                enrollment.lessons_viewed, enrollment.lessons_completed, enrollment.completed_at
            ),
            course=CourseType.from_model(course),
            student_id=enrollment.user_id,
            expires_at_value=enrollment.expires_at,
        )

    @visible_field(
        rules.ENROLLMENT,
        _student_id,
        "When the student loses access to the course (the export's Expiry Date).",
    )
    def expires_at(self) -> datetime | None:
        return self.expires_at_value

    @strawberry.field(
        description="The student. Whoever may read a student's progress may read the student."
    )
    async def student(self, info: Info) -> UserType:
        # `rules.ENROLLMENT` allows no one `rules.USER` refuses (`tests/test_rules_agree.py`).
        return present(await load_user(info.context, self.student_id), "user")


@strawberry.type(
    name="GroupProgressRow",
    description="One row of the group progress report (and of its CSV export): a member of "
    "a group in one course. Its id names the group and the enrollment, so a student in two "
    "of your groups is two rows sharing one `progress`.",
)
class GroupProgressRowType(Node):
    group: GroupType = strawberry.field(description="The group this row is reported under.")
    student: UserType
    course: CourseType
    progress: ProgressType = strawberry.field(
        description="The student's progress in the course: the same object as in `User.progress`."
    )

    @classmethod
    def from_report_row(cls, row: ReportRow) -> GroupProgressRowType:
        course = row.course()
        return cls(
            id=to_global_id("GroupProgressRow", row.group_id, row.enrollment_id),
            group=GroupType.from_model(row.group()),
            student=UserType.from_model(row.student()),
            course=CourseType.from_model(course),
            progress=ProgressType.from_enrollment(row.enrollment(), course),
        )


async def load_report_row(ctx: Context, group_id: int, enrollment_id: int) -> Node | None:
    """The report row through its scoped loader; null when absent or out of scope."""
    row = await ctx.loaders.report_row_by_key.load((group_id, enrollment_id))
    return GroupProgressRowType.from_report_row(row) if row else None


def report_row_item(row: object) -> GroupProgressRowType:
    return GroupProgressRowType.from_report_row(ReportRow.from_row(row))


@strawberry.type
class Query:
    @strawberry.field(
        description="Report rows (one per group, member and enrollment) across the groups you "
        "may see, by group, last name, first name, email, course."
    )
    async def group_progress(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ProgressFilterInput | None = None,
    ) -> Connection[GroupProgressRowType]:
        scope = info.context.scope
        stmt = report_from(sa.select(*REPORT_COLUMNS)).where(
            *report_where(scope, to_filter(filter))
        )
        return await list_page(
            info.context, stmt, report_order(scope), first, after, report_row_item
        )
