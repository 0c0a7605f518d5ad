"""Request shapes: aliases, batches, GET and variable defaults cannot get around the cost limit or
run a mutation.

The viewers and their world: `tests.attack_scene`."""

from __future__ import annotations

from tests.attack_scene import (
    Scene,
)
from tests.support import Api


async def test_aliases_do_not_bypass_the_cost_limit(api: Api, scene: Scene) -> None:
    field = "u{n}: users(first: 100) {{ edges {{ node {{ groups {{ members(first: 100) {{ "
    field += "edges {{ node {{ id }} }} }} }} }} }} }}"
    query = "{ " + " ".join(field.format(n=n) for n in range(20)) + " }"
    assert await api.error_code(query, token=scene.tokens["admin"]) == "QUERY_TOO_COMPLEX"


async def test_a_batch_of_operations_is_not_executed(api: Api, scene: Scene) -> None:
    headers = {"Authorization": f"Bearer {scene.tokens['analyst']}"}
    body = [{"query": "{ users { totalCount } }"}] * 50
    response = await api.client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 400
    assert "totalCount" not in response.text


async def test_graphql_over_get_runs_no_mutation_and_respects_scope(api: Api, scene: Scene) -> None:
    headers = {"Authorization": f"Bearer {scene.tokens['analyst']}"}
    mutation = 'mutation { createGroup(input: {name: "Via GET"}) { group { id } } }'
    response = await api.client.get("/graphql", params={"query": mutation}, headers=headers)
    assert response.status_code in (400, 405)
    read = await api.client.get(
        "/graphql",
        params={"query": '{ users(filter: {search: "uma"}) { totalCount } }'},
        headers=headers,
    )
    if read.status_code == 200:
        assert read.json()["data"]["users"]["totalCount"] == 0


async def test_a_variables_default_does_not_bypass_the_cost_limit(api: Api, scene: Scene) -> None:
    """`first: $n` with `$n: Int = 100` left out runs pages of 100: the estimate must too."""
    nested = "users(first: $n) { edges { node { groups { members(first: $n) { edges { node { "
    nested += "groups { members(first: $n) { edges { node { id } } } } } } } } } } }"
    with_default = "query($n: Int = 100) { " + nested + " }"
    assert await api.error_code(with_default, token=scene.tokens["admin"]) == "QUERY_TOO_COMPLEX"
    given = "query($n: Int) { " + nested + " }"
    assert await api.error_code(given, {"n": 100}, scene.tokens["admin"]) == "QUERY_TOO_COMPLEX"
    # Small pages still run.
    assert await api.data(with_default, {"n": 2}, scene.tokens["admin"])
