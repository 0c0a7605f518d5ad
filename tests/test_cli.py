"""The command line: init, demo, create-token."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from app.cli import main
from app.db import Database
from app.models import AuditEvent, Role, Site, User, UserRole

INIT = [
    "init",
    "--site-name",
    "Acme Academy",
    "--plan",
    "PREMIER",
    "--owner-email",
    "boss@acme.example",
    "--owner-first-name",
    "Bo",
    "--owner-last-name",
    "Boss",
]


def query(database_url: str, statement: Any) -> list[Any]:
    async def run() -> list[Any]:
        db = Database.from_url(database_url)
        try:
            async with db.read() as session:
                return list((await session.execute(statement)).all())
        finally:
            await db.dispose()

    return asyncio.run(run())


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)


@pytest.mark.usefixtures("env")
def test_init_creates_site_and_single_owner(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*INIT, "--owner-password", "amber-kettle-orchard"]) == 0
    sites = query(database_url, select(Site.name, Site.plan_code))
    owners = query(
        database_url, select(UserRole.user_id).where(col(UserRole.role) == Role.SITE_OWNER)
    )
    assert [tuple(s) for s in sites] == [("Acme Academy", "PREMIER")]
    assert len(owners) == 1
    assert "owner boss@acme.example" in capsys.readouterr().out


@pytest.mark.usefixtures("env")
def test_init_refuses_a_database_that_has_a_site(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*INIT, "--owner-password", "amber-kettle-orchard"]) == 0
    again = [a if a != "boss@acme.example" else "other@acme.example" for a in INIT]
    assert main([*again, "--owner-password", "x"]) == 1
    assert "already has a site" in capsys.readouterr().err
    assert query(database_url, select(func.count()).select_from(User))[0][0] == 1


@pytest.mark.usefixtures("env")
def test_init_needs_a_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GROUPANALYST_OWNER_PASSWORD", raising=False)
    assert main(INIT) == 2
    assert "GROUPANALYST_OWNER_PASSWORD" in capsys.readouterr().err


@pytest.mark.usefixtures("env")
def test_init_takes_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUPANALYST_OWNER_PASSWORD", "from-env-pass")
    assert main(INIT) == 0


@pytest.mark.usefixtures("env")
def test_create_token_for_known_and_unknown_email(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*INIT, "--owner-password", "amber-kettle-orchard"]) == 0
    capsys.readouterr()
    assert main(["create-token", "--email", "BOSS@acme.example"]) == 0
    assert capsys.readouterr().out.startswith("ga_")
    assert main(["create-token", "--email", "nobody@acme.example"]) == 1


def test_starting_the_command_line_hashes_no_password() -> None:
    # The dummy Argon2 hash (64 MiB, tens of ms) is made on the first login, not at import.
    probe = (
        "import app.cli, app.main\n"
        "from app.security import _dummy_hash\n"
        "assert _dummy_hash.cache_info().currsize == 0\n"
        "from app.security import verify_password\n"
        "assert not verify_password(None, 'x')\n"
        "assert _dummy_hash.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)  # noqa: S603


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--owner-email", "not-an-email", "'owner-email' is not a valid email address"),
        ("--site-name", " ", "'site-name' must not be empty"),
        ("--owner-first-name", "", "'owner-first-name' must not be empty"),
        ("--owner-password", "short", "'owner-password' must be at least 12 characters"),
    ],
)
def test_init_checks_its_input_like_the_api(
    database_url: str, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    args = [*INIT, "--owner-password", "amber-kettle-orchard"]
    args[args.index(flag) + 1] = value
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert query(database_url, select(func.count()).select_from(Site))[0][0] == 0


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("days", ["0", "-5", "3650"])
def test_create_token_days_are_bounded(capsys: pytest.CaptureFixture[str], days: str) -> None:
    assert main([*INIT, "--owner-password", "amber-kettle-orchard"]) == 0
    capsys.readouterr()
    assert main(["create-token", "--email", "boss@acme.example", "--days", days]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--days must be 1 to 365" in captured.err


@pytest.mark.usefixtures("env")
def test_create_token_is_audited(database_url: str) -> None:
    assert main([*INIT, "--owner-password", "amber-kettle-orchard"]) == 0
    assert main(["create-token", "--email", "boss@acme.example", "--name", "ops"]) == 0
    events = query(
        database_url,
        select(AuditEvent.action, AuditEvent.details).where(
            col(AuditEvent.action) == "token.create"
        ),
    )
    assert [(e[0], e[1]["name"], e[1]["via"]) for e in events] == [("token.create", "ops", "cli")]


def test_unmigrated_database_gets_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    assert main(["create-token", "--email", "x@example.com"]) == 1
    assert "groupanalyst migrate" in capsys.readouterr().err


def test_unsupported_database_url_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root:hunter2@db/x")
    with pytest.raises(SystemExit) as exited:
        main(["migrate"])
    assert "postgresql+asyncpg://" in str(exited.value)
    assert "hunter2" not in str(exited.value)


@pytest.mark.usefixtures("env")
def test_init_asks_for_the_password_twice_on_a_terminal(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GROUPANALYST_OWNER_PASSWORD", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers = iter(["first-password", "other-password"])
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert main(INIT) == 2
    assert "the two passwords differ" in capsys.readouterr().err
    assert query(database_url, select(Site.name)) == []
    answers = iter(["Vq3-tumble-orchid-92", "Vq3-tumble-orchid-92"])
    assert main(INIT) == 0
    assert prompts == ["Owner password: ", "Owner password again: "] * 2
    assert len(query(database_url, select(Site.name))) == 1


@pytest.mark.usefixtures("env")
def test_init_without_a_terminal_or_password_explains(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GROUPANALYST_OWNER_PASSWORD", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert main(INIT) == 2
    assert "--owner-password" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("demo", "(default: 100)"),
        ("create-token", "(default: cli)"),
        ("serve", "(default: 1)"),
        ("export-schema", "(default: -)"),
    ],
)
def test_help_shows_defaults(command: str, shown: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert shown in " ".join(capsys.readouterr().out.split())
