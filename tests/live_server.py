"""A real server process (`groupanalyst serve`, uvicorn) on 127.0.0.1 and a free port.

Used by the tests that need what only a real process shows (its logs, SIGKILL), and as a
command by `make test` for the tools that audit a live server:

    python -m tests.live_server node tests/http_audit/audit.mjs {url}

starts a server on a fresh migrated SQLite database with an owner (its token in
`GROUPANALYST_FUZZ_OWNER_TOKEN` for the command), runs the command with `{url}` replaced by
the GraphQL URL, stops the server, checks the database (`PRAGMA integrity_check`) and exits
with the command's code (1 if the check failed).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from bench.harness import free_port

STARTUP_SECONDS = 60


@dataclass
class LiveServer:
    database_url: str
    logs: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    # The server command before `--port N`; by default our CLI's `serve`.
    command: list[str] = field(
        default_factory=lambda: [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1"]
    )
    process: subprocess.Popen[bytes] | None = None
    _out: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    def start(self) -> None:
        """Start on a new free port and wait until `/healthz` answers."""
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": self.database_url, **self.env}
        env.setdefault("GROUPANALYST_SECRET_KEY", "live-server-test-secret")
        self._out = self.logs.open("ab")
        self.process = subprocess.Popen(  # noqa: S603  (our own servers, fixed arguments)
            [*self.command, "--port", str(self.port)],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.output()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {STARTUP_SECONDS} s: {self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as a crash or the OOM killer would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self._close()

    def _close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def output(self) -> str:
        """Everything the server wrote (stdout and stderr), so far."""
        return self.logs.read_text(errors="replace") if self.logs.exists() else ""


@contextmanager
def running(
    database_url: str, logs: Path, env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    server = LiveServer(database_url=database_url, logs=logs, env=env or {})
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _owner_token(database_url: str) -> str:
    from app.db import Database
    from tests.support import World

    db = Database.from_url(database_url)
    try:
        world = await World.create(db)
        return await world.token(world.owner)
    finally:
        await db.dispose()


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    from app.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="groupanalyst-live-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/live.db"
        upgrade(url)
        token = asyncio.run(_owner_token(url))
        with running(url, Path(tmp) / "server.log") as server:
            command = [part.replace("{url}", server.graphql_url) for part in argv]
            env = {**os.environ, "GROUPANALYST_FUZZ_OWNER_TOKEN": token}
            code = subprocess.call(command, env=env)  # noqa: S603  (the caller's command)
        with sqlite3.connect(Path(tmp) / "live.db") as conn:
            (verdict,) = conn.execute("PRAGMA integrity_check").fetchone()
        print(f"database integrity after the run: {verdict}")
        if code != 0:
            print(server.output()[-5000:], file=sys.stderr)
        return code if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
