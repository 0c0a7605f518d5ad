"""The transactional outbox and `groupanalyst worker`: events written with their change, one id
per event, delivered by exactly one worker, expiries announced when the time passes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from app import audit
from app.db import Database
from app.models import OutboxEntry, WorkerLease, utcnow
from app.settings import Settings
from app.worker import LEASE_NAME, AnotherWorkerRuns, Worker
from tests.cast import Cast, call
from tests.support import Api, World, gid
from tests.test_account_status import DEACTIVATE
from tests.test_assignment_admin import ASSIGN
from tests.test_lesson_events import COMPLETE, lessons_of

ROOT = Path(__file__).resolve().parent.parent


async def entries(world: World, type_: str | None = None) -> list[OutboxEntry]:
    stmt = select(OutboxEntry).order_by(col(OutboxEntry.id))
    if type_ is not None:
        stmt = stmt.where(col(OutboxEntry.type) == type_)
    return await world.scalars(stmt)


async def test_a_change_writes_its_event_once_per_consumer_with_one_id(
    api: Api, cast: Cast
) -> None:
    group = await cast.world.group("Cohort")
    variables = {"user": gid("User", cast.analyst.id), "group": gid("Group", group.id)}
    await call(api, ASSIGN, variables, cast.token("admin"), None)
    rows = await entries(cast.world, "analyst.assigned")
    assert sorted(r.consumer for r in rows) == ["live", "webhook"]
    assert len({r.event_id for r in rows}) == 1
    assert rows[0].event_id.startswith("evt_") and len(rows[0].event_id) == 36
    assert rows[0].subject["analyst"] == gid("User", cast.analyst.id)
    assert rows[0].subject["group"] == gid("Group", group.id)
    # Repeating the assignment changes nothing, so it announces nothing.
    await call(api, ASSIGN, variables, cast.token("admin"), None)
    assert len(await entries(cast.world, "analyst.assigned")) == 2


async def _fail_after_an_event(db: Database, group_id: int | None, user_id: int | None) -> None:
    async with db.write() as session:
        audit.record(
            session,
            actor_id=None,
            action="group.members.add",
            target_type="Group",
            target_id=group_id,
            details={"userIds": [gid("User", user_id)]},
        )
        await session.flush()
        raise RuntimeError("the change fails after its event was written")


async def test_deactivating_a_user_announces_it(api: Api, cast: Cast) -> None:
    variables = {"userId": gid("User", cast.analyst.id)}
    await call(api, DEACTIVATE, variables, cast.token("admin"), None)
    rows = await entries(cast.world, "user.deactivated")
    assert sorted(r.consumer for r in rows) == ["live", "webhook"]
    assert rows[0].subject == {"user": gid("User", cast.analyst.id)}


async def test_a_refused_or_rolled_back_change_writes_no_event(api: Api, cast: Cast) -> None:
    group = await cast.world.group("Cohort")
    variables = {"user": gid("User", cast.analyst.id), "group": gid("Group", group.id)}
    await call(api, ASSIGN, variables, cast.token("analyst"), "FORBIDDEN")
    with pytest.raises(RuntimeError, match="fails after"):
        await _fail_after_an_event(cast.world.db, group.id, cast.student.id)
    assert await entries(cast.world) == []


async def test_completing_a_course_announces_the_lesson_and_the_course(
    api: Api, cast: Cast
) -> None:
    course = await cast.world.course("Safety", lessons=2)
    await cast.world.enroll(cast.student, course)
    lessons = await lessons_of(cast.world, course)
    await call(api, COMPLETE, {"lesson": lessons[0]}, cast.token("student"), None)
    assert await entries(cast.world, "course.completed") == []
    await call(api, COMPLETE, {"lesson": lessons[1]}, cast.token("student"), None)
    (done,) = await entries(cast.world, "course.completed")
    assert done.consumer == "webhook"
    assert done.subject == {
        "user": gid("User", cast.student.id),
        "course": gid("Course", course.id),
    }
    assert len(await entries(cast.world, "lesson.completed")) == 4  # 2 events x 2 consumers
    # Completing a lesson again changes nothing and announces nothing.
    await call(api, COMPLETE, {"lesson": lessons[1]}, cast.token("student"), None)
    assert len(await entries(cast.world, "lesson.completed")) == 4


async def test_a_worker_round_hands_every_entry_over_once(
    api: Api, cast: Cast, settings: Settings, backend: str
) -> None:
    group = await cast.world.group("Cohort")
    variables = {"user": gid("User", cast.analyst.id), "group": gid("Group", group.id)}
    await call(api, ASSIGN, variables, cast.token("admin"), None)
    worker = Worker(cast.world.db, settings)
    await worker.acquire()
    async with httpx.AsyncClient() as client:
        # On PostgreSQL the change's own transaction announced its live entry (and marked it
        # processed, `app.live_commit`): the worker has the webhook entry left.
        assert await worker.round(client) == (1 if backend == "postgresql" else 2)
        assert await worker.round(client) == 0
    assert all(r.processed_at is not None for r in await entries(cast.world))
    line = await worker.health_line()
    assert "healthy" in line and "outbox pending webhook=0 live=0" in line
    await worker.release()


async def test_an_expiry_is_announced_once_when_its_time_passes(
    world: World, settings: Settings
) -> None:
    analyst = await world.user("Ana", "Analyst")
    group = await world.group("Cohort")
    soon = utcnow() + timedelta(seconds=1)
    assignment = await world.assign(analyst, group, expires_at=soon)
    later = await world.group("Later")
    await world.assign(analyst, later, expires_at=utcnow() + timedelta(days=1))
    worker = Worker(world.db, settings)
    await worker.acquire()
    async with httpx.AsyncClient() as client:
        await worker.round(client)
        assert await entries(world, "analyst.assignment.expired") == []
        await asyncio.sleep(1.1)
        await worker.round(client)
        await worker.round(client)
    rows = await entries(world, "analyst.assignment.expired")
    assert sorted(r.consumer for r in rows) == ["live", "webhook"]
    assert rows[0].subject["assignment"] == gid("GroupAnalystAssignment", assignment.id)
    assert rows[0].occurred_at == soon
    await worker.release()


async def test_sqlite_runs_one_worker_and_postgresql_several(
    db: Database, settings: Settings, backend: str
) -> None:
    first, second = Worker(db, settings), Worker(db, settings)
    second.holder = "elsewhere.example:4242"
    await first.acquire()
    if backend == "postgresql":
        await second.acquire()  # nothing to hold: claims are row locks
        return
    with pytest.raises(AnotherWorkerRuns, match="allows one worker"):
        await second.acquire()
    await first.release()
    await second.acquire()
    async with db.read() as session:
        lease = await session.get(WorkerLease, LEASE_NAME)
    assert lease is not None and lease.holder == "elsewhere.example:4242"


async def test_a_dead_workers_lease_on_this_host_is_taken_over(
    db: Database, settings: Settings, backend: str
) -> None:
    if backend != "sqlite":
        assert db.dialect == "postgresql"  # no lease there
        return
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    dead = Worker(db, settings)
    dead.holder = f"{dead.holder.rsplit(':', 1)[0]}:{gone.pid}"
    await dead.acquire()
    await Worker(db, settings).acquire()


def _worker_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "GROUPANALYST_WORKER_POLL_MS": "100",
        "GROUPANALYST_WORKER_HEALTH_SECONDS": "1",
    }


async def _read_until(stream: asyncio.StreamReader, needle: str, seconds: float = 30) -> str:
    seen = ""
    async with asyncio.timeout(seconds):
        while needle not in seen:
            line = await stream.readline()
            if not line:
                break
            seen += line.decode()
    return seen


async def _start_worker(database_url: str) -> asyncio.subprocess.Process:
    """`python -m app worker` on `database_url`, its log (stderr) piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "worker",
        cwd=ROOT,
        env=_worker_env(database_url),
        stderr=asyncio.subprocess.PIPE,
    )


async def test_worker_process_logs_health_and_stops_gracefully_on_sigterm(
    database_url: str, world: World, backend: str
) -> None:
    proc = await _start_worker(database_url)
    assert proc.stderr is not None
    try:
        log = await _read_until(proc.stderr, "healthy")
        assert "outbox pending webhook=0 live=0" in log
        if backend == "sqlite":
            second = await _start_worker(database_url)
            _, err = await asyncio.wait_for(second.communicate(), 60)
            assert second.returncode == 1
            assert "SQLite allows one worker" in err.decode()
        proc.send_signal(signal.SIGTERM)
        rest = await _read_until(proc.stderr, "stopped")
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        assert "stopped" in rest
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    # Stopped gracefully, it released the SQLite lease: the next worker starts at once.
    await Worker(world.db, Settings(database_url=database_url)).acquire()
