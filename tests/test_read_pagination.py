"""Connections: keyset pages stable under inserts, bounded `first`, deterministic orders,
and the filters of `users`, `groups`, `groupProgress` and `Group.progress`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.models import Role
from tests.support import Api, World, gid

USERS = """query($first: Int, $after: String) {
  users(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { lastName } }
  }
}"""


def last_names(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["lastName"] for edge in connection["edges"]]


async def test_pages_walk_the_whole_list_once_and_survive_inserts(api: Api, world: World) -> None:
    for last in ("Baker", "Davis", "Evans", "Garcia", "Hill", "Jones"):
        await world.user("Pat", last)
    token = await world.token(world.owner)
    first = (await api.data(USERS, {"first": 3}, token))["users"]
    assert last_names(first) == ["Baker", "Davis", "Evans"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["totalCount"] == 7
    # Rows inserted before the cursor neither shift nor repeat the next page.
    await world.user("Pat", "Adams")
    await world.user("Pat", "Carter")
    await world.user("Pat", "Irwin")
    after = first["pageInfo"]["endCursor"]
    second = (await api.data(USERS, {"first": 3, "after": after}, token))["users"]
    assert last_names(second) == ["Garcia", "Hill", "Irwin"]
    assert second["pageInfo"]["hasPreviousPage"] is True
    third = (await api.data(USERS, {"first": 3, "after": second["pageInfo"]["endCursor"]}, token))[
        "users"
    ]
    assert last_names(third) == ["Jones", "Owner"]
    assert third["pageInfo"]["hasNextPage"] is False
    assert third["totalCount"] == 10


async def test_same_names_are_ordered_by_email_then_id(api: Api, world: World) -> None:
    await world.user("Kim", "Lee", email="b@example.com")
    await world.user("Kim", "Lee", email="A@example.com")
    await world.user("Al", "Lee", email="z@example.com")
    data = await api.data(
        '{ users(filter: {search: "lee"}) { edges { node { firstName email } } } }',
        token=await world.token(world.owner),
    )
    assert [(e["node"]["firstName"], e["node"]["email"]) for e in data["users"]["edges"]] == [
        ("Al", "z@example.com"),
        ("Kim", "A@example.com"),
        ("Kim", "b@example.com"),
    ]


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_first_out_of_bounds_is_bad_input(api: Api, world: World, first: int) -> None:
    token = await world.token(world.owner)
    body = await api.raw(USERS, {"first": first}, token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "between 1 and 100" in body["errors"][0]["message"]
    nested = """query($first: Int) { groups { edges { node { members(first: $first) {
      edges { node { id } } } } } } }"""
    await world.group("Alpha")
    assert await api.error_code(nested, {"first": first}, token) == "BAD_USER_INPUT"


async def test_first_100_is_allowed_and_default_is_25(api: Api, world: World) -> None:
    for n in range(30):
        await world.user("Many", f"Person{n:02d}")
    token = await world.token(world.owner)
    assert len((await api.data(USERS, {}, token))["users"]["edges"]) == 25
    assert len((await api.data(USERS, {"first": 100}, token))["users"]["edges"]) == 31


async def test_foreign_or_garbage_cursors_are_bad_input(api: Api, world: World) -> None:
    await world.group("Alpha")
    token = await world.token(world.owner)
    groups = await api.data("{ groups { edges { cursor } } }", token=token)
    group_cursor = groups["groups"]["edges"][0]["cursor"]
    for cursor in (group_cursor, "garbage", "W10="):
        body = await api.raw(USERS, {"after": cursor}, token)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "cursor" in body["errors"][0]["message"]


MEMBERS = """query($first: Int, $after: String, $search: String) { groups { edges { node {
  name members(first: $first, after: $after, search: $search) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { lastName } } }
} } } }"""


async def test_members_pages_per_group_in_one_query(api: Api, world: World) -> None:
    people = [await world.user("M", last) for last in ("Ames", "Bell", "Cole", "Dunn", "Eze")]
    await world.group("Alpha", members=tuple(people[:4]))
    await world.group("Beta", members=(people[4],))
    await world.group("Gamma")
    token = await world.token(world.owner)
    data = await api.data(MEMBERS, {"first": 2}, token)
    groups = {e["node"]["name"]: e["node"]["members"] for e in data["groups"]["edges"]}
    assert last_names(groups["Alpha"]) == ["Ames", "Bell"]
    assert groups["Alpha"]["pageInfo"]["hasNextPage"] is True
    assert groups["Alpha"]["totalCount"] == 4
    assert last_names(groups["Beta"]) == ["Eze"]
    assert groups["Beta"]["pageInfo"]["hasNextPage"] is False
    assert groups["Gamma"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [],
    }
    after = groups["Alpha"]["pageInfo"]["endCursor"]
    more = await api.data(MEMBERS, {"first": 2, "after": after}, token)
    alpha = more["groups"]["edges"][0]["node"]["members"]
    assert last_names(alpha) == ["Cole", "Dunn"]
    searched = await api.data(MEMBERS, {"search": "BEL"}, token)
    alpha = searched["groups"]["edges"][0]["node"]["members"]
    assert last_names(alpha) == ["Bell"]  # case-insensitive
    assert alpha["totalCount"] == 1


async def test_group_search(api: Api, world: World) -> None:
    for name in ("Data 2026", "Product 2026", "Data_2025"):
        await world.group(name)
    query = """query($q: String) { groups(filter: {search: $q}) { edges { node { name } } } }"""
    token = await world.token(world.owner)
    found = await api.data(query, {"q": "data"}, token)
    assert [e["node"]["name"] for e in found["groups"]["edges"]] == ["Data 2026", "Data_2025"]
    # LIKE wildcards are matched literally.
    found = await api.data(query, {"q": "_"}, token)
    assert [e["node"]["name"] for e in found["groups"]["edges"]] == ["Data_2025"]


async def test_group_analyst_for_filter(api: Api, world: World) -> None:
    a = await world.user("Ana", "Analyst", Role.GROUP_ANALYST)
    b = await world.user("Bo", "Second", Role.GROUP_ANALYST)
    gone = await world.user("Gil", "Gone", Role.GROUP_ANALYST)
    other = await world.user("Oz", "Other", Role.GROUP_ANALYST)
    alpha = await world.group("Alpha")
    beta = await world.group("Beta")
    await world.assign(a, alpha)
    await world.assign(b, alpha)
    await world.assign(gone, alpha, expires_at=datetime.now(UTC) - timedelta(days=1))
    await world.assign(other, beta)
    query = """query($g: ID!) { users(filter: {groupAnalystFor: $g}) {
      totalCount edges { node { lastName } } } }"""
    variables = {"g": gid("Group", alpha.id)}
    admin = await api.data(query, variables, await world.token(world.owner))
    assert last_names(admin["users"]) == ["Analyst", "Second"]
    assert admin["users"]["totalCount"] == 2
    mine = await api.data(query, variables, await world.token(a))
    assert last_names(mine["users"]) == ["Analyst", "Second"]
    # An analyst of another group learns nothing about this one.
    theirs = await api.data(query, variables, await world.token(other))
    assert last_names(theirs["users"]) == []
    bad = await api.raw(query, {"g": gid("User", a.id)}, await world.token(world.owner))
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# -- the report -------------------------------------------------------------------------

REPORT = """query($filter: ProgressFilter, $first: Int, $after: String) {
  groupProgress(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { group { name } student { lastName } course { name } progress { status } } }
  }
}"""

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (e["node"]["group"]["name"], e["node"]["student"]["lastName"], e["node"]["course"]["name"])
        for e in data["groupProgress"]["edges"]
    ]


@pytest.fixture
async def report(world: World) -> dict[str, Any]:
    ames_u = await world.user("S", "Ames")
    bell_u = await world.user("S", "Bell")
    cole_u = await world.user("S", "Cole")
    beta = await world.group("Beta", members=(ames_u, bell_u))
    alpha = await world.group("Alpha", members=(cole_u, bell_u))
    py = await world.course("Python", 4)
    sql = await world.course("SQL", 2)
    await world.enroll(ames_u, py, activated_at=T0)  # not started
    await world.enroll(
        ames_u, sql, viewed=2, completed=2, activated_at=T0 + timedelta(days=1),
        completed_at=T0 + timedelta(days=5),
    )  # fmt: skip
    await world.enroll(bell_u, py, viewed=1, activated_at=T0 + timedelta(days=2))  # in progress
    await world.enroll(
        cole_u, sql, viewed=2, completed=2, activated_at=T0 + timedelta(days=3),
        completed_at=T0 + timedelta(days=10),
    )  # fmt: skip
    return {
        "token": await world.token(world.owner),
        "alpha": gid("Group", alpha.id),
        "beta": gid("Group", beta.id),
        "python": gid("Course", py.id),
        "sql": gid("Course", sql.id),
    }


async def test_report_order_is_group_last_name_course(api: Api, report: dict[str, Any]) -> None:
    data = await api.data(REPORT, {}, report["token"])
    assert rows(data) == [
        ("Alpha", "Bell", "Python"),
        ("Alpha", "Cole", "SQL"),
        ("Beta", "Ames", "Python"),
        ("Beta", "Ames", "SQL"),
        ("Beta", "Bell", "Python"),
    ]
    assert data["groupProgress"]["totalCount"] == 5
    page = await api.data(REPORT, {"first": 2}, report["token"])
    rest = await api.data(
        REPORT, {"after": page["groupProgress"]["pageInfo"]["endCursor"]}, report["token"]
    )
    assert rows(page) + rows(rest) == rows(data)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"status": "NOT_STARTED"}, [("Beta", "Ames", "Python")]),
        ({"status": "IN_PROGRESS"}, [("Alpha", "Bell", "Python"), ("Beta", "Bell", "Python")]),
        ({"status": "COMPLETED"}, [("Alpha", "Cole", "SQL"), ("Beta", "Ames", "SQL")]),
        # "after" includes its moment, "before" excludes it.
        (
            {"activatedAfter": "2026-03-03T00:00:00Z"},
            [("Alpha", "Bell", "Python"), ("Alpha", "Cole", "SQL"), ("Beta", "Bell", "Python")],
        ),
        ({"activatedBefore": "2026-03-02T00:00:00Z"}, [("Beta", "Ames", "Python")]),
        ({"completedAfter": "2026-03-08T00:00:00Z"}, [("Alpha", "Cole", "SQL")]),
        ({"completedBefore": "2026-03-08T00:00:00Z"}, [("Beta", "Ames", "SQL")]),
    ],
)
async def test_report_filters(
    api: Api, report: dict[str, Any], flt: dict[str, Any], expected: list[tuple[str, str, str]]
) -> None:
    data = await api.data(REPORT, {"filter": flt}, report["token"])
    assert rows(data) == expected
    assert data["groupProgress"]["totalCount"] == len(expected)


async def test_report_group_and_course_filters(api: Api, report: dict[str, Any]) -> None:
    by_group = await api.data(REPORT, {"filter": {"groupIds": [report["alpha"]]}}, report["token"])
    assert rows(by_group) == [("Alpha", "Bell", "Python"), ("Alpha", "Cole", "SQL")]
    both = {"groupIds": [report["beta"]], "courseIds": [report["sql"]]}
    assert rows(await api.data(REPORT, {"filter": both}, report["token"])) == [
        ("Beta", "Ames", "SQL")
    ]


async def test_report_filter_input_errors(api: Api, report: dict[str, Any]) -> None:
    for flt, field in [
        ({"groupIds": [report["python"]]}, "filter.groupIds"),
        ({"courseIds": ["nonsense"]}, "filter.courseIds"),
        ({"activatedAfter": "2026-03-01T00:00:00"}, "filter.activatedAfter"),
    ]:
        body = await api.raw(REPORT, {"filter": flt}, report["token"])
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["field"] == field


async def test_group_progress_field_pages_and_filters(api: Api, report: dict[str, Any]) -> None:
    query = """query($id: ID!, $after: String, $filter: ProgressFilter) { node(id: $id) {
      ... on Group { progress(first: 1, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { student { lastName } course { name } group { name } } } } } } }"""
    token = report["token"]
    first = (await api.data(query, {"id": report["beta"]}, token))["node"]["progress"]
    assert first["totalCount"] == 3
    assert [e["node"]["course"]["name"] for e in first["edges"]] == ["Python"]
    assert first["edges"][0]["node"]["group"] == {"name": "Beta"}
    after = first["pageInfo"]["endCursor"]
    second = (await api.data(query, {"id": report["beta"], "after": after}, token))["node"]
    assert [
        (e["node"]["student"]["lastName"], e["node"]["course"]["name"])
        for e in second["progress"]["edges"]
    ] == [("Ames", "SQL")]
    completed = await api.data(
        query, {"id": report["beta"], "filter": {"status": "COMPLETED"}}, token
    )
    assert completed["node"]["progress"]["totalCount"] == 1
