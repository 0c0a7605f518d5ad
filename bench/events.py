"""Events out: time from a committed change to the webhook received and to the subscription
event, and the fan-out of one change to many subscribers; before and after in the same run.

    .venv/bin/python -m bench.events [--changes 40] [--subscribers 200] [--poll-ms 50]
    tests/with_postgres.sh .venv/bin/python -m bench.events --backend postgresql

SQLite: in one process on 127.0.0.1, the app served by uvicorn and a worker
(`app.worker.Worker`, idle poll `--poll-ms`): subscriptions are served by one process there.
PostgreSQL: two server processes (`bench.serve`) and a worker process (`groupanalyst
worker`); changes go to the first server, the single subscriber listens on the second, the
fan-out's subscribers are spread over both, so every event crosses processes by NOTIFY.
Beside them: a webhook receiver verifying signatures (`tests.receiver`), WebSocket
subscribers (`websockets`).

A change is `completeLesson` over HTTP; "committed" is when its HTTP answer arrives (the
transaction committed before the answer is sent). Two phases, each on fresh servers:
"before" serves subscriptions as the product did before per-event batching
(`GROUPANALYST_LIVE_UNBATCHED`: each subscriber reads its own token, scope and rows) and, on
SQLite, without the wake-up at commit (the live feed only polls); "after" is the product as
it is. The baseline measured in the same run is the mutation's own round trip: the ratios say
how many round trips of the change itself an event takes to arrive. The machine may be
shared: only ratios from the same run mean anything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest import mock

import httpx
from sqlmodel import col, select
from websockets.asyncio.client import ClientConnection

from app import live
from app.db import Database
from app.main import create_app
from app.models import Lesson, Role
from app.settings import Settings
from app.worker import Worker
from bench.harness import ROOT, database, median, quantile, server
from tests.receiver import Receiver, running, serving
from tests.support import Api, World, gid
from tests.test_lesson_events import COMPLETE
from tests.test_live import PROGRESS, open_ws, subscribe
from tests.test_webhooks import CREATE


async def _world(db: Database, students: int, lessons: int, analysts: int) -> dict[str, Any]:
    world = await World.create(db, plan="PLUS")
    admin = await world.user("Ada", "Admin", Role.SITE_ADMIN)
    members = [await world.user(f"S{i}", "Student") for i in range(students)]
    group = await world.group("Cohort", members=tuple(members))
    course = await world.course("Bench", lessons=lessons)
    for member in members:
        await world.enroll(member, course)
    tokens = []
    for i in range(analysts):
        analyst = await world.user(f"A{i}", "Analyst", Role.GROUP_ANALYST)
        await world.assign(analyst, group)
        tokens.append(await world.token(analyst))
    rows = await world.scalars(
        select(Lesson).where(col(Lesson.course_id) == course.id).order_by(col(Lesson.position))
    )
    return {
        "admin": await world.token(admin),
        "students": [await world.token(m) for m in members],
        "analysts": tokens,
        "group": gid("Group", group.id),
        "lessons": [gid("Lesson", lesson.id) for lesson in rows],
    }


class Changes:
    """Each call completes the next (student, lesson) pair: every call changes something."""

    def __init__(self, api: Api, facts: dict[str, Any]) -> None:
        # Carried on from the previous phase: a change never repeats one already made.
        self.api, self.facts, self.n = api, facts, int(facts.get("done", 0))
        self.round_trips: list[float] = []

    async def next(self) -> float:
        students, lessons = self.facts["students"], self.facts["lessons"]
        student = students[self.n % len(students)]
        lesson = lessons[self.n // len(students)]
        self.n += 1
        sent = time.perf_counter()
        body = await self.api.raw(COMPLETE, {"lesson": lesson}, student)
        assert not body.get("errors"), body
        committed = time.perf_counter()
        self.round_trips.append(committed - sent)
        return committed


async def webhook_latency(changes: Changes, n: int) -> list[float]:
    out = []
    async with running(Receiver()) as receiver:
        created = await changes.api.raw(
            CREATE, {"url": receiver.url, "events": ["lesson.completed"]}, changes.facts["admin"]
        )
        receiver.secret = created["data"]["createWebhook"]["secret"]
        for i in range(n):
            committed = await changes.next()
            while len(receiver.requests) < i + 1:  # noqa: ASYNC110 (polling the receiver)
                await asyncio.sleep(0.0005)
            out.append(time.perf_counter() - committed)
        assert all(r.verified is not None for r in receiver.requests)
    return out


async def _subscribers(ports: list[int], tokens: list[str], group: str) -> list[ClientConnection]:
    """Subscribers spread over the servers, every one listening when this returns."""
    sockets = []
    for i, token in enumerate(tokens):
        ws = await open_ws(ports[i % len(ports)], token)
        await subscribe(ws, PROGRESS, {"g": [group]})
        sockets.append(ws)
    await asyncio.sleep(1.0)  # every subscription is listening
    return sockets


async def _arrival(ws: ClientConnection) -> float:
    message = json.loads(await asyncio.wait_for(ws.recv(), 120))
    assert message["type"] == "next", message
    assert not message["payload"].get("errors"), message
    return time.perf_counter()


async def subscription_latency(changes: Changes, port: int, n: int) -> list[float]:
    (ws,) = await _subscribers([port], changes.facts["analysts"][:1], changes.facts["group"])
    out = []
    for _ in range(n):
        committed = await changes.next()
        out.append(await _arrival(ws) - committed)
    await ws.close()
    return out


async def fan_out(changes: Changes, ports: list[int], subscribers: int) -> list[float]:
    sockets = await _subscribers(
        ports, changes.facts["analysts"][:subscribers], changes.facts["group"]
    )
    waiting = [asyncio.create_task(_arrival(ws)) for ws in sockets]
    committed = await changes.next()
    arrivals = await asyncio.gather(*waiting)
    for ws in sockets:
        await ws.close()
    await asyncio.sleep(1.0)  # the servers see every socket closed before the next phase
    return [t - committed for t in arrivals]


@contextlib.asynccontextmanager
async def in_process(url: str, settings: Settings) -> AsyncIterator[list[int]]:
    """SQLite: the app and the worker in this process, as one `groupanalyst run-dev`."""
    db = Database.from_url(url)
    async with serving(create_app(settings, db), lifespan="on") as port:
        stop = asyncio.Event()
        worker = asyncio.create_task(Worker(db, settings).run(stop))
        try:
            yield [port]
        finally:
            stop.set()
            await worker
    await db.dispose()


@contextlib.contextmanager
def processes(url: str, args: argparse.Namespace, before: bool) -> Iterator[list[int]]:
    """PostgreSQL: two server processes and a worker process."""
    env = {
        "GROUPANALYST_WORKER_POLL_MS": str(args.poll_ms),
        "GROUPANALYST_WEBHOOK_ALLOW_PRIVATE": "1",
        "GROUPANALYST_COST_BUDGET_PER_MINUTE": "100000000",
        **({"GROUPANALYST_LIVE_UNBATCHED": "1"} if before else {}),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "worker"],
        cwd=ROOT,
        env={**os.environ, **env, "DATABASE_URL": url, "GROUPANALYST_LOG_LEVEL": "warning"},
    )
    try:
        with server(url, env=env) as first, server(url, env=env) as second:
            yield [first, second]
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@contextlib.asynccontextmanager
async def servers(url: str, args: argparse.Namespace, before: bool) -> AsyncIterator[list[int]]:
    if args.backend == "postgresql":
        with processes(url, args, before) as ports:
            yield ports
        return
    settings = dataclasses.replace(
        Settings(database_url=url),
        worker_poll_seconds=args.poll_ms / 1000,
        webhook_allow_private=True,
        cost_budget_per_minute=100_000_000,
        live_batch_reads=not before,
    )
    # Before: the live feed is never woken at commit (a set nobody calls), so it only polls.
    quiet: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if before:
        quiet = mock.patch.object(live, "COMMIT_LISTENERS", set())
    with quiet:
        async with in_process(url, settings) as ports:
            yield ports


async def phase(
    url: str, args: argparse.Namespace, facts: dict[str, Any], before: bool
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    async with servers(url, args, before) as ports:
        transport = httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=120)
        changes = Changes(Api(transport), facts)
        if not before:
            out["webhook"] = await webhook_latency(changes, args.changes)
        out["live"] = await subscription_latency(changes, ports[-1], args.changes)
        out["one"] = await fan_out(changes, ports, 1)
        out["many"] = await fan_out(changes, ports, args.subscribers)
        out["round trip"] = changes.round_trips
        facts["done"] = changes.n
        await transport.aclose()
    return out


def _ms(values: list[float]) -> str:
    return f"p50 {median(values) * 1000:.1f} ms, p95 {quantile(values, 0.95) * 1000:.1f} ms"


def report(
    args: argparse.Namespace, before: dict[str, list[float]], after: dict[str, list[float]]
) -> None:
    base = median(before["round trip"] + after["round trip"])
    hooks = after["webhook"]
    print(f"backend {args.backend}, worker poll {args.poll_ms} ms, {args.changes} changes")
    print(f"change round trip (baseline): {_ms(before['round trip'] + after['round trip'])}")
    print(f"commit -> webhook received:   {_ms(hooks)}  ({median(hooks) / base:.1f}x baseline)")
    for name, got in (("before", before), ("after", after)):
        one, many, latency = got["one"], got["many"], got["live"]
        print(
            f"[{name}] commit -> subscription event: {_ms(latency)}  "
            f"({median(latency) / base:.1f}x baseline)"
        )
        print(f"[{name}] fan-out to 1 subscriber:      {_ms(one)}")
        print(
            f"[{name}] fan-out to {args.subscribers} subscribers:  {_ms(many)}, last "
            f"{max(many) * 1000:.1f} ms ({max(many) / max(one):.1f}x one subscriber)"
        )
    print(
        f"fan-out to {args.subscribers}, last arrival: after/before "
        f"{max(after['many']) / max(before['many']):.2f}; subscription p50 after/before "
        f"{median(after['live']) / median(before['live']):.2f}"
    )


async def main(args: argparse.Namespace) -> None:
    async with database(args.backend) as url:
        db = Database.from_url(url)
        facts = await _world(db, students=20, lessons=20, analysts=args.subscribers)
        await db.dispose()
        before = await phase(url, args, facts, before=True)
        after = await phase(url, args, facts, before=False)
    report(args, before, after)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--poll-ms", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
