"""Events out: time from a committed change to the webhook received and to the subscription
event, and the fan-out of one change to many subscribers.

    .venv/bin/python -m bench.events [--changes 40] [--subscribers 200] [--poll-ms 50]
    tests/with_postgres.sh .venv/bin/python -m bench.events --backend postgresql

In one process on 127.0.0.1: the app served by uvicorn, a worker (`app.worker.Worker`,
idle poll `--poll-ms`), a webhook receiver verifying signatures (`tests.receiver`), WebSocket
subscribers (`websockets`). A change is `completeLesson` over HTTP; "committed" is when its
HTTP answer arrives (the transaction committed before the answer is sent). The baseline
measured in the same run is that mutation's own round trip: the ratios say how many round
trips of the change itself an event takes to arrive. The machine may be shared: only ratios
from the same run mean anything.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import time
from typing import Any

import httpx
from sqlmodel import col, select
from websockets.asyncio.client import ClientConnection

from app.db import Database
from app.main import create_app
from app.models import Lesson, Role
from app.settings import Settings
from app.worker import Worker
from bench.harness import database, median, quantile
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
        self.api, self.facts, self.n = api, facts, 0
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


async def _subscribers(port: int, tokens: list[str], group: str) -> list[ClientConnection]:
    sockets = []
    for token in tokens:
        ws = await open_ws(port, token)
        await subscribe(ws, PROGRESS, {"g": [group]})
        sockets.append(ws)
    await asyncio.sleep(1.0)  # every subscription is listening
    return sockets


async def _arrival(ws: ClientConnection) -> float:
    message = json.loads(await asyncio.wait_for(ws.recv(), 60))
    assert message["type"] == "next", message
    return time.perf_counter()


async def subscription_latency(changes: Changes, port: int, n: int) -> list[float]:
    (ws,) = await _subscribers(port, changes.facts["analysts"][:1], changes.facts["group"])
    out = []
    for _ in range(n):
        committed = await changes.next()
        out.append(await _arrival(ws) - committed)
    await ws.close()
    return out


async def fan_out(changes: Changes, port: int, subscribers: int) -> list[float]:
    sockets = await _subscribers(
        port, changes.facts["analysts"][:subscribers], changes.facts["group"]
    )
    waiting = [asyncio.create_task(_arrival(ws)) for ws in sockets]
    committed = await changes.next()
    arrivals = await asyncio.gather(*waiting)
    for ws in sockets:
        await ws.close()
    return [t - committed for t in arrivals]


def _ms(values: list[float]) -> str:
    return f"p50 {median(values) * 1000:.1f} ms, p95 {quantile(values, 0.95) * 1000:.1f} ms"


async def main(args: argparse.Namespace) -> None:
    async with database(args.backend) as url:
        db = Database.from_url(url)
        settings = dataclasses.replace(
            Settings(database_url=url),
            worker_poll_seconds=args.poll_ms / 1000,
            webhook_allow_private=True,
        )
        facts = await _world(db, students=20, lessons=20, analysts=args.subscribers)
        async with serving(create_app(settings, db), lifespan="on") as port:
            transport = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60)
            changes = Changes(Api(transport), facts)
            stop = asyncio.Event()
            worker = asyncio.create_task(Worker(db, settings).run(stop))
            hooks = await webhook_latency(changes, args.changes)
            live = await subscription_latency(changes, port, args.changes)
            one = await fan_out(changes, port, 1)
            many = await fan_out(changes, port, args.subscribers)
            stop.set()
            await worker
            await transport.aclose()
        await db.dispose()
    base = median(changes.round_trips)
    print(f"backend {args.backend}, worker poll {args.poll_ms} ms, {args.changes} changes")
    print(f"change round trip (baseline): {_ms(changes.round_trips)}")
    print(f"commit -> webhook received:   {_ms(hooks)}  ({median(hooks) / base:.1f}x baseline)")
    print(f"commit -> subscription event: {_ms(live)}  ({median(live) / base:.1f}x baseline)")
    print(f"fan-out to 1 subscriber:      {_ms(one)}")
    print(
        f"fan-out to {args.subscribers} subscribers:  {_ms(many)}, last "
        f"{max(many) * 1000:.1f} ms ({max(many) / max(one):.1f}x one subscriber)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--poll-ms", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
