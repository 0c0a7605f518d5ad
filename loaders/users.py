"""Loaders for users: by id, their roles, a group's members (paged) and its analysts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from app.keyset import CursorValue, after_clause
from app.models import AnalystAssignment, GroupMembership, Role, User, UserRole
from app.report import user_search_clause
from loaders.base import Loader, all_per_key, one_per_key
from loaders.paging import OWNER, CountLoader, PageLoader, first_rows_per_owner
from permissions.policy import AccessScope, active_assignment


class UserByIdLoader(Loader[int, User | None]):
    async def batch_load(self, keys: Sequence[int]) -> list[User | None]:
        rows = await self.fetch(
            select(User).where(col(User.id).in_(keys), self.scope.users_clause(col(User.id)))
        )
        return one_per_key(keys, ((user.id, user) for (user,) in rows))


class RolesByUserIdLoader(Loader[int, list[Role]]):
    """Roles of users the caller already knows it may see (the field checks privacy)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[Role]]:
        rows = await self.fetch(
            select(UserRole.user_id, UserRole.role)
            .where(col(UserRole.user_id).in_(keys))
            .order_by(col(UserRole.user_id), col(UserRole.role))
        )
        return all_per_key(keys, ((user_id, Role(role)) for user_id, role in rows))


def user_order(scope: AccessScope) -> tuple[Any, ...]:
    """The order of every list of people: last name, first name, email, then id (total).

    The email only where the viewer may read it ('' otherwise): a cursor carries its row's
    sort key, and a list may hold users whose email the viewer may not read (a co-analyst),
    so their email in the key would leak it, and a forged cursor would be an oracle for it.
    """
    return (
        col(User.last_name),
        col(User.first_name),
        scope.readable_email_key(col(User.id), col(User.email_key)),
        col(User.id),
    )


def user_columns(scope: AccessScope) -> tuple[Any, ...]:
    """`USER_COLUMNS` and the sort key's email part (`user_key` reads it)."""
    return (*USER_COLUMNS, user_order(scope)[2].label("email_sort"))


# What a listing reads of a user: never the password hash.
USER_COLUMNS: tuple[Any, ...] = (
    col(User.id),
    col(User.first_name),
    col(User.last_name),
    col(User.email),
    col(User.email_key),
    col(User.company),
    col(User.created_at),
)


def user_from_row(row: Any) -> User:
    m = row._mapping
    return User(**{c.key: m[c.key] for c in USER_COLUMNS})


def user_key(row: Any) -> list[CursorValue]:
    m = row._mapping
    return [m["last_name"], m["first_name"], m["email_sort"], m["id"]]


@dataclass(frozen=True)
class MemberArgs:
    first: int
    after: str | None
    search: str | None


def _members(scope: AccessScope, owners: list[int], search: str | None) -> sa.Select[Any]:
    return (
        sa.select(col(GroupMembership.group_id).label(OWNER))
        .select_from(GroupMembership)
        .join(User, col(User.id) == col(GroupMembership.user_id))
        .where(
            col(GroupMembership.group_id).in_(owners),
            scope.groups_clause(col(GroupMembership.group_id)),
            scope.users_clause(col(User.id)),
            user_search_clause(scope, search),
        )
    )


class MembersByGroupIdLoader(PageLoader[MemberArgs, User]):
    """A page of each group's members, in `user_order`."""

    def statement(self, owners: list[int], args: MemberArgs) -> sa.Select[Any]:
        order = user_order(self.scope)
        stmt = _members(self.scope, owners, args.search).add_columns(*user_columns(self.scope))
        stmt = stmt.where(after_clause(order, args.after))
        return first_rows_per_owner(stmt, col(GroupMembership.group_id), order, args.first + 1)

    def item(self, row: Any) -> tuple[User, list[CursorValue]]:
        return user_from_row(row), user_key(row)


class MemberCountByGroupIdLoader(CountLoader[str | None]):
    """Key: (group id, search)."""

    def statement(self, owners: list[int], args: str | None) -> sa.Select[Any]:
        return (
            _members(self.scope, owners, args)
            .add_columns(sa.func.count().label("n"))
            .group_by(col(GroupMembership.group_id))
        )


class AnalystsByGroupIdLoader(Loader[int, list[User]]):
    """The analysts whose assignment to the group is in force (expired ones are not analysts)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[User]]:
        rows = await self.fetch(
            select(User, AnalystAssignment.group_id)
            .join(AnalystAssignment, col(AnalystAssignment.analyst_id) == col(User.id))
            .where(
                col(AnalystAssignment.group_id).in_(keys),
                active_assignment(self.scope.now),
                self.scope.groups_clause(col(AnalystAssignment.group_id)),
                self.scope.users_clause(col(User.id)),
            )
            .order_by(*user_order(self.scope))
        )
        return all_per_key(keys, ((group_id, user) for user, group_id in rows))
