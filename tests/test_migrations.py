"""The migrated schema is exactly what the models describe."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from app.db import Database
from app.models import Group, utcnow


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def test_migrations_match_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_every_table_is_migrated(db: Database) -> None:
    async with db.engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
    assert set(SQLModel.metadata.tables) <= names


async def test_ids_of_deleted_rows_are_never_reused(db: Database) -> None:
    """The audit trail keeps ids of deleted rows; a new row must not answer to one of them."""
    async with db.write() as session:
        first = Group(name="First", name_key="first", created_at=utcnow())
        session.add(first)
        await session.flush()
        first_id = first.id
        await session.delete(first)
    async with db.write() as session:
        second = Group(name="Second", name_key="second", created_at=utcnow())
        session.add(second)
        await session.flush()
        assert first_id is not None and second.id is not None
        assert second.id > first_id


async def test_every_table_with_an_id_never_reuses_ids_on_sqlite(
    db: Database, backend: str
) -> None:
    """AUTOINCREMENT on every table whose rows others refer to by id (audit, automation)."""
    if backend != "sqlite":
        # PostgreSQL sequences never hand out an id twice; nothing to check there.
        assert db.dialect == "postgresql"
        return
    async with db.read() as session:
        rows = (await session.execute(sa.text("SELECT name, sql FROM sqlite_master"))).all()
    sql = {name: text for name, text in rows if text}
    with_ids = [
        t.name
        for t in SQLModel.metadata.sorted_tables
        if "id" in t.columns and t.name != "login_failure"
    ]
    assert with_ids
    missing = [name for name in with_ids if "AUTOINCREMENT" not in sql[name]]
    assert missing == []
