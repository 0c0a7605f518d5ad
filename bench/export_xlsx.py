"""XLSX export benchmark: `.venv/bin/python -m bench.export_xlsx`.

On the same world as `bench.export` (about 1,000,000 report rows, built once in `bench/out/`),
in one run and against the real server (uvicorn on 127.0.0.1), each on a fresh server:
CSV and XLSX (`format=xlsx`) of one group (~100k rows) and of everything (~1M rows). Prints
rows/s and the server's peak RSS (VmHWM, reset after start-up) for each, and the ratios of
XLSX to CSV (the baseline, measured in the same run). Rows of an XLSX download are counted
by the audit event's `rows`, as the file's bytes are a zip.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

from sqlmodel import col, select

from app.db import Database
from app.ids import to_global_id
from app.models import AuditEvent
from bench.export import URL, _owner_token, build, download, machine, server

# An XLSX sends its first byte only once the whole workbook is written: minutes for 1M rows.
DOWNLOAD_TIMEOUT_S = 3600


@dataclass
class Run:
    label: str
    rows: int
    seconds: float
    peak_mb: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


async def _last_export_rows() -> int:
    db = Database.from_url(URL)
    try:
        async with db.read() as session:
            event = (
                await session.execute(
                    select(AuditEvent)
                    .where(col(AuditEvent.action) == "export.progress")
                    .order_by(col(AuditEvent.id).desc())
                    .limit(1)
                )
            ).scalar_one()
        return int(event.details["rows"])
    finally:
        await db.dispose()


def one(label: str, token: str, params: list[tuple[str, str]]) -> Run:
    with server() as fresh:
        fresh.reset_peak()
        started = time.perf_counter()
        got = download(fresh.port, token, params, timeout=DOWNLOAD_TIMEOUT_S)
        seconds = time.perf_counter() - started
        peak = fresh.peak_rss_mb()
    rows = got.rows if ("format", "xlsx") not in params else asyncio.run(_last_export_rows())
    return Run(label, rows, seconds, peak)


def measure() -> list[Run]:
    summary = build()
    token = asyncio.run(_owner_token())
    print(f"world: {summary['report_rows']:,} report rows; {machine()}")
    group = [("groupId", str(to_global_id("Group", 1)))]
    xlsx = [("format", "xlsx")]
    runs = []
    for label, params in (
        ("CSV, one group", group),
        ("XLSX, one group", group + xlsx),
        ("CSV, everything", []),
        ("XLSX, everything", xlsx),
    ):
        runs.append(one(label, token, params))
        print(_line(runs[-1]), flush=True)
    return runs


def _line(r: Run) -> str:
    return f"{r.label:<18} {r.rows:>10,} {r.seconds:>8.1f} {r.rows_per_s:>9,.0f} {r.peak_mb:>13.1f}"


def main() -> None:
    argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0]).parse_args()
    print(f"{'export':<18} {'rows':>10} {'seconds':>8} {'rows/s':>9} {'peak RSS MiB':>13}")
    runs = measure()
    csv_small, xlsx_small, csv_big, xlsx_big = runs
    print(f"XLSX/CSV rows/s, one group: {xlsx_small.rows_per_s / csv_small.rows_per_s:.2f}x")
    print(f"XLSX/CSV rows/s, everything: {xlsx_big.rows_per_s / csv_big.rows_per_s:.2f}x")
    print(f"XLSX peak RSS everything / one group: {xlsx_big.peak_mb / xlsx_small.peak_mb:.2f}x")


if __name__ == "__main__":
    main()
