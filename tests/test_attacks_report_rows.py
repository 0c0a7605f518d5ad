"""Report rows by id: `node(id:)` with a `GroupProgressRow` id (group + enrollment) answers only
rows the viewer's report holds, and crafted ids answer like missing ones or BAD_USER_INPUT.

The viewers and their world: `tests.attack_scene`.
"""

from __future__ import annotations

import base64

import pytest

from app.ids import to_global_id
from tests.attack_scene import NODE, Scene
from tests.support import Api

ROWS = """{ groupProgress(first: 100) { edges { node {
  id group { name } student { lastName email } progress { id expiresAt } } } } }"""

ROW = """query($id: ID!) { node(id: $id) { ... on GroupProgressRow {
  id group { name } student { lastName email } progress { id expiresAt } } } }"""


def _raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


async def _rows(api: Api, scene: Scene) -> dict[tuple[str, str], dict[str, object]]:
    """Every report row, as the admin reads them, by (group name, student last name)."""
    data = await api.data(ROWS, token=scene.tokens["admin"])
    return {
        (e["node"]["group"]["name"], e["node"]["student"]["lastName"]): e["node"]
        for e in data["groupProgress"]["edges"]
    }


async def test_a_row_by_id_is_the_row_of_the_report(api: Api, scene: Scene) -> None:
    rows = await _rows(api, scene)
    for (group, last), row in rows.items():
        fetched = await api.data(ROW, {"id": row["id"]}, scene.tokens["admin"])
        assert fetched["node"] == row, (group, last)
    # The analyst of Alpha reads Alpha's row whole, with the student's email.
    row = rows[("Alpha", "One")]
    seen = await api.data(ROW, {"id": row["id"]}, scene.tokens["analyst"])
    assert seen["node"] == row


@pytest.mark.parametrize("viewer", ["anonymous", "analyst", "co", "expired", "s1", "s3", "dual"])
async def test_a_row_out_of_the_viewers_report_answers_like_a_missing_one(
    api: Api, scene: Scene, viewer: str
) -> None:
    """Beta's rows (Uma Three, Dana Dual) to everyone but Beta's analyst and admins; the
    students (s3, dual) included: a student is in no report, not even its own row."""
    rows = await _rows(api, scene)
    missing = await api.raw(NODE, {"id": to_global_id("GroupProgressRow", 999_999, 999_999)})
    for key in [("Beta", "Three"), ("Beta", "Dual")]:
        probe = await api.raw(NODE, {"id": rows[key]["id"]}, scene.tokens[viewer])
        assert probe == missing == {"data": {"node": None}}, (viewer, key)


async def test_a_row_pairing_a_group_with_another_groups_enrollment_is_missing(
    api: Api, scene: Scene
) -> None:
    """A visible group with an enrollment of someone outside it names no row (the admin sees
    both: the pair itself must exist in the report)."""
    rows = await _rows(api, scene)
    alpha_row = rows[("Alpha", "One")]["id"]
    beta_progress = rows[("Beta", "Three")]["progress"]
    assert isinstance(alpha_row, str) and isinstance(beta_progress, dict)
    alpha_id = base64.urlsafe_b64decode(alpha_row).decode().split(":")[1]
    enrollment = base64.urlsafe_b64decode(beta_progress["id"]).decode().split(":")[1]
    crafted = _raw_id(f"GroupProgressRow:{alpha_id}:{enrollment}")
    for viewer in ("admin", "analyst"):
        assert await api.data(NODE, {"id": crafted}, scene.tokens[viewer]) == {"node": None}


@pytest.mark.parametrize(
    "text",
    [
        "GroupProgressRow:1:2:3",
        "GroupProgressRow:1:",
        "GroupProgressRow::1",
        "GroupProgressRow:-1:2",
        "GroupProgressRow:1:99999999999999999999",
        "GroupProgressRow:1:\u0662",  # Arabic-Indic digit two
        "GroupProgressRow:1:2\x00",
        "GroupProgressRow:\ufeff1:2",
    ],
)
async def test_crafted_row_ids_are_bad_input(api: Api, scene: Scene, text: str) -> None:
    body = await api.raw(NODE, {"id": _raw_id(text)}, scene.tokens["admin"])
    assert body["data"] == {"node": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "id"


async def test_a_row_id_of_one_key_or_a_pair_on_another_type_is_missing(
    api: Api, scene: Scene
) -> None:
    for id_ in (
        to_global_id("GroupProgressRow", 1),
        to_global_id("User", 1, 2),
        to_global_id("Progress", 1, 2),
    ):
        assert await api.data(NODE, {"id": id_}, scene.tokens["admin"]) == {"node": None}
