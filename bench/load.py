"""Throughput of the analyst dashboard under 16 concurrent clients, product against baseline.

    .venv/bin/python -m bench.load [--backend sqlite] [--workers 1] [--seconds 5] [--rounds 2]
    tests/with_postgres.sh .venv/bin/python -m bench.load --backend postgresql --workers 2

Same world and server as `bench.dashboard` (loopback only). For each case, `clients`
concurrent clients ask the dashboard as fast as they get answers for `seconds`, first from
the product (`/graphql`), then from the one-statement baseline (`/bench/dashboard`), and again
for `rounds` rounds; the figures are medians over rounds. Cases: keep-alive connections or
a new connection per request, each read-only or mixed (4 students calling `completeLesson`
on the side, each as fast as answered). Prints requests/s, the clients' p50/p90 latency, the
writes/s of the mixed cases and product/baseline ratios. Every run is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from bench.harness import BenchWorld, Client, build_world, database, median, quantile, server
from tests.test_read_batching import DASHBOARD

COMPLETE = """
mutation Complete($lesson: ID!) { completeLesson(input: {lessonId: $lesson}) { changed } }
"""
Target = tuple[str, dict[str, Any]]
PRODUCT: Target = ("/graphql", {"query": DASHBOARD})
BASELINE: Target = ("/bench/dashboard", {})


@dataclass
class Run:
    requests: int = 0
    writes: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def write_rate(self) -> float:
        return self.writes / self.seconds


async def _reader(
    port: int,
    target: tuple[str, dict[str, Any]],
    token: str,
    keep_alive: bool,
    stop: float,
    run: Run,
) -> None:
    client = Client(port, keep_alive=keep_alive)
    path, payload = target
    try:
        while (now := time.perf_counter()) < stop:
            await client.post(path, payload, token)
            run.latencies.append((time.perf_counter() - now) * 1000)
            run.requests += 1
    finally:
        await client.close()


async def _writer(port: int, token: str, lessons: list[str], stop: float, run: Run) -> None:
    """Completes the student's lessons in turn (each a write transaction; repeats after all)."""
    client = Client(port)
    try:
        while time.perf_counter() < stop:
            lesson = lessons[run.writes % len(lessons)]
            payload = {"query": COMPLETE, "variables": {"lesson": lesson}}
            answer = json.loads(await client.post("/graphql", payload, token))
            if answer.get("errors"):
                raise RuntimeError(f"completeLesson failed: {answer['errors']}")
            run.writes += 1
    finally:
        await client.close()


async def load(
    port: int,
    world: BenchWorld,
    target: tuple[str, dict[str, Any]],
    clients: int,
    seconds: float,
    keep_alive: bool,
    mixed: bool,
) -> Run:
    run = Run()
    start = time.perf_counter()
    stop = start + seconds
    tasks = [
        _reader(port, target, world.analyst_token, keep_alive, stop, run) for _ in range(clients)
    ]
    if mixed:
        tasks += [_writer(port, token, lesson, stop, run) for token, lesson in world.writers]
    await asyncio.gather(*tasks)
    # Requests still in flight at `stop` finish and count: divide by the real duration.
    run.seconds = time.perf_counter() - start
    return run


@dataclass
class Case:
    keep_alive: bool
    mixed: bool
    product: list[Run] = field(default_factory=list)
    baseline: list[Run] = field(default_factory=list)

    @property
    def name(self) -> str:
        conn = "keep-alive" if self.keep_alive else "new connections"
        return f"{conn}, {'mixed (writers)' if self.mixed else 'read-only'}"

    def row(self, backend: str, workers: int) -> str:
        def rate(runs: list[Run]) -> float:
            return median([r.rate for r in runs])

        def lat(runs: list[Run], q: float) -> float:
            return quantile([x for r in runs for x in r.latencies], q)

        writes = f"{median([r.write_rate for r in self.product]):.1f}" if self.mixed else ""
        return (
            f"| {backend} | {workers} | {self.name} | {rate(self.product):.1f} "
            f"| {lat(self.product, 0.5):.0f} / {lat(self.product, 0.9):.0f} | {writes} "
            f"| {rate(self.baseline):.1f} | {lat(self.baseline, 0.5):.0f} "
            f"| 1/{rate(self.baseline) / rate(self.product):.1f} |"
        )


HEADER = (
    "| backend | workers | connections, load | product req/s | product p50 / p90 ms "
    "| writes/s | baseline req/s | baseline p50 ms | product/baseline |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


async def measure(
    backend: str,
    workers: int,
    students: int,
    clients: int,
    seconds: float,
    rounds: int,
    cases: list[Case],
    serve_args: list[str],
) -> list[str]:
    async with database(backend) as url:
        world = await build_world(url, students)
        with server(url, workers=workers, args=serve_args) as port:
            await load(port, world, PRODUCT, 2, 1.0, True, False)  # warm-up
            for case in cases:
                for _ in range(rounds):
                    for target, runs in ((PRODUCT, case.product), (BASELINE, case.baseline)):
                        runs.append(
                            await load(
                                port, world, target, clients, seconds, case.keep_alive, case.mixed
                            )
                        )
                print(case.row(backend, workers), flush=True)
    return [case.row(backend, workers) for case in cases]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--case",
        choices=["all", "keep-alive", "read"],
        default="all",
        help="keep-alive: keep-alive read-only only; read: both read-only",
    )
    parser.add_argument(
        "--serve-args", default="", help='bench.serve options, e.g. "--loop asyncio"'
    )
    args = parser.parse_args()
    cases = [Case(keep_alive=True, mixed=False)]
    if args.case in ("all", "read"):
        cases.append(Case(keep_alive=False, mixed=False))
    if args.case == "all":
        cases += [Case(keep_alive=True, mixed=True), Case(keep_alive=False, mixed=True)]
    print(HEADER, flush=True)
    asyncio.run(
        measure(
            args.backend,
            args.workers,
            args.students,
            args.clients,
            args.seconds,
            args.rounds,
            cases,
            args.serve_args.split(),
        )
    )


if __name__ == "__main__":
    main()
