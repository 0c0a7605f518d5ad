"""ASGI guards around the whole application: request body size and database outages.

Invariants:
- no request body larger than `Settings.max_body_bytes` is read: a `Content-Length` above it
  is refused before reading, and a body streamed without one (chunked) is cut off as soon as
  the bytes received pass the limit; both answer 413 with code PAYLOAD_TOO_LARGE;
- a request that fails because the database cannot be reached (refused connection, a
  missing file, a schema without its tables) answers 503 with code SERVICE_UNAVAILABLE and
  `Retry-After`, in the API's JSON error shape, never a plain-text 500; the cause is logged;
- neither guard touches a response already started (a CSV stream that fails midway just
  ends; its own audit records that).
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, is_unavailable
from app.errors import ErrorCode
from app.responses import error_response

log = logging.getLogger("groupanalyst.http")


class BodyTooLarge(Exception):
    pass


class _Started:
    """Wraps `send` to remember whether the response has begun."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestGuards:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        tracked = _Started(send)
        try:
            await self.app(scope, limited, tracked)
        except BodyTooLarge:
            if tracked.started:
                raise
            await self._too_large(scope, receive, send)
        except Exception as exc:
            if tracked.started or not is_unavailable(exc):
                raise
            log.error("database unavailable: %s", exc, exc_info=exc)
            response = error_response(503, ErrorCode.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE)
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            await response(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"The request body is larger than {self.max_body_bytes} bytes; send less.",
        )
        # The rest of the body is not read: close the connection rather than drain it.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
