"""Loaders for analyst assignments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import col, select

from app.models import AnalystAssignment
from loaders.base import Loader


class AssignmentByIdLoader(Loader[int, AnalystAssignment | None]):
    async def batch_load(self, keys: Sequence[int]) -> list[AnalystAssignment | None]:
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(AnalystAssignment).where(
                        col(AnalystAssignment.id).in_(keys),
                        self.scope.assignments_clause(
                            col(AnalystAssignment.analyst_id),
                            col(AnalystAssignment.group_id),
                            col(AnalystAssignment.expires_at),
                        ),
                    )
                )
            ).scalars()
            by_key = {assignment.id: assignment for assignment in rows}
        return [by_key.get(key) for key in keys]


class AssignmentsByAnalystIdLoader(Loader[int, list[AnalystAssignment]]):
    """An analyst's assignments: private to the analyst and admins (admins also see expired)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[AnalystAssignment]]:
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(AnalystAssignment)
                    .where(
                        col(AnalystAssignment.analyst_id).in_(keys),
                        self.scope.private_clause(col(AnalystAssignment.analyst_id)),
                        self.scope.assignments_clause(
                            col(AnalystAssignment.analyst_id),
                            col(AnalystAssignment.group_id),
                            col(AnalystAssignment.expires_at),
                        ),
                    )
                    .order_by(col(AnalystAssignment.assigned_at), col(AnalystAssignment.id))
                )
            ).scalars()
            by_key: dict[int, list[AnalystAssignment]] = defaultdict(list)
            for assignment in rows:
                by_key[assignment.analyst_id].append(assignment)
        return [by_key.get(key, []) for key in keys]
