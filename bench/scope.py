"""What computing an analyst's `AccessScope` costs per request, by world size.

    .venv/bin/python -m bench.scope [--students 2000 20000] [--runs 200]
    tests/with_postgres.sh .venv/bin/python -m bench.scope --backend postgresql

For each size, builds the world of `tests/bulk.py` (four groups, the analyst on two, so it
analyses half the students) in a fresh database and times `permissions.policy.load_scope` for
the analyst, `runs` times, in-process; prints the median and p90 in milliseconds and the
number of statements. The baseline, measured in the same run, is one `SELECT 1` through the
same database pool: what any statement costs, whatever it reads.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import sqlalchemy as sa

from app.auth import viewer_by_id
from app.db import Database
from bench.harness import database, median, quantile
from permissions.policy import load_scope
from tests import bulk
from tests.support import World
from tests.test_read_batching import count_statements


async def _times(runs: int, work: Callable[[], Awaitable[None]]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await work()
        times.append((time.perf_counter() - start) * 1000)
    return times


async def measure(backend: str, students: int, runs: int) -> list[str]:
    async with database(backend) as url:
        db = Database.from_url(url)
        try:
            world = await World.create(db)
            built = await bulk.build(world, students=students)
            assert built.analyst.id is not None
            viewer = await viewer_by_id(db, built.analyst.id)
            assert viewer is not None

            async def scope() -> None:
                await load_scope(db, viewer)

            async def select_one() -> None:
                async with db.read() as session:
                    await session.execute(sa.text("SELECT 1"))

            with count_statements(db) as statements:
                await scope()
            scope_ms: list[float] = []
            one_ms: list[float] = []
            # Alternate in blocks of ten, so a shared machine slows both alike.
            for _ in range(max(1, runs // 10)):
                scope_ms += await _times(10, scope)
                one_ms += await _times(10, select_one)
        finally:
            await db.dispose()
    return [
        backend,
        f"{students:,}",
        f"{median(scope_ms):.2f}",
        f"{quantile(scope_ms, 0.9):.2f}",
        f"{median(one_ms):.2f}",
        f"{median(scope_ms) / median(one_ms):.1f}x",
        str(len(statements)),
    ]


HEADER = ["backend", "students", "scope p50 ms", "p90", "SELECT 1 p50", "ratio", "statements"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--students", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    rows = [await measure(args.backend, n, args.runs) for n in args.students]
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    asyncio.run(main())
