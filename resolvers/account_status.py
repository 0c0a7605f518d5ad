"""Account lifecycle mutations: `deactivateUser`, `reactivateUser`, `changePassword`.

The rules live in `app.account_status` and `app.passwords`; this module decodes inputs, runs
one transaction per call and shapes the payloads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from app import account_status, passwords
from app.models import User
from resolvers.context import Info
from resolvers.relay import from_global_id
from resolvers.users import UserType


@strawberry.input
class DeactivateUserInput:
    user_id: strawberry.ID


@strawberry.type
class DeactivateUserPayload:
    user: UserType


@strawberry.input
class ReactivateUserInput:
    user_id: strawberry.ID


@strawberry.type
class ReactivateUserPayload:
    user: UserType


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str = strawberry.field(
        description="At least 12 characters and not a common or guessable password."
    )


@strawberry.type
class ChangePasswordPayload:
    user: UserType
    revoked_token_count: int = strawberry.field(
        description="How many of your other tokens were revoked (this request's token stays)."
    )


async def _set_status(
    info: Info, user_id: strawberry.ID, change: Callable[..., Awaitable[User]]
) -> UserType:
    """Run `account_status.deactivate_user` or `reactivate_user` on the user `user_id` names."""
    pk = from_global_id(user_id, "User", "userId")
    user = await info.context.write(lambda session, scope: change(session, scope, user_id=pk))
    return UserType.from_model(user)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Deactivate an account (admins; a site admin's: the owner; never the "
        "owner's): it cannot sign in, its tokens stop at once and are revoked, its "
        "assignments grant nothing and its Group Analyst seat is free. Its data stays."
    )
    async def deactivate_user(
        self, info: Info, input: DeactivateUserInput
    ) -> DeactivateUserPayload:
        user = await _set_status(info, input.user_id, account_status.deactivate_user)
        return DeactivateUserPayload(user=user)

    @strawberry.mutation(
        description="Reactivate an account: it can sign in again (with a new token) and its "
        "assignments count again. A Group Analyst needs a free seat (SEAT_LIMIT_REACHED)."
    )
    async def reactivate_user(
        self, info: Info, input: ReactivateUserInput
    ) -> ReactivateUserPayload:
        user = await _set_status(info, input.user_id, account_status.reactivate_user)
        return ReactivateUserPayload(user=user)

    @strawberry.mutation(
        description="Change your password; your other tokens are revoked, this one stays. "
        "Wrong current passwords count towards the sign-in throttle."
    )
    async def change_password(
        self, info: Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        ctx = info.context
        viewer = ctx.get_viewer()
        password_hash = await passwords.check_change(
            ctx.db, ctx.settings, viewer, ctx.client, input.current_password, input.new_password
        )
        user, revoked = await ctx.write(
            lambda session, scope: passwords.set_password(
                session,
                user_id=viewer.id,
                password_hash=password_hash,
                actor_id=scope.viewer_id,
                action="user.password.change",
                keep_token_id=viewer.token_id,
            )
        )
        return ChangePasswordPayload(user=UserType.from_model(user), revoked_token_count=revoked)
