"""The typed request context every resolver receives.

Invariants: built once per request by `build_context`; the scope is computed there, before
any resolver runs, and changes only when `login` succeeds (`sign_in`: the rest of that
operation then reads as the signed-in user, exactly as a second request with the new token
would, with fresh loaders). Loaders are created fresh per request and on `sign_in`, so
nothing cached leaks between viewers. Every mutation that needs a signed-in viewer writes
through `Context.write`: signed in first (UNAUTHENTICATED otherwise), then one transaction
(`app.writes.run_write`) whose audit events name the token of the request
(`app.audit.sign_with`). The three mutations made without a viewer write in a transaction of
their own: `login` (its token and its audit event, actor: the user signing in;
`resolvers.auth`), `requestPasswordReset` and `resetPassword` (`resolvers.account_links`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal, TypeVar, overload

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from starlette.websockets import WebSocket

from app import audit
from app.auth import Viewer
from app.cost_budget import Account
from app.db import Database
from app.errors import unauthenticated
from app.live import Hub
from app.models import ApiToken
from app.settings import Settings
from app.writes import run_write
from compiled.statements import StatementCache
from loaders import Loaders
from permissions.policy import AccessScope, load_scope

T = TypeVar("T")


@dataclass
class Context:
    db: Database
    settings: Settings
    viewer: Viewer | None
    scope: AccessScope
    loaders: Loaders
    # The budget this request spends (`resolvers.cost_report`) and the response whose status
    # and headers it may set (429, Retry-After); None outside HTTP.
    cost_account: Account | None = None
    response: Response | None = None
    # The caller's address (`app.client_address`), for throttling sign-ins.
    client: str = "unknown"
    # The app's compiled queries, kept across requests (`resolvers.compiled_reads`); None:
    # each request builds its own.
    statements: StatementCache | None = None
    # Subscriptions only (`resolvers.live`): the token given at `connection_init`, checked
    # again at every event; the socket, to close it with a reason; this process's live feed.
    token: str | None = None
    websocket: WebSocket | None = None
    live: Hub | None = None
    connection_params: dict[str, object] | None = None

    @overload
    def get_viewer(self, required: Literal[True] = True) -> Viewer: ...

    @overload
    def get_viewer(self, required: Literal[False]) -> Viewer | None: ...

    def get_viewer(self, required: bool = True) -> Viewer | None:
        if self.viewer is None and required:
            raise unauthenticated()
        return self.viewer

    async def write(self, work: Callable[[AsyncSession, AccessScope], Awaitable[T]]) -> T:
        """Run `work(session, scope)` as the signed-in viewer, in one write transaction whose
        audit events name the request's token."""
        viewer = self.get_viewer()

        async def signed(session: AsyncSession) -> T:
            audit.sign_with(session, viewer.token_id, viewer.token_name)
            return await work(session, self.scope)

        return await run_write(self.db, signed)


Info = strawberry.Info[Context, None]


async def sign_in(ctx: Context, viewer: Viewer, token: ApiToken) -> None:
    """After `login`, the rest of the operation reads as the user who signed in, so
    `login { viewer { email roles } }` answers like `viewer` will with the new token."""
    ctx.viewer = replace(viewer, token_id=token.id, token_name=token.name)
    ctx.scope = await load_scope(ctx.db, viewer)
    ctx.loaders = Loaders.create(ctx.db, ctx.scope)


async def connect(ctx: Context, viewer: Viewer, token: str) -> None:
    """A WebSocket's `connection_init` gave a valid token: the connection reads as its user
    (subscriptions check the token again at every event)."""
    ctx.viewer, ctx.token = viewer, token
    ctx.scope = await load_scope(ctx.db, viewer)
    ctx.loaders = Loaders.create(ctx.db, ctx.scope)


async def build_context(
    db: Database,
    settings: Settings,
    viewer: Viewer | None,
    client: str = "unknown",
    *,
    cost_account: Account | None = None,
    response: Response | None = None,
    statements: StatementCache | None = None,
) -> Context:
    scope = await load_scope(db, viewer)
    return Context(
        db=db,
        settings=settings,
        viewer=viewer,
        scope=scope,
        loaders=Loaders.create(db, scope),
        client=client,
        cost_account=cost_account,
        response=response,
        statements=statements,
    )
