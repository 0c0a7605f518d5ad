"""Run a compiled query: one statement per root field, each answering one JSON array.

`execute` answers the response's `data`, or raises `NotCompilable` (a field outside the
compilable set) or `AppError` (an argument the resolver would refuse: a bad `first`, a cursor
of another list, a bad search): the caller then lets Strawberry run the operation, which
answers exactly as it always has, errors included.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from app.db import Database
from compiled.json_sql import JsonSql
from compiled.parts import Build, Part
from compiled.plan import Field
from compiled.roots import root
from permissions.policy import AccessScope


def build(db: Database, scope: AccessScope, fields: Sequence[Field]) -> list[tuple[str, Part]]:
    """Every root field's part (this is where anything not compilable is found)."""
    b = Build(scope, JsonSql(db.engine.dialect.name))
    return [(field.key, root(b, field)) for field in fields]


def statement(db: Database, part: Part) -> sa.Select[Any]:
    return sa.select(JsonSql(db.engine.dialect.name).array(part.exprs))


async def execute(db: Database, scope: AccessScope, fields: Sequence[Field]) -> dict[str, Any]:
    parts = build(db, scope, fields)
    cells: dict[str, Any] = {}
    async with db.read() as session:
        for key, part in parts:
            if part.exprs:
                value = (await session.execute(statement(db, part))).scalar_one()
                cells[key] = json.loads(value) if isinstance(value, str) else value
            else:
                cells[key] = []
    return {key: part.shape(iter(cells[key])) for key, part in parts}
