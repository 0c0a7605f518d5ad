"""CSV export on PostgreSQL against `psql \\copy`, same run:

    tests/with_postgres.sh .venv/bin/python -m bench.export_pg [--students 100000]

Loads the demo generator's world (`--students`, 10 groups, 8 courses, 1-4 each: about 2.7
report rows per student) into a fresh database on the cluster of `tests/with_postgres.sh`,
then, alternately (`--rounds`, the order flipping each round; medians): `psql -c "\\copy
(<the report query>) TO STDOUT WITH CSV"` counting rows, and the site owner's export over
HTTP from the real server (one worker, 127.0.0.1). Prints rows/s of both and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import time
from datetime import timedelta

from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from app import accounts, tokens
from app.db import Database
from app.demo import DemoSpec, load_demo
from app.models import utcnow
from app.report import ProgressFilter, report_rows
from bench.export import download
from bench.harness import database, server
from permissions.policy import system_scope


def report_sql() -> str:
    statement = report_rows(system_scope(), ProgressFilter())
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def psql_copy(url: str, sql: str) -> tuple[int, float]:
    """(rows, seconds) for psql's `\\copy ... TO STDOUT WITH CSV` into a pipe we count."""
    psql = shutil.which("psql")
    if psql is None:
        raise SystemExit("needs psql (apt-get install postgresql-client)")
    parsed = make_url(url)
    host = str(parsed.query.get("host", "localhost"))
    command = [
        psql,
        "-X",
        "-q",
        "-h",
        host,
        "-p",
        str(parsed.query.get("port", parsed.port or 5432)),
        "-U",
        parsed.username or "postgres",
        "-d",
        parsed.database or "postgres",
        "-c",
        f"\\copy ({sql}) TO STDOUT WITH CSV",
    ]
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE) as proc:
        out = proc.stdout
        assert out is not None
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: out.read(1 << 16), b""))
    return rows, time.perf_counter() - started


async def _load(url: str, students: int) -> str:
    db = Database.from_url(url)
    try:
        spec = DemoSpec(students=students, groups=10, courses=8, max_courses_per_student=4)
        await load_demo(db, spec, show_progress=False)
        async with db.write() as session:
            owner = await accounts.user_by_email(session, "owner@example.com")
            assert owner is not None and owner.id is not None
            issued = await tokens.issue(
                session, user_id=owner.id, name="bench", expires_at=utcnow() + timedelta(hours=2)
            )
        return issued.secret
    finally:
        await db.dispose()


async def run(students: int, rounds: int) -> None:
    async with database("postgresql") as url:
        token = await _load(url, students)
        sql = report_sql()
        with server(url) as port:
            copies, exports = [], []
            for round_ in range(rounds):
                # The order flips each round, so a shared machine's load falls on both alike.
                if round_ % 2 == 0:
                    copies.append(psql_copy(url, sql))
                exports.append(download(port, token, []))
                if round_ % 2 == 1:
                    copies.append(psql_copy(url, sql))
                psql_s, http_s = copies[-1][1], exports[-1].seconds
                print(f"round {round_ + 1}: psql {psql_s:.2f} s, HTTP {http_s:.2f} s")
    copies.sort(key=lambda c: c[1])
    exports.sort(key=lambda d: d.seconds)
    rows, seconds = copies[len(copies) // 2]
    median = exports[len(exports) // 2]
    if median.rows != rows:
        raise SystemExit(f"row counts differ: HTTP {median.rows:,}, psql {rows:,}")
    print(f"PostgreSQL, {rows:,} report rows, medians of {rounds} alternating rounds")
    print("| measurement | rows/s | time |")
    print("|---|---|---|")
    baseline = rows / seconds
    print(f"| `psql \\copy` of the report query (baseline) | {baseline:,.0f} | {seconds:.2f} s |")
    print(f"| HTTP export, every group | {median.rows_per_s:,.0f} | {median.seconds:.2f} s |")
    print(f"ratio export / psql \\copy: {median.rows_per_s / baseline:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.students, args.rounds))


if __name__ == "__main__":
    main()
