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
    """Load the world `spec` describes into an empty database (ValueError if it has users)."""
    async with db.write() as session:
        if (await session.execute(select(func.count()).select_from(User))).scalar_one():
            raise ValueError("The database already has users; the demo loads into an empty one.")
        await ensure_plans(session)
        session.add(Site(id=1, name=spec.site_name, plan_code=spec.plan, created_at=DEMO_EPOCH))
        await session.flush()
        conn = await session.connection()
        # Each step draws from one random stream in a fixed order: same seed, same world.
        world = _World(spec, random.Random(spec.seed), _Writer(conn))
        await world.add_accounts()
        await world.add_groups()
        await world.add_assignments()
        await world.add_courses()
        await world.add_students(ProgressBar("students", spec.students) if show_progress else None)
        await world.writer.flush()
        if db.dialect == "postgresql":
            await _advance_sequences(conn)
    return world.summary


# Tables whose ids the demo sets itself: PostgreSQL's sequences must start after them.
_ID_TABLES = (
    "user_account",
    "student_group",
    "analyst_assignment",
    "course",
    "lesson",
    "enrollment",
    "site",
)


async def _advance_sequences(conn: AsyncConnection) -> None:
    for table in _ID_TABLES:
        await conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT MAX(id) FROM {table}))"
            )
        )


@dataclass
class _World:
    """The demo world being written: the steps of `load_demo`, in order, and what they made."""

    spec: DemoSpec
    rng: random.Random
    writer: _Writer
    summary: DemoSummary = field(default_factory=DemoSummary)
    created: datetime = DEMO_EPOCH - timedelta(days=30)
    group_ids: list[int] = field(default_factory=list)
    lesson_ids: dict[int, list[int]] = field(default_factory=dict)

    async def _add_user(
        self, first: str, last: str, email: str, company: str | None, **extra: Any
    ) -> int:
        self.summary.users += 1
        row = {"first_name": first, "last_name": last, "email": email, "company": company}
        await self.writer.add(
            User,
            {"id": self.summary.users, **row, "email_key": email_key(email), **extra},
        )
        return self.summary.users

    async def add_accounts(self) -> None:
        """The named demo accounts (owner, admin, analysts, student), with the demo password."""
        demo_hash = hash_password(self.spec.password)
        for account in DEMO_ACCOUNTS:
            user_id = await self._add_user(
                account.first_name,
                account.last_name,
                account.email,
                account.company,
                password_hash=demo_hash,
                created_at=self.created,
            )
            self.summary.accounts[account.key] = user_id
            for role in account.roles:
                await self.writer.add(UserRole, {"user_id": user_id, "role": role.value})

    async def add_groups(self) -> None:
        self.group_ids = list(range(1, self.spec.groups + 1))
        for gid in self.group_ids:
            name = f"Cohort {gid:03d} {TRACKS[(gid - 1) % len(TRACKS)]}"
            await self.writer.add(
                Group,
                {
                    "id": gid,
                    "name": name,
                    "name_key": group_name_key(name),
                    "created_at": self.created + timedelta(days=gid),
                },
            )
        self.summary.groups = self.spec.groups

    async def add_assignments(self) -> None:
        analyst, partner = self.summary.accounts["analyst"], self.summary.accounts["partner"]
        assignments = [
            (analyst, 1, None),
            (analyst, 2, None),
            # A partner sharing group 2 until a date far ahead, and an assignment that
            # has already run out (it grants nothing).
            (partner, 2, datetime(2030, 12, 31, tzinfo=UTC)),
            (partner, 3, datetime(2026, 6, 30, tzinfo=UTC)),
        ]
        for aid, (uid, gid, expires) in enumerate(assignments, start=1):
            await self.writer.add(
                AnalystAssignment,
                {
                    "id": aid,
                    "analyst_id": uid,
                    "group_id": gid,
                    "assigned_by_id": self.summary.accounts["owner"],
                    "assigned_at": DEMO_EPOCH,
                    "expires_at": expires,
                },
            )

    async def add_courses(self) -> None:
        """The courses, 5 to 12 lessons each."""
        lesson_id = 0
        for cid in range(1, self.spec.courses + 1):
            base = COURSES[(cid - 1) % len(COURSES)]
            name = base if cid <= len(COURSES) else f"{base} {cid // len(COURSES) + 1}"
            count = self.rng.randint(5, 12)
            await self.writer.add(
                Course, {"id": cid, "name": name, "lesson_count": count, "created_at": self.created}
            )
            self.lesson_ids[cid] = list(range(lesson_id + 1, lesson_id + count + 1))
            for position, lid in enumerate(self.lesson_ids[cid], start=1):
                title = f"{position}. {TOPICS[(position - 1) % len(TOPICS)]}"
                await self.writer.add(
                    Lesson, {"id": lid, "course_id": cid, "position": position, "title": title}
                )
            lesson_id += count
        self.summary.courses = self.spec.courses

    async def add_students(self, bar: ProgressBar | None) -> None:
        """The demo student, then `spec.students` more: groups, enrollments, lesson events."""
        # Every name is drawn before any enrollment (the order the random stream is used in).
        people = [None, *_students(self.spec, self.rng)]
        for index, details in enumerate(people):
            if details is None:
                uid = self.summary.accounts["student"]
            else:
                first, last, email, company = details
                uid = await self._add_user(
                    first,
                    last,
                    email,
                    company,
                    password_hash=None,
                    created_at=self.created + timedelta(minutes=index),
                )
                await self.writer.add(UserRole, {"user_id": uid, "role": Role.STUDENT.value})
            groups = await self._add_memberships(index, uid)
            taken = self.rng.sample(
                list(self.lesson_ids), self.rng.randint(1, self.spec.max_courses_per_student)
            )
            for cid in sorted(taken):
                await self._add_enrollment(uid, cid)
                self.summary.report_rows += len(groups)
            if bar is not None and details is not None:
                bar.advance()
        if bar is not None:
            bar.close()

    async def _add_memberships(self, index: int, uid: int) -> set[int]:
        """Each student in one group, round robin; one in ten in a second one."""
        groups = {self.group_ids[index % len(self.group_ids)]}
        if self.rng.random() < 0.1:
            groups.add(self.rng.choice(self.group_ids))
        for gid in sorted(groups):
            await self.writer.add(
                GroupMembership, {"group_id": gid, "user_id": uid, "added_at": DEMO_EPOCH}
            )
        return groups

    async def _add_enrollment(self, uid: int, cid: int) -> None:
        """An enrollment and its lesson events; its counters are the events written."""
        self.summary.enrollments += 1
        lessons = self.lesson_ids[cid]
        activated = DEMO_EPOCH + timedelta(
            days=self.rng.randint(0, 200), minutes=self.rng.randint(0, 1439)
        )
        expires = activated + timedelta(days=365) if self.rng.random() < 0.3 else None
        viewed, completed = _enrollment_plan(self.rng, len(lessons))
        events = []
        moment = activated
        for position, lid in enumerate(lessons[:viewed]):
            moment = moment + timedelta(hours=self.rng.randint(2, 72))
            done = moment + timedelta(minutes=30) if position < completed else None
            events.append(
                {
                    "enrollment_id": self.summary.enrollments,
                    "lesson_id": lid,
                    "viewed_at": moment,
                    "completed_at": done,
                }
            )
            self.summary.lesson_events += 1 + (done is not None)
        # Parents are buffered before children: a flush may happen at any add.
        await self.writer.add(
            Enrollment,
            {
                "id": self.summary.enrollments,
                "user_id": uid,
                "course_id": cid,
                "activated_at": activated,
                "expires_at": expires,
                "completed_at": events[-1]["completed_at"] if completed == len(lessons) else None,
                "lessons_viewed": viewed,
                "lessons_completed": completed,
            },
        )
        for event in events:
            await self.writer.add(LessonProgress, event)
