"""Is the database ready to serve: `/readyz` and `groupanalyst serve` ask the same question.

Invariant: ready means the database answers, its schema is at this code's migration head
(`alembic_version`), and its tables can be read; anything else is a reason a person can act
on (run `groupanalyst migrate`, restore the file, start PostgreSQL). The check never
creates anything: a missing SQLite file stays missing (`app.db.create_engine`).
"""

from __future__ import annotations

import functools
import logging

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.db import Database, is_unavailable, sqlite_path
from app.migrate import alembic_config

log = logging.getLogger("groupanalyst.readiness")


@functools.cache
def migration_head() -> str:
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None
    return head


async def not_ready_because(db: Database) -> str | None:
    """None when ready; otherwise why not, in a sentence that names no path or secret."""
    path = sqlite_path(db.engine.url.render_as_string(hide_password=False))
    if path is not None and not path.exists():
        return "the SQLite database file is missing; restore it or run `groupanalyst migrate`"
    try:
        async with db.read() as session:
            versions = list(
                (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars()
            )
            if versions == [migration_head()]:
                await session.execute(text("SELECT 1 FROM user_account LIMIT 1"))
    except (DBAPIError, OSError) as exc:
        # DBAPIError too: PostgreSQL reports a missing table as a ProgrammingError.
        if not (is_unavailable(exc) or isinstance(exc, DBAPIError)):
            raise
        log.warning("not ready: %s", exc)
        if "no such table" in str(exc) or "does not exist" in str(exc):
            return "the database has no schema; run `groupanalyst migrate`"
        return "the database cannot be reached"
    if versions != [migration_head()]:
        found = ", ".join(versions) or "none"
        return (
            f"the database schema is at revision {found}, not {migration_head()}; "
            "run `groupanalyst migrate`"
        )
    return None
