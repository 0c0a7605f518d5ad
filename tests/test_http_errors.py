"""Requests that never reach a resolver still get the API's error shape and a code."""

from __future__ import annotations

import pytest

from tests.support import Api, World


def _code(body: dict[str, object]) -> object:
    errors = body["errors"]
    assert isinstance(errors, list)
    return errors[0]["extensions"]["code"]


async def test_body_that_is_not_json(api: Api) -> None:
    response = await api.client.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert _code(response.json()) == "BAD_REQUEST"
    assert "JSON" in response.json()["errors"][0]["message"]


async def test_body_without_a_query(api: Api) -> None:
    response = await api.client.post("/graphql", json={})
    assert response.status_code == 400
    assert _code(response.json()) == "BAD_REQUEST"


async def test_mutation_over_get_is_refused_with_a_code(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": 'mutation { login(input: {email: "a", password: "b"}) { token } }'},
    )
    assert response.status_code == 400
    assert _code(response.json()) == "BAD_REQUEST"
    assert "GET" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [("POST", "/exports/progress.csv", 405, "BAD_REQUEST"), ("GET", "/nope", 404, "NOT_FOUND")],
)
async def test_unknown_paths_and_methods(
    api: Api, method: str, path: str, status: int, code: str
) -> None:
    response = await api.client.request(method, path)
    assert response.status_code == status
    assert _code(response.json()) == code
    if status == 405:
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}


async def test_a_plain_query_still_answers(api: Api) -> None:
    assert await api.data("{ viewer { id } }") == {"viewer": None}


async def test_a_document_sent_again_is_checked_again(api: Api, world: World) -> None:
    """Parsed documents are cached: a repeat gets the same answer, errors included (with
    their code), each request's own variables are checked, and a document too long to be
    cached is answered the same way."""
    token = await world.token(world.owner)
    for _ in range(2):
        body = await api.raw("{ viewer { nope } }", token=token)
        assert _code(body) == "GRAPHQL_VALIDATION_FAILED"
        assert "nope" in body["errors"][0]["message"]
        assert _code(await api.raw("{ viewer { ", token=token)) == "GRAPHQL_VALIDATION_FAILED"
    query = "query($n: Int) { groups(first: $n) { totalCount } }"
    long_query = query + "\n#" + "x" * 30_000
    assert await api.data(long_query, {"n": 5}, token=token) == {"groups": {"totalCount": 0}}
    for _ in range(2):
        assert await api.error_code(query, {"n": 1000}, token=token) == "BAD_USER_INPUT"
        assert await api.data(query, {"n": 5}, token=token) == {"groups": {"totalCount": 0}}
