"""JSON built in SQL, one spelling per database: SQLite's `json_array`/`json_group_array`,
PostgreSQL's `json_build_array`/`json_agg` (`json`, not `jsonb`: `jsonb` would reorder).

Invariants: every value is a positional array (the response's keys and their order are made
in Python, `compiled.parts`), a list aggregate answers `[]` for no rows (never null), and a
list keeps its rows in the list's order (PostgreSQL: `ORDER BY` inside the aggregate; SQLite
before 3.44 has none, and aggregates a derived table's rows in that table's `ORDER BY` order,
which its `LIMIT` keeps from being flattened away).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSON, aggregate_order_by


class JsonSql:
    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"

    def array(self, values: Sequence[Any]) -> Any:
        """One row as a JSON array of `values`."""
        if self.postgres:
            return sa.func.json_build_array(*values, type_=JSON)
        return sa.func.json_array(*values)

    def nested(self, value: Any) -> Any:
        """A JSON value made by a subquery, embedded as JSON (SQLite would embed the text)."""
        return value if self.postgres else sa.func.json(value)

    def agg(self, value: Any, order_by: Sequence[Any]) -> Any:
        """Every row's `value` as one JSON array, in `order_by` order ([] for no rows)."""
        if self.postgres:
            ordered = sa.func.json_agg(aggregate_order_by(value, *order_by), type_=JSON)
            return sa.func.coalesce(ordered, sa.cast(sa.literal("[]"), JSON))
        return sa.func.json_group_array(value)
