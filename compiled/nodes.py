"""The compilable fields of each object type, read from a row of the statement the matching
resolver or loader runs (`loaders.users.member_rows`, `loaders.progress.progress_of_users`,
`summaries_of_groups` and `report_rows_of_groups`, `loaders.assignments`, `app.listing`,
`app.report`), so rows and rules are the same code. A report row's group, student, course
and progress are read from the row's own columns, as `GroupProgressRow.from_report_row`
shows them (a row exists only where all of them may be shown: `app.report`); its `filter`
is checked by `ProgressFilter.checked`, the resolvers' own check.

Fields that only some viewers may read are `guarded` by the same rule their Strawberry field
declares with `visible_field` (`User.email`/`company`: `CONTACT`; `createdAt`/`deactivatedAt`:
`PRIVATE`; `Progress.expiresAt`: `ENROLLMENT`); `tests/test_compiled_reads.py` fails if a
guarded field of the schema is compiled without its rule. A field not listed here is not
compilable: the operation runs through Strawberry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from strawberry.utils.str_converters import to_snake_case

from app.ids import to_global_id
from app.listing import ASSIGNMENT_ORDER, COURSE_ORDER, USER_COLUMNS, group_rows, user_order
from app.models import Group, Role, UserRole
from app.pagination import Order
from app.report import CourseSummary, ProgressFilter, percent, report_order, status_of
from compiled.connections import connection
from compiled.parts import (
    Build,
    FieldBuilder,
    Guarded,
    GuardedList,
    Part,
    Source,
    column,
    correlated,
    date_time,
    global_id,
    leaf,
    listed,
    obj,
    one_row,
    same,
)
from compiled.plan import Field, NotCompilable
from loaders.assignments import assignments_of_analysts
from loaders.progress import progress_of_users, report_rows_of_groups, summaries_of_groups
from loaders.users import member_rows, roles_of_users
from permissions import rules
from permissions.policy import AccessScope, in_force_clause

COURSE: dict[str, FieldBuilder] = {
    "id": global_id("Course", "id"),
    "name": column("name"),
    "lessonCount": column("lesson_count"),
}


def _course_of_row(b: Build, field: Field, src: Source) -> Part:
    """The course of a progress or summary row (`app.report` labels), read in course scope."""
    course = {
        "id": src["course_id"],
        "name": src["course_name"],
        "lesson_count": src["lesson_count"],
    }
    return obj(b, field, course, COURSE)


def _percent(done: str) -> FieldBuilder:
    return lambda _b, _f, src: leaf([src[done], src["lesson_count"]], percent)


def _status(_b: Build, _f: Field, src: Source) -> Part:
    cells = [src["lessons_viewed"], src["lessons_completed"], src["completed_at"]]
    return leaf(cells, lambda viewed, done, at: status_of(viewed, done, at).name)


PROGRESS: dict[str, FieldBuilder] = {
    "id": global_id("Progress", "enrollment_id"),
    "activatedAt": column("activated_at", date_time),
    "completedAt": column("completed_at", date_time),
    "expiresAt": Guarded(rules.ENROLLMENT, "student_id", "expires_at", date_time),
    "percentViewed": _percent("lessons_viewed"),
    "percentCompleted": _percent("lessons_completed"),
    "status": _status,
    "course": _course_of_row,
}


def _in_order(
    rows_of: Callable[[AccessScope, Sequence[Any]], sa.Select[Any]],
    order: Order,
    table: dict[str, FieldBuilder],
) -> FieldBuilder:
    """A list in `order` read by `rows_of(scope, [the parent's id])` (a loader's own)."""

    def build(b: Build, field: Field, src: Source) -> Part:
        rows = correlated(rows_of(b.scope, [src["id"]]), src)
        return listed(b, rows, order, lambda row: obj(b, field, row, table))

    return build


def _assignment_status(b: Build, _f: Field, src: Source) -> Part:
    """ACTIVE while in force at the request's `now` (`in_force_clause`: the bound `now`, so a
    kept query answers at each request's time), as `GroupAnalystAssignment.status` decides."""
    clause = in_force_clause(b.scope.now, src["expires_at"])
    active = sa.case((clause, "ACTIVE"), else_="EXPIRED")
    return leaf([active], same)


def _group_of_assignment(b: Build, field: Field, src: Source) -> Part:
    """The group through `rules.GROUP` as `load_group` reads it: null when out of scope (an
    analyst's ended assignment)."""
    rows = group_rows(b.scope, None).where(col(Group.id) == src["group_id"])
    return one_row(b, field, correlated(rows, src), GROUP)


ASSIGNMENT: dict[str, FieldBuilder] = {
    "id": global_id("GroupAnalystAssignment", "id"),
    "assignedAt": column("assigned_at", date_time),
    "expiresAt": column("expires_at", date_time),
    "status": _assignment_status,
    "group": _group_of_assignment,
}


# A user's roles by name (a role is unique per user: the rows' own order for one user).
ROLE_ORDER = Order((col(UserRole.role),))

USER: dict[str, FieldBuilder] = {
    "id": global_id("User", "id"),
    "firstName": column("first_name"),
    "lastName": column("last_name"),
    "email": Guarded(rules.CONTACT, "id", "email"),
    "company": Guarded(rules.CONTACT, "id", "company"),
    "createdAt": Guarded(rules.PRIVATE, "id", "created_at", date_time),
    "deactivatedAt": Guarded(rules.PRIVATE, "id", "deactivated_at", date_time),
    "progress": _in_order(progress_of_users, COURSE_ORDER, PROGRESS),
    "analystAssignments": _in_order(assignments_of_analysts, ASSIGNMENT_ORDER, ASSIGNMENT),
    "roles": GuardedList(
        rules.PRIVATE,
        "id",
        roles_of_users,
        ROLE_ORDER,
        lambda row: leaf([row["role"]], lambda role: Role(role).name),
    ),
}


def _figure(name: str) -> FieldBuilder:
    labels = ("enrolled", "not_started", "in_progress", "completed", "permille_sum")

    def value(*cells: Any) -> Any:
        summary = CourseSummary(0, 0, *(int(cell or 0) for cell in cells))
        return getattr(summary, name)

    return lambda _b, _f, src: leaf([src[label] for label in labels], value)


SUMMARY: dict[str, FieldBuilder] = {
    "enrolled": _figure("enrolled"),
    "notStarted": _figure("not_started"),
    "inProgress": _figure("in_progress"),
    "completed": _figure("completed"),
    "averagePercentCompleted": _figure("average_percent_completed"),
    "completionRate": _figure("completion_rate"),
    "course": _course_of_row,
}


def progress_filter(value: Any) -> ProgressFilter:
    """The `ProgressFilter` of a coerced `filter` argument (GraphQL names), checked as the
    resolvers check it (`ProgressFilter.checked`: BAD_USER_INPUT leaves the query to them)."""
    if value is None:
        return ProgressFilter()
    if not isinstance(value, Mapping):
        raise NotCompilable("filter")
    return ProgressFilter.checked(**{to_snake_case(name): v for name, v in value.items()})


def report_connection(b: Build, field: Field, rows: sa.Select[Any]) -> Part:
    """A connection of report rows over `rows` (a statement of `app.report`'s), in
    `report_order`, so its cursors hold the email only through `rules.CONTACT.readable`."""
    return connection(
        b, field, rows, report_order(b.scope), lambda node, row: obj(b, node, row, REPORT_ROW)
    )


def _report_rows(b: Build, field: Field, src: Source) -> Part:
    flt = progress_filter(field.arg("filter"))
    return report_connection(
        b, field, correlated(report_rows_of_groups(b.scope, [src["id"]], flt), src)
    )


def _members(b: Build, field: Field, src: Source) -> Part:
    rows = member_rows(b.scope, [src["id"]], field.arg("search")).add_columns(*USER_COLUMNS)
    rows = correlated(rows, src)
    return connection(
        b, field, rows, user_order(b.scope), lambda node, row: obj(b, node, row, USER)
    )


GROUP: dict[str, FieldBuilder] = {
    "id": global_id("Group", "id"),
    "name": column("name"),
    "createdAt": column("created_at", date_time),
    "members": _members,
    "progressSummary": _in_order(summaries_of_groups, COURSE_ORDER, SUMMARY),
    "progress": _report_rows,
}


def _labelled(src: Source, labels: Mapping[str, str]) -> dict[str, Any]:
    """`src`'s columns under the labels a table reads (a report row's group as a group)."""
    return {label: src[column] for label, column in labels.items()}


# A report row's group and student, read from the row's own columns (`app.report`): a row
# exists only where all of them may be shown (`REPORT_COLUMNS`).
_GROUP_OF_ROW = {"id": "group_id", "name": "group_name", "created_at": "group_created_at"}
_STUDENT_OF_ROW = {
    "id": "student_id",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "company": "company",
    "created_at": "student_created_at",
    "deactivated_at": "student_deactivated_at",
}


def _row_id(_b: Build, _f: Field, src: Source) -> Part:
    cells = [src["group_id"], src["enrollment_id"]]
    return leaf(
        cells, lambda group, enrollment: to_global_id("GroupProgressRow", group, enrollment)
    )


REPORT_ROW: dict[str, FieldBuilder] = {
    "id": _row_id,
    "group": lambda b, f, src: obj(b, f, _labelled(src, _GROUP_OF_ROW), GROUP),
    "student": lambda b, f, src: obj(b, f, _labelled(src, _STUDENT_OF_ROW), USER),
    "course": _course_of_row,
    "progress": lambda b, f, src: obj(b, f, src, PROGRESS),
}
