"""Webhook payloads: an outbox entry rendered as the JSON body receivers get.

Shape: `{"id": "evt_…", "type": "lesson.completed", "timestamp": ISO 8601 UTC, "data": {…}}`;
`data` holds each object of the event's subject by global id with the fields an admin may
read (webhooks are managed by admins), asked of the access rules with an admin's scope
(`permissions.rules` with `permissions.policy.system_scope`). An object deleted since
reads `{"id": …, "deleted": true}`.

Invariants: rendered once per event and stored with each delivery, so every attempt and every
redelivery sends the same bytes; ASCII JSON (non-ASCII escaped), so any receiver's decoding
agrees with the signed text.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.audit import iso
from app.events import gid
from app.ids import parse_global_id
from app.models import (
    AnalystAssignment,
    Course,
    Enrollment,
    Group,
    Lesson,
    OutboxEntry,
    User,
    UserRole,
)
from app.report import percent, status_of
from permissions import rules
from permissions.policy import AccessScope, learn_members, system_scope

Rendered = dict[str, Any]


async def _user(session: AsyncSession, scope: AccessScope, pk: int) -> Rendered | None:
    user = await session.get(User, pk)
    await learn_members(session, scope, (pk,))
    if user is None or not rules.USER.allows(scope, pk):
        return None
    roles = (
        await session.execute(select(UserRole.role).where(col(UserRole.user_id) == pk))
    ).scalars()
    return {
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email if rules.CONTACT.allows(scope, pk) else None,
        "company": user.company if rules.CONTACT.allows(scope, pk) else None,
        "roles": sorted(roles) if rules.PRIVATE.allows(scope, pk) else None,
        "createdAt": iso(user.created_at) if rules.PRIVATE.allows(scope, pk) else None,
    }


async def _group(session: AsyncSession, scope: AccessScope, pk: int) -> Rendered | None:
    group = await session.get(Group, pk)
    if group is None or not rules.GROUP.allows(scope, pk):
        return None
    return {"name": group.name, "createdAt": iso(group.created_at)}


async def _course(session: AsyncSession, _scope: AccessScope, pk: int) -> Rendered | None:
    course = await session.get(Course, pk)
    if course is None:
        return None
    return {"name": course.name, "lessonCount": course.lesson_count}


async def _lesson(session: AsyncSession, _scope: AccessScope, pk: int) -> Rendered | None:
    lesson = await session.get(Lesson, pk)
    if lesson is None:
        return None
    return {
        "title": lesson.title,
        "position": lesson.position,
        "course": gid("Course", lesson.course_id),
    }


def _progress_fields(scope: AccessScope, enrollment: Enrollment, lessons: int) -> Rendered:
    student = enrollment.user_id
    return {
        "student": gid("User", student),
        "course": gid("Course", enrollment.course_id),
        "activatedAt": iso(enrollment.activated_at),
        "percentViewed": percent(enrollment.lessons_viewed, lessons),
        "percentCompleted": percent(enrollment.lessons_completed, lessons),
        "status": status_of(
            enrollment.lessons_viewed, enrollment.lessons_completed, enrollment.completed_at
        ).value,
        "completedAt": iso(enrollment.completed_at),
        "expiresAt": iso(enrollment.expires_at)
        if rules.ENROLLMENT.allows(scope, student)
        else None,
    }


async def _progress(session: AsyncSession, scope: AccessScope, pk: int) -> Rendered | None:
    enrollment = await session.get(Enrollment, pk)
    if enrollment is not None:
        await learn_members(session, scope, (enrollment.user_id,))
    if enrollment is None or not rules.ENROLLMENT.allows(scope, enrollment.user_id):
        return None
    course = await session.get(Course, enrollment.course_id)
    return _progress_fields(scope, enrollment, course.lesson_count if course else 0)


async def _assignment(session: AsyncSession, scope: AccessScope, pk: int) -> Rendered | None:
    assignment = await session.get(AnalystAssignment, pk)
    if assignment is None:
        return None
    key = rules.AssignmentKey(assignment.analyst_id, assignment.group_id, assignment.expires_at)
    if not rules.ASSIGNMENT.allows(scope, key):
        return None
    by = assignment.assigned_by_id
    return {
        "analyst": gid("User", assignment.analyst_id),
        "group": gid("Group", assignment.group_id),
        "assignedBy": gid("User", by) if by is not None else None,
        "assignedAt": iso(assignment.assigned_at),
        "expiresAt": iso(assignment.expires_at),
    }


_RENDERERS: dict[str, Callable[[AsyncSession, AccessScope, int], Awaitable[Rendered | None]]] = {
    "User": _user,
    "Group": _group,
    "Course": _course,
    "Lesson": _lesson,
    "Progress": _progress,
    "GroupAnalystAssignment": _assignment,
}


async def _render_ref(session: AsyncSession, scope: AccessScope, value: str) -> Rendered:
    parsed = parse_global_id(value)
    if parsed is None or parsed[0] not in _RENDERERS:
        return {"id": value}
    fields = await _RENDERERS[parsed[0]](session, scope, parsed[1])
    if fields is None:
        return {"id": value, "deleted": True}
    return {"id": value, **fields}


async def _enrollment_of(session: AsyncSession, user: str, course: str) -> str | None:
    user_ref, course_ref = parse_global_id(user), parse_global_id(course)
    if user_ref is None or course_ref is None:
        return None
    pk = (
        await session.execute(
            select(Enrollment.id).where(
                col(Enrollment.user_id) == user_ref[1], col(Enrollment.course_id) == course_ref[1]
            )
        )
    ).scalar_one_or_none()
    return gid("Progress", pk) if pk is not None else None


async def render_data(session: AsyncSession, subject: dict[str, Any]) -> dict[str, Any]:
    scope = system_scope()
    subject = dict(subject)
    if "user" in subject and "course" in subject and "progress" not in subject:
        # Lesson and course events: the progress row they moved, as it is now.
        progress = await _enrollment_of(session, subject["user"], subject["course"])
        if progress is not None:
            subject["progress"] = progress
    data: dict[str, Any] = {}
    for key, value in subject.items():
        if key in ("before", "after"):
            data[key] = value
        elif isinstance(value, list):
            data[key] = [await _render_ref(session, scope, str(v)) for v in value]
        else:
            data[key] = await _render_ref(session, scope, str(value))
    return data


async def render(session: AsyncSession, entry: OutboxEntry) -> str:
    body = {
        "id": entry.event_id,
        "type": entry.type,
        "timestamp": iso(entry.occurred_at),
        "data": await render_data(session, entry.subject),
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True)
