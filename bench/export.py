"""CSV export benchmark: `.venv/bin/python -m bench.export`.

Builds (once, reused afterwards) a SQLite demo world with about 1,000,000 report rows in
`bench/out/`, then in one run measures, against the real server (uvicorn on 127.0.0.1):
- rows/s of the full export over HTTP as the site owner, against the same report query
  exported by the `sqlite3` command-line shell with `-csv` (the baseline; target >= 0.6x),
  in `--rounds` alternating pairs (the order flipping each round), medians of each;
- time to first byte (target < 100 ms) and, for information, time to the first data row;
- peak RSS (VmHWM) of a fresh server for an export of one group (~100k rows) and for the
  full export (~1M rows) (target: 1M at most 1.1x 100k).
Prints every figure and ratio; `--write` also records them in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy.dialects import sqlite

from app import accounts, tokens
from app.db import Database
from app.demo import DemoSpec, load_demo
from app.ids import to_global_id
from app.migrate import upgrade
from app.models import utcnow
from app.report import ProgressFilter, report_rows
from bench.harness import wait_healthy
from permissions.policy import system_scope

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DB_PATH = OUT / "export-1m.db"
MANIFEST = OUT / "export-1m.json"
# About 2.7 report rows per student: 1-4 of 8 courses, one group and sometimes two.
SPEC = DemoSpec(students=367_000, groups=10, courses=8, max_courses_per_student=4, seed=42)
URL = f"sqlite+aiosqlite:///{DB_PATH}"


@dataclass
class Download:
    rows: int
    bytes: int
    seconds: float
    ttfb_ms: float
    first_row_ms: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


# -- the world -------------------------------------------------------------------------------


def build() -> dict[str, int]:
    """The demo world at scale, built once; its summary is kept next to it."""
    if MANIFEST.exists() and DB_PATH.exists():
        summary: dict[str, int] = json.loads(MANIFEST.read_text())["summary"]
        return summary
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in (DB_PATH, MANIFEST, Path(f"{DB_PATH}-wal"), Path(f"{DB_PATH}-shm")):
        stale.unlink(missing_ok=True)
    print(f"building {DB_PATH} ({SPEC.students:,} students); this takes a few minutes")
    upgrade(URL)

    async def load() -> dict[str, int]:
        db = Database.from_url(URL)
        try:
            done = await load_demo(db, SPEC, show_progress=sys.stderr.isatty())
        finally:
            await db.dispose()
        return {k: v for k, v in asdict(done).items() if isinstance(v, int)}

    summary = asyncio.run(load())
    MANIFEST.write_text(json.dumps({"spec": asdict(SPEC), "summary": summary}, indent=2))
    return summary


async def _owner_token() -> str:
    db = Database.from_url(URL)
    try:
        async with db.write() as session:
            owner = await accounts.user_by_email(session, "owner@example.com")
            assert owner is not None and owner.id is not None
            issued = await tokens.issue(
                session, user_id=owner.id, name="bench", expires_at=utcnow() + timedelta(hours=1)
            )
        return issued.secret
    finally:
        await db.dispose()


def report_sql() -> str:
    """The report query the export runs for the owner, as SQLite text."""
    statement = report_rows(system_scope(), ProgressFilter())
    return str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


# -- the baseline ----------------------------------------------------------------------------


def sqlite3_shell(sql: str) -> tuple[int, float]:
    """(rows, seconds) for `sqlite3 -csv` writing the query's rows to a pipe we count."""
    shell = shutil.which("sqlite3")
    if shell is None:
        raise SystemExit("needs the sqlite3 shell: apt-get update && apt-get install sqlite3")
    started = time.perf_counter()
    with subprocess.Popen([shell, "-csv", str(DB_PATH), sql], stdout=subprocess.PIPE) as proc:
        out = proc.stdout
        assert out is not None
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: out.read(1 << 16), b""))
    return rows, time.perf_counter() - started


# -- the server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    pid: int
    port: int

    def _status_mb(self, field: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field}")

    def rss_mb(self) -> float:
        return self._status_mb("VmRSS")

    def peak_rss_mb(self) -> float:
        return self._status_mb("VmHWM")

    def reset_peak(self) -> None:
        """Start VmHWM again from the current RSS (Linux >= 4.0, our own process).

        Start-up peaks above anything an export needs (the Argon2 dummy hash computed at
        import uses 64 MiB), which would hide an export's growth.
        """
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")


@contextmanager
def server() -> Iterator[Server]:
    """A fresh uvicorn process on loopback, stopped afterwards."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": URL, "GROUPANALYST_LOG_LEVEL": "warning"}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.asgi:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_healthy(proc, port, 30)
        yield Server(proc.pid, port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def download(
    port: int, token: str, params: list[tuple[str, str]], timeout: float = 600
) -> Download:
    """GET the export, counting rows as they arrive; times from sending the request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    path = "/exports/progress.csv" + (f"?{urlencode(params)}" if params else "")
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"export failed: {response.status} {response.read()[:300]!r}")
    lines = size = 0
    ttfb = first_row = 0.0
    while chunk := response.read1(1 << 16):
        if not size:
            ttfb = time.perf_counter() - started
        size += len(chunk)
        lines += chunk.count(b"\n")
        if not first_row and lines >= 2:
            first_row = time.perf_counter() - started
    elapsed = time.perf_counter() - started
    conn.close()
    return Download(lines - 1, size, elapsed, ttfb * 1000, first_row * 1000)


# -- the run ---------------------------------------------------------------------------------


def machine() -> str:
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    shell = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True, check=True)
    return (
        f"{os.cpu_count()} CPUs ({platform.machine()}), {mem_kb / 1024 / 1024:.0f} GiB RAM, "
        f"Python {platform.python_version()}, sqlite3 shell {shell.stdout.split()[0]}; "
        f"load average {os.getloadavg()[0]:.1f} when done (the machine may be shared)"
    )


@dataclass
class Figures:
    summary: dict[str, int]
    baseline_rows: int
    baseline_s: float
    part: Download
    full: Download
    rss_idle: float
    rss_small: float
    rss_big: float

    def table(self) -> list[str]:
        def row(name: str, d: Download, rss: float) -> str:
            return (
                f"| {name} | {d.rows:,} | {d.seconds:.2f} s | {d.rows_per_s:,.0f} "
                f"| {d.ttfb_ms:.1f} ms | {d.first_row_ms:,.0f} ms | {rss:.1f} MiB |"
            )

        baseline = self.baseline_rows / self.baseline_s
        return [
            "| measurement | rows | time | rows/s | first byte | first row | server peak RSS |",
            "|---|---|---|---|---|---|---|",
            f"| `sqlite3 -csv`, same report query (baseline) | {self.baseline_rows:,} "
            f"| {self.baseline_s:.2f} s | {baseline:,.0f} | | | |",
            f"| server started, before any export (RSS) | | | | | | {self.rss_idle:.1f} MiB |",
            row("HTTP export, one group (fresh server)", self.part, self.rss_small),
            row("HTTP export, every group (fresh server)", self.full, self.rss_big),
        ]

    def verdicts(self) -> list[tuple[str, str, str, bool]]:
        ratio = self.full.rows_per_s / (self.baseline_rows / self.baseline_s)
        ttfb = max(self.part.ttfb_ms, self.full.ttfb_ms)
        rss_ratio = self.rss_big / self.rss_small
        return [
            ("throughput vs `sqlite3 -csv`", f"{ratio:.2f}x", ">= 0.6x", ratio >= 0.6),
            ("time to first byte (worst)", f"{ttfb:.1f} ms", "< 100 ms", ttfb < 100),
            ("peak RSS, 1M rows / 100k rows", f"{rss_ratio:.2f}x", "<= 1.1x", rss_ratio <= 1.1),
        ]


def alternate(port: int, token: str, sql: str, rounds: int) -> tuple[int, float, Download]:
    """`rounds` pairs of (`sqlite3 -csv`, full HTTP export), the order flipping each round so
    a shared machine's load falls on both alike; the medians (baseline rows and seconds, and
    the export of median duration)."""
    shells: list[tuple[int, float]] = []
    exports: list[Download] = []
    for round_ in range(rounds):
        steps = ["shell", "http"] if round_ % 2 == 0 else ["http", "shell"]
        for step in steps:
            if step == "shell":
                shells.append(sqlite3_shell(sql))
            else:
                exports.append(download(port, token, []))
        shell_s, export = shells[-1][1], exports[-1]
        print(f"round {round_ + 1}: sqlite3 -csv {shell_s:.2f} s, HTTP {export.seconds:.2f} s")
    shells.sort(key=lambda r: r[1])
    exports.sort(key=lambda d: d.seconds)
    rows, seconds = shells[len(shells) // 2]
    return rows, seconds, exports[len(exports) // 2]


def measure(rounds: int) -> Figures:
    summary = build()
    token = asyncio.run(_owner_token())
    print(f"world: {summary['report_rows']:,} report rows, {summary['enrollments']:,} enrollments")
    sql = report_sql()
    with server() as fresh:
        startup_peak, rss_idle = fresh.peak_rss_mb(), fresh.rss_mb()
        fresh.reset_peak()
        part = download(fresh.port, token, [("groupId", str(to_global_id("Group", 1)))])
        rss_small = fresh.peak_rss_mb()
    with server() as fresh:
        fresh.reset_peak()
        # Every full export on one fresh server: its peak RSS covers them all.
        baseline_rows, baseline_s, full = alternate(fresh.port, token, sql, rounds)
        rss_big = fresh.peak_rss_mb()
    print(f"server RSS before exporting {rss_idle:.1f} MiB (start-up peak {startup_peak:.1f} MiB)")
    if full.rows != baseline_rows:
        raise SystemExit(f"row counts differ: HTTP {full.rows:,}, sqlite3 {baseline_rows:,}")
    return Figures(summary, baseline_rows, baseline_s, part, full, rss_idle, rss_small, rss_big)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record the figures in BENCHMARKS.md")
    parser.add_argument("--rounds", type=int, default=3, help="alternating pairs (medians)")
    args = parser.parse_args()
    figures = measure(args.rounds)
    print("\n".join(figures.table()))
    for name, value, target, ok in figures.verdicts():
        print(f"{name:<32} {value:>9}  target {target:<9} {'met' if ok else 'MISSED'}")
    if args.write:
        write_benchmarks(figures)


INTRO = (
    "# Benchmarks\n\nFigures from `bench/`; each is compared with a baseline measured in the "
    "same run.\n"
)


def write_benchmarks(figures: Figures) -> None:
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else INTRO
    section = "\n".join(
        [
            "## CSV export",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, by "
            "`.venv/bin/python -m bench.export --write`.",
            f"World: the demo generator at scale ({SPEC.students:,} students, {SPEC.groups} "
            f"groups, {SPEC.courses} courses, 1-{SPEC.max_courses_per_student} courses each): "
            f"{figures.summary['report_rows']:,} report rows in a SQLite file; the real server "
            "(one uvicorn worker) on 127.0.0.1; the client counts rows as they arrive.",
            "",
            *figures.table(),
            "",
            "| ratio | value | target | |",
            "|---|---|---|---|",
            *(
                f"| {name} | {value} | {target} | {'met' if ok else 'missed'} |"
                for name, value, target, ok in figures.verdicts()
            ),
            "",
            "Peak RSS is the server's `VmHWM` during the export: a fresh process per row count, "
            "its start-up peak cleared first (`/proc/<pid>/clear_refs`; the Argon2 dummy hash "
            "computed at import peaks at about 130 MiB and would hide the export). First byte and "
            "first row are timed by the client from sending the request; the first row waits "
            "for the database to sort the whole report (same in the baseline).",
            "",
            "Reproduce: `.venv/bin/python -m bench.export` (add `--write` to update this "
            "section). The first run builds `bench/out/export-1m.db` (about a minute) and later "
            "runs reuse it; the baseline needs the `sqlite3` shell (`apt-get install sqlite3`).",
            "",
        ]
    )
    start = text.find("## CSV export")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
