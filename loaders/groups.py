"""Loaders for groups: by id, and the groups a user is a member of."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import col, select

from app.models import Group, GroupMembership
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


class GroupsByMemberIdLoader(Loader[int, list[Group]]):
    """A user's groups that the viewer may see (an analyst: only the groups it analyses)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[Group]]:
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(Group, GroupMembership.user_id)
                    .join(GroupMembership, col(GroupMembership.group_id) == col(Group.id))
                    .where(
                        col(GroupMembership.user_id).in_(keys),
                        self.scope.groups_clause(col(Group.id)),
                    )
                    .order_by(col(Group.name_key), col(Group.id))
                )
            ).all()
        by_key: dict[int, list[Group]] = defaultdict(list)
        for group, user_id in rows:
            by_key[user_id].append(group)
        return [by_key.get(key, []) for key in keys]
