"""The migrated schema is exactly what the models describe."""

from __future__ import annotations

from typing import Any

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
