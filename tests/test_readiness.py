"""`/readyz` is ready only when the database is at the migration head and readable, and
`serve` refuses a database it could not use. Before, a deleted or empty SQLite file was
"ready" (and the check created an empty file)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from alembic import command

from app.cli import main
from app.db import Database
from app.main import create_app
from app.migrate import alembic_config, upgrade_async
from app.settings import Settings
from tests.support import Api


async def _readyz(db: Database, settings: Settings) -> httpx.Response:
    app = create_app(settings, db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        return await client.get("/readyz")


async def test_a_migrated_database_is_ready(api: Api) -> None:
    response = await api.client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


@pytest.fixture
async def sqlite_copy(tmp_path: Path) -> AsyncIterator[tuple[Path, Database]]:
    """A migrated SQLite file, whatever the backend under test (files are SQLite's)."""
    path = tmp_path / "copy.db"
    await upgrade_async(f"sqlite+aiosqlite:///{path}")
    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    yield path, db
    await db.dispose()


async def test_a_deleted_sqlite_file_is_not_ready_and_not_recreated(
    sqlite_copy: tuple[Path, Database], settings: Settings
) -> None:
    path, db = sqlite_copy
    assert (await _readyz(db, settings)).status_code == 200
    path.unlink()
    response = await _readyz(db, settings)
    assert response.status_code == 503
    assert "missing" in response.json()["reason"]
    # Neither the check nor a request made an empty database in its place.
    body = (await _readyz(db, settings)).json()
    assert body["status"] == "not ready"
    assert not path.exists()


async def test_an_empty_sqlite_file_is_not_ready(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    try:
        response = await _readyz(db, settings)
    finally:
        await db.dispose()
    assert response.status_code == 503
    assert "no schema" in response.json()["reason"]


async def test_a_database_behind_the_head_is_not_ready(
    db: Database, database_url: str, settings: Settings
) -> None:
    await db.dispose()
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "-1")
    response = await _readyz(db, settings)
    assert response.status_code == 503
    assert "groupanalyst migrate" in response.json()["reason"]


async def test_an_unreachable_database_is_not_ready(settings: Settings) -> None:
    down = Database.from_url("postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none")
    try:
        response = await _readyz(down, settings)
    finally:
        await down.dispose()
    assert (response.status_code, response.json()["reason"]) == (
        503,
        "the database cannot be reached",
    )


def test_serve_refuses_an_unmigrated_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def started(*_args: object, **_kwargs: object) -> None:
        pytest.fail("the server was started")

    monkeypatch.setattr(uvicorn, "run", started)
    empty = tmp_path / "empty.db"
    empty.touch()
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{empty}")
    assert main(["serve", "--port", "1"]) == 1
    assert "groupanalyst migrate" in capsys.readouterr().err
    missing = tmp_path / "missing.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{missing}")
    assert main(["serve", "--port", "1"]) == 1
    assert "missing" in capsys.readouterr().err
    assert not missing.exists()
