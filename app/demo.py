"""A deterministic, realistic demo world, from a quick look to a million enrollments.

Invariants:
- the same `DemoSpec` (seed included) always produces the same rows, ids and timestamps:
  no clock, no global random state (timestamps count from `DEMO_EPOCH`);
- enrollment counters always equal the lesson-progress rows written for them, and
  `completed_at` is set exactly when every lesson is completed;
- it only loads into an empty database and writes in bounded batches, so memory stays flat
  at any size.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from app.accounts import ensure_plans
from app.db import Database
from app.identity import email_key, group_name_key
from app.models import (
    AnalystAssignment,
    Course,
    Enrollment,
    Group,
    GroupMembership,
    Lesson,
    LessonProgress,
    Role,
    Site,
    User,
    UserRole,
    table_of,
)
from app.progress_bar import ProgressBar
from app.security import hash_password

DEMO_EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DEMO_PASSWORD = "violet-harbor-lantern"  # noqa: S105  (documented in the README)
BATCH = 5_000


@dataclass(frozen=True)
class DemoAccount:
    key: str
    first_name: str
    last_name: str
    email: str
    roles: tuple[Role, ...]
    company: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("owner", "Olivia", "Owner", "owner@example.com", (Role.SITE_OWNER,)),
    DemoAccount("admin", "Adam", "Admin", "admin@example.com", (Role.SITE_ADMIN,)),
    DemoAccount("analyst", "Ana", "Analyst", "analyst@example.com", (Role.GROUP_ANALYST,)),
    DemoAccount(
        "partner", "Pat", "Partner", "partner@example.com", (Role.GROUP_ANALYST,), "Partner Co"
    ),
    DemoAccount("student", "Sam", "Student", "student@example.com", (Role.STUDENT,), "Acme"),
)

FIRST_NAMES = [
    "Aisha",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
    "Amara",
    "Bruno",
    "Carmen",
    "Diego",
]
LAST_NAMES = [
    "Abebe",
    "Bauer",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kim",
    "López",
    "Müller",
    "Nakamura",
    "O'Brien",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Umar",
    "Vargas",
    "Wong",
    "Xu",
    "Yilmaz",
    "Zhang",
]
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Ent.")
COURSES = (
    "Intro to Data Analysis",
    "Python Fundamentals",
    "Project Management Essentials",
    "UX Research Basics",
    "Excel for Analysts",
    "Public Speaking",
    "SQL for Everyone",
    "Leadership 101",
)
TRACKS = ("Data", "Product", "Engineering", "Sales", "Leadership")
TOPICS = ("Welcome", "Basics", "Practice", "Deep dive", "Case study", "Review", "Quiz", "Wrap-up")


@dataclass(frozen=True)
class DemoSpec:
    students: int = 100
    groups: int = 5
    courses: int = 4
    seed: int = 42
    max_courses_per_student: int = 3
    site_name: str = "Demo Academy"
    plan: str = "PRO_GROWTH"
    password: str = DEMO_PASSWORD

    def __post_init__(self) -> None:
        if self.students < 1 or self.groups < 4 or self.courses < 1:
            raise ValueError("demo needs at least 1 student, 4 groups and 1 course")
        if not 1 <= self.max_courses_per_student <= self.courses:
            raise ValueError("max_courses_per_student must be between 1 and the course count")


@dataclass
class DemoSummary:
    users: int = 0
    groups: int = 0
    courses: int = 0
    enrollments: int = 0
    lesson_events: int = 0
    report_rows: int = 0
    accounts: dict[str, int] = field(default_factory=dict)


class _Writer:
    """Buffers rows per table and inserts them in batches, parents before children."""

    ORDER = (
        User,
        UserRole,
        Group,
        GroupMembership,
        AnalystAssignment,
        Course,
        Lesson,
        Enrollment,
        LessonProgress,
    )

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.buffers: dict[type[SQLModel], list[dict[str, Any]]] = {m: [] for m in self.ORDER}

    async def add(self, model: type[SQLModel], row: dict[str, Any]) -> None:
        self.buffers[model].append(row)
        if len(self.buffers[model]) >= BATCH:
            await self.flush()

    async def flush(self) -> None:
        for model in self.ORDER:
            rows = self.buffers[model]
            if rows:
                await self.conn.execute(sa.insert(table_of(model)), rows)
                rows.clear()


def _enrollment_plan(rng: random.Random, lessons: int) -> tuple[int, int]:
    """(viewed, completed) lesson counts with a realistic spread of statuses."""
    draw = rng.random()
    if draw < 0.15:
        return 0, 0
    if draw < 0.40:
        return lessons, lessons
    viewed = rng.randint(1, lessons)
    return viewed, rng.randint(0, min(viewed, lessons - 1))


def _students(spec: DemoSpec, rng: random.Random) -> Iterator[tuple[str, str, str, str | None]]:
    for i in range(spec.students):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        company = rng.choice((*COMPANIES, None, None))
        slug = f"{first}.{last}".lower().replace("'", "")
        yield first, last, f"{slug}.{i + 1}@example.com", company


async def load_demo(db: Database, spec: DemoSpec, show_progress: bool = False) -> DemoSummary:
    rng = random.Random(spec.seed)
    summary = DemoSummary()
    async with db.write() as session:
        if (await session.execute(select(func.count()).select_from(User))).scalar_one():
            raise ValueError("The database already has users; the demo loads into an empty one.")
        await ensure_plans(session)
        session.add(Site(id=1, name=spec.site_name, plan_code=spec.plan, created_at=DEMO_EPOCH))
        await session.flush()
        conn = await session.connection()
        w = _Writer(conn)
        created = DEMO_EPOCH - timedelta(days=30)
        demo_hash = hash_password(spec.password)

        user_id = 0
        for account in DEMO_ACCOUNTS:
            user_id += 1
            summary.accounts[account.key] = user_id
            await w.add(
                User,
                {
                    "id": user_id,
                    "first_name": account.first_name,
                    "last_name": account.last_name,
                    "email": account.email,
                    "email_key": email_key(account.email),
                    "company": account.company,
                    "password_hash": demo_hash,
                    "created_at": created,
                },
            )
            for role in account.roles:
                await w.add(UserRole, {"user_id": user_id, "role": role.value})

        group_ids = list(range(1, spec.groups + 1))
        for gid in group_ids:
            name = f"Cohort {gid:03d} {TRACKS[(gid - 1) % len(TRACKS)]}"
            await w.add(
                Group,
                {
                    "id": gid,
                    "name": name,
                    "name_key": group_name_key(name),
                    "created_at": created + timedelta(days=gid),
                },
            )
        analyst, partner = summary.accounts["analyst"], summary.accounts["partner"]
        owner = summary.accounts["owner"]
        assignments = [
            (analyst, 1, None),
            (analyst, 2, None),
            # A partner sharing group 2 until a date far ahead, and an assignment that
            # has already run out (it grants nothing).
            (partner, 2, datetime(2030, 12, 31, tzinfo=UTC)),
            (partner, 3, datetime(2026, 6, 30, tzinfo=UTC)),
        ]
        for aid, (uid, gid, expires) in enumerate(assignments, start=1):
            await w.add(
                AnalystAssignment,
                {
                    "id": aid,
                    "analyst_id": uid,
                    "group_id": gid,
                    "assigned_by_id": owner,
                    "assigned_at": DEMO_EPOCH,
                    "expires_at": expires,
                },
            )

        lesson_ids: dict[int, list[int]] = {}
        lesson_id = 0
        for cid in range(1, spec.courses + 1):
            base = COURSES[(cid - 1) % len(COURSES)]
            name = base if cid <= len(COURSES) else f"{base} {cid // len(COURSES) + 1}"
            count = rng.randint(5, 12)
            await w.add(
                Course, {"id": cid, "name": name, "lesson_count": count, "created_at": created}
            )
            lesson_ids[cid] = []
            for position in range(1, count + 1):
                lesson_id += 1
                lesson_ids[cid].append(lesson_id)
                await w.add(
                    Lesson,
                    {
                        "id": lesson_id,
                        "course_id": cid,
                        "position": position,
                        "title": f"{position}. {TOPICS[(position - 1) % len(TOPICS)]}",
                    },
                )
        summary.courses = spec.courses
        summary.groups = spec.groups

        bar = ProgressBar("students", spec.students) if show_progress else None
        enrollment_id = 0
        course_ids = list(lesson_ids)
        demo_student = summary.accounts["student"]
        people = [(demo_student, None)] + [(None, s) for s in _students(spec, rng)]
        for index, (known_id, details) in enumerate(people):
            if known_id is None:
                assert details is not None
                user_id += 1
                uid = user_id
                first, last, email, company = details
                await w.add(
                    User,
                    {
                        "id": uid,
                        "first_name": first,
                        "last_name": last,
                        "email": email,
                        "email_key": email_key(email),
                        "company": company,
                        "password_hash": None,
                        "created_at": created + timedelta(minutes=index),
                    },
                )
                await w.add(UserRole, {"user_id": uid, "role": Role.STUDENT.value})
            else:
                uid = known_id
            groups = {group_ids[index % len(group_ids)]}
            if rng.random() < 0.1:
                groups.add(rng.choice(group_ids))
            for gid in sorted(groups):
                await w.add(
                    GroupMembership, {"group_id": gid, "user_id": uid, "added_at": DEMO_EPOCH}
                )
            taken = rng.sample(course_ids, rng.randint(1, spec.max_courses_per_student))
            for cid in sorted(taken):
                enrollment_id += 1
                lessons = lesson_ids[cid]
                activated = DEMO_EPOCH + timedelta(
                    days=rng.randint(0, 200), minutes=rng.randint(0, 1439)
                )
                expires = activated + timedelta(days=365) if rng.random() < 0.3 else None
                viewed, completed = _enrollment_plan(rng, len(lessons))
                events = []
                moment = activated
                for position, lid in enumerate(lessons[:viewed]):
                    moment = moment + timedelta(hours=rng.randint(2, 72))
                    done = moment + timedelta(minutes=30) if position < completed else None
                    events.append(
                        {
                            "enrollment_id": enrollment_id,
                            "lesson_id": lid,
                            "viewed_at": moment,
                            "completed_at": done,
                        }
                    )
                    summary.lesson_events += 1 + (done is not None)
                # Parents are buffered before children: a flush may happen at any add.
                await w.add(
                    Enrollment,
                    {
                        "id": enrollment_id,
                        "user_id": uid,
                        "course_id": cid,
                        "activated_at": activated,
                        "expires_at": expires,
                        "completed_at": events[-1]["completed_at"]
                        if completed == len(lessons)
                        else None,
                        "lessons_viewed": viewed,
                        "lessons_completed": completed,
                    },
                )
                for event in events:
                    await w.add(LessonProgress, event)
                summary.report_rows += len(groups)
            if bar is not None and known_id is None:
                bar.advance()
        await w.flush()
        if bar is not None:
            bar.close()
        summary.users = user_id
        summary.enrollments = enrollment_id
        if db.dialect == "postgresql":
            for table in (
                "user_account",
                "student_group",
                "analyst_assignment",
                "course",
                "lesson",
                "enrollment",
                "site",
            ):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT MAX(id) FROM {table}))"
                    )
                )
    return summary
