"""The group progress CSV export: parameters, access, rows, CSV bytes and the audit event.

Shared by `GET /exports/progress.csv` (`app.export_http`), `progressExportUrl`
(`resolvers.export`) and `groupanalyst export` (`app.cli`), so they cannot disagree.

Invariants:
- rows come from `app.report.report_rows` under the caller's `AccessScope` (only its select list
  is narrowed, `export_statement`) and percentages from `app.report.percent`: the export
  and the GraphQL report agree on which rows exist, their order and their percentages; who
  may export, and which groups and fields, is decided by `permissions.policy` only;
- the header is exactly `HEADER`; one row per (group, member, enrollment), in report order;
  dates are ISO 8601 UTC to the second (`2026-01-05T09:00:00Z`); an absent value is an
  empty cell; the bytes are UTF-8 with RFC 4180 quoting and CRLF line ends;
- memory does not grow with the row count: the header leaves before the query runs, then
  rows are read from a server-side cursor `BATCH_SIZE` at a time (`yield_per`), and each
  batch is formatted and handed on while the next one (at most one) is being fetched;
- all rows come from one snapshot (`Database.snapshot`), whatever is written meanwhile;
- no cell can start a spreadsheet formula (`neutralise`);
- every export, finished or cut short, is audited once with the number of rows sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import difflib
import enum
import io
import re
from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col, select

from app import audit
from app.db import Database
from app.errors import bad_input, forbidden, not_found
from app.identity import group_name_key
from app.ids import from_global_id, to_global_id
from app.models import Course, Enrollment, Group, User
from app.report import (
    ProgressFilter,
    ProgressStatus,
    percent,
    report_from,
    report_rows,
    report_where,
)
from permissions import rules
from permissions.policy import AccessScope

HEADER = (
    "Student First Name",
    "Student Last Name",
    "Student Email",
    "Company",
    "Group Name",
    "Course Name",
    "Activated At Date",
    "% Completed",
    "Completed Date",
    "Expiry Date",
)

# Rows fetched per round trip and formatted per chunk: large enough that per-batch costs
# vanish, small enough that a batch is a few hundred kilobytes.
BATCH_SIZE = 2_000

AUDIT_ACTION = "export.progress"

# A cell starting with one of these is read as a formula (or as the start of one) by Excel,
# LibreOffice or Google Sheets: OWASP's CSV injection list (= + - @ tab CR LF), NUL from
# ASVS 5.0 1.2.10, and their full-width forms, which some spreadsheets fold to ASCII.
FORMULA_TRIGGERS = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\n",
    "\0",
    "\N{FULLWIDTH EQUALS SIGN}",
    "\N{FULLWIDTH PLUS SIGN}",
    "\N{FULLWIDTH HYPHEN-MINUS}",
    "\N{FULLWIDTH COMMERCIAL AT}",
)
# A plain signed number ("-12.5") is read as a number and cannot call anything.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def neutralise(cell: str) -> str:
    """The cell as a spreadsheet will show it as text: a leading `'` before a formula trigger."""
    if cell.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


# -- parameters and access ----------------------------------------------------------------


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


# An IANA name such as Europe/Paris or America/Argentina/Buenos_Aires; checked before the zone
# database is asked, so no other text reaches a file lookup.
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}")


def time_zone(name: str, field: str = "tz") -> ZoneInfo:
    """The IANA zone called `name`; BAD_USER_INPUT naming `field` otherwise."""
    message = f"'{field}' must be an IANA time zone such as Europe/Paris or UTC."
    if len(name) > 64 or not _ZONE_NAME.fullmatch(name):
        raise bad_input(field, message)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise bad_input(field, message) from None


@dataclass(frozen=True)
class ExportOptions:
    """How the file is written (not which rows): format, CSV byte-order mark, time zone."""

    format: ExportFormat = ExportFormat.CSV
    bom: bool = False
    # An IANA name checked by `time_zone`; None: dates in UTC.
    tz: str | None = None

    def zone(self) -> ZoneInfo | None:
        return None if self.tz is None else time_zone(self.tz)

    def query_items(self) -> list[tuple[str, str]]:
        items = [] if self.format is ExportFormat.CSV else [("format", self.format.value)]
        items += [("bom", "1")] if self.bom else []
        return items + ([("tz", self.tz)] if self.tz is not None else [])


def parse_options(
    format: str | None,
    bom: str | None,
    tz: str | None,
    *,
    format_field: str = "format",
    tz_field: str = "tz",
) -> ExportOptions:
    """`format=csv|xlsx`, `bom=0|1` (CSV only) and `tz=Area/City`; raises BAD_USER_INPUT."""
    try:
        parsed_format = ExportFormat(format or "csv")
    except ValueError:
        raise bad_input(format_field, f"'{format_field}' must be csv or xlsx.") from None
    if bom not in (None, "0", "1"):
        raise bad_input("bom", "'bom' must be 0 or 1.")
    if bom == "1" and parsed_format is not ExportFormat.CSV:
        raise bad_input("bom", "'bom' applies to CSV only; an XLSX file needs none.")
    if tz is not None:
        time_zone(tz, tz_field)
    return ExportOptions(parsed_format, bom == "1", tz)


@dataclass(frozen=True)
class ExportParams:
    """A validated export request; `None` means no filter (every visible group / course)."""

    group_ids: tuple[int, ...] | None = None
    course_ids: tuple[int, ...] | None = None
    status: ProgressStatus | None = None
    options: ExportOptions = field(default_factory=ExportOptions)

    def progress_filter(self) -> ProgressFilter:
        return ProgressFilter(
            group_ids=self.group_ids, course_ids=self.course_ids, status=self.status
        )

    def query_items(self) -> list[tuple[str, str]]:
        """The parameters as `GET /exports/progress.csv` takes them."""
        items = [("groupId", str(to_global_id("Group", pk))) for pk in self.group_ids or ()]
        items += [("courseId", str(to_global_id("Course", pk))) for pk in self.course_ids or ()]
        if self.status is not None:
            items.append(("status", self.status.value))
        return items + self.options.query_items()

    def filename(self, now: datetime) -> str:
        """`group-progress-YYYY-MM-DD.csv` (or .xlsx), dated in the export's time zone."""
        day = now.astimezone(self.options.zone() or UTC)
        return f"group-progress-{day:%Y-%m-%d}.{self.options.format.value}"


def parse_params(
    group_ids: Sequence[str],
    course_ids: Sequence[str],
    status: str | None = None,
    *,
    group_field: str = "groupId",
    course_field: str = "courseId",
) -> ExportParams:
    """Decode global ids and the status; raises BAD_USER_INPUT. Empty lists mean "all"."""
    groups = tuple(dict.fromkeys(from_global_id(g, "Group", group_field) for g in group_ids))
    courses = tuple(dict.fromkeys(from_global_id(c, "Course", course_field) for c in course_ids))
    parsed_status = None
    if status is not None:
        try:
            parsed_status = ProgressStatus(status)
        except ValueError:
            choices = ", ".join(s.value for s in ProgressStatus)
            raise bad_input("status", f"'status' must be one of {choices}.") from None
    return ExportParams(groups or None, courses or None, parsed_status)


def require_export_access(scope: AccessScope) -> None:
    if not rules.REPORT_EXPORT.allows(scope):
        raise forbidden("Only site admins and group analysts can export group progress.")


async def check_access(
    db: Database,
    scope: AccessScope,
    params: ExportParams,
    *,
    group_field: str = "groupId",
    course_field: str = "courseId",
) -> None:
    """FORBIDDEN without report access; NOT_FOUND for a group or course out of scope.

    A group the viewer may not see answers exactly like a group that does not exist.
    """
    require_export_access(scope)
    async with db.read() as session:
        groups_ok = await _all_visible(session, col(Group.id), params.group_ids, scope, rules.GROUP)
        if not groups_ok:
            raise not_found("group", field=group_field)
        courses_ok = await _all_visible(
            session, col(Course.id), params.course_ids, scope, rules.COURSE
        )
        if not courses_ok:
            raise not_found("course", field=course_field)


async def _all_visible(
    session: AsyncSession,
    id_column: Any,
    ids: tuple[int, ...] | None,
    scope: AccessScope,
    rule: rules.KeyRule,
) -> bool:
    """Whether every one of `ids` exists and `rule` lets the viewer read it (no ids: true)."""
    if not ids:
        return True
    found = await session.execute(
        select(id_column).where(id_column.in_(ids), rule.clause(scope, id_column))
    )
    return set(found.scalars()) == set(ids)


class UnknownNames(ValueError):
    pass


async def params_by_name(
    db: Database, group_names: Sequence[str], course_names: Sequence[str], status: str | None
) -> ExportParams:
    """The command line's parameters: groups and courses by name, case-insensitively (a
    course name may match several courses: course names are not unique). An unknown name is
    `UnknownNames`, suggesting the closest existing name."""
    group_keys = {group_name_key(name): name for name in group_names}
    course_keys = {name.strip().lower(): name for name in course_names}
    course_key = sa.func.lower(col(Course.name))
    async with db.read() as session:
        groups = (
            await session.execute(
                select(Group.id, Group.name_key).where(col(Group.name_key).in_(group_keys))
            )
        ).all()
        courses = (
            await session.execute(
                select(Course.id, course_key.label("key")).where(course_key.in_(course_keys))
            )
        ).all()
        missing_groups = group_keys.keys() - {key for _, key in groups}
        missing_courses = course_keys.keys() - {key for _, key in courses}
        missing = [
            unknown_name("group", group_keys[k], await _names(session, col(Group.name)))
            for k in sorted(missing_groups)
        ] + [
            unknown_name("course", course_keys[k], await _names(session, col(Course.name)))
            for k in sorted(missing_courses)
        ]
    if missing:
        raise UnknownNames("; ".join(missing))
    return ExportParams(
        tuple(sorted(g[0] for g in groups)) or None,
        tuple(sorted(c[0] for c in courses)) or None,
        ProgressStatus(status) if status else None,
    )


async def _names(session: AsyncSession, column: Any) -> list[str]:
    return list((await session.execute(sa.select(column).distinct())).scalars())


def unknown_name(kind: str, name: str, existing: list[str]) -> str:
    """The complaint about an unknown name, with the closest existing name if one is close."""
    by_key = {n.lower(): n for n in existing}
    close = difflib.get_close_matches(name.strip().lower(), list(by_key), n=1, cutoff=0.6)
    hint = f" (did you mean {by_key[close[0]]!r}?)" if close else ""
    return f"no {kind} named {name!r}{hint}"


# -- rows and CSV ----------------------------------------------------------------------------


ISO_FORMAT = {"sqlite": "%Y-%m-%dT%H:%M:%SZ", "postgresql": 'YYYY-MM-DD"T"HH24:MI:SS"Z"'}


class iso_utc(FunctionElement[str]):
    """A timestamp as ISO 8601 UTC text to the second (`2026-01-05T09:00:00Z`), NULL as NULL.

    Formatted by the database: a million rows would otherwise build a million datetimes.
    """

    type = sa.String()
    inherit_cache = True


@compiles(iso_utc, "sqlite")
def _iso_utc_sqlite(element: iso_utc, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores UTC as naive text (`UTCDateTime`); strftime drops the fraction.
    return compiler.process(sa.func.strftime(ISO_FORMAT["sqlite"], *element.clauses), **kw)


@compiles(iso_utc, "postgresql")
def _iso_utc_postgresql(element: iso_utc, compiler: SQLCompiler, **kw: Any) -> str:
    utc = sa.func.timezone("UTC", *element.clauses)
    return compiler.process(sa.func.to_char(utc, ISO_FORMAT["postgresql"]), **kw)


# What the export reads of each report row, in the order `visible_rows` unpacks it.
EXPORT_COLUMNS: tuple[Any, ...] = (
    col(User.id),
    col(User.first_name),
    col(User.last_name),
    col(User.email),
    col(User.company),
    col(Group.name),
    col(Course.name),
    iso_utc(col(Enrollment.activated_at)),
    col(Enrollment.lessons_completed),
    col(Course.lesson_count),
    iso_utc(col(Enrollment.completed_at)),
    iso_utc(col(Enrollment.expires_at)),
)


def export_statement(scope: AccessScope, flt: ProgressFilter) -> sa.Select[Any]:
    """`report_rows` itself (its joins, scope, filter and order) reading only `EXPORT_COLUMNS`."""
    return report_rows(scope, flt).with_only_columns(*EXPORT_COLUMNS)


class ExportRow(NamedTuple):
    """One export row as the viewer may read it: a hidden value is None."""

    first: str
    last: str
    email: str | None
    company: str | None
    group: str
    course: str
    activated: str
    done: int
    lessons: int
    completed: str | None
    expires: str | None


def visible_rows(scope: AccessScope, rows: Iterable[Any]) -> Iterator[ExportRow]:
    """Rows of `export_statement` with what the viewer may not read left out (the CSV and the
    XLSX writers both read these)."""
    contact_all, expiry_all = _shown_to_all(scope)
    contact, enrollment = rules.CONTACT, rules.ENROLLMENT
    for (
        student,
        first,
        last,
        email,
        company,
        group,
        course,
        activated,
        done,
        lessons,
        completed,
        expires,
    ) in rows:
        shown = contact_all or contact.allows_member(scope, student)
        yield ExportRow(
            first,
            last,
            email if shown else None,
            company if shown else None,
            group,
            course,
            activated,
            done,
            lessons,
            completed,
            expires if expiry_all or enrollment.allows_member(scope, student) else None,
        )


def _shown_to_all(scope: AccessScope) -> tuple[bool, bool]:
    """Whether the viewer may read every exported student's contact cells, and expiry.

    Every exported student is reached through its membership of a visible group, so both
    hold today and are asked once, not per row; where one does not, each row asks the policy
    (`allows_member`), which keeps the export right if the field rules ever change.
    """
    return (
        rules.CONTACT.allows_every_member(scope),
        rules.ENROLLMENT.allows_every_member(scope),
    )


# The first characters of `FORMULA_TRIGGERS`: a cell starting with none of them is kept as
# it is without calling `neutralise` (most cells: a million rows hold six million).
_TRIGGER_STARTS = frozenset(trigger[0] for trigger in FORMULA_TRIGGERS)


def format_rows(scope: AccessScope, rows: Iterable[Any]) -> list[tuple[str, ...]]:
    """Rows of `export_statement` as CSV cells, in `HEADER` order (one batch, as a list): the
    cells `visible_rows` lets the viewer read, a hidden one empty.

    Only text from the database is neutralised: dates and percentages are formatted by us
    and start with a digit. One loop: this runs once per exported row.
    """
    starts, safe = _TRIGGER_STARTS, neutralise
    percents: dict[tuple[int, int], str] = {}
    cells: list[tuple[str, ...]] = []
    append = cells.append
    for (
        first,
        last,
        email,
        company,
        group,
        course,
        activated,
        done,
        lessons,
        completed,
        expires,
    ) in visible_rows(scope, rows):
        pct = percents.get((done, lessons))
        if pct is None:
            pct = percents[(done, lessons)] = str(percent(done, lessons))
        append(
            (
                safe(first) if first[:1] in starts else first,
                safe(last) if last[:1] in starts else last,
                (safe(email) if email[:1] in starts else email) if email else "",
                (safe(company) if company[:1] in starts else company) if company else "",
                safe(group) if group[:1] in starts else group,
                safe(course) if course[:1] in starts else course,
                activated,
                pct,
                completed or "",
                expires or "",
            )
        )
    return cells


def parse_iso(text: str) -> datetime:
    """An `iso_utc` cell as an aware UTC datetime."""
    return datetime.fromisoformat(text)


def in_zone(text: str, zone: ZoneInfo) -> str:
    """An `iso_utc` cell as ISO 8601 local time with its offset (`2026-01-05T10:00:00+01:00`)."""
    return parse_iso(text).astimezone(zone).isoformat() if text else ""


def localise(rows: Iterable[Sequence[str]], zone: ZoneInfo | None) -> Iterable[Sequence[str]]:
    """CSV rows with their dates in `zone` (None: as they are, UTC)."""
    if zone is None:
        return rows
    return (
        [*row[:6], in_zone(row[6], zone), row[7], in_zone(row[8], zone), in_zone(row[9], zone)]
        for row in rows
    )


def _csv_line(row: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(row)
    return buffer.getvalue()


def to_csv(cells: Iterable[Sequence[str]]) -> bytes:
    """Rows of text cells as CSV bytes: exactly what `csv.writer` (RFC 4180 quoting, CRLF)
    writes. A row whose cells hold no comma, quote, CR, LF or NUL needs no quoting: it is
    joined as it is (most rows); any other row goes through `csv.writer`."""
    lines: list[str] = []
    append = lines.append
    for row in cells:
        line = ",".join(row)
        if (
            line.count(",") != len(row) - 1
            or '"' in line
            or "\r" in line
            or "\n" in line
            or "\0" in line
            or len(row) < 2  # a lone empty cell is written as ""
        ):
            append(_csv_line(row))
        else:
            append(line + "\r\n")
    return "".join(lines).encode()


HEADER_BYTES = to_csv([HEADER])
# Lets Excel recognise UTF-8 when it opens a CSV (`bom=1`).
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class ExportRun:
    """What one export has sent so far (for the audit event and progress bars)."""

    rows: int = 0
    batches: int = 0
    complete: bool = False


def count_statement(scope: AccessScope, flt: ProgressFilter) -> sa.Select[Any]:
    """How many rows `report_rows(scope, flt)` returns (for a progress bar)."""
    return report_from(sa.select(sa.func.count())).where(*report_where(scope, flt))


async def csv_chunks(
    db: Database,
    scope: AccessScope,
    params: ExportParams,
    run: ExportRun,
    batch_size: int | None = None,
) -> AsyncGenerator[bytes]:
    """The header, then one chunk of CSV per batch of rows; updates `run` as it goes.

    Call `check_access` first: this only filters by the scope, it does not explain refusals.
    """
    yield (UTF8_BOM + HEADER_BYTES) if params.options.bom else HEADER_BYTES
    zone = params.options.zone()
    async for batch in row_batches(db, scope, params, run, batch_size):
        yield to_csv(localise(format_rows(scope, batch), zone))
    run.complete = True


async def row_batches(
    db: Database,
    scope: AccessScope,
    params: ExportParams,
    run: ExportRun,
    batch_size: int | None = None,
) -> AsyncGenerator[Sequence[Any]]:
    """`export_statement`'s rows, `batch_size` at a time from one snapshot; counts them in `run`."""
    size = batch_size or BATCH_SIZE
    statement = export_statement(scope, params.progress_filter()).execution_options(yield_per=size)
    async with db.snapshot() as conn:
        result = await conn.stream(statement)
        # The next batch is asked for before this one is handed on, so the database (SQLite's
        # thread, PostgreSQL's server) produces it while the caller formats this one.
        pending = asyncio.ensure_future(result.fetchmany(size))
        try:
            while batch := await pending:
                pending = asyncio.ensure_future(result.fetchmany(size))
                await asyncio.sleep(0)  # let the fetch start before the caller takes the CPU
                run.rows += len(batch)
                run.batches += 1
                yield batch
        finally:
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending


async def record_export(
    db: Database, scope: AccessScope, params: ExportParams, run: ExportRun, via: str
) -> None:
    """One audit event: who, which groups (all of the viewer's when none were named), rows."""
    group_ids: list[int] | None = None
    if params.group_ids is not None:
        group_ids = sorted(params.group_ids)
    elif not scope.is_admin:
        group_ids = sorted(scope.analysed_group_ids)
    course_ids = sorted(params.course_ids) if params.course_ids else None
    async with db.write() as session:
        details = {
            "via": via,
            "groupIds": "all" if group_ids is None else [audit.ref("Group", g) for g in group_ids],
            "courseIds": "all"
            if course_ids is None
            else [audit.ref("Course", c) for c in course_ids],
            "status": params.status.value if params.status else None,
            "format": params.options.format.value,
            "rows": run.rows,
            "complete": run.complete,
        }
        audit.by_viewer(
            session,
            scope,
            AUDIT_ACTION,
            "Group",
            group_ids[0] if group_ids and len(group_ids) == 1 else None,
            details,
        )
