"""Setting a password: `changePassword` now, and the common write every password change ends
with (`set_password`).

Invariants:
- only an Argon2 hash is stored, computed off the event loop and before the write
  transaction (no write lock is held while Argon2 works);
- checking the current password is throttled like `login` (`app.throttle`, per email), so a
  stolen token cannot be used to guess its user's password;
- a new password passes `app.password_policy.check_new_password` (given the user's names
  and email) and differs from the current one;
- a change revokes the user's other tokens in the same transaction (the one the request was
  sent with keeps working) and writes one audit event, never holding the password or hash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app import audit, throttle, tokens
from app.auth import Viewer
from app.db import Database
from app.errors import bad_input
from app.models import User, utcnow
from app.password_policy import check_new_password
from app.security import hash_password, verify_password
from app.settings import Settings
from app.user_admin import locked_user


def new_password(field: str, password: str, user_inputs: Sequence[str] = ()) -> str:
    """A password acceptable for an account (the API's rules, named by `field`);
    `user_inputs`: the account's names and email, which the password must not lean on."""
    return check_new_password(field, password, user_inputs)


async def hash_new_password(field: str, password: str, user_inputs: Sequence[str] = ()) -> str:
    """The Argon2 hash of an acceptable new password, computed in a thread."""
    return await asyncio.to_thread(hash_password, new_password(field, password, user_inputs))


async def check_change(
    db: Database, settings: Settings, viewer: Viewer, client: str, current: str, new: str
) -> str:
    """The new password's hash once `current` is the viewer's password (throttled)."""
    who = (viewer.first_name, viewer.last_name, viewer.email)
    new = new_password("newPassword", new, who)
    await throttle.claim_attempt(db, viewer.email, client, utcnow(), throttle.Limits.of(settings))
    async with db.read() as session:
        stored = (await session.get_one(User, viewer.id)).password_hash
    if not await asyncio.to_thread(verify_password, stored, current):
        raise bad_input("currentPassword", "'currentPassword' is not your current password.")
    if await asyncio.to_thread(verify_password, stored, new):
        raise bad_input("newPassword", "'newPassword' must differ from the current password.")
    async with db.write() as session:
        await throttle.clear(session, viewer.email, client)
    return await hash_new_password("newPassword", new, who)


async def set_password(
    session: AsyncSession,
    *,
    user_id: int,
    password_hash: str,
    actor_id: int | None,
    action: str,
    keep_token_id: int | None = None,
) -> tuple[User, int]:
    """Store the hash, revoke every token but `keep_token_id`, audit `action`; the user and
    how many tokens were revoked."""
    user = await locked_user(session, user_id)
    user.password_hash = password_hash
    revoked = await tokens.revoke_all_for(session, user_id, keep_token_id=keep_token_id)
    audit.record(
        session,
        actor_id=actor_id,
        action=action,
        target_type="User",
        target_id=user_id,
        details={"tokensRevoked": revoked},
    )
    return user, revoked
