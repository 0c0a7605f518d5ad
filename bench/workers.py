"""Do workers share the load? Keep-alive dashboard throughput, 2 workers against 1, same run.

    .venv/bin/python -m bench.workers [--backend sqlite] [--seconds 8] [--rounds 3]
    tests/with_postgres.sh .venv/bin/python -m bench.workers --backend postgresql

Three servers on one database (loopback): 1 worker, 2 workers of `app.serving` (one
`SO_REUSEPORT` socket each, what `groupanalyst serve --workers 2` runs) and, for reference,
2 workers of uvicorn's own `--workers` (one shared socket). 16 keep-alive clients ask the
product's dashboard for `seconds` against each in turn, `rounds` times; prints the median
requests/s of each, the ratios to 1 worker, and how the CPU the server used was split
between its workers (100%: one worker did all the work). On a machine shared with other
work a second worker only gains the CPU the others leave, so the ratio is bounded by that.
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import ExitStack

from bench.harness import build_world, database, median, server, worker_cpu_seconds
from bench.load import PRODUCT, load


async def run(backend: str, students: int, seconds: float, rounds: int) -> None:
    async with database(backend) as url:
        world = await build_world(url, students)
        with ExitStack() as stack:
            ports = {
                "1 worker": stack.enter_context(server(url, 1)),
                "2 workers (SO_REUSEPORT)": stack.enter_context(server(url, 2)),
                "2 workers (uvicorn --workers)": stack.enter_context(
                    server(url, 2, args=["--uvicorn-workers"])
                ),
            }
            rates: dict[str, list[float]] = {name: [] for name in ports}
            busiest: dict[str, list[float]] = {name: [] for name in ports}
            for _ in range(rounds):
                for name, port in ports.items():
                    cpu = worker_cpu_seconds(port)
                    done = await load(port, world, PRODUCT, 16, seconds, True, False)
                    used = [b - a for a, b in zip(cpu, worker_cpu_seconds(port), strict=True)]
                    rates[name].append(done.rate)
                    busiest[name].append(max(used) / (sum(used) or 1))
    one = median(rates["1 worker"])
    print(f"{backend}, 16 keep-alive clients, {rounds} rounds of {seconds:.0f} s each")
    print("| server | req/s (median) | / 1 worker | busiest worker's share of the CPU used |")
    print("|---|---|---|---|")
    for name, values in rates.items():
        share = median(busiest[name])
        print(f"| {name} | {median(values):.1f} | {median(values) / one:.2f}x | {share:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.backend, args.students, args.seconds, args.rounds))


if __name__ == "__main__":
    main()
