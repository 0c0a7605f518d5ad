"""Database engine and sessions.

Invariants:
- one `AsyncSession` is never shared between concurrent tasks: loaders open a short read
  session per batch (`Database.read()`), a mutation runs in one write transaction
  (`Database.write()`);
- on SQLite, write transactions start with `BEGIN IMMEDIATE`, so two writers queue on the
  busy timeout instead of failing with "database is locked" when one upgrades a read lock;
  read transactions start with a plain `BEGIN` and, under WAL, see one snapshot;
- on PostgreSQL, `Database.read()` sessions run in autocommit: each statement sees its own
  snapshot, as it would inside a READ COMMITTED transaction, without the BEGIN and ROLLBACK
  round trips; nothing writes through them, and nothing that needs a transaction (an advisory
  lock, a server-side cursor, one snapshot for several statements) runs in them;
- `Database.snapshot()` reads one consistent snapshot however long it streams: on PostgreSQL a
  REPEATABLE READ, READ ONLY transaction; on SQLite one read transaction under WAL;
- database errors never quote statement parameters (`hide_parameters`), so logs of
  unexpected failures hold no personal data;
- a PostgreSQL connection that sat in the pool for `PING_IDLE_SECONDS` or more is pinged
  before its next use and replaced if the ping fails (`_install_postgres_ping`);
- every SQLite connection has WAL, `synchronous=NORMAL`, `foreign_keys=ON` and a busy timeout;
- outside migrations, a SQLite file is opened, never created (`create_engine`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

_WRITE = "groupanalyst_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# A PostgreSQL connection back in the pool for longer than this is pinged before its next use.
PING_IDLE_SECONDS = 1.0
_IDLE_SINCE = "groupanalyst_idle_since"


# What a client is told while the database cannot be reached, and when to try again.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "The database cannot be reached right now; try again shortly."


def is_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or used (down, file gone, tables missing), as
    opposed to a bug in a statement."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    # OSError: asyncpg's refused or reset connections arrive unwrapped.
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout | OSError)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    if parsed.database.startswith("file:"):
        # The URI form `_existing_only` writes.
        return Path(unquote(parsed.database.removeprefix("file:")))
    return Path(parsed.database)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _existing_only(url: str, path: Path) -> str:
    """The URL opening `path` read-write but never creating it (a SQLite URI filename)."""
    parsed = make_url(url)
    uri = f"file:{quote(str(path))}"
    return parsed.set(
        database=uri, query={**parsed.query, "mode": "rw", "uri": "true"}
    ).render_as_string(hide_password=False)


def create_engine(url: str, *, create_file: bool = False, **kwargs: Any) -> AsyncEngine:
    """`create_file`: only migrations may create a SQLite file; the server and the other
    commands open an existing one, so a deleted or mistyped path fails instead of becoming
    an empty database."""
    # Statement parameters (emails, names, token digests) never appear in an exception's text,
    # so a logged database failure cannot leak them.
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None and create_file:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif path is not None:
            url = _existing_only(url, path)
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _install_sqlite_hooks(engine)
        return engine
    engine = create_async_engine(url, **kwargs)
    _install_postgres_ping(engine)
    return engine


def _install_postgres_ping(engine: AsyncEngine) -> None:
    """Pessimistic disconnect handling, paid only by connections that sat idle: a connection
    checked out again within `PING_IDLE_SECONDS` of its last use is used as it is, an older
    one is pinged first, and one that fails the ping is replaced (the pool tries a fresh
    connection; SQLAlchemy's recipe for a checkout handler). `pool_pre_ping` pinged at every
    checkout, three round trips each on asyncpg (BEGIN, the ping, ROLLBACK), nine per
    request. A server restarted within the second after a connection's last use still fails
    that connection's next statement once, and the pool then replaces every connection."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("a pooled connection failed its ping") from error


class MissingDatabase(FileNotFoundError):
    pass


class Database:
    """The engine plus the two ways of opening a session."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # PostgreSQL reads run in autocommit: at READ COMMITTED every statement takes its own
        # snapshot inside a transaction too, so only the BEGIN and ROLLBACK round trips go
        # (two of the four a read session cost). Reads that need one snapshot use `snapshot`.
        reads = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._read = async_sessionmaker(reads, expire_on_commit=False, autoflush=False)
        self._write = async_sessionmaker(
            engine, expire_on_commit=False, execution_options={_WRITE: True}
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        """MissingDatabase for a SQLite file that does not exist (only migrations create one)."""
        path = sqlite_path(url)
        if path is not None and not path.exists():
            raise MissingDatabase(
                f"there is no database file at {path}; run `groupanalyst migrate` to create it"
            )
        return cls(create_engine(url, **kwargs))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short read-only session (SQLite: a read transaction rolled back on exit;
        PostgreSQL: autocommit)."""
        async with self._read() as session:
            yield session

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection whose every statement sees the same snapshot (for exports).

        Stream from it with `conn.stream(...)`; it is rolled back on exit.
        """
        async with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                await conn.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            # Closing the connection rolls the transaction back.
            await conn.begin()
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed on success, rolled back on any exception."""
        async with self._write() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
