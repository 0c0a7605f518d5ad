"""Webhooks in GraphQL: the `Webhook` and `WebhookDelivery` types, the `webhooks` list and the
mutations that manage endpoints (rules in `app.webhooks`, delivery in `app.webhook_delivery`).

Invariants: admins only, for reads as for writes (anonymous UNAUTHENTICATED, others
FORBIDDEN: the list exists on every site, refusing it reveals nothing); the signing secret
appears only in the payloads of `createWebhook` and `rotateWebhookSecret`; lists paginate by
keyset on the id.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from sqlmodel import col, select

from app import webhooks
from app.errors import forbidden
from app.events import WebhookEvent
from app.models import WebhookDelivery, WebhookEndpoint
from app.pagination import DEFAULT_PAGE_SIZE, Order
from app.validation import text
from permissions import rules
from resolvers.context import Context, Info
from resolvers.pagination import Connection, First, entity_page
from resolvers.relay import from_global_id, node_of

WEBHOOK_ORDER = Order((col(WebhookEndpoint.id),))
DELIVERY_ORDER = Order((col(WebhookDelivery.id),), descending=True)
EVENT_TYPES = ", ".join(e.value for e in WebhookEvent)


@strawberry.enum(description="Where a delivery stands.")
class WebhookDeliveryStatus(Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@strawberry.type(description="One event sent (or to be sent) to one webhook, with its attempts.")
class WebhookDeliveryType:
    id: strawberry.ID
    event_id: str = strawberry.field(description="The event's id: the `webhook-id` header.")
    event_type: str
    status: WebhookDeliveryStatus
    attempts: int = strawberry.field(description="Attempts made so far.")
    response_code: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null if none answered."
    )
    last_error: str | None = strawberry.field(description="Why the last attempt failed.")
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next try is due (PENDING only)."
    )
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def from_model(cls, d: WebhookDelivery) -> WebhookDeliveryType:
        return node_of(cls, "WebhookDelivery", d, status=WebhookDeliveryStatus(d.status))


@strawberry.type(name="Webhook", description="An admin's endpoint receiving signed events.")
class WebhookType:
    id: strawberry.ID
    url: str
    description: str
    events: list[str] = strawberry.field(description=f"Event types it receives: {EVENT_TYPES}.")
    created_at: datetime
    paused_at: datetime | None = strawberry.field(
        description="Set while paused (by an admin, or after a delivery ran out of retries)."
    )
    paused_reason: str | None
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, e: WebhookEndpoint) -> WebhookType:
        return node_of(cls, "Webhook", e, events=list(e.events), pk=e.id)

    @strawberry.field(description="Deliveries to this webhook, newest first.")
    async def deliveries(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: WebhookDeliveryStatus | None = None,
    ) -> Connection[WebhookDeliveryType]:
        ctx = _admin(info.context)
        stmt = select(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == self.pk)
        if status is not None:
            stmt = stmt.where(col(WebhookDelivery.status) == status.value)
        return await entity_page(
            ctx, stmt, DELIVERY_ORDER, first, after, WebhookDeliveryType.from_model
        )


def _admin(ctx: Context) -> Context:
    ctx.get_viewer()
    if not rules.WEBHOOKS.allows(ctx.scope):
        raise forbidden("Only site owners and admins may manage webhooks.")
    return ctx


@strawberry.input
class CreateWebhookInput:
    url: str = strawberry.field(description="https only; must resolve to public addresses.")
    events: list[str] = strawberry.field(description=f"Any of: {EVENT_TYPES}.")
    description: str | None = None


@strawberry.input
class WebhookInput:
    webhook_id: strawberry.ID


@strawberry.input
class RedeliverWebhookEventInput:
    webhook_id: strawberry.ID
    event_id: str = strawberry.field(description="The event's id (evt_…), as in the delivery.")


@strawberry.type
class WebhookSecretPayload:
    webhook: WebhookType
    secret: str = strawberry.field(
        description="The signing secret (whsec_…). Shown this once: store it now."
    )


@strawberry.type
class WebhookPayload:
    webhook: WebhookType


@strawberry.type
class DeleteWebhookPayload:
    deleted_id: strawberry.ID


@strawberry.type
class RedeliverWebhookEventPayload:
    delivery: WebhookDeliveryType


def _id(value: strawberry.ID) -> int:
    return from_global_id(value, "Webhook", "webhookId")


@strawberry.type
class Query:
    @strawberry.field(description="The site's webhooks, oldest first (site owners and admins).")
    async def webhooks(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[WebhookType]:
        ctx = _admin(info.context)
        stmt = select(WebhookEndpoint)
        return await entity_page(ctx, stmt, WEBHOOK_ORDER, first, after, WebhookType.from_model)


async def _set_paused(info: Info, input: WebhookInput, *, paused: bool) -> WebhookPayload:
    pk = _id(input.webhook_id)
    endpoint = await info.context.write(
        lambda s, scope: webhooks.set_paused(s, scope, pk, paused=paused)
    )
    return WebhookPayload(webhook=WebhookType.from_model(endpoint))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Register an endpoint for signed events (admins). Answers the signing "
        "secret once."
    )
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> WebhookSecretPayload:
        _admin(info.context)
        url, events, description = await webhooks.check_input(
            info.context.settings, input.url, input.events, input.description
        )
        endpoint = await info.context.write(
            lambda s, scope: webhooks.create(
                s, scope, url=url, events=events, description=description
            )
        )
        return WebhookSecretPayload(
            webhook=WebhookType.from_model(endpoint), secret=endpoint.secret
        )

    @strawberry.mutation(description="Stop sending to a webhook; events are kept for resume.")
    async def pause_webhook(self, info: Info, input: WebhookInput) -> WebhookPayload:
        return await _set_paused(info, input, paused=True)

    @strawberry.mutation(description="Send again, including the events held while paused.")
    async def resume_webhook(self, info: Info, input: WebhookInput) -> WebhookPayload:
        return await _set_paused(info, input, paused=False)

    @strawberry.mutation(
        description="Replace the signing secret at once; answers the new one, once."
    )
    async def rotate_webhook_secret(self, info: Info, input: WebhookInput) -> WebhookSecretPayload:
        pk = _id(input.webhook_id)
        endpoint = await info.context.write(lambda s, scope: webhooks.rotate_secret(s, scope, pk))
        return WebhookSecretPayload(
            webhook=WebhookType.from_model(endpoint), secret=endpoint.secret
        )

    @strawberry.mutation(description="Delete a webhook and its deliveries.")
    async def delete_webhook(self, info: Info, input: WebhookInput) -> DeleteWebhookPayload:
        pk = _id(input.webhook_id)
        await info.context.write(lambda s, scope: webhooks.delete(s, scope, pk))
        return DeleteWebhookPayload(deleted_id=input.webhook_id)

    @strawberry.mutation(
        description="Send an event to a webhook again, with the same id and body, retries anew."
    )
    async def redeliver_webhook_event(
        self, info: Info, input: RedeliverWebhookEventInput
    ) -> RedeliverWebhookEventPayload:
        pk = _id(input.webhook_id)
        event_id = text("eventId", input.event_id, 40)
        delivery = await info.context.write(
            lambda s, scope: webhooks.redeliver(s, scope, pk, event_id)
        )
        return RedeliverWebhookEventPayload(delivery=WebhookDeliveryType.from_model(delivery))
