"""The compilable root fields, and the one statement each runs.

`groups`, `users` and `courses` page the statements of `app.listing` and `groupProgress` that
of `app.report.report_list` (the resolvers' own); `viewer` reads the signed-in user through
`rules.USER` as `UserByIdLoader` does (no statement without one); `node(id:)` compiles for a
group's id only, read through `rules.GROUP` as `GroupByIdLoader` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.ids import from_global_id, parse_global_key
from app.listing import (
    COURSE_ORDER,
    GROUP_ORDER,
    USER_COLUMNS,
    course_rows,
    group_rows,
    user_order,
    user_rows,
)
from app.models import Group, User
from app.report import report_list
from compiled.connections import connection
from compiled.nodes import COURSE, GROUP, USER, progress_filter, report_connection
from compiled.parts import Build, Part, constant, obj, one_row
from compiled.plan import Field, NotCompilable
from permissions import rules

RootBuilder = Callable[[Build, Field], Part]


def _search(value: Any) -> str | None:
    return value.get("search") if isinstance(value, Mapping) else None


def _groups(b: Build, field: Field) -> Part:
    rows = group_rows(b.scope, _search(field.arg("filter")))
    return connection(b, field, rows, GROUP_ORDER, lambda node, row: obj(b, node, row, GROUP))


def _courses(b: Build, field: Field) -> Part:
    rows = course_rows(b.scope)
    return connection(b, field, rows, COURSE_ORDER, lambda node, row: obj(b, node, row, COURSE))


def _users(b: Build, field: Field) -> Part:
    flt = field.arg("filter")
    flt = flt if isinstance(flt, Mapping) else {}
    group = flt.get("groupAnalystFor")
    rows = user_rows(
        b.scope,
        search=flt.get("search"),
        role=flt.get("role"),
        group_analyst_for=None
        if group is None
        else from_global_id(group, "Group", "filter.groupAnalystFor"),
    )
    order = user_order(b.scope)
    return connection(b, field, rows, order, lambda node, row: obj(b, node, row, USER))


def _group_progress(b: Build, field: Field) -> Part:
    return report_connection(b, field, report_list(b.scope, progress_filter(field.arg("filter"))))


def _viewer(b: Build, field: Field) -> Part:
    viewer_id = b.scope.viewer_id
    if viewer_id is None:
        return constant(None)
    user = sa.select(*USER_COLUMNS).where(
        col(User.id) == viewer_id, rules.USER.clause(b.scope, col(User.id))
    )
    return one_row(b, field, user, USER)


def _node(b: Build, field: Field) -> Part:
    """`node(id:)` for a group (`compiled.plan` collected it on the type its id names): the
    group through `rules.GROUP`, as `GroupByIdLoader` reads it (the `groups` list's statement,
    `app.listing.group_rows`), null when absent or out of scope. Any other type is left to
    the resolver."""
    parsed = parse_global_key(field.arg("id"))
    if field.type_name != "Group" or parsed is None or len(parsed[1]) != 1:
        raise NotCompilable(f"node of {field.type_name}")
    group = group_rows(b.scope, None).where(col(Group.id) == parsed[1][0])
    return one_row(b, field, group, GROUP)


ROOTS: dict[str, RootBuilder] = {
    "groups": _groups,
    "courses": _courses,
    "users": _users,
    "viewer": _viewer,
    "groupProgress": _group_progress,
    "node": _node,
}


def root(b: Build, field: Field) -> Part:
    if field.name == "__typename":
        return constant("Query")
    builder = ROOTS.get(field.name)
    if builder is None:
        raise NotCompilable(field.name)
    return builder(b, field)
