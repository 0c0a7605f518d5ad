"""Sign-in throttling: a bound on password guessing per email, shared by every worker.

Invariants:
- failures are rows in `login_failure`, so the bound holds across processes and hosts;
- the answer is the same whether or not a user has that email (no account enumeration);
- while an email is throttled its password is not checked at all: no Argon2 work for the
  guesser, and no way to learn whether a guess would have been right;
- rows older than the window are pruned as new failures arrive, so the table stays small.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.accounts import email_key
from app.errors import AppError, ErrorCode
from app.models import LoginFailure


async def recent_failures(
    session: AsyncSession, email: str, now: datetime, window: timedelta
) -> int:
    return (
        await session.execute(
            select(func.count()).where(
                col(LoginFailure.email_key) == email_key(email),
                col(LoginFailure.at) > now - window,
            )
        )
    ).scalar_one()


async def record_failure(
    session: AsyncSession, email: str, now: datetime, window: timedelta
) -> None:
    key = email_key(email)
    await session.execute(
        delete(LoginFailure).where(
            col(LoginFailure.email_key) == key, col(LoginFailure.at) <= now - window
        )
    )
    session.add(LoginFailure(email_key=key, at=now))


def throttled(window: timedelta) -> AppError:
    minutes = max(int(window.total_seconds() // 60), 1)
    return AppError(
        ErrorCode.UNAUTHENTICATED,
        f"Too many failed sign-ins for this email; try again in {minutes} minutes "
        "or ask a site admin to reset the password.",
        retryAfterSeconds=int(window.total_seconds()),
    )
