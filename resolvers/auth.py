"""Sign-in and API tokens: `login`, `logout`, `createApiToken`, `revokeApiToken`.

Invariants: a wrong password and an unknown email give the same error; a token's secret is
returned once, at creation; a viewer can only fetch (`node`) and revoke its own tokens
(`AccessScope.can_use_token_of`); anyone else's token answers exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry

from app import accounts, audit, throttle, validation
from app.auth import viewer_by_id
from app.errors import bad_input, not_found, unauthenticated
from app.models import ApiToken, utcnow
from resolvers.context import Context, Info, sign_in
from resolvers.relay import Node, from_global_id, to_global_id
from resolvers.users import UserType


@strawberry.type(name="ApiToken", description="A named bearer token of the viewer's.")
class ApiTokenType(Node):
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, token: ApiToken) -> ApiTokenType:
        assert token.id is not None
        return cls(
            id=to_global_id("ApiToken", token.id),
            name=token.name,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.type
class LoginPayload:
    token: str = strawberry.field(description="Send as 'Authorization: Bearer <token>'.")
    expires_at: datetime
    viewer: UserType


@strawberry.input
class CreateApiTokenInput:
    name: str
    expires_at: datetime | None = strawberry.field(
        default=None, description="Defaults to 90 days from now; at most the configured maximum."
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


async def load_api_token(ctx: Context, token_id: int) -> ApiTokenType | None:
    async with ctx.db.read() as session:
        token = await session.get(ApiToken, token_id)
    if token is None or not ctx.scope.can_use_token_of(token.user_id):
        return None
    return ApiTokenType.from_model(token)


@strawberry.type
class LogoutPayload:
    revoked: bool = strawberry.field(
        description="True when this call ended the token; false if it had ended already."
    )


async def revoke_token(ctx: Context, token_id: int, actor_id: int) -> tuple[ApiToken, bool] | None:
    """Revoke one of the viewer's tokens, audited when it changed (the bool); None if it is
    not the viewer's."""
    async with ctx.db.write() as session:
        token = await session.get(ApiToken, token_id)
        if token is None or not ctx.scope.can_use_token_of(token.user_id):
            return None
        changed = token.revoked_at is None
        if changed:
            token.revoked_at = utcnow()
            audit.record(
                session,
                actor_id=actor_id,
                action="token.revoke",
                target_type="ApiToken",
                target_id=token.id,
                details={"name": token.name},
            )
    return token, changed


DEFAULT_API_TOKEN_TTL = timedelta(days=90)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Exchange an email and password for a bearer token.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        ctx = info.context
        settings = ctx.settings
        # Claimed before the password is checked, so parallel guesses cannot outrun the count.
        await throttle.claim_attempt(
            ctx.db,
            input.email,
            utcnow(),
            settings.login_failure_window,
            settings.login_max_failures,
        )
        # Checked in a read session: no write transaction (on SQLite, the database's write
        # lock) is held while Argon2 works.
        async with ctx.db.read() as session:
            user = await accounts.authenticate(session, input.email, input.password)
        if user is None or user.id is None:
            raise unauthenticated("Invalid email or password.")
        async with ctx.db.write() as session:
            await throttle.clear(session, input.email)
            token, secret = await accounts.issue_token(
                session, user.id, "login", utcnow() + settings.login_token_ttl
            )
            audit.record(
                session,
                actor_id=user.id,
                action="auth.login",
                target_type="User",
                target_id=user.id,
            )
        viewer = await viewer_by_id(ctx.db, user.id)
        if viewer is None:
            raise unauthenticated("This account no longer exists.")
        await sign_in(ctx, viewer)
        return LoginPayload(
            token=secret, expires_at=token.expires_at, viewer=UserType.from_model(user)
        )

    @strawberry.mutation(description="Create a personal API token (for GraphiQL or scripts).")
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        ctx = info.context
        viewer = ctx.get_viewer()
        name = validation.text("name", input.name, validation.TOKEN_NAME_MAX)
        now = utcnow()
        expires_at = validation.aware("expiresAt", input.expires_at) or now + min(
            DEFAULT_API_TOKEN_TTL, ctx.settings.api_token_max_ttl
        )
        if expires_at <= now:
            raise bad_input("expiresAt", "'expiresAt' must be in the future.")
        if expires_at > now + ctx.settings.api_token_max_ttl:
            raise bad_input(
                "expiresAt",
                f"'expiresAt' may be at most {ctx.settings.api_token_max_ttl.days} days away.",
            )
        async with ctx.db.write() as session:
            token, secret = await accounts.issue_token(session, viewer.id, name, expires_at)
            audit.record(
                session,
                actor_id=viewer.id,
                action="token.create",
                target_type="ApiToken",
                target_id=token.id,
                details={"name": name, "expiresAt": expires_at.isoformat()},
            )
        return CreateApiTokenPayload(token=secret, api_token=ApiTokenType.from_model(token))

    @strawberry.mutation(description="Revoke one of your own tokens; it stops working at once.")
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload:
        ctx = info.context
        viewer = ctx.get_viewer()
        token_id = from_global_id(input.id, "ApiToken", "id")
        revoked = await revoke_token(ctx, token_id, viewer.id)
        if revoked is None:
            raise not_found("API token of yours", field="id")
        return RevokeApiTokenPayload(api_token=ApiTokenType.from_model(revoked[0]))

    @strawberry.mutation(
        description="Sign out: revoke the token this request was sent with; it stops working "
        "at once."
    )
    async def logout(self, info: Info) -> LogoutPayload:
        ctx = info.context
        viewer = ctx.get_viewer()
        if viewer.token_id is None:
            raise bad_input("Authorization", "Sign out needs the bearer token to end.")
        revoked = await revoke_token(ctx, viewer.token_id, viewer.id)
        return LogoutPayload(revoked=revoked is not None and revoked[1])
