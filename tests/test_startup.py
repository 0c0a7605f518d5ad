"""`make run` (run-dev) and `serve` check their port before anything else."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def cli(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    """The command line in its own process: if a check failed to stop it, it would serve
    (and the timeout would end it) rather than hang the test run."""
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    return subprocess.run(  # noqa: S603  (our own CLI)
        [sys.executable, "-m", "app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", ["run-dev", "serve"])
def test_a_taken_port_stops_before_migrating_or_printing_tokens(
    command: str, taken_port: int, tmp_path: Path
) -> None:
    database = tmp_path / "fresh.db"
    done = cli(command, "--host", "127.0.0.1", "--port", str(taken_port), database=database)
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"cannot listen on 127.0.0.1:{taken_port}" in done.stderr
    assert "--port" in done.stderr
    assert "Bearer" not in done.stderr and "ga_" not in done.stderr
    assert not database.exists()  # never migrated, not even created


def test_an_unknown_host_is_a_clear_refusal(tmp_path: Path) -> None:
    done = cli("serve", "--host", "no-such-host.invalid", "--port", "1", database=tmp_path / "x.db")
    assert done.returncode == 1
    assert "cannot resolve host 'no-such-host.invalid'" in done.stderr
