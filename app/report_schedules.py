"""Scheduled report emails: the schedules (create, pause, resume, delete) and when each is due.

Invariants:
- a schedule is for oneself (site admins and Group Analysts: those who may export), or, for
  site admins only, for any Group Analyst; refused writes are FORBIDDEN, a schedule the
  viewer may not see is NOT_FOUND: a schedule is private to its recipient and site admins
  (`permissions.rules.PRIVATE`, for reading and managing alike);
- the groups and courses named must be visible to the creator and exportable by the
  recipient when created (NOT_FOUND otherwise, like the export); access is checked again
  when each report is sent (`app.report_mail`), with the recipient's access at that moment;
- `next_run_at` is the next `time_of_day` (on `weekday` for WEEKLY) in the schedule's IANA
  time zone, as a UTC instant, strictly after the moment given: daylight saving changes
  move the UTC instant, never the local time;
- every change is audited in its transaction.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from app import audit
from app.auth import Viewer
from app.db import Database
from app.errors import bad_input, forbidden, not_found
from app.export import ExportParams, check_access
from app.models import ReportSchedule, Role, User, UserRole, utcnow
from app.report import ProgressStatus
from permissions import rules
from permissions.policy import AccessScope, load_scope

MAX_PER_RECIPIENT = 20
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Frequency(enum.StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"


class ReportFormat(enum.StrEnum):
    CSV = "CSV"
    XLSX = "XLSX"


@dataclass(frozen=True)
class When:
    frequency: Frequency
    weekday: int | None
    time_of_day: time
    zone: ZoneInfo


def check_when(frequency: Frequency, weekday: int | None, time_of_day: str, time_zone: str) -> When:
    match = _TIME.match(time_of_day.strip())
    if match is None:
        raise bad_input("timeOfDay", "'timeOfDay' must be HH:MM, 00:00 to 23:59.")
    if frequency is Frequency.WEEKLY and weekday is None:
        raise bad_input("weekday", "'weekday' is required for a WEEKLY schedule.")
    if frequency is Frequency.DAILY and weekday is not None:
        raise bad_input("weekday", "'weekday' is for WEEKLY schedules only; leave it out.")
    name = time_zone.strip()
    if not name or len(name) > 64 or not name.isascii() or name.startswith(("/", ".")):
        raise bad_input("timeZone", "'timeZone' must be an IANA time zone such as Europe/Paris.")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise bad_input(
            "timeZone", "'timeZone' must be an IANA time zone such as Europe/Paris."
        ) from exc
    return When(frequency, weekday, time(int(match[1]), int(match[2])), zone)


def next_run(when: When, after: datetime) -> tuple[datetime, date]:
    """The next due instant (UTC) strictly after `after`, and its local date (the period)."""
    local_day = after.astimezone(when.zone).date()
    for offset in range(9):
        day = local_day + timedelta(days=offset)
        if when.frequency is Frequency.WEEKLY and day.weekday() != when.weekday:
            continue
        due = datetime.combine(day, when.time_of_day, tzinfo=when.zone).astimezone(UTC)
        if due > after:
            return due, day
    raise AssertionError("a daily or weekly time always falls within nine days")


def when_of(schedule: ReportSchedule) -> When:
    return When(
        Frequency(schedule.frequency),
        schedule.weekday,
        time.fromisoformat(schedule.time_of_day),
        ZoneInfo(schedule.time_zone),
    )


async def _recipient_scope(
    db: Database, scope: AccessScope, recipient_id: int | None
) -> tuple[int, AccessScope]:
    """Who receives it, and that user's scope now; FORBIDDEN/NOT_FOUND as the rules say."""
    if not rules.REPORT_EXPORT.allows(scope):
        raise forbidden("Only site admins and group analysts can schedule reports.")
    assert scope.viewer_id is not None
    if recipient_id is None or recipient_id == scope.viewer_id:
        return scope.viewer_id, scope
    if not scope.is_admin:
        raise forbidden("Only site admins may schedule reports for someone else.")
    async with db.read() as session:
        user = await session.get(User, recipient_id)
        roles = set(
            (
                await session.execute(
                    select(UserRole.role).where(col(UserRole.user_id) == recipient_id)
                )
            ).scalars()
        )
    if user is None or user.id is None:
        raise not_found("user", "recipientId")
    if Role.GROUP_ANALYST.value not in roles:
        raise bad_input("recipientId", "Reports are scheduled for Group Analysts (or yourself).")
    viewer = Viewer(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        roles=frozenset(Role(r) for r in roles),
    )
    return user.id, await load_scope(db, viewer)


@dataclass(frozen=True)
class ScheduleInput:
    recipient_id: int | None
    params: ExportParams
    when: When
    format: ReportFormat


async def check_create(db: Database, scope: AccessScope, given: ScheduleInput) -> int:
    """Everything checked before the write: the recipient's id."""
    recipient, recipient_scope = await _recipient_scope(db, scope, given.recipient_id)
    # Visible to the creator and exportable by the recipient, like the export itself.
    for who in (scope, recipient_scope):
        await check_access(db, who, given.params, group_field="groupIds", course_field="courseIds")
    return recipient


async def create(
    session: AsyncSession, scope: AccessScope, recipient_id: int, given: ScheduleInput
) -> ReportSchedule:
    count = (
        await session.execute(
            select(func.count())
            .select_from(ReportSchedule)
            .where(col(ReportSchedule.recipient_id) == recipient_id)
        )
    ).scalar_one()
    if count >= MAX_PER_RECIPIENT:
        raise bad_input("recipientId", f"At most {MAX_PER_RECIPIENT} schedules per recipient.")
    now = utcnow()
    due, _ = next_run(given.when, now)
    schedule = ReportSchedule(
        recipient_id=recipient_id,
        created_by_id=scope.viewer_id,
        group_ids=list(given.params.group_ids) if given.params.group_ids else None,
        course_ids=list(given.params.course_ids) if given.params.course_ids else None,
        status=given.params.status.value if given.params.status else None,
        frequency=given.when.frequency.value,
        weekday=given.when.weekday,
        time_of_day=given.when.time_of_day.strftime("%H:%M"),
        time_zone=str(given.when.zone.key),
        format=given.format.value,
        created_at=now,
        next_run_at=due,
    )
    session.add(schedule)
    await session.flush()
    _audit(session, scope, "report_schedule.create", schedule)
    return schedule


def may_manage(scope: AccessScope, schedule: ReportSchedule) -> bool:
    return rules.PRIVATE.allows(scope, schedule.recipient_id)


async def _schedule(session: AsyncSession, scope: AccessScope, pk: int) -> ReportSchedule:
    schedule = await session.get(ReportSchedule, pk, with_for_update=True)
    if schedule is None or not may_manage(scope, schedule):
        raise not_found("report schedule", "scheduleId")
    return schedule


def _audit(session: AsyncSession, scope: AccessScope, action: str, s: ReportSchedule) -> None:
    audit.record(
        session,
        actor_id=scope.viewer_id,
        action=action,
        target_type="ReportSchedule",
        target_id=s.id,
        details={
            "recipientId": audit.ref("User", s.recipient_id),
            "frequency": s.frequency,
            "weekday": s.weekday,
            "timeOfDay": s.time_of_day,
            "timeZone": s.time_zone,
        },
    )


async def set_paused(
    session: AsyncSession, scope: AccessScope, pk: int, *, paused: bool
) -> ReportSchedule:
    schedule = await _schedule(session, scope, pk)
    if paused == (schedule.paused_at is not None):
        return schedule
    now = utcnow()
    schedule.paused_at = now if paused else None
    if not paused:
        # Resumed: the next period from now on, never the ones missed while paused.
        schedule.next_run_at, _ = next_run(when_of(schedule), now)
    _audit(
        session, scope, "report_schedule.pause" if paused else "report_schedule.resume", schedule
    )
    return schedule


async def delete(session: AsyncSession, scope: AccessScope, pk: int) -> ReportSchedule:
    schedule = await _schedule(session, scope, pk)
    _audit(session, scope, "report_schedule.delete", schedule)
    await session.delete(schedule)
    return schedule


def progress_status(value: str | None) -> ProgressStatus | None:
    return ProgressStatus(value) if value else None
