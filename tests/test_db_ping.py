"""Pooled PostgreSQL connections are pinged only after sitting idle (`app.db`,
`PING_IDLE_SECONDS`), and one whose server process died while idle is replaced without the
request seeing an error. SQLite has no server to lose: its connections are never pinged."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from app import db as db_module
from app.db import Database


@pytest.fixture
def pings(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    do_ping = db.engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        seen.append(1)
        return do_ping(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counting)
    return seen


async def _backend_pid(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_in_use_again_at_once_is_not_pinged(
    db: Database, backend: str, pings: list[int]
) -> None:
    for _ in range(3):
        async with db.read() as session:
            assert (await session.execute(sa.text("SELECT 1"))).scalar_one() == 1
    assert pings == []
    if backend == "postgresql":
        assert await _backend_pid(db) == await _backend_pid(db)


async def test_an_idle_connection_whose_server_died_is_replaced(
    db: Database, database_url: str, backend: str, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "sqlite":
        monkeypatch.setattr(db_module, "PING_IDLE_SECONDS", 0.0)
        async with db.read() as session:
            assert (await session.execute(sa.text("SELECT 1"))).scalar_one() == 1
        assert pings == []
        return
    dead = await _backend_pid(db)
    other = create_async_engine(database_url)
    try:
        async with other.connect() as conn:
            await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": dead})
    finally:
        await other.dispose()
    monkeypatch.setattr(db_module, "PING_IDLE_SECONDS", 0.0)
    alive = await _backend_pid(db)
    assert alive != dead
    assert pings  # the dead one was pinged, failed, and replaced
