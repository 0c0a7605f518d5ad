"""API tokens, for the API and the command line alike: issue, list, revoke, and the bounds of
their lifetime.

Invariants:
- a token's secret exists only in the return value of `issue`; only its SHA-256 is stored;
- every token's expiry lies in (now, now + `api_token_max_ttl`]; asked for none, the API
  (`createApiToken`) and the CLI (`create-token`) both give `default_expiry`, so they agree;
- a token is listed and revoked by its own user alone (`permissions.rules.TOKEN`); admins
  end every token of a user at once (`revoke_all_for`) but never read them;
- revoking is idempotent: a revoked token keeps its first revocation time, and a call that
  revokes nothing writes no audit event.
A token's use (`last_used_at`) is stamped by `app.auth`, which checks tokens on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit, validation
from app.errors import bad_input, not_found, require
from app.models import ApiToken, utcnow
from app.security import new_token, token_digest
from app.settings import Settings
from app.user_admin import locked_user, roles_of
from permissions import rules
from permissions.policy import AccessScope


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def default_expiry(settings: Settings, now: datetime) -> datetime:
    """The expiry of a token asked for without one, from the API or the CLI."""
    return now + min(settings.api_token_default_ttl, settings.api_token_max_ttl)


def check_expiry(
    settings: Settings, field: str, expires_at: datetime | None, now: datetime
) -> datetime:
    """`expires_at` (or the default) if within (now, now + the maximum]; else BAD_USER_INPUT."""
    expires_at = validation.aware(field, expires_at)
    if expires_at is None:
        return default_expiry(settings, now)
    if expires_at <= now:
        raise bad_input(field, f"'{field}' must be in the future.")
    if expires_at > now + settings.api_token_max_ttl:
        raise bad_input(
            field, f"'{field}' may be at most {settings.api_token_max_ttl.days} days away."
        )
    return expires_at


def expiry_in_days(settings: Settings, field: str, days: int | None, now: datetime) -> datetime:
    """The CLI's `--days`: 1 to the maximum; None gives the same default as the API."""
    if days is None:
        return default_expiry(settings, now)
    max_days = settings.api_token_max_ttl.days
    if not 1 <= days <= max_days:
        raise bad_input(field, f"{field} must be 1 to {max_days} (GROUPANALYST_API_TOKEN_MAX_DAYS)")
    return now + timedelta(days=days)


async def issue(
    session: AsyncSession, *, user_id: int, name: str, expires_at: datetime
) -> IssuedToken:
    """A new token for `user_id` (the caller audits why it was issued)."""
    secret = new_token()
    token = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=token_digest(secret),
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    return IssuedToken(token=token, secret=secret)


async def create(
    session: AsyncSession,
    *,
    user_id: int,
    actor_id: int | None,
    name: str,
    expires_at: datetime,
    name_field: str = "name",
    via: str | None = None,
) -> IssuedToken:
    """A named personal token, audited as `token.create` (`via`: "cli" from the command line)."""
    name = validation.name(name_field, name, validation.TOKEN_NAME_MAX)
    issued = await issue(session, user_id=user_id, name=name, expires_at=expires_at)
    details: dict[str, str | None] = {
        "name": name,
        "userId": audit.ref("User", user_id),
        "expiresAt": audit.iso(expires_at),
    }
    if via is not None:
        details["via"] = via
    audit.record(
        session,
        actor_id=actor_id,
        action="token.create",
        target_type="ApiToken",
        target_id=issued.token.id,
        details=details,
    )
    return issued


async def revoke(
    session: AsyncSession, scope: AccessScope, token_id: int, *, action: str = "token.revoke"
) -> ApiToken:
    """Revoke one of the viewer's own tokens; anyone else's is NOT_FOUND, like no token."""
    token = await session.get(ApiToken, token_id, with_for_update=True)
    if token is None or not rules.TOKEN.allows(scope, token.user_id):
        raise not_found("API token of yours", field="id")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.by_viewer(session, scope, action, "ApiToken", token.id, {"name": token.name})
    return token


def usable(now: datetime) -> ColumnElement[bool]:
    """Tokens that still sign requests in: neither revoked nor expired."""
    return sa.and_(col(ApiToken.revoked_at).is_(None), col(ApiToken.expires_at) > now)


async def revoke_all_for(
    session: AsyncSession, user_id: int, *, keep_token_id: int | None = None
) -> int:
    """End every usable token of `user_id` (but `keep_token_id`) now; how many were ended.

    The caller checks who may and audits the change in the same transaction.
    """
    now = utcnow()
    where = [col(ApiToken.user_id) == user_id, usable(now)]
    if keep_token_id is not None:
        where.append(col(ApiToken.id) != keep_token_id)
    result = await session.execute(update(ApiToken).where(*where).values(revoked_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_user_tokens(session: AsyncSession, scope: AccessScope, user_id: int) -> int:
    """Admins: end every token of a user at once (the owner's: the owner only)."""
    require(scope.can_manage_users(), "Only site owners and admins end other users' tokens.")
    await locked_user(session, user_id)
    require(
        scope.can_edit_user(await roles_of(session, user_id)),
        "Only the site owner ends the owner's tokens.",
    )
    revoked = await revoke_all_for(session, user_id)
    if revoked:
        audit.by_viewer(session, scope, "token.revoke_all", "User", user_id, {"revoked": revoked})
    return revoked


def list_clause(scope: AccessScope, user_id: int, active: bool | None) -> list[ColumnElement[bool]]:
    """The tokens of `user_id` the viewer may list (its own only); `active` filters usable."""
    where = [col(ApiToken.user_id) == user_id, rules.TOKEN.clause(scope, col(ApiToken.user_id))]
    if active is not None:
        where.append(usable(scope.now) if active else sa.not_(usable(scope.now)))
    return where
