"""Serving the ASGI app with uvicorn: one process, or several workers that share the load.

Why not uvicorn's own `--workers`: its workers share ONE listening socket, and whichever
worker is first to accept takes every waiting connection; keep-alive clients then stay on
that worker for good (16 dashboard clients measured on one of two workers: no gain at all).
Here each worker binds its own socket to the same address with `SO_REUSEPORT`, and the
kernel spreads new connections across the listening sockets by a hash of their addresses.

Invariants:
- every worker is a fresh process (spawned, not forked) serving the same app string;
- a worker that dies (crash, kill -9) is replaced by a new one on the same socket, which
  the supervisor holds: connections the kernel queued on it meanwhile wait for the new
  worker instead of being refused; a connection the dead worker was serving is lost (as in
  any crash); the other workers are not disturbed;
- a worker that dies before it has started serving (the app cannot import, the database
  URL is wrong) stops the supervisor instead of being restarted in a loop; one that dies
  after it started serving, however soon, is replaced;
- SIGTERM or SIGINT to the supervisor stops every worker gracefully (uvicorn's shutdown:
  in-flight requests finish) and then the supervisor exits; a worker whose supervisor is
  gone (kill -9) stops itself the same way within `CHECK_INTERVAL`, so no orphan keeps the
  port.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventType
from typing import Any

import uvicorn

log = logging.getLogger("uvicorn.error")

# How often the supervisor looks for dead workers (seconds).
CHECK_INTERVAL = 0.5


def serve(
    app: str, host: str, port: int, workers: int = 1, log_level: str = "info", **options: Any
) -> None:
    """Serve `app` (an import string, e.g. "app.asgi:app") until SIGTERM/SIGINT."""
    if workers <= 1:
        uvicorn.run(app, host=host, port=port, log_level=log_level, **options)
        return
    Supervisor(app, host, port, workers, dict(options, log_level=log_level)).run()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port_free(host: str, port: int) -> None:
    """OSError if anything listens on the address, another server with SO_REUSEPORT too
    (which the workers' own sockets would otherwise silently share the port with)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def reuse_port_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class _ReportingServer(uvicorn.Server):
    """A uvicorn server that tells its supervisor once its start-up has completed."""

    def __init__(self, config: uvicorn.Config, ready: EventType) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.ready.set()


def _worker(
    app: str, options: dict[str, Any], sock: socket.socket, parent: int, ready: EventType
) -> None:
    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(CHECK_INTERVAL)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown

    threading.Thread(target=watch_parent, daemon=True).start()
    _ReportingServer(uvicorn.Config(app, **options), ready).run(sockets=[sock])


class Supervisor:
    def __init__(self, app: str, host: str, port: int, workers: int, options: dict[str, Any]):
        # Checks the options once, and sets up uvicorn's logging for this process too.
        uvicorn.Config(app, **options)
        self.app = app
        self.options = options
        self.stop = threading.Event()
        self.context = multiprocessing.get_context("spawn")
        # One socket per worker slot, bound here so a taken port fails at once.
        check_port_free(host, port)
        self.sockets = [reuse_port_socket(host, port) for _ in range(workers)]
        self.processes: list[tuple[BaseProcess, EventType]] = []
        self.failed = False

    def _start(self, slot: int) -> tuple[BaseProcess, EventType]:
        ready = self.context.Event()
        process = self.context.Process(
            target=_worker, args=(self.app, self.options, self.sockets[slot], os.getpid(), ready)
        )
        process.start()
        return process, ready

    def run(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())
        self.processes = [self._start(slot) for slot in range(len(self.sockets))]
        host, port = self.sockets[0].getsockname()[:2]
        log.info("serving on http://%s:%d with %d workers", host, port, len(self.sockets))
        while not self.stop.wait(CHECK_INTERVAL):
            self._replace_dead()
        for process, _ in self.processes:
            if process.is_alive():
                process.terminate()
        for process, _ in self.processes:
            process.join()
        for sock in self.sockets:
            sock.close()
        if self.failed:
            raise SystemExit(3)

    def _replace_dead(self) -> None:
        for slot, (process, ready) in enumerate(self.processes):
            if process.is_alive():
                continue
            if not ready.is_set():
                log.error(
                    "worker %s failed to start (exit %s); stopping", process.pid, process.exitcode
                )
                self.failed = True
                self.stop.set()
                return
            log.warning("worker %s died (exit %s); starting another", process.pid, process.exitcode)
            self.processes[slot] = self._start(slot)
