"""The migrated schema is exactly what the models describe."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from app.db import Database
from app.migrate import alembic_config, upgrade_async
from app.models import Group, UTCDateTime, utcnow
from tests.support import fullwidth


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


def _downgrade_before_0008(url: str) -> None:
    command.downgrade(alembic_config(url), "0007")


async def _insert_variants(db: Database, emails: list[str], groups: list[str]) -> None:
    """Rows as revision 0007 keyed them (lower-cased)."""
    now = sa.bindparam("now", utcnow(), type_=UTCDateTime())
    users = sa.text(
        "INSERT INTO user_account (first_name, last_name, email, email_key, created_at) "
        "VALUES ('F', 'L', :value, :key, :now)"
    ).bindparams(now)
    named = sa.text(
        "INSERT INTO student_group (name, name_key, created_at) VALUES (:value, :key, :now)"
    ).bindparams(now)
    async with db.write() as session:
        for statement, values in ((users, emails), (named, groups)):
            for value in values:
                await session.execute(statement, {"value": value, "key": value.lower()})


async def test_migration_0008_recomputes_keys(db: Database, database_url: str) -> None:
    await db.dispose()
    await asyncio.to_thread(_downgrade_before_0008, database_url)
    await _insert_variants(
        db,
        [fullwidth("STUDENT") + "@example.com", "Stra\u00dfe@example.com"],
        [fullwidth("C") + "ohort 1"],
    )
    await db.dispose()
    await upgrade_async(database_url)
    async with db.read() as session:
        emails = (await session.execute(sa.text("SELECT email_key FROM user_account"))).all()
        groups = (await session.execute(sa.text("SELECT name_key FROM student_group"))).all()
    assert sorted(e for (e,) in emails) == ["strasse@example.com", "student@example.com"]
    assert [g for (g,) in groups] == ["cohort 1"]


async def test_migration_0008_refuses_rows_that_would_collide(
    db: Database, database_url: str
) -> None:
    await db.dispose()
    await asyncio.to_thread(_downgrade_before_0008, database_url)
    variants = ["student@example.com", fullwidth("s") + "tudent@example.com"]
    await _insert_variants(db, variants, ["Cohort 1", fullwidth("C") + "ohort 1"])
    await db.dispose()
    with pytest.raises(Exception, match=r"(?s)user_account.*would collide.*tudent@example.com"):
        await upgrade_async(database_url)
    async with db.read() as session:
        keys = (await session.execute(sa.text("SELECT email_key FROM user_account"))).all()
        revision = (await session.execute(sa.text("SELECT version_num FROM alembic_version"))).one()
    # Nothing changed: the keys are as they were, the schema still at 0007.
    assert sorted(k for (k,) in keys) == sorted(v.lower() for v in variants)
    assert revision == ("0007",)
