"""Concurrent writers wait for each other instead of failing with "database is locked"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from app.db import Database
from app.models import Group, utcnow


async def _writer(db: Database, n: int) -> None:
    async with db.write() as session:
        # Read first, then write: the pattern that deadlocks under deferred transactions.
        await session.execute(select(func.count()).select_from(Group))
        await asyncio.sleep(0.01)
        session.add(Group(name=f"G{n}", name_key=f"g{n}", created_at=utcnow()))


async def test_two_concurrent_writers_both_succeed(database_url: str, backend: str) -> None:
    # Two engines: two independent connection pools, as two processes would have.
    first, second = Database.from_url(database_url), Database.from_url(database_url)
    try:
        await asyncio.gather(*(_writer(db, n) for n, db in enumerate([first, second] * 5)))
        async with first.read() as session:
            assert (
                await session.execute(select(func.count()).select_from(Group))
            ).scalar_one() == 10
    finally:
        await first.dispose()
        await second.dispose()


def test_sqlite_connections_have_the_pragmas(tmp_path: Path) -> None:
    # Always on a SQLite file of its own: this checks the embedded default's engine setup.
    async def pragmas() -> tuple[str, int, int]:
        # An empty file is a SQLite database; only migrations create missing ones.
        (tmp_path / "pragmas.db").touch()
        db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
        try:
            async with db.read() as session:
                conn = await session.connection()
                mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
                fk = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
                timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
            return mode, fk, timeout
        finally:
            await db.dispose()

    assert asyncio.run(pragmas()) == ("wal", 1, 30_000)
