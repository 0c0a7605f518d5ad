"""The group progress CSV export: parameters, access, rows, CSV bytes and the audit event.

Shared by `GET /exports/progress.csv` (`app.export_http`), `progressExportUrl`
(`resolvers.export`) and `groupanalyst export` (`app.cli`), so they cannot disagree.

Invariants:
- rows come from `app.report.report_rows` under the caller's `AccessScope` (only its select list
  is narrowed, `export_statement`) and percentages from `app.report.permille_completed`
  (the SQL twin of `app.report.percent`): the export and the GraphQL report agree on which
  rows exist, their order and their percentages; who may export, and which groups and
  fields, is decided by `permissions` only (the field rules are applied in SQL, as
  `CASE ... ELSE NULL` built from the same rule objects the GraphQL fields ask);
- the header is exactly `HEADER`; one row per (group, member, enrollment), in report order;
  dates are ISO 8601 UTC to the second (`2026-01-05T09:00:00Z`); an absent value is an
  empty cell; the bytes are UTF-8 with RFC 4180 quoting and CRLF line ends;
- memory does not grow with the row count: the header leaves before the query runs, then
  rows are read from a server-side cursor `BATCH_SIZE` at a time (`yield_per`), and each
  batch is formatted and handed on before the next is fetched;
- all rows come from one snapshot (`Database.snapshot`), whatever is written meanwhile;
- no cell can start a spreadsheet formula (`neutralise`);
- every export, finished or cut short, is audited once with the number of rows sent.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col, select

from app import audit
from app.db import Database
from app.errors import bad_input, forbidden, not_found
from app.ids import from_global_id, to_global_id
from app.models import Course, Enrollment, Group, User
from app.report import (
    ProgressFilter,
    ProgressStatus,
    permille_completed,
    report_from,
    report_rows,
    report_where,
)
from permissions import rules
from permissions.policy import AccessScope
from permissions.rules import KeyRule

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


@dataclass(frozen=True)
class ExportParams:
    """A validated export request; `None` means no filter (every visible group / course)."""

    group_ids: tuple[int, ...] | None = None
    course_ids: tuple[int, ...] | None = None
    status: ProgressStatus | None = None

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
        return items


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
    """The command line's parameters: groups by name (case-insensitively, as names are
    unique), courses by exact name (every course of that name: course names are not unique).
    """
    async with db.read() as session:
        group_keys = {name.strip().lower(): name for name in group_names}
        groups = (
            await session.execute(
                select(Group.id, Group.name_key).where(col(Group.name_key).in_(group_keys))
            )
        ).all()
        courses = (
            await session.execute(
                select(Course.id, Course.name).where(col(Course.name).in_(course_names))
            )
        ).all()
    found_groups = {key for _, key in groups}
    found_courses = {name for _, name in courses}
    missing = [f"no group named {group_keys[k]!r}" for k in group_keys.keys() - found_groups]
    missing += [f"no course named {name!r}" for name in set(course_names) - found_courses]
    if missing:
        raise UnknownNames("; ".join(sorted(missing)))
    return ExportParams(
        tuple(sorted(g[0] for g in groups)) or None,
        tuple(sorted(c[0] for c in courses)) or None,
        ProgressStatus(status) if status else None,
    )


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


def _visible(rule: KeyRule, scope: AccessScope, value: Any) -> Any:
    """`value` where `rule` lets the viewer read the row's student, else NULL: the field rule
    as `CASE ... ELSE NULL` in SQL (the same rule object the GraphQL fields ask)."""
    if rule.allows_every(scope):
        return value
    return sa.case((rule.clause(scope, col(User.id)), value), else_=sa.null())


def _percent_text() -> Any:
    """`str(percent(done, lessons))` in SQL: the permille as "12.3" ("100.0", "0.0")."""
    permille = permille_completed()
    return sa.cast(permille // 10, sa.String) + "." + sa.cast(permille % 10, sa.String)


def export_columns(scope: AccessScope) -> tuple[Any, ...]:
    """What the export reads of each report row, in `HEADER` order, formatted by the database
    (dates, percentage) with the field rules applied (`rules.CONTACT`, `rules.ENROLLMENT`):
    only the text cells are left for Python to neutralise."""
    return (
        col(User.first_name),
        col(User.last_name),
        _visible(rules.CONTACT, scope, col(User.email)),
        _visible(rules.CONTACT, scope, col(User.company)),
        col(Group.name),
        col(Course.name),
        iso_utc(col(Enrollment.activated_at)),
        _percent_text(),
        iso_utc(col(Enrollment.completed_at)),
        _visible(rules.ENROLLMENT, scope, iso_utc(col(Enrollment.expires_at))),
    )


def export_statement(scope: AccessScope, flt: ProgressFilter) -> sa.Select[Any]:
    """`report_rows` itself (its joins, scope, filter and order) reading `export_columns`."""
    return report_rows(scope, flt).with_only_columns(*export_columns(scope))


def format_rows(rows: Sequence[Any]) -> list[tuple[str, ...]]:
    """Rows of `export_statement` as CSV cells: the six text cells neutralised, NULL as "".

    Dates and the percentage come formatted from the database and start with a digit. One
    tuple per row built in a comprehension: this is the export's only per-row Python.
    """
    n, t = neutralise, FORMULA_TRIGGERS
    return [
        (
            n(first) if first.startswith(t) else first,
            n(last) if last.startswith(t) else last,
            "" if email is None else n(email) if email.startswith(t) else email,
            "" if company is None else n(company) if company.startswith(t) else company,
            n(group) if group.startswith(t) else group,
            n(course) if course.startswith(t) else course,
            activated,
            pct,
            completed or "",
            expires or "",
        )
        for first, last, email, company, group, course, activated, pct, completed, expires in rows
    ]


def to_csv(cells: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(cells)
    return buffer.getvalue().encode()


HEADER_BYTES = to_csv([HEADER])


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
    yield HEADER_BYTES
    statement = export_statement(scope, params.progress_filter()).execution_options(
        yield_per=batch_size or BATCH_SIZE
    )
    async with db.snapshot() as conn:
        result = await conn.stream(statement)
        async for batch in result.partitions():
            run.rows += len(batch)
            run.batches += 1
            yield to_csv(format_rows(batch))
    run.complete = True


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
