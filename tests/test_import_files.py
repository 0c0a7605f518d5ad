"""`groupanalyst import` on hostile files: the file is refused whole, or each bad line alone."""

from __future__ import annotations

import asyncio
import codecs
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from app.models import AuditEvent, User
from tests.import_support import USERS_HEADER, Importer, count, make_importer
from tests.support import World


@pytest.fixture
def importer(request: pytest.FixtureRequest) -> Importer:
    return make_importer(request)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty; its first line must be the header"),
        (b"\n\r\n  \n", "the file is empty"),
        (USERS_HEADER.replace("Roles", "").encode(), "column 5 of the header has no name"),
        (b"Student First Name,Student Email\n", "the column 'Student Last Name' is missing"),
        (
            USERS_HEADER.replace("Company", "Compnay").encode(),
            "unknown column 'Compnay' (did you mean 'Company'?)",
        ),
        (
            (USERS_HEADER.strip() + ",student email\n").encode(),
            "the column 'student email' appears twice",
        ),
        (
            (USERS_HEADER.strip() + ",Analyst Email\n").encode(),
            "unknown column 'Analyst Email'",
        ),
        (codecs.BOM_UTF16_LE + USERS_HEADER.encode("utf-16-le"), "the file is UTF-16"),
        (b"Student First\x00 Name,Student Last Name,Student Email\n", "NUL character"),
        (b"Student First Name\xff,Student Last Name,Student Email\n", "not UTF-8"),
    ],
)
async def test_a_file_with_an_unusable_header_is_refused_whole(
    importer: Importer, world: World, content: bytes, reason: str
) -> None:
    run = await importer.run(
        "users", content + b"Ann,Lee,ann@example.com,,\n" if content.strip() else content
    )
    assert run.code == 2
    assert reason in run.err
    assert "nothing was imported" in run.err
    assert await count(world.db, User) == 1


async def test_header_only_imports_nothing_and_says_so(importer: Importer, world: World) -> None:
    run = await importer.run("users", USERS_HEADER)
    assert run.code == 0
    assert run.summary == "0 created, 0 updated, 0 unchanged, 0 failed"


async def test_bom_crlf_any_header_case_and_blank_lines_are_read(
    importer: Importer, world: World
) -> None:
    content = (
        codecs.BOM_UTF8
        + b"student first name , STUDENT LAST NAME,Student Email\r\n\r\n"
        + b"Ann,Lee,ann@example.com\r\n"
        + b'"Zo\xc3\xab ""Z""",L\xc3\xa9e,zoe@example.com\r\n'
    )
    run = await importer.run("users", content)
    assert run.code == 0, run.out + run.err
    assert run.summary == "2 created, 0 updated, 0 unchanged, 0 failed"
    names = await world.scalars(select(User.first_name).order_by(col(User.id)))
    assert names == ["Olivia", "Ann", 'Zoë "Z"']


async def test_bad_bytes_and_cells_fail_their_line_only(importer: Importer, world: World) -> None:
    lines = [
        b"Ann,Lee,ann@example.com,,",  # 2: good
        b"Nul,Byte\x00,nul@example.com,,",  # 3
        b"Bad,Utf8\xff\xfe,bad@example.com,,",  # 4
        b"Lone,Surrogate\xed\xa0\x80,lone@example.com,,",  # 5: UTF-8 of U+D800
        b'"Two\nLines",Name,two@example.com,,',  # 6-7: a line break in a name
        b"Big," + b"x" * 2_000_000 + b",big@example.com,,",  # 8: a 2 MB line
        b"Bob,Ray,bob@example.com,,",  # 9: good
        b"Wide," + b"y" * 200_000 + b",wide@example.com,,",  # 10: long, but under the line bound
    ]
    run = await importer.run("users", USERS_HEADER.encode() + b"\n".join(lines) + b"\n")
    assert run.code == 1
    assert run.summary == "2 created, 0 updated, 0 unchanged, 6 failed"
    assert "'Student Last Name' holds a NUL character" in run.line(3)
    assert "'Student Last Name' holds bytes that are not valid UTF-8" in run.line(4)
    assert "not valid UTF-8" in run.line(5)
    assert "'Student First Name' must be a single line of text" in run.line(6)
    assert "the line is longer than 1,000,000 characters" in run.line(8)
    assert "'Student Last Name' must be at most 100 characters" in run.line(10)
    # Nothing of a refused value is echoed back: a report stays short whatever the input.
    assert len(run.out) < 2_000
    emails = await world.scalars(select(User.email).order_by(col(User.id)))
    assert emails[1:] == ["ann@example.com", "bob@example.com"]


async def _command(database_url: str, *args: str, stdin: bytes | None = None) -> Any:
    """`python -m app import ARGS` as a separate process, as an operator's shell starts it."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "import",
        *args,
        env={**os.environ, "DATABASE_URL": database_url},
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_standard_input_is_read_with_a_dash(world: World, database_url: str) -> None:
    child = await _command(database_url, "users", "-", stdin=b"")
    out, err = await asyncio.wait_for(
        child.communicate((USERS_HEADER + "Ann,Lee,ann@example.com,,\n").encode()), 120
    )
    assert child.returncode == 0, err
    assert out.decode().strip() == "1 created, 0 updated, 0 unchanged, 0 failed"


def _numbered_users(importer: Importer, rows: int) -> Path:
    return importer.file(
        USERS_HEADER + "".join(f"U{i},Row,u{i}@example.com,,STUDENT\n" for i in range(rows))
    )


async def _user_creates(world: World) -> int:
    counted = await world.scalars(
        select(func.count()).select_from(AuditEvent).where(col(AuditEvent.action) == "user.create")
    )
    return counted[0]


async def test_killed_mid_import_then_run_again_leaves_every_row_once(
    importer: Importer, world: World, database_url: str
) -> None:
    rows = 2_000
    path = _numbered_users(importer, rows)
    child = await _command(database_url, "users", str(path))
    for _ in range(2_400):  # two minutes at most
        if await count(world.db, User) > 1 or child.returncode is not None:
            break
        await asyncio.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    await asyncio.wait_for(child.communicate(), 30)
    killed_at = await count(world.db, User)
    assert killed_at > 1, "the import wrote nothing before it was killed"
    assert killed_at < rows + 1, "the import finished before it was killed"

    run = await importer.run("users", path)
    assert run.code == 0
    assert run.counts == {"created": rows + 1 - killed_at, "updated": 0, "unchanged": killed_at - 1}
    assert await count(world.db, User) == rows + 1
    # One audit event per user: none lost with a committed row, none left by a rolled-back one.
    assert await _user_creates(world) == rows


async def test_two_imports_of_one_file_at_once_create_each_user_once(
    importer: Importer, world: World, database_url: str
) -> None:
    path = _numbered_users(importer, 600)
    await _imported_together(world, database_url, [path, path], rows=600)


async def _imported_together(world: World, database_url: str, paths: list[Path], rows: int) -> None:
    """Import the users files at once, in separate processes: both succeed, and between them
    they create each of the `rows` users exactly once (one audit event each)."""
    children = [await _command(database_url, "users", str(p)) for p in paths]
    outputs = [await asyncio.wait_for(child.communicate(), 300) for child in children]
    assert [child.returncode for child in children] == [0, 0], [e[:6000] for _, e in outputs]
    summaries = [out.decode().strip().splitlines()[-1] for out, _ in outputs]
    created = [int(s.split(" created")[0].replace(",", "")) for s in summaries]
    assert sum(created) == rows, summaries
    assert await count(world.db, User) == rows + 1
    assert await _user_creates(world) == rows


async def test_a_missing_file_or_a_directory_is_refused(importer: Importer, world: World) -> None:
    for path in (importer.tmp_path / "missing.csv", importer.tmp_path):
        run = await importer.run("users", path)
        assert run.code == 2
        assert "nothing was imported" in run.err
        assert str(path) in run.err


async def test_two_imports_of_one_file_in_opposite_orders_create_each_user_once(
    importer: Importer, world: World, database_url: str
) -> None:
    rows = 400
    lines = [f"U{i},Row,u{i}@example.com,,STUDENT\n" for i in range(rows)]
    forward = importer.file(USERS_HEADER + "".join(lines))
    backward = importer.file(USERS_HEADER + "".join(reversed(lines)))
    await _imported_together(world, database_url, [forward, backward], rows=rows)
