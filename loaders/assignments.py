"""Loaders for analyst assignments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement
from sqlmodel import col, select

from app.listing import ASSIGNMENT_ORDER
from app.models import AnalystAssignment
from loaders.base import Loader, RowByIdLoader, all_per_key
from permissions import rules


class AssignmentByIdLoader(RowByIdLoader[AnalystAssignment]):
    model = AnalystAssignment

    def visible(self) -> ColumnElement[bool]:
        return rules.ASSIGNMENT.clause(self.scope)


class AssignmentsByAnalystIdLoader(Loader[int, list[AnalystAssignment]]):
    """An analyst's assignments that `rules.ASSIGNMENT` lets the viewer read: admins and the
    analyst itself, expired ones too (so the list is private)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[AnalystAssignment]]:
        rows = await self.fetch(
            select(AnalystAssignment)
            .where(
                col(AnalystAssignment.analyst_id).in_(keys),
                rules.ASSIGNMENT.clause(self.scope),
            )
            .order_by(*ASSIGNMENT_ORDER.by())
        )
        return all_per_key(keys, ((a.analyst_id, a) for (a,) in rows))
