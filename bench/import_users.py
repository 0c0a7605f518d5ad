"""CSV import benchmark: `.venv/bin/python -m bench.import_users [--rows N] [--write]`.

In one run, each on a fresh SQLite database (migrated, one site and its owner), runs
`groupanalyst import users FILE.csv` as a separate process, as an operator would:
- a small file (a tenth of the rows: the baseline) and the full file (default 100,000 rows),
  each user with a company and a role;
- the full file again on the database it filled (every row unchanged: the idempotent re-run).
Prints, for each, rows, seconds, rows/s and the process's peak RSS (`ru_maxrss` from
`wait4`), and the ratios: rows/s of the full file against the small one (target >= 0.8: no
slowdown as the file grows) and peak RSS (target <= 1.2x: memory does not grow with the
file). `--write` also records them in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app import accounts
from app.db import Database
from app.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


@dataclass
class Result:
    label: str
    rows: int
    seconds: float
    peak_rss_mib: float
    summary: str

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def fresh_database(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)

    async def init() -> None:
        db = Database.from_url(url)
        try:
            async with db.write() as session:
                await accounts.create_site(
                    session,
                    site_name="Bench Academy",
                    plan="PREMIER",
                    owner_email="owner@bench.example",
                    owner_first_name="Olive",
                    owner_last_name="Owner",
                    owner_password=None,
                )
        finally:
            await db.dispose()

    asyncio.run(init())
    return url


def write_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Student First Name,Student Last Name,Student Email,Company,Roles\r\n")
        for i in range(rows):
            out.write(f"First{i},Last{i},student{i}@bench.example,Company {i % 97},STUDENT\r\n")
    return path


def run_import(label: str, url: str, csv_path: Path, rows: int) -> Result:
    """The command as a child process; its own peak RSS from `wait4` (not a running max)."""
    env = {**os.environ, "DATABASE_URL": url}
    out_path, err_path = OUT / "import.out", OUT / "import.err"
    started = time.perf_counter()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "app", "import", "users", str(csv_path)],
            env=env,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{label}: import failed: {err_path.read_text()[-2000:]}")
    summary = out_path.read_text().strip().splitlines()[-1]
    return Result(label, rows, seconds, usage.ru_maxrss / 1024, summary)


def measure(rows: int) -> list[Result]:
    OUT.mkdir(parents=True, exist_ok=True)
    small_rows = max(rows // 10, 1)
    small = run_import(
        f"{small_rows:,} new users (baseline)",
        fresh_database(OUT / "import-small.db"),
        write_csv(OUT / "import-small.csv", small_rows),
        small_rows,
    )
    url = fresh_database(OUT / "import-full.db")
    full_csv = write_csv(OUT / "import-full.csv", rows)
    full = run_import(f"{rows:,} new users", url, full_csv, rows)
    again = run_import(f"{rows:,} users again (all unchanged)", url, full_csv, rows)
    return [small, full, again]


def report(results: list[Result]) -> list[str]:
    small, full, again = results
    lines = [
        "| run | rows | seconds | rows/s | peak RSS | summary |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.label} | {r.rows:,} | {r.seconds:.1f} | {r.rate:,.0f} | {r.peak_rss_mib:.1f} MiB "
        f"| {r.summary} |"
        for r in results
    ]
    rate_ratio = full.rate / small.rate
    rss_ratio = full.peak_rss_mib / small.peak_rss_mib
    lines += [
        "",
        "| ratio | value | target | |",
        "|---|---|---|---|",
        f"| rows/s, full file / small file | {rate_ratio:.2f}x | >= 0.8x | "
        f"{'met' if rate_ratio >= 0.8 else 'NOT met'} |",
        f"| peak RSS, full file / small file | {rss_ratio:.2f}x | <= 1.2x | "
        f"{'met' if rss_ratio <= 1.2 else 'NOT met'} |",
        f"| re-run (unchanged) rows/s / first run | {again.rate / full.rate:.2f}x | | |",
    ]
    return lines


def machine() -> str:
    load = os.getloadavg()[0]
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
        f"({platform.machine()}), Python {platform.python_version()}, SQLite; load average "
        f"{load:.1f} when done (the machine may be shared), by "
        "`.venv/bin/python -m bench.import_users --write`."
    )


def write(lines: list[str]) -> None:
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text()
    heading = "## CSV import (issue 11)"
    section = "\n".join([heading, "", machine(), "", *lines, ""]) + "\n"
    if heading in text:
        before, rest = text.split(heading, 1)
        after = rest.split("\n## ", 1)
        text = before + section + ("## " + after[1] if len(after) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="record in BENCHMARKS.md")
    args = parser.parse_args()
    lines = report(measure(args.rows))
    print(machine())
    print("\n".join(lines))
    if args.write:
        write(lines)


if __name__ == "__main__":
    main()
