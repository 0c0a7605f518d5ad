"""Live events for GraphQL subscriptions: one feed per server process, fanned out to its
subscribers' queues.

Where events come from:
- PostgreSQL: a transaction that writes live outbox entries NOTIFYs `groupanalyst_live` with
  each entry's id as it commits (`app.events`; the worker announces any entry written
  otherwise); every server process LISTENs on one connection of its own and reads the entry.
  Any number of server processes and hosts receive every event, as soon as it commits.
- SQLite: the server process reads new `live` outbox entries itself, in id order (writers
  are serialised there, so ids commit in order and none is skipped): at once when a
  transaction of this process that wrote some commits (`app.events.COMMIT_LISTENERS`), and
  every `POLL_SECONDS` for those written by other processes (the worker, the command line).
  Serve subscriptions from ONE server process on SQLite (`groupanalyst serve --workers 1`,
  as `make run` does); the worker is not needed for them.

Invariants:
- the feed starts with the first subscriber and stops with the last; it only carries entry
  ids, types and subjects (global ids): what a subscriber may see is decided by the
  subscription resolvers, per subscriber, when each event is delivered; what they read for
  that they may read once for all of them (`LiveEvent.shared`, the subscribers' `tokens`);
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
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from app.db import Database
from app.events import LIVE
from app.live_access import Shared
from app.live_commit import COMMIT_LISTENERS, LIVE_CHANNEL
from app.models import OutboxEntry

log = logging.getLogger("groupanalyst.live")

POLL_SECONDS = 0.2
QUEUE_MAX = 1000


@dataclass(frozen=True)
class LiveEvent:
    entry_id: int
    event_id: str
    type: str
    subject: dict[str, Any]
    shared: Shared = field(default_factory=Shared, compare=False, repr=False)


# Put in a subscriber's queue when it fell QUEUE_MAX events behind.
OVERFLOW = LiveEvent(0, "", "overflow", {})


class Hub:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Each subscriber's queue, with the token it subscribed with.
        self.queues: dict[asyncio.Queue[LiveEvent], str | None] = {}
        self._feed: asyncio.Task[None] | None = None
        self._committed = asyncio.Event()

    def tokens(self) -> list[str]:
        """The tokens of this process's subscribers, each once."""
        return sorted({token for token in self.queues.values() if token is not None})

    @contextlib.asynccontextmanager
    async def subscribe(self, token: str | None = None) -> AsyncIterator[asyncio.Queue[LiveEvent]]:
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(QUEUE_MAX)
        self.queues[queue] = token
        if self._feed is None or self._feed.done():
            ready = asyncio.Event()
            self._feed = asyncio.create_task(self._run(ready))
            await ready.wait()
        try:
            yield queue
        finally:
            self.queues.pop(queue, None)
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
                self.queues.pop(queue, None)
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
        COMMIT_LISTENERS.add(self._committed.set)
        ready.set()
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._committed.wait(), POLL_SECONDS)
                # Cleared before reading: a commit during the read wakes the next round.
                self._committed.clear()
                for event in await self._read(last):
                    last = event.entry_id
                    self.publish(event)
        finally:
            COMMIT_LISTENERS.discard(self._committed.set)

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
