"""Helpers for the `groupanalyst import` tests: run the command as a user would, read results."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from app.cli import main
from app.db import Database
from app.models import AuditEvent

USERS_HEADER = "Student First Name,Student Last Name,Student Email,Company,Roles\n"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def summary(self) -> str:
        return self.out.strip().splitlines()[-1] if self.out.strip() else ""

    @property
    def counts(self) -> dict[str, int]:
        """The summary's counts of created, updated and unchanged rows."""
        found = re.findall(r"([\d,]+) (created|updated|unchanged)", self.summary)
        return {name: int(number.replace(",", "")) for number, name in found}

    def line(self, number: int) -> str:
        """The report about one line of the file ("" when it has none)."""
        prefix = f"line {number}: "
        return next((ln for ln in self.out.splitlines() if ln.startswith(prefix)), "")


class Importer:
    """Writes CSV files into a temporary directory and runs `groupanalyst import` on them
    (in a thread: the command runs its own event loop, as it does from a shell)."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.tmp_path = tmp_path
        self.capsys = capsys
        self.files = 0

    def file(self, content: str | bytes) -> Path:
        self.files += 1
        path = self.tmp_path / f"import-{self.files}.csv"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8", newline="")
        else:
            path.write_bytes(content)
        return path

    async def run(self, kind: str, content: str | bytes | Path, *flags: str) -> Run:
        path = content if isinstance(content, Path) else self.file(content)
        self.capsys.readouterr()
        code = await asyncio.to_thread(main, ["import", kind, str(path), *flags])
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)


def make_importer(request: pytest.FixtureRequest) -> Importer:
    """For a test module's `importer` fixture: the command pointed at the test's database."""
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("DATABASE_URL", request.getfixturevalue("database_url"))
    return Importer(request.getfixturevalue("tmp_path"), request.getfixturevalue("capsys"))


async def audit_actions(db: Database, *actions: str) -> list[tuple[str, int | None]]:
    """(action, actor id) of every audit event with one of `actions`, oldest first."""
    async with db.read() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.actor_id)
            .where(col(AuditEvent.action).in_(actions))
            .order_by(col(AuditEvent.id))
        )
        return [(a, b) for a, b in rows.all()]


async def count(db: Database, model: type) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())
