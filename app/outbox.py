"""The outbox: claiming entries, handing them to their consumer, pruning old ones.

Invariants:
- an entry is claimed, handed over and marked processed in ONE write transaction, so a
  worker that dies midway leaves it unprocessed for the next one (at least once, never lost);
- on PostgreSQL the claim is `FOR UPDATE SKIP LOCKED`: several workers take disjoint
  entries and never wait on each other; on SQLite one worker runs (`app.worker` holds a
  lease) and `BEGIN IMMEDIATE` serialises the rest;
- entries are handed over in id order within a batch;
- live entries on PostgreSQL are announced by the transaction that writes them and written
  already processed (`app.live_commit`); one written otherwise becomes `NOTIFY
  groupanalyst_live, '<entry id>'` in the claiming transaction, so listeners hear of it
  exactly when it is marked processed. On SQLite the subscription server reads the table
  itself (`app.live`), in id order: writers are serialised there, so ids commit in order and
  nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.db import Database
from app.events import LIVE, WEBHOOK
from app.live_commit import LIVE_CHANNEL
from app.models import OutboxEntry, utcnow

BATCH = 100

Handler = Callable[[AsyncSession, Sequence[OutboxEntry]], Awaitable[None]]


async def process_batch(db: Database, consumer: str, handler: Handler) -> int:
    """Claim up to BATCH unprocessed entries of `consumer`, hand them over, mark them done."""
    async with db.write() as session:
        entries = (
            (
                await session.execute(
                    select(OutboxEntry)
                    .where(
                        col(OutboxEntry.consumer) == consumer,
                        col(OutboxEntry.processed_at).is_(None),
                    )
                    .order_by(col(OutboxEntry.id))
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        if not entries:
            return 0
        await handler(session, entries)
        now = utcnow()
        for entry in entries:
            entry.processed_at = now
        return len(entries)


async def notify_live(session: AsyncSession, entries: Sequence[OutboxEntry]) -> None:
    """PostgreSQL: tell every listening server (delivered when this transaction commits)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for entry in entries:
        await session.execute(
            sa.text("SELECT pg_notify(:channel, :payload)"),
            {"channel": LIVE_CHANNEL, "payload": str(entry.id)},
        )


async def prune(db: Database, before: datetime) -> int:
    """Drop processed entries older than `before` (the outbox is a queue, not an archive)."""
    async with db.write() as session:
        result = await session.execute(
            sa.delete(OutboxEntry).where(
                col(OutboxEntry.processed_at).is_not(None), col(OutboxEntry.occurred_at) < before
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def pending_counts(db: Database) -> dict[str, int]:
    async with db.read() as session:
        rows = (
            await session.execute(
                select(OutboxEntry.consumer, sa.func.count())
                .where(col(OutboxEntry.processed_at).is_(None))
                .group_by(col(OutboxEntry.consumer))
            )
        ).all()
    counts = {WEBHOOK: 0, LIVE: 0}
    counts.update({consumer: int(n) for consumer, n in rows})
    return counts
