"""Query cost told to clients (`extensions.cost`) and the per-minute budget per token."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select

from app.cost_budget import CostBudget
from app.db import Database
from app.main import create_app
from app.models import User
from app.settings import Settings
from tests.support import Api, World

VIEWER = "{ viewer { id firstName } }"  # cost 3: viewer, id, firstName
CREATE = (
    'mutation ($e: String!) { createUser(input: {firstName: "Bud", lastName: "Get", '
    "email: $e}) { user { id } } }"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_spends_refills_and_says_when_to_retry() -> None:
    clock = Clock()
    budget = CostBudget(60, clock=clock)  # one point per second
    assert budget.spend("a", 50).remaining == 10
    refused = budget.spend("a", 25)
    assert (refused.allowed, refused.remaining, refused.retry_after_seconds) == (False, 10, 15)
    assert budget.remaining("a") == 10  # a refusal spends nothing
    assert budget.spend("b", 60).allowed  # another key has its own bucket
    clock.now += 15
    assert budget.spend("a", 25).allowed
    clock.now += 10_000
    assert budget.remaining("a") == 60  # never more than one minute's worth


def test_memory_is_bounded_and_a_forgotten_key_comes_back_full() -> None:
    budget = CostBudget(10, max_keys=3, clock=Clock())
    for key in "abcd":
        budget.spend(key, 10)
    assert len(budget._buckets) == 3
    assert budget.remaining("a") == 10


@pytest.fixture
def tight(settings: Settings) -> Settings:
    return dataclasses.replace(settings, max_query_cost=10, cost_budget_per_minute=10)


async def _api(db: Database, settings: Settings) -> AsyncIterator[Api]:
    """The API with its budget's clock stopped, so no points flow back during a test."""
    app = create_app(settings, db)
    app.state.cost_budget.clock = Clock()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client)


@pytest.fixture
async def frozen_api(db: Database, settings: Settings) -> AsyncIterator[Api]:
    async for api in _api(db, settings):
        yield api


@pytest.fixture
async def tight_api(db: Database, tight: Settings) -> AsyncIterator[Api]:
    async for api in _api(db, tight):
        yield api


async def test_every_response_reports_its_cost(
    frozen_api: Api, world: World, settings: Settings
) -> None:
    token = await world.token(world.owner)
    per_minute = settings.cost_budget_per_minute
    first = await frozen_api.body(VIEWER, token=token)
    assert first["extensions"]["cost"] == {
        "requestedQueryCost": 3,
        "maximumQueryCost": settings.max_query_cost,
        "throttleStatus": {
            "maximumAvailable": per_minute,
            "currentlyAvailable": per_minute - 3,
            "restoreRate": round(per_minute / 60, 1),
        },
    }
    second = await frozen_api.body("{ viewer { id } }", token=token)
    assert second["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == per_minute - 5
    invalid = await frozen_api.body("{ nope }", token=token)
    assert invalid["extensions"]["cost"]["requestedQueryCost"] == 0
    assert invalid["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == per_minute - 5


async def test_over_budget_is_429_with_retry_after_and_runs_nothing(
    tight_api: Api, world: World
) -> None:
    token = await world.token(world.owner)
    for _ in range(3):  # 3 x 3 of a 10-point bucket
        assert (await tight_api.post(VIEWER, token=token)).status_code == 200
    response = await tight_api.post(CREATE, {"e": "late@example.com"}, token)
    assert response.status_code == 429
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= 60
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": retry}
    assert response.json()["data"] is None
    assert not await world.scalars(select(User).where(User.email == "late@example.com"))


async def test_each_token_and_each_anonymous_client_has_its_own_budget(
    tight_api: Api, world: World
) -> None:
    owner = await world.token(world.owner)
    other = await world.token(world.owner)
    for _ in range(3):
        await tight_api.post(VIEWER, token=owner)
    assert (await tight_api.post(VIEWER, token=owner)).status_code == 429
    assert (await tight_api.post(VIEWER, token=other)).status_code == 200
    # Anonymous requests spend their address's budget, not a token's.
    assert (await tight_api.post("{ viewer { id } }")).status_code == 200


async def test_a_query_too_complex_spends_nothing(tight_api: Api, world: World) -> None:
    token = await world.token(world.owner)
    costly = "{ users(first: 50) { edges { node { id firstName lastName email } } } }"
    body = await tight_api.body(costly, token=token)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 10
