"""The audit trail.

Invariants:
- `record` writes into the caller's session, so an event commits or rolls back with
  the change it describes; there is no audit event for a change that did not happen;
- every event also becomes the outbox entries of the events it stands for (`app.events`),
  in the same session, so webhooks and subscriptions hear of exactly the committed changes;
- `details` hold the change (before/after where useful) as JSON, naming other objects by their
  global ids (`ref`);
- every event written in a session marked with `sign_with` names that token (id and name):
  `Context.write` marks each mutation's session with the request's token, so a script and
  its human on one account can be told apart. Unmarked sessions (the CLI) name none.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import events
from app.ids import to_global_id
from app.models import AuditEvent, utcnow

if TYPE_CHECKING:
    from permissions.policy import AccessScope


def ref(type_name: str, pk: int) -> str:
    """How `details` name another object: its GraphQL global id, as clients know it."""
    return str(to_global_id(type_name, pk))


def iso(value: datetime | None) -> str | None:
    """How `details` hold a moment: ISO 8601, or null."""
    return value.isoformat() if value else None


_TOKEN = "groupanalyst_audit_token"  # noqa: S105  (a session.info key, not a secret)


def sign_with(session: AsyncSession, token_id: int | None, token_name: str | None) -> None:
    """Name this token in every event recorded in `session` from now on."""
    session.info[_TOKEN] = (token_id, token_name)


def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    token_id, token_name = session.info.get(_TOKEN, (None, None))
    event = AuditEvent(
        token_id=token_id,
        token_name=token_name,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        at=utcnow(),
        details=details or {},
    )
    session.add(event)
    events.enqueue(session, action, target_id, event.details, event.at)
    return event


def by_viewer(
    session: AsyncSession,
    scope: AccessScope,
    action: str,
    target_type: str,
    target_id: int | None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """`record` a change made by the viewer `scope` belongs to (every write service's case)."""
    return record(
        session,
        actor_id=scope.viewer_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
