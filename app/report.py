"""Group progress report rows: one per (group, member, enrollment).

The GraphQL report (`groupProgress`, `Group.progress`, `Group.progressSummary`) and the CSV
export both build their SQL here, so they cannot disagree about which rows exist, in which
order, or what the percentages are.

Invariants:
- a row exists only for a group the viewer may see (`rules.GROUP`), so an analyst
  gets exactly its analysed groups and a student gets no rows;
- the order is total and deterministic: group name, student last name, first name, email
  (where the viewer may read it), course name, then ids (`report_order`);
- a row's student is a member of a group the viewer may see, so `rules.USER`,
  `rules.CONTACT` and `rules.ENROLLMENT` allow it, and its course passes `rules.COURSE`
  (only admins and analysts see groups): a row may be shown whole, with no further check
  (`tests/test_rules_agree.py` checks this over random worlds);
- rows travel as `ReportRow` and `ProgressRow` (typed named tuples read from plain result
  rows by label, not ORM entities);
- percentages are computed from the enrollment's running counters, never by aggregating
  lesson rows: floor(1000 * done / lessons) / 10, so 100.0 means every lesson is done and a
  course without lessons reports 0.0;
- status: NOT_STARTED (nothing viewed or completed), COMPLETED (`completed_at` set: reached
  100% once), IN_PROGRESS otherwise;
- a summary (`summary_rows`) aggregates exactly the report rows of its groups, in SQL, so its
  figures always agree with the rows a client could page through.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlmodel import col

from app.ids import from_global_id
from app.listing import COURSE_ORDER, user_search_clause
from app.models import Course, Enrollment, Group, GroupMembership, User
from app.pagination import Order
from app.validation import SEARCH_MAX, aware, optional_text
from permissions import rules
from permissions.policy import AccessScope


class ProgressStatus(enum.StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


def percent(done: int, lessons: int) -> float:
    """0..100 with one decimal, rounded down."""
    if lessons <= 0:
        return 0.0
    return min(done * 1000 // lessons, 1000) / 10


def status_of(
    lessons_viewed: int, lessons_completed: int, completed_at: datetime | None
) -> ProgressStatus:
    if completed_at is not None:
        return ProgressStatus.COMPLETED
    if lessons_viewed == 0 and lessons_completed == 0:
        return ProgressStatus.NOT_STARTED
    return ProgressStatus.IN_PROGRESS


def status_clause(status: ProgressStatus) -> ColumnElement[bool]:
    completed = col(Enrollment.completed_at).is_not(None)
    untouched = sa.and_(col(Enrollment.lessons_viewed) == 0, col(Enrollment.lessons_completed) == 0)
    if status is ProgressStatus.COMPLETED:
        return completed
    if status is ProgressStatus.NOT_STARTED:
        return sa.and_(sa.not_(completed), untouched)
    return sa.and_(sa.not_(completed), sa.not_(untouched))


def _ids(values: Sequence[str] | None, type_name: str, field: str) -> tuple[int, ...] | None:
    """Sorted and unique (the filter is hashable: loaders batch by it)."""
    if values is None:
        return None
    return tuple(sorted({from_global_id(value, type_name, field) for value in values}))


@dataclass(frozen=True)
class ProgressFilter:
    group_ids: Sequence[int] | None = None
    course_ids: Sequence[int] | None = None
    status: ProgressStatus | None = None
    activated_after: datetime | None = None
    activated_before: datetime | None = None
    completed_after: datetime | None = None
    completed_before: datetime | None = None
    # Part of the student's name or (where visible) email; applied by `report_where`.
    search: str | None = None

    @classmethod
    def checked(
        cls,
        *,
        group_ids: Sequence[str] | None = None,
        course_ids: Sequence[str] | None = None,
        status: ProgressStatus | None = None,
        activated_after: datetime | None = None,
        activated_before: datetime | None = None,
        completed_after: datetime | None = None,
        completed_before: datetime | None = None,
        search: str | None = None,
    ) -> ProgressFilter:
        """The filter of the `ProgressFilter` input's values (global ids, as given), or
        BAD_USER_INPUT naming the field: the one check of `groupProgress`, `Group.progress`
        and the compiled read path."""
        return cls(
            group_ids=_ids(group_ids, "Group", "filter.groupIds"),
            course_ids=_ids(course_ids, "Course", "filter.courseIds"),
            status=status,
            activated_after=aware("filter.activatedAfter", activated_after),
            activated_before=aware("filter.activatedBefore", activated_before),
            completed_after=aware("filter.completedAfter", completed_after),
            completed_before=aware("filter.completedBefore", completed_before),
            search=optional_text("filter.search", search, SEARCH_MAX),
        )

    def clauses(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.group_ids is not None:
            out.append(col(GroupMembership.group_id).in_(list(self.group_ids)))
        if self.course_ids is not None:
            out.append(col(Enrollment.course_id).in_(list(self.course_ids)))
        if self.status is not None:
            out.append(status_clause(self.status))
        if self.activated_after is not None:
            out.append(col(Enrollment.activated_at) >= self.activated_after)
        if self.activated_before is not None:
            out.append(col(Enrollment.activated_at) < self.activated_before)
        if self.completed_after is not None:
            out.append(col(Enrollment.completed_at) >= self.completed_after)
        if self.completed_before is not None:
            out.append(col(Enrollment.completed_at) < self.completed_before)
        return out


def report_order(scope: AccessScope) -> Order:
    """The report order: group name, student last name, first name, email, course name, then
    the ids, which make it total.

    The email only where the viewer may read it (`rules.CONTACT`, '' otherwise), as in every
    list of people: a cursor carries its row's sort key, so a hidden email in it would leak.
    """
    return Order(
        (
            col(Group.name_key),
            col(User.last_name),
            col(User.first_name),
            rules.CONTACT.readable(scope, col(User.id), col(User.email_key)),
            col(Course.name),
            col(Group.id),
            col(User.id),
            col(Course.id),
        )
    )


class ProgressRow(NamedTuple):
    """What a `Progress` reads of an enrollment and its course (`PROGRESS_COLUMNS`)."""

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


class ReportRow(NamedTuple):
    """One row of the report (`REPORT_COLUMNS`): a member of a group, in one course it is
    enrolled in (`progress`)."""

    group_id: int
    group_name: str
    group_created_at: datetime
    first_name: str
    last_name: str
    email: str
    company: str | None
    student_created_at: datetime
    student_deactivated_at: datetime | None
    progress: ProgressRow

    @classmethod
    def from_row(cls, row: sa.Row[Any]) -> ReportRow:
        """The report row of a result row that selected `REPORT_COLUMNS` (among others)."""
        return cls._make((*_report_fields(row), progress_row(row)))


def learnt(scope: AccessScope, row: ReportRow) -> ReportRow:
    """`row`, its scope told that the student is a member of an analysed group: a report row
    reaches its student through a membership of a group the viewer may see (`GROUP`), and
    its student's email and expiry are checked against the scope (`AccessScope.members`)."""
    scope.learn_reached_members((row.progress.student_id,))
    return row


# What a `Progress` reads, by label: the progress loaders select exactly these, and report
# rows carry them too. Plain rows, not ORM entities: nothing read here is written back, and
# rows cost a fraction of entities.
PROGRESS_COLUMNS: tuple[Any, ...] = (
    col(Enrollment.id).label("enrollment_id"),
    col(Enrollment.user_id).label("student_id"),
    col(Course.id).label("course_id"),
    col(Course.name).label("course_name"),
    col(Course.lesson_count).label("lesson_count"),
    col(Enrollment.activated_at).label("activated_at"),
    col(Enrollment.expires_at).label("expires_at"),
    col(Enrollment.completed_at).label("completed_at"),
    col(Enrollment.lessons_viewed).label("lessons_viewed"),
    col(Enrollment.lessons_completed).label("lessons_completed"),
)

REPORT_COLUMNS: tuple[Any, ...] = (
    col(Group.id).label("group_id"),
    col(Group.name).label("group_name"),
    col(Group.created_at).label("group_created_at"),
    col(User.first_name).label("first_name"),
    col(User.last_name).label("last_name"),
    col(User.email).label("email"),
    col(User.company).label("company"),
    col(User.created_at).label("student_created_at"),
    col(User.deactivated_at).label("student_deactivated_at"),
    *PROGRESS_COLUMNS,
)

# Read a result row by label, so extra columns (a loader's parent, a page's row number)
# may come before or after.
_report_fields = attrgetter(*ReportRow._fields[:-1])
_progress_fields = attrgetter(*ProgressRow._fields)


def progress_row(row: sa.Row[Any]) -> ProgressRow:
    """The progress row of a result row that selected `PROGRESS_COLUMNS` (among others)."""
    return ProgressRow._make(_progress_fields(row))


def report_from(stmt: sa.Select[Any]) -> sa.Select[Any]:
    """Join the report's tables onto a select (membership → group, user, enrollment, course)."""
    return (
        stmt.select_from(GroupMembership)
        .join(Group, col(Group.id) == col(GroupMembership.group_id))
        .join(User, col(User.id) == col(GroupMembership.user_id))
        .join(Enrollment, col(Enrollment.user_id) == col(GroupMembership.user_id))
        .join(Course, col(Course.id) == col(Enrollment.course_id))
    )


def report_where(scope: AccessScope, flt: ProgressFilter) -> list[ColumnElement[bool]]:
    where = [rules.GROUP.clause(scope, col(GroupMembership.group_id)), *flt.clauses()]
    if flt.search is not None and flt.search.strip():
        # Needs the scope: an email only matches where the viewer may read it.
        where.append(user_search_clause(scope, flt.search))
    return where


def report_list(scope: AccessScope, flt: ProgressFilter) -> sa.Select[Any]:
    """Every visible report row matching `flt` (`REPORT_COLUMNS`), unordered: the
    `groupProgress` list before paging (the resolver's and the compiled read path's)."""
    return report_from(sa.select(*REPORT_COLUMNS)).where(*report_where(scope, flt))


def report_rows(scope: AccessScope, flt: ProgressFilter) -> sa.Select[Any]:
    """Every visible report row matching `flt`, in report order."""
    return report_list(scope, flt).order_by(*report_order(scope).by())


def permille_completed() -> ColumnElement[int]:
    """`percent` in SQL, times ten: floor(1000 * completed / lessons), 0 without lessons."""
    lessons = col(Course.lesson_count)
    done = col(Enrollment.lessons_completed)
    return sa.case(
        (lessons <= 0, 0),
        (done >= lessons, 1000),
        else_=(done * 1000) // lessons,
    )


def _count_where(clause: ColumnElement[bool]) -> Any:
    return sa.func.sum(sa.case((clause, 1), else_=0))


@dataclass(frozen=True)
class CourseSummary:
    """Aggregates of one group's report rows for one course."""

    group_id: int
    course_id: int
    enrolled: int
    not_started: int
    in_progress: int
    completed: int
    permille_sum: int

    @property
    def average_percent_completed(self) -> float:
        """The mean of the rows' `percentCompleted`, rounded down to one decimal."""
        if self.enrolled <= 0:
            return 0.0
        return (self.permille_sum // self.enrolled) / 10

    @property
    def completion_rate(self) -> float:
        """Completed rows as a percentage of enrolled rows, rounded down to one decimal."""
        return percent(self.completed, self.enrolled)


def summary_rows(scope: AccessScope, group_ids: Sequence[int]) -> sa.Select[Any]:
    """One row per (visible group, course) with report rows, in group, course-name order."""
    return (
        report_from(
            sa.select(
                col(GroupMembership.group_id).label("group_id"),
                col(Course.id).label("course_id"),
                col(Course.name).label("course_name"),
                col(Course.lesson_count).label("lesson_count"),
                col(Course.created_at).label("course_created_at"),
                sa.func.count().label("enrolled"),
                _count_where(status_clause(ProgressStatus.NOT_STARTED)).label("not_started"),
                _count_where(status_clause(ProgressStatus.IN_PROGRESS)).label("in_progress"),
                _count_where(status_clause(ProgressStatus.COMPLETED)).label("completed"),
                sa.func.sum(permille_completed()).label("permille_sum"),
            )
        )
        .where(
            col(GroupMembership.group_id).in_(list(group_ids)),
            *report_where(scope, ProgressFilter()),
        )
        .group_by(
            col(GroupMembership.group_id),
            col(Course.id),
            col(Course.name),
            col(Course.lesson_count),
            col(Course.created_at),
        )
        .order_by(col(GroupMembership.group_id), *COURSE_ORDER.by())
    )


def course_summary(row: sa.Row[Any]) -> CourseSummary:
    return CourseSummary(
        group_id=row.group_id,
        course_id=row.course_id,
        enrolled=int(row.enrolled),
        not_started=int(row.not_started or 0),
        in_progress=int(row.in_progress or 0),
        completed=int(row.completed or 0),
        permille_sum=int(row.permille_sum or 0),
    )
