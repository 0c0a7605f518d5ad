"""The audit trail: the `AuditEvent` type and the `auditEvents` query (admins only).

Invariants: anonymous callers get UNAUTHENTICATED and signed-in non-admins FORBIDDEN (the trail
exists for every site, so refusing it reveals nothing; an empty list would hide a wrong
token from automation); events come newest first (by id), paginated by keyset on the id.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from sqlalchemy import ColumnElement
from sqlmodel import col, select
from strawberry.scalars import JSON

from app.audit import AuditAction
from app.errors import bad_input, forbidden
from app.listing import AUDIT_ORDER
from app.models import AuditEvent
from app.pagination import DEFAULT_PAGE_SIZE
from app.validation import aware
from permissions import rules
from resolvers.context import Context, Info
from resolvers.pagination import Connection, First, entity_page
from resolvers.relay import Node, from_global_id, to_global_id
from resolvers.users import UserType, load_user

strawberry.enum(AuditAction, description="A kind of audited change.")


@strawberry.type(name="AuditEvent", description="One change made through the API or the CLI.")
class AuditEventType(Node):
    action: AuditAction = strawberry.field(description="What kind of change it was.")
    target_type: str
    target_id: strawberry.ID | None = strawberry.field(description="The changed object's id.")
    at: datetime
    details: JSON = strawberry.field(description="What changed (before/after where useful).")
    actor_id: strawberry.Private[int | None]
    token_id: strawberry.ID | None = strawberry.field(
        description="The ApiToken whose request made the change; null for the command line "
        "(and `login`). Tell a script from its human on one account by this."
    )
    token_name: str | None = strawberry.field(
        description="That token's name when it made the change (e.g. 'login', 'hr-sync')."
    )

    @classmethod
    def from_model(cls, event: AuditEvent) -> AuditEventType:
        assert event.id is not None
        return cls(
            id=to_global_id("AuditEvent", event.id),
            action=AuditAction(event.action),
            target_type=event.target_type,
            target_id=(
                to_global_id(event.target_type, event.target_id)
                if event.target_id is not None
                else None
            ),
            at=event.at,
            details=cast(JSON, event.details),
            actor_id=event.actor_id,
            token_id=(
                to_global_id("ApiToken", event.token_id) if event.token_id is not None else None
            ),
            token_name=event.token_name,
        )

    @strawberry.field(description="Who made the change; null for the command line.")
    async def actor(self, info: Info) -> UserType | None:
        return await load_user(info.context, self.actor_id)


async def load_audit_event(ctx: Context, event_id: int) -> AuditEventType | None:
    """The event through its scoped loader: null when absent or the trail is not readable."""
    event = await ctx.loaders.audit_event_by_id.load(event_id)
    return AuditEventType.from_model(event) if event else None


@strawberry.input
class AuditEventFilter:
    actor_id: strawberry.ID | None = None
    action: list[AuditAction] | None = strawberry.field(
        default=None, description="Any of these kinds of change (one value is a list of one)."
    )
    since: datetime | None = strawberry.field(default=None, description="At or after.")
    until: datetime | None = strawberry.field(default=None, description="Before.")


def _where(flt: AuditEventFilter | None) -> list[ColumnElement[bool]]:
    if flt is None:
        return []
    out: list[ColumnElement[bool]] = []
    if flt.actor_id is not None:
        out.append(
            col(AuditEvent.actor_id) == from_global_id(flt.actor_id, "User", "filter.actorId")
        )
    if flt.action is not None:
        if len(flt.action) > len(AuditAction):
            raise bad_input("filter.action", "'filter.action' lists more actions than exist.")
        out.append(col(AuditEvent.action).in_(sorted({a.value for a in flt.action})))
    since = aware("filter.since", flt.since)
    until = aware("filter.until", flt.until)
    if since is not None:
        out.append(col(AuditEvent.at) >= since)
    if until is not None:
        out.append(col(AuditEvent.at) < until)
    return out


@strawberry.type
class Query:
    @strawberry.field(description="The audit trail, newest first (site owners and admins).")
    async def audit_events(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: AuditEventFilter | None = None,
    ) -> Connection[AuditEventType]:
        ctx = info.context
        ctx.get_viewer()
        if not rules.AUDIT_TRAIL.allows(ctx.scope):
            raise forbidden("Only site owners and admins may read the audit trail.")
        stmt = select(AuditEvent).where(*_where(filter))
        return await entity_page(ctx, stmt, AUDIT_ORDER, first, after, AuditEventType.from_model)
