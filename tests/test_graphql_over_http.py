"""GraphQL over HTTP: `application/graphql-response+json` for clients that ask for it,
`application/json` as before for everyone else (the whole audit runs in `make test`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.graphql_media import Media, preferred_media
from tests.support import Api, World

MODERN = "application/graphql-response+json"


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, Media.JSON),
        ("", Media.JSON),
        ("*/*", Media.JSON),
        ("application/json", Media.JSON),
        (MODERN, Media.GRAPHQL_RESPONSE),
        (f"{MODERN}, application/json;q=0.9", Media.GRAPHQL_RESPONSE),
        (f"application/json, {MODERN};q=0.5", Media.JSON),
        (f"{MODERN};q=0", Media.JSON),
        (f"{MODERN};q=banana", Media.JSON),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", Media.GRAPHQL_RESPONSE),
    ],
)
def test_negotiation(accept: str | None, media: Media) -> None:
    assert preferred_media(accept) is media


async def _post(
    api: Api, body: dict[str, Any], accept: str, token: str | None = None
) -> httpx.Response:
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await api.client.post("/graphql", json=body, headers=headers)


REQUEST_ERRORS = [
    ({"query": "{ viewer { id "}, "GRAPHQL_VALIDATION_FAILED"),  # does not parse
    ({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),  # does not validate
    (
        {"query": "query ($n: Int!) { users(first: $n) { totalCount } }", "variables": {"n": "x"}},
        None,
    ),
]


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
async def test_request_errors_are_400_without_data_for_modern_clients(
    api: Api, body: dict[str, Any], code: str | None
) -> None:
    response = await _post(api, body, MODERN)
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{MODERN}; charset=utf-8"
    answer = response.json()
    assert "data" not in answer and answer["errors"]
    if code:
        assert answer["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
async def test_legacy_clients_keep_200_and_application_json(
    api: Api, body: dict[str, Any], code: str | None
) -> None:
    response = await _post(api, body, "application/json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] is None


async def test_executed_operations_are_200_even_with_field_errors(api: Api, world: World) -> None:
    token = await world.token(world.owner)
    ok = await _post(api, {"query": "{ viewer { id } }"}, MODERN, token)
    assert ok.status_code == 200 and ok.json()["data"]["viewer"]["id"]
    # A field error after execution began: a non-null root field failing makes data null,
    # and the entry is still there (it executed).
    refused = await _post(api, {"query": "{ progressExportUrl }"}, MODERN)
    assert refused.status_code == 200
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert refused.json()["data"] is None


async def test_refusal_before_execution_takes_its_codes_status(api: Api, world: World) -> None:
    token = await world.token(world.owner)
    costly = "{ users(first: 100) { edges { node { " + " ".join(["id"] * 600) + " } } } }"
    response = await _post(api, {"query": costly}, MODERN, token)
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert response.status_code == 400 and "data" not in response.json()
