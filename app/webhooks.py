"""Webhook endpoints, managed by admins: create, pause, resume, rotate the secret, delete,
redeliver an event.

Invariants:
- admins only (`permissions.rules.WEBHOOKS`); others get FORBIDDEN (anonymous:
  UNAUTHENTICATED, from `Context.write`); an unknown endpoint is NOT_FOUND;
- a URL is checked (`app.webhook_urls`) before anything is written: https only, every
  address the host resolves to public, unless `webhook_allow_private`;
- the signing secret (`whsec_` + base64 of 24 random bytes) is returned by create and rotate
  only, never read back through the API; the audit trail records neither secret nor URL query;
- every change is audited in its transaction.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app import audit, validation
from app.errors import bad_input, forbidden, not_found
from app.events import WebhookEvent
from app.models import WebhookDelivery, WebhookEndpoint, utcnow
from app.settings import Settings
from app.webhook_delivery import PENDING
from app.webhook_urls import check_resolves, check_url
from permissions import rules
from permissions.policy import AccessScope

DESCRIPTION_MAX = 500
MAX_ENDPOINTS = 50


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _allowed(scope: AccessScope) -> None:
    if not rules.WEBHOOKS.allows(scope):
        raise forbidden("Only site owners and admins may manage webhooks.")


def check_events(events: Sequence[str]) -> list[str]:
    known = {e.value for e in WebhookEvent}
    if not events:
        raise bad_input("events", "'events' must name at least one event type.")
    unknown = sorted(set(events) - known)
    if unknown:
        raise bad_input(
            "events",
            f"'events' holds unknown types ({', '.join(unknown[:5])}); known: "
            f"{', '.join(sorted(known))}.",
        )
    return sorted(set(events))


async def check_input(
    settings: Settings, url: str, events: Sequence[str], description: str | None
) -> tuple[str, list[str], str]:
    """Everything checked (DNS included) before the write transaction starts."""
    url = check_url(url, allow_private=settings.webhook_allow_private)
    wanted = check_events(events)
    text = validation.optional_text("description", description, DESCRIPTION_MAX) or ""
    await check_resolves(url, allow_private=settings.webhook_allow_private)
    return url, wanted, text


def _safe_url(url: str) -> str:
    """The URL without its query (which may carry a receiver's token), for the audit trail."""
    parts = urlsplit(url)
    return parts._replace(query="", fragment="").geturl()


async def create(
    session: AsyncSession, scope: AccessScope, *, url: str, events: list[str], description: str
) -> WebhookEndpoint:
    _allowed(scope)
    count = len((await session.execute(select(WebhookEndpoint.id))).all())
    if count >= MAX_ENDPOINTS:
        raise bad_input("url", f"A site has at most {MAX_ENDPOINTS} webhooks; delete one first.")
    endpoint = WebhookEndpoint(
        url=url,
        events=events,
        description=description,
        secret=new_secret(),
        created_at=utcnow(),
        created_by_id=scope.viewer_id,
    )
    session.add(endpoint)
    await session.flush()
    _audit(session, scope, "webhook.create", endpoint, {"url": _safe_url(url), "events": events})
    return endpoint


async def _endpoint(session: AsyncSession, scope: AccessScope, webhook_id: int) -> WebhookEndpoint:
    _allowed(scope)
    endpoint = await session.get(WebhookEndpoint, webhook_id, with_for_update=True)
    if endpoint is None:
        raise not_found("webhook", "webhookId")
    return endpoint


def _audit(
    session: AsyncSession,
    scope: AccessScope,
    action: str,
    endpoint: WebhookEndpoint,
    details: dict[str, object] | None = None,
) -> None:
    audit.by_viewer(session, scope, action, "Webhook", endpoint.id, details or {})


async def set_paused(
    session: AsyncSession, scope: AccessScope, webhook_id: int, *, paused: bool
) -> WebhookEndpoint:
    endpoint = await _endpoint(session, scope, webhook_id)
    if paused == (endpoint.paused_at is not None):
        return endpoint  # idempotent: nothing changes, nothing is audited
    endpoint.paused_at = utcnow() if paused else None
    endpoint.paused_reason = "Paused by an admin." if paused else None
    _audit(session, scope, "webhook.pause" if paused else "webhook.resume", endpoint)
    return endpoint


async def rotate_secret(
    session: AsyncSession, scope: AccessScope, webhook_id: int
) -> WebhookEndpoint:
    endpoint = await _endpoint(session, scope, webhook_id)
    endpoint.secret = new_secret()
    _audit(session, scope, "webhook.rotate_secret", endpoint)
    return endpoint


async def delete(session: AsyncSession, scope: AccessScope, webhook_id: int) -> WebhookEndpoint:
    endpoint = await _endpoint(session, scope, webhook_id)
    _audit(session, scope, "webhook.delete", endpoint, {"url": _safe_url(endpoint.url)})
    await session.delete(endpoint)
    return endpoint


async def redeliver(
    session: AsyncSession, scope: AccessScope, webhook_id: int, event_id: str
) -> WebhookDelivery:
    """Send an event to an endpoint again, from the first try (the same id and body)."""
    endpoint = await _endpoint(session, scope, webhook_id)
    delivery = (
        await session.execute(
            select(WebhookDelivery)
            .where(
                col(WebhookDelivery.webhook_id) == endpoint.id,
                col(WebhookDelivery.event_id) == event_id,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if delivery is None:
        raise not_found("delivery of that event to this webhook", "eventId")
    delivery.status = PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.locked_until = None
    _audit(session, scope, "webhook.redeliver", endpoint, {"eventId": event_id})
    return delivery
