"""The analyst dashboard over HTTP: the product against a one-statement baseline, same run.

    .venv/bin/python -m bench.dashboard [--students 2000] [--runs 200] [--backend sqlite]
    tests/with_postgres.sh .venv/bin/python -m bench.dashboard --backend postgresql

Builds the world of `tests/bulk.py` (four groups, the analyst on two, three courses) in a
fresh database, serves it with `bench.serve` (the product plus the baseline route of
`bench.baseline`) on 127.0.0.1, and asks the README's analyst dashboard
(`tests.test_read_batching.DASHBOARD`, `members(first: 100)`: 2 groups, 200 members, 600
progress rows at 2,000 students) over one keep-alive connection. First it checks that the
product and the baseline answer the same (parsed JSON equal); then it alternates the two,
`runs` requests each, in pairs whose order flips, and prints p50/p90/p99 of both and their
ratios. The machine may be shared: only ratios measured in the same run mean anything.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from app.db import Database
from app.main import create_app
from app.settings import Settings
from bench.harness import BENCH_SECRET, Client, build_world, database, median, quantile, server
from tests.support import Api, sealed_as_plain
from tests.test_read_batching import DASHBOARD, count_statements


@dataclass
class Latency:
    backend: str
    statements: int
    size_kb: float
    product: list[float]
    baseline: list[float]

    def row(self) -> list[str]:
        p, b = self.product, self.baseline
        return [
            self.backend,
            *(f"{quantile(p, q):.1f}" for q in (0.5, 0.9, 0.99)),
            *(f"{quantile(b, q):.1f}" for q in (0.5, 0.9, 0.99)),
            f"{median(p) / median(b):.2f}x",
            f"{quantile(p, 0.9) / median(p):.2f}x",
            str(self.statements),
        ]


HEADER = [
    "backend",
    "product p50",
    "p90",
    "p99",
    "baseline p50",
    "p90",
    "p99",
    "p50 product/baseline",
    "product p90/p50",
    "statements",
]


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two parsed JSON values differ (None when equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != {list(b)}"
        for key in a:
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def plain_cursors(value: Any) -> Any:
    """The baseline's answer with its cursors (base64 JSON: the baseline cannot seal them in
    SQL; two cursors, a negligible cost) as the positions they name, as `sealed_as_plain`
    shows the product's (AES-GCM, random nonces)."""
    if isinstance(value, dict):
        return {
            k: {"cursor": json.loads(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)))}
            if k == "endCursor" and isinstance(v, str)
            else plain_cursors(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [plain_cursors(item) for item in value]
    return value


async def statements_per_request(url: str, token: str) -> int:
    db = Database.from_url(url)
    try:
        app = create_app(
            Settings(
                database_url=url,
                secret_key=BENCH_SECRET,
                # As the server runs (GROUPANALYST_COMPILED_READS, or --no-compiled-reads).
                compiled_reads=Settings.from_env().compiled_reads,
            ),
            db,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            api = Api(client)
            await api.data(DASHBOARD, token=token)
            with count_statements(db) as statements:
                await api.data(DASHBOARD, token=token)
        return len(statements)
    finally:
        await db.dispose()


async def _timed(client: Client, path: str, payload: dict[str, Any], token: str) -> float:
    start = time.perf_counter()
    await client.post(path, payload, token)
    return (time.perf_counter() - start) * 1000


async def measure(backend: str, students: int, runs: int) -> Latency:
    async with database(backend) as url:
        world = await build_world(url, students)
        token = world.analyst_token
        statements = await statements_per_request(url, token)
        with server(url) as port:
            client = Client(port)
            query = {"query": DASHBOARD}
            product = json.loads(await client.post("/graphql", query, token))
            raw = await client.post("/bench/dashboard", {}, token)
            difference = first_difference(
                sealed_as_plain({"data": product["data"]}), plain_cursors(json.loads(raw))
            )
            if difference:
                raise SystemExit(f"the baseline does not answer like the product: {difference}")
            for _ in range(5):
                await client.post("/graphql", query, token)
                await client.post("/bench/dashboard", {}, token)
            a: list[float] = []
            b: list[float] = []
            for i in range(runs):
                if i % 2:
                    a.append(await _timed(client, "/graphql", query, token))
                    b.append(await _timed(client, "/bench/dashboard", {}, token))
                else:
                    b.append(await _timed(client, "/bench/dashboard", {}, token))
                    a.append(await _timed(client, "/graphql", query, token))
            await client.close()
    return Latency(backend, statements, len(raw) / 1024, a, b)


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    args = parser.parse_args()
    results = [await measure(b, args.students, args.runs) for b in args.backend or ["sqlite"]]
    for r in results:
        print(f"{r.backend}: answer {r.size_kb:.0f} KiB, {len(r.product)} requests each (ms)")
    print(table([r.row() for r in results]))


if __name__ == "__main__":
    asyncio.run(main())
