"""A site with one user per role and a token for each, for permission tests of mutations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from app.models import AuditEvent, Role, User, UserRole
from tests.support import Api, World

ROLES = ("anonymous", "student", "analyst", "admin", "owner")

# Expected error code per role for a mutation only admins may call (None: allowed).
ADMINS_ONLY: list[tuple[str, str | None]] = [
    ("anonymous", "UNAUTHENTICATED"),
    ("student", "FORBIDDEN"),
    ("analyst", "FORBIDDEN"),
    ("admin", None),
    ("owner", None),
]


@dataclass
class Cast:
    world: World
    student: User
    analyst: User
    admin: User
    tokens: dict[str, str | None]

    @property
    def owner(self) -> User:
        return self.world.owner

    def token(self, role: str) -> str | None:
        return self.tokens[role]

    @classmethod
    async def create(cls, world: World) -> Cast:
        student = await world.user("Sam", "Student", Role.STUDENT, email="sam@example.com")
        analyst = await world.user("Ana", "Analyst", Role.GROUP_ANALYST, email="ana@example.com")
        admin = await world.user("Adam", "Admin", Role.SITE_ADMIN, email="adam@example.com")
        tokens: dict[str, str | None] = {"anonymous": None}
        for role, user in (
            ("student", student),
            ("analyst", analyst),
            ("admin", admin),
            ("owner", world.owner),
        ):
            tokens[role] = await world.token(user)
        return cls(world=world, student=student, analyst=analyst, admin=admin, tokens=tokens)


async def call(
    api: Api, query: str, variables: dict[str, Any], token: str | None, expected: str | None
) -> dict[str, Any]:
    """Run a mutation; with `expected` a code, assert it failed with that code (and no data)."""
    body = await api.raw(query, variables, token)
    if expected is None:
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data
    assert body.get("errors"), f"expected {expected}, got {body}"
    error = body["errors"][0]
    assert error["extensions"]["code"] == expected, error
    assert "Traceback" not in error["message"]
    return dict(error)


async def audit_count(world: World, action: str | None = None) -> int:
    stmt = select(func.count()).select_from(AuditEvent)
    if action is not None:
        stmt = stmt.where(col(AuditEvent.action) == action)
    (count,) = await world.scalars(stmt)
    return int(count)


async def roles_of(world: World, user_id: int | None) -> set[str]:
    return set(await world.scalars(select(UserRole.role).where(col(UserRole.user_id) == user_id)))
