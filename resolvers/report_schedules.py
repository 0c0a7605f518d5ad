"""Scheduled report emails in GraphQL: the `ReportSchedule` type, `reportSchedules`, and
`createReportSchedule`, `pauseReportSchedule`, `resumeReportSchedule`,
`deleteReportSchedule` (rules in `app.report_schedules`, sending in `app.report_mail`).

Invariants: a schedule is read and managed by its recipient and by site admins only
(`permissions.rules.PRIVATE`); anyone else's schedule answers NOT_FOUND, like one that does
not exist; the list holds the viewer's own schedules, every schedule for admins.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from sqlmodel import col, select

from app import report_schedules
from app.errors import bad_input
from app.export import parse_params
from app.models import ReportSchedule
from app.pagination import DEFAULT_PAGE_SIZE, Order
from app.report import ProgressStatus
from app.report_schedules import Frequency, ReportFormat, ScheduleInput
from permissions import rules
from resolvers.context import Info
from resolvers.pagination import Connection, First, entity_page
from resolvers.relay import from_global_id, node_of, present, to_global_id
from resolvers.users import UserType, load_user

SCHEDULE_ORDER = Order((col(ReportSchedule.id),))
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")

strawberry.enum(Frequency, name="ReportFrequency", description="How often a report is sent.")
strawberry.enum(ReportFormat, description="The attachment's format (the CSV export's columns).")


@strawberry.enum(description="A day of the week (WEEKLY schedules).")
class Weekday(Enum):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


@strawberry.type(name="ReportSchedule", description="A group progress report mailed on a schedule.")
class ReportScheduleType:
    id: strawberry.ID
    group_ids: list[strawberry.ID] | None = strawberry.field(
        description="null: every group the recipient may see when the report is sent."
    )
    course_ids: list[strawberry.ID] | None
    status: ProgressStatus | None
    frequency: Frequency
    weekday: Weekday | None
    time_of_day: str = strawberry.field(description="HH:MM in `timeZone`.")
    time_zone: str = strawberry.field(description="An IANA time zone, e.g. Europe/Paris.")
    format: ReportFormat
    created_at: datetime
    paused_at: datetime | None
    next_run_at: datetime = strawberry.field(description="When the next report is due (UTC).")
    recipient_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, s: ReportSchedule) -> ReportScheduleType:
        return node_of(
            cls,
            "ReportSchedule",
            s,
            group_ids=[to_global_id("Group", g) for g in s.group_ids] if s.group_ids else None,
            course_ids=[to_global_id("Course", c) for c in s.course_ids] if s.course_ids else None,
            status=ProgressStatus(s.status) if s.status else None,
            frequency=Frequency(s.frequency),
            weekday=Weekday(s.weekday) if s.weekday is not None else None,
            format=ReportFormat(s.format),
        )

    @strawberry.field(description="Who receives it.")
    async def recipient(self, info: Info) -> UserType:
        # A schedule is listed to its recipient and to site admins (`rules.PRIVATE`), who
        # may both read the recipient.
        return present(await load_user(info.context, self.recipient_id), "user")


@strawberry.input
class CreateReportScheduleInput:
    group_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="null or empty: every group the recipient may see then."
    )
    course_ids: list[strawberry.ID] | None = None
    status: ProgressStatus | None = None
    frequency: Frequency = Frequency.WEEKLY
    weekday: Weekday | None = strawberry.field(default=None, description="WEEKLY only.")
    time_of_day: str = strawberry.field(default="08:00", description="HH:MM, 00:00 to 23:59.")
    time_zone: str = strawberry.field(default="UTC", description="e.g. Europe/Paris.")
    format: ReportFormat = ReportFormat.CSV
    recipient_id: strawberry.ID | None = strawberry.field(
        default=None, description="Site admins: a Group Analyst to send it to. Default: you."
    )


@strawberry.input
class ReportScheduleInput:
    schedule_id: strawberry.ID


@strawberry.type
class ReportSchedulePayload:
    schedule: ReportScheduleType


@strawberry.type
class DeleteReportSchedulePayload:
    deleted_id: strawberry.ID


def _pk(value: strawberry.ID) -> int:
    return from_global_id(value, "ReportSchedule", "scheduleId")


def _input(given: CreateReportScheduleInput) -> ScheduleInput:
    if given.group_ids is not None and len(given.group_ids) > 100:
        raise bad_input("groupIds", "'groupIds' may name at most 100 groups.")
    params = parse_params(
        given.group_ids or [],
        given.course_ids or [],
        given.status.value if given.status else None,
        group_field="groupIds",
        course_field="courseIds",
    )
    weekday = given.weekday.value if given.weekday is not None else None
    when = report_schedules.check_when(given.frequency, weekday, given.time_of_day, given.time_zone)
    recipient = (
        from_global_id(given.recipient_id, "User", "recipientId") if given.recipient_id else None
    )
    return ScheduleInput(recipient, params, when, given.format)


@strawberry.type
class Query:
    @strawberry.field(description="Your scheduled reports (site admins: everyone's).")
    async def report_schedules(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[ReportScheduleType]:
        ctx = info.context
        ctx.get_viewer()
        stmt = select(ReportSchedule).where(
            rules.PRIVATE.clause(ctx.scope, col(ReportSchedule.recipient_id))
        )
        return await entity_page(
            ctx, stmt, SCHEDULE_ORDER, first, after, ReportScheduleType.from_model
        )


async def _set_paused(
    info: Info, input: ReportScheduleInput, *, paused: bool
) -> ReportSchedulePayload:
    pk = _pk(input.schedule_id)
    schedule = await info.context.write(
        lambda s, scope: report_schedules.set_paused(s, scope, pk, paused=paused)
    )
    return ReportSchedulePayload(schedule=ReportScheduleType.from_model(schedule))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Mail a group progress report on a schedule, to yourself (site admins and "
        "Group Analysts) or, for site admins, to a Group Analyst."
    )
    async def create_report_schedule(
        self, info: Info, input: CreateReportScheduleInput
    ) -> ReportSchedulePayload:
        ctx = info.context
        ctx.get_viewer()
        given = _input(input)
        recipient = await report_schedules.check_create(ctx.db, ctx.scope, given)
        schedule = await ctx.write(
            lambda s, scope: report_schedules.create(s, scope, recipient, given)
        )
        return ReportSchedulePayload(schedule=ReportScheduleType.from_model(schedule))

    @strawberry.mutation(description="Stop sending until resumed.")
    async def pause_report_schedule(
        self, info: Info, input: ReportScheduleInput
    ) -> ReportSchedulePayload:
        return await _set_paused(info, input, paused=True)

    @strawberry.mutation(description="Send again from the next period (missed ones are skipped).")
    async def resume_report_schedule(
        self, info: Info, input: ReportScheduleInput
    ) -> ReportSchedulePayload:
        return await _set_paused(info, input, paused=False)

    @strawberry.mutation(description="Delete a schedule.")
    async def delete_report_schedule(
        self, info: Info, input: ReportScheduleInput
    ) -> DeleteReportSchedulePayload:
        pk = _pk(input.schedule_id)
        await info.context.write(lambda s, scope: report_schedules.delete(s, scope, pk))
        return DeleteReportSchedulePayload(deleted_id=input.schedule_id)
