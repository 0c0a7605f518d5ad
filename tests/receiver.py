"""Real servers on loopback (uvicorn): a webhook receiver, verifying every request with the Standard
Webhooks library the way a customer's receiver would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    verified: Any  # the parsed payload, or None when the signature did not verify


@dataclass
class Receiver:
    secret: str = ""
    # Answer 503 to this many requests first (a receiver that fails, then recovers).
    fail_first: int = 0
    # Wait this long before answering (to kill a worker while it waits).
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, request: Request) -> Response:
        body = (await request.body()).decode()
        headers = dict(request.headers)
        try:
            verified = Webhook(self.secret).verify(body, headers) if self.secret else None
        except WebhookVerificationError:
            verified = None
        self.requests.append(Received(headers, body, verified))
        if self.delay:
            await asyncio.sleep(self.delay)
        if len(self.requests) <= self.fail_first:
            return Response("try later", status_code=503)
        return Response(status_code=204 if verified is not None else 400)

    def delivered(self) -> list[Received]:
        """Requests answered 2xx (verified, past the failures)."""
        return [r for i, r in enumerate(self.requests) if i >= self.fail_first and r.verified]

    def event_ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.delivered()]

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.delivered()]


@asynccontextmanager
async def serving(app: Any, lifespan: Literal["on", "off"] = "off") -> AsyncIterator[int]:
    """Serve an ASGI app with uvicorn on a free loopback port, in this event loop."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan=lifespan)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def running(receiver: Receiver) -> AsyncIterator[Receiver]:
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    async with serving(app) as port:
        receiver.port = port
        yield receiver
