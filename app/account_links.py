"""Password reset and invitation links: single-use secrets mailed to a user.

Invariants:
- a link's secret exists only in the mail (and the return value of `_issue`); the database
  holds its SHA-256, so a database leak opens no account;
- a link works once, before it expires (a reset: `RESET_TTL`, one hour; an invitation:
  `INVITE_TTL`), and only while its user is active; issuing a new link of one purpose
  supersedes the user's open ones, and using any link closes every open link of its user;
- using a link sets the password and revokes every token of the user, in one transaction with
  its audit event;
- `request_reset` answers nothing to its caller (the API answers the same for any email): it
  returns the mail to send only for an active user with a password that has asked fewer than
  `RESETS_PER_HOUR` times in the last hour; an unknown email writes nothing;
- the links point at `GROUPANALYST_PUBLIC_URL`, with the secret in the fragment (`#token=`),
  which browsers never send to a server nor put in a Referer.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app import accounts, audit, passwords
from app.errors import bad_input, require
from app.mailer import Mail
from app.models import AccountLink, Site, User, utcnow
from app.settings import Settings
from app.user_admin import locked_user, roles_of
from permissions.policy import AccessScope

RESET_TTL = timedelta(hours=1)
INVITE_TTL = timedelta(days=7)
RESETS_PER_HOUR = 3
LINK_PATH = "/set-password"


class Purpose(enum.StrEnum):
    RESET = "reset"
    INVITE = "invite"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def link_url(settings: Settings, secret: str) -> str:
    return f"{settings.public_url}{LINK_PATH}#token={secret}"


async def _close_open_links(
    session: AsyncSession, user_id: int, purpose: Purpose | None = None
) -> None:
    now = utcnow()
    where = [
        col(AccountLink.user_id) == user_id,
        col(AccountLink.used_at).is_(None),
        col(AccountLink.expires_at) > now,
    ]
    if purpose is not None:
        where.append(col(AccountLink.purpose) == purpose.value)
    await session.execute(update(AccountLink).where(*where).values(used_at=now))


async def _issue(session: AsyncSession, user_id: int, purpose: Purpose) -> str:
    await _close_open_links(session, user_id, purpose)
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    ttl = RESET_TTL if purpose is Purpose.RESET else INVITE_TTL
    session.add(
        AccountLink(
            user_id=user_id,
            purpose=purpose.value,
            secret_hash=_digest(secret),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    return secret


async def _site_name(session: AsyncSession) -> str:
    name = (await session.execute(select(Site.name))).scalar_one_or_none()
    return name or "Group Analyst"


async def _recent_resets(session: AsyncSession, user_id: int) -> int:
    stmt = select(func.count()).where(
        col(AccountLink.user_id) == user_id,
        col(AccountLink.purpose) == Purpose.RESET.value,
        col(AccountLink.created_at) > utcnow() - timedelta(hours=1),
    )
    return int((await session.execute(stmt)).scalar_one())


async def request_reset(session: AsyncSession, settings: Settings, email: str) -> Mail | None:
    """The reset mail to send, or None (unknown, deactivated or password-less account, or
    too many requests this hour); the caller answers the same either way."""
    user = await accounts.user_by_email(session, email)
    if (
        user is None
        or user.id is None
        or user.deactivated_at is not None
        or user.password_hash is None
        or await _recent_resets(session, user.id) >= RESETS_PER_HOUR
    ):
        return None
    secret = await _issue(session, user.id, Purpose.RESET)
    audit.record(
        session,
        actor_id=None,
        action="user.password.reset.request",
        target_type="User",
        target_id=user.id,
    )
    site = await _site_name(session)
    return Mail(
        to=user.email,
        subject=f"Reset your {site} password",
        text=(
            f"Hello {user.first_name},\n\n"
            f"someone (hopefully you) asked to reset your {site} password. Choose a new one "
            f"here within the hour:\n\n{link_url(settings, secret)}\n\n"
            "The link works once. If you did not ask, ignore this mail: your password stays "
            "as it is.\n"
        ),
    )


async def invite(
    session: AsyncSession, settings: Settings, user: User, *, actor_id: int | None, action: str
) -> Mail:
    """A new invitation for a password-less user (superseding earlier ones), audited."""
    assert user.id is not None
    if user.password_hash is not None:
        raise bad_input("userId", "This user has set a password already; nothing to invite to.")
    if user.deactivated_at is not None:
        raise bad_input("userId", "This account is deactivated; reactivate it first.")
    secret = await _issue(session, user.id, Purpose.INVITE)
    audit.record(session, actor_id=actor_id, action=action, target_type="User", target_id=user.id)
    site = await _site_name(session)
    days = INVITE_TTL.days
    return Mail(
        to=user.email,
        subject=f"You are invited to {site}",
        text=(
            f"Hello {user.first_name},\n\n"
            f"an account has been created for you on {site}. Choose your password here "
            f"within {days} days, then sign in with this email address:\n\n"
            f"{link_url(settings, secret)}\n\nThe link works once.\n"
        ),
    )


async def redeem(session: AsyncSession, secret: str, password_hash: str) -> User:
    """Set the password of the link's user, close its links, revoke its tokens."""
    link = (
        await session.execute(
            select(AccountLink)
            .where(col(AccountLink.secret_hash) == _digest(secret))
            .with_for_update()
        )
    ).scalar_one_or_none()
    now = utcnow()
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise bad_input("token", "This link is invalid, used or expired; ask for a new one.")
    user = await session.get_one(User, link.user_id)
    if user.deactivated_at is not None:
        raise bad_input("token", "This link is invalid, used or expired; ask for a new one.")
    await _close_open_links(session, link.user_id)
    action = "user.password.reset" if link.purpose == Purpose.RESET else "user.invitation.accept"
    user, _ = await passwords.set_password(
        session, user_id=link.user_id, password_hash=password_hash, actor_id=None, action=action
    )
    return user


async def resend_invitation(
    session: AsyncSession, scope: AccessScope, settings: Settings, user_id: int
) -> tuple[User, Mail]:
    """Admins: a new invitation for a user who has not chosen a password yet."""
    require(scope.can_manage_users(), "Only site owners and admins invite users.")
    user = await locked_user(session, user_id)
    require(
        scope.can_edit_user(await roles_of(session, user_id)),
        "Only the site owner edits the owner's account.",
    )
    mail = await invite(
        session, settings, user, actor_id=scope.viewer_id, action="user.invite.resend"
    )
    return user, mail
