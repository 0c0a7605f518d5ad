"""Sign-in throttling: a bound on password guessing per email, shared by every worker.

Invariants:
- an attempt is claimed (a `login_failure` row written) in its own short write transaction
  *before* the password is checked, and the count and the claim are serialised per email
  (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock on the email), so
  no burst of parallel guesses, from any number of processes, gets more than `max_failures`
  password checks per window;
- a right password removes that email's failures; a wrong one leaves its claim as a failure;
- the answer is the same whether or not a user has that email (no account enumeration), and
  while an email is throttled its password is not checked at all (no Argon2 work, no oracle);
- only a SHA-256 of the lower-cased email is stored (fixed size, never the text a user typed:
  people paste passwords into email fields), and rows older than the window are deleted as
  attempts arrive, so the table holds at most one window of attempts.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.db import Database
from app.errors import AppError, ErrorCode
from app.identity import email_key
from app.models import LoginFailure


def email_digest(email: str) -> str:
    return hashlib.sha256(email_key(email).encode()).hexdigest()


async def _serialise(db: Database, session: AsyncSession, digest: str) -> None:
    """Make count-then-claim atomic per email (SQLite's writers are serialised already)."""
    if db.dialect == "postgresql":
        await session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": digest}
        )


async def claim_attempt(
    db: Database, email: str, now: datetime, window: timedelta, max_failures: int
) -> int:
    """Record one attempt for `email` and return its row id, or raise the throttle error."""
    digest = email_digest(email)
    async with db.write() as session:
        await _serialise(db, session, digest)
        await session.execute(delete(LoginFailure).where(col(LoginFailure.at) <= now - window))
        recent = (
            await session.execute(
                select(func.count(), func.min(LoginFailure.at)).where(
                    col(LoginFailure.email_digest) == digest
                )
            )
        ).one()
        if recent[0] >= max_failures:
            raise throttled(recent[1] + window - now)
        attempt = LoginFailure(email_digest=digest, at=now)
        session.add(attempt)
        await session.flush()
        assert attempt.id is not None
        return attempt.id


async def clear(session: AsyncSession, email: str) -> None:
    """A right password: the email's earlier failures no longer count."""
    await session.execute(
        delete(LoginFailure).where(col(LoginFailure.email_digest) == email_digest(email))
    )


def throttled(wait: timedelta) -> AppError:
    seconds = max(math.ceil(wait.total_seconds()), 1)
    minutes = max(math.ceil(seconds / 60), 1)
    return AppError(
        ErrorCode.UNAUTHENTICATED,
        f"Too many failed sign-ins for this email; try again in {minutes} minute"
        f"{'s' if minutes > 1 else ''}. API tokens already issued keep working.",
        retryAfterSeconds=seconds,
    )
