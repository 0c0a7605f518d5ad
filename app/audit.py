"""The audit trail.

Invariants:
- `record` writes into the caller's session, so an event commits or rolls back with
  the change it describes; there is no audit event for a change that did not happen;
- every event also becomes the outbox entries of the events it stands for (`app.events`),
  in the same session, so webhooks and subscriptions hear of exactly the committed changes;
- `details` hold the change (before/after where useful) as JSON, naming other objects by their
  global ids (`ref`);
- every event's action is one of `AuditAction` (`record` refuses any other: a new kind of
  change adds its action there first, and the API's `AuditAction` enum shows it);
- every event written in a session marked with `sign_with` names that token (id and name):
  `Context.write` marks each mutation's session with the request's token, so a script and
  its human on one account can be told apart. Unmarked sessions (the CLI) name none.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import events
from app.ids import to_global_id
from app.models import AuditEvent, utcnow

if TYPE_CHECKING:
    from permissions.policy import AccessScope


class AuditAction(enum.StrEnum):
    """Every kind of audited change; the value is what the `audit_event.action` column holds."""

    SITE_INIT = "site.init"
    AUTH_LOGIN = "auth.login"
    AUTH_LOGOUT = "auth.logout"
    TOKEN_CREATE = "token.create"  # noqa: S105
    TOKEN_REVOKE = "token.revoke"  # noqa: S105
    TOKEN_REVOKE_ALL = "token.revoke_all"  # noqa: S105
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_ROLES_SET = "user.roles.set"
    USER_DEACTIVATE = "user.deactivate"
    USER_REACTIVATE = "user.reactivate"
    USER_PASSWORD_CHANGE = "user.password.change"  # noqa: S105
    USER_PASSWORD_RESET_REQUEST = "user.password.reset.request"  # noqa: S105
    USER_PASSWORD_RESET = "user.password.reset"  # noqa: S105
    USER_INVITE = "user.invite"
    USER_INVITE_RESEND = "user.invite.resend"
    USER_INVITATION_ACCEPT = "user.invitation.accept"
    ANALYST_ASSIGN = "analyst.assign"
    ANALYST_ASSIGN_UPDATE = "analyst.assign.update"
    ANALYST_UNASSIGN = "analyst.unassign"
    GROUP_CREATE = "group.create"
    GROUP_RENAME = "group.rename"
    GROUP_DELETE = "group.delete"
    GROUP_MEMBERS_ADD = "group.members.add"
    GROUP_MEMBERS_REMOVE = "group.members.remove"
    COURSE_CREATE = "course.create"
    ENROLLMENT_CREATE = "enrollment.create"
    ENROLLMENT_UPDATE = "enrollment.update"
    ENROLLMENT_DELETE = "enrollment.delete"
    LESSON_VIEW = "lesson.view"
    LESSON_COMPLETE = "lesson.complete"
    EXPORT_PROGRESS = "export.progress"
    REPORT_SCHEDULE_CREATE = "report_schedule.create"
    REPORT_SCHEDULE_DELETE = "report_schedule.delete"
    REPORT_SCHEDULE_PAUSE = "report_schedule.pause"
    REPORT_SCHEDULE_RESUME = "report_schedule.resume"
    WEBHOOK_CREATE = "webhook.create"
    WEBHOOK_DELETE = "webhook.delete"
    WEBHOOK_PAUSE = "webhook.pause"
    WEBHOOK_REDELIVER = "webhook.redeliver"
    WEBHOOK_RESUME = "webhook.resume"
    WEBHOOK_ROTATE_SECRET = "webhook.rotate_secret"  # noqa: S105


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
        action=AuditAction(action).value,
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
