"""`ProgressFilter.search`: the group page's search by name or email, within the scope."""

from __future__ import annotations

import pytest

from tests.support import Api, gid
from tests.test_export import Small
from tests.test_export import small as small

ROWS = """query($id: ID!, $search: String) {
  node(id: $id) { ... on Group { progress(filter: {search: $search}) {
    totalCount edges { node { student { lastName } course { name } } } } } } }"""
REPORT = """query($search: String) { groupProgress(filter: {search: $search}) {
  totalCount edges { node { student { lastName } } } } }"""


async def test_search_by_name_or_email_narrows_the_group_rows(api: Api, small: Small) -> None:
    token = await small.token(small.analyst_a)
    alpha = gid("Group", small.alpha.id)
    for search in ("müller", "ZOE@EXAMPLE", " Zoë "):
        data = await api.data(ROWS, {"id": alpha, "search": search}, token)
        rows = data["node"]["progress"]
        assert rows["totalCount"] == 2
        assert {e["node"]["course"]["name"] for e in rows["edges"]} == {
            "Python Basics",
            "SQL Basics",
        }
    everyone = await api.data(ROWS, {"id": alpha, "search": ""}, token)
    assert everyone["node"]["progress"]["totalCount"] == 3
    # LIKE wildcards are literal text.
    assert (await api.data(ROWS, {"id": alpha, "search": "%"}, token))["node"]["progress"][
        "totalCount"
    ] == 0


async def test_search_never_reaches_outside_the_analysts_groups(api: Api, small: Small) -> None:
    # Abbott is only in Alpha: Beta's analyst finds nothing by his name or his email.
    token = await small.token(small.analyst_b)
    for search in ("abbott", "-abbott@example.com"):
        data = await api.data(REPORT, {"search": search}, token)
        assert data["groupProgress"]["totalCount"] == 0
    owner = await small.token(small.world.owner)
    assert (await api.data(REPORT, {"search": "abbott"}, owner))["groupProgress"]["totalCount"] == 1
    student = await small.token(small.student)
    assert (await api.data(REPORT, {"search": "zoe"}, student))["groupProgress"]["totalCount"] == 0
    assert (await api.data(REPORT, {"search": "zoe"}))["groupProgress"]["totalCount"] == 0


@pytest.mark.parametrize("search", ["x" * 255, "a\x00b", "line\nbreak"])
async def test_hostile_search_is_bad_input(api: Api, small: Small, search: str) -> None:
    token = await small.token(small.analyst_a)
    body = await api.raw(REPORT, {"search": search}, token)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "filter.search"}
