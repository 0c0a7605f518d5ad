"""Loaders for groups: by id, and the groups a user is a member of."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement
from sqlmodel import col, select

from app.listing import GROUP_ORDER
from app.models import Group, GroupMembership
from loaders.base import Loader, RowByIdLoader, all_per_key
from permissions import rules


class GroupByIdLoader(RowByIdLoader[Group]):
    model = Group

    def visible(self) -> ColumnElement[bool]:
        return rules.GROUP.clause(self.scope, col(Group.id))


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
