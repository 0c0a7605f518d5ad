"""The group progress CSV export: columns, rows, scope, errors, spreadsheet safety, batches."""

from __future__ import annotations

import asyncio
import csv
import io
import math
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, text, update
from sqlmodel import col, select

from app import export, export_links
from app.cli import main
from app.db import Database
from app.export_http import audited_body
from app.models import AnalystAssignment, ApiToken, AuditEvent, Enrollment, Role, User, utcnow
from app.report import ProgressFilter, percent, report_rows
from app.security import token_digest
from app.settings import Settings
from permissions import rules
from permissions.policy import ANONYMOUS, AccessScope, system_scope
from tests.support import World, gid

HEADER_LINE = (
    "Student First Name,Student Last Name,Student Email,Company,Group Name,Course Name,"
    "Activated At Date,% Completed,Completed Date,Expiry Date\r\n"
)
JAN5 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# The small world below, exported by the owner, written out by hand.
ALPHA_ROWS = (
    '"\'=HYPERLINK(""http://evil.example"",""click"")",Abbott,\'-abbott@example.com,'
    "'+1 555 0100,Alpha Cohort,Python Basics,2026-01-05T09:00:00Z,0.0,,\r\n"
    'Zoë,Müller-Lüdenscheidt,zoe@example.com,"Acme, Inc.",Alpha Cohort,Python Basics,'
    "2026-01-06T10:15:30Z,33.3,,\r\n"
    'Zoë,Müller-Lüdenscheidt,zoe@example.com,"Acme, Inc.",Alpha Cohort,SQL Basics,'
    "2026-01-07T08:00:00Z,100.0,2026-02-01T12:30:00Z,\r\n"
)
BETA_ROWS = (
    'Zoë,Müller-Lüdenscheidt,zoe@example.com,"Acme, Inc.",Beta Cohort,Python Basics,'
    "2026-01-06T10:15:30Z,33.3,,\r\n"
    'Zoë,Müller-Lüdenscheidt,zoe@example.com,"Acme, Inc.",Beta Cohort,SQL Basics,'
    "2026-01-07T08:00:00Z,100.0,2026-02-01T12:30:00Z,\r\n"
    "Carol,Nolan,carol@example.com,,Beta Cohort,SQL Basics,"
    "2026-01-05T09:00:00Z,50.0,,2027-01-01T00:00:00Z\r\n"
)


@dataclass
class Small:
    world: World
    alpha: Any
    beta: Any
    python: Any
    sql: Any
    zoe: User
    hostile: User
    carol: User
    analyst_a: User
    analyst_b: User
    student: User

    async def token(self, user: User) -> str:
        return await self.world.token(user)


@pytest.fixture
async def small(world: World) -> Small:
    zoe = await world.user(
        "Zoë", "Müller-Lüdenscheidt", email="zoe@example.com", company="Acme, Inc."
    )
    hostile = await world.user(
        '=HYPERLINK("http://evil.example","click")',
        "Abbott",
        email="-abbott@example.com",
        company="+1 555 0100",
    )
    carol = await world.user("Carol", "Nolan", email="carol@example.com")
    dave = await world.user("Dave", "Noenrol", email="dave@example.com")
    alpha = await world.group("Alpha Cohort", members=(zoe, hostile, dave))
    beta = await world.group("Beta Cohort", members=(zoe, carol))
    python = await world.course("Python Basics", lessons=3)
    sql = await world.course("SQL Basics", lessons=2)
    await world.enroll(hostile, python, activated_at=JAN5)
    await world.enroll(
        zoe,
        python,
        viewed=2,
        completed=1,
        activated_at=datetime(2026, 1, 6, 10, 15, 30, 987654, tzinfo=UTC),
    )
    await world.enroll(
        zoe,
        sql,
        viewed=2,
        completed=2,
        activated_at=datetime(2026, 1, 7, 8, 0, tzinfo=UTC),
        completed_at=datetime(2026, 2, 1, 12, 30, tzinfo=UTC),
    )
    await world.enroll(
        carol,
        sql,
        viewed=1,
        completed=1,
        activated_at=JAN5,
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    analyst_a = await world.user("Ana", "Alpha", Role.GROUP_ANALYST)
    analyst_b = await world.user("Ben", "Beta", Role.GROUP_ANALYST)
    await world.assign(analyst_a, alpha)
    await world.assign(analyst_b, beta)
    student = zoe
    return Small(
        world, alpha, beta, python, sql, zoe, hostile, carol, analyst_a, analyst_b, student
    )


async def download(
    api_client: httpx.AsyncClient, token: str | None, params: Any = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await api_client.get("/exports/progress.csv", params=params, headers=headers)


async def export_events(db: Database) -> list[AuditEvent]:
    async with db.read() as session:
        result = await session.execute(
            select(AuditEvent)
            .where(col(AuditEvent.action) == "export.progress")
            .order_by(col(AuditEvent.id))
        )
        return list(result.scalars())


def error_of(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1
    assert body["errors"][0]["message"]
    return response.status_code, body["errors"][0]["extensions"]["code"]


# -- the file --------------------------------------------------------------------------------


async def test_owner_exports_every_group_exactly(small: Small, api: Any) -> None:
    response = await download(api.client, await small.token(small.world.owner))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.decode("utf-8") == HEADER_LINE + ALPHA_ROWS + BETA_ROWS
    assert response.headers["cache-control"] == "no-store"


async def test_header_is_exactly_the_documented_columns(small: Small, api: Any) -> None:
    response = await download(api.client, await small.token(small.world.owner))
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
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
    ]
    assert all(len(row) == 10 for row in rows)
    assert "% Viewed" not in response.text


async def test_dated_attachment_filename(small: Small, api: Any) -> None:
    before = datetime.now(UTC).date()
    response = await download(api.client, await small.token(small.world.owner))
    after = datetime.now(UTC).date()
    disposition = response.headers["content-disposition"]
    match = re.fullmatch(
        r'attachment; filename="group-progress-(\d{4}-\d{2}-\d{2})\.csv"', disposition
    )
    assert match is not None
    assert match.group(1) in {before.isoformat(), after.isoformat()}


async def test_filters_by_group_course_and_status(small: Small, api: Any) -> None:
    token = await small.token(small.world.owner)
    only_beta = await download(api.client, token, {"groupId": gid("Group", small.beta.id)})
    assert only_beta.text == HEADER_LINE + BETA_ROWS
    both = await download(
        api.client,
        token,
        [("groupId", gid("Group", small.beta.id)), ("groupId", gid("Group", small.alpha.id))],
    )
    assert both.text == HEADER_LINE + ALPHA_ROWS + BETA_ROWS
    sql_only = await download(api.client, token, {"courseId": gid("Course", small.sql.id)})
    assert [row[5] for row in csv.reader(io.StringIO(sql_only.text))][1:] == ["SQL Basics"] * 3
    completed = await download(api.client, token, {"status": "COMPLETED"})
    assert [(row[4], row[5], row[7]) for row in csv.reader(io.StringIO(completed.text))][1:] == [
        ("Alpha Cohort", "SQL Basics", "100.0"),
        ("Beta Cohort", "SQL Basics", "100.0"),
    ]


async def test_rows_follow_the_report_order_and_percentages(small: Small, db: Database) -> None:
    """The export is the shared report query: same rows, same order."""
    scope = system_scope()
    async with db.read() as session:
        report = (await session.execute(report_rows(scope, ProgressFilter()))).all()
    run = export.ExportRun()
    body = b"".join(
        [chunk async for chunk in export.csv_chunks(db, scope, export.ExportParams(), run)]
    )
    exported = list(csv.reader(io.StringIO(body.decode())))[1:]
    percentages = [str(percent(r.lessons_completed, r.lesson_count)) for r in report]
    assert [(r[0], r[4], r[5], r[7]) for r in exported] == [
        (export.neutralise(r.first_name), r.group_name, r.course_name, pct)
        for r, pct in zip(report, percentages, strict=True)
    ]
    assert run.rows == len(report) == 6 and run.complete


# -- who may export what ---------------------------------------------------------------------


async def test_analyst_gets_only_its_group_and_no_co_member_group(small: Small, api: Any) -> None:
    response = await download(api.client, await small.token(small.analyst_a))
    assert response.status_code == 200
    # Zoë is also in Beta Cohort: neither that row nor the group's name leaks.
    assert response.text == HEADER_LINE + ALPHA_ROWS
    assert "Beta" not in response.text and "Carol" not in response.text


async def test_analyst_cannot_export_another_group(small: Small, api: Any) -> None:
    token = await small.token(small.analyst_a)
    other = await download(api.client, token, {"groupId": gid("Group", small.beta.id)})
    missing = await download(api.client, token, {"groupId": gid("Group", 999_999)})
    mixed = await download(
        api.client,
        token,
        [("groupId", gid("Group", small.alpha.id)), ("groupId", gid("Group", small.beta.id))],
    )
    assert error_of(other) == (404, "NOT_FOUND")
    # Indistinguishable from a group that does not exist.
    assert other.json() == missing.json() == mixed.json()


async def test_analyst_with_access_exports_its_group(small: Small, api: Any) -> None:
    token = await small.token(small.analyst_b)
    response = await download(api.client, token, {"groupId": gid("Group", small.beta.id)})
    assert response.text == HEADER_LINE + BETA_ROWS


async def test_expired_assignment_grants_nothing(small: Small, api: Any) -> None:
    late = await small.world.user("Late", "Analyst", Role.GROUP_ANALYST)
    await small.world.assign(late, small.alpha, expires_at=datetime.now(UTC) - timedelta(days=1))
    token = await small.token(late)
    assert (await download(api.client, token)).text == HEADER_LINE
    response = await download(api.client, token, {"groupId": gid("Group", small.alpha.id)})
    assert error_of(response) == (404, "NOT_FOUND")


async def test_student_is_forbidden(small: Small, api: Any) -> None:
    token = await small.token(small.student)
    assert error_of(await download(api.client, token)) == (403, "FORBIDDEN")
    # Even with parameters that would otherwise be malformed or missing.
    assert error_of(await download(api.client, token, {"groupId": "nope"})) == (403, "FORBIDDEN")


async def test_anonymous_and_bad_token_are_unauthenticated(small: Small, api: Any) -> None:
    assert error_of(await download(api.client, None)) == (401, "UNAUTHENTICATED")
    assert error_of(await download(api.client, "ga_not-a-token")) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"groupId": "not-an-id"}, "groupId"),
        ({"groupId": "VXNlcjox"}, "groupId"),  # a User id
        ({"courseId": "R3JvdXA6MQ=="}, "courseId"),  # a Group id
        ({"status": "DONE"}, "status"),
        ([("status", "COMPLETED"), ("status", "NOT_STARTED")], "status"),
        ({"groupIds": "R3JvdXA6MQ=="}, "groupIds"),
    ],
)
async def test_malformed_parameters_are_bad_input(
    small: Small, api: Any, params: Any, field: str
) -> None:
    response = await download(api.client, await small.token(small.world.owner), params)
    assert error_of(response) == (400, "BAD_USER_INPUT")
    assert field in response.json()["errors"][0]["message"]


async def test_unknown_course_is_not_found(small: Small, api: Any) -> None:
    response = await download(
        api.client, await small.token(small.analyst_a), {"courseId": gid("Course", 999_999)}
    )
    assert error_of(response) == (404, "NOT_FOUND")


async def test_every_export_is_audited(small: Small, api: Any, db: Database) -> None:
    await download(api.client, await small.token(small.analyst_a))
    await download(
        api.client, await small.token(small.world.owner), {"groupId": gid("Group", small.beta.id)}
    )
    events = await export_events(db)
    assert [
        (e.actor_id, e.target_type, e.details["groupIds"], e.details["rows"], e.details["complete"])
        for e in events
    ] == [
        (small.analyst_a.id, "Group", [gid("Group", small.alpha.id)], 3, True),
        (small.world.owner.id, "Group", [gid("Group", small.beta.id)], 3, True),
    ]
    assert events[0].details["via"] == "http"


async def test_refused_export_is_not_audited(small: Small, api: Any, db: Database) -> None:
    await download(api.client, await small.token(small.student))
    assert await export_events(db) == []


# -- spreadsheet safety ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example")',
        "+SUM(A1:A2)",
        "-2+3",
        "@SUM(1,2)",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        "\0=1",
        "\N{FULLWIDTH EQUALS SIGN}1+1",
        "=cmd|' /C calc'!A0",
    ],
)
def test_formula_triggers_are_neutralised(hostile: str) -> None:
    cell = export.neutralise(hostile)
    assert cell == "'" + hostile
    # Written and read back as CSV, the cell still starts with the quote: no formula.
    written = export.to_csv([["x", hostile, "y"]]).decode()
    assert next(csv.reader(io.StringIO(written)))[1] == hostile
    written = export.to_csv([["x", cell, "y"]]).decode()
    assert next(csv.reader(io.StringIO(written)))[1].startswith("'")


@pytest.mark.parametrize(
    "plain",
    [
        "Zoë",
        "Müller-Lüdenscheidt",
        "O'Brien",
        "Acme, Inc.",
        "a=b",
        "x@example.com",
        "-12.5",
        "+3",
        "",
        "Jean-Luc",
    ],
)
def test_plain_text_and_numbers_are_unchanged(plain: str) -> None:
    assert export.neutralise(plain) == plain


def test_quotes_and_separators_cannot_start_a_new_cell() -> None:
    # A comma or quote cannot end the cell early, so "=..." never begins a cell of its own.
    written = export.to_csv([[export.neutralise('a",=1+1'), export.neutralise("b\n=2+2")]]).decode()
    assert list(csv.reader(io.StringIO(written))) == [['a",=1+1', "b\n=2+2"]]


def _csv_module(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.lists(
            st.text(alphabet=st.sampled_from(list(',"\r\n\0 ab=\u00e9\N{FULLWIDTH EQUALS SIGN}'))),
            min_size=1,
            max_size=4,
        ),
        max_size=5,
    )
)
def test_csv_rows_are_written_exactly_as_the_csv_module_writes_them(rows: list[list[str]]) -> None:
    """The export joins plain rows itself (faster); every row, plain or not, comes out as
    `csv.writer` writes it: commas, quotes, CR, LF, NUL, a lone empty cell."""
    try:
        expected = _csv_module(rows)
    except csv.Error:
        with pytest.raises(csv.Error):
            export.to_csv(rows)
        return
    assert export.to_csv(rows) == expected


def _export_row(student: int, first: str, email: str | None) -> tuple[Any, ...]:
    # The columns of `export.EXPORT_COLUMNS`, in order.
    return (student, first, "Last", email, "Co", "=Group", "Course", "2026-01-05T09:00:00Z",
            1, 3, None, "2026-02-01T00:00:00Z")  # fmt: skip


def test_rows_a_viewer_may_not_read_in_full_lose_their_contact_and_expiry() -> None:
    """Per row, where the viewer may not read every student's contact (an analyst without
    groups, asking about someone else): the other student's email, company and expiry are
    empty, its own are shown; text cells are neutralised either way."""
    scope = AccessScope(viewer_id=5, roles=frozenset({Role.GROUP_ANALYST}), now=utcnow())
    rows = export.format_rows(
        scope, [_export_row(7, "+Ann", "a@x.test"), _export_row(5, "Bo", "b@x.test")]
    )
    assert rows == [
        ("'+Ann", "Last", "", "", "'=Group", "Course", "2026-01-05T09:00:00Z", "33.3", "", ""),
        ("Bo", "Last", "b@x.test", "Co", "'=Group", "Course", "2026-01-05T09:00:00Z", "33.3", "",
         "2026-02-01T00:00:00Z"),
    ]  # fmt: skip
    admin = export.format_rows(system_scope(), [_export_row(7, "Ann", "a@x.test")])
    assert admin[0][2:4] == ("a@x.test", "Co") and admin[0][9] == "2026-02-01T00:00:00Z"


async def test_hostile_names_leave_as_text(small: Small, api: Any) -> None:
    response = await download(api.client, await small.token(small.analyst_a))
    cells = [cell for row in csv.reader(io.StringIO(response.text)) for cell in row]
    assert not [cell for cell in cells if cell.startswith(export.FORMULA_TRIGGERS)]
    assert '\'=HYPERLINK("http://evil.example","click")' in cells
    assert "Müller-Lüdenscheidt" in cells


# -- streaming, batches, snapshot ------------------------------------------------------------


async def test_large_export_reads_in_batches(world: World, db: Database) -> None:
    course_a = await world.course("Course A", lessons=5)
    course_b = await world.course("Course B", lessons=5)
    students = [await world.user(f"S{i:03d}", f"Student{i:03d}") for i in range(30)]
    await world.group("Big", members=tuple(students))
    for student in students:
        await world.enroll(student, course_a, completed=2)
        await world.enroll(student, course_b, completed=5)
    executions: list[tuple[Any, bool]] = []

    def on_execute(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        context = _args[1]
        if "FROM group_membership" in statement and "ORDER BY" in statement:
            executions.append(
                (context.execution_options.get("yield_per"), getattr(cursor, "server_side", False))
            )

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        run = export.ExportRun()
        chunks = [
            chunk
            async for chunk in export.csv_chunks(
                db, system_scope(), export.ExportParams(), run, batch_size=7
            )
        ]
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)
    # One statement, on a server-side cursor, fetched 7 rows at a time.
    assert executions == [(7, True)]
    assert run.rows == 60 and run.batches == math.ceil(60 / 7)
    assert chunks[0] == export.HEADER_BYTES
    assert [chunk.count(b"\r\n") for chunk in chunks[1:]] == [7] * 8 + [4]


async def test_export_reads_one_snapshot_while_progress_is_written(
    small: Small, db: Database
) -> None:
    scope = system_scope()
    run = export.ExportRun()
    chunks = export.csv_chunks(db, scope, export.ExportParams(), run, batch_size=1)
    first = [await anext(chunks), await anext(chunks)]
    # Meanwhile, Carol finishes her course.
    async with db.write() as session:
        await session.execute(
            update(Enrollment)
            .where(col(Enrollment.user_id) == small.carol.id)
            .values(lessons_completed=2, completed_at=datetime(2026, 3, 1, tzinfo=UTC))
        )
    rest = [chunk async for chunk in chunks]
    assert b"".join(first + rest).decode() == HEADER_LINE + ALPHA_ROWS + BETA_ROWS
    again = b"".join(
        [c async for c in export.csv_chunks(db, scope, export.ExportParams(), export.ExportRun())]
    )
    assert (
        b"Carol,Nolan,carol@example.com,,Beta Cohort,SQL Basics,2026-01-05T09:00:00Z,100.0" in again
    )


async def test_snapshot_sees_no_commit_made_after_it_began(world: World, db: Database) -> None:
    await world.group("Before")
    count = text("SELECT COUNT(*) FROM student_group")
    async with db.snapshot() as conn:
        first = (await conn.execute(count)).scalar_one()
        await world.group("During")
        second = (await conn.execute(count)).scalar_one()
    assert first == second
    async with db.read() as session:
        assert (await session.execute(count)).scalar_one() == first + 1


# -- the command line ------------------------------------------------------------------------


async def test_cli_writes_the_same_file(
    small: Small, db: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    out = tmp_path / "alpha.csv"
    code = await asyncio.to_thread(main, ["export", "--group", "alpha cohort", "--out", str(out)])
    assert code == 0
    assert out.read_bytes().decode() == HEADER_LINE + ALPHA_ROWS
    assert out.stat().st_mode & 0o077 == 0
    code = await asyncio.to_thread(
        main, ["export", "--course", "SQL Basics", "--status", "COMPLETED", "--out", str(out)]
    )
    assert code == 0
    assert out.read_text().count("SQL Basics") == 2
    events = await export_events(db)
    assert [(e.actor_id, e.details["via"], e.details["rows"]) for e in events] == [
        (None, "cli", 3),
        (None, "cli", 2),
    ]


async def test_cli_refuses_unknown_names(
    small: Small,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    out = tmp_path / "x.csv"
    code = await asyncio.to_thread(main, ["export", "--group", "Gamma", "--out", str(out)])
    assert code == 1
    assert "no group named 'Gamma'" in capsys.readouterr().err
    assert not out.exists()


# -- signed links (progressExportUrl) --------------------------------------------------------

EXPORT_URL = "query ($g: [ID!], $c: [ID!]) { progressExportUrl(groupIds: $g, courseIds: $c) }"


async def signed_link(api: Any, token: str | None, groups: list[Any]) -> str:
    data = await api.data(EXPORT_URL, {"g": [gid("Group", g.id) for g in groups]}, token)
    link: str = data["progressExportUrl"]
    return link


def with_param(link: str, key: str, value: str) -> str:
    path, _, query = link.partition("?")
    items = [(k, value if k == key else v) for k, v in parse_qsl(query)]
    return f"{path}?{urlencode(items)}"


async def test_signed_link_downloads_without_a_header(small: Small, api: Any, db: Database) -> None:
    link = await signed_link(api, await small.token(small.analyst_a), [small.alpha])
    assert link.startswith("/exports/progress.csv?groupId=")
    response = await api.client.get(link)
    assert response.status_code == 200
    assert response.text == HEADER_LINE + ALPHA_ROWS
    assert [(e.actor_id, e.details["via"]) for e in await export_events(db)] == [
        (small.analyst_a.id, "signed-link")
    ]


async def test_signed_link_for_all_visible_groups(small: Small, api: Any) -> None:
    link = await signed_link(api, await small.token(small.analyst_b), [])
    assert (await api.client.get(link)).text == HEADER_LINE + BETA_ROWS


async def test_expired_link_is_refused(small: Small, api: Any, settings: Settings) -> None:
    items = export.ExportParams(group_ids=(small.alpha.id or 0,)).query_items()
    made = datetime.now(UTC) - settings.export_link_ttl - timedelta(seconds=1)
    # Refused on its expiry before its token is looked at: any token id will do.
    link = export_links.signed_path(settings, small.analyst_a.id or 0, 0, items, made)
    response = await api.client.get(link)
    assert error_of(response) == (401, "UNAUTHENTICATED")
    assert "expired" in response.json()["errors"][0]["message"]


async def test_tampered_or_borrowed_links_are_refused(small: Small, api: Any) -> None:
    link = await signed_link(api, await small.token(small.analyst_a), [small.alpha])
    assert (await api.client.get(link)).status_code == 200
    tampered = [
        # Another group, the other analyst as viewer, a later expiry, a forged signature.
        with_param(link, "groupId", gid("Group", small.beta.id)),
        with_param(link, "viewer", str(small.analyst_b.id)),
        with_param(link, "viewer", str(small.world.owner.id)),
        with_param(link, "expires", str(int(datetime.now(UTC).timestamp()) + 86_400)),
        with_param(link, "token", "999999"),
        with_param(link, "sig", "0" * 64),
        with_param(link, "sig", "é"),
        link + "&groupId=" + gid("Group", small.beta.id),
        link + "&status=COMPLETED",
        link.replace("&sig=", "&x=1&sig="),
    ]
    for bad in tampered:
        response = await api.client.get(bad)
        assert error_of(response) == (401, "UNAUTHENTICATED"), bad
        assert "not valid" in response.json()["errors"][0]["message"]


async def test_link_signed_with_another_key_is_refused(
    small: Small, api: Any, settings: Settings
) -> None:
    other = replace(settings, secret_key="another-deployment")
    link = export_links.signed_path(other, small.analyst_a.id or 0, 0, [], datetime.now(UTC))
    assert error_of(await api.client.get(link)) == (401, "UNAUTHENTICATED")


async def test_link_rechecks_access_at_download(small: Small, api: Any, db: Database) -> None:
    link = await signed_link(api, await small.token(small.analyst_a), [small.alpha])
    async with db.write() as session:
        await session.execute(
            delete(AnalystAssignment).where(col(AnalystAssignment.analyst_id) == small.analyst_a.id)
        )
    assert error_of(await api.client.get(link)) == (404, "NOT_FOUND")


async def test_who_may_create_a_link(small: Small, api: Any) -> None:
    variables = {"g": [gid("Group", small.beta.id)]}
    assert await api.error_code(EXPORT_URL, variables) == "UNAUTHENTICATED"
    assert await api.error_code(EXPORT_URL, variables, await small.token(small.student)) == (
        "FORBIDDEN"
    )
    # An analyst of another group: like a group that does not exist.
    analyst_a = await small.token(small.analyst_a)
    assert await api.error_code(EXPORT_URL, variables, analyst_a) == "NOT_FOUND"
    assert await api.error_code(EXPORT_URL, {"g": ["nope"]}, analyst_a) == "BAD_USER_INPUT"
    assert (await signed_link(api, await small.token(small.analyst_b), [small.beta])).startswith(
        "/exports/progress.csv?"
    )


async def test_link_of_a_deleted_account_is_refused(small: Small, api: Any, db: Database) -> None:
    link = await signed_link(api, await small.token(small.analyst_a), [small.alpha])
    async with db.write() as session:
        await session.execute(delete(User).where(col(User.id) == small.analyst_a.id))
    assert error_of(await api.client.get(link)) == (401, "UNAUTHENTICATED")


REVOKE = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { revokedAt } } }"


async def _token_id(db: Database, secret: str) -> str:
    async with db.read() as session:
        token = (
            await session.execute(
                select(ApiToken).where(col(ApiToken.token_hash) == token_digest(secret))
            )
        ).scalar_one()
    return gid("ApiToken", token.id)


async def test_a_link_dies_with_the_token_that_made_it(
    small: Small, api: Any, db: Database
) -> None:
    """Revoking a token (a lost laptop) ends the links it minted at once, not 5 minutes later;
    links of the user's other tokens live on."""
    first = await small.token(small.analyst_a)
    link = await signed_link(api, first, [small.alpha])
    second = await small.token(small.analyst_a)
    other_link = await signed_link(api, second, [small.alpha])
    assert (await api.client.get(link)).status_code == 200
    revoked = await api.data(REVOKE, {"id": await _token_id(db, first)}, first)
    assert revoked["revokeApiToken"]["apiToken"]["revokedAt"]
    response = await api.client.get(link)
    assert error_of(response) == (401, "UNAUTHENTICATED")
    assert "revoked" in response.json()["errors"][0]["message"]
    assert (await api.client.get(other_link)).status_code == 200


async def test_a_link_dies_when_its_token_expires(small: Small, api: Any, db: Database) -> None:
    token = await small.token(small.analyst_a)
    link = await signed_link(api, token, [small.alpha])
    async with db.write() as session:
        await session.execute(
            update(ApiToken)
            .where(col(ApiToken.user_id) == small.analyst_a.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert error_of(await api.client.get(link)) == (401, "UNAUTHENTICATED")


async def test_download_cut_short_is_audited_as_incomplete(small: Small, db: Database) -> None:
    body = audited_body(db, system_scope(), export.ExportParams(), "http")
    assert await anext(body) == export.HEADER_BYTES
    await anext(body)
    await body.aclose()  # what the server does when the client leaves
    [event] = await export_events(db)
    assert event.details["complete"] is False
    assert event.details["groupIds"] == "all"


def test_command_line_scope_is_an_admin_and_not_anonymous() -> None:
    scope = system_scope()
    assert scope.is_admin and rules.REPORT_EXPORT.allows(scope) and not scope.is_anonymous
    assert ANONYMOUS.is_anonymous and not rules.REPORT_EXPORT.allows(ANONYMOUS)


async def test_signed_link_carries_the_status_filter(small: Small, api: Any) -> None:
    token = await small.token(small.analyst_a)
    query = "query ($g: [ID!]) { progressExportUrl(groupIds: $g, status: COMPLETED) }"
    data = await api.data(query, {"g": [gid("Group", small.alpha.id)]}, token)
    link: str = data["progressExportUrl"]
    assert "status=COMPLETED" in link
    by_link = await api.client.get(link)
    by_header = await api.client.get(
        "/exports/progress.csv",
        params={"groupId": gid("Group", small.alpha.id), "status": "COMPLETED"},
        headers={"Authorization": f"Bearer {token}"},
    )
    everything = await api.client.get(link.replace("&status=COMPLETED", ""))
    assert by_link.status_code == by_header.status_code == 200
    assert by_link.text == by_header.text
    assert by_link.text != HEADER_LINE + ALPHA_ROWS
    assert everything.status_code == 401  # the signature covers the status


async def test_cli_matches_course_names_in_any_case_and_suggests_the_closest(
    small: Small,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    out = tmp_path / "sql.csv"
    args = ["export", "--course", "  sql BASICS ", "--status", "COMPLETED", "--out", str(out)]
    assert await asyncio.to_thread(main, args) == 0
    assert out.read_text().count("SQL Basics") == 2
    capsys.readouterr()
    typo = ["export", "--course", "SQL Basix", "--group", "alpha cohrt", "--out", str(out)]
    assert await asyncio.to_thread(main, typo) == 1
    err = capsys.readouterr().err
    assert "no course named 'SQL Basix' (did you mean 'SQL Basics'?)" in err
    assert "no group named 'alpha cohrt' (did you mean 'Alpha Cohort'?)" in err
    far = ["export", "--course", "Underwater Basket Weaving", "--out", str(out)]
    assert await asyncio.to_thread(main, far) == 1
    assert "did you mean" not in capsys.readouterr().err
