"""Live events for GraphQL subscriptions: one feed per server process, fanned out to its
subscribers' queues.

Where events come from:
- PostgreSQL: the worker NOTIFYs `groupanalyst_live` with the outbox entry's id when it
  processes it (`app.outbox.notify_live`); every server process LISTENs on one connection of
  its own and reads the entry. Any number of server processes and hosts receive every event.
- SQLite: the server process reads new `live` outbox entries itself, in id order, every
  `POLL_SECONDS` (writers are serialised there, so ids commit in order and none is skipped).
  Serve subscriptions from ONE server process on SQLite (`groupanalyst serve --workers 1`,
  as `make run` does); the worker is not needed for them.

Invariants:
- the feed starts with the first subscriber and stops with the last; it only carries entry
  ids, types and subjects (global ids): what a subscriber may see is decided by the
  subscription resolvers, per subscriber, when each event is delivered;
- a subscriber too slow to keep `QUEUE_MAX` events is dropped (its queue gets `OVERFLOW`)
  rather than slowing every other subscriber or growing without bound;
- events committed while a PostgreSQL listener reconnects may be missed (live views are
  best effort; webhooks are the at-least-once channel).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from app.db import Database
from app.events import LIVE
from app.models import OutboxEntry
from app.outbox import LIVE_CHANNEL

log = logging.getLogger("groupanalyst.live")

POLL_SECONDS = 0.2
QUEUE_MAX = 1000


@dataclass(frozen=True)
class LiveEvent:
    entry_id: int
    event_id: str
    type: str
    subject: dict[str, Any]


# Put in a subscriber's queue when it fell QUEUE_MAX events behind.
OVERFLOW = LiveEvent(0, "", "overflow", {})


class Hub:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.queues: set[asyncio.Queue[LiveEvent]] = set()
        self._feed: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[LiveEvent]]:
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(QUEUE_MAX)
        self.queues.add(queue)
        if self._feed is None or self._feed.done():
            ready = asyncio.Event()
            self._feed = asyncio.create_task(self._run(ready))
            await ready.wait()
        try:
            yield queue
        finally:
            self.queues.discard(queue)
            if not self.queues:
                await self.stop()

    async def stop(self) -> None:
        if self._feed is not None:
            self._feed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._feed
            self._feed = None

    def publish(self, event: LiveEvent) -> None:
        for queue in list(self.queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self.queues.discard(queue)
                queue.get_nowait()
                queue.put_nowait(OVERFLOW)

    async def _run(self, ready: asyncio.Event) -> None:
        try:
            if self.db.dialect == "postgresql":
                await self._listen(ready)
            else:
                await self._poll(ready)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("live feed failed; subscribers will be closed")
            self.publish(OVERFLOW)

    async def _read(self, after: int | None, entry_id: int | None = None) -> list[LiveEvent]:
        stmt = select(OutboxEntry).where(col(OutboxEntry.consumer) == LIVE)
        if entry_id is not None:
            stmt = stmt.where(col(OutboxEntry.id) == entry_id)
        if after is not None:
            stmt = stmt.where(col(OutboxEntry.id) > after)
        async with self.db.read() as session:
            rows = (await session.execute(stmt.order_by(col(OutboxEntry.id)))).scalars().all()
        return [LiveEvent(r.id or 0, r.event_id, r.type, dict(r.subject)) for r in rows]

    async def _poll(self, ready: asyncio.Event) -> None:
        async with self.db.read() as session:
            last = (
                await session.execute(
                    sa.select(sa.func.max(col(OutboxEntry.id))).where(
                        col(OutboxEntry.consumer) == LIVE
                    )
                )
            ).scalar_one()
        last = int(last or 0)
        ready.set()
        while True:
            await asyncio.sleep(POLL_SECONDS)
            for event in await self._read(last):
                last = event.entry_id
                self.publish(event)

    async def _listen(self, ready: asyncio.Event) -> None:
        ids: asyncio.Queue[int] = asyncio.Queue()

        def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            if payload.isdigit():
                ids.put_nowait(int(payload))

        async with self.db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.add_listener(LIVE_CHANNEL, on_notify)
            ready.set()
            try:
                while True:
                    entry_id = await ids.get()
                    for event in await self._read(None, entry_id):
                        self.publish(event)
            finally:
                with contextlib.suppress(Exception):
                    await driver.remove_listener(LIVE_CHANNEL, on_notify)
