"""Sign-in throttling: a bound on password guessing, shared by every worker, that one
attacker cannot turn against someone else's account.

Two counts over the last `Settings.login_failure_window`, both of refused attempts:
- per (email, client address): at most `Settings.login_max_failures`; the owner signing in
  from another address is not affected by a stranger's guesses;
- per client address, across emails: at most `Settings.login_max_failures_per_client`, so
  one address cannot spray guesses over many accounts either.
The client address is the socket's peer, or taken from `X-Forwarded-For` only when that
peer is a trusted proxy (`app.client_address`).

Invariants:
- an attempt is claimed (a `login_failure` row written) in its own short write transaction
  *before* the password is checked, and the counts and the claim are serialised per client
  address (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock on it),
  so no burst of parallel guesses, from any number of processes, gets more password checks
  than the bounds allow;
- a right password removes the failures of that email from that address; a wrong one leaves
  its claim as a failure;
- a throttled attempt is RATE_LIMITED with `extensions.retryAfterSeconds` (distinct from a
  wrong password's UNAUTHENTICATED); the answer is the same whether or not a user has that
  email (no account enumeration), and while throttled no password is checked (no Argon2
  work, no oracle);
- only SHA-256 digests of the key-normalised email and of the address are stored (never the
  text typed: people paste passwords into email fields), and rows older than the window are
  deleted as attempts arrive, so the table holds at most one window of attempts.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.db import Database
from app.errors import AppError, ErrorCode
from app.identity import email_key
from app.models import LoginFailure
from app.settings import Settings


@dataclass(frozen=True)
class Limits:
    window: timedelta
    per_email: int
    per_client: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.login_failure_window,
            settings.login_max_failures,
            settings.login_max_failures_per_client,
        )


def email_digest(email: str) -> str:
    return hashlib.sha256(email_key(email).encode()).hexdigest()


def client_digest(client: str) -> str:
    return hashlib.sha256(f"client:{client}".encode()).hexdigest()


async def _serialise(db: Database, session: AsyncSession, client: str) -> None:
    """Make count-then-claim atomic per client (SQLite's writers are serialised already)."""
    if db.dialect == "postgresql":
        await session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": client}
        )


async def _count(session: AsyncSession, *where: sa.ColumnElement[bool]) -> tuple[int, datetime]:
    row = (
        await session.execute(select(func.count(), func.min(LoginFailure.at)).where(*where))
    ).one()
    return int(row[0]), row[1]


async def claim_attempt(
    db: Database, email: str, client: str, now: datetime, limits: Limits
) -> int:
    """Record one attempt for `email` from `client` and return its row id, or raise
    RATE_LIMITED."""
    by_email, by_client = email_digest(email), client_digest(client)
    async with db.write() as session:
        await _serialise(db, session, by_client)
        await session.execute(
            delete(LoginFailure).where(col(LoginFailure.at) <= now - limits.window)
        )
        same_client = col(LoginFailure.client_digest) == by_client
        pair, first = await _count(session, same_client, col(LoginFailure.email_digest) == by_email)
        if pair >= limits.per_email:
            raise throttled(first + limits.window - now, "for this email")
        total, first = await _count(session, same_client)
        if total >= limits.per_client:
            raise throttled(first + limits.window - now, "from your network address")
        attempt = LoginFailure(email_digest=by_email, client_digest=by_client, at=now)
        session.add(attempt)
        await session.flush()
        assert attempt.id is not None
        return attempt.id


async def clear(session: AsyncSession, email: str, client: str) -> None:
    """A right password: that email's earlier failures from that address no longer count."""
    await session.execute(
        delete(LoginFailure).where(
            col(LoginFailure.email_digest) == email_digest(email),
            col(LoginFailure.client_digest) == client_digest(client),
        )
    )


def throttled(wait: timedelta, what: str) -> AppError:
    seconds = max(math.ceil(wait.total_seconds()), 1)
    minutes = max(math.ceil(seconds / 60), 1)
    return AppError(
        ErrorCode.RATE_LIMITED,
        f"Too many failed sign-ins {what}; try again in {minutes} minute"
        f"{'s' if minutes > 1 else ''}. API tokens already issued keep working.",
        retryAfterSeconds=seconds,
    )
