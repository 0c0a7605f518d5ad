"""The compilable fields of each object type, read from a row of the statement the matching
resolver or loader runs (`loaders.users.member_rows`, `loaders.progress.progress_of_users`,
`loaders.progress.summaries_of_groups`, `app.listing`), so rows and rules are the same code.

Fields that only some viewers may read are `guarded` by the same rule their Strawberry field
declares with `visible_field` (`User.email`/`company`: `CONTACT`; `createdAt`/`deactivatedAt`:
`PRIVATE`; `Progress.expiresAt`: `ENROLLMENT`); `tests/test_compiled_reads.py` fails if a
guarded field of the schema is compiled without its rule. A field not listed here is not
compilable: the operation runs through Strawberry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.listing import COURSE_ORDER, USER_COLUMNS, user_order
from app.models import Role, UserRole
from app.pagination import Order
from app.report import CourseSummary, percent, status_of
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
)
from compiled.plan import Field
from loaders.progress import progress_of_users, summaries_of_groups
from loaders.users import member_rows, roles_of_users
from permissions import rules
from permissions.policy import AccessScope

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


def _in_course_order(
    rows_of: Callable[[AccessScope, Sequence[Any]], sa.Select[Any]],
    table: dict[str, FieldBuilder],
) -> FieldBuilder:
    """A list in course order read by `rows_of(scope, [the parent's id])` (a loader's own)."""

    def build(b: Build, field: Field, src: Source) -> Part:
        rows = correlated(rows_of(b.scope, [src["id"]]), src)
        return listed(b, rows, COURSE_ORDER, lambda row: obj(b, field, row, table))

    return build


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
    "progress": _in_course_order(progress_of_users, PROGRESS),
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
    "progressSummary": _in_course_order(summaries_of_groups, SUMMARY),
}
