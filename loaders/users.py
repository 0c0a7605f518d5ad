"""Loaders for users: by id, their roles, a group's members (paged) and its analysts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlmodel import col, select

from app.listing import USER_COLUMNS, user_from_row, user_order, user_search_clause
from app.models import AnalystAssignment, GroupMembership, Role, User, UserRole
from app.pagination import PARENT, Order
from loaders.base import CountLoader, Loader, PageLoader, RowByIdLoader, all_per_key
from permissions import rules
from permissions.policy import AccessScope, in_force_clause


class UserByIdLoader(RowByIdLoader[User]):
    model = User

    def visible(self) -> ColumnElement[bool]:
        return rules.USER.clause(self.scope, col(User.id))

    def found(self, ids: list[int]) -> None:
        self.scope.learn_visible_users(ids)


class RolesByUserIdLoader(Loader[int, list[Role]]):
    """A user's roles, where `rules.PRIVATE` lets the viewer read them (the field checks the
    same rule: this keeps the loader from answering more than the rule)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[Role]]:
        rows = await self.fetch(
            select(UserRole.user_id, UserRole.role)
            .where(
                col(UserRole.user_id).in_(keys),
                rules.PRIVATE.clause(self.scope, col(UserRole.user_id)),
            )
            .order_by(col(UserRole.user_id), col(UserRole.role))
        )
        return all_per_key(keys, ((user_id, Role(role)) for user_id, role in rows))


def member_rows(scope: AccessScope, parents: list[Any], search: str | None) -> sa.Select[Any]:
    """The members of `parents` (ids, or a column the compiled read path correlates) the
    viewer may see, matching `search`, selecting the group id labelled `_parent`."""
    return (
        sa.select(col(GroupMembership.group_id).label(PARENT))
        .select_from(GroupMembership)
        .join(User, col(User.id) == col(GroupMembership.user_id))
        .where(
            col(GroupMembership.group_id).in_(parents),
            rules.GROUP.clause(scope, col(GroupMembership.group_id)),
            rules.USER.clause(scope, col(User.id)),
            user_search_clause(scope, search),
        )
    )


class MembersByGroupIdLoader(PageLoader[str | None, User]):
    """A page of each group's members (filter: the search), in `user_order`."""

    def parent(self) -> Any:
        return col(GroupMembership.group_id)

    def rows(self, parents: list[int], flt: str | None) -> sa.Select[Any]:
        return member_rows(self.scope, parents, flt).add_columns(*USER_COLUMNS)

    def order(self) -> Order:
        return user_order(self.scope)

    def item(self, row: sa.Row[Any]) -> User:
        self.scope.learn_reached_members((row.id,))
        return user_from_row(row)


class MemberCountByGroupIdLoader(CountLoader[str | None]):
    """Key: (group id, search)."""

    def parent(self) -> Any:
        return col(GroupMembership.group_id)

    def rows(self, parents: list[int], flt: str | None) -> sa.Select[Any]:
        return member_rows(self.scope, parents, flt)


class AnalystsByGroupIdLoader(Loader[int, list[User]]):
    """The analysts whose assignment to the group is in force (expired ones are not analysts)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[User]]:
        rows = await self.fetch(
            select(User, AnalystAssignment.group_id)
            .join(AnalystAssignment, col(AnalystAssignment.analyst_id) == col(User.id))
            .where(
                col(AnalystAssignment.group_id).in_(keys),
                in_force_clause(self.scope.now),
                rules.GROUP.clause(self.scope, col(AnalystAssignment.group_id)),
                rules.USER.clause(self.scope, col(User.id)),
            )
            .order_by(*user_order(self.scope).by())
        )
        return all_per_key(keys, ((group_id, user) for user, group_id in rows))
