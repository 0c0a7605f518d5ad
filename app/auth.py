"""Who is calling: bearer token to viewer.

Invariants:
- a request without `Authorization` is anonymous; one with a token that is unknown, expired
  or revoked, or whose user is deactivated, is refused (401, code UNAUTHENTICATED) rather
  than silently downgraded, so a client learns at once that its token is dead;
- the viewer and its roles are read with the token in one statement, once per request (and
  for any number of tokens at once, `viewers_for_tokens`, as live subscriptions re-check);
- a token's last use is stamped at most once per `LAST_USED_GRANULARITY` (one short write a
  minute per token in use, none on the other requests);
- the viewer remembers the token it came with (`token_id`, `token_name`): `logout` revokes
  it and audit events name it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, select, update
from sqlmodel import col
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
)
from starlette.requests import HTTPConnection

from app.db import Database
from app.models import ApiToken, Role, User, UserRole, utcnow
from app.security import token_digest


@dataclass(frozen=True)
class Viewer(BaseUser):
    id: int
    first_name: str
    last_name: str
    email: str
    roles: frozenset[Role]
    # The token this request signed in with; None for a viewer not signed in by a token.
    token_id: int | None = None
    token_name: str | None = None

    # Starlette's `request.user` protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def identity(self) -> str:
        return str(self.id)


class InvalidToken(AuthenticationError):
    pass


def _viewer_rows(stmt: Select[Any]) -> Select[Any]:
    """The user's columns and each of its roles (one row per role; one with NULL if none);
    no rows for a deactivated user, so its tokens and export links stop at once."""
    return (
        stmt.add_columns(
            col(User.id),
            col(User.first_name),
            col(User.last_name),
            col(User.email),
            col(UserRole.role),
        )
        .outerjoin(UserRole, col(UserRole.user_id) == col(User.id))
        .where(col(User.deactivated_at).is_(None))
    )


def _viewer(rows: Sequence[Row[Any]], token: ApiToken | None = None) -> Viewer:
    first = rows[0]
    return Viewer(
        id=first.id,
        first_name=first.first_name,
        last_name=first.last_name,
        email=first.email,
        roles=frozenset(Role(row.role) for row in rows if row.role is not None),
        token_id=token.id if token else None,
        token_name=token.name if token else None,
    )


LAST_USED_GRANULARITY = timedelta(minutes=1)


# Tokens per statement in `viewers_for_tokens`: far below every driver's parameter limit.
TOKENS_PER_READ = 1000


async def _stamp_use(db: Database, used: Sequence[ApiToken]) -> None:
    now = utcnow()
    stale = [
        token.id
        for token in used
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY
    ]
    if not stale:
        return
    async with db.write() as session:
        await session.execute(
            update(ApiToken).where(col(ApiToken.id).in_(stale)).values(last_used_at=now)
        )


async def viewer_for_token(db: Database, token: str, now: datetime | None = None) -> Viewer:
    found = await viewers_for_tokens(db, [token], now)
    if token not in found:
        raise InvalidToken("The token is unknown, expired or revoked; log in again.")
    return found[token]


async def viewers_for_tokens(
    db: Database, tokens: Collection[str], now: datetime | None = None
) -> dict[str, Viewer]:
    """The viewer of each token that works (unrevoked, unexpired, its user active), by token;
    the others are absent. One statement per `TOKENS_PER_READ` tokens."""
    now = now or utcnow()
    # Ours are ASCII; anything else (a lone surrogate cannot even be hashed) is no token.
    by_digest = {token_digest(token): token for token in tokens if token.isascii()}
    digests = sorted(by_digest)
    rows: list[Row[Any]] = []
    for start in range(0, len(digests), TOKENS_PER_READ):
        stmt = _viewer_rows(
            select(ApiToken)
            .select_from(User)
            .join(ApiToken, col(ApiToken.user_id) == col(User.id))
            .where(
                col(ApiToken.token_hash).in_(digests[start : start + TOKENS_PER_READ]),
                col(ApiToken.revoked_at).is_(None),
                col(ApiToken.expires_at) > now,
            )
        )
        async with db.read() as session:
            rows.extend((await session.execute(stmt)).all())
    by_token: dict[str, list[Row[Any]]] = {}
    for row in rows:
        by_token.setdefault(by_digest[row[0].token_hash], []).append(row)
    await _stamp_use(db, [found[0][0] for found in by_token.values()])
    return {token: _viewer(found, found[0][0]) for token, found in by_token.items()}


async def viewer_for_token_id(db: Database, token_id: int) -> Viewer | None:
    """The viewer of a token still in force (unrevoked, unexpired, its user active), by the
    token's id: what an export link made with that token may act as."""
    stmt = _viewer_rows(
        select(ApiToken)
        .select_from(User)
        .join(ApiToken, col(ApiToken.user_id) == col(User.id))
        .where(
            col(ApiToken.id) == token_id,
            col(ApiToken.revoked_at).is_(None),
            col(ApiToken.expires_at) > utcnow(),
        )
    )
    async with db.read() as session:
        rows = (await session.execute(stmt)).all()
    return _viewer(rows, rows[0][0]) if rows else None


async def viewer_by_id(db: Database, user_id: int) -> Viewer | None:
    """The user as a viewer with its current roles (signed export links name their viewer)."""
    stmt = _viewer_rows(select().select_from(User).where(col(User.id) == user_id))
    async with db.read() as session:
        rows = (await session.execute(stmt)).all()
    return _viewer(rows) if rows else None


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization must be 'Bearer <token>'.")
    return token.strip()


class BearerTokenBackend(AuthenticationBackend):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        token = bearer_token(conn)
        if token is None:
            return None
        viewer = await viewer_for_token(self.db, token)
        return AuthCredentials(["authenticated"]), viewer
