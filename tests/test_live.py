"""GraphQL subscriptions over a real WebSocket (graphql-transport-ws): the token checked at
connection_init, access checked again at every event (an unassigned analyst's stream closes
with a reason), fields exactly as in queries; across two server processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app.db import Database
from app.main import create_app
from app.models import Course, Group, Role
from app.settings import Settings
from app.worker import Worker
from tests.cast import Cast, call
from tests.receiver import serving
from tests.support import Api, gid
from tests.test_account_status import DEACTIVATE
from tests.test_lesson_events import COMPLETE, lessons_of

ROOT = Path(__file__).resolve().parent.parent
ROW_FIELDS = """
  id student { id firstName lastName email company } course { id name } group { id name }
  progress { id percentViewed percentCompleted completedAt expiresAt status }
"""
PROGRESS = f"subscription($g: [ID!]) {{ progressChanged(groupIds: $g) {{ {ROW_FIELDS} }} }}"
GROUPS = """
subscription($g: [ID!]) {
  groupChanged(groupIds: $g) { eventId kind group { id name } users { id firstName email } }
}
"""
REPORT = (
    "query($g: ID!) { groupProgress(first: 10, filter: {groupIds: [$g]}) "
    f"{{ edges {{ node {{ {ROW_FIELDS} }} }} }} }}"
)
UNASSIGN = """
mutation($user: ID!, $group: ID!) {
  unassignGroupAnalyst(input: {userId: $user, groupId: $group}) { removed }
}
"""
ADD_MEMBERS = """
mutation($group: ID!, $users: [ID!]!) {
  addGroupMembers(input: {groupId: $group, userIds: $users}) { addedUserIds }
}
"""
REVOKE = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { id } } }"


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, live_recheck_seconds=30)


@contextlib.asynccontextmanager
async def live_server(db: Database, settings: Settings) -> AsyncIterator[int]:
    """The app on a real port; on PostgreSQL a worker beside it (it NOTIFYs the events)."""
    async with serving(create_app(settings, db), lifespan="on") as port:
        stop = asyncio.Event()
        task = None
        if db.dialect == "postgresql":
            worker = Worker(db, settings)
            task = asyncio.create_task(worker.run(stop))
        try:
            yield port
        finally:
            stop.set()
            if task is not None:
                await task


async def open_ws(port: int, token: str | None) -> ClientConnection:
    ws = await connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]
    )
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


async def send_subscribe(
    ws: ClientConnection, query: str, variables: dict[str, Any], op: str = "1"
) -> None:
    message = {"query": query, "variables": variables}
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": message}))


async def subscribe(ws: ClientConnection, query: str, variables: dict[str, Any]) -> None:
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    await send_subscribe(ws, query, variables)


async def next_message(ws: ClientConnection, seconds: float = 15) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), seconds))
    return message


async def _drain(ws: ClientConnection, seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while True:
            await ws.recv()


async def closed_with(ws: ClientConnection, seconds: float = 15) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        await _drain(ws, seconds)
    assert info.value.rcvd is not None
    return info.value.rcvd.code, info.value.rcvd.reason


async def world_with_group(cast: Cast) -> tuple[Group, Course, list[str]]:
    group = await cast.world.group("Cohort", members=(cast.student,))
    await cast.world.assign(cast.analyst, group)
    course = await cast.world.course("Safety", lessons=2)
    await cast.world.enroll(cast.student, course)
    return group, course, await lessons_of(cast.world, course)


@pytest.mark.parametrize("token", ["ga_not-a-token", "ga_\x00\ud800", "x" * 100_000, "ga_\uff41"])
async def test_a_bad_token_is_refused_at_connection_init(
    db: Database, live_settings: Settings, token: str
) -> None:
    async with live_server(db, live_settings) as port:
        ws = await open_ws(port, token)
        code, reason = await closed_with(ws)
    assert code == 4403
    assert reason == "The token is unknown, expired or revoked; log in again."


@pytest.mark.parametrize(
    ("who", "expected"), [("anonymous", "UNAUTHENTICATED"), ("outsider", "NOT_FOUND")]
)
async def test_subscribing_without_access_is_refused(
    cast: Cast, live_settings: Settings, who: str, expected: str
) -> None:
    group, _, _ = await world_with_group(cast)
    outsider = await cast.world.user("Otto", "Outsider", email="otto@example.com")
    token = None if who == "anonymous" else await cast.world.token(outsider)
    async with live_server(cast.world.db, live_settings) as port:
        ws = await open_ws(port, token)
        ack = await next_message(ws)
        assert ack["type"] == "connection_ack"
        for op, query in (("1", PROGRESS), ("2", GROUPS)):
            await send_subscribe(ws, query, {"g": [gid("Group", group.id)]}, op)
            message = await next_message(ws)
            assert message["type"] in ("next", "error"), message
            errors = message["payload"].get("errors", message["payload"])
            assert errors[0]["extensions"]["code"] == expected
            assert (await next_message(ws))["type"] == "complete"
        await ws.close()


async def test_an_analyst_sees_progress_as_in_queries_until_unassigned(
    api: Api, cast: Cast, live_settings: Settings
) -> None:
    group, _, lessons = await world_with_group(cast)
    async with live_server(cast.world.db, live_settings) as port:
        ws = await open_ws(port, cast.token("analyst"))
        await subscribe(ws, PROGRESS, {"g": [gid("Group", group.id)]})
        await asyncio.sleep(0.5)  # the subscription is listening
        await call(api, COMPLETE, {"lesson": lessons[0]}, cast.token("student"), None)
        message = await next_message(ws)
        assert message["type"] == "next", message
        row = message["payload"]["data"]["progressChanged"]
        assert row["progress"]["percentCompleted"] == 50.0
        assert row["student"]["email"] == "sam@example.com"
        # Exactly what the same viewer reads through the report query.
        report = await call(api, REPORT, {"g": gid("Group", group.id)}, cast.token("analyst"), None)
        assert report["groupProgress"]["edges"][0]["node"] == row
        # Unassigned: the stream stops and the connection closes with the reason.
        variables = {"user": gid("User", cast.analyst.id), "group": gid("Group", group.id)}
        await call(api, UNASSIGN, variables, cast.token("admin"), None)
        code, reason = await closed_with(ws)
    assert code == 4403
    assert "Access to a watched group ended" in reason


async def test_a_revoked_token_closes_the_stream(
    api: Api, cast: Cast, live_settings: Settings
) -> None:
    group, _, lessons = await world_with_group(cast)
    token = await cast.world.token(cast.analyst)
    async with live_server(cast.world.db, live_settings) as port:
        ws = await open_ws(port, token)
        await subscribe(ws, PROGRESS, {"g": [gid("Group", group.id)]})
        await asyncio.sleep(0.5)
        viewer = await call(
            api,
            "{ viewer { apiTokens(first: 5) { edges { node { id name } } } } }",
            {},
            token,
            None,
        )
        token_id = viewer["viewer"]["apiTokens"]["edges"][0]["node"]["id"]
        await call(api, REVOKE, {"id": token_id}, token, None)
        await call(api, COMPLETE, {"lesson": lessons[0]}, cast.token("student"), None)
        code, reason = await closed_with(ws)
    assert code == 4403 and "Token revoked" in reason


async def test_a_deactivated_analysts_stream_closes(
    api: Api, cast: Cast, live_settings: Settings
) -> None:
    group, _, _ = await world_with_group(cast)
    async with live_server(cast.world.db, live_settings) as port:
        ws = await open_ws(port, cast.token("analyst"))
        await subscribe(ws, GROUPS, {"g": [gid("Group", group.id)]})
        await asyncio.sleep(0.5)
        variables = {"userId": gid("User", cast.analyst.id)}
        await call(api, DEACTIVATE, variables, cast.token("admin"), None)
        code, reason = await closed_with(ws)
    assert code == 4403 and "Token revoked" in reason


async def test_group_changes_list_only_users_the_subscriber_may_see(
    api: Api, cast: Cast, live_settings: Settings
) -> None:
    group, _, _ = await world_with_group(cast)
    newcomer = await cast.world.user("Nia", "New", email="nia@example.com")
    async with live_server(cast.world.db, live_settings) as port:
        ws = await open_ws(port, cast.token("analyst"))
        await subscribe(ws, GROUPS, {"g": [gid("Group", group.id)]})
        await asyncio.sleep(0.5)
        variables = {"group": gid("Group", group.id), "users": [gid("User", newcomer.id)]}
        await call(api, ADD_MEMBERS, variables, cast.token("admin"), None)
        message = await next_message(ws)
        await ws.close()
    change = message["payload"]["data"]["groupChanged"]
    assert change["kind"] == "MEMBERS_ADDED"
    assert change["group"] == {"id": gid("Group", group.id), "name": "Cohort"}
    assert change["users"] == [
        {"id": gid("User", newcomer.id), "firstName": "Nia", "email": "nia@example.com"}
    ]
    assert change["eventId"].startswith("evt_")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _spawn(database_url: str, *args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "DATABASE_URL": database_url, "GROUPANALYST_WORKER_POLL_MS": "50"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _ready(port: int) -> None:
    async with httpx.AsyncClient() as client, asyncio.timeout(60):
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def test_postgresql_carries_events_between_two_server_processes(
    cast: Cast, database_url: str, backend: str
) -> None:
    if backend != "postgresql":
        assert cast.world.db.dialect == "sqlite"  # one process serves subscriptions there
        return
    group, _, lessons = await world_with_group(cast)
    ports = [_free_port(), _free_port()]
    procs = [await _spawn(database_url, "serve", "--port", str(p)) for p in ports]
    procs.append(await _spawn(database_url, "worker"))
    try:
        for port in ports:
            await _ready(port)
        ws = await open_ws(ports[0], cast.token("analyst"))
        await subscribe(ws, PROGRESS, {"g": [gid("Group", group.id)]})
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[1]}") as client:
            await call(Api(client), COMPLETE, {"lesson": lessons[1]}, cast.token("student"), None)
        message = await next_message(ws, 30)
        await ws.close()
    finally:
        for proc in procs:
            proc.terminate()
            await proc.wait()
    assert message["payload"]["data"]["progressChanged"]["progress"]["percentCompleted"] == 50.0


async def test_group_ids_are_bounded_and_another_analysts_group_is_not_found(
    cast: Cast, live_settings: Settings
) -> None:
    """Hostile `groupIds`: none, 501 of them, and a group only another analyst sees."""
    group, _, _ = await world_with_group(cast)
    theirs = await cast.world.group("Theirs")
    other = await cast.world.user("Olga", "Other", Role.GROUP_ANALYST)
    await cast.world.assign(other, theirs)
    many = [gid("Group", group.id)] + [gid("Group", 10_000 + i) for i in range(500)]
    cases = [
        ("admin", [], "BAD_USER_INPUT", "'groupIds' must list at least one id."),
        ("admin", many, "BAD_USER_INPUT", "'groupIds' may list at most 500 ids per call."),
        ("analyst", [gid("Group", theirs.id)], "NOT_FOUND", None),
        ("analyst", [gid("Group", group.id), gid("Group", theirs.id)], "NOT_FOUND", None),
    ]
    async with live_server(cast.world.db, live_settings) as port:
        for who, groups, code, text in cases:
            ws = await open_ws(port, cast.token(who))
            await subscribe(ws, PROGRESS, {"g": groups})
            message = await next_message(ws)
            await ws.close()
            errors = message["payload"].get("errors", message["payload"])
            assert errors[0]["extensions"]["code"] == code, (who, len(groups), errors)
            assert errors[0]["extensions"].get("field") == "groupIds"
            assert text is None or errors[0]["message"] == text


async def test_a_websocket_message_is_bounded_like_a_request_body(
    cast: Cast, database_url: str
) -> None:
    """`groupanalyst serve`: a message over GROUPANALYST_MAX_BODY_BYTES (1 MiB) closes the
    socket (1009) before it is read, as a larger POST body is refused (413)."""
    port = _free_port()
    proc = await _spawn(database_url, "serve", "--port", str(port))
    try:
        await _ready(port)
        ws = await open_ws(port, cast.token("analyst"))
        await subscribe(ws, PROGRESS, {"g": [gid("Group", 1)] * 100_000})  # 1.5 MB
        code, _ = await closed_with(ws)
    finally:
        proc.terminate()
        await proc.wait()
    assert code == 1009
