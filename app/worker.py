"""`groupanalyst worker`: delivers the outbox and does the work that time brings.

Each round: announce expired assignments (`app.assignment_expiry`), fan webhook entries out
to endpoints and hand live entries to subscription servers (`app.outbox`), send due webhook
deliveries (`app.webhook_delivery`), mail the scheduled reports that are due
(`app.report_mail`), prune old entries. Idle, it sleeps
`worker_poll_seconds`; every `worker_health_seconds` it logs one health line.

Invariants:
- on PostgreSQL any number of workers may run: every claim is `FOR UPDATE SKIP LOCKED` or a
  lease, so nothing is done twice by two live workers;
- on SQLite exactly one worker runs: it holds the `worker_lease` row, renewed every round; a
  second worker refuses to start with a message naming the holder. A holder on this host
  whose process is gone (kill -9) is taken over at once; elsewhere after the lease expires;
- SIGTERM or SIGINT stops it gracefully: the round in progress finishes (a send in flight
  ends within its timeout), the lease is released, the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from app import outbox, report_mail, webhook_delivery
from app.assignment_expiry import announce_expired
from app.db import Database
from app.events import LIVE, WEBHOOK
from app.models import WorkerLease, utcnow
from app.settings import Settings

log = logging.getLogger("groupanalyst.worker")

LEASE_NAME = "sqlite-worker"
LEASE_TTL = timedelta(seconds=60)
PRUNE_EVERY_SECONDS = 3600.0


class AnotherWorkerRuns(Exception):
    """SQLite allows one worker; another one holds the lease."""


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    rounds: int = 0
    entries: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    expiries: int = 0


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive_here(holder: str) -> bool:
    """False if `holder` is a process of this host that no longer exists."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Worker:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.stats = Stats()
        self.holder = _holder()
        self._last_prune = 0.0

    # -- the SQLite lease ---------------------------------------------------------------
    async def acquire(self) -> None:
        if self.db.dialect != "sqlite":
            return
        now = utcnow()
        async with self.db.write() as session:
            lease = await session.get(WorkerLease, LEASE_NAME)
            if lease is None:
                session.add(
                    WorkerLease(name=LEASE_NAME, holder=self.holder, expires_at=now + LEASE_TTL)
                )
                return
            if lease.holder != self.holder and lease.expires_at > now and _alive_here(lease.holder):
                raise AnotherWorkerRuns(
                    f"another worker ({lease.holder}) is running on this SQLite database; SQLite "
                    f"allows one worker. Stop it first, or use PostgreSQL (DATABASE_URL) to run "
                    f"several. Its lease ends at {lease.expires_at:%H:%M:%S} UTC if it died."
                )
            lease.holder = self.holder
            lease.expires_at = now + LEASE_TTL

    async def renew(self) -> None:
        if self.db.dialect != "sqlite":
            return
        async with self.db.write() as session:
            lease = await session.get(WorkerLease, LEASE_NAME)
            if lease is None or lease.holder != self.holder:
                raise AnotherWorkerRuns("this worker's SQLite lease was taken over; stopping")
            lease.expires_at = utcnow() + LEASE_TTL

    async def release(self) -> None:
        if self.db.dialect != "sqlite":
            return
        async with self.db.write() as session:
            lease = await session.get(WorkerLease, LEASE_NAME)
            if lease is not None and lease.holder == self.holder:
                await session.delete(lease)

    # -- one round ------------------------------------------------------------------------
    async def round(self, client: httpx.AsyncClient) -> int:
        """Do whatever is due; the number of things done (0: idle)."""
        await self.renew()
        done = await announce_expired(self.db)
        self.stats.expiries += done
        for consumer, handler in (
            (WEBHOOK, webhook_delivery.fan_out),
            (LIVE, outbox.notify_live),
        ):
            n = await outbox.process_batch(self.db, consumer, handler)
            self.stats.entries += n
            done += n
        done += await self._send_due(client)
        done += await report_mail.send_due(self.db, self.settings)
        await self._prune_now_and_then()
        self.stats.rounds += 1
        return done

    async def _round_logged(self, client: httpx.AsyncClient) -> int:
        """A round; a failure (database unreachable...) is logged and the next round retries."""
        try:
            return await self.round(client)
        except AnotherWorkerRuns:
            raise
        except Exception:
            log.exception(
                "worker round failed; retrying after %s s", self.settings.worker_poll_seconds
            )
            return 0

    async def _send_due(self, client: httpx.AsyncClient) -> int:
        jobs = await webhook_delivery.claim_due(self.db, self.settings)

        async def one(job: webhook_delivery.Job) -> None:
            outcome = await webhook_delivery.send(client, self.settings, job)
            await webhook_delivery.record(self.db, self.settings, job, outcome)
            if outcome.ok:
                self.stats.delivered += 1
            else:
                self.stats.failed_attempts += 1

        await asyncio.gather(*(one(job) for job in jobs))
        return len(jobs)

    async def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = time.monotonic()
        pruned = await outbox.prune(self.db, utcnow() - self.settings.outbox_retention)
        if pruned:
            log.info("pruned %d processed outbox entries", pruned)

    async def health_line(self) -> str:
        pending = await outbox.pending_counts(self.db)
        s = self.stats
        return (
            f"worker {self.holder} healthy: up {time.monotonic() - s.started:.0f} s, "
            f"{s.rounds} rounds, outbox pending webhook={pending[WEBHOOK]} live={pending[LIVE]}, "
            f"handled {s.entries} entries, {s.delivered} webhooks delivered, "
            f"{s.failed_attempts} failed attempts, {s.expiries} expiries announced"
        )

    # -- the loop -------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        await self.acquire()
        log.info("worker %s started (%s)", self.holder, self.db.dialect)
        next_health = time.monotonic()
        try:
            async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as client:
                while not stop.is_set():
                    done = await self._round_logged(client)
                    if time.monotonic() >= next_health:
                        log.info("%s", await self.health_line())
                        next_health = time.monotonic() + self.settings.worker_health_seconds
                    if not done:
                        await _wait(stop, self.settings.worker_poll_seconds)
        finally:
            await self.release()
            log.info("worker %s stopped", self.holder)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
