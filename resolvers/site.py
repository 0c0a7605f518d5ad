"""`site`: the site's name and plan, and (admins only) its Group Analyst seats."""

from __future__ import annotations

import sqlalchemy as sa
import strawberry
from sqlmodel import col, select

from app.models import Plan, Role, Site, UserRole
from resolvers.context import Info


@strawberry.type(description="Group Analyst seats: holders of the GROUP_ANALYST role.")
class GroupAnalystSeats:
    used: int
    limit: int | None = strawberry.field(description="Null: unlimited.")


@strawberry.type(name="Site", description="The course site this API serves.")
class SiteType:
    name: str
    plan: str = strawberry.field(
        description="BASIC, PRO, PRO_GROWTH, PREMIER or PLUS; it decides the analyst seats."
    )
    seat_limit: strawberry.Private[int | None]

    @strawberry.field(description="Site admins only; null for everyone else.")
    async def group_analyst_seats(self, info: Info) -> GroupAnalystSeats | None:
        ctx = info.context
        if not ctx.scope.can_see_seats():
            return None
        async with ctx.db.read() as session:
            used = (
                await session.execute(
                    select(sa.func.count()).where(col(UserRole.role) == Role.GROUP_ANALYST.value)
                )
            ).scalar_one()
        return GroupAnalystSeats(used=int(used), limit=self.seat_limit)


@strawberry.type
class Query:
    @strawberry.field(description="The site; null without a token.")
    async def site(self, info: Info) -> SiteType | None:
        ctx = info.context
        if not ctx.scope.can_see_site():
            return None
        async with ctx.db.read() as session:
            row = (
                await session.execute(
                    select(Site.name, Site.plan_code, Plan.group_analyst_seats)
                    .join(Plan, col(Plan.code) == col(Site.plan_code))
                    .order_by(col(Site.id))
                    .limit(1)
                )
            ).one_or_none()
        if row is None:
            return None
        return SiteType(name=row.name, plan=row.plan_code, seat_limit=row.group_analyst_seats)
