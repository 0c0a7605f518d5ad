"""Cursors: a cursor never carries what the viewer may not read, is no oracle for it, and a crafted
one is BAD_USER_INPUT, never an internal error.

The viewers and their world: `tests.attack_scene`."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.attack_scene import (
    USERS,
    Scene,
    cursor,
    decoded,
    errors_without_locations,
)
from tests.support import Api, World, gid


@pytest.mark.parametrize("filtered", [False, True])
async def test_user_cursors_do_not_carry_hidden_emails(
    api: Api, scene: Scene, filtered: bool
) -> None:
    """An analyst sees its co-analyst's name, not its email: the cursor must not carry it."""
    variables: dict[str, Any] = {}
    if filtered:
        variables["filter"] = {"groupAnalystFor": gid("Group", scene.alpha.id)}
    data = await api.data(USERS, variables, scene.tokens["analyst"])
    edges = data["users"]["edges"]
    [co_edge] = [e for e in edges if e["node"]["lastName"] == "Coanalyst"]
    assert co_edge["node"]["email"] is None
    for edge in edges:
        assert "cody.secret" not in decoded(edge["cursor"]).lower()


async def test_forged_user_cursor_is_not_an_email_oracle(api: Api, scene: Scene) -> None:
    """Cursors that differ only in a guessed email answer the same, so a client cannot
    binary-search the email of a user it sees by name only."""
    answers = []
    for guess in ("a", "cody.secret@partner.io", "cody.secret@partner.iz", "z"):
        after = cursor("Coanalyst", "Cody", guess, 0)
        body = await api.raw(USERS, {"after": after}, scene.tokens["analyst"])
        # Cursors are sealed with a fresh nonce each time: compare what they stand for.
        answers.append(
            json.loads(
                re.sub(
                    r'"cursor":"[^"]*"',
                    '"cursor":""',
                    json.dumps(errors_without_locations(body), separators=(",", ":")),
                )
            )
        )
    assert all(answer == answers[0] for answer in answers), answers


async def test_members_paginate_by_name_and_id(api: Api, world: World, scene: Scene) -> None:
    """Paging still walks every visible row once, namesakes included (the order is total)."""
    twins = [await world.user("Sam", "Same") for _ in range(3)]
    await world.add_members(scene.alpha, *twins)
    seen: list[str] = []
    after = None
    query = """query($id: ID!, $after: String) { node(id: $id) { ... on Group {
      members(first: 1, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage } }
    } } }"""
    while True:
        data = await api.data(
            query, {"id": gid("Group", scene.alpha.id), "after": after}, scene.tokens["analyst"]
        )
        members = data["node"]["members"]
        seen += [e["node"]["id"] for e in members["edges"]]
        if not members["pageInfo"]["hasNextPage"]:
            break
        after = members["edges"][-1]["cursor"]
    assert len(seen) == len(set(seen)) == 4


@pytest.mark.parametrize(
    "values",
    [[1, 2, 3], [None, None, None], ["a", "b", "c"], [[1], {}, 2], ["x"] * 4,
     ["a", "b", 10**30], ["a", "b", True]],
)  # fmt: skip
async def test_a_crafted_cursor_of_the_wrong_shape_is_bad_input(
    api: Api, scene: Scene, values: list[Any]
) -> None:
    """Never an internal error (PostgreSQL refuses to compare a text column with a number,
    or an integer column with a number beyond 64 bits)."""
    for token in ("analyst", "admin"):
        body = await api.raw(USERS, {"after": cursor(*values)}, scene.tokens[token])
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        nested = await api.raw(
            """query($id: ID!, $after: String) { node(id: $id) { ... on Group {
              members(after: $after) { totalCount } } } }""",
            {"id": gid("Group", scene.alpha.id), "after": cursor(*values)},
            scene.tokens[token],
        )
        assert nested["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", nested


async def test_a_crafted_audit_cursor_is_bad_input(api: Api, scene: Scene) -> None:
    query = "query($after: String) { auditEvents(after: $after) { totalCount } }"
    for value in (10**30, "x", None):
        code = await api.error_code(query, {"after": cursor(value)}, scene.tokens["admin"])
        assert code == "BAD_USER_INPUT"
