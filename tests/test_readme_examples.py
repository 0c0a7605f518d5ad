"""Every GraphQL example of README.md runs as it stands, so the examples cannot rot.

Each ```graphql block is what a reader pastes into GraphiQL: its first line says who runs it
(`# As analyst@example.com.`, `# As anyone (no token needed).`), every operation in it is
named (GraphiQL refuses a document with several anonymous ones), and the ```json block that
follows it, if any, is its variables pane. Against a fresh demo world (`groupanalyst demo`
with its defaults), each operation of each block runs in README order as that demo user,
with those variables, and must answer without errors. The only value a reader cannot paste is
a secret that arrives by mail (`<... mailed link>`): the test reads it from the mail. Webhook
URLs must resolve to a public address when saved; tests run without DNS, so `example.com`
(the documentation domain, public everywhere) is answered with a documentation address.
A subscription runs as GraphiQL runs it: over a WebSocket whose `connection_init` payload is
the Headers pane (`{"Authorization": "Bearer ..."}`); the next block makes the change it
waits for, and its event must then arrive without errors.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, OperationType, parse
from sqlmodel import col, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from app import tokens
from app.db import Database
from app.demo import DemoSpec, load_demo
from app.main import create_app
from app.models import User, utcnow
from app.settings import Settings
from tests.mail_server import Inbox, smtp_server
from tests.receiver import serving
from tests.test_live import next_message

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
AS = re.compile(r"^# As (anyone \(no token needed\)|[\w.@-]+@example\.com)\.$")
MAILED = re.compile(r"^<.*mailed link.*>$")
PUBLIC = "https://academy.test"


@dataclass(frozen=True)
class Example:
    line: int
    document: str
    variables: dict[str, Any]

    @property
    def viewer(self) -> str | None:
        """The demo user's email, or None for anyone (no token)."""
        found = AS.match(self.document.splitlines()[0])
        assert found, f"README line {self.line}: the block must start with '# As ....'"
        who = found.group(1)
        return None if who.startswith("anyone") else who

    def operations(self) -> list[tuple[str, set[str], OperationType]]:
        """Each operation's name, the variables it declares and its kind."""
        found = []
        for definition in parse(self.document).definitions:
            if isinstance(definition, OperationDefinitionNode):
                assert definition.name, f"README line {self.line}: an unnamed operation"
                declared = {v.variable.name.value for v in definition.variable_definitions or ()}
                found.append((definition.name.value, declared, definition.operation))
        return found


def examples(text: str) -> list[Example]:
    """The ```graphql blocks of `text`, each with the ```json block right after it."""
    fences = list(FENCE.finditer(text))
    found = []
    for index, fence in enumerate(fences):
        if fence.group(1) != "graphql":
            continue
        following = fences[index + 1] if index + 1 < len(fences) else None
        variables = (
            json.loads(following.group(2))
            if following is not None and following.group(1) == "json"
            else {}
        )
        line = text[: fence.start()].count("\n") + 1
        found.append(Example(line, fence.group(2), variables))
    return found


def test_examples_are_found_with_their_variables() -> None:
    text = (
        "```graphql\n# As anyone (no token needed).\nquery A { site { name } }\n```\n"
        'Variables:\n```json\n{"x": 1}\n```\n'
        "```sh\nls\n```\n```graphql\n# As admin@example.com.\n{ viewer { id } }\n```\n"
    )
    first, second = examples(text)
    assert (first.line, first.viewer, first.variables, first.operations()) == (
        1,
        None,
        {"x": 1},
        [("A", set(), OperationType.QUERY)],
    )
    assert second.viewer == "admin@example.com" and second.variables == {}
    with pytest.raises(AssertionError, match="unnamed"):
        second.operations()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def example_com_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
async def port(db: Database, settings: Settings, inbox: Inbox) -> AsyncIterator[int]:
    """The app served on loopback (subscriptions need a real WebSocket)."""
    await load_demo(db, DemoSpec())
    app = create_app(replace(settings, smtp_url=inbox.url, public_url=PUBLIC), db)
    async with serving(app, lifespan="on") as served:
        yield served


@pytest.fixture
async def client(port: int) -> AsyncIterator[httpx.AsyncClient]:
    # Generous: a loaded machine must not turn a slow answer into a failure here.
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        yield http


async def _token(db: Database, email: str | None) -> str | None:
    """A fresh token of the demo user (a block may log out or revoke the one it runs with)."""
    if email is None:
        return None
    async with db.write() as session:
        user = (await session.execute(select(User).where(col(User.email) == email))).scalar_one()
        assert user.id is not None
        issued = await tokens.issue(
            session, user_id=user.id, name="readme", expires_at=utcnow() + timedelta(hours=1)
        )
    return issued.secret


async def _mailed_secret(inbox: Inbox) -> str:
    """The secret of the last link mailed (reset and invitation mails go out in the background)."""
    for _ in range(500):
        links = [
            found.group(1)
            for message in inbox.messages
            if (found := re.search(r"#token=([A-Za-z0-9_-]+)", Inbox.text(message)))
        ]
        if links:
            return links[-1]
        await asyncio.sleep(0.02)
    raise AssertionError("no link was mailed")


async def _watch(port: int, headers: dict[str, str], payload: dict[str, Any]) -> ClientConnection:
    """Subscribe as GraphiQL does: the Headers pane is the `connection_init` payload."""
    ws = await connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": headers}))
    assert (await next_message(ws))["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    await asyncio.sleep(1.0)  # the subscription is listening before the next block runs
    return ws


async def test_every_readme_example_runs_as_it_stands(
    client: httpx.AsyncClient, port: int, db: Database, inbox: Inbox, example_com_resolves: None
) -> None:
    found = examples(README.read_text())
    assert len(found) >= 10
    ran: list[str] = []
    watching: list[tuple[int, str, ClientConnection]] = []
    for example in found:
        token = await _token(db, example.viewer)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        waiting, watching = watching, []
        for name, declared, kind in example.operations():
            variables = {k: v for k, v in example.variables.items() if k in declared}
            for key, value in variables.items():
                if isinstance(value, str) and MAILED.match(value):
                    variables[key] = await _mailed_secret(inbox)
            payload = {"query": example.document, "operationName": name, "variables": variables}
            ran.append(name)
            if kind is OperationType.SUBSCRIPTION:
                watching.append((example.line, name, await _watch(port, headers, payload)))
                continue
            response = await client.post("/graphql", json=payload, headers=headers)
            body = response.json()
            assert response.status_code == 200 and "errors" not in body, (
                f"README line {example.line}, {name}: {body}"
            )
        for line, name, ws in waiting:
            message = await next_message(ws)
            await ws.close()
            assert message["type"] == "next" and "errors" not in message["payload"], (
                f"README line {line}, {name}: {message}"
            )
    assert not watching, "a subscription is the last example: nothing makes its event"
    assert len(ran) == len(set(ran)), "two README operations share a name"
    assert any(kind is OperationType.SUBSCRIPTION for e in found for *_, kind in e.operations())
