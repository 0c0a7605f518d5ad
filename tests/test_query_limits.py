"""Documents built to make the server work hard are refused cheaply: nested fragment spreads,
huge documents, thousands of aliases, repeated introspection (QUERY_TOO_COMPLEX)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from graphql import get_introspection_query, parse

from app.db import Database
from app.settings import Settings
from resolvers.complexity import MAX_INTROSPECTION_ROOTS, estimate
from resolvers.schema import schema
from tests.support import Api, World, api_with


def nested_spreads(levels: int, spreads: int = 2) -> str:
    """`Fi` spreads `F(i-1)` `spreads` times: expanded, the document doubles per level."""
    fragments = ["fragment F0 on User { id }"]
    for i in range(1, levels + 1):
        fragments.append(f"fragment F{i} on User {{ " + f"...F{i - 1} " * spreads + "}")
    return f"{{ viewer {{ ...F{levels} }} }} " + " ".join(fragments)


@pytest.mark.parametrize("spreads", [2, 3])
def test_the_estimator_takes_linear_steps_on_nested_spreads(spreads: int) -> None:
    """Each fragment is costed once: steps grow with the document, not with its expansion."""
    for levels in (5, 10, 22, 60):
        document = parse(nested_spreads(levels, spreads))
        found, steps = estimate(schema._schema, document, None, {})
        # One step per selection written in the document: viewer, its spread, F0's id, and
        # the spreads of F1..Fn.
        assert steps == 3 + levels * spreads
        # The cost is still that of the expanded operation (what execution would do).
        assert found.cost == 1 + spreads**levels


async def test_nested_spreads_are_refused_as_too_complex(api: Api) -> None:
    body = await api.raw(nested_spreads(22))
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def refusal(api: Api, query: str, token: str) -> str:
    """The message of the QUERY_TOO_COMPLEX error `query` must get."""
    body = await api.raw(query, token=token)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", body
    message: str = body["errors"][0]["message"]
    return message


@pytest.fixture
async def limited(db: Database, settings: Settings) -> AsyncIterator[Api]:
    """The API with small limits, so tests stay small."""
    limits = {"max_query_tokens": 200, "max_query_aliases": 10, "max_query_cost": 30}
    async with api_with(db, settings, **limits) as api:
        yield api


async def test_a_document_over_the_token_limit_is_refused(limited: Api, world: World) -> None:
    token = await world.token(world.owner)
    fine = "{ " + "__typename " * 5 + "}"
    assert await limited.data(fine, token=token) == {"__typename": "Query"}
    huge = "{ " + "__typename " * 300 + "}"
    assert "200 tokens" in await refusal(limited, huge, token)


async def test_aliases_over_the_limit_are_refused(limited: Api, world: World) -> None:
    token = await world.token(world.owner)
    ten = "{ " + " ".join(f"a{n}: __typename" for n in range(10)) + " }"
    assert len(await limited.data(ten, token=token)) == 10
    eleven = "{ " + " ".join(f"a{n}: __typename" for n in range(11)) + " }"
    assert "11 aliases" in await refusal(limited, eleven, token)


async def test_aliases_in_fragments_count_once_per_spread(limited: Api, world: World) -> None:
    token = await world.token(world.owner)
    query = """{ ...A ...A ...A }
      fragment A on Query { a: __typename b: __typename c: __typename d: __typename }"""
    assert "12 aliases" in await refusal(limited, query, token)


async def test_typename_and_introspection_fields_have_a_cost(limited: Api, world: World) -> None:
    token = await world.token(world.owner)
    typenames = "{ " + "__typename " * 31 + "}"
    assert "about 31 fields" in await refusal(limited, typenames, token)
    # 11 fields each, 33 in all.
    lookup = '__type(name: "User") { name description fields { name args { name } type { '
    lookup += "kind ofType { name } } } }"
    introspection = "{ " + " ".join(f"t{n}: {lookup}" for n in range(3)) + " }"
    assert "limit is 30" in await refusal(limited, introspection, token)


async def test_introspection_roots_are_capped_per_operation(api: Api, world: World) -> None:
    token = await world.token(world.owner)
    allowed = "{ " + " ".join(f"s{n}: __schema {{ queryType {{ name }} }}" for n in range(3)) + "}"
    assert len(await api.data(allowed, token=token)) == MAX_INTROSPECTION_ROOTS
    one_more = "{ " + " ".join(f's{n}: __type(name: "User") {{ name }}' for n in range(4)) + "}"
    assert "__schema" in await refusal(api, one_more, token)


async def test_graphiql_introspection_query_passes_with_a_token(api: Api, world: World) -> None:
    token = await world.token(world.owner)
    data = await api.data(get_introspection_query(descriptions=True), token=token)
    assert data["__schema"]["queryType"]["name"] == "Query"
