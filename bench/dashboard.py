"""The analyst dashboard query: latency and SQL statements, small world vs large world.

    .venv/bin/python -m bench.dashboard [--small 10] [--large 2000] [--runs 20]

Each world is built in its own temporary SQLite database (the shape of `tests/bulk.py`:
four groups, the analyst on two of them, three courses, everyone enrolled in all three).
The query is the dashboard with `members(first: 100)`, so the large world answers
200 members (the page size caps it) against 6 in the small one. Prints the median and
p90 latency of `runs` requests after one warm-up, the statement count, and large/small ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import event

from app.db import Database
from app.main import create_app
from app.migrate import upgrade_async
from app.settings import Settings
from tests import bulk
from tests.support import Api, World
from tests.test_read_batching import DASHBOARD, count_statements


class SqlClock:
    """Wall time spent inside cursor executions (statement sent to rows fetched by the driver)."""

    def __init__(self, db: Database) -> None:
        self.total = 0.0
        self._started: list[float] = []
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_args: object) -> None:
        self._started.append(time.perf_counter())

    def _after(self, *_args: object) -> None:
        self.total += time.perf_counter() - self._started.pop()


async def measure(students: int, runs: int, workdir: Path) -> tuple[float, float, int, float]:
    url = f"sqlite+aiosqlite:///{workdir / f'bench-{students}.db'}"
    await upgrade_async(url)
    db = Database.from_url(url)
    try:
        world = await World.create(db)
        built = await bulk.build(world, students=students)
        token = await world.token(built.analyst)
        app = create_app(Settings(database_url=url, secret_key="bench"), db)  # noqa: S106
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            api = Api(client)
            await api.data(DASHBOARD, token=token)  # warm-up
            with count_statements(db) as statements:
                await api.data(DASHBOARD, token=token)
            timings = []
            clock = SqlClock(db)
            for _ in range(runs):
                start = time.perf_counter()
                await api.data(DASHBOARD, token=token)
                timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        p90 = timings[min(len(timings) - 1, int(len(timings) * 0.9))]
        return statistics.median(timings), p90, len(statements), clock.total * 1000 / runs
    finally:
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = await measure(args.small, args.runs, Path(tmp))
        large = await measure(args.large, args.runs, Path(tmp))
    print(f"{'students':>9} {'median ms':>10} {'p90 ms':>8} {'SQL ms/req':>11} {'statements':>11}")
    for students, (median, p90, count, sql) in ((args.small, small), (args.large, large)):
        print(f"{students:>9} {median:>10.1f} {p90:>8.1f} {sql:>11.1f} {count:>11}")
    print(
        f"ratio large/small: latency x{large[0] / small[0]:.2f}, "
        f"statements x{large[2] / small[2]:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
