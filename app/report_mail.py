"""The worker's side of scheduled reports: claim what is due, build the export, mail it.

Invariants:
- at most one mail per schedule and period, even with several workers or after a crash: a
  period is claimed by inserting its `report_send` row (primary key schedule + period) in the
  transaction that also moves `next_run_at` on, BEFORE anything is sent; due schedules are
  claimed `FOR UPDATE SKIP LOCKED` on PostgreSQL. A worker that dies after the claim and
  before the mail leaves that period unsent (at most once, never twice);
- the report is the export itself (`app.export.csv_chunks` or `app.export_xlsx.xlsx_chunks`:
  the same columns, the same neutralised cells), built with the recipient's access when it
  is sent: a group no longer visible drops out; a recipient who may no longer export, or
  who sees none of the groups named, gets no mail (the send row records why);
- up to `report_attachment_max_bytes` the file is attached; past it the mail carries a signed
  export link (`app.export_links`) valid `report_link_ttl`, which re-checks access again
  when it is opened.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from sqlmodel import col, select

from app import export, export_xlsx
from app.auth import viewer_by_id
from app.db import Database
from app.export_links import SERVER_MADE, signed_path
from app.mailer import Attachment, Mail, send_mail
from app.models import ReportSchedule, ReportSend, utcnow
from app.report_schedules import ReportFormat, next_run, progress_status, when_of
from app.settings import Settings
from permissions import rules
from permissions.policy import load_scope

log = logging.getLogger("groupanalyst.reports")

BATCH = 20


@dataclass(frozen=True)
class Claim:
    schedule_id: int
    recipient_id: int
    period: str
    group_ids: tuple[int, ...] | None
    course_ids: tuple[int, ...] | None
    status: str | None
    format: str


async def claim_due(db: Database) -> list[Claim]:
    now = utcnow()
    claims = []
    async with db.write() as session:
        due = (
            (
                await session.execute(
                    select(ReportSchedule)
                    .where(
                        col(ReportSchedule.next_run_at) <= now,
                        col(ReportSchedule.paused_at).is_(None),
                    )
                    .order_by(col(ReportSchedule.next_run_at))
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        for schedule in due:
            assert schedule.id is not None
            when = when_of(schedule)
            # The period is the local date of the occurrence that fell due.
            period = schedule.next_run_at.astimezone(when.zone).date().isoformat()
            schedule.next_run_at, _ = next_run(when, now)
            if await session.get(ReportSend, (schedule.id, period)) is not None:
                continue
            session.add(ReportSend(schedule_id=schedule.id, period=period, claimed_at=now))
            claims.append(
                Claim(
                    schedule.id,
                    schedule.recipient_id,
                    period,
                    tuple(schedule.group_ids) if schedule.group_ids else None,
                    tuple(schedule.course_ids) if schedule.course_ids else None,
                    schedule.status,
                    schedule.format,
                )
            )
    return claims


async def _record(db: Database, claim: Claim, outcome: str, rows: int | None = None) -> None:
    async with db.write() as session:
        send = await session.get(ReportSend, (claim.schedule_id, claim.period))
        if send is None:
            return  # the schedule was deleted meanwhile
        send.outcome = outcome
        send.rows = rows
        if outcome == "sent":
            send.sent_at = utcnow()
    log.info("report schedule %s period %s: %s", claim.schedule_id, claim.period, outcome)


async def deliver(db: Database, settings: Settings, claim: Claim) -> None:
    viewer = await viewer_by_id(db, claim.recipient_id)
    if viewer is None:
        await _record(db, claim, "not sent: the recipient no longer exists")
        return
    scope = await load_scope(db, viewer)
    if not rules.REPORT_EXPORT.allows(scope):
        await _record(db, claim, "not sent: the recipient may no longer export reports")
        return
    groups = claim.group_ids
    if groups is not None:
        groups = tuple(g for g in groups if rules.GROUP.allows(scope, g))
        if not groups:
            await _record(db, claim, "not sent: none of its groups is visible to the recipient")
            return
    xlsx = claim.format == ReportFormat.XLSX
    options = export.ExportOptions(
        format=export.ExportFormat.XLSX if xlsx else export.ExportFormat.CSV
    )
    params = export.ExportParams(groups, claim.course_ids, progress_status(claim.status), options)
    run = export.ExportRun()
    data = bytearray()
    chunks = export_xlsx.xlsx_chunks if xlsx else export.csv_chunks
    async for chunk in chunks(db, scope, params, run):
        data += chunk
        if len(data) > settings.report_attachment_max_bytes:
            break
    await export.record_export(db, scope, params, run, "schedule")
    await send_mail(settings, _mail(settings, viewer.email, viewer.id, claim, params, bytes(data)))
    await _record(db, claim, "sent", run.rows)


def _mail(
    settings: Settings,
    to: str,
    viewer_id: int,
    claim: Claim,
    params: export.ExportParams,
    data: bytes,
) -> Mail:
    subject = f"Group progress report for {claim.period}"
    if len(data) <= settings.report_attachment_max_bytes:
        ext = params.options.format.value
        name = f"group-progress-{claim.period}.{ext}"
        kind = export_xlsx.MEDIA_TYPE if ext == "xlsx" else "text/csv"
        text = (
            f"Your scheduled group progress report for {claim.period} is attached ({name}).\n"
            "It holds the groups you may see now.\n"
        )
        return Mail(to, subject, text, (Attachment(name, kind, data),))
    link_settings = dataclasses.replace(settings, export_link_ttl=settings.report_link_ttl)
    # Minted by the server, not by a request: no token to die with (SERVER_MADE).
    path = signed_path(link_settings, viewer_id, SERVER_MADE, params.query_items(), utcnow())
    text = (
        f"Your scheduled group progress report for {claim.period} is too large to attach.\n"
        f"Download it here (valid {settings.report_link_ttl.days} days; it re-checks your "
        f"access when opened):\n{settings.public_url}{path}\n"
    )
    return Mail(to, subject, text)


async def send_due(db: Database, settings: Settings) -> int:
    claims = await claim_due(db)
    for claim in claims:
        try:
            await deliver(db, settings, claim)
        except Exception as exc:
            log.exception("report schedule %s: sending failed", claim.schedule_id)
            await _record(db, claim, f"not sent: {type(exc).__name__}: {exc}"[:500])
    return len(claims)
