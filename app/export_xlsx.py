"""The group progress export as an XLSX workbook (`format=xlsx`), written by XlsxWriter.

Invariants:
- same rows, order, columns and access as the CSV (`app.export.row_batches`, `HEADER`, the
  viewer's email and expiry rules through `app.export.visible_rows`); past Excel's 1,048,576
  rows per sheet the rows go on in a new sheet, "Group progress (2)", with the header again;
- cells are typed: dates are Excel dates (in the export's time zone, UTC by default),
  `% Completed` a number formatted as a percentage, the rest text;
- no cell is ever a formula: XlsxWriter's string-to-formula/number/URL conversions are off and
  every text cell is written as a string, so no `'` prefix is needed (unlike the CSV);
- memory stays flat: the workbook is in `constant_memory` mode (one row held at a time) and
  written to a temporary file, which is then streamed out in `CHUNK` pieces and deleted
  however the download ends (a folder left by a killed process, named with its pid, is
  removed by `sweep_stale` when the app starts); the writing runs in a worker thread, batch
  by batch, so the event loop keeps serving other requests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncGenerator, Iterable
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import xlsxwriter

from app.db import Database
from app.export import HEADER, ExportParams, ExportRun, parse_iso, row_batches, visible_rows
from app.report import percent
from permissions.policy import AccessScope

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024
# Text columns' widths in characters, then the dates and the percentage.
WIDTHS = (18, 18, 30, 20, 24, 30, 20, 12, 20, 20)
# Excel counts days from 1900; older dates stay ISO text rather than a wrong number.
EXCEL_EPOCH_YEAR = 1900
# Rows per worksheet, header included (Excel's limit); further rows go on to a new sheet.
SHEET_ROWS = 1_048_576


TEMP_PREFIX = "groupanalyst-xlsx-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(folder: Path | None = None) -> int:
    """Remove the temporary folders of exports whose process is gone; how many were removed."""
    removed = 0
    for path in Path(folder or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        pid = path.name.removeprefix(TEMP_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


class ProgressSheet:
    """One workbook on disk, filled row by row; `close` finishes the file."""

    def __init__(self, path: Path, zone: ZoneInfo | None) -> None:
        self.zone = zone or UTC
        self.workbook = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "tmpdir": str(path.parent),
            },
        )
        self.bold = self.workbook.add_format({"bold": True})
        self.date = self.workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.percent = self.workbook.add_format({"num_format": "0.0%"})
        self.sheets = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        """A worksheet with the header; the first is "Group progress", then "(2)", "(3)"..."""
        self.sheets += 1
        name = "Group progress" + (f" ({self.sheets})" if self.sheets > 1 else "")
        self.sheet = self.workbook.add_worksheet(name)
        for column, width in enumerate(WIDTHS):
            self.sheet.set_column(column, column, width)
        self.sheet.write_row(0, 0, HEADER, self.bold)
        self.sheet.freeze_panes(1, 0)
        self.next_row = 1

    def _date(self, row: int, column: int, text: str | None) -> None:
        if not text:
            return
        moment = parse_iso(text).astimezone(self.zone)
        if moment.year < EXCEL_EPOCH_YEAR:
            self.sheet.write_string(row, column, moment.isoformat())
        else:
            self.sheet.write_datetime(row, column, moment.replace(tzinfo=None), self.date)

    def write(self, scope: AccessScope, rows: Iterable[Any]) -> None:
        """Rows of `app.export.export_statement`, typed, in `HEADER` order."""
        for shown in visible_rows(scope, rows):
            if self.next_row == SHEET_ROWS:
                self._new_sheet()
            row, write_string = self.next_row, self.sheet.write_string
            write_string(row, 0, shown.first)
            write_string(row, 1, shown.last)
            if shown.email is not None:
                write_string(row, 2, shown.email)
            if shown.company:
                write_string(row, 3, shown.company)
            write_string(row, 4, shown.group)
            write_string(row, 5, shown.course)
            self._date(row, 6, shown.activated)
            self.sheet.write_number(row, 7, percent(shown.done, shown.lessons) / 100, self.percent)
            self._date(row, 8, shown.completed)
            self._date(row, 9, shown.expires)
            self.next_row = row + 1

    def close(self) -> None:
        self.workbook.close()


async def xlsx_chunks(
    db: Database,
    scope: AccessScope,
    params: ExportParams,
    run: ExportRun,
    batch_size: int | None = None,
) -> AsyncGenerator[bytes]:
    """The finished workbook's bytes; `run.complete` once every byte has been handed on."""
    with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-") as folder:
        path = Path(folder) / "export.xlsx"
        sheet = await anyio.to_thread.run_sync(ProgressSheet, path, params.options.zone())
        try:
            async for batch in row_batches(db, scope, params, run, batch_size):
                await anyio.to_thread.run_sync(sheet.write, scope, batch)
        finally:
            # Also on failure: XlsxWriter keeps temporary files open until closed.
            await anyio.to_thread.run_sync(sheet.close)
        with path.open("rb") as file:
            while chunk := await anyio.to_thread.run_sync(file.read, CHUNK):
                yield chunk
    run.complete = True
