"""A real server SIGKILLed during a burst of writes loses no acknowledged write and leaves
nothing half-written (on SQLite and, in the PostgreSQL run, on PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlmodel import col, select

from app.db import Database
from app.models import AuditEvent, Group
from tests.burst import Burst
from tests.live_server import LiveServer
from tests.support import World

WRITERS = 4


async def _integrity(db: Database) -> str:
    if db.dialect != "sqlite":
        return "ok"  # PostgreSQL has no such check; its WAL replay is what is tested here
    async with db.read() as session:
        verdict: str = (await session.execute(sa.text("PRAGMA integrity_check"))).scalar_one()
        return verdict


async def test_sigkill_during_writes_keeps_every_acknowledged_write_whole(
    world: World, db: Database, database_url: str, tmp_path: Path
) -> None:
    token = await world.token(world.owner)
    server = LiveServer(database_url=database_url, logs=tmp_path / "server.log")
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            bursts = [Burst(client, token, prefix=f"Crash{w}") for w in range(WRITERS)]
            writers = [asyncio.create_task(burst.run()) for burst in bursts]
            await asyncio.gather(*(burst.until(15) for burst in bursts))
            # Writes are in flight on every writer when the process dies.
            server.kill()
            await asyncio.gather(*writers)
    finally:
        server.stop()
    acked = {name for burst in bursts for name in burst.acked}
    attempted = set().union(*(burst.attempted_names() for burst in bursts))
    assert len(acked) >= 15 * WRITERS

    server.start()  # recovery happens here, as after a real crash
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            ready = await client.get("/readyz")
            count = await client.post(
                "/graphql",
                json={"query": "{ groups(first: 1) { totalCount } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
    finally:
        server.stop()
    assert ready.status_code == 200

    assert await _integrity(db) == "ok"
    groups = {g.name: g.id for g in await world.scalars(select(Group))}
    found = {name for name in groups if name.startswith("Crash")}
    assert acked <= found, f"lost acknowledged writes: {sorted(acked - found)}"
    assert found <= attempted
    assert count.json()["data"]["groups"]["totalCount"] == len(groups)
    # Whole: every group written has its audit event and every audit event its group.
    events = await world.scalars(select(AuditEvent).where(col(AuditEvent.action) == "group.create"))
    assert sorted(e.target_id or 0 for e in events) == sorted(groups[n] or 0 for n in found)
