"""The access log of a real server process: one JSON line per request, never a secret.

The server is `groupanalyst serve` (uvicorn) and everything it writes, stdout and stderr, is
searched, so uvicorn's own access log (which would print whole URLs, `sig` included) is
checked to be gone too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.db import Database
from app.models import Role
from tests.live_server import LiveServer, running
from tests.support import World, gid

PASSWORD = "Tundra-lantern-42-quiver"
NEW_PASSWORD = "Marble-orchid-77-harbour"
NEW_EMAIL = "hidden.person.7@example.org"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with running(database_url, tmp_path / "server.log") as live:
        yield live


async def post(
    server: LiveServer,
    query: str,
    variables: dict[str, Any] | None = None,
    **headers: str | bytes,
) -> httpx.Response:
    raw = [(k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in headers.items()]
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            server.graphql_url, json={"query": query, "variables": variables or {}}, headers=raw
        )


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.get(url)


def access_lines(output: str) -> list[dict[str, Any]]:
    """The access log's lines, less the start-up probes of `/healthz`."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if line["path"] != "/healthz"]


async def test_lines_hold_what_operators_need_and_no_secret(
    server: LiveServer, world: World
) -> None:
    owner_token = await world.token(world.owner)
    analyst = await world.user(
        "Ana", "Lyst", Role.GROUP_ANALYST, email="ana.lyst@example.com", password=PASSWORD
    )
    group = await world.group("Cohort Log")
    await world.assign(analyst, group)
    bearer = {"Authorization": f"Bearer {owner_token}"}

    viewer = await post(
        server,
        "query Me { viewer { id email } }",
        None,
        **bearer,
        **{"X-Request-Id": "trace-42.a_b"},
    )
    assert viewer.status_code == 200
    assert viewer.headers["X-Request-Id"] == "trace-42.a_b"
    login = await post(
        server,
        "mutation SignIn($e: String!, $p: String!) "
        "{ login(input: {email: $e, password: $p}) { token } }",
        {"e": "ana.lyst@example.com", "p": PASSWORD},
    )
    analyst_token = login.json()["data"]["login"]["token"]
    created = await post(
        server,
        "mutation Add($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
        {
            "input": {
                "firstName": "Hid",
                "lastName": "Den",
                "email": NEW_EMAIL,
                "password": NEW_PASSWORD,
            }
        },
        **bearer,
    )
    assert "errors" not in created.json(), created.json()
    linked = await post(
        server,
        "query Link($g: [ID!]) { progressExportUrl(groupIds: $g) }",
        {"g": [gid("Group", group.id)]},
        Authorization=f"Bearer {analyst_token}",
    )
    link = linked.json()["data"]["progressExportUrl"]
    sig = link.rsplit("sig=", 1)[1]
    download = await get(server.base_url + link)
    assert download.status_code == 200
    refused = await post(
        server, "{ viewer { id } }", None, Authorization="Bearer ga_not-a-real-token-1234"
    )
    assert refused.status_code == 401
    hostile_id = await post(server, "{ viewer { id } }", None, **{"X-Request-Id": "x" * 65})
    odd_id = await post(server, "{ viewer { id } }", None, **{"X-Request-Id": "a b\u00e9".encode()})
    server.stop()

    output = server.output()
    for secret in (owner_token, analyst_token, PASSWORD, NEW_PASSWORD, sig, "ga_not-a-real-token"):
        assert secret not in output
    for email in ("ana.lyst@example.com", NEW_EMAIL, "owner@example.com"):
        assert email not in output
    assert "sig=" not in output and "@" not in output

    lines = access_lines(output)
    assert len(lines) == 8, output
    by_id = {line["requestId"]: line for line in lines}
    me = by_id["trace-42.a_b"]
    assert me["operation"] == "Me" and me["status"] == 200 and me["method"] == "POST"
    assert me["path"] == "/graphql" and me["viewerId"] == world.owner.id
    assert me["statements"] >= 1 and me["cost"] == 3 and me["durationMs"] >= 0
    assert set(me) == {
        "time",
        "requestId",
        "method",
        "path",
        "status",
        "durationMs",
        "viewerId",
        "operation",
        "statements",
        "cost",
    }
    operations = [line["operation"] for line in lines]
    assert operations[:4] == ["Me", "SignIn", "Add", "Link"]
    export_line = lines[4]
    assert export_line["path"] == "/exports/progress.csv" and export_line["status"] == 200
    assert export_line["statements"] >= 1 and export_line["viewerId"] == analyst.id
    assert lines[5]["status"] == 401 and lines[5]["viewerId"] is None
    # Ids the client sent that are too long or carry other characters are replaced, not echoed.
    for response, line in ((hostile_id, lines[6]), (odd_id, lines[7])):
        assert response.headers["X-Request-Id"] == line["requestId"]
        assert len(line["requestId"]) == 32 and line["requestId"] != "x" * 65


async def test_unknown_paths_are_not_written(server: LiveServer) -> None:
    response = await get(f"{server.base_url}/someone@example.com?sig=abc")
    assert response.status_code == 404
    server.stop()
    (line,) = access_lines(server.output())
    assert line["path"] is None and line["status"] == 404
    assert "someone" not in server.output()


async def test_uvicorn_run_directly_logs_no_query_string(database_url: str, tmp_path: Path) -> None:
    """`uvicorn app.asgi:app` with uvicorn's own access log on: its lines keep the path and
    lose the query string, where a signed export link carries its `sig`."""
    command = [sys.executable, "-m", "uvicorn", "app.asgi:app", "--host", "127.0.0.1"]
    server = LiveServer(database_url=database_url, logs=tmp_path / "uvicorn.log", command=command)
    server.start()
    try:
        response = await get(f"{server.base_url}/exports/progress.csv?expires=1&sig=s3cr3t-sig")
        assert response.status_code == 401
    finally:
        server.stop()
    output = server.output()
    assert "s3cr3t-sig" not in output and "expires=1" not in output
    assert '"GET /exports/progress.csv?… HTTP/1.1" 401' in output


async def test_database_errors_never_quote_parameters(db: Database) -> None:
    """What an unexpected failure logs (its exception) holds no statement parameter."""
    with pytest.raises(DBAPIError) as failure:
        async with db.read() as session:
            await session.execute(
                sa.text("SELECT * FROM no_such_table WHERE email = :e"), {"e": "leak@example.com"}
            )
    assert "leak@example.com" not in str(failure.value)
    assert "hidden" in str(failure.value)
