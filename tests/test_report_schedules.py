"""Scheduled report emails: who may schedule what, hostile inputs, the due time in the
schedule's time zone, and mail read from a real SMTP server on loopback (aiosmtpd): the
export's exact columns, the recipient's access at sending time, at most one mail a period."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select, update

from app import report_mail
from app.export import HEADER
from app.models import ReportSchedule, ReportSend, utcnow
from app.report_schedules import Frequency, When, next_run
from app.settings import Settings
from app.worker import Worker
from tests.cast import Cast, audit_count, call
from tests.support import Api, World, gid

CREATE = """
mutation($input: CreateReportScheduleInput!) {
  createReportSchedule(input: $input) {
    schedule { id groupIds frequency weekday timeOfDay timeZone format nextRunAt
               recipient { id } }
  }
}
"""
LIST = "query { reportSchedules(first: 10) { totalCount edges { node { id recipient { id } } } } }"
PAUSE = (
    "mutation($id: ID!) { pauseReportSchedule(input: {scheduleId: $id}) { schedule { pausedAt } } }"
)
DELETE = "mutation($id: ID!) { deleteReportSchedule(input: {scheduleId: $id}) { deletedId } }"
UNASSIGN = """
mutation($user: ID!, $group: ID!) {
  unassignGroupAnalyst(input: {userId: $user, groupId: $group}) { removed }
}
"""


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:
    return dataclasses.replace(
        settings, smtp_url=f"smtp://127.0.0.1:{smtp[1]}", mail_from="reports@example.com"
    )


def schedule_input(group_id: int | None, **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "groupIds": [gid("Group", group_id)] if group_id else None,
            "frequency": "WEEKLY",
            "weekday": "MONDAY",
            "timeOfDay": "08:30",
            "timeZone": "Europe/Paris",
            **extra,
        }
    }


async def analysed_group(cast: Cast) -> int:
    group = await cast.world.group("Cohort", members=(cast.student,))
    await cast.world.assign(cast.analyst, group)
    course = await cast.world.course("Safety", lessons=2)
    await cast.world.enroll(cast.student, course, completed=1)
    assert group.id is not None
    return group.id


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("student", "FORBIDDEN"),
        ("analyst", None),
        ("admin", None),
        ("owner", None),
    ],
)
async def test_who_may_schedule_a_report_for_themselves(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    group = await analysed_group(cast)
    await call(api, CREATE, schedule_input(group), cast.token(role), expected)
    assert await audit_count(cast.world, "report_schedule.create") == (0 if expected else 1)


async def test_admins_schedule_for_an_analyst_and_analysts_only_for_themselves(
    api: Api, cast: Cast
) -> None:
    group = await analysed_group(cast)
    for_analyst = schedule_input(group, recipientId=gid("User", cast.analyst.id))
    made = await call(api, CREATE, for_analyst, cast.token("admin"), None)
    schedule = made["createReportSchedule"]["schedule"]
    assert schedule["recipient"] == {"id": gid("User", cast.analyst.id)}
    for_admin = schedule_input(group, recipientId=gid("User", cast.admin.id))
    await call(api, CREATE, for_admin, cast.token("analyst"), "FORBIDDEN")
    # The analyst sees and manages its own schedule; the student sees none and may not touch it.
    assert (await call(api, LIST, {}, cast.token("analyst"), None))["reportSchedules"][
        "totalCount"
    ] == 1
    assert (await call(api, LIST, {}, cast.token("student"), None))["reportSchedules"][
        "totalCount"
    ] == 0
    await call(api, PAUSE, {"id": schedule["id"]}, cast.token("student"), "NOT_FOUND")
    await call(api, PAUSE, {"id": schedule["id"]}, cast.token("analyst"), None)
    await call(api, DELETE, {"id": schedule["id"]}, cast.token("analyst"), None)
    assert await audit_count(cast.world, "report_schedule.delete") == 1


async def test_a_group_the_analyst_does_not_see_answers_not_found(api: Api, cast: Cast) -> None:
    await analysed_group(cast)
    other = await cast.world.group("Other")
    error = await call(api, CREATE, schedule_input(other.id), cast.token("analyst"), "NOT_FOUND")
    assert error["extensions"]["field"] == "groupIds"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"timeOfDay": "24:00"}, "timeOfDay"),
        ({"timeOfDay": "8:30"}, "timeOfDay"),
        ({"timeOfDay": ""}, "timeOfDay"),
        ({"timeOfDay": "08:30\x00"}, "timeOfDay"),
        ({"timeZone": "Mars/Olympus_Mons"}, "timeZone"),
        ({"timeZone": "../../etc/passwd"}, "timeZone"),
        ({"timeZone": "Europe/Par\u0456s"}, "timeZone"),  # a Cyrillic look-alike "i"
        ({"timeZone": ""}, "timeZone"),
        ({"weekday": None}, "weekday"),
        ({"frequency": "DAILY"}, "weekday"),
        ({"groupIds": ["not-an-id"]}, "groupIds"),
    ],
)
async def test_hostile_schedule_inputs_are_refused(
    api: Api, cast: Cast, extra: dict[str, Any], field: str
) -> None:
    group = await analysed_group(cast)
    error = await call(
        api, CREATE, schedule_input(group, **extra), cast.token("analyst"), "BAD_USER_INPUT"
    )
    assert error["extensions"]["field"] == field
    assert await cast.world.scalars(select(ReportSchedule)) == []


def test_the_due_time_keeps_the_local_time_across_daylight_saving() -> None:
    paris = ZoneInfo("Europe/Paris")
    weekly = When(Frequency.WEEKLY, 0, time(8, 30), paris)
    # Monday 2026-03-23 08:30 is CET (UTC+1); Monday 2026-03-30 08:30 is CEST (UTC+2).
    first, day = next_run(weekly, datetime(2026, 3, 23, 7, 0, tzinfo=UTC))
    assert (first, day.isoformat()) == (datetime(2026, 3, 23, 7, 30, tzinfo=UTC), "2026-03-23")
    second, _ = next_run(weekly, first)
    assert second == datetime(2026, 3, 30, 6, 30, tzinfo=UTC)
    daily = When(Frequency.DAILY, None, time(23, 59), ZoneInfo("Pacific/Kiritimati"))
    due, day = next_run(daily, datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    assert due == datetime(2026, 1, 2, 9, 59, tzinfo=UTC) and day.isoformat() == "2026-01-02"


async def _make_due(world: World) -> None:
    async with world.db.write() as session:
        await session.execute(
            update(ReportSchedule).values(next_run_at=utcnow() - timedelta(minutes=1))
        )


def _attachment(message: Message) -> tuple[str, list[list[str]]]:
    for part in message.walk():
        if part.get_filename():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return part.get_filename() or "", list(csv.reader(io.StringIO(payload.decode())))
    raise AssertionError("no attachment")


async def test_the_worker_mails_the_export_once_per_period(
    api: Api, cast: Cast, mail_settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    group = await analysed_group(cast)
    hidden = await cast.world.group("Hidden", members=(await cast.world.user("Hal", "Hidden"),))
    await call(api, CREATE, schedule_input(None), cast.token("analyst"), None)
    await _make_due(cast.world)
    # Two claims at once (two workers): one mail.
    await asyncio.gather(
        report_mail.send_due(cast.world.db, mail_settings),
        report_mail.send_due(cast.world.db, mail_settings),
    )
    await report_mail.send_due(cast.world.db, mail_settings)
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "ana@example.com"
    name, rows = _attachment(message)
    assert name.startswith("group-progress-") and name.endswith(".csv")
    assert tuple(rows[0]) == HEADER
    assert [row[4] for row in rows[1:]] == ["Cohort"]  # not the group it does not analyse
    assert rows[1][2] == "sam@example.com"
    assert hidden.id != group
    (send,) = await cast.world.scalars(select(ReportSend))
    assert send.outcome == "sent" and send.rows == 1
    # The same period made due again (a crash before next_run_at moved): still one mail.
    await _make_due(cast.world)
    async with cast.world.db.write() as session:
        schedule = (await session.execute(select(ReportSchedule))).scalar_one()
        schedule.next_run_at = datetime.fromisoformat(send.period).replace(
            hour=12, tzinfo=ZoneInfo("Europe/Paris")
        )
    await report_mail.send_due(cast.world.db, mail_settings)
    assert len(inbox.messages) == 1


async def test_access_is_checked_when_sending(
    api: Api, cast: Cast, mail_settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    group = await analysed_group(cast)
    await call(api, CREATE, schedule_input(group), cast.token("analyst"), None)
    variables = {"user": gid("User", cast.analyst.id), "group": gid("Group", group)}
    await call(api, UNASSIGN, variables, cast.token("admin"), None)
    await _make_due(cast.world)
    await report_mail.send_due(cast.world.db, mail_settings)
    assert inbox.messages == []
    (send,) = await cast.world.scalars(select(ReportSend))
    assert send.outcome == "not sent: none of its groups is visible to the recipient"


async def test_a_large_report_is_sent_as_a_signed_link_that_works(
    api: Api, cast: Cast, mail_settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    group = await analysed_group(cast)
    await call(api, CREATE, schedule_input(group), cast.token("analyst"), None)
    await _make_due(cast.world)
    small = dataclasses.replace(
        mail_settings, report_attachment_max_bytes=50, public_url="http://testserver"
    )
    await report_mail.send_due(cast.world.db, small)
    (message,) = inbox.messages
    assert not any(part.get_filename() for part in message.walk())
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    link = next(line for line in body.splitlines() if line.startswith("http://testserver/"))
    response = await api.client.get(link.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert "sam@example.com" in response.text


async def test_a_schedule_due_is_claimed_in_the_worker_round(
    cast: Cast, api: Api, mail_settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    await call(api, CREATE, schedule_input(await analysed_group(cast)), cast.token("analyst"), None)
    await _make_due(cast.world)
    worker = Worker(cast.world.db, mail_settings)
    await worker.acquire()
    async with httpx.AsyncClient() as client:
        await worker.round(client)
    await worker.release()
    assert len(inbox.messages) == 1
    (schedule,) = await cast.world.scalars(select(ReportSchedule))
    assert schedule.next_run_at > utcnow()  # moved on to the next period


async def test_an_xlsx_schedule_attaches_the_xlsx_export(
    api: Api, cast: Cast, mail_settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    group = await analysed_group(cast)
    await call(api, CREATE, schedule_input(group, format="XLSX"), cast.token("analyst"), None)
    await _make_due(cast.world)
    await report_mail.send_due(cast.world.db, mail_settings)
    (message,) = inbox.messages
    (part,) = [p for p in message.walk() if p.get_filename()]
    assert (part.get_filename() or "").endswith(".xlsx")
    assert part.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes) and data[:2] == b"PK"
