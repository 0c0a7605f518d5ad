"""A compiled selection: the SQL values it needs and how to shape them into the response.

A `Part` lists SQL expressions (the cells of one positional JSON array, `compiled.json_sql`)
and a `shape` that consumes exactly that many values, in order, from an iterator over the
array, answering the response value. Objects concatenate their fields' parts and shape a
dict in the selection's order (so keys, aliases and their order are the executor's); lists
nest a subquery's aggregate as one cell.

Invariants: a part reads only columns of the source it is given (a row of a statement that
already carries the rules' clauses); every value that only some viewers may read is selected
through `Guarded`, the rule's own `clause` as `CASE WHEN … ELSE NULL`; `obj` compiles a field
only when its builder's rule is exactly the rule the schema's field permission declares
(`Field.rules`, read from the schema), and no rule where the schema has none; the Python
shaping reuses the functions Strawberry's types use (`app.ids`, `app.report`), so a value
reads the same on both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

import sqlalchemy as sa

from app.ids import to_global_id
from app.pagination import Order
from compiled.json_sql import JsonSql
from compiled.plan import Field, NotCompilable
from permissions.policy import AccessScope
from permissions.rules import KeyRule

Shape = Callable[[Iterator[Any]], Any]


class Source(Protocol):
    """The columns a part reads, by label: a derived table's `.c`, or a dict of them."""

    def __getitem__(self, label: str, /) -> Any: ...

    def values(self) -> Any: ...


@dataclass(frozen=True)
class Part:
    exprs: Sequence[Any]
    shape: Shape


@dataclass(frozen=True)
class Build:
    """What every part is built with: the viewer's scope and the database's JSON spelling."""

    scope: AccessScope
    json: JsonSql


FieldBuilder = Callable[[Build, Field, Source], Part]


def constant(value: Any) -> Part:
    return Part((), lambda _it: value)


def leaf(exprs: Sequence[Any], convert: Callable[..., Any]) -> Part:
    # Spelled out per arity: this runs once per cell of the answer (thousands per request).
    if len(exprs) == 1:
        return Part(exprs, next if convert is same else lambda it: convert(next(it)))
    if len(exprs) == 2:
        return Part(exprs, lambda it: convert(next(it), next(it)))
    count = len(exprs)
    return Part(exprs, lambda it: convert(*[next(it) for _ in range(count)]))


def same(value: Any) -> Any:
    return value


@lru_cache(maxsize=8192)
def date_time(value: str | None) -> str | None:
    """A stored date-time as Strawberry prints it: ISO 8601 in UTC (SQLite keeps naive UTC
    text, PostgreSQL's JSON prints the session's offset). Kept for the values seen last: a
    dashboard asks for the same dates again and again, and parsing one costs more than the
    rest of its cell."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat()


def column(label: str, convert: Callable[[Any], Any] = same) -> FieldBuilder:
    return lambda _b, _f, src: leaf([src[label]], convert)


def global_id(type_name: str, label: str) -> FieldBuilder:
    return lambda _b, _f, src: leaf([src[label]], lambda pk: to_global_id(type_name, pk))


@dataclass(frozen=True)
class Guarded:
    """A field only some viewers may read: `label` where `rule` lets the viewer read the row
    keyed by `key`, else null (the rule of the field's `visible_field`)."""

    rule: KeyRule
    key: str
    label: str
    convert: Callable[[Any], Any] = same

    def __call__(self, b: Build, _f: Field, src: Source) -> Part:
        clause = self.rule.clause(b.scope, src[self.key])
        return leaf([sa.case((clause, src[self.label]), else_=sa.null())], self.convert)


def _rules_of(builder: FieldBuilder) -> tuple[KeyRule, ...]:
    """The rule a compiled field is guarded by (`Guarded` and the like carry `rule`)."""
    rule = getattr(builder, "rule", None)
    return () if rule is None else (rule,)


def obj(b: Build, field: Field, src: Source, table: Mapping[str, FieldBuilder]) -> Part:
    """`field`'s selection on an object of type `field.type_name` read from `src`."""
    parts: list[tuple[str, Part]] = []
    for sub in field.fields:
        if sub.name == "__typename":
            parts.append((sub.key, constant(field.type_name)))
        elif sub.name in table:
            builder = table[sub.name]
            if _rules_of(builder) != sub.rules:
                # The schema guards it otherwise than this table: never answer it here.
                raise NotCompilable(f"{field.type_name}.{sub.name} is guarded otherwise")
            parts.append((sub.key, builder(b, sub, src)))
        else:
            raise NotCompilable(f"{field.type_name}.{sub.name}")
    exprs = [expr for _, part in parts for expr in part.exprs]
    shapes = tuple((key, part.shape) for key, part in parts)
    return Part(exprs, lambda it: {key: shape(it) for key, shape in shapes})


def list_cell(
    b: Build, rows: sa.Select[Any], order: Order, item: Callable[[Source], Part]
) -> tuple[Any, Callable[[list[Any]], list[Any]]]:
    """Every row of `rows` (in `order`) shaped by `item`: the subquery answering them as one
    JSON array, and the shaping of that array."""
    if b.json.postgres:
        # The aggregate orders by the rows' own sort key (no window, no second sort key),
        # so the rows need no ORDER BY of their own.
        rows = rows.order_by(None).add_columns(*order.key_columns())
    sub = rows.subquery()
    part = item(sub.c)
    by = order.by_keys(sub.c) if b.json.postgres else []
    cell = sa.select(b.json.agg(b.json.array(part.exprs), by)).select_from(sub)
    return cell.scalar_subquery(), lambda rows: [part.shape(iter(row)) for row in rows]


def listed(b: Build, rows: sa.Select[Any], order: Order, item: Callable[[Source], Part]) -> Part:
    """A list as one cell: `list_cell` embedded in its parent's array."""
    cell, shape = list_cell(b, rows, order, item)
    return Part([b.json.nested(cell)], lambda it: shape(next(it)))


@dataclass(frozen=True)
class GuardedList:
    """A list only some viewers may read: the rows of `rows_of(parent ids)` where `rule`
    lets the viewer read the parent row keyed by `key`, else [] (the rule of the field's
    `visible_field(..., refused="an empty list")`)."""

    rule: KeyRule
    key: str
    rows_of: Callable[[AccessScope, Sequence[Any]], sa.Select[Any]]
    order: Order
    item: Callable[[Source], Part]

    def __call__(self, b: Build, _f: Field, src: Source) -> Part:
        rows = correlated(self.rows_of(b.scope, [src[self.key]]), src)
        cell, shape = list_cell(b, rows, self.order, self.item)
        clause = self.rule.clause(b.scope, src[self.key])
        guarded = sa.case((clause, cell), else_=b.json.empty_array())
        return Part([b.json.nested(guarded)], lambda it: shape(next(it)))


def correlated(rows: sa.Select[Any], src: Source) -> sa.Select[Any]:
    """`rows`, which reads columns of its parent's row `src`, as a correlated subquery: it
    reads that one parent row (SQLAlchemy would otherwise add the parent's table to the FROM
    of `rows`, since it ends up inside a derived table)."""
    parents = {
        c.table for c in src.values() if isinstance(getattr(c, "table", None), sa.FromClause)
    }
    return rows.correlate(*parents)
