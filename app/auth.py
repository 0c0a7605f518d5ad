"""Who is calling: bearer token to viewer.

Invariants:
- a request without `Authorization` is anonymous; one with a token that is unknown, expired
  or revoked is refused (401, code UNAUTHENTICATED) rather than silently downgraded, so a
  client learns at once that its token is dead;
- the viewer's roles are read with the token, once per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
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


async def viewer_for_token(db: Database, token: str, now: datetime | None = None) -> Viewer:
    now = now or utcnow()
    async with db.read() as session:
        row = (
            await session.execute(
                select(User.id, User.first_name, User.last_name, User.email)
                .join(ApiToken, col(ApiToken.user_id) == col(User.id))
                .where(
                    col(ApiToken.token_hash) == token_digest(token),
                    col(ApiToken.revoked_at).is_(None),
                    col(ApiToken.expires_at) > now,
                )
            )
        ).one_or_none()
        if row is None:
            raise InvalidToken("The token is unknown, expired or revoked; log in again.")
        return await _viewer(session, row)


async def viewer_by_id(db: Database, user_id: int) -> Viewer | None:
    """The user as a viewer with its current roles (signed export links name their viewer)."""
    async with db.read() as session:
        row = (
            await session.execute(
                select(User.id, User.first_name, User.last_name, User.email).where(
                    col(User.id) == user_id
                )
            )
        ).one_or_none()
        return None if row is None else await _viewer(session, row)


async def _viewer(session: AsyncSession, row: Row[Any]) -> Viewer:
    roles = (
        await session.execute(select(UserRole.role).where(col(UserRole.user_id) == row.id))
    ).scalars()
    return Viewer(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        roles=frozenset(Role(r) for r in roles),
    )


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
