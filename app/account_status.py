"""Deactivating and reactivating accounts: `deactivate_user`, `reactivate_user`.

Invariants:
- permission first (`AccessScope.can_set_active`: never the owner; an admin only by the owner),
  then the writes; a refused call writes nothing;
- a deactivated account keeps all its data; while deactivated it cannot sign in, its tokens
  are refused at once (`app.auth` checks `deactivated_at` on every request) and are revoked
  too, so reactivating never revives an old token; its assignments grant nothing and its
  Group Analyst seat is free (`permissions.policy.active_assignment`, `app.seats`);
- reactivating a GROUP_ANALYST claims a seat again under the site lock, exactly like a grant
  (`app.seats.claim`), so concurrent reactivations and grants never exceed the plan;
- deactivating an inactive account or reactivating an active one changes nothing and writes
  no audit event; every change writes one.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app import audit, seats, tokens
from app.errors import bad_input, forbidden, require
from app.models import Role, User, utcnow
from app.user_admin import locked_user, roles_of
from permissions.policy import AccessScope


async def _target(session: AsyncSession, scope: AccessScope, user_id: int) -> tuple[User, bool]:
    """The locked user and whether it holds GROUP_ANALYST, once the viewer may change it."""
    require(scope.can_manage_users(), "Only site owners and admins reactivate accounts.")
    user = await locked_user(session, user_id)
    roles = await roles_of(session, user_id)
    if Role.SITE_OWNER in roles:
        raise forbidden("The site owner's account cannot be deactivated.")
    require(scope.can_set_active(roles), "Only the site owner deactivates a site admin.")
    return user, Role.GROUP_ANALYST in roles


async def deactivate_user(session: AsyncSession, scope: AccessScope, *, user_id: int) -> User:
    require(scope.can_manage_users(), "Only site owners and admins deactivate accounts.")
    if scope.is_self(user_id):
        raise bad_input("userId", "You cannot deactivate your own account.")
    user, _ = await _target(session, scope, user_id)
    if user.deactivated_at is not None:
        return user
    user.deactivated_at = utcnow()
    revoked = await tokens.revoke_all_for(session, user_id)
    audit.by_viewer(session, scope, "user.deactivate", "User", user_id, {"tokensRevoked": revoked})
    return user


async def reactivate_user(session: AsyncSession, scope: AccessScope, *, user_id: int) -> User:
    # Lock order site → user (app.writes): the site lock serialises seat counting.
    await seats.lock_site(session)
    user, analyst = await _target(session, scope, user_id)
    if user.deactivated_at is None:
        return user
    if analyst:
        # Counted before the change: this user's seat is not in use while it is inactive.
        await seats.claim(session, field="userId")
    before = user.deactivated_at
    user.deactivated_at = None
    details = {"deactivatedAt": audit.iso(before)}
    audit.by_viewer(session, scope, "user.reactivate", "User", user_id, details)
    return user
