"""Do workers share the load? Keep-alive throughput, 2 workers against 1, same run.

    .venv/bin/python -m bench.workers [--backend sqlite] [--seconds 8] [--rounds 3]
    tests/with_postgres.sh .venv/bin/python -m bench.workers --backend postgresql

Servers on one database (loopback): 1 worker and 2 workers of `app.serving` (one
`SO_REUSEPORT` socket each, what `groupanalyst serve --workers 2` runs) and, with
`--uvicorn`, 2 workers of uvicorn's own `--workers` (one shared socket) for reference. 16
keep-alive clients ask each server in turn for `seconds`, `rounds` times, two things: the
product's dashboard, and the one-statement baseline route (`bench.baseline`, served by the
same workers). The baseline's 2/1 ratio is what this machine lets any server reach: it does
almost nothing per request beyond HTTP, so whatever stops it doubling (the CPUs other work
takes, the load generator's own share) stops the product too.

Prints, per server and target, the median requests/s, the ratio to 1 worker, how the CPU
the server used was split between its workers (100%: one worker did all the work), the
CPUs the server and the load generator used (1.00 = one CPU busy all the time), and the
load average before and after. The load generator is this process (a lean asyncio HTTP/1.1
client, `bench.harness.Client`); its CPU time is measured, not guessed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

from bench.harness import BenchWorld, build_world, database, median, server, worker_cpu_seconds
from bench.load import BASELINE, PRODUCT, Target, load

TARGETS: dict[str, Target] = {"dashboard (product)": PRODUCT, "baseline route": BASELINE}


@dataclass
class Cell:
    """One (server, target): its measurements over the rounds."""

    rates: list[float] = field(default_factory=list)
    busiest: list[float] = field(default_factory=list)
    server_cpus: list[float] = field(default_factory=list)
    client_cpus: list[float] = field(default_factory=list)


async def _measure(
    port: int, world: BenchWorld, target: Target, seconds: float, cell: Cell
) -> None:
    cpu = worker_cpu_seconds(port)
    client_cpu, wall = time.process_time(), time.perf_counter()
    done = await load(port, world, target, 16, seconds, True, False)
    wall = time.perf_counter() - wall
    used = [b - a for a, b in zip(cpu, worker_cpu_seconds(port), strict=True)]
    cell.rates.append(done.rate)
    cell.busiest.append(max(used) / (sum(used) or 1))
    cell.server_cpus.append(sum(used) / wall)
    cell.client_cpus.append((time.process_time() - client_cpu) / wall)


def _servers(stack: ExitStack, url: str, uvicorn: bool) -> dict[str, int]:
    ports = {
        "1 worker": stack.enter_context(server(url, 1)),
        "2 workers (SO_REUSEPORT)": stack.enter_context(server(url, 2)),
    }
    if uvicorn:
        ports["2 workers (uvicorn --workers)"] = stack.enter_context(
            server(url, 2, args=["--uvicorn-workers"])
        )
    return ports


async def run(backend: str, students: int, seconds: float, rounds: int, uvicorn: bool) -> None:
    async with database(backend) as url:
        world = await build_world(url, students)
        with ExitStack() as stack:
            ports = _servers(stack, url, uvicorn)
            cells = {(s, t): Cell() for s in ports for t in TARGETS}
            load_before = os.getloadavg()[0]
            for _ in range(rounds):
                for name, port in ports.items():
                    for target_name, target in TARGETS.items():
                        await _measure(port, world, target, seconds, cells[(name, target_name)])
            load_after = os.getloadavg()[0]
    print(
        f"{backend}, 16 keep-alive clients, {rounds} rounds of {seconds:.0f} s each, "
        f"{os.cpu_count()} CPUs, load average {load_before:.1f} before, {load_after:.1f} after"
    )
    print(
        "| target | server | req/s (median) | / 1 worker | busiest worker's share "
        "| server CPUs used | load generator CPUs used |"
    )
    print("|---|---|---|---|---|---|---|")
    for target_name in TARGETS:
        one = median(cells[("1 worker", target_name)].rates)
        for name in ports:
            cell = cells[(name, target_name)]
            rate = median(cell.rates)
            print(
                f"| {target_name} | {name} | {rate:.1f} | {rate / one:.2f}x "
                f"| {median(cell.busiest):.0%} | {median(cell.server_cpus):.2f} "
                f"| {median(cell.client_cpus):.2f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--uvicorn", action="store_true", help="also uvicorn's own --workers")
    args = parser.parse_args()
    asyncio.run(run(args.backend, args.students, args.seconds, args.rounds, args.uvicorn))


if __name__ == "__main__":
    main()
