"""The web app's Group page over HTTP: compiled reads against the resolvers, same run.

    .venv/bin/python -m bench.group_page [--students 2000] [--runs 100] [--backend sqlite]
    tests/with_postgres.sh .venv/bin/python -m bench.group_page --backend postgresql

Builds the world of `tests/bulk.py` in a fresh database and serves it twice on 127.0.0.1
(`bench.serve`): as shipped (compiled reads on) and with `--no-compiled-reads`
(GROUPANALYST_COMPILED_READS=0). The analyst asks the Group page's own query
(`GroupQuery` of `web/src/operations.ts`, 25 rows a page as the page asks) for its first
group: the first page, the next page (after the first's `endCursor`) and a filtered page
(`status: IN_PROGRESS`, a search on the last name). For each case it first checks both
servers answer the same (parsed JSON, cursors compared by position), then alternates them,
`runs` requests each, in pairs whose order flips, and prints p50/p90 and the ratio. The
machine may be shared: only ratios measured in the same run mean anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from app.pagination import CURSOR_KEY
from bench.harness import BENCH_SECRET, Client, build_world, database, median, quantile, server
from tests.support import sealed_as_plain, web_operation

GROUP_QUERY = web_operation("GroupQuery")
FIRST_GROUP = "{ groups(first: 1) { edges { node { id } } } }"


@dataclass
class Case:
    name: str
    compiled: list[float]
    resolvers: list[float]

    def row(self, backend: str) -> list[str]:
        c, r = self.compiled, self.resolvers
        return [
            backend,
            self.name,
            *(f"{quantile(c, q):.1f}" for q in (0.5, 0.9)),
            *(f"{quantile(r, q):.1f}" for q in (0.5, 0.9)),
            f"{median(c) / median(r):.2f}x",
        ]


HEADER = ["backend", "case", "compiled p50", "p90", "resolvers p50", "p90", "compiled/resolvers"]


async def _timed(client: Client, payload: dict[str, Any], token: str) -> float:
    start = time.perf_counter()
    await client.post("/graphql", payload, token)
    return (time.perf_counter() - start) * 1000


async def _answer(client: Client, payload: dict[str, Any], token: str) -> Any:
    body = json.loads(await client.post("/graphql", payload, token))
    if "errors" in body:
        raise SystemExit(f"the Group page was refused: {body['errors']}")
    return body


async def _case(
    fast: Client, slow: Client, token: str, name: str, variables: dict[str, Any], runs: int
) -> Case:
    payload = {"query": GROUP_QUERY, "variables": variables}
    a = await _answer(fast, payload, token)
    b = await _answer(slow, payload, token)
    if json.dumps(sealed_as_plain(a)) != json.dumps(sealed_as_plain(b)):
        raise SystemExit(f"{name}: the compiled path does not answer like the resolvers")
    for _ in range(5):
        await fast.post("/graphql", payload, token)
        await slow.post("/graphql", payload, token)
    compiled: list[float] = []
    resolvers: list[float] = []
    for i in range(runs):
        if i % 2:
            compiled.append(await _timed(fast, payload, token))
            resolvers.append(await _timed(slow, payload, token))
        else:
            resolvers.append(await _timed(slow, payload, token))
            compiled.append(await _timed(fast, payload, token))
    return Case(name, compiled, resolvers)


async def measure(backend: str, students: int, runs: int) -> list[Case]:
    # Open the servers' cursors (sealed under the bench's secret) to compare their positions.
    CURSOR_KEY.use_secret(BENCH_SECRET)
    async with database(backend) as url:
        world = await build_world(url, students)
        token = world.analyst_token
        with server(url) as fast_port, server(url, args=["--no-compiled-reads"]) as slow_port:
            fast, slow = Client(fast_port), Client(slow_port)
            first = json.loads(await fast.post("/graphql", {"query": FIRST_GROUP}, token))
            group = first["data"]["groups"]["edges"][0]["node"]["id"]
            page: dict[str, Any] = {"id": group, "first": 25}
            body = await _answer(fast, {"query": GROUP_QUERY, "variables": page}, token)
            after = body["data"]["node"]["progress"]["pageInfo"]["endCursor"]
            filtered = {"status": "IN_PROGRESS", "search": "Last01"}
            cases = [
                await _case(fast, slow, token, "first page", page, runs),
                await _case(fast, slow, token, "next page", {**page, "after": after}, runs),
                await _case(fast, slow, token, "filtered", {**page, "filter": filtered}, runs),
            ]
            await fast.close()
            await slow.close()
    return cases


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    args = parser.parse_args()
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for backend in args.backend or ["sqlite"]:
        for case in await measure(backend, args.students, args.runs):
            lines.append("| " + " | ".join(case.row(backend)) + " |")
    print(f"The Group page (ms; {args.students} students, {args.runs} requests each)")
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
