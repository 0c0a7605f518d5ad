"""Login throttling cannot be turned into a lockout weapon: failures count per (email,
client address) plus per address across emails; a throttled answer is RATE_LIMITED with
`retryAfterSeconds`. Before, ten wrong passwords from anywhere locked the owner out too,
with the same code as a wrong password."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from starlette.requests import HTTPConnection

from app.client_address import client_address, parse_networks
from app.db import Database
from app.main import create_app
from app.settings import Settings
from tests.support import World

LOGIN = """mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) {
  token } }"""

Caller = Callable[..., Awaitable[dict[str, object]]]


@pytest.fixture
async def from_address(db: Database, settings: Settings) -> AsyncIterator[Caller]:
    """`call(address, email, password, forwarded=None)`: a login from that TCP peer, through
    one app whose trusted proxy is 10.9.9.9 and whose per-address cap is 5."""
    app = create_app(
        dataclasses.replace(
            settings,
            login_max_failures_per_client=5,
            login_max_failures=3,
            trusted_proxies=parse_networks(["10.9.9.9"]),
        ),
        db,
    )
    clients: dict[str, httpx.AsyncClient] = {}

    async def call(
        address: str, email: str, password: str, forwarded: str | None = None
    ) -> dict[str, object]:
        if address not in clients:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            clients[address] = httpx.AsyncClient(transport=transport, base_url="http://t")
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        response = await clients[address].post(
            "/graphql",
            json={"query": LOGIN, "variables": {"e": email, "p": password}},
            headers=headers,
        )
        body: dict[str, object] = response.json()
        return body

    yield call
    for client in clients.values():
        await client.aclose()


def _code(body: dict[str, object]) -> str | None:
    errors = body.get("errors")
    if not errors:
        return None
    assert isinstance(errors, list)
    code: str = errors[0]["extensions"]["code"]
    return code


async def test_a_stranger_cannot_lock_the_owner_out(from_address: Caller, world: World) -> None:
    await world.user("Vic", "Tim", email="vic@example.com", password="right-password")
    for _ in range(3):
        assert _code(await from_address("198.51.100.66", "vic@example.com", "x")) == (
            "UNAUTHENTICATED"
        )
    refused = await from_address("198.51.100.66", "vic@example.com", "right-password")
    assert _code(refused) == "RATE_LIMITED"
    errors = refused["errors"]
    assert isinstance(errors, list)
    assert 0 < errors[0]["extensions"]["retryAfterSeconds"] <= 15 * 60
    # The owner, elsewhere, signs in.
    assert _code(await from_address("203.0.113.7", "vic@example.com", "right-password")) is None


async def test_one_address_cannot_spray_guesses_over_many_emails(
    from_address: Caller, world: World
) -> None:
    await world.user("Vic", "Tim", email="vic@example.com", password="right-password")
    for n in range(5):
        assert _code(await from_address("198.51.100.66", f"u{n}@example.com", "x")) == (
            "UNAUTHENTICATED"
        )
    assert _code(await from_address("198.51.100.66", "vic@example.com", "right-password")) == (
        "RATE_LIMITED"
    )
    assert _code(await from_address("203.0.113.7", "vic@example.com", "right-password")) is None


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(
    from_address: Caller, world: World
) -> None:
    """A client cannot pick a fresh address per guess by writing the header itself."""
    for n in range(3):
        await from_address("198.51.100.66", "vic@example.com", "x", forwarded=f"192.0.2.{n}")
    body = await from_address("198.51.100.66", "vic@example.com", "x", forwarded="192.0.2.99")
    assert _code(body) == "RATE_LIMITED"


async def test_forwarded_for_names_the_client_behind_a_trusted_proxy(
    from_address: Caller, world: World
) -> None:
    await world.user("Vic", "Tim", email="vic@example.com", password="right-password")
    for _ in range(3):
        # What the attacker wrote comes first; the proxy appends the address it saw.
        await from_address("10.9.9.9", "vic@example.com", "x", forwarded="1.2.3.4, 198.51.100.66")
    spoofed = await from_address(
        "10.9.9.9", "vic@example.com", "right-password", forwarded="5.6.7.8, 198.51.100.66"
    )
    assert _code(spoofed) == "RATE_LIMITED"
    owner = await from_address(
        "10.9.9.9", "vic@example.com", "right-password", forwarded="203.0.113.7"
    )
    assert _code(owner) is None


def _conn(peer: str, forwarded: str | None) -> HTTPConnection:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return HTTPConnection({"type": "http", "client": (peer, 1), "headers": headers})


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.1", None, "198.51.100.1"),
        ("198.51.100.1", "192.0.2.1", "198.51.100.1"),  # untrusted peer: header ignored
        ("10.0.0.2", "192.0.2.1", "192.0.2.1"),
        ("10.0.0.2", "192.0.2.1, 10.0.0.3", "192.0.2.1"),  # two trusted hops
        ("10.0.0.2", "evil, 192.0.2.1", "192.0.2.1"),
        ("10.0.0.2", "192.0.2.1, garbage", "10.0.0.2"),  # the chain is broken: stop there
        ("10.0.0.2", "10.0.0.4", "10.0.0.2"),  # only proxies: the nearest one
    ],
)
def test_client_address(peer: str, forwarded: str | None, expected: str) -> None:
    proxies = parse_networks(["10.0.0.0/8"])
    assert client_address(_conn(peer, forwarded), proxies) == expected
