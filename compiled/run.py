"""Run a compiled query: one statement per root field, each answering one JSON array.

`compile_query` builds every root field's part and statement, or raises `NotCompilable` (a
field outside the compilable set) or `AppError` (an argument the resolver would refuse: a bad
`first`, a cursor of another list, a bad search): the caller then lets Strawberry run the
operation, which answers exactly as it always has, errors included. `execute` runs a compiled
query at the request's `now`: the only value of a built statement that depends on the time is
the rules' named parameter `NOW_PARAM` (`permissions.policy.now_param`), so a query built for
one request answers another of the same viewer scope exactly as building it again would
(`compiled.statements` keeps them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.db import Database
from compiled.json_sql import JsonSql
from compiled.parts import Build, Part
from compiled.plan import Field
from compiled.roots import root
from permissions.policy import NOW_PARAM, AccessScope


@dataclass(frozen=True)
class Root:
    key: str
    part: Part
    # None when the part needs no SQL (`viewer` for anonymous, `__typename`).
    statement: sa.Select[Any] | None


@dataclass(frozen=True)
class Query:
    roots: tuple[Root, ...]
    # How many fields it selects: what keeping it costs (`compiled.statements`).
    weight: int = 0


def _weight(fields: Sequence[Field]) -> int:
    return sum(1 + _weight(field.fields) for field in fields)


def compile_query(db: Database, scope: AccessScope, fields: Sequence[Field]) -> Query:
    """Every root field's part and statement (this is where anything not compilable is
    found)."""
    json_sql = JsonSql(db.engine.dialect.name)
    b = Build(scope, json_sql)
    roots = []
    for field in fields:
        part = root(b, field)
        statement = sa.select(json_sql.array(part.exprs)) if part.exprs else None
        roots.append(Root(field.key, part, statement))
    return Query(tuple(roots), _weight(fields))


async def execute(db: Database, scope: AccessScope, query: Query) -> dict[str, Any]:
    params = {NOW_PARAM: scope.now}
    cells: dict[str, Any] = {}
    async with db.read() as session:
        for r in query.roots:
            if r.statement is None:
                cells[r.key] = []
                continue
            value = (await session.execute(r.statement, params)).scalar_one()
            cells[r.key] = json.loads(value) if isinstance(value, str) else value
    return {r.key: r.part.shape(iter(cells[r.key])) for r in query.roots}
