"""Loaders for users and their roles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import col, select

from app.models import Role, User, UserRole
from loaders.base import Loader


class UserByIdLoader(Loader[int, User | None]):
    async def batch_load(self, keys: Sequence[int]) -> list[User | None]:
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(User).where(
                        col(User.id).in_(keys), self.scope.users_clause(col(User.id))
                    )
                )
            ).scalars()
            by_key = {user.id: user for user in rows}
        return [by_key.get(key) for key in keys]


class RolesByUserIdLoader(Loader[int, list[Role]]):
    """Roles of users the caller already knows it may see (the field checks privacy)."""

    async def batch_load(self, keys: Sequence[int]) -> list[list[Role]]:
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(UserRole.user_id, UserRole.role)
                    .where(col(UserRole.user_id).in_(keys))
                    .order_by(col(UserRole.user_id), col(UserRole.role))
                )
            ).all()
        by_key: dict[int, list[Role]] = defaultdict(list)
        for row in rows:
            by_key[row.user_id].append(Role(row.role))
        return [by_key.get(key, []) for key in keys]
