"""Live outbox entries announce themselves when their transaction commits.

`app.events` hands every live entry it writes to `track`; then, for that session:
- before the commit, on PostgreSQL: `NOTIFY groupanalyst_live, '<entry id>'` for each, in the
  transaction itself (PostgreSQL delivers a notification exactly when, and only if, its
  transaction commits), and the entry is written already processed, so the worker does not
  announce it a second time (the worker still announces entries written without `track`);
- after the commit, in this process: every `COMMIT_LISTENERS` callback runs (the SQLite live
  feed reads the new entries at once instead of at its next poll).
A rolled-back transaction announces nothing. The callbacks run on the event loop's thread
(SQLAlchemy runs the commit there) and must not block.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.models import OutboxEntry, utcnow

LIVE_CHANNEL = "groupanalyst_live"
COMMIT_LISTENERS: set[Callable[[], None]] = set()

_PENDING = "groupanalyst_live_pending"
_COMMITTING = "groupanalyst_live_committing"


def track(session: AsyncSession, entry: OutboxEntry) -> None:
    """Announce `entry` when the session's transaction commits."""
    session.info.setdefault(_PENDING, []).append(entry)


@event.listens_for(Session, "before_commit")
def _notify(session: Session) -> None:
    entries: list[OutboxEntry] = session.info.pop(_PENDING, [])
    if not entries:
        return
    session.info[_COMMITTING] = True
    if session.get_bind().dialect.name != "postgresql":
        return
    now = utcnow()
    for entry in entries:
        entry.processed_at = now
    session.flush()
    for entry in entries:
        session.execute(sa.select(sa.func.pg_notify(LIVE_CHANNEL, str(entry.id))))


@event.listens_for(Session, "after_commit")
def _wake(session: Session) -> None:
    if session.info.pop(_COMMITTING, False):
        for listener in list(COMMIT_LISTENERS):
            listener()


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous: object) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_COMMITTING, None)
