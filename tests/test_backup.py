"""`groupanalyst backup`: a consistent live copy of SQLite, written atomically, restorable."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app import backup
from app.cli import main
from app.db import Database
from app.migrate import upgrade
from tests.burst import Burst
from tests.live_server import running
from tests.support import World


@pytest.fixture
def sqlite_url(backend: str, database_url: str, tmp_path: Path) -> str:
    """The command copies SQLite files: on the PostgreSQL run these tests use a SQLite file
    of their own (PostgreSQL's refusal is tested below)."""
    if backend == "sqlite":
        return database_url
    url = f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
    upgrade(url)
    return url


@pytest.fixture
async def sqlite_world(sqlite_url: str) -> AsyncIterator[World]:
    db = Database.from_url(sqlite_url)
    try:
        yield await World.create(db)
    finally:
        await db.dispose()


def _db_path(sqlite_url: str) -> Path:
    return Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))


def _groups(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM student_group")}


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        verdict: str = conn.execute("PRAGMA integrity_check").fetchone()[0]
        return verdict


async def test_copy_is_whole_private_and_checked(
    sqlite_world: World, sqlite_url: str, tmp_path: Path
) -> None:
    for n in range(30):
        await sqlite_world.group(f"Copied {n}")
    out = tmp_path / "nightly.db"
    seen: list[tuple[int, int]] = []
    size = backup.backup(sqlite_url, out, lambda done, total: seen.append((done, total)))
    assert size == out.stat().st_size > 0
    assert out.stat().st_mode & 0o777 == 0o600
    assert _integrity(out) == "ok"
    assert _groups(out) == _groups(_db_path(sqlite_url))
    assert seen and seen[-1][0] == seen[-1][1]  # progress reached the end
    assert not (tmp_path / ".nightly.db.partial").exists()


def test_refusals_name_the_cause(sqlite_url: str, tmp_path: Path) -> None:
    live = _db_path(sqlite_url)
    with pytest.raises(backup.BackupError, match="live database itself"):
        backup.backup(sqlite_url, live)
    with pytest.raises(backup.BackupError, match="live database itself"):
        backup.backup(sqlite_url, Path(f"{live}-wal"))
    missing = tmp_path / "nowhere.db"
    with pytest.raises(backup.BackupError, match="no database file"):
        backup.backup(f"sqlite+aiosqlite:///{missing}", tmp_path / "out.db")
    assert not missing.exists()  # not created by looking


def test_postgresql_is_pointed_to_pg_dump(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u:secret@db.internal/ga")
    assert main(["backup", "--out", str(tmp_path / "x.db")]) == 1
    err = capsys.readouterr().err
    assert "pg_dump" in err and "README" in err and "secret" not in err
    assert not (tmp_path / "x.db").exists()


def test_an_interrupted_backup_leaves_the_previous_one(sqlite_url: str, tmp_path: Path) -> None:
    """SIGKILL in the middle of copying (a real process, one page per step)."""
    out = tmp_path / "b.db"
    backup.backup(sqlite_url, out)
    before = out.read_bytes()
    script = (
        "import os, signal, sys; from pathlib import Path; from app import backup\n"
        "backup.PAGES_PER_STEP = 1\n"
        "def die(done, total):\n"
        "    if done >= 3: os.kill(os.getpid(), signal.SIGKILL)\n"
        "backup.backup(sys.argv[1], Path(sys.argv[2]), die)\n"
    )
    done = subprocess.run(  # noqa: S603  (our own code)
        [sys.executable, "-c", script, sqlite_url, str(out)], timeout=120, check=False
    )
    assert done.returncode == -9
    assert out.read_bytes() == before and _integrity(out) == "ok"


async def test_backup_during_a_burst_of_writes_restores_every_acknowledged_write(
    sqlite_world: World, sqlite_url: str, tmp_path: Path
) -> None:
    token = await sqlite_world.token(sqlite_world.owner)
    out = tmp_path / "during.db"
    with running(sqlite_url, tmp_path / "server.log") as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            burst = Burst(client, token)
            writer = asyncio.create_task(burst.run())
            await burst.until(20)
            acked_before = list(burst.acked)
            process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "app", "backup", "--out", str(out)),
                env={**os.environ, "DATABASE_URL": sqlite_url},
            )
            assert await process.wait() == 0
            await burst.until(len(burst.acked) + 20)
            burst.stop()
            await writer
    acked = burst.acked
    # Restore: the copy replaces the database file (the server is stopped; no -wal is kept).
    restored = tmp_path / "restored.db"
    shutil.copyfile(out, restored)
    assert _integrity(restored) == "ok"
    in_copy = {name for name in _groups(restored) if name.startswith("Burst ")}
    assert set(acked_before) <= in_copy
    assert in_copy <= burst.attempted_names()
    assert len(in_copy) < len(acked)  # writes after the backup are not in it
    with running(f"sqlite+aiosqlite:///{restored}", tmp_path / "restored.log") as again:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                again.graphql_url,
                json={"query": "{ groups(first: 1) { totalCount } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert response.json()["data"]["groups"]["totalCount"] == len(_groups(restored))
