"""`User.accessReview` (site admins): who can see a student now, what an analyst sees now.

The answers come from `app.access_review`, built on the access scope every request uses.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry

from app import access_review
from resolvers.context import Context, Info
from resolvers.groups import GroupType, load_group
from resolvers.relay import present
from resolvers.users import UserType, load_user


@strawberry.type(description="One analyst seeing the student through one group.")
class AnalystAccess:
    analyst_id: strawberry.Private[int]
    group_id: strawberry.Private[int]
    since: datetime = strawberry.field(
        description="Since when: the later of the membership and the assignment."
    )
    until: datetime | None = strawberry.field(description="The assignment's expiry; null: none.")

    # Only site admins get a review, and they may read every user and group.
    @strawberry.field
    async def analyst(self, info: Info) -> UserType:
        return present(await load_user(info.context, self.analyst_id), "user")

    @strawberry.field
    async def group(self, info: Info) -> GroupType:
        return present(await load_group(info.context, self.group_id), "group")


@strawberry.type(description="A group an analyst sees now, and how many students are in it.")
class GroupAccess:
    group_id: strawberry.Private[int]
    student_count: int

    @strawberry.field
    async def group(self, info: Info) -> GroupType:
        # Site admins only, as above.
        return present(await load_group(info.context, self.group_id), "group")


@strawberry.type(
    description="Who can see this user now through analyst assignments, and (for an analyst) "
    "what it can see now. Site admins see everyone, so they are not listed."
)
class AccessReview:
    seen_by: list[AnalystAccess] = strawberry.field(
        description="Every analyst who can see this user now, per group (empty for a user in "
        "no analysed group)."
    )
    groups: list[GroupAccess] = strawberry.field(
        description="The groups this user sees now as a Group Analyst (empty otherwise)."
    )
    student_count: int = strawberry.field(
        description="How many distinct students this user sees now as a Group Analyst."
    )


async def review_of(ctx: Context, user_id: int) -> AccessReview | None:
    if not ctx.scope.is_admin:
        return None
    seen_by, sees = await asyncio.gather(
        access_review.who_sees(ctx.db, user_id, ctx.scope.now),
        access_review.what_analyst_sees(ctx.db, user_id, ctx.scope.now),
    )
    return AccessReview(
        seen_by=[
            AnalystAccess(
                analyst_id=s.analyst_id, group_id=s.group_id, since=s.since, until=s.until
            )
            for s in seen_by
        ],
        groups=[
            GroupAccess(group_id=g.group_id, student_count=g.student_count) for g in sees.groups
        ],
        student_count=sees.student_count,
    )
