"""Webhook delivery: outbox entries fanned out to endpoints, sent signed, retried, recorded.

Invariants:
- fan-out runs in the outbox claim's transaction (`app.outbox.process_batch`): one delivery
  row per (endpoint subscribed to the type, event), unique, so an entry is fanned out once;
  paused endpoints get their rows too and receive them when resumed (nothing is lost);
- a worker takes a due delivery by setting `locked_until` (claim under `FOR UPDATE SKIP
  LOCKED` on PostgreSQL), sends it outside any transaction, then records the attempt. A worker
  that dies while sending leaves the lock to expire and the delivery is sent again: receivers
  may see an event twice, always with the same `webhook-id` (the event id) and body;
- every attempt is signed afresh per the Standard Webhooks specification (`webhook-id`,
  `webhook-timestamp`, `webhook-signature: v1,<HMAC-SHA256>`) by the `standardwebhooks` library;
- a 2xx answer delivers; anything else (status, timeout, refused address) schedules the next
  try after `webhook_retry_schedule[attempt - 1]` +-20% jitter; when the schedule is spent
  the delivery is FAILED and its endpoint paused with the reason;
- redirects are not followed (a redirect could lead into the private network).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from standardwebhooks.webhooks import Webhook as Signer

from app import event_payload
from app.db import Database
from app.models import OutboxEntry, WebhookDelivery, WebhookEndpoint, utcnow
from app.settings import Settings
from app.webhook_urls import UnsafeTarget, resolve

log = logging.getLogger("groupanalyst.webhooks")

PENDING = "PENDING"
DELIVERED = "DELIVERED"
FAILED = "FAILED"
SEND_BATCH = 20
ERROR_MAX = 500
USER_AGENT = "GroupAnalyst-Webhooks/1"


async def fan_out(session: AsyncSession, entries: Sequence[OutboxEntry]) -> None:
    endpoints = (await session.execute(select(WebhookEndpoint))).scalars().all()
    now = utcnow()
    for entry in entries:
        targets = [e for e in endpoints if entry.type in e.events]
        if not targets:
            continue
        payload = await event_payload.render(session, entry)
        for endpoint in targets:
            assert endpoint.id is not None
            session.add(
                WebhookDelivery(
                    webhook_id=endpoint.id,
                    event_id=entry.event_id,
                    event_type=entry.type,
                    payload=payload,
                    status=PENDING,
                    created_at=now,
                    next_attempt_at=now,
                )
            )


@dataclass(frozen=True)
class Job:
    delivery_id: int
    webhook_id: int
    url: str
    secret: str
    event_id: str
    payload: str


@dataclass(frozen=True)
class Outcome:
    code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


async def claim_due(db: Database, settings: Settings, limit: int = SEND_BATCH) -> list[Job]:
    now = utcnow()
    # Held a little longer than one attempt may take, so a live worker never loses it.
    until = now + timedelta(seconds=2 * settings.webhook_timeout_seconds + 5)
    async with db.write() as session:
        rows = (
            await session.execute(
                select(WebhookDelivery, WebhookEndpoint)
                .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.webhook_id))
                .where(
                    col(WebhookDelivery.status) == PENDING,
                    col(WebhookDelivery.next_attempt_at) <= now,
                    col(WebhookEndpoint.paused_at).is_(None),
                    (col(WebhookDelivery.locked_until).is_(None))
                    | (col(WebhookDelivery.locked_until) < now),
                )
                .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
                .limit(limit)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            )
        ).all()
        jobs = []
        for delivery, endpoint in rows:
            delivery.locked_until = until
            assert delivery.id is not None
            jobs.append(
                Job(
                    delivery.id,
                    delivery.webhook_id,
                    endpoint.url,
                    endpoint.secret,
                    delivery.event_id,
                    delivery.payload,
                )
            )
    return jobs


def signed_headers(secret: str, event_id: str, payload: str, at: datetime) -> dict[str, str]:
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Signer(secret).sign(event_id, at, payload),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


async def send(client: httpx.AsyncClient, settings: Settings, job: Job) -> Outcome:
    try:
        target = await resolve(job.url, allow_private=settings.webhook_allow_private)
    except UnsafeTarget as exc:
        return Outcome(None, f"refused: {exc}")
    headers = signed_headers(job.secret, job.event_id, job.payload, utcnow())
    headers["host"] = httpx.URL(job.url).netloc.decode("ascii")
    try:
        response = await client.post(
            target.address_url,
            content=job.payload.encode("ascii"),
            headers=headers,
            timeout=settings.webhook_timeout_seconds,
            extensions={"sni_hostname": target.host},
        )
    except httpx.TimeoutException:
        return Outcome(None, f"no answer within {settings.webhook_timeout_seconds:g} s")
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:ERROR_MAX])
    if 200 <= response.status_code < 300:
        return Outcome(response.status_code, None)
    return Outcome(response.status_code, f"answered HTTP {response.status_code}")


def next_delay(settings: Settings, attempts: int) -> float | None:
    """Seconds until the next try after `attempts` failed ones; None when retries ran out."""
    schedule = settings.webhook_retry_schedule
    if attempts > len(schedule):
        return None
    return schedule[attempts - 1] * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not secrecy)


async def record(db: Database, settings: Settings, job: Job, outcome: Outcome) -> None:
    now = utcnow()
    async with db.write() as session:
        delivery = await session.get(WebhookDelivery, job.delivery_id, with_for_update=True)
        if delivery is None or delivery.status != PENDING:
            return  # deleted with its endpoint, or delivered by a redelivery meanwhile
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_code = outcome.code
        delivery.last_error = outcome.error[:ERROR_MAX] if outcome.error else None
        delivery.locked_until = None
        log.info(
            "webhook %s event %s attempt %d: %s",
            job.webhook_id,
            job.event_id,
            delivery.attempts,
            "delivered" if outcome.ok else outcome.error,
        )
        if outcome.ok:
            delivery.status = DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            return
        delay = next_delay(settings, delivery.attempts)
        if delay is not None:
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            return
        delivery.status = FAILED
        delivery.next_attempt_at = None
        await _pause_after_failure(session, job, delivery, now)


async def _pause_after_failure(
    session: AsyncSession, job: Job, delivery: WebhookDelivery, now: datetime
) -> None:
    endpoint = await session.get(WebhookEndpoint, job.webhook_id, with_for_update=True)
    if endpoint is None or endpoint.paused_at is not None:
        return
    endpoint.paused_at = now
    endpoint.paused_reason = (
        f"Paused automatically: event {job.event_id} failed {delivery.attempts} attempts "
        f"(last: {delivery.last_error}). Fix the receiver, then resumeWebhook and "
        f"redeliverWebhookEvent."
    )[:500]
    log.warning("webhook %s paused: %s", job.webhook_id, endpoint.paused_reason)
