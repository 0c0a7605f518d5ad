"""Events out: which changes become which events, written to the outbox with the change.

Invariants:
- `enqueue` adds its rows to the session of the change (`audit.record` calls it), so an event
  exists exactly when its change committed: a rolled-back change sends nothing;
- one event has one id (`evt_` + 32 hex digits), shared by its rows for every consumer kind,
  kept through retries and redeliveries, so receivers drop duplicates by it;
- a subject names objects by their global ids only; payloads are rendered from it when
  delivered (`app.event_payload` for webhooks, the subscription resolvers for live events),
  each with the reader's own access rules.

Consumer kinds: `webhook` (fanned out to the admins' endpoints) and `live` (GraphQL
subscriptions). Event types sent to webhooks are `WebhookEvent`; live-only types tell
subscriptions that something they show, or the subscriber's access, may have changed.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.ids import to_global_id
from app.live_commit import track
from app.models import OutboxEntry

WEBHOOK = "webhook"
LIVE = "live"


class WebhookEvent(enum.StrEnum):
    ANALYST_ASSIGNED = "analyst.assigned"
    ANALYST_UNASSIGNED = "analyst.unassigned"
    ANALYST_ASSIGNMENT_EXPIRED = "analyst.assignment.expired"
    USER_CREATED = "user.created"
    USER_ROLES_CHANGED = "user.roles.changed"
    USER_DEACTIVATED = "user.deactivated"
    GROUP_MEMBERS_ADDED = "group.members.added"
    GROUP_MEMBERS_REMOVED = "group.members.removed"
    ENROLLMENT_CREATED = "enrollment.created"
    LESSON_COMPLETED = "lesson.completed"
    COURSE_COMPLETED = "course.completed"


# Live-only event types: a subscriber re-reads what it shows and re-checks its access.
PROGRESS_TYPES = frozenset(
    {
        "enrollment.created",
        "enrollment.updated",
        "enrollment.deleted",
        "lesson.viewed",
        "lesson.completed",
    }
)
GROUP_TYPES = frozenset(
    {
        "analyst.assigned",
        "analyst.unassigned",
        "analyst.assignment.expired",
        "group.members.added",
        "group.members.removed",
    }
)
# Events after which every subscriber re-checks its access before anything else is sent.
ACCESS_TYPES = GROUP_TYPES | {
    "analyst.assignment.updated",
    "user.roles.changed",
    "user.deactivated",
    "token.revoked",
    "group.deleted",
}


@dataclass(frozen=True)
class Event:
    type: str
    subject: dict[str, Any]
    consumers: tuple[str, ...]


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def gid(type_name: str, pk: int | None) -> str:
    if pk is None:
        raise ValueError(f"an event names a {type_name} before it has an id (flush first)")
    return str(to_global_id(type_name, pk))


Details = dict[str, Any]
BOTH = (WEBHOOK, LIVE)
LIVE_ONLY = (LIVE,)


def _assignment(kind: str, consumers: tuple[str, ...]) -> Callable[[int | None, Details], Event]:
    def build(target_id: int | None, details: Details) -> Event:
        subject = {
            "assignment": gid("GroupAnalystAssignment", target_id),
            "analyst": details["analystId"],
            "group": details["groupId"],
        }
        return Event(kind, subject, consumers)

    return build


def _members(kind: str) -> Callable[[int | None, Details], Event]:
    def build(target_id: int | None, details: Details) -> Event:
        return Event(kind, {"group": gid("Group", target_id), "users": details["userIds"]}, BOTH)

    return build


def _in_course(
    target: str, type_name: str
) -> Callable[[str, tuple[str, ...]], Callable[[int | None, Details], Event]]:
    """Events about a student in a course whose target is `type_name` (an enrollment's
    progress, a lesson): the subject names it as `target`, with the user and the course."""

    def for_kind(kind: str, consumers: tuple[str, ...]) -> Callable[[int | None, Details], Event]:
        def build(target_id: int | None, details: Details) -> Event:
            subject = {
                target: gid(type_name, target_id),
                "user": details["userId"],
                "course": details["courseId"],
            }
            return Event(kind, subject, consumers)

        return build

    return for_kind


_enrollment = _in_course("progress", "Progress")
_lesson = _in_course("lesson", "Lesson")


def _user(kind: str, consumers: tuple[str, ...]) -> Callable[[int | None, Details], Event]:
    def build(target_id: int | None, _details: Details) -> Event:
        return Event(kind, {"user": gid("User", target_id)}, consumers)

    return build


def _roles(target_id: int | None, details: Details) -> Event:
    subject = {
        "user": gid("User", target_id),
        "before": details["before"],
        "after": details["after"],
    }
    return Event(WebhookEvent.USER_ROLES_CHANGED, subject, BOTH)


def _subject_only(kind: str, type_name: str) -> Callable[[int | None, Details], Event]:
    def build(target_id: int | None, _details: Details) -> Event:
        return Event(kind, {type_name.lower(): gid(type_name, target_id)}, LIVE_ONLY)

    return build


# Audit action -> the event it becomes. Actions not listed send nothing.
_BY_ACTION: dict[str, Callable[[int | None, Details], Event]] = {
    "analyst.assign": _assignment(WebhookEvent.ANALYST_ASSIGNED, BOTH),
    "analyst.assign.update": _assignment("analyst.assignment.updated", LIVE_ONLY),
    "analyst.unassign": _assignment(WebhookEvent.ANALYST_UNASSIGNED, BOTH),
    "user.create": _user(WebhookEvent.USER_CREATED, (WEBHOOK,)),
    "user.roles.set": _roles,
    "user.deactivate": _user(WebhookEvent.USER_DEACTIVATED, BOTH),
    "group.members.add": _members(WebhookEvent.GROUP_MEMBERS_ADDED),
    "group.members.remove": _members(WebhookEvent.GROUP_MEMBERS_REMOVED),
    "group.delete": _subject_only("group.deleted", "Group"),
    "enrollment.create": _enrollment(WebhookEvent.ENROLLMENT_CREATED, BOTH),
    "enrollment.update": _enrollment("enrollment.updated", LIVE_ONLY),
    "enrollment.delete": _enrollment("enrollment.deleted", LIVE_ONLY),
    "lesson.view": _lesson("lesson.viewed", LIVE_ONLY),
    "lesson.complete": _lesson(WebhookEvent.LESSON_COMPLETED, BOTH),
    "token.revoke": _subject_only("token.revoked", "ApiToken"),
    "auth.logout": _subject_only("token.revoked", "ApiToken"),
    "token.revoke_all": _user("token.revoked", LIVE_ONLY),
}


def events_for(action: str, target_id: int | None, details: Details) -> list[Event]:
    build = _BY_ACTION.get(action)
    if build is None:
        return []
    events = [build(target_id, details)]
    if action == "lesson.complete" and details.get("courseCompleted"):
        subject = {"user": details["userId"], "course": details["courseId"]}
        events.append(Event(WebhookEvent.COURSE_COMPLETED, subject, (WEBHOOK,)))
    return events


def add_event(session: AsyncSession, event: Event, at: datetime) -> str:
    """Write one event's outbox rows (one per consumer kind) into the caller's session."""
    event_id = new_event_id()
    for consumer in event.consumers:
        entry = OutboxEntry(
            event_id=event_id,
            consumer=consumer,
            type=str(event.type),
            occurred_at=at,
            subject=event.subject,
        )
        session.add(entry)
        if consumer == LIVE:
            track(session, entry)
    return event_id


def enqueue(
    session: AsyncSession, action: str, target_id: int | None, details: Details, at: datetime
) -> None:
    for event in events_for(action, target_id, details):
        add_event(session, event, at)
