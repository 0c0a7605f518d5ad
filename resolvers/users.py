"""The `User` type and the `viewer` query."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.models import Role, User
from permissions.fields import EmailVisible, PrivateToUser, visible_to
from resolvers.context import Info
from resolvers.node import Node, to_global_id

strawberry.enum(Role, description="What a user may do; a user may hold several.")


@strawberry.type(name="User", description="A person with an account on the site.")
class UserType(Node):
    first_name: str
    last_name: str
    owner_id: strawberry.Private[int]
    email_value: strawberry.Private[str]
    company_value: strawberry.Private[str | None]
    created_at_value: strawberry.Private[datetime]

    @classmethod
    def from_model(cls, user: User) -> UserType:
        assert user.id is not None
        return cls(
            id=to_global_id("User", user.id),
            first_name=user.first_name,
            last_name=user.last_name,
            owner_id=user.id,
            email_value=user.email,
            company_value=user.company,
            created_at_value=user.created_at,
        )

    @strawberry.field(extensions=[visible_to(EmailVisible())])
    def email(self) -> str | None:
        return self.email_value

    @strawberry.field(extensions=[visible_to(EmailVisible())])
    def company(self) -> str | None:
        return self.company_value

    @strawberry.field(extensions=[visible_to(PrivateToUser())])
    def created_at(self) -> datetime | None:
        return self.created_at_value

    @strawberry.field(extensions=[visible_to(PrivateToUser())])
    async def roles(self, info: Info) -> list[Role]:
        return await info.context.loaders.roles_by_user_id.load(self.owner_id)


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user, or null without a token.")
    async def viewer(self, info: Info) -> UserType | None:
        viewer = info.context.get_viewer(required=False)
        if viewer is None:
            return None
        user = await info.context.loaders.user_by_id.load(viewer.id)
        return UserType.from_model(user) if user else None
