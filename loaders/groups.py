"""Loaders for groups: by id, and the groups a user is a member of."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from app.listing import GROUP_ORDER
from app.models import Group, GroupMembership
from loaders.base import Loader, all_per_key, one_per_key
from permissions import rules


class GroupByIdLoader(Loader[int, Group | None]):
    async def batch_load(self, keys: Sequence[int]) -> list[Group | None]:
        rows = await self.fetch(
            select(Group).where(
                col(Group.id).in_(keys), rules.GROUP.clause(self.scope, col(Group.id))
            )
        )
        return one_per_key(keys, ((g.id, g) for (g,) in rows))


class GroupsByMemberIdLoader(Loader[int, list[Group]]):
    """A user's groups that the viewer may see (an analyst: only the groups it analyses)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[Group]]:
        rows = await self.fetch(
            select(Group, GroupMembership.user_id)
            .join(GroupMembership, col(GroupMembership.group_id) == col(Group.id))
            .where(
                col(GroupMembership.user_id).in_(keys),
                rules.GROUP.clause(self.scope, col(Group.id)),
            )
            .order_by(*GROUP_ORDER.by())
        )
        return all_per_key(keys, ((user_id, group) for group, user_id in rows))
