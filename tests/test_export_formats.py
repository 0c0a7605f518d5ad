"""Export options on /exports/progress.csv and its signed links: XLSX, BOM, time zone."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest

from app import export_xlsx
from app.db import Database
from tests.support import Api, gid
from tests.test_export import HEADER_LINE, Small, download, export_events
from tests.test_export import small as small
from tests.xlsx_read import read_rows, sheet_count, values

HEADER = HEADER_LINE.rstrip("\r\n").split(",")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's serial day number of 2026-01-05 09:00 (days since 1899-12-30).
JAN5_SERIAL = (datetime(2026, 1, 5, 9, 0) - datetime(1899, 12, 30)).total_seconds() / 86400


def error_of(response: object) -> tuple[int, str, str | None]:
    body = response.json()  # type: ignore[attr-defined]
    error = body["errors"][0]
    return response.status_code, error["extensions"]["code"], error["extensions"].get("field")  # type: ignore[attr-defined]


async def test_xlsx_has_the_csv_rows_with_typed_cells(api: Api, db: Database, small: Small) -> None:
    token = await small.token(small.analyst_a)
    params = {"groupId": gid("Group", small.alpha.id), "format": "xlsx"}
    response = await download(api.client, token, params)
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].endswith('.xlsx"')
    assert response.headers["access-control-expose-headers"] == "Content-Disposition"
    rows = read_rows(response.content)
    assert values(rows)[0] == HEADER
    # Same rows and order as the CSV; text is never a formula, so no quote prefix is needed.
    assert [r[:6] for r in values(rows)[1:]] == [
        [
            '=HYPERLINK("http://evil.example","click")',
            "Abbott",
            "-abbott@example.com",
            "+1 555 0100",
            "Alpha Cohort",
            "Python Basics",
        ],
        [
            "Zoë",
            "Müller-Lüdenscheidt",
            "zoe@example.com",
            "Acme, Inc.",
            "Alpha Cohort",
            "Python Basics",
        ],
        [
            "Zoë",
            "Müller-Lüdenscheidt",
            "zoe@example.com",
            "Acme, Inc.",
            "Alpha Cohort",
            "SQL Basics",
        ],
    ]
    assert all(cell is None or cell.kind != "f" for row in rows for cell in row)
    activated, done = rows[1][6], rows[3][7]
    assert activated is not None and activated.kind == "n"
    assert float(activated.value) == pytest.approx(JAN5_SERIAL)
    assert activated.number_format == "yyyy-mm-dd hh:mm:ss"
    assert done is not None and (done.kind, float(done.value), done.number_format) == (
        "n",
        1.0,
        "0.0%",
    )
    assert [e.details["format"] for e in await export_events(db)] == ["xlsx"]


async def test_bom_starts_the_csv_only_when_asked(api: Api, small: Small) -> None:
    token = await small.token(small.analyst_b)
    plain = await download(api.client, token, {"groupId": gid("Group", small.beta.id)})
    marked = await download(api.client, token, {"groupId": gid("Group", small.beta.id), "bom": "1"})
    assert marked.content == b"\xef\xbb\xbf" + plain.content
    bad = await download(api.client, token, {"format": "xlsx", "bom": "1"})
    assert error_of(bad) == (400, "BAD_USER_INPUT", "bom")


async def test_tz_writes_dates_in_the_readers_zone(api: Api, small: Small) -> None:
    token = await small.token(small.analyst_b)
    params = {"groupId": gid("Group", small.beta.id), "tz": "Europe/Paris"}
    text = (await download(api.client, token, params)).text
    lines = text.splitlines()
    assert lines[0] == HEADER_LINE.rstrip("\r\n")
    # 2026-01-06T10:15:30Z is 11:15:30 in Paris in winter; an empty date stays empty.
    assert lines[1].endswith(",2026-01-06T11:15:30+01:00,33.3,,")
    assert lines[3].endswith(",2026-01-05T10:00:00+01:00,50.0,,2027-01-01T01:00:00+01:00")
    sheet = read_rows((await download(api.client, token, {**params, "format": "xlsx"})).content)
    paris_jan5 = JAN5_SERIAL + 1 / 24
    carol = sheet[3][6]
    assert carol is not None and float(carol.value) == pytest.approx(paris_jan5)


@pytest.mark.parametrize(
    "tz",
    [
        "Mars/Olympus",
        "../../etc/passwd",
        "",
        "Europe/Paris\x00",
        "é/ü",
        "A" * 500,
        "/etc/UTC",
        "Europe/../UTC",
        "UTC ",
    ],
)
async def test_a_bad_time_zone_is_refused_before_any_byte(
    api: Api, db: Database, small: Small, tz: str
) -> None:
    token = await small.token(small.analyst_a)
    response = await download(api.client, token, {"tz": tz})
    assert error_of(response) == (400, "BAD_USER_INPUT", "tz")
    assert await export_events(db) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"format": "XLSX "}, "format"),
        ({"bom": "yes"}, "bom"),
        ({"format": ["csv", "xlsx"]}, "format"),
    ],
)
async def test_bad_options_are_refused(
    api: Api, small: Small, params: dict[str, object], field: str
) -> None:
    token = await small.token(small.analyst_a)
    assert error_of(await download(api.client, token, params)) == (400, "BAD_USER_INPUT", field)


async def test_xlsx_keeps_the_access_rules(api: Api, small: Small) -> None:
    alpha = {"groupId": gid("Group", small.alpha.id), "format": "xlsx"}
    assert error_of(await download(api.client, None, alpha))[:2] == (401, "UNAUTHENTICATED")
    student = await small.token(small.student)
    assert error_of(await download(api.client, student, alpha))[:2] == (403, "FORBIDDEN")
    other = await small.token(small.analyst_b)
    assert error_of(await download(api.client, other, alpha))[:2] == (404, "NOT_FOUND")
    # Without a group: only the analyst's own groups.
    mine = read_rows((await download(api.client, other, {"format": "xlsx"})).content)
    assert {row[4].value for row in mine[1:] if row[4]} == {"Beta Cohort"}


LINK = """query($g: [ID!], $f: ExportFormat!, $tz: String, $bom: Boolean!) {
  progressExportUrl(groupIds: $g, format: $f, timeZone: $tz, bom: $bom) }"""


async def test_signed_links_carry_the_options_and_cannot_be_changed(api: Api, small: Small) -> None:
    token = await small.token(small.analyst_b)
    variables = {"g": [gid("Group", small.beta.id)], "f": "XLSX", "tz": "Asia/Tokyo", "bom": False}
    link = (await api.data(LINK, variables, token))["progressExportUrl"]
    response = await api.client.get(link)
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert values(read_rows(response.content))[0] == HEADER
    # Turning the XLSX link into a CSV one (or dropping the zone) breaks its signature.
    path, query = link.split("?")
    items = parse_qsl(query)
    for changed in (
        [(k, v) for k, v in items if k != "format"],
        [(k, "UTC" if k == "tz" else v) for k, v in items],
    ):
        assert error_of(await api.client.get(f"{path}?{urlencode(changed)}"))[:2] == (
            401,
            "UNAUTHENTICATED",
        )
    bad = await api.raw(LINK, {**variables, "tz": "Nowhere/Land"}, token)
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "timeZone"}
    csv_bom = await api.data(LINK, {**variables, "f": "CSV", "tz": None, "bom": True}, token)
    body = (await api.client.get(csv_bom["progressExportUrl"])).content
    assert body.startswith(b"\xef\xbb\xbf" + HEADER_LINE.encode())
    student = await small.token(small.student)
    refused = await api.raw(LINK, {**variables, "g": None}, student)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_filename_is_dated_in_the_zone(api: Api, small: Small) -> None:
    token = await small.token(small.analyst_a)
    response = await download(api.client, token, {"tz": "Pacific/Kiritimati"})
    day = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Pacific/Kiritimati"))
    assert f"group-progress-{day:%Y-%m-%d}.csv" in response.headers["content-disposition"]


async def test_rows_past_a_sheets_limit_go_on_in_a_new_sheet(
    api: Api, small: Small, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_xlsx, "SHEET_ROWS", 3)  # header and 2 rows a sheet
    owner = await small.token(small.world.owner)
    content = (await download(api.client, owner, {"format": "xlsx"})).content
    assert sheet_count(content) == 3
    sheets = [values(read_rows(content, n)) for n in (1, 2, 3)]
    assert all(sheet[0] == HEADER for sheet in sheets)
    names = [row[4] for sheet in sheets for row in sheet[1:]]
    assert names == ["Alpha Cohort"] * 3 + ["Beta Cohort"] * 3


def test_folders_of_killed_exports_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    dead_pid = 4_194_304 + 1  # above Linux's pid_max: never a live process
    dead = tmp_path / f"{export_xlsx.TEMP_PREFIX}{dead_pid}-abc"
    live = tmp_path / f"{export_xlsx.TEMP_PREFIX}{os.getpid()}-def"
    other = tmp_path / "someone-elses-folder"
    for folder in (dead, live, other):
        folder.mkdir()
        (folder / "export.xlsx").write_bytes(b"partial")
    assert export_xlsx.sweep_stale(tmp_path) == 1
    assert not dead.exists() and live.exists() and other.exists()
