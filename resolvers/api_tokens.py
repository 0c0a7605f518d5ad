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
from resolvers.pagination import Connection, entity_page
from resolvers.relay import Node, node_of


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
        return node_of(cls, "ApiToken", token)


async def api_tokens_page(
    ctx: Context, user_id: int, first: int | None, after: str | None, active: bool | None
) -> Connection[ApiTokenType]:
    stmt = sa.select(ApiToken).where(*tokens.list_clause(ctx.scope, user_id, active))
    return await entity_page(ctx, stmt, TOKEN_ORDER, first, after, ApiTokenType.from_model)


async def load_api_token(ctx: Context, token_id: int) -> ApiTokenType | None:
    """The token through its scoped loader: null when absent or not the viewer's own."""
    token = await ctx.loaders.api_token_by_id.load(token_id)
    return ApiTokenType.from_model(token) if token else None
