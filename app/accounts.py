"""Sites, owners and passwords: the account operations shared by the API and the CLI.

Invariants:
- there is at most one site and exactly one SITE_OWNER once `create_site` has run;
- `authenticate` answers the same (None) for an unknown email and a wrong password, after the
  same Argon2 work.
Tokens are `app.tokens`.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app import audit, validation
from app.identity import email_key
from app.models import DEFAULT_PLANS, Plan, Role, Site, User, UserRole, utcnow
from app.password_policy import check_new_password
from app.security import hash_password, verify_password
from app.validation import PERSON_NAME_MAX

SITE_NAME_MAX = 200


class SiteExists(Exception):
    pass


async def ensure_plans(session: AsyncSession) -> None:
    existing = set((await session.execute(select(Plan.code))).scalars())
    for code, seats in DEFAULT_PLANS.items():
        if code not in existing:
            session.add(Plan(code=code, group_analyst_seats=seats))
    await session.flush()


async def create_site(
    session: AsyncSession,
    *,
    site_name: str,
    plan: str,
    owner_email: str,
    owner_first_name: str,
    owner_last_name: str,
    owner_password: str | None,
) -> tuple[Site, User]:
    if (await session.execute(select(func.count()).select_from(Site))).scalar_one():
        raise SiteExists("This database already has a site; `init` only sets up an empty one.")
    if (await session.execute(select(func.count()).select_from(User))).scalar_one():
        raise SiteExists("This database already has users; `init` only sets up an empty one.")
    await ensure_plans(session)
    if await session.get(Plan, plan) is None:
        raise ValueError(f"Unknown plan {plan!r}; one of {', '.join(DEFAULT_PLANS)}.")
    # The same rules as the API's, named by the command line's flags.
    site_name = validation.name("site-name", site_name, SITE_NAME_MAX)
    owner_email = validation.email("owner-email", owner_email)
    owner_first_name = validation.name("owner-first-name", owner_first_name, PERSON_NAME_MAX)
    owner_last_name = validation.name("owner-last-name", owner_last_name, PERSON_NAME_MAX)
    if owner_password is not None:
        owner_password = check_new_password(
            "owner-password", owner_password, (owner_first_name, owner_last_name, owner_email)
        )
    now = utcnow()
    site = Site(name=site_name, plan_code=plan, created_at=now)
    owner = User(
        first_name=owner_first_name,
        last_name=owner_last_name,
        email=owner_email.strip(),
        email_key=email_key(owner_email),
        password_hash=hash_password(owner_password) if owner_password else None,
        created_at=now,
    )
    session.add_all([site, owner])
    await session.flush()
    assert owner.id is not None
    session.add(UserRole(user_id=owner.id, role=Role.SITE_OWNER))
    audit.record(
        session,
        actor_id=None,
        action="site.init",
        target_type="Site",
        target_id=site.id,
        details={"plan": plan, "owner": owner.email},
    )
    return site, owner


async def authenticate(session: AsyncSession, email: str, password: str) -> User | None:
    """The user if the password is right. Pass a read session: the check takes tens of
    milliseconds, run in a thread so the event loop keeps serving, and no lock is held."""
    user = await user_by_email(session, email)
    stored = user.password_hash if user else None
    ok = await asyncio.to_thread(verify_password, stored, password)
    return user if ok else None


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (
        await session.execute(select(User).where(col(User.email_key) == email_key(email)))
    ).scalar_one_or_none()
