"""The `User` type, the `viewer` query and the `users` list.

Invariants: a user is only ever built from a row the rules allowed (loaders and `users` filter
with `rules.USER` in SQL; a report row's student is a member of a group the viewer may see,
which `rules.USER` allows); its protected fields ask their rule (`permissions.fields`); no
field depends on the path a user was reached by.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import sqlalchemy as sa
import strawberry
from sqlmodel import col, select

from app.listing import USER_COLUMNS, user_from_row, user_order, user_search_clause
from app.models import AnalystAssignment, Role, User, UserRole
from app.pagination import DEFAULT_PAGE_SIZE
from permissions import rules
from permissions.fields import visible_field
from permissions.policy import AccessScope, in_force_clause
from resolvers.api_tokens import ApiTokenType, api_tokens_page
from resolvers.context import Context, Info
from resolvers.pagination import Connection, First, list_page
from resolvers.relay import Node, from_global_id, to_global_id

if TYPE_CHECKING:
    from resolvers.access_review import AccessReview
    from resolvers.assignments import GroupAnalystAssignmentType
    from resolvers.groups import GroupType
    from resolvers.progress import ProgressType

strawberry.enum(Role, description="What a user may do; a user may hold several.")


def _user_id(user: UserType) -> int:
    return user.user_id


@strawberry.type(name="User", description="A person with an account on the site.")
class UserType(Node):
    first_name: str
    last_name: str
    user_id: strawberry.Private[int]
    email_value: strawberry.Private[str]
    company_value: strawberry.Private[str | None]
    created_at_value: strawberry.Private[datetime]
    deactivated_at_value: strawberry.Private[datetime | None]

    @classmethod
    def from_model(cls, user: User) -> UserType:
        assert user.id is not None
        return cls(
            id=to_global_id("User", user.id),
            first_name=user.first_name,
            last_name=user.last_name,
            user_id=user.id,
            email_value=user.email,
            company_value=user.company,
            created_at_value=user.created_at,
            deactivated_at_value=user.deactivated_at,
        )

    @visible_field(rules.CONTACT, _user_id)
    def email(self) -> str | None:
        return self.email_value

    @visible_field(rules.CONTACT, _user_id, "Optional: null when not given.")
    def company(self) -> str | None:
        return self.company_value

    @visible_field(rules.PRIVATE, _user_id, "When the account was created.")
    def created_at(self) -> datetime | None:
        return self.created_at_value

    @visible_field(
        rules.PRIVATE,
        _user_id,
        "When the account was deactivated; null while it is active. A deactivated account "
        "cannot sign in, its tokens are refused and its assignments grant nothing.",
    )
    def deactivated_at(self) -> datetime | None:
        return self.deactivated_at_value

    @visible_field(rules.PRIVATE, _user_id, "What the user may do.", refused="an empty list")
    async def roles(self, info: Info) -> list[Role]:
        return await info.context.loaders.roles_by_user_id.load(self.user_id)

    @strawberry.field(
        description="The user's groups that you may see (an analyst: only the groups it analyses)."
    )
    async def groups(
        self, info: Info
    ) -> list[Annotated[GroupType, strawberry.lazy("resolvers.groups")]]:
        from resolvers.groups import GroupType

        groups = await info.context.loaders.groups_by_member_id.load(self.user_id)
        return [GroupType.from_model(group) for group in groups]

    @strawberry.field(
        description="This user's analyst assignments (admins and the user itself), expired "
        "ones too: see `status`. An expired assignment's group is null for the analyst."
    )
    async def analyst_assignments(
        self, info: Info
    ) -> list[Annotated[GroupAnalystAssignmentType, strawberry.lazy("resolvers.assignments")]]:
        from resolvers.assignments import GroupAnalystAssignmentType

        rows = await info.context.loaders.assignments_by_analyst_id.load(self.user_id)
        return [GroupAnalystAssignmentType.from_model(row) for row in rows]

    @visible_field(
        rules.TOKEN,
        _user_id,
        "Your own API tokens, newest first, revoked and expired ones too. "
        "`active`: true for usable tokens only, false for "
        "revoked or expired ones only.",
    )
    async def api_tokens(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        active: bool | None = None,
    ) -> Connection[ApiTokenType] | None:
        return await api_tokens_page(info.context, self.user_id, first, after, active)

    @strawberry.field(
        description="Site admins: who can see this user now through analyst assignments "
        "(through which groups, since, until) and, for an analyst, the groups and number of "
        "students it sees now. Null for anyone else."
    )
    async def access_review(
        self, info: Info
    ) -> Annotated[AccessReview, strawberry.lazy("resolvers.access_review")] | None:
        from resolvers.access_review import review_of

        return await review_of(info.context, self.user_id)

    @strawberry.field(
        description="The user's enrollments, in course order, if you may report on this user "
        "(`[]` otherwise)."
    )
    async def progress(
        self, info: Info
    ) -> list[Annotated[ProgressType, strawberry.lazy("resolvers.progress")]]:
        from resolvers.progress import ProgressType

        rows = await info.context.loaders.progress_by_user_id.load(self.user_id)
        return [ProgressType.from_row(row) for row in rows]


async def load_user(ctx: Context, user_id: int | None) -> UserType | None:
    """The user through its scoped loader; null when absent, out of scope, or no id."""
    if user_id is None:
        return None
    user = await ctx.loaders.user_by_id.load(user_id)
    return UserType.from_model(user) if user else None


@strawberry.input(description="Every given condition must hold.")
class UserFilter:
    role: Role | None = strawberry.field(
        default=None, description="Users holding this role (whose roles you may see)."
    )
    group_analyst_for: strawberry.ID | None = strawberry.field(
        default=None, description="The analysts (unexpired) of this group."
    )
    search: str | None = strawberry.field(
        default=None, description="Part of a first name, last name or (where visible) email."
    )


def _visible_user(scope: AccessScope, row: Any) -> UserType:
    """A user of a row the `USER` clause let through (the scope learns what that tells)."""
    scope.learn_visible_users((row.id,))
    return UserType.from_model(user_from_row(row))


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user, or null without a token.")
    async def viewer(self, info: Info) -> UserType | None:
        viewer = info.context.get_viewer(required=False)
        return await load_user(info.context, viewer.id if viewer else None)

    @strawberry.field(description="The users you may see, by last name, first name, email.")
    async def users(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: UserFilter | None = None,
    ) -> Connection[UserType]:
        scope = info.context.scope
        where = [rules.USER.clause(scope, col(User.id))]
        if filter is not None:
            where.append(user_search_clause(scope, filter.search))
            if filter.role is not None:
                where += [
                    col(User.id).in_(
                        select(UserRole.user_id).where(col(UserRole.role) == filter.role.value)
                    ),
                    rules.PRIVATE.clause(scope, col(User.id)),
                ]
            if filter.group_analyst_for is not None:
                group_id = from_global_id(
                    filter.group_analyst_for, "Group", "filter.groupAnalystFor"
                )
                where.append(
                    col(User.id).in_(
                        select(AnalystAssignment.analyst_id).where(
                            col(AnalystAssignment.group_id) == group_id,
                            in_force_clause(scope.now),
                            rules.GROUP.clause(scope, col(AnalystAssignment.group_id)),
                        )
                    )
                )
        stmt = sa.select(*USER_COLUMNS).where(*where)
        return await list_page(
            info.context,
            stmt,
            user_order(scope),
            first,
            after,
            lambda row: _visible_user(scope, row),
        )
