"""The tables, and the constraints the database itself enforces.

Invariants kept here (not in application code, so they hold across processes):
- a user's email and a group's name are unique up to case and Unicode look-alikes
  (`email_key`, `name_key` hold the NFKC, case-folded value of `app.identity` under a
  unique constraint);
- one enrollment per (user, course), one assignment per (analyst, group), one progress row
  per (enrollment, lesson), one membership per (group, user);
- every reference is a foreign key; deleting a group or a user cascades to the rows that only
  make sense with it (memberships, assignments), never to enrollments of other users.
Plans and their Group Analyst seats are rows in `plan`, not code: `group_analyst_seats` NULL
means unlimited.
Ids are never reused, also on SQLite (AUTOINCREMENT): the audit trail and automation keep ids
of deleted rows, and a new row must never answer to them.
All timestamps are timezone-aware UTC in Python (see `UTCDateTime`).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in Python; `timestamptz` on PostgreSQL, naive UTC text on SQLite.

    SQLite has no time zone type: storing naive UTC keeps string comparison and ordering
    correct there.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table of a model, for bulk inserts (`insert(table_of(User)), rows`)."""
    return cast(sa.Table, model.__table__)  # type: ignore[attr-defined]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(*, nullable: bool, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index),
    )


class Role(enum.StrEnum):
    SITE_OWNER = "SITE_OWNER"
    SITE_ADMIN = "SITE_ADMIN"
    GROUP_ANALYST = "GROUP_ANALYST"
    STUDENT = "STUDENT"


class Plan(SQLModel, table=True):
    __tablename__ = "plan"

    code: str = Field(primary_key=True, max_length=32)
    # NULL: unlimited seats.
    group_analyst_seats: int | None = Field(default=None)


class Site(SQLModel, table=True):
    __tablename__ = "site"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    plan_code: str = Field(foreign_key="plan.code", max_length=32)
    created_at: datetime = _ts(nullable=False)


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    email: str = Field(max_length=254)
    email_key: str = Field(max_length=254, unique=True)
    company: str | None = Field(default=None, max_length=200)
    # NULL: the user cannot log in with a password (imported students, API-only accounts).
    password_hash: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts(nullable=False)
    # Set while the account is deactivated: it cannot sign in, its tokens are refused, its
    # assignments grant nothing and it holds no Group Analyst seat; its data stays.
    deactivated_at: datetime | None = _ts(nullable=True)


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"

    user_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    )
    role: str = Field(primary_key=True, max_length=32, index=True)


class Group(SQLModel, table=True):
    __tablename__ = "student_group"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200, unique=True)
    created_at: datetime = _ts(nullable=False)


class GroupMembership(SQLModel, table=True):
    __tablename__ = "group_membership"
    __table_args__ = (sa.Index("ix_group_membership_user", "user_id", "group_id"),)

    group_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("student_group.id", ondelete="CASCADE"), primary_key=True)
    )
    user_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    )
    added_at: datetime = _ts(nullable=False)


class AnalystAssignment(SQLModel, table=True):
    __tablename__ = "analyst_assignment"
    __table_args__ = (
        sa.UniqueConstraint("analyst_id", "group_id", name="uq_assignment_analyst_group"),
        sa.Index("ix_assignment_group", "group_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    analyst_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    group_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("student_group.id", ondelete="CASCADE"), nullable=False)
    )
    assigned_by_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True),
    )
    assigned_at: datetime = _ts(nullable=False)
    # NULL: never expires. An expired assignment grants nothing.
    expires_at: datetime | None = _ts(nullable=True)


class Course(SQLModel, table=True):
    __tablename__ = "course"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    # Kept equal to the number of lesson rows; reports divide by it.
    lesson_count: int = Field(default=0)
    created_at: datetime = _ts(nullable=False)


class Lesson(SQLModel, table=True):
    __tablename__ = "lesson"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "position", name="uq_lesson_position"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("course.id", ondelete="CASCADE"), nullable=False)
    )
    position: int
    title: str = Field(max_length=200)


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollment"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id", name="uq_enrollment_user_course"),
        sa.Index("ix_enrollment_course", "course_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    course_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("course.id", ondelete="CASCADE"), nullable=False)
    )
    activated_at: datetime = _ts(nullable=False)
    # When the student loses access; NULL: never.
    expires_at: datetime | None = _ts(nullable=True)
    # The first moment completion reached 100%; never cleared.
    completed_at: datetime | None = _ts(nullable=True)
    # Running counters, updated in the transaction that records a lesson event.
    lessons_viewed: int = Field(default=0)
    lessons_completed: int = Field(default=0)


class LessonProgress(SQLModel, table=True):
    __tablename__ = "lesson_progress"

    enrollment_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("enrollment.id", ondelete="CASCADE"), primary_key=True)
    )
    lesson_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("lesson.id", ondelete="CASCADE"), primary_key=True)
    )
    viewed_at: datetime | None = _ts(nullable=True)
    completed_at: datetime | None = _ts(nullable=True)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(
            sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=100)
    # SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts(nullable=False)
    expires_at: datetime = _ts(nullable=False)
    revoked_at: datetime | None = _ts(nullable=True)
    # Stamped by `app.auth` when the token signs a request in, to the minute.
    last_used_at: datetime | None = _ts(nullable=True)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_actor_at", "actor_id", "at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    # NULL for the command line and for actors deleted since.
    actor_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True),
    )
    action: str = Field(max_length=64, index=True)
    target_type: str = Field(max_length=32)
    target_id: int | None = Field(default=None)
    at: datetime = _ts(nullable=False, index=True)
    details: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False)
    )
    # The token that signed the request making the change (NULL: the command line, `login`),
    # so a script and its human on one account can be told apart. The name is copied: it
    # stays readable to admins, who never read tokens themselves.
    token_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.ForeignKey("api_token.id", ondelete="SET NULL"), nullable=True),
    )
    token_name: str | None = Field(default=None, max_length=100)


class PlanCode(enum.StrEnum):
    """The plans a site can be on (their seat limits are rows of `plan`, not code)."""

    BASIC = "BASIC"
    PRO = "PRO"
    PRO_GROWTH = "PRO_GROWTH"
    PREMIER = "PREMIER"
    PLUS = "PLUS"


DEFAULT_PLANS: dict[str, int | None] = {
    PlanCode.BASIC: 0,
    PlanCode.PRO: 0,
    PlanCode.PRO_GROWTH: 3,
    PlanCode.PREMIER: 15,
    PlanCode.PLUS: None,
}


class LoginFailure(SQLModel, table=True):
    """One sign-in attempt not (yet) known to be right, to throttle guessing (`app.throttle`)."""

    __tablename__ = "login_failure"
    __table_args__ = (
        sa.Index("ix_login_failure_client_email_at", "client_digest", "email_digest", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # SHA-256 of the email's key (`app.identity`) tried, whether or not such a user exists.
    email_digest: str = Field(max_length=64)
    # SHA-256 of the client address the attempt came from (`app.client_address`).
    client_digest: str = Field(max_length=64)
    at: datetime = _ts(nullable=False, index=True)


class AccountLink(SQLModel, table=True):
    """A single-use link mailed to a user: a password reset or an invitation to set one.

    Only the SHA-256 of the link's secret is stored; a used, superseded or expired link sets
    nothing (`app.account_links`).
    """

    __tablename__ = "account_link"
    __table_args__ = (
        sa.Index("ix_account_link_user_purpose", "user_id", "purpose", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    # "reset" or "invite".
    purpose: str = Field(max_length=16)
    secret_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts(nullable=False)
    expires_at: datetime = _ts(nullable=False)
    # When it was used, or superseded by a newer link of the same user: it works once.
    used_at: datetime | None = _ts(nullable=True)


# -- events out (`app/outbox.py`, `app/webhooks.py`, `app/worker.py`) -------------------------


class OutboxEntry(SQLModel, table=True):
    """One event for one consumer kind, written in the transaction of the change it describes.

    `event_id` is the event's stable id: the same for every consumer, every retry and every
    redelivery, so receivers drop duplicates by it.
    """

    __tablename__ = "outbox_entry"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "consumer", name="uq_outbox_event_consumer"),
        sa.Index("ix_outbox_pending", "consumer", "processed_at", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=40)
    # "webhook" (fanned out to endpoints) or "live" (GraphQL subscriptions).
    consumer: str = Field(max_length=16)
    type: str = Field(max_length=64)
    occurred_at: datetime = _ts(nullable=False)
    # The objects the event is about, by global id (`app.events`).
    subject: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False)
    )
    processed_at: datetime | None = _ts(nullable=True, index=True)


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=500)
    # The event types it receives, sorted.
    events: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    # "whsec_" + base64; kept to sign (a hash could not sign), shown once to the admin.
    secret: str = Field(max_length=100)
    created_at: datetime = _ts(nullable=False)
    created_by_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True),
    )
    # NULL: active. Set by an admin (pauseWebhook) or by the worker after retries ran out.
    paused_at: datetime | None = _ts(nullable=True)
    paused_reason: str | None = Field(default=None, max_length=500)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint, with its attempts so far (`app.webhook_delivery`)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_delivery_webhook_event"),
        sa.Index("ix_delivery_due", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(
        sa_column=sa.Column(
            sa.ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    event_id: str = Field(max_length=40)
    event_type: str = Field(max_length=64)
    # The exact body signed and sent, identical on every attempt.
    payload: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    # PENDING, DELIVERED or FAILED (retries ran out).
    status: str = Field(max_length=16)
    attempts: int = Field(default=0)
    created_at: datetime = _ts(nullable=False)
    next_attempt_at: datetime | None = _ts(nullable=True)
    # A worker sending it holds it until then; after a crash another worker takes it over.
    locked_until: datetime | None = _ts(nullable=True)
    last_attempt_at: datetime | None = _ts(nullable=True)
    response_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = _ts(nullable=True)


class AssignmentExpiryNotice(SQLModel, table=True):
    """An assignment's expiry already announced: at most one event per (assignment, expiry)."""

    __tablename__ = "assignment_expiry_notice"

    assignment_id: int = Field(primary_key=True)
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), primary_key=True))
    announced_at: datetime = _ts(nullable=False)


class WorkerLease(SQLModel, table=True):
    """On SQLite, the one worker allowed to run holds this row (`app.worker`)."""

    __tablename__ = "worker_lease"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=200)
    expires_at: datetime = _ts(nullable=False)


class ReportSchedule(SQLModel, table=True):
    """A group progress report mailed to `recipient` on a schedule (`app.report_schedules`)."""

    __tablename__ = "report_schedule"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(
        sa_column=sa.Column(
            sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    created_by_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True),
    )
    # NULL: every group (course) the recipient may see when the report is sent.
    group_ids: list[int] | None = Field(default=None, sa_column=sa.Column(sa.JSON(), nullable=True))
    course_ids: list[int] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON(), nullable=True)
    )
    status: str | None = Field(default=None, max_length=16)
    frequency: str = Field(max_length=8)  # DAILY or WEEKLY
    weekday: int | None = Field(default=None)  # 0 = Monday (WEEKLY only)
    time_of_day: str = Field(max_length=5)  # HH:MM in `time_zone`
    time_zone: str = Field(max_length=64)  # IANA name
    format: str = Field(max_length=8)
    created_at: datetime = _ts(nullable=False)
    paused_at: datetime | None = _ts(nullable=True)
    # The next moment it is due, in UTC; recomputed after every send and on resume.
    next_run_at: datetime = _ts(nullable=False, index=True)


class ReportSend(SQLModel, table=True):
    """One period of one schedule, claimed before its mail is sent: at most one per period."""

    __tablename__ = "report_send"

    schedule_id: int = Field(
        sa_column=sa.Column(
            sa.ForeignKey("report_schedule.id", ondelete="CASCADE"), primary_key=True
        )
    )
    # The period's date in the schedule's time zone (ISO 8601).
    period: str = Field(primary_key=True, max_length=10)
    claimed_at: datetime = _ts(nullable=False)
    sent_at: datetime | None = _ts(nullable=True)
    rows: int | None = Field(default=None)
    outcome: str | None = Field(default=None, max_length=500)
