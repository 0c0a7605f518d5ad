"""Ids: `node(id:)` with every type name, private assignments and crafted global ids answer a
hidden object exactly like a missing one.

The viewers and their world: `tests.attack_scene`."""

from __future__ import annotations

import base64

import pytest

from app.models import User
from tests.attack_scene import (
    NODE,
    Scene,
    csv_export,
)
from tests.support import Api, gid

ASSIGNMENT = """query($id: ID!) { node(id: $id) { ... on GroupAnalystAssignment {
  id expiresAt assignedAt analyst { lastName } assignedBy { lastName }
} } }"""


async def _assignment_id(api: Api, scene: Scene, user: User) -> str:
    data = await api.data(
        "query($id: ID!) { node(id: $id) { ... on User { analystAssignments { id } } } }",
        {"id": gid("User", user.id)},
        scene.tokens["admin"],
    )
    ids: list[str] = [a["id"] for a in data["node"]["analystAssignments"]]
    return ids[0]


async def test_a_co_analysts_assignment_is_private(api: Api, scene: Scene) -> None:
    """Co-analysts see each other's names only: not when or by whom the other was assigned,
    nor when its access ends (its assignments list is private; so is each assignment)."""
    co_assignment = await _assignment_id(api, scene, scene.co)
    own = await _assignment_id(api, scene, scene.analyst)
    missing = gid("GroupAnalystAssignment", 999_999)
    for viewer in ("analyst", "dual"):
        probe = await api.raw(ASSIGNMENT, {"id": co_assignment}, scene.tokens[viewer])
        absent = await api.raw(ASSIGNMENT, {"id": missing}, scene.tokens[viewer])
        assert probe == absent == {"data": {"node": None}}, viewer
    # Its own assignment, and the admin's view, stay visible.
    mine = await api.data(ASSIGNMENT, {"id": own}, scene.tokens["analyst"])
    assert mine["node"]["id"] == own
    # Assigned by the owner, whom an analyst may not see: null, not the owner's name.
    assert mine["node"]["assignedBy"] is None
    assert mine["node"]["analyst"] == {"lastName": "Analyst"}
    seen = await api.data(ASSIGNMENT, {"id": co_assignment}, scene.tokens["co"])
    assert seen["node"]["expiresAt"] is not None
    assert (await api.data(ASSIGNMENT, {"id": co_assignment}, scene.tokens["admin"]))["node"]


@pytest.mark.parametrize(
    "type_name", ["User", "Group", "Course", "Lesson", "Progress", "GroupAnalystAssignment",
                  "ApiToken", "AuditEvent", "Nope"],
)  # fmt: skip
async def test_node_of_any_type_answers_missing_and_hidden_alike(
    api: Api, scene: Scene, type_name: str
) -> None:
    for viewer in ("anonymous", "s1", "expired", "other"):
        for pk in (1, 2, 3, 5, 8, 13):
            probe = await api.raw(NODE, {"id": gid(type_name, pk)}, scene.tokens[viewer])
            if probe.get("data", {}).get("node") is not None:
                continue  # visible to this viewer: fine
            missing = await api.raw(NODE, {"id": gid(type_name, 999_999)}, scene.tokens[viewer])
            assert probe == missing, (viewer, type_name, pk)


async def test_a_student_cannot_reach_an_unenrolled_courses_lessons(api: Api, scene: Scene) -> None:
    lessons = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Course { lessons { id } } } }",
        {"id": gid("Course", scene.zen.id)},
        scene.tokens["admin"],
    )
    for lesson in lessons["node"]["lessons"]:
        assert (await api.data(NODE, {"id": lesson["id"]}, scene.tokens["s1"]))["node"] is None
        assert (await api.data(NODE, {"id": lesson["id"]}, scene.tokens["s3"]))["node"]


@pytest.mark.parametrize(
    "pk",
    ["\N{SUPERSCRIPT TWO}", "\N{ARABIC-INDIC DIGIT ONE}", "0x1", "2147483648", str(10**17)],
)
async def test_a_crafted_global_id_is_bad_input_or_absent(api: Api, scene: Scene, pk: str) -> None:
    """Digits that are not ASCII, or a key beyond the id columns' range, are not ids: never an
    internal error, nor a second spelling."""
    forged = base64.urlsafe_b64encode(f"Group:{pk}".encode()).decode()
    body = await api.raw(NODE, {"id": forged}, scene.tokens["admin"])
    assert body.get("data") in (None, {"node": None}), body
    if body.get("errors"):
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    response = await csv_export(api, [("groupId", forged)], scene.tokens["admin"])
    assert response.status_code == 400, response.text


def _other_spellings(canonical: str) -> list[str]:
    raw = base64.urlsafe_b64decode(canonical + "=" * (-len(canonical) % 4))
    type_name, _, pk = raw.decode().partition(":")
    return [
        canonical + "\x00",  # the decoder skips bytes outside its alphabet
        "\x00" + canonical,
        canonical + ".",
        base64.urlsafe_b64encode(f"{type_name}:0{pk}".encode()).decode(),  # leading zero
        base64.urlsafe_b64encode(f"{type_name}:{pk}\n".encode()).decode(),
    ]


async def test_an_object_has_one_id_only(api: Api, scene: Scene) -> None:
    """Another spelling of a real id (stray NUL, leading zero, trailing newline) finds
    nothing, so ids can be compared as strings by clients and caches; the issued id with
    its padding dropped still works."""
    group_id = gid("Group", scene.alpha.id)
    found = await api.data(NODE, {"id": group_id}, scene.tokens["admin"])
    assert found["node"] is not None
    unpadded = await api.data(NODE, {"id": group_id.rstrip("=")}, scene.tokens["admin"])
    assert unpadded == found
    for spelling in _other_spellings(group_id):
        body = await api.raw(NODE, {"id": spelling}, scene.tokens["admin"])
        assert body.get("data") in (None, {"node": None}), (spelling, body)
        if body.get("errors"):
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


TOKEN_NODE = "query($id: ID!) { node(id: $id) { id ... on ApiToken { name } } }"


async def test_a_token_is_fetchable_by_node_by_its_own_user_only(api: Api, scene: Scene) -> None:
    """`node` reads tokens through the scoped loader: not even an admin reads another's."""
    created = await api.data(
        'mutation { createApiToken(input: {name: "s3-laptop"}) { apiToken { id } } }',
        token=scene.tokens["s3"],
    )
    token_id = created["createApiToken"]["apiToken"]["id"]
    own = await api.data(TOKEN_NODE, {"id": token_id}, scene.tokens["s3"])
    assert own == {"node": {"id": token_id, "name": "s3-laptop"}}
    for viewer in ("anonymous", "s1", "analyst", "admin"):
        theirs = await api.raw(TOKEN_NODE, {"id": token_id}, scene.tokens[viewer])
        missing = await api.raw(TOKEN_NODE, {"id": gid("ApiToken", 999_999)}, scene.tokens[viewer])
        assert theirs == missing == {"data": {"node": None}}, viewer
