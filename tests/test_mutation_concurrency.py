"""Seat limits, uniqueness and idempotency hold under concurrent requests, on both databases.

The "several processes" variants use several `Database` engines (separate connection pools,
so separate database sessions, as separate workers would have).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from app import user_admin
from app.db import Database
from app.errors import AppError
from app.models import (
    AnalystAssignment,
    Enrollment,
    GroupMembership,
    Lesson,
    Role,
    UserRole,
    utcnow,
)
from app.writes import run_write
from permissions.policy import AccessScope
from tests.cast import Cast
from tests.support import Api, World, gid

SET_ROLES = """
mutation($input: SetUserRolesInput!) { setUserRoles(input: $input) { user { id roles } } }
"""
CREATE_USER = """
mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }
"""
CREATE_GROUP = "mutation($name: String!) { createGroup(input: {name: $name}) { group { id } } }"
ASSIGN = """
mutation($user: ID!, $group: ID!) {
  assignGroupAnalyst(input: {userId: $user, groupId: $group}) { assignment { id } }
}
"""
ADD = """
mutation($id: ID!, $users: [ID!]!) {
  addGroupMembers(input: {groupId: $id, userIds: $users}) { addedUserIds }
}
"""
COMPLETE = """
mutation($lesson: ID!) { completeLesson(input: {lessonId: $lesson}) { changed } }
"""


def outcome(body: dict[str, Any]) -> str:
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    return "OK"


async def fire(
    api: Api, token: str | None, calls: list[tuple[str, dict[str, Any]]]
) -> Counter[str]:
    bodies = await asyncio.gather(*(api.raw(query, variables, token) for query, variables in calls))
    return Counter(outcome(body) for body in bodies)


async def analyst_count(db: Database) -> int:
    async with db.read() as session:
        stmt = (
            select(func.count())
            .select_from(UserRole)
            .where(col(UserRole.role) == Role.GROUP_ANALYST.value)
        )
        return int((await session.execute(stmt)).scalar_one())


async def test_twenty_concurrent_grants_through_the_api_fill_exactly_the_free_seats(
    api: Api, world: World
) -> None:
    # PRO_GROWTH: 3 seats, none used.
    students = [await world.user("Stu", f"S{n}") for n in range(20)]
    owner = await world.token(world.owner)
    calls = [
        (SET_ROLES, {"input": {"userId": gid("User", s.id), "roles": ["GROUP_ANALYST"]}})
        for s in students
    ]
    results = await fire(api, owner, calls)
    assert results == Counter({"OK": 3, "SEAT_LIMIT_REACHED": 17})
    assert await analyst_count(world.db) == 3


async def test_twenty_concurrent_grants_from_several_engines(
    world: World, database_url: str
) -> None:
    # PREMIER: 15 seats, 12 used: 3 left.
    await world.set_plan("PREMIER")
    for n in range(12):
        await world.user("Held", f"H{n}", Role.GROUP_ANALYST)
    engines = [Database.from_url(database_url) for _ in range(4)]
    owner = AccessScope(viewer_id=world.owner.id, roles=frozenset({Role.SITE_OWNER}), now=utcnow())

    def create(n: int) -> Callable[[Any], Awaitable[Any]]:
        return lambda session: user_admin.create_user(
            session,
            owner,
            first_name="New",
            last_name=f"Analyst{n}",
            email=f"new.analyst{n}@example.com",
            company=None,
            password=None,
            roles=[Role.GROUP_ANALYST],
        )

    async def attempt(n: int) -> str:
        try:
            await run_write(engines[n % len(engines)], create(n))
        except AppError as exc:
            return exc.code.value
        return "OK"

    try:
        results = Counter(await asyncio.gather(*(attempt(n) for n in range(20))))
    finally:
        for engine in engines:
            await engine.dispose()
    assert results == Counter({"OK": 3, "SEAT_LIMIT_REACHED": 17})
    assert await analyst_count(world.db) == 15


async def test_concurrent_creates_with_one_email_give_one_user_and_conflicts(
    api: Api, cast: Cast
) -> None:
    calls = [
        (
            CREATE_USER,
            {
                "input": {
                    "firstName": "Dup",
                    "lastName": f"D{n}",
                    "email": f"{'DUP' if n % 2 else 'dup'}@example.com",
                }
            },
        )
        for n in range(10)
    ]
    assert await fire(api, cast.token("admin"), calls) == Counter({"OK": 1, "CONFLICT": 9})


async def test_concurrent_creates_with_one_group_name_give_one_group_and_conflicts(
    api: Api, cast: Cast
) -> None:
    calls = [(CREATE_GROUP, {"name": "Cohort" if n % 2 else "COHORT"}) for n in range(10)]
    assert await fire(api, cast.token("admin"), calls) == Counter({"OK": 1, "CONFLICT": 9})


async def test_concurrent_repeats_of_an_assignment_give_one_assignment(
    api: Api, cast: Cast
) -> None:
    group = await cast.world.group("Cohort")
    variables = {"user": gid("User", cast.analyst.id), "group": gid("Group", group.id)}
    bodies = await asyncio.gather(
        *(api.raw(ASSIGN, variables, cast.token("admin")) for _ in range(10))
    )
    assert Counter(outcome(b) for b in bodies) == Counter({"OK": 10})
    assert len({b["data"]["assignGroupAnalyst"]["assignment"]["id"] for b in bodies}) == 1
    async with cast.world.db.read() as session:
        assert len((await session.execute(select(AnalystAssignment))).scalars().all()) == 1


async def test_concurrent_identical_member_additions_add_once(api: Api, cast: Cast) -> None:
    group = await cast.world.group("Cohort")
    variables = {"id": gid("Group", group.id), "users": [gid("User", cast.student.id)]}
    bodies = await asyncio.gather(*(api.raw(ADD, variables, cast.token("admin")) for _ in range(8)))
    assert Counter(outcome(b) for b in bodies) == Counter({"OK": 8})
    added = [b["data"]["addGroupMembers"]["addedUserIds"] for b in bodies]
    assert sorted(len(a) for a in added) == [0] * 7 + [1]
    async with cast.world.db.read() as session:
        assert len((await session.execute(select(GroupMembership))).scalars().all()) == 1


async def test_concurrent_lesson_events_keep_counters_exact(api: Api, cast: Cast) -> None:
    world = cast.world
    course = await world.course("Python", lessons=3)
    await world.enroll(cast.student, course)
    async with world.db.read() as session:
        lesson_ids = (
            (await session.execute(select(Lesson.id).where(col(Lesson.course_id) == course.id)))
            .scalars()
            .all()
        )
    calls = [(COMPLETE, {"lesson": gid("Lesson", lid)}) for lid in lesson_ids for _ in range(4)]
    assert await fire(api, cast.token("student"), calls) == Counter({"OK": 12})
    async with world.db.read() as session:
        enrollment = (await session.execute(select(Enrollment))).scalar_one()
    assert (enrollment.lessons_viewed, enrollment.lessons_completed) == (3, 3)
    assert enrollment.completed_at is not None
