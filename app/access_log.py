"""The access log: one JSON line per HTTP request, on the `groupanalyst.access` logger.

Fields: `time` (UTC, ISO 8601), `requestId`, `method`, `path`, `status`, `durationMs`,
`viewerId`, `operation` (the GraphQL operation's name), `statements` (SQL statements the
request ran), `cost` (its estimated GraphQL cost).

Invariants:
- no token, password, query string (where export links carry `sig`), body, variable or header
  value other than the request id is ever written: `path` is one of the app's own routes or
  null, `operation` is a GraphQL name (letters, digits, `_`) or null;
- the request id is the client's `X-Request-Id` when it is 1 to 64 characters of
  `A-Z a-z 0-9 . _ -`, otherwise a fresh random one; either way it is returned in the
  response's `X-Request-Id`;
- the line is written when the response has been sent (streams included), even when the
  application raised (status 500 then).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Collection
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("groupanalyst.access")

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass
class RequestRecord:
    """What the layers below the middleware tell the log about one request."""

    request_id: str
    # Set by endpoints whose viewer is not the bearer token's (a signed export link).
    viewer_id: int | None = None
    operation: str | None = None
    cost: int | None = None
    statements: int = 0

    def name_operation(self, name: str | None) -> None:
        self.operation = name if name and _OPERATION_NAME.fullmatch(name) else None


_current: ContextVar[RequestRecord | None] = ContextVar("groupanalyst_request", default=None)


def current() -> RequestRecord | None:
    """The record of the request being served in this task, if any."""
    return _current.get()


def _count_statement(*_args: Any) -> None:
    record = _current.get()
    if record is not None:
        record.statements += 1


def count_statements(engine: AsyncEngine) -> None:
    """Count every SQL statement `engine` runs against the request that ran it."""
    target = engine.sync_engine
    if not event.contains(target, "before_cursor_execute", _count_statement):
        event.listen(target, "before_cursor_execute", _count_statement)


def request_id_from(scope: Scope) -> str:
    given = Headers(scope=scope).get(REQUEST_ID_HEADER)
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def _viewer_id(scope: Scope, record: RequestRecord) -> int | None:
    viewer_id = getattr(scope.get("user"), "id", record.viewer_id)
    return viewer_id if isinstance(viewer_id, int) else None


class AccessLogMiddleware:
    """Writes the line; `paths` are the routes whose path may be logged as is."""

    def __init__(self, app: ASGIApp, paths: Collection[str]) -> None:
        self.app = app
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(request_id=request_id_from(scope))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = record.request_id
            await send(message)

        reset = _current.set(record)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(reset)
            log.info(self._line(scope, record, status, time.perf_counter() - started))

    def _line(self, scope: Scope, record: RequestRecord, status: int, seconds: float) -> str:
        method = scope.get("method", "")
        return json.dumps(
            {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "requestId": record.request_id,
                "method": method if method in _METHODS else None,
                "path": scope["path"] if scope.get("path") in self.paths else None,
                "status": status,
                "durationMs": round(seconds * 1000, 1),
                "viewerId": _viewer_id(scope, record),
                "operation": record.operation,
                "statements": record.statements,
                "cost": record.cost,
            },
            separators=(",", ":"),
        )


class DropQueryStrings(logging.Filter):
    """For uvicorn's own access log when uvicorn is run directly (`uvicorn app.asgi:app`):
    its lines carry the full URL, and signed export links carry `sig` in the query string.
    The path stays; the query string becomes `?…`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and isinstance(args[2], str):
            path, sep, _ = args[2].partition("?")
            record.args = (*args[:2], path + ("?…" if sep else ""), *args[3:])
        return True


def uvicorn_log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging setup with its access log replaced by ours (uvicorn's writes full
    URLs, signed export links' `sig` included) and Strawberry's per-error log silenced (it
    repeats error messages, which may quote input; `resolvers.errors` logs real failures)."""
    plain = {"()": "logging.Formatter", "fmt": "%(message)s"}
    default = {"()": "logging.Formatter", "fmt": "%(levelname)s %(name)s: %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": plain, "default": default},
        "handlers": {
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stdout",
            },
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "groupanalyst": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "groupanalyst.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "strawberry.execution": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }
