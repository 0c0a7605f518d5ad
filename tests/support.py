"""Test helpers: build small worlds directly in the database and call the API as anyone."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from app import accounts, tokens
from app.db import Database
from app.identity import email_key, group_name_key
from app.ids import to_global_id
from app.main import create_app
from app.models import (
    AnalystAssignment,
    Course,
    Enrollment,
    Group,
    GroupMembership,
    Lesson,
    Plan,
    Role,
    Site,
    User,
    UserRole,
    utcnow,
)
from app.pagination import cursor_values
from app.security import hash_password
from app.settings import Settings

_counter = itertools.count(1)
T = TypeVar("T")


def fullwidth(text: str) -> str:
    """ASCII letters as their full-width forms (U+FF21…), which NFKC maps back."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def gid(type_name: str, pk: int | None) -> str:
    assert pk is not None
    return str(to_global_id(type_name, pk))


@dataclass
class World:
    """A site with an owner; methods add rows and return them with their ids."""

    db: Database
    owner: User

    @classmethod
    async def create(cls, db: Database, plan: str = "PRO_GROWTH") -> World:
        async with db.write() as session:
            _, owner = await accounts.create_site(
                session,
                site_name="Test Academy",
                plan=plan,
                owner_email="owner@example.com",
                owner_first_name="Olivia",
                owner_last_name="Owner",
                owner_password=None,
            )
        return cls(db=db, owner=owner)

    async def set_plan(self, plan: str, seats: int | None = None) -> None:
        async with self.db.write() as session:
            if seats is not None:
                (await session.get_one(Plan, plan)).group_analyst_seats = seats
            site = (await session.execute(select(Site))).scalar_one()
            site.plan_code = plan

    async def user(
        self,
        first_name: str = "Test",
        last_name: str | None = None,
        *roles: Role,
        email: str | None = None,
        company: str | None = None,
        password: str | None = None,
    ) -> User:
        n = next(_counter)
        last_name = last_name or f"User{n}"
        email = email or f"{first_name}.{last_name}.{n}@example.com".lower()
        async with self.db.write() as session:
            user = User(
                first_name=first_name,
                last_name=last_name,
                email=email,
                email_key=email_key(email),
                company=company,
                password_hash=hash_password(password) if password else None,
                created_at=utcnow(),
            )
            session.add(user)
            await session.flush()
            assert user.id is not None
            for role in roles or (Role.STUDENT,):
                session.add(UserRole(user_id=user.id, role=role))
        return user

    async def group(self, name: str | None = None, members: tuple[User, ...] = ()) -> Group:
        name = name or f"Group {next(_counter)}"
        async with self.db.write() as session:
            group = Group(name=name, name_key=group_name_key(name), created_at=utcnow())
            session.add(group)
            await session.flush()
        await self.add_members(group, *members)
        return group

    async def add_members(self, group: Group, *members: User) -> None:
        async with self.db.write() as session:
            for member in members:
                assert group.id is not None and member.id is not None
                session.add(
                    GroupMembership(group_id=group.id, user_id=member.id, added_at=utcnow())
                )

    async def assign(
        self, analyst: User, group: Group, expires_at: datetime | None = None
    ) -> AnalystAssignment:
        assert analyst.id is not None and group.id is not None
        async with self.db.write() as session:
            assignment = AnalystAssignment(
                analyst_id=analyst.id,
                group_id=group.id,
                assigned_by_id=self.owner.id,
                assigned_at=utcnow(),
                expires_at=expires_at,
            )
            session.add(assignment)
        return assignment

    async def course(self, name: str | None = None, lessons: int = 4) -> Course:
        name = name or f"Course {next(_counter)}"
        async with self.db.write() as session:
            course = Course(name=name, lesson_count=lessons, created_at=utcnow())
            session.add(course)
            await session.flush()
            assert course.id is not None
            for position in range(1, lessons + 1):
                session.add(
                    Lesson(course_id=course.id, position=position, title=f"Lesson {position}")
                )
        return course

    async def enroll(
        self,
        student: User,
        course: Course,
        *,
        viewed: int = 0,
        completed: int = 0,
        activated_at: datetime | None = None,
        expires_at: datetime | None = None,
        completed_at: datetime | None = None,
    ) -> Enrollment:
        """An enrollment with its counters set directly (lesson rows are not needed to read)."""
        assert student.id is not None and course.id is not None
        async with self.db.write() as session:
            enrollment = Enrollment(
                user_id=student.id,
                course_id=course.id,
                activated_at=activated_at or utcnow() - timedelta(days=10),
                expires_at=expires_at,
                completed_at=completed_at,
                lessons_viewed=viewed,
                lessons_completed=completed,
            )
            session.add(enrollment)
        return enrollment

    async def scalars(self, statement: SelectOfScalar[T]) -> list[T]:
        """What a one-column (or one-model) select reads now, in a short session of its own."""
        async with self.db.read() as session:
            return list((await session.execute(statement)).scalars())

    async def token(self, user: User, ttl: timedelta = timedelta(hours=1)) -> str:
        assert user.id is not None
        return await token_for(self.db, user.id, ttl)


async def token_for(db: Database, user_id: int, ttl: timedelta = timedelta(hours=1)) -> str:
    """A fresh API token of the user with this id."""
    async with db.write() as session:
        issued = await tokens.issue(
            session, user_id=user_id, name="test", expires_at=utcnow() + ttl
        )
    return issued.secret


@asynccontextmanager
async def api_with(db: Database, settings: Settings, **changes: Any) -> AsyncIterator[Api]:
    """The API over `db` with some settings changed (smaller limits, other audiences)."""
    app = create_app(dataclasses.replace(settings, **changes), db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client)


class GraphQLErrors(AssertionError):
    pass


@dataclass
class Api:
    client: httpx.AsyncClient

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # ASCII JSON (escapes like \\ud800), as browsers send, so hostile strings such as
        # lone surrogates reach the server intact.
        body = json.dumps({"query": query, "variables": variables or {}})
        return await self.client.post("/graphql", content=body, headers=headers)

    async def body(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The whole response body, extensions included."""
        body: dict[str, Any] = (await self.post(query, variables, token)).json()
        return body

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The response body's data and errors. The cost report (`extensions.cost`, checked in
        tests/test_cost_budget.py) is left out: the budget left differs between any two
        requests, which would make identical answers look different."""
        body: dict[str, Any] = (await self.post(query, variables, token)).json()
        body.pop("extensions", None)
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """`data`, failing the test if there were any errors."""
        body = await self.raw(query, variables, token)
        if body.get("errors"):
            raise GraphQLErrors(body["errors"])
        data: dict[str, Any] = body["data"]
        return data

    async def error_code(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> str:
        """The code of the first error; fails if there is none."""
        body = await self.raw(query, variables, token)
        assert body.get("errors"), f"expected an error, got {body}"
        code: str = body["errors"][0]["extensions"]["code"]
        return code


def web_operation(name: str) -> str:
    """An operation of the web app, exactly as it sends it (`web/src/operations.ts`)."""
    text = (Path(__file__).resolve().parent.parent / "web" / "src" / "operations.ts").read_text()
    opening = f"export const {name} = graphql(`"
    start = text.index(opening) + len(opening)
    return text[start : text.index("`)", start)]


def sealed_as_plain(value: Any) -> Any:
    """The response with every cursor replaced by the position it seals (nonces differ)."""
    if isinstance(value, dict):
        return {key: sealed_as_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [sealed_as_plain(item) for item in value]
    if isinstance(value, str) and len(value) > 40:
        key = cursor_values(value)
        return {"cursor": key} if key is not None else value
    return value
