"""Mutations on users and roles: `createUser`, `updateUser`, `setUserRoles`.

The rules live in `app.user_admin` (and who may do what in `permissions.policy`); this module
only decodes inputs, runs one transaction per call and shapes the payloads.
"""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app import account_links, user_admin
from app.errors import bad_input
from app.mailer import Mail, deliver
from app.models import Role, User
from permissions.policy import AccessScope
from resolvers.context import Info
from resolvers.relay import from_global_id
from resolvers.users import UserType


@strawberry.input
class CreateUserInput:
    first_name: str
    last_name: str
    email: str
    company: str | None = None
    password: str | None = strawberry.field(
        default=None,
        description=(
            "At least 12 characters and not a common or guessable password; without one the "
            "user cannot log in."
        ),
    )
    roles: list[Role] = strawberry.field(
        default_factory=lambda: [Role.STUDENT],
        description="Granting GROUP_ANALYST uses a seat of the plan.",
    )
    invite: bool = strawberry.field(
        default=False,
        description="Email the new user a link to choose its password (valid 7 days); give "
        "no password then.",
    )


@strawberry.type
class CreateUserPayload:
    user: UserType
    invitation_sent: bool = strawberry.field(
        description="Whether an invitation mail went out (false without `invite`, or when the "
        "mail server failed: then call resendInvitation)."
    )


@strawberry.input
class UpdateUserInput:
    user_id: strawberry.ID
    first_name: str | None = strawberry.field(default=None, description="Omit to keep.")
    last_name: str | None = strawberry.field(default=None, description="Omit to keep.")
    email: str | None = strawberry.field(default=None, description="Omit to keep.")
    company: str | None = strawberry.field(
        default=strawberry.UNSET, description="Omit to keep; null or empty to remove."
    )


@strawberry.type
class UpdateUserPayload:
    user: UserType


@strawberry.input
class SetUserRolesInput:
    user_id: strawberry.ID
    roles: list[Role] = strawberry.field(
        description="The complete set the user holds afterwards (the 'User roles' checkboxes)."
    )


@strawberry.type
class SetUserRolesPayload:
    user: UserType


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Create a user (admins). Email must be unused. With `invite: true` the "
        "user gets a mail with a link to choose its password."
    )
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserPayload:
        ctx = info.context
        if input.invite and input.password is not None:
            raise bad_input("password", "Give no password with invite: the user chooses it.")

        async def work(session: AsyncSession, scope: AccessScope) -> tuple[User, Mail | None]:
            user = await user_admin.create_user(
                session,
                scope,
                first_name=input.first_name,
                last_name=input.last_name,
                email=input.email,
                company=input.company,
                password=input.password,
                roles=input.roles,
            )
            if not input.invite:
                return user, None
            mail = await account_links.invite(
                session, ctx.settings, user, actor_id=scope.viewer_id, action="user.invite"
            )
            return user, mail

        user, mail = await ctx.write(work)
        sent = mail is not None and await deliver(ctx.settings, mail)
        return CreateUserPayload(user=UserType.from_model(user), invitation_sent=sent)

    @strawberry.mutation(description="Change a user's name, email or company (admins).")
    async def update_user(self, info: Info, input: UpdateUserInput) -> UpdateUserPayload:
        user_id = from_global_id(input.user_id, "User", "userId")
        company_given = input.company is not strawberry.UNSET
        company = input.company if company_given else None
        user = await info.context.write(
            lambda session, scope: user_admin.update_user(
                session,
                scope,
                user_id=user_id,
                first_name=input.first_name,
                last_name=input.last_name,
                email=input.email,
                company=company,
                clear_company=company_given and not (company or "").strip(),
            ),
        )
        return UpdateUserPayload(user=UserType.from_model(user))

    @strawberry.mutation(
        description="Set a user's roles to exactly the given set (admins; SITE_ADMIN: the owner)."
    )
    async def set_user_roles(self, info: Info, input: SetUserRolesInput) -> SetUserRolesPayload:
        user_id = from_global_id(input.user_id, "User", "userId")
        user = await info.context.write(
            lambda session, scope: user_admin.set_user_roles(
                session, scope, user_id=user_id, roles=input.roles
            ),
        )
        return SetUserRolesPayload(user=UserType.from_model(user))
