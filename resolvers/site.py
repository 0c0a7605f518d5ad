"""`site`: the site's name and plan, and (admins only) its Group Analyst seats."""

from __future__ import annotations

import strawberry
from sqlmodel import col, select

from app import seats
from app.models import PlanCode, Site
from permissions import rules
from permissions.fields import rule_description
from resolvers.context import Info

strawberry.enum(PlanCode, name="Plan")


@strawberry.type(description="Group Analyst seats: holders of the GROUP_ANALYST role.")
class GroupAnalystSeats:
    used: int
    limit: int | None = strawberry.field(description="Null: unlimited.")


@strawberry.type(name="Site", description="The course site this API serves.")
class SiteType:
    name: str
    plan: PlanCode = strawberry.field(description="The plan; it decides the analyst seats.")
    model: strawberry.Private[Site]

    @strawberry.field(description=rule_description(rules.SEATS))
    async def group_analyst_seats(self, info: Info) -> GroupAnalystSeats | None:
        ctx = info.context
        if not rules.SEATS.allows(ctx.scope):
            return None
        # The same count that `SEAT_LIMIT_REACHED` enforces.
        async with ctx.db.read() as session:
            usage = await seats.usage(session, self.model)
        return GroupAnalystSeats(used=usage.used, limit=usage.limit)


@strawberry.type
class Query:
    @strawberry.field(description=rule_description(rules.SITE, "The site."))
    async def site(self, info: Info) -> SiteType | None:
        ctx = info.context
        if not rules.SITE.allows(ctx.scope):
            return None
        async with ctx.db.read() as session:
            site = (
                await session.execute(select(Site).order_by(col(Site.id)).limit(1))
            ).scalar_one_or_none()
        if site is None:
            return None
        return SiteType(name=site.name, plan=PlanCode(site.plan_code), model=site)
