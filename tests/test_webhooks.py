"""Webhooks: managed by admins only, signed per Standard Webhooks (verified by its library in a
real receiver on loopback), retried with backoff, paused when retries run out, redelivered
with the same id, and never sent into the private network unless a setting allows it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.db import Database
from app.main import create_app
from app.settings import Settings
from app.worker import Worker
from tests.cast import ADMINS_ONLY, Cast, audit_count, call
from tests.receiver import Receiver, running
from tests.support import Api, gid
from tests.test_assignment_admin import ASSIGN
from tests.test_lesson_events import COMPLETE, lessons_of

ROOT = Path(__file__).resolve().parent.parent

CREATE = """
mutation($url: String!, $events: [String!]!, $description: String) {
  createWebhook(input: {url: $url, events: $events, description: $description}) {
    secret webhook { id url events description pausedAt pausedReason }
  }
}
"""
LIST = """
query { webhooks(first: 10) { totalCount edges { node {
  id url events pausedAt pausedReason
  deliveries(first: 10) { totalCount edges { node {
    eventId eventType status attempts responseCode lastError nextAttemptAt deliveredAt } } }
} } } }
"""
SIMPLE = """
mutation($id: ID!) { %s(input: {webhookId: $id}) { webhook { id pausedAt pausedReason } } }
"""
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(input: {webhookId: $id}) { secret } }"
DELETE = "mutation($id: ID!) { deleteWebhook(input: {webhookId: $id}) { deletedId } }"
REDELIVER = """
mutation($id: ID!, $event: String!) {
  redeliverWebhookEvent(input: {webhookId: $id, eventId: $event}) {
    delivery { eventId status attempts nextAttemptAt }
  }
}
"""
ALL_EVENTS = [
    "analyst.assigned",
    "analyst.unassigned",
    "analyst.assignment.expired",
    "user.created",
    "user.roles.changed",
    "user.deactivated",
    "group.members.added",
    "group.members.removed",
    "enrollment.created",
    "lesson.completed",
    "course.completed",
]


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        webhook_allow_private=True,
        webhook_retry_schedule=(0.05, 0.05, 0.05),
        webhook_timeout_seconds=2,
    )


@pytest.fixture
async def hook_api(db: Database, hook_settings: Settings) -> AsyncIterator[Api]:
    """The API of a deployment that allows loopback receivers (as tests need)."""
    transport = httpx.ASGITransport(app=create_app(hook_settings, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client)


async def create(api: Api, cast: Cast, url: str, events: list[str] | None = None) -> dict[str, Any]:
    variables = {"url": url, "events": events or ALL_EVENTS, "description": "HR sync"}
    data = await call(api, CREATE, variables, cast.token("admin"), None)
    created: dict[str, Any] = data["createWebhook"]
    return created


async def drain(
    db: Database, settings: Settings, done: Callable[[], bool], rounds: int = 200
) -> None:
    """Run worker rounds until `done()` (bounded)."""
    worker = Worker(db, settings)
    await worker.acquire()
    async with httpx.AsyncClient(trust_env=False) as client:
        for _ in range(rounds):
            await worker.round(client)
            if done():
                break
            await asyncio.sleep(0.03)
    await worker.release()


async def assign(api: Api, cast: Cast, group_id: int | None) -> None:
    variables = {"user": gid("User", cast.analyst.id), "group": gid("Group", group_id)}
    await call(api, ASSIGN, variables, cast.token("admin"), None)


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_create_webhook_permission(
    hook_api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    variables = {"url": "http://127.0.0.1:9/hook", "events": ["user.created"]}
    await call(hook_api, CREATE, variables, cast.token(role), expected)
    listed = await call(hook_api, LIST, {}, cast.token(role), expected)
    if expected is None:
        assert listed["webhooks"]["totalCount"] == 1
        assert "secret" not in str(listed)
    assert await audit_count(cast.world, "webhook.create") == (1 if expected is None else 0)


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_managing_a_webhook_is_for_admins(
    hook_api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    created = await create(hook_api, cast, "http://127.0.0.1:9/hook")
    hook = {"id": created["webhook"]["id"]}
    for mutation in ("pauseWebhook", "resumeWebhook"):
        await call(hook_api, SIMPLE % mutation, hook, cast.token(role), expected)
    await call(hook_api, ROTATE, hook, cast.token(role), expected)
    await call(
        hook_api, REDELIVER, {**hook, "event": "evt_x"}, cast.token(role), expected or "NOT_FOUND"
    )
    await call(hook_api, DELETE, hook, cast.token(role), expected)
    remaining = await call(hook_api, LIST, {}, cast.token("admin"), None)
    assert remaining["webhooks"]["totalCount"] == (0 if expected is None else 1)


async def test_signed_events_reach_a_real_receiver_with_admin_fields(
    hook_api: Api, cast: Cast, hook_settings: Settings
) -> None:
    async with running(Receiver()) as receiver:
        created = await create(hook_api, cast, receiver.url)
        receiver.secret = created["secret"]
        assert created["secret"].startswith("whsec_")
        group = await cast.world.group("Cohort", members=(cast.student,))
        await assign(hook_api, cast, group.id)
        course = await cast.world.course("Safety", lessons=1)
        await cast.world.enroll(cast.student, course)
        (lesson,) = await lessons_of(cast.world, course)
        await call(hook_api, COMPLETE, {"lesson": lesson}, cast.token("student"), None)
        await drain(cast.world.db, hook_settings, lambda: len(receiver.delivered()) >= 3)
    by_type = {p["type"]: p for p in receiver.payloads()}
    assert set(by_type) == {"analyst.assigned", "lesson.completed", "course.completed"}
    assert all(r.verified is not None for r in receiver.requests)
    assigned = by_type["analyst.assigned"]
    # Each request's webhook-id header is its event's id (delivery order is not promised).
    assert sorted(r.headers["webhook-id"] for r in receiver.delivered()) == sorted(
        p["id"] for p in receiver.payloads()
    )
    assert all(json.loads(r.body)["id"] == r.headers["webhook-id"] for r in receiver.delivered())
    assert assigned["data"]["analyst"]["id"] == gid("User", cast.analyst.id)
    assert assigned["data"]["analyst"]["email"] == "ana@example.com"
    assert assigned["data"]["group"] == {
        "id": gid("Group", group.id),
        "name": "Cohort",
        "createdAt": assigned["data"]["group"]["createdAt"],
    }
    done = by_type["course.completed"]["data"]
    assert done["progress"]["percentCompleted"] == 100.0
    assert done["user"]["email"] == "sam@example.com"
    # A receiver holding another secret refuses the same request.
    request = receiver.delivered()[0]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(request.body, request.headers)


async def test_a_failing_receiver_that_recovers_gets_the_event_once(
    hook_api: Api, cast: Cast, hook_settings: Settings
) -> None:
    async with running(Receiver(fail_first=2)) as receiver:
        created = await create(hook_api, cast, receiver.url, ["analyst.assigned"])
        receiver.secret = created["secret"]
        await assign(hook_api, cast, (await cast.world.group("Cohort")).id)
        await drain(cast.world.db, hook_settings, lambda: len(receiver.delivered()) >= 1)
    assert len(receiver.requests) == 3
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    assert len(receiver.delivered()) == 1
    listed = await call(hook_api, LIST, {}, cast.token("admin"), None)
    (delivery,) = listed["webhooks"]["edges"][0]["node"]["deliveries"]["edges"]
    assert delivery["node"]["status"] == "DELIVERED"
    assert delivery["node"]["attempts"] == 3
    assert delivery["node"]["responseCode"] == 204
    assert delivery["node"]["nextAttemptAt"] is None


async def test_retries_run_out_then_the_webhook_pauses_and_holds_events_until_resumed(
    hook_api: Api, cast: Cast, hook_settings: Settings
) -> None:
    async with running(Receiver(fail_first=4)) as receiver:
        created = await create(hook_api, cast, receiver.url, ["analyst.assigned"])
        receiver.secret = created["secret"]
        hook = {"id": created["webhook"]["id"]}
        await assign(hook_api, cast, (await cast.world.group("First")).id)
        await drain(cast.world.db, hook_settings, lambda: len(receiver.requests) >= 4)
        listed = await call(hook_api, LIST, {}, cast.token("admin"), None)
        node = listed["webhooks"]["edges"][0]["node"]
        assert node["pausedAt"] is not None
        assert "failed 4 attempts" in node["pausedReason"]
        (failed,) = node["deliveries"]["edges"]
        assert failed["node"]["status"] == "FAILED"
        assert failed["node"]["lastError"] == "answered HTTP 503"
        # Paused: a new event is held, not sent.
        await assign(hook_api, cast, (await cast.world.group("Second")).id)
        await drain(cast.world.db, hook_settings, lambda: False, rounds=5)
        assert len(receiver.requests) == 4
        await call(hook_api, SIMPLE % "resumeWebhook", hook, cast.token("admin"), None)
        event = failed["node"]["eventId"]
        redone = await call(
            hook_api, REDELIVER, {**hook, "event": event}, cast.token("admin"), None
        )
        assert redone["redeliverWebhookEvent"]["delivery"]["status"] == "PENDING"
        await drain(cast.world.db, hook_settings, lambda: len(receiver.delivered()) >= 2)
    assert sorted(receiver.event_ids()) == sorted({event, *receiver.event_ids()})
    assert event in receiver.event_ids() and len(receiver.event_ids()) == 2


async def test_rotating_the_secret_signs_with_the_new_one_only(
    hook_api: Api, cast: Cast, hook_settings: Settings
) -> None:
    async with running(Receiver()) as receiver:
        created = await create(hook_api, cast, receiver.url, ["analyst.assigned"])
        rotated = await call(
            hook_api, ROTATE, {"id": created["webhook"]["id"]}, cast.token("admin"), None
        )
        new = rotated["rotateWebhookSecret"]["secret"]
        assert new != created["secret"]
        receiver.secret = created["secret"]
        await assign(hook_api, cast, (await cast.world.group("Cohort")).id)
        await drain(cast.world.db, hook_settings, lambda: len(receiver.requests) >= 1, rounds=20)
    (request,) = receiver.requests[:1]
    assert request.verified is None  # the old secret no longer verifies
    assert Webhook(new).verify(request.body, request.headers)["type"] == "analyst.assigned"


HOSTILE_URLS = [
    ("", "must be an https URL"),
    ("https://" + "a" * 2000 + ".example", "characters"),
    ("http://hooks.example.com/x", "must start with https://"),
    ("ftp://hooks.example.com/x", "must start with https://"),
    ("https://127.0.0.1/hook", "private or loopback"),
    ("https://10.1.2.3/hook", "private or loopback"),
    ("https://169.254.169.254/latest/meta-data", "private or loopback"),
    ("https://[::1]/hook", "private or loopback"),
    ("https://[::ffff:127.0.0.1]/hook", "private or loopback"),
    ("https://localhost/hook", "private or loopback"),
    ("https://user:pw@hooks.example.com/", "user name or password"),
    ("https://hooks.exampl\u0435.com/", "plain ASCII"),  # a Cyrillic look-alike "e"
    ("https://hooks.example.com/\x00", "NUL"),
    ("https://no-such-host.invalid/hook", "does not resolve"),
]


@pytest.mark.parametrize(("url", "message"), HOSTILE_URLS)
async def test_urls_that_could_reach_the_private_network_are_refused(
    api: Api, cast: Cast, url: str, message: str
) -> None:
    variables = {"url": url, "events": ["user.created"]}
    error = await call(api, CREATE, variables, cast.token("admin"), "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "url"
    assert message in error["message"]
    assert await audit_count(cast.world, "webhook.create") == 0


@pytest.mark.parametrize(
    ("events", "message"),
    [([], "at least one"), (["user.created", "user.deleted"], "unknown types (user.deleted)")],
)
async def test_unknown_event_types_are_refused(
    hook_api: Api, cast: Cast, events: list[str], message: str
) -> None:
    variables = {"url": "http://127.0.0.1:9/", "events": events}
    error = await call(hook_api, CREATE, variables, cast.token("admin"), "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "events" and message in error["message"]


async def test_addresses_are_checked_again_at_delivery(
    hook_api: Api, cast: Cast, hook_settings: Settings
) -> None:
    """Saved while allowed, a loopback URL is refused by a worker that does not allow it."""
    async with running(Receiver()) as receiver:
        await create(hook_api, cast, receiver.url, ["analyst.assigned"])
        await assign(hook_api, cast, (await cast.world.group("Cohort")).id)
        strict = dataclasses.replace(hook_settings, webhook_allow_private=False)
        await drain(cast.world.db, strict, lambda: False, rounds=8)
    assert receiver.requests == []
    listed = await call(hook_api, LIST, {}, cast.token("admin"), None)
    node = listed["webhooks"]["edges"][0]["node"]
    (delivery,) = node["deliveries"]["edges"]
    assert "private or loopback" in delivery["node"]["lastError"]


async def test_two_workers_send_each_event_once(
    hook_api: Api, cast: Cast, hook_settings: Settings, backend: str
) -> None:
    if backend != "postgresql":
        assert cast.world.db.dialect == "sqlite"  # one worker there (test_outbox)
        return
    async with running(Receiver()) as receiver:
        receiver.secret = (await create(hook_api, cast, receiver.url, ["analyst.assigned"]))[
            "secret"
        ]
        for n in range(6):
            await assign(hook_api, cast, (await cast.world.group(f"G{n}")).id)

        async def work() -> None:
            await drain(cast.world.db, hook_settings, lambda: len(receiver.requests) >= 6, 60)

        await asyncio.gather(work(), work())
        await asyncio.sleep(0.3)
    assert len(receiver.requests) == 6
    assert len(set(receiver.event_ids())) == 6


async def _wait_for(check: Callable[[], bool], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 (the receiver's list is the state polled)
            await asyncio.sleep(0.05)


async def _start_worker(database_url: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GROUPANALYST_WORKER_POLL_MS": "50",
        "GROUPANALYST_WEBHOOK_ALLOW_PRIVATE": "1",
        "GROUPANALYST_WEBHOOK_TIMEOUT_SECONDS": "1",
        "GROUPANALYST_WEBHOOK_RETRY_SECONDS": "0.1,0.1,0.1",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "worker",
        cwd=ROOT,
        env=env,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_a_worker_killed_mid_delivery_loses_nothing(
    hook_api: Api, cast: Cast, database_url: str
) -> None:
    async with running(Receiver(delay=0.5)) as receiver:
        receiver.secret = (await create(hook_api, cast, receiver.url, ["analyst.assigned"]))[
            "secret"
        ]
        for n in range(5):
            await assign(hook_api, cast, (await cast.world.group(f"G{n}")).id)
        first = await _start_worker(database_url)
        await _wait_for(lambda: len(receiver.requests) >= 1, 60)
        first.send_signal(signal.SIGKILL)  # mid-delivery: the receiver has not answered
        await first.wait()
        second = await _start_worker(database_url)
        try:
            await _wait_for(lambda: len(set(receiver.event_ids())) >= 5, 90)
        finally:
            second.send_signal(signal.SIGTERM)
            await second.wait()
    ids = receiver.event_ids()
    assert len(set(ids)) == 5
    bodies: dict[str, set[str]] = {}
    for request in receiver.delivered():
        bodies.setdefault(request.headers["webhook-id"], set()).add(request.body)
    # Duplicates, if any, carry the same id and the same body.
    assert all(len(b) == 1 for b in bodies.values())
