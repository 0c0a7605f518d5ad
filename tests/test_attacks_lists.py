"""List filters and counts: searches, role and group filters, report filters and `totalCount`
reveal nothing hidden.

The viewers and their world: `tests.attack_scene`."""

from __future__ import annotations

import pytest

from tests.attack_scene import (
    USERS,
    Scene,
)
from tests.support import Api, gid


@pytest.mark.parametrize(
    ("search", "viewer"),
    [
        ("cody.secret", "analyst"),  # a co-analyst's email
        ("partner.io", "dual"),
        ("uma.hidden", "analyst"),  # a stranger's email
        ("Uma", "analyst"),  # a stranger's name
        ("uma.hidden", "s1"),
        ("sue.one", "other"),  # a member of a group the viewer does not analyse
        ("sue.one", "expired"),
        ("Initech", "analyst"),  # a stranger's company
    ],
)
async def test_search_reveals_nothing_hidden(
    api: Api, scene: Scene, search: str, viewer: str
) -> None:
    data = await api.data(USERS, {"filter": {"search": search}}, scene.tokens[viewer])
    assert data["users"] == {"totalCount": 0, "edges": []}
    for group, token in ((scene.alpha, "analyst"), (scene.beta, "other")):
        members = await api.data(
            """query($id: ID!, $s: String) { node(id: $id) { ... on Group {
              members(search: $s) { totalCount edges { node { id } } } } } }""",
            {"id": gid("Group", group.id), "s": search},
            scene.tokens[token],
        )
        if search in ("cody.secret", "partner.io", "Initech") or token != viewer:
            continue
        assert members["node"]["members"]["totalCount"] == 0


async def test_role_and_group_filters_reveal_nothing_hidden(api: Api, scene: Scene) -> None:
    # Roles are private: an analyst learns no one's roles but its own through the filter.
    by_role = await api.data(USERS, {"filter": {"role": "GROUP_ANALYST"}}, scene.tokens["analyst"])
    assert [e["node"]["lastName"] for e in by_role["users"]["edges"]] == ["Analyst"]
    assert by_role["users"]["totalCount"] == 1
    # Another group's analysts: as empty as a group that does not exist.
    for viewer in ("analyst", "expired", "s1"):
        hidden = await api.raw(
            USERS,
            {"filter": {"groupAnalystFor": gid("Group", scene.beta.id)}},
            scene.tokens[viewer],
        )
        missing = await api.raw(
            USERS, {"filter": {"groupAnalystFor": gid("Group", 999_999)}}, scene.tokens[viewer]
        )
        assert hidden == missing == {"data": {"users": {"totalCount": 0, "edges": []}}}


async def test_counts_count_only_visible_rows(api: Api, scene: Scene) -> None:
    query = """{ users { totalCount } groups { totalCount } courses { totalCount }
      groupProgress { totalCount } }"""
    expected = {
        # itself, s1 (member), co, dual (co-analysts)
        "analyst": {"users": 4, "groups": 1, "courses": 2, "groupProgress": 1},
        "expired": {"users": 1, "groups": 0, "courses": 2, "groupProgress": 0},
        "s1": {"users": 1, "groups": 0, "courses": 1, "groupProgress": 0},
        "dual": {"users": 4, "groups": 1, "courses": 2, "groupProgress": 1},
    }
    for viewer, counts in expected.items():
        data = await api.data(query, token=scene.tokens[viewer])
        assert {k: v["totalCount"] for k, v in data.items()} == counts, viewer


async def test_report_filters_with_hidden_ids_answer_like_missing_ones(
    api: Api, scene: Scene
) -> None:
    query = """query($f: ProgressFilter) { groupProgress(filter: $f) {
      totalCount edges { node { student { lastName } } } } }"""
    for viewer in ("analyst", "dual", "s3"):
        hidden = await api.raw(
            query, {"f": {"groupIds": [gid("Group", scene.beta.id)]}}, scene.tokens[viewer]
        )
        missing = await api.raw(
            query, {"f": {"groupIds": [gid("Group", 999_999)]}}, scene.tokens[viewer]
        )
        assert hidden == missing, viewer
        assert hidden["data"]["groupProgress"]["totalCount"] == 0


async def test_a_dual_role_user_sees_its_own_side_only(api: Api, scene: Scene) -> None:
    """An analyst of Alpha who is a student in Beta learns nothing of Beta's other members."""
    query = """query($id: ID!) { node(id: $id) { ... on User { email progress { id } groups {
      name } } } }"""
    hidden = await api.data(query, {"id": gid("User", scene.s3.id)}, scene.tokens["dual"])
    assert hidden["node"] is None
    me = await api.data(query, {"id": gid("User", scene.dual.id)}, scene.tokens["dual"])
    assert me["node"]["email"] and len(me["node"]["progress"]) == 1
    # Beta is its class, not a group it analyses: it is not shown (nor its other members).
    assert me["node"]["groups"] == []
