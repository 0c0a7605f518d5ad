"""What the HTTP benchmarks share: a world in a fresh database, a server on loopback, and a
small HTTP/1.1 client.

The client is a few lines of asyncio (no HTTP library): on a 2-CPU machine the load
generator shares the CPUs with the server, so it must cost as little as possible. It only
ever talks to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, select

from app.db import Database
from app.migrate import upgrade_async
from app.models import Lesson, User
from tests import bulk
from tests.support import World, gid

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PG_ENV = "GROUPANALYST_TEST_POSTGRES_URL"


# -- statistics ------------------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# -- the world -------------------------------------------------------------------------------


@dataclass
class BenchWorld:
    url: str
    analyst_token: str
    # (student token, lesson global ids of its courses) for writers on the side.
    writers: list[tuple[str, list[str]]]


@asynccontextmanager
async def database(backend: str) -> AsyncIterator[str]:
    """A fresh, migrated, empty database URL: a SQLite file, or a PostgreSQL database made on
    the cluster named by GROUPANALYST_TEST_POSTGRES_URL (`tests/with_postgres.sh`)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            await upgrade_async(url)
            yield url
        return
    admin = os.environ.get(PG_ENV)
    if not admin:
        raise SystemExit(f"PostgreSQL needs {PG_ENV}: run under tests/with_postgres.sh")
    name = f"ga_bench_{uuid.uuid4().hex[:10]}"
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        await upgrade_async(url)
        yield url
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def build_world(url: str, students: int, writers: int = 4) -> BenchWorld:
    """The `tests/bulk.py` world; the first `writers` students get tokens (two of them are in
    the analysed groups, so the writes change what the dashboard shows)."""
    db = Database.from_url(url)
    try:
        world = await World.create(db)
        built = await bulk.build(world, students=students)
        token = await world.token(built.analyst)
        lessons: list[int | None] = await world.scalars(
            select(col(Lesson.id)).order_by(col(Lesson.course_id), col(Lesson.position))
        )
        pairs = []
        for student_id in built.student_ids[:writers]:
            users: list[User] = await world.scalars(select(User).where(col(User.id) == student_id))
            user = users[0]
            pairs.append((await world.token(user), [gid("Lesson", pk) for pk in lessons]))
        await analyze(db)
        return BenchWorld(url, token, pairs)
    finally:
        await db.dispose()


async def analyze(db: Database) -> None:
    """Table statistics after the bulk load, as PostgreSQL's autovacuum gathers them on a
    live database within a minute of such a load (a fresh table has none, and the planner
    then guesses: the same statement ran 1.2x slower before ANALYZE). SQLite gathers none
    by itself, so its world is left as it was loaded. Product and baseline read the same
    tables, so the comparison stays fair either way."""
    if db.dialect != "postgresql":
        return
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(sa.text("ANALYZE"))


# -- the server ------------------------------------------------------------------------------


# The process serving each port (`server`), for benchmarks that look at its workers.
SERVER_PIDS: dict[int, int] = {}


def worker_cpu_seconds(port: int) -> list[float]:
    """CPU seconds (user + system) used so far by each worker process of the server."""
    pid = SERVER_PIDS[port]
    children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    workers = [c for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()] or [
        pid
    ]
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = []
    for worker in workers:
        fields = Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()
        seconds.append((int(fields[11]) + int(fields[12])) / ticks)
    return seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


BENCH_SECRET = "bench"  # noqa: S105


@contextmanager
def server(
    url: str,
    workers: int = 1,
    code: Path | None = None,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[int]:
    """The product (plus the baseline route) served by `bench.serve` on loopback; `code`: a
    directory holding another version of the code to serve (`bench.compare`); `args`: more
    options for `bench.serve`; `env`: more environment variables (settings)."""
    port = free_port()
    # The secret `bench.dashboard` opens the product's cursors with (`statements_per_request`
    # derives this process's cursor key from it).
    env = {
        **os.environ,
        **(env or {}),
        "DATABASE_URL": url,
        "GROUPANALYST_LOG_LEVEL": "warning",
        "GROUPANALYST_SECRET_KEY": BENCH_SECRET,
    }
    # A benchmark asks the dashboard (cost ~40,000) hundreds of times a minute on one token:
    # the per-token cost budget would answer RATE_LIMITED after five.
    env.setdefault("GROUPANALYST_COST_BUDGET_PER_MINUTE", str(10**12))
    if code is not None:
        # Run from there: the current directory comes first on the import path.
        env["PYTHONPATH"] = str(code)
    command = [sys.executable, "-m", "bench.serve", "--port", str(port), "--workers", str(workers)]
    command += args
    proc = subprocess.Popen(command, cwd=code or ROOT, env=env)
    try:
        wait_healthy(proc, port, 60)
        # Let every worker finish importing before measuring.
        time.sleep(1.0 * workers)
        SERVER_PIDS[port] = proc.pid
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_healthy(proc: subprocess.Popen[bytes], port: int, seconds: float) -> None:
    """Until the server `proc` started answers 200 on /healthz; RuntimeError if it exits or
    `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.1)


# -- the client ------------------------------------------------------------------------------


class HttpError(RuntimeError):
    pass


class Client:
    """One HTTP/1.1 connection to the server (reopened when `keep_alive` is False)."""

    def __init__(self, port: int, keep_alive: bool = True) -> None:
        self.port = port
        self.keep_alive = keep_alive
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(HOST, self.port)
        return self._reader, self._writer

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def post(self, path: str, payload: dict[str, Any], token: str) -> bytes:
        """POST JSON; the response body (HttpError unless 200). A kept-alive connection the
        server closed while idle (uvicorn's keep-alive timeout) is reopened once."""
        body = json.dumps(payload).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: {'keep-alive' if self.keep_alive else 'close'}\r\n\r\n"
        ).encode()
        reused = self._writer is not None
        try:
            status, answer = await self._exchange(head + body)
        except (asyncio.IncompleteReadError, ConnectionError):
            if not reused:
                raise
            await self.close()
            status, answer = await self._exchange(head + body)
        if not self.keep_alive:
            await self.close()
        if status != 200:
            raise HttpError(f"{path}: HTTP {status}: {answer[:300]!r}")
        return answer

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        reader, writer = await self._open()
        writer.write(request)
        return await _read_response(reader)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, b"".join(chunks)
        chunks.append(chunk[:-2])
