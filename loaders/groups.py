"""Loaders for groups."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from app.models import Group
from loaders.base import Loader


class GroupByIdLoader(Loader[int, Group | None]):
    async def batch_load(self, keys: Sequence[int]) -> list[Group | None]:
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(Group).where(
                        col(Group.id).in_(keys), self.scope.groups_clause(col(Group.id))
                    )
                )
            ).scalars()
            by_key = {group.id: group for group in rows}
        return [by_key.get(key) for key in keys]
