"""Loaders for analyst assignments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlmodel import col, select

from app.listing import ASSIGNMENT_ORDER
from app.models import AnalystAssignment
from loaders.base import Loader, RowByIdLoader, all_per_key
from permissions import rules
from permissions.policy import AccessScope


class AssignmentByIdLoader(RowByIdLoader[AnalystAssignment]):
    model = AnalystAssignment

    def visible(self) -> ColumnElement[bool]:
        return rules.ASSIGNMENT.clause(self.scope)


def assignments_of_analysts(scope: AccessScope, analyst_ids: Sequence[Any]) -> sa.Select[Any]:
    """The assignments of `analyst_ids` (ids, or a column the compiled read path correlates)
    that `rules.ASSIGNMENT` lets the viewer read, in assignment order."""
    return (
        select(AnalystAssignment)
        .where(
            col(AnalystAssignment.analyst_id).in_(list(analyst_ids)),
            rules.ASSIGNMENT.clause(scope),
        )
        .order_by(*ASSIGNMENT_ORDER.by())
    )


class AssignmentsByAnalystIdLoader(Loader[int, list[AnalystAssignment]]):
    """An analyst's assignments that `rules.ASSIGNMENT` lets the viewer read: admins and the
    analyst itself, expired ones too (so the list is private)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[AnalystAssignment]]:
        rows = await self.fetch(assignments_of_analysts(self.scope, keys))
        return all_per_key(keys, ((a.analyst_id, a) for (a,) in rows))
