"""Sign-in and API tokens: `login`, `logout`, `createApiToken`, `revokeApiToken`,
`revokeUserTokens`, and the viewer's own token list (`User.apiTokens`).

The rules live in `app.tokens` (the one token service, shared with the CLI); this module
decodes inputs and shapes payloads. Invariants: a wrong password and an unknown email give the
same error; a token's secret is returned once, at creation; a viewer lists, fetches (`node`)
and revokes only its own tokens (`permissions.rules.TOKEN`): anyone else's token answers
exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import accounts, audit, throttle, tokens
from app.auth import viewer_by_id
from app.errors import unauthenticated
from app.models import utcnow
from resolvers.api_tokens import ApiTokenType
from resolvers.context import Context, Info, sign_in
from resolvers.relay import from_global_id
from resolvers.users import UserType


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.type
class LoginPayload:
    token: str = strawberry.field(description="Send as 'Authorization: Bearer <token>'.")
    expires_at: datetime
    api_token: ApiTokenType = strawberry.field(
        description="The token's record: its id revokes it (`revokeApiToken`, or `logout`)."
    )
    viewer: UserType


@strawberry.input
class CreateApiTokenInput:
    name: str
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="Defaults to GROUPANALYST_API_TOKEN_DEFAULT_DAYS (90) days from now, like "
        "`groupanalyst create-token`; at most GROUPANALYST_API_TOKEN_MAX_DAYS (365) away.",
    )


@strawberry.type
class CreateApiTokenPayload:
    token: str = strawberry.field(description="Shown once; store it now.")
    api_token: ApiTokenType


@strawberry.input
class RevokeApiTokenInput:
    id: strawberry.ID


@strawberry.type
class RevokeApiTokenPayload:
    api_token: ApiTokenType


@strawberry.type
class LogoutPayload:
    api_token: ApiTokenType = strawberry.field(description="The token just revoked.")


@strawberry.input
class RevokeUserTokensInput:
    user_id: strawberry.ID


@strawberry.type
class RevokeUserTokensPayload:
    user: UserType
    revoked_count: int = strawberry.field(description="How many usable tokens were ended.")


async def _login(ctx: Context, input: LoginInput) -> tuple[tokens.IssuedToken, UserType]:
    settings = ctx.settings
    # Claimed before the password is checked, so parallel guesses cannot outrun the count.
    await throttle.claim_attempt(
        ctx.db, input.email, ctx.client, utcnow(), throttle.Limits.of(settings)
    )
    # Checked in a read session: no write transaction (on SQLite, the database's write
    # lock) is held while Argon2 works.
    async with ctx.db.read() as session:
        user = await accounts.authenticate(session, input.email, input.password)
    if user is None or user.id is None:
        raise unauthenticated("Invalid email or password.")
    if user.deactivated_at is not None:
        # Said only after the right password: it tells a prober nothing.
        raise unauthenticated("This account is deactivated; ask a site admin to reactivate it.")
    async with ctx.db.write() as session:
        await throttle.clear(session, input.email, ctx.client)
        issued = await tokens.issue(
            session, user_id=user.id, name="login", expires_at=utcnow() + settings.login_token_ttl
        )
        assert issued.token.id is not None
        audit.record(
            session,
            actor_id=user.id,
            action="auth.login",
            target_type="User",
            target_id=user.id,
            details={"tokenId": audit.ref("ApiToken", issued.token.id)},
        )
    viewer = await viewer_by_id(ctx.db, user.id)
    if viewer is None:
        raise unauthenticated("This account no longer exists.")
    await sign_in(ctx, viewer, issued.token)
    return issued, UserType.from_model(user)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Exchange an email and password for a bearer token.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        issued, user = await _login(info.context, input)
        return LoginPayload(
            token=issued.secret,
            expires_at=issued.token.expires_at,
            api_token=ApiTokenType.from_model(issued.token),
            viewer=user,
        )

    @strawberry.mutation(
        description="Revoke the token this request was sent with; it stops working at once."
    )
    async def logout(self, info: Info) -> LogoutPayload:
        ctx = info.context
        token_id = ctx.get_viewer().token_id
        if token_id is None:
            raise unauthenticated("Send the token to end as 'Authorization: Bearer <token>'.")
        token = await ctx.write(
            lambda session, scope: tokens.revoke(session, scope, token_id, action="auth.logout")
        )
        return LogoutPayload(api_token=ApiTokenType.from_model(token))

    @strawberry.mutation(description="Create a personal API token (for GraphiQL or scripts).")
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        ctx = info.context
        viewer = ctx.get_viewer()
        expires_at = tokens.check_expiry(ctx.settings, "expiresAt", input.expires_at, utcnow())
        issued = await ctx.write(
            lambda session, scope: tokens.create(
                session,
                user_id=viewer.id,
                actor_id=scope.viewer_id,
                name=input.name,
                expires_at=expires_at,
            )
        )
        return CreateApiTokenPayload(
            token=issued.secret, api_token=ApiTokenType.from_model(issued.token)
        )

    @strawberry.mutation(description="Revoke one of your own tokens; it stops working at once.")
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload:
        token_id = from_global_id(input.id, "ApiToken", "id")
        token = await info.context.write(
            lambda session, scope: tokens.revoke(session, scope, token_id)
        )
        return RevokeApiTokenPayload(api_token=ApiTokenType.from_model(token))

    @strawberry.mutation(
        description="End every token of a user at once (admins; the owner's: the owner). "
        "The user can sign in again with its password."
    )
    async def revoke_user_tokens(
        self, info: Info, input: RevokeUserTokensInput
    ) -> RevokeUserTokensPayload:
        ctx = info.context
        user_id = from_global_id(input.user_id, "User", "userId")
        revoked = await ctx.write(
            lambda session, scope: tokens.revoke_user_tokens(session, scope, user_id)
        )
        user = await ctx.loaders.user_by_id.load(user_id)
        assert user is not None  # admins see every user
        return RevokeUserTokensPayload(user=UserType.from_model(user), revoked_count=revoked)
