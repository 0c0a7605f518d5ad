"""The Starlette application: `/graphql` (POST; GraphiQL on GET), `/healthz`, `/readyz`,
`/exports/progress.csv` (`app.export_http`), `/set-password` (the page mailed links open), and
the dashboard at `/` (`app.web`).

Invariants:
- the app keeps no state beyond the engine, so any number of workers can serve one database;
- a request with a bad token is refused with 401 and code UNAUTHENTICATED before any resolver
  runs; a request with no token is anonymous;
- `/readyz` is 200 only when the database answers at the migration head (`app.readiness`),
  else 503 with the reason; `/healthz` is 200 while the process serves.
- every response is gzip-compressed when the client accepts it (above 500 bytes, not zips).
This is the composition root: with `app.cli` (`export-schema`), the only `app/` module that
imports `resolvers/`; everything else in `app/` stays below the GraphQL layer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
from cross_web import HTTPException as GraphQLHTTPException
from starlette.applications import Starlette
from starlette.authentication import AuthenticationError
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from app import access_log, background, export_xlsx, web
from app.auth import BearerTokenBackend, InvalidToken, Viewer, bearer_token, viewer_for_token
from app.client_address import client_address
from app.cost_budget import Account, CostBudget, account_key
from app.db import Database
from app.errors import ErrorCode
from app.export_http import progress_csv_endpoint
from app.gc_tuning import tune_gc
from app.graphql_media import Media, executed, preferred_media, request_error_status
from app.http_guards import RequestGuards
from app.live import Hub
from app.pagination import CURSOR_KEY
from app.readiness import not_ready_because
from app.responses import code_for_status, error_response, http_error_response
from app.security import token_digest
from app.set_password_page import set_password_page
from app.settings import Settings
from resolvers.compiled_reads import new_statement_cache
from resolvers.context import Context, build_context, connect
from resolvers.schema import schema

log = logging.getLogger("groupanalyst")

GZIP_EXCLUDED = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


# `connection_ack` without a payload.
_ACK = cast(UnsetType, UNSET)


def _auth_error(_conn: HTTPConnection, exc: AuthenticationError) -> Response:
    return error_response(401, ErrorCode.UNAUTHENTICATED, str(exc))


class _WebSocketAdapter(ASGIWebSocketAdapter):
    """Closing a closed socket does nothing: `on_ws_connect` closes a refused connection
    itself, with the reason, before Strawberry's own close ("Forbidden") follows."""

    async def close(self, code: int, reason: str) -> None:
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            await super().close(code, reason)


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with the API's error shape, cost budget and media types
    (`app.graphql_media`), and subscriptions over graphql-transport-ws."""

    websocket_adapter_class = _WebSocketAdapter

    def __init__(self, db: Database, settings: Settings, hub: Hub) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        )
        self.db = db
        self.settings = settings
        self.hub = hub
        self.budget = CostBudget(settings.cost_budget_per_minute)
        self.statements = new_statement_cache()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        user = request.scope.get("user")
        viewer = user if isinstance(user, Viewer) else None
        client = client_address(request, self.settings.trusted_proxies)
        token = bearer_token(request) if viewer is not None else None
        key = account_key(token_digest(token) if token else None, client)
        sub_response = response if isinstance(response, Response) else None
        request.state.graphql_response = sub_response
        ctx = await build_context(
            self.db,
            self.settings,
            viewer,
            client,
            cost_account=Account(self.budget, key),
            response=sub_response,
            statements=self.statements,
        )
        if isinstance(request, WebSocket):
            ctx.websocket, ctx.live = request, self.hub
            ctx.token = bearer_token(request) if viewer is not None else None
        return ctx

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """With `application/graphql-response+json`, an operation that never executed has no
        `data` and a 4xx status (the GraphQL-over-HTTP specification)."""
        processed = await super().process_result(request, result)
        if getattr(request.state, "graphql_media", Media.JSON) is not Media.GRAPHQL_RESPONSE:
            return processed
        errors = processed.get("errors")
        if not executed(processed.get("data"), errors):
            processed.pop("data", None)
            sub_response: Response | None = request.state.graphql_response
            if sub_response is not None and not sub_response.status_code:
                sub_response.status_code = request_error_status(errors)
        return processed

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws `connection_init`: the token in its payload (browsers cannot
        set headers on a WebSocket), as `{"Authorization": "Bearer <token>"}` or
        `{"token": "<token>"}`. A bad token closes the connection: 4403 and the reason."""
        params = context.connection_params or {}
        raw = params.get("Authorization") or params.get("authorization") or params.get("token")
        if raw is None:
            return _ACK
        token = str(raw).removeprefix("Bearer ").strip()
        try:
            viewer = await viewer_for_token(self.db, token)
        except InvalidToken as exc:
            if context.websocket is not None:
                await context.websocket.close(code=4403, reason=str(exc))
            raise ConnectionRejectionError({"message": str(exc)}) from exc
        await connect(context, viewer, token)
        return _ACK

    def decode_json(self, data: str | bytes) -> object:
        """The body as a JSON object (or a list, refused later as a batch); anything else is
        a 400 BAD_REQUEST here rather than a crash deeper in Strawberry."""
        try:
            value = json.loads(data)
        except UnicodeDecodeError as exc:
            raise GraphQLHTTPException(400, "The request body must be UTF-8 JSON.") from exc
        if not isinstance(value, dict | list):
            raise GraphQLHTTPException(
                400,
                'The request body must be a JSON object such as {"query": "{ viewer { id } }"}.',
            )
        if isinstance(value, dict) and not isinstance(value.get("operationName"), str | None):
            raise GraphQLHTTPException(400, "'operationName' must be a string or null.")
        return value

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our own GraphiQL build (`web/graphiql.html`), served from this origin: no CDN."""
        return web.html_page(self.settings.web_dist, "graphiql.html")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry answers a bad request body or method in plain text; ours carry a code."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        media = preferred_media(request.headers.get("accept"))
        request.state.graphql_media = media
        try:
            response = await self.run(request)
        except GraphQLHTTPException as exc:
            response = error_response(exc.status_code, code_for_status(exc.status_code), exc.reason)
        if media is Media.GRAPHQL_RESPONSE and response.media_type == Media.JSON.value:
            response.headers["content-type"] = f"{media.value}; charset=utf-8"
        await response(scope, receive, send)


def _middleware(
    settings: Settings, database: Database, routes: Sequence[BaseRoute]
) -> list[Middleware]:
    """The access log outermost (its line covers every answer, refusals by the layers below
    included), then compression, then the request guards (body size, database outages), CORS
    (when configured), then the bearer token."""
    # Compression: the API's JSON, the export and the front end are all compressed when the
    # client accepts it; XLSX is a zip already. Level 6 (zlib's default), not Starlette's 9:
    # on 13 MB of export CSV, 9 took 3x the CPU (3.4 s against 1.2 s) for a 12% smaller body.
    middleware: list[Middleware] = [
        Middleware(
            access_log.AccessLogMiddleware,
            paths=[route.path for route in routes if isinstance(route, Route)],
        ),
        Middleware(
            GZipMiddleware, minimum_size=500, compresslevel=6, exclude_content_types=GZIP_EXCLUDED
        ),
        Middleware(RequestGuards, max_body_bytes=settings.max_body_bytes),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", access_log.REQUEST_ID_HEADER],
                expose_headers=[access_log.REQUEST_ID_HEADER, "Retry-After"],
            )
        )
    middleware.append(
        Middleware(
            AuthenticationMiddleware,
            backend=BearerTokenBackend(database),
            on_error=_auth_error,
        )
    )
    return middleware


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    CURSOR_KEY.use_secret(settings.secret_key)
    database = db or Database.from_url(settings.database_url)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        reason = await not_ready_because(database)
        if reason is not None:
            return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
        return JSONResponse({"status": "ready"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(export_xlsx.sweep_stale)
        tune_gc()  # once per worker, after every import (app.gc_tuning)
        yield
        await background.idle()  # a reset request answered is a reset request handled
        await hub.stop()
        if db is None:
            await database.dispose()

    hub = Hub(database)
    graphql: Any = GraphQLApp(database, settings, hub)
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/exports/progress.csv", progress_csv_endpoint(database, settings)),
        Route("/set-password", set_password_page, methods=["GET"]),
        *web.routes(settings.web_dist),
    ]
    access_log.count_statements(database.engine)
    app = Starlette(
        routes=routes,
        middleware=_middleware(settings, database, routes),
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error_response},
    )
    app.state.db = database
    app.state.settings = settings
    app.state.cost_budget = graphql.budget
    return app
