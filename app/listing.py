"""How lists are ordered and searched, defined once for the paged lists (`resolvers/`) and the
nested lists (`loaders/`); the report's order is `app.report.report_order`.

Invariants:
- every order ends with the row's id, so it is total (`app.pagination`);
- a people order holds a user's email only where the viewer may read it ('' otherwise), and
  a people search matches an email only where the viewer may read it: neither a cursor nor
  a search result can reveal a hidden email;
- a listing of people reads `USER_COLUMNS`, never the password hash.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlmodel import col

from app import validation
from app.identity import search_key
from app.models import AnalystAssignment, ApiToken, AuditEvent, Course, Group, Lesson, User
from app.pagination import Order
from permissions import rules
from permissions.policy import AccessScope

GROUP_ORDER = Order((col(Group.name_key), col(Group.id)))
COURSE_ORDER = Order((col(Course.name), col(Course.id)))
# A lesson's position is unique within its course (the only list of lessons).
LESSON_ORDER = Order((col(Lesson.position),))
ASSIGNMENT_ORDER = Order((col(AnalystAssignment.assigned_at), col(AnalystAssignment.id)))
# Newest first.
AUDIT_ORDER = Order((col(AuditEvent.id),), descending=True)
TOKEN_ORDER = Order((col(ApiToken.id),), descending=True)


def user_order(scope: AccessScope) -> Order:
    """The order of every list of people: last name, first name, email, then id.

    The email only where the viewer may read it ('' otherwise): a cursor carries its row's
    sort key, and a list may hold users whose email the viewer may not read (a co-analyst),
    so their email in the key would leak it, and a forged cursor would be an oracle for it.
    """
    return Order(
        (
            col(User.last_name),
            col(User.first_name),
            rules.CONTACT.readable(scope, col(User.id), col(User.email_key)),
            col(User.id),
        )
    )


# What a listing reads of a user: never the password hash.
USER_COLUMNS: tuple[Any, ...] = (
    col(User.id),
    col(User.first_name),
    col(User.last_name),
    col(User.email),
    col(User.email_key),
    col(User.company),
    col(User.created_at),
    col(User.deactivated_at),
)


def user_from_row(row: sa.Row[Any]) -> User:
    """The user of a row selected with `USER_COLUMNS`."""
    m = row._mapping
    return User(**{c.key: m[c.key] for c in USER_COLUMNS})


def like_pattern(text: str) -> str:
    """`text` as a comparison key (`app.identity`: NFKC, case-folded) in a LIKE pattern
    matching it anywhere, `\\` escaping."""
    escaped = search_key(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def user_search_clause(scope: AccessScope, search: str | None) -> ColumnElement[bool]:
    """Name contains `search`, or email does where the viewer may read that email."""
    search = validation.search(search)
    if search is None:
        return sa.true()
    pattern = like_pattern(search)
    return sa.or_(
        sa.func.lower(col(User.first_name)).like(pattern, escape="\\"),
        sa.func.lower(col(User.last_name)).like(pattern, escape="\\"),
        sa.and_(
            col(User.email_key).like(pattern, escape="\\"),
            rules.CONTACT.clause(scope, col(User.id)),
        ),
    )


def group_search_clause(search: str | None) -> ColumnElement[bool]:
    """The group's name contains `search` (any case)."""
    search = validation.search(search)
    if search is None:
        return sa.true()
    return col(Group.name_key).like(like_pattern(search), escape="\\")


def group_rows(scope: AccessScope, search: str | None) -> sa.Select[Any]:
    """The `groups` list before paging: the groups the viewer may see matching `search`."""
    return sa.select(Group).where(
        rules.GROUP.clause(scope, col(Group.id)), group_search_clause(search)
    )


def course_rows(scope: AccessScope) -> sa.Select[Any]:
    """The `courses` list before paging: the courses the viewer may see."""
    return sa.select(Course).where(rules.COURSE.clause(scope, col(Course.id)))
