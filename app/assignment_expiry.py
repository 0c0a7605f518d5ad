"""`analyst.assignment.expired`: announced when the time passes, not only on writes.

Invariants: each (assignment, expiry moment) is announced at most once: the notice row and
the event's outbox entries commit together, the notice's primary key refuses a second one, and
on PostgreSQL the assignments are claimed `FOR UPDATE SKIP LOCKED` so two workers never
announce the same one. An expiry moved later and passed again is a new moment, announced again.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col, select

from app.db import Database
from app.events import BOTH, Event, WebhookEvent, add_event, gid
from app.models import AnalystAssignment, AssignmentExpiryNotice, utcnow

BATCH = 100


async def announce_expired(db: Database) -> int:
    now = utcnow()
    async with db.write() as session:
        announced = sa.exists().where(
            col(AssignmentExpiryNotice.assignment_id) == col(AnalystAssignment.id),
            col(AssignmentExpiryNotice.expires_at) == col(AnalystAssignment.expires_at),
        )
        due = (
            (
                await session.execute(
                    select(AnalystAssignment)
                    .where(col(AnalystAssignment.expires_at) <= now, ~announced)
                    .order_by(col(AnalystAssignment.id))
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        for assignment in due:
            assert assignment.id is not None and assignment.expires_at is not None
            session.add(
                AssignmentExpiryNotice(
                    assignment_id=assignment.id, expires_at=assignment.expires_at, announced_at=now
                )
            )
            subject = {
                "assignment": gid("GroupAnalystAssignment", assignment.id),
                "analyst": gid("User", assignment.analyst_id),
                "group": gid("Group", assignment.group_id),
            }
            event = Event(WebhookEvent.ANALYST_ASSIGNMENT_EXPIRED, subject, BOTH)
            add_event(session, event, assignment.expires_at)
        return len(due)
