"""Fixtures: a fresh, migrated database per test, on SQLite or PostgreSQL.

The backend is chosen by the environment: with `GROUPANALYST_TEST_POSTGRES_URL` (an admin
URL, set by `tests/with_postgres.sh`) every test gets its own PostgreSQL database cloned from
a migrated template; without it, its own SQLite file copied from a migrated template.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import Database
from app.demo import DemoSpec, DemoSummary, load_demo
from app.main import create_app
from app.migrate import upgrade
from app.settings import Settings
from tests.attack_scene import Scene, build_scene
from tests.cast import Cast
from tests.support import Api, World

PG_ADMIN_URL = os.environ.get("GROUPANALYST_TEST_POSTGRES_URL")


def _pg_url(name: str) -> str:
    assert PG_ADMIN_URL is not None
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def _pg_admin(*statements: str) -> None:
    assert PG_ADMIN_URL is not None
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def backend() -> str:
    return "postgresql" if PG_ADMIN_URL else "sqlite"


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database that each test's database is cloned from."""
    if PG_ADMIN_URL:
        name = f"ga_template_{os.getpid()}"
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
        upgrade(_pg_url(name))
        yield name
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        yield str(path)


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    if PG_ADMIN_URL:
        name = f"ga_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
        yield _pg_url(name)
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path / "test.db"
        shutil.copyfile(template_database, path)
        yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # No front-end build unless a test makes one there (tests/test_web.py): the API's tests
    # do not depend on whether `make web` ran.
    return Settings(
        database_url=database_url, secret_key="test-secret", web_dist=tmp_path / "web-dist"
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def world(db: Database) -> World:
    return await World.create(db)


@pytest.fixture
async def api(db: Database, settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings, db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client)


@pytest.fixture
async def cast(world: World) -> Cast:
    """One user per role (student, analyst, admin, plus the owner) with a token each."""
    return await Cast.create(world)


@pytest.fixture
async def demo(db: Database) -> DemoSummary:
    """The demo world (`groupanalyst demo`), small: 60 students in 4 groups, 3 courses."""
    return await load_demo(db, DemoSpec(students=60, groups=4, courses=3, seed=7))


@pytest.fixture
async def scene(world: World) -> Scene:
    """The attack tests' world: analysts, co-analysts, an expired one, students, two groups."""
    return await build_scene(world)
