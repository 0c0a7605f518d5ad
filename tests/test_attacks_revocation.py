"""Access that ends: an expired assignment, a revoked role or an expiry given in another time zone
takes effect at the next request.

The viewers and their world: `tests.attack_scene`."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from sqlmodel import col, update

from app.db import Database
from app.models import AnalystAssignment, utcnow
from tests.attack_scene import (
    USERS,
    Scene,
    csv_export,
)
from tests.support import Api, World, gid


async def test_an_assignment_that_expires_between_requests_stops_at_once(
    api: Api, db: Database, scene: Scene
) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on User { email } } }"""
    variables = {"id": gid("User", scene.s1.id)}
    assert (await api.data(query, variables, scene.tokens["co"]))["node"]["email"]
    async with db.write() as session:
        await session.execute(
            update(AnalystAssignment)
            .where(col(AnalystAssignment.analyst_id) == scene.co.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (await api.data(query, variables, scene.tokens["co"]))["node"] is None
    data = await api.data(USERS, {"filter": {"search": "one"}}, scene.tokens["co"])
    assert data["users"]["totalCount"] == 0


async def test_a_revoked_role_stops_access_and_frees_the_assignments(
    api: Api, scene: Scene
) -> None:
    revoke = """mutation($id: ID!) { setUserRoles(input: {userId: $id, roles: [STUDENT]}) {
      user { id } } }"""
    seats = "{ site { groupAnalystSeats { used } } }"
    before = (await api.data(seats, token=scene.tokens["admin"]))["site"]["groupAnalystSeats"]
    await api.data(revoke, {"id": gid("User", scene.co.id)}, scene.tokens["admin"])
    after = (await api.data(seats, token=scene.tokens["admin"]))["site"]["groupAnalystSeats"]
    assert after["used"] == before["used"] - 1
    data = await api.data(
        "{ groups { totalCount } users { totalCount } }", token=scene.tokens["co"]
    )
    assert data == {"groups": {"totalCount": 0}, "users": {"totalCount": 1}}
    analysts = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Group { analysts { lastName } } } }",
        {"id": gid("Group", scene.alpha.id)},
        scene.tokens["analyst"],
    )
    assert "Coanalyst" not in [a["lastName"] for a in analysts["node"]["analysts"]]


async def test_a_revoked_admin_sees_only_itself_at_once(
    api: Api, world: World, scene: Scene
) -> None:
    owner = await world.token(world.owner)
    query = "{ users { totalCount } groups { totalCount } }"
    assert (await api.data(query, token=scene.tokens["admin"]))["users"]["totalCount"] > 1
    await api.data(
        """mutation($id: ID!) { setUserRoles(input: {userId: $id, roles: [STUDENT]}) {
          user { id } } }""",
        {"id": gid("User", scene.admin.id)},
        owner,
    )
    data = await api.data(query, token=scene.tokens["admin"])
    assert data == {"users": {"totalCount": 1}, "groups": {"totalCount": 0}}
    assert (await csv_export(api, [], scene.tokens["admin"])).status_code == 403


@pytest.mark.parametrize("offset_hours", [-12, 14])
async def test_an_expiry_in_any_time_zone_is_compared_as_an_instant(
    api: Api, scene: Scene, offset_hours: int
) -> None:
    """SQLite stores text: an expiry given as local time must not shift who sees what."""
    zone = timezone(timedelta(hours=offset_hours))
    assign = """mutation($g: ID!, $u: ID!, $e: DateTime) {
      assignGroupAnalyst(input: {groupId: $g, userId: $u, expiresAt: $e}) { assignment { id } } }"""
    soon = (utcnow() + timedelta(minutes=30)).astimezone(zone).isoformat()
    variables = {"g": gid("Group", scene.alpha.id), "u": gid("User", scene.other.id), "e": soon}
    await api.data(assign, variables, scene.tokens["admin"])
    groups = await api.data("{ groups { edges { node { name } } } }", token=scene.tokens["other"])
    assert sorted(e["node"]["name"] for e in groups["groups"]["edges"]) == ["Alpha", "Beta"]
