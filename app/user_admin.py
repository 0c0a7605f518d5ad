"""Users and their roles: `create_user`, `update_user`, `set_user_roles`.

Invariants:
- permission first (`AccessScope.can_manage_users`, `can_edit_user`, `can_change_roles_of`,
  `can_grant` for every role added or removed), then input checks, then the writes: a refused
  or invalid call writes nothing;
- the roles given to `set_user_roles` are the roles the user holds afterwards (like the
  dashboard's role checkboxes); granting GROUP_ANALYST claims a seat (`app.seats`), revoking it
  frees the seat and deletes that user's analyst assignments in the same transaction;
- emails are unique case-insensitively (`email_key`); a taken email is CONFLICT;
- every change writes one audit event with what changed; a call that changes nothing writes
  none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app import audit, seats, validation
from app.errors import conflict, not_found, require
from app.identity import email_key
from app.models import AnalystAssignment, Role, User, UserRole, utcnow
from app.password_policy import check_new_password
from app.security import hash_password
from app.writes import locked
from permissions.policy import AccessScope

OWNER_ROLES_FIXED = (
    "Nobody changes the site owner's roles, and SITE_OWNER cannot be granted or revoked: "
    "the site has exactly one owner."
)


def check_grants(scope: AccessScope, changed: Iterable[Role]) -> None:
    for role in sorted(changed):
        if role is Role.SITE_OWNER:
            message = OWNER_ROLES_FIXED
        else:
            message = f"Only the site owner grants or revokes {role.value}."
        require(scope.can_grant(role), message)


async def roles_of(session: AsyncSession, user_id: int) -> frozenset[Role]:
    rows = await session.execute(select(UserRole.role).where(col(UserRole.user_id) == user_id))
    return frozenset(Role(r) for r in rows.scalars())


async def _email_taken(session: AsyncSession, email: str, except_id: int | None = None) -> None:
    existing = (
        await session.execute(select(User.id).where(col(User.email_key) == email_key(email)))
    ).scalar_one_or_none()
    if existing is not None and existing != except_id:
        raise conflict("email", f"Another user already has the email {email}.")


async def create_user(
    session: AsyncSession,
    scope: AccessScope,
    *,
    first_name: str,
    last_name: str,
    email: str,
    company: str | None,
    password: str | None,
    roles: Iterable[Role],
) -> User:
    require(scope.can_manage_users(), "Only site owners and admins create users.")
    wanted = frozenset(roles)
    check_grants(scope, wanted)
    first_name = validation.name("firstName", first_name, validation.PERSON_NAME_MAX)
    last_name = validation.name("lastName", last_name, validation.PERSON_NAME_MAX)
    email = validation.email("email", email)
    company = validation.optional_text("company", company, validation.COMPANY_MAX)
    if password is not None:
        password = check_new_password("password", password, (first_name, last_name, email))
    # Argon2 is deliberately slow: keep it off the event loop and outside the write lock.
    password_hash = await asyncio.to_thread(hash_password, password) if password else None

    # A taken email is the caller's mistake whatever the seats: say that first.
    await _email_taken(session, email)
    if Role.GROUP_ANALYST in wanted:
        await seats.claim(session)
    user = User(
        first_name=first_name,
        last_name=last_name,
        email=email,
        email_key=email_key(email),
        company=company,
        password_hash=password_hash,
        created_at=utcnow(),
    )
    session.add(user)
    await session.flush()
    assert user.id is not None
    session.add_all(UserRole(user_id=user.id, role=role.value) for role in sorted(wanted))
    details = {
        "firstName": first_name,
        "lastName": last_name,
        "email": email,
        "company": company,
        "roles": sorted(r.value for r in wanted),
        "canLogIn": password_hash is not None,
    }
    audit.by_viewer(session, scope, "user.create", "User", user.id, details)
    return user


async def locked_user(session: AsyncSession, user_id: int, *, shared: bool = False) -> User:
    """The user, locked against concurrent changes (`shared`: only against role changes)."""
    user = (
        await session.execute(locked(select(User).where(col(User.id) == user_id), shared=shared))
    ).scalar_one_or_none()
    if user is None:
        raise not_found("user", field="userId")
    return user


async def update_user(
    session: AsyncSession,
    scope: AccessScope,
    *,
    user_id: int,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    company: str | None = None,
    clear_company: bool = False,
) -> User:
    """None leaves a field as it is; `clear_company` removes the company."""
    require(scope.can_manage_users(), "Only site owners and admins edit users.")
    changes: dict[str, Any] = {}
    if first_name is not None:
        changes["first_name"] = validation.name("firstName", first_name, validation.PERSON_NAME_MAX)
    if last_name is not None:
        changes["last_name"] = validation.name("lastName", last_name, validation.PERSON_NAME_MAX)
    if email is not None:
        changes["email"] = validation.email("email", email)
    if clear_company:
        changes["company"] = None
    elif company is not None:
        changes["company"] = validation.optional_text("company", company, validation.COMPANY_MAX)

    user = await locked_user(session, user_id)
    require(
        scope.can_edit_user(await roles_of(session, user_id)),
        "Only the site owner edits the owner's account.",
    )
    if "email" in changes:
        await _email_taken(session, changes["email"], except_id=user_id)
    diff = {
        name: {"before": getattr(user, name), "after": value}
        for name, value in changes.items()
        if getattr(user, name) != value
    }
    if not diff:
        return user
    for name, change in diff.items():
        setattr(user, name, change["after"])
    if "email" in diff:
        user.email_key = email_key(user.email)
    audit.by_viewer(session, scope, "user.update", "User", user_id, diff)
    return user


async def set_user_roles(
    session: AsyncSession, scope: AccessScope, *, user_id: int, roles: Iterable[Role]
) -> User:
    require(scope.can_manage_users(), "Only site owners and admins change roles.")
    wanted = frozenset(roles)
    # Lock order site → user (app.writes): the site lock also serialises seat counting.
    await seats.lock_site(session)
    user = await locked_user(session, user_id)
    current = await roles_of(session, user_id)
    require(scope.can_change_roles_of(current) and Role.SITE_OWNER not in wanted, OWNER_ROLES_FIXED)
    added, removed = wanted - current, current - wanted
    check_grants(scope, added | removed)
    if not added and not removed:
        return user
    if Role.GROUP_ANALYST in added:
        await seats.claim(session)
    assignments_removed = 0
    if Role.GROUP_ANALYST in removed:
        result = await session.execute(
            delete(AnalystAssignment).where(col(AnalystAssignment.analyst_id) == user_id)
        )
        assignments_removed = int(getattr(result, "rowcount", 0) or 0)
    if removed:
        await session.execute(
            delete(UserRole).where(
                col(UserRole.user_id) == user_id,
                col(UserRole.role).in_([r.value for r in removed]),
            )
        )
    session.add_all(UserRole(user_id=user_id, role=role.value) for role in sorted(added))
    details = {
        "before": sorted(r.value for r in current),
        "after": sorted(r.value for r in wanted),
        "assignmentsRemoved": assignments_removed,
    }
    audit.by_viewer(session, scope, "user.roles.set", "User", user_id, details)
    return user
