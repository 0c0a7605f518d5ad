"""Anonymous callers cannot map the schema: no introspection, no "Did you mean …?" hints;
a signed-in caller (GraphiQL with a token) has both. Settings widen or narrow the audience."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import get_introspection_query, print_ast, validate

from app.db import Database
from app.settings import Settings
from resolvers import visibility
from tests.support import Api, World, api_with

INTROSPECTION = get_introspection_query()
TYPO = "{ viewr { id } }"
# An enum value misspelt in a variable: coercion, not validation, reports it.
ENUM_TYPO = """query($s: ProgressStatus) { groupProgress(filter: {status: $s}) {
  edges { node { progress { status } } } } }"""


async def test_anonymous_introspection_is_refused(api: Api) -> None:
    body = await api.raw(INTROSPECTION)
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection" in body["errors"][0]["message"].lower()
    single = await api.raw('{ __type(name: "User") { fields { name } } }')
    assert single["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # `__typename` is not introspection of the schema; clients rely on it.
    assert await api.data("{ __typename }") == {"__typename": "Query"}


async def test_signed_in_introspection_works(api: Api, world: World) -> None:
    data = await api.data(INTROSPECTION, token=await world.token(world.owner))
    assert any(t["name"] == "User" for t in data["__schema"]["types"])


async def test_anonymous_errors_carry_no_suggestions(api: Api, world: World) -> None:
    body = await api.raw(TYPO)
    message = body["errors"][0]["message"]
    assert "viewr" in message
    assert "Did you mean" not in message and "viewer" not in message
    signed_in = await api.raw(TYPO, token=await world.token(world.owner))
    assert "Did you mean 'viewer'?" in signed_in["errors"][0]["message"]


async def test_variable_errors_carry_no_suggestions_for_anonymous(api: Api, world: World) -> None:
    body = await api.raw(ENUM_TYPO, {"s": "COMPLETD"})
    assert "COMPLETED" not in str(body["errors"])
    signed_in = await api.raw(ENUM_TYPO, {"s": "COMPLETD"}, token=await world.token(world.owner))
    assert "COMPLETED" in str(signed_in["errors"])


@pytest.fixture
async def open_api(db: Database, settings: Settings) -> AsyncIterator[Api]:
    async with api_with(db, settings, introspection="everyone", suggestions="everyone") as api:
        yield api


@pytest.fixture
async def closed_api(db: Database, settings: Settings) -> AsyncIterator[Api]:
    async with api_with(db, settings, introspection="nobody", suggestions="nobody") as api:
        yield api


async def test_settings_can_open_the_schema_to_everyone(open_api: Api) -> None:
    assert (await open_api.data(INTROSPECTION))["__schema"]["queryType"]["name"] == "Query"
    assert "Did you mean 'viewer'?" in (await open_api.raw(TYPO))["errors"][0]["message"]


async def test_settings_can_close_the_schema_to_everyone(closed_api: Api, world: World) -> None:
    token = await world.token(world.owner)
    body = await closed_api.raw(INTROSPECTION, token=token)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in (await closed_api.raw(TYPO, token=token))["errors"][0]["message"]


# -- documents that passed validation are not validated again (`VALID_DOCUMENTS`) -----------


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts graphql-core validated (a fresh cache: nothing passed before the test)."""
    seen: list[str] = []

    def counting(schema: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(print_ast(document))
        return validate(schema, document, *args, **kwargs)

    monkeypatch.setattr(visibility, "validate", counting)
    monkeypatch.setattr(visibility, "VALID_DOCUMENTS", visibility.ValidDocuments())
    return seen


async def test_introspection_that_passed_signed_in_is_still_refused_to_anonymous(
    api: Api, world: World, validations: list[str]
) -> None:
    token = await world.token(world.owner)
    for _ in range(2):
        assert "__schema" in await api.data(INTROSPECTION, token=token)
        body = await api.raw(INTROSPECTION)
        assert body.get("data") is None
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # Signed in: validated once, then kept. Anonymous: refused, so validated every time.
    assert len(validations) == 3


async def test_a_document_that_failed_is_validated_again(
    api: Api, world: World, validations: list[str]
) -> None:
    token = await world.token(world.owner)
    for _ in range(2):
        signed_in = await api.raw(TYPO, token=token)
        assert "Did you mean 'viewer'?" in signed_in["errors"][0]["message"]
        anonymous = await api.raw(TYPO)
        assert "Did you mean" not in anonymous["errors"][0]["message"]
    assert len(validations) == 4
    assert await api.data("{ __typename }") == {"__typename": "Query"}
    assert await api.data("{ __typename }") == {"__typename": "Query"}
    assert len(validations) == 5
