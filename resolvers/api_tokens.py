"""The `ApiToken` type and the viewer's token list (`User.apiTokens`).

Invariant: a token is read only by its own user (`app.tokens.list_clause`,
`permissions.rules.TOKEN`); anyone else's answers exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import strawberry

from app import tokens
from app.listing import TOKEN_ORDER
from app.models import ApiToken
from resolvers.context import Context
from resolvers.pagination import Connection, list_page
from resolvers.relay import Node, to_global_id


@strawberry.type(name="ApiToken", description="A named bearer token of the viewer's.")
class ApiTokenType(Node):
    name: str = strawberry.field(description="'login' for tokens from `login`.")
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="When it last signed a request in, to the minute; null: never."
    )
    expires_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, token: ApiToken) -> ApiTokenType:
        assert token.id is not None
        return cls(
            id=to_global_id("ApiToken", token.id),
            name=token.name,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


async def api_tokens_page(
    ctx: Context, user_id: int, first: int | None, after: str | None, active: bool | None
) -> Connection[ApiTokenType]:
    stmt = sa.select(ApiToken).where(*tokens.list_clause(ctx.scope, user_id, active))
    return await list_page(
        ctx, stmt, TOKEN_ORDER, first, after, lambda row: ApiTokenType.from_model(row[0])
    )


async def load_api_token(ctx: Context, token_id: int) -> ApiTokenType | None:
    """The token through its scoped loader: null when absent or not the viewer's own."""
    token = await ctx.loaders.api_token_by_id.load(token_id)
    return ApiTokenType.from_model(token) if token else None
