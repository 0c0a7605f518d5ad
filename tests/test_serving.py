"""`groupanalyst serve --workers 2`: keep-alive connections spread over both workers, a
worker killed with -9 is replaced while the service keeps answering, SIGTERM stops it all,
and a port already served is refused instead of silently shared."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.migrate import upgrade
from app.serving import check_port_free

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    """Worker processes of the supervisor (multiprocessing's resource tracker left out)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text():
            found.append(int(child))
    return found


def _established_per_pid(pids: list[int], port: int) -> Counter[int]:
    """How many established TCP connections on `port` each process holds."""
    inodes: dict[str, int] = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes[target[8:-1]] = pid
    counts: Counter[int] = Counter()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            counts[inodes[fields[9]]] += 1
    return counts


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _wait(condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    upgrade(url)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "GROUPANALYST_LOG_LEVEL": "warning"}
    command = [sys.executable, "-m", "app", "serve", "--workers", "2", "--port", str(port)]
    proc = subprocess.Popen(command, env=env)  # noqa: S603
    try:
        # Each worker's socket listens once that worker has started.
        _wait(lambda: _listening(port) == 2 and _healthy(port))
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _listening(port: int) -> int:
    return sum(
        1
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if int(line.split()[1].split(":")[1], 16) == port and line.split()[3] == "0A"
    )


def test_keep_alive_connections_spread_over_workers(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    proc, port = served
    connections = []
    for _ in range(16):
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        conn.request("GET", "/healthz")
        assert conn.getresponse().read() == b'{"status":"ok"}'
        connections.append(conn)
    per_worker = _established_per_pid(_children(proc.pid), port)
    assert sorted(per_worker.values())[0] >= 2, per_worker
    assert sum(per_worker.values()) == 16
    for conn in connections:
        conn.close()


def test_a_killed_worker_is_replaced_and_sigterm_stops_everything(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    proc, port = served
    victim = _children(proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    # Requests keep being answered while the replacement starts.
    for _ in range(4):
        assert _healthy(port)
    _wait(lambda: len(_children(proc.pid)) == 2 and victim not in _children(proc.pid))
    _wait(lambda: _listening(port) == 2)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert not _healthy(port)


def test_a_port_already_served_is_refused(served: tuple[subprocess.Popen[bytes], int]) -> None:
    _, port = served
    with pytest.raises(OSError, match="in use"):
        check_port_free(HOST, port)
