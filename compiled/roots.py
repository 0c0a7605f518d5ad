"""The compilable root fields, and the one statement each runs.

`groups` and `courses` page the statements of `app.listing` (the resolvers' own); `viewer` reads
the signed-in user through `rules.USER` as `UserByIdLoader` does (no statement without one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.listing import COURSE_ORDER, GROUP_ORDER, USER_COLUMNS, course_rows, group_rows
from app.models import User
from compiled.connections import connection
from compiled.nodes import COURSE, GROUP, USER
from compiled.parts import Build, Part, constant, obj
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


def _viewer(b: Build, field: Field) -> Part:
    viewer_id = b.scope.viewer_id
    if viewer_id is None:
        return constant(None)
    user = (
        sa.select(*USER_COLUMNS)
        .where(col(User.id) == viewer_id, rules.USER.clause(b.scope, col(User.id)))
        .subquery()
    )
    part = obj(b, field, user.c, USER)
    cell = sa.select(b.json.array(part.exprs)).select_from(user).scalar_subquery()

    def shape(it: Any) -> Any:
        row = next(it)
        return None if row is None else part.shape(iter(row))

    return Part([b.json.nested(cell)], shape)


ROOTS: dict[str, RootBuilder] = {"groups": _groups, "courses": _courses, "viewer": _viewer}


def root(b: Build, field: Field) -> Part:
    if field.name == "__typename":
        return constant("Query")
    builder = ROOTS.get(field.name)
    if builder is None:
        raise NotCompilable(field.name)
    return builder(b, field)
