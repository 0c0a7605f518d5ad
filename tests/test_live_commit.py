"""Live outbox entries announce themselves when their transaction commits (`app.live_commit`):
this process's listeners are called after the commit (the SQLite feed wakes at once), and on
PostgreSQL each entry is NOTIFYed by its own transaction and written already processed; a
rolled-back change announces nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from app.db import Database
from app.events import LIVE, Event, add_event
from app.live_commit import COMMIT_LISTENERS, LIVE_CHANNEL
from app.models import OutboxEntry, utcnow
from tests.support import World

EVENT = Event("lesson.completed", {"user": "VXNlcjox", "course": "Q291cnNlOjE="}, (LIVE,))


@pytest.fixture
def commits() -> Iterator[list[int]]:
    """How many times this process's commit listeners were called."""
    calls: list[int] = []

    def listener() -> None:
        calls.append(1)

    COMMIT_LISTENERS.add(listener)
    yield calls
    COMMIT_LISTENERS.discard(listener)


async def _live_entries(db: Database) -> list[OutboxEntry]:
    async with db.read() as session:
        stmt = select(OutboxEntry).where(col(OutboxEntry.consumer) == LIVE)
        return list((await session.execute(stmt)).scalars())


async def _failing_change(db: Database) -> None:
    async with db.write() as session:
        add_event(session, EVENT, utcnow())
        await session.flush()
        raise RuntimeError("the change fails after writing its event")


async def test_a_commit_with_live_entries_wakes_this_process_once(
    world: World, commits: list[int], backend: str
) -> None:
    async with world.db.write() as session:
        add_event(session, EVENT, utcnow())
        add_event(session, EVENT, utcnow())
        assert commits == []  # not before the commit
    assert commits == [1]
    async with world.db.write() as session:
        await session.execute(select(OutboxEntry.id))  # a write without live entries
    assert commits == [1]
    (first, second) = await _live_entries(world.db)
    processed = backend == "postgresql"
    assert (first.processed_at is not None, second.processed_at is not None) == (
        processed,
        processed,
    )


async def test_a_rolled_back_change_announces_nothing(world: World, commits: list[int]) -> None:
    with pytest.raises(RuntimeError):
        await _failing_change(world.db)
    assert commits == []
    assert await _live_entries(world.db) == []


async def test_postgresql_notifies_each_entry_as_it_commits(
    world: World, database_url: str, backend: str
) -> None:
    if backend != "postgresql":
        assert world.db.dialect == "sqlite"  # the SQLite feed reads the table itself
        return
    url = make_url(database_url).set(drivername="postgresql")
    heard: asyncio.Queue[str] = asyncio.Queue()
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.add_listener(LIVE_CHANNEL, lambda *args: heard.put_nowait(args[3]))
        with pytest.raises(RuntimeError):
            await _failing_change(world.db)  # rolled back: never heard
        async with world.db.write() as session:
            add_event(session, EVENT, utcnow())
        (entry,) = await _live_entries(world.db)
        assert await asyncio.wait_for(heard.get(), 10) == str(entry.id)
        await asyncio.sleep(0.2)
        assert heard.empty()
    finally:
        await conn.close()
