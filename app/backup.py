"""`groupanalyst backup --out FILE`: a consistent copy of the SQLite database, taken live.

Invariants:
- the copy is one snapshot: the source connection holds a read transaction for the whole
  backup (WAL lets the server keep writing meanwhile), so the copy holds exactly the
  transactions committed before the backup began, whole, and none after;
- the copy is written next to FILE under a hidden name, checked (`PRAGMA integrity_check`),
  synced to disk and only then renamed to FILE: FILE is either the previous file or a
  complete backup, never half of one (a crash leaves at most the hidden partial file);
- the copy is readable by its owner only (it holds personal data) and is a plain database in
  rollback-journal mode: restoring is copying it over the database file (README);
- PostgreSQL is refused with a pointer to pg_dump: this command only speaks SQLite.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from app.db import is_sqlite, sqlite_path
from app.progress_bar import ProgressBar

PAGES_PER_STEP = 1024


class BackupError(Exception):
    """A backup that cannot be taken; the message says why and what to do."""


Progress = Callable[[int, int], None]  # (pages copied, pages in all)


def _source(url: str, out: Path) -> sqlite3.Connection:
    if not is_sqlite(url):
        raise BackupError(
            "DATABASE_URL is PostgreSQL: back it up with pg_dump (see 'Backup and restore' "
            "in the README); this command copies SQLite databases only."
        )
    path = sqlite_path(url)
    if path is None:
        raise BackupError("DATABASE_URL names an in-memory SQLite database: nothing to copy.")
    if not path.is_file():
        raise BackupError(f"no database file at {path}")
    live = {path.resolve(), *(Path(f"{path.resolve()}{end}") for end in ("-wal", "-shm"))}
    if out.resolve() in live:
        raise BackupError(f"--out {out} is the live database itself; choose another file")
    # mode=rw: never create an empty database where the real one was expected.
    return sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source: sqlite3.Connection, partial: Path, progress: Progress | None) -> None:
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    target = sqlite3.connect(partial, isolation_level=None)
    try:
        # Hold one snapshot for every step, so writes meanwhile neither show up half nor
        # restart the copy.
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()

        def report(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        source.backup(target, pages=PAGES_PER_STEP, progress=report)
        source.execute("ROLLBACK")
        # A self-contained file: no -wal beside it to forget when copying it around.
        target.execute("PRAGMA journal_mode=DELETE")
        (verdict,) = target.execute("PRAGMA integrity_check").fetchone()
        if verdict != "ok":
            raise BackupError(f"the copy failed its integrity check: {verdict}")
    finally:
        target.close()
    with partial.open("rb+") as synced:
        os.fsync(synced.fileno())


def backup(url: str, out: Path, progress: Progress | None = None) -> int:
    """Copy the database at `url` to `out`; returns the size of the copy in bytes."""
    source = _source(url, out)
    partial = out.with_name(f".{out.name}.partial")
    try:
        _copy(source, partial, progress)
        partial.replace(out)
        _sync_directory(out.resolve().parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    return out.stat().st_size


def terminal_progress() -> tuple[Progress, Callable[[], None]]:
    """A progress callback drawing a bar on standard error, and the call that ends the bar."""
    bar: ProgressBar | None = None

    def advance(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = ProgressBar("pages", total)
        bar.advance(done - bar.done)

    def close() -> None:
        if bar is not None:
            bar.close()

    return advance, close
