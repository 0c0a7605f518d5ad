"""Group Analyst seats: how many users may hold GROUP_ANALYST at once, per the site's plan.

Invariants:
- the limit is data (`plan.group_analyst_seats`, NULL = unlimited), never code;
- a seat is held by every active user holding GROUP_ANALYST, whatever other roles it has;
  revoking the role or deactivating the account frees it, reactivating claims it again;
- `claim` locks the site row before counting (`SELECT ... FOR UPDATE` on PostgreSQL, the
  transaction's write lock on SQLite) and the caller grants in the same transaction, so
  concurrent grants, from any number of processes, never exceed the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import AppError, ErrorCode
from app.models import Plan, Role, Site, User, UserRole
from app.writes import locked


@dataclass(frozen=True)
class SeatUsage:
    plan: str
    used: int
    limit: int | None  # None: unlimited


async def lock_site(session: AsyncSession) -> Site:
    """Take the site lock: the first lock of any transaction that grants roles."""
    site = (await session.execute(locked(select(Site)))).scalar_one_or_none()
    if site is None:
        raise RuntimeError("This database has no site; run `groupanalyst init` first.")
    return site


async def usage(session: AsyncSession, site: Site) -> SeatUsage:
    plan = await session.get_one(Plan, site.plan_code)
    used = (
        await session.execute(
            select(func.count())
            .select_from(UserRole)
            .join(User, col(User.id) == col(UserRole.user_id))
            .where(
                col(UserRole.role) == Role.GROUP_ANALYST.value,
                col(User.deactivated_at).is_(None),
            )
        )
    ).scalar_one()
    return SeatUsage(plan=plan.code, used=used, limit=plan.group_analyst_seats)


async def claim(session: AsyncSession, seats: int = 1, *, field: str = "roles") -> SeatUsage:
    """Check that `seats` more analysts fit the plan; the caller grants them in this transaction.

    Refused: SEAT_LIMIT_REACHED with `extensions.plan`, `limit` and `used`, so automation can
    tell how far over it is without a second call."""
    seat_usage = await usage(session, await lock_site(session))
    if seat_usage.limit is not None and seat_usage.used + seats > seat_usage.limit:
        raise AppError(
            ErrorCode.SEAT_LIMIT_REACHED,
            seat_limit_message(seat_usage),
            field=field,
            plan=seat_usage.plan,
            limit=seat_usage.limit,
            used=seat_usage.used,
        )
    return seat_usage


def seat_limit_message(seat_usage: SeatUsage) -> str:
    if seat_usage.limit == 0:
        return (
            f"Group Analysts are not included in the {seat_usage.plan} plan; "
            "upgrade to a plan with Group Analyst seats to grant GROUP_ANALYST."
        )
    return (
        f"The {seat_usage.plan} plan includes {seat_usage.limit} Group Analyst seats and "
        f"{seat_usage.used} are in use; revoke GROUP_ANALYST from someone or upgrade the plan."
    )
