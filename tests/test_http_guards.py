"""Requests that once got plain-text 500s or were read whole: oversized bodies (413), bodies
that are not a JSON object (400), and a database that cannot be reached (503)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.db import Database
from app.main import create_app
from app.settings import Settings
from tests.support import Api, World

LIMIT = 2_000


@pytest.fixture
async def small_body_api(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(settings, max_body_bytes=LIMIT), db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


def _error(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.status_code, response.json()["errors"][0]["extensions"]["code"]


async def test_a_body_over_the_limit_is_refused_before_reading(
    small_body_api: httpx.AsyncClient,
) -> None:
    query = "{ viewer { id } }" + " " * LIMIT
    response = await small_body_api.post("/graphql", json={"query": query})
    assert _error(response) == (413, "PAYLOAD_TOO_LARGE")
    assert str(LIMIT) in response.json()["errors"][0]["message"]


async def test_a_streamed_body_is_cut_off_while_reading(
    small_body_api: httpx.AsyncClient,
) -> None:
    """No Content-Length (chunked): the server stops pulling chunks once past the limit."""
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"query": "{ viewer { id } }", "x": "'
        for _ in range(1_000):
            sent += 1
            yield b"a" * 500
        yield b'"}'

    response = await small_body_api.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert _error(response) == (413, "PAYLOAD_TOO_LARGE")
    # 2,000 bytes is four or five chunks of 500; the other ~995 were never read.
    assert sent < 10


async def test_a_body_under_the_limit_is_served(small_body_api: httpx.AsyncClient) -> None:
    response = await small_body_api.post("/graphql", json={"query": "{ viewer { id } }"})
    assert response.json()["data"] == {"viewer": None}
    assert "errors" not in response.json()


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ viewer { id } }\xff"}',  # not UTF-8
        b'"hello"',  # JSON, but a string
        b"42",
        b"null",
        b'{"query": "{ viewer { id } }", "operationName": 7}',
    ],
)
async def test_a_body_that_is_not_a_json_object_is_bad_request(api: Api, body: bytes) -> None:
    response = await api.client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert _error(response) == (400, "BAD_REQUEST")


@pytest.fixture(params=["postgresql-refused", "sqlite-empty-file"])
async def down_api(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The API over a database that cannot be reached, or holds no tables."""
    empty = tmp_path / "empty.db"
    empty.touch()
    url = (
        "postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none"
        if request.param == "postgresql-refused"
        else f"sqlite+aiosqlite:///{empty}"
    )
    down = Database.from_url(url)
    app = create_app(dataclasses.replace(settings, database_url=url), down)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client
    await down.dispose()


async def test_a_token_while_the_database_is_down_gets_503(
    down_api: httpx.AsyncClient,
) -> None:
    response = await down_api.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Authorization": "Bearer ga_anything"},
    )
    assert _error(response) == (503, "SERVICE_UNAVAILABLE")
    assert int(response.headers["retry-after"]) > 0


async def test_a_field_reading_a_database_that_is_down_says_so(
    down_api: httpx.AsyncClient,
) -> None:
    login = 'mutation { login(input: {email: "a@example.com", password: "x"}) { token } }'
    response = await down_api.post("/graphql", json={"query": login})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["retryAfterSeconds"] > 0


async def test_the_export_while_the_database_is_down_gets_503(
    down_api: httpx.AsyncClient,
) -> None:
    response = await down_api.get(
        "/exports/progress.csv", headers={"Authorization": "Bearer ga_anything"}
    )
    assert _error(response) == (503, "SERVICE_UNAVAILABLE")


async def test_a_working_database_still_answers(api: Api, world: World) -> None:
    data = await api.data("{ viewer { id } }", token=await world.token(world.owner))
    assert data["viewer"]["id"]
