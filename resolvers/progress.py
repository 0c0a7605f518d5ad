"""`Progress` (one student in one course: an enrollment) and `GroupProgressRow` (one row of
the group progress report: a member of a group in one course), and the `groupProgress` report.

Invariants:
- a `Progress` is the same object on every path (`User.progress`, `GroupProgressRow.progress`,
  `node`, the enrollment mutations): its id is the enrollment's and none of its fields depends
  on how it was reached, so normalising client caches (keyed by id) never mix two paths'
  values; the group a row is reported under belongs to the `GroupProgressRow`, whose id names
  the group and the enrollment;
- a `Progress` is built with its course in hand (`ProgressRow`) and answers `course` without
  a lookup: every path that builds one read the course in the viewer's course scope (the
  progress loaders filter by `rules.COURSE`; report rows exist only for admins and analysts,
  who see every course; the lesson and enrollment mutations answer the enrolled student
  itself or an admin), so the course shown is one the viewer may see;
- report rows come from `app.report` (the CSV export's SQL), so both agree on which rows
  exist, their order and their percentages; a row is shown whole from its own columns (its
  group, student and course are readable wherever the row is: `app.report`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import strawberry

from app.models import Course, Enrollment
from app.pagination import DEFAULT_PAGE_SIZE
from app.report import (
    ProgressRow,
    ProgressStatus,
    ReportRow,
    learnt,
    percent,
    report_list,
    report_order,
    status_of,
)
from permissions import rules
from permissions.fields import visible_field
from permissions.policy import AccessScope
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
    def from_row(cls, row: ProgressRow) -> ProgressType:
        """The progress of an enrollment read with its course (in the viewer's course scope)."""
        lessons = row.lesson_count
        return cls(
            id=to_global_id("Progress", row.enrollment_id),
            activated_at=row.activated_at,
            completed_at=row.completed_at,
            percent_viewed=percent(row.lessons_viewed, lessons),
            percent_completed=percent(row.lessons_completed, lessons),
            status=status_of(row.lessons_viewed, row.lessons_completed, row.completed_at),
            course=CourseType(
                id=to_global_id("Course", row.course_id),
                name=row.course_name,
                lesson_count=lessons,
                db_id=row.course_id,
            ),
            student_id=row.student_id,
            expires_at_value=row.expires_at,
        )

    @classmethod
    def from_enrollment(cls, enrollment: Enrollment, course: Course) -> ProgressType:
        """From an enrollment a mutation holds, with its course."""
        assert enrollment.id is not None and course.id is not None
        return cls.from_row(
            ProgressRow(
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
        """The row shown whole from its own columns (no lookups: `app.report`)."""
        progress = ProgressType.from_row(row.progress)
        student_id = row.progress.student_id
        return cls(
            id=to_global_id("GroupProgressRow", row.group_id, row.progress.enrollment_id),
            group=GroupType(
                id=to_global_id("Group", row.group_id),
                name=row.group_name,
                created_at=row.group_created_at,
                db_id=row.group_id,
            ),
            student=UserType(
                id=to_global_id("User", student_id),
                first_name=row.first_name,
                last_name=row.last_name,
                user_id=student_id,
                email_value=row.email,
                company_value=row.company,
                created_at_value=row.student_created_at,
                deactivated_at_value=row.student_deactivated_at,
            ),
            course=progress.course,
            progress=progress,
        )


async def load_report_row(ctx: Context, group_id: int, enrollment_id: int) -> Node | None:
    """The report row through its scoped loader; null when absent or out of scope."""
    row = await ctx.loaders.report_row_by_key.load((group_id, enrollment_id))
    return GroupProgressRowType.from_report_row(row) if row else None


def report_row_item(scope: AccessScope, row: sa.Row[Any]) -> GroupProgressRowType:
    """A report row of a statement the resolver ran itself (the scope learns its student is
    a member: `app.report.learnt`)."""
    return GroupProgressRowType.from_report_row(learnt(scope, ReportRow.from_row(row)))


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
        return await list_page(
            info.context,
            report_list(scope, to_filter(filter)),
            report_order(scope),
            first,
            after,
            lambda row: report_row_item(scope, row),
        )
