"""A change measured against an earlier commit in the same run: the dashboard over HTTP.

    .venv/bin/python -m bench.compare --before main [--after HEAD] [--runs 100] [--workers 1]

Extracts the code of `--before` (app, resolvers, permissions, loaders, migrations; `bench/`
and `tests/` from the working tree, so both serve the same baseline route) into a temporary
directory and serves it next to the working tree's code, both on one database with the
world of `bench.dashboard`. Requests alternate between the two servers and the
one-statement baseline (order rotating), so a shared, noisy machine slows all three alike;
prints p50/p90/p99 of each and the after/before ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import shutil
import subprocess
import tarfile
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.harness import ROOT, Client, build_world, database, median, quantile, server
from tests.test_read_batching import DASHBOARD

CODE = ["app", "resolvers", "permissions", "loaders", "migrations"]


def extract(rev: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "archive", rev, *CODE], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    for tree in ("bench", "tests"):
        shutil.copytree(ROOT / tree, into / tree, ignore=shutil.ignore_patterns("out"))


async def _timed(client: Client, path: str, payload: dict[str, Any], token: str) -> float:
    start = time.perf_counter()
    await client.post(path, payload, token)
    return (time.perf_counter() - start) * 1000


async def run(
    before: str, after: str | None, runs: int, students: int, workers: int, args: Any
) -> None:
    query = {"query": DASHBOARD}
    async with database("sqlite") as url:
        world = await build_world(url, students)
        token = world.analyst_token
        with ExitStack() as stack:
            old_code = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            extract(before, old_code)
            new_code = None
            if after is not None:
                new_code = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                extract(after, new_code)
            old = stack.enter_context(
                server(url, workers, code=old_code, args=args.before_args.split())
            )
            new = stack.enter_context(
                server(url, workers, code=new_code, args=args.after_args.split())
            )
            targets = {
                "before": (Client(old), "/graphql", query),
                "after": (Client(new), "/graphql", query),
                "baseline": (Client(new), "/bench/dashboard", {}),
            }
            times: dict[str, list[float]] = {name: [] for name in targets}
            names = list(targets)
            for i in range(runs + 5):
                for name in names[i % 3 :] + names[: i % 3]:
                    client, path, payload = targets[name]
                    took = await _timed(client, path, payload, token)
                    if i >= 5:  # the first rounds warm up
                        times[name].append(took)
            for client, _, _ in targets.values():
                await client.close()
    print(f"{runs} requests each, ms (before = {before}, after = {after or 'working tree'})")
    print("| code | p50 | p90 | p99 | p50 / baseline p50 | p90 / own p50 |")
    print("|---|---|---|---|---|---|")
    base = median(times["baseline"])
    for name, t in times.items():
        p50 = median(t)
        print(
            f"| {name} | {p50:.1f} | {quantile(t, 0.9):.1f} | {quantile(t, 0.99):.1f} "
            f"| {p50 / base:.2f}x | {quantile(t, 0.9) / p50:.2f}x |"
        )
    ratio = median(times["after"]) / median(times["before"])
    print(f"after/before p50: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--before", default="main")
    parser.add_argument("--after", help="a commit (default: the working tree)")
    parser.add_argument("--before-args", default="", help='e.g. "--loop asyncio --http h11"')
    parser.add_argument("--after-args", default="", help="options of bench.serve")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run(args.before, args.after, args.runs, args.students, args.workers, args))


if __name__ == "__main__":
    main()
