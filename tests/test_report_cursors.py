"""Report cursors hold only what the viewer may read on their row.

A report cursor carries its row's sort key (group, student's names and email, course, ids).
Every report row's student is a member of a group the viewer sees, whose email the viewer may
read today; these tests construct the other case, a report whose students' emails the viewer
may not read, by narrowing `rules.CONTACT` to admins and the user itself, and check the
cursors then hold no email while the pages still walk the whole report once. (Cursors are
also encrypted, `app.pagination`: this checks what they hold once opened with the server's
key, so that a leaked key would not leak hidden emails either.)
"""

from __future__ import annotations

from typing import Any

import pytest

from app.models import Role
from app.pagination import decode_cursor
from permissions import rules
from permissions.rules import PeopleRule
from tests.support import Api, World, gid

REPORT = """query($first: Int, $after: String) {
  groupProgress(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id student { lastName } } }
  }
}"""

GROUP_REPORT = """query($id: ID!, $first: Int, $after: String) {
  node(id: $id) { ... on Group { progress(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id student { lastName } } }
  } } }
}"""

# Contact details for admins and the user itself only: an analyst's members' emails hidden.
HIDDEN_CONTACT = PeopleRule("contact", "site admins and the user itself")


def _decoded(cursor: str) -> list[Any]:
    """The sort key a cursor holds (the report's order has eight columns)."""
    return decode_cursor(cursor, 8)


async def _walk(api: Api, token: str, query: str, path: list[str], **variables: Any) -> list[Any]:
    """Every edge of the report, two rows a page."""
    edges: list[Any] = []
    after = None
    while True:
        data: Any = await api.data(query, {**variables, "first": 2, "after": after}, token)
        for key in path:
            data = data[key]
        edges += data["edges"]
        if not data["pageInfo"]["hasNextPage"]:
            return edges
        after = data["pageInfo"]["endCursor"]


async def _analyst_report(world: World) -> tuple[str, str, list[str]]:
    """An analyst's group of three enrolled students; its token, the group id, the emails."""
    students = [await world.user("Sam", name) for name in ("Ames", "Baker", "Cole")]
    group = await world.group("Cohort", members=tuple(students))
    course = await world.course("Python")
    for student in students:
        await world.enroll(student, course)
    analyst = await world.user("Ana", "Lyst", Role.GROUP_ANALYST)
    await world.assign(analyst, group)
    return await world.token(analyst), gid("Group", group.id), [s.email for s in students]


@pytest.mark.parametrize("hidden", [False, True])
async def test_report_cursors_hold_an_email_only_where_the_viewer_may_read_it(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch, hidden: bool
) -> None:
    token, group_id, emails = await _analyst_report(world)
    if hidden:
        monkeypatch.setattr(rules, "CONTACT", HIDDEN_CONTACT)
    for query, path, variables in (
        (REPORT, ["groupProgress"], {}),
        (GROUP_REPORT, ["node", "progress"], {"id": group_id}),
    ):
        edges = await _walk(api, token, query, path, **variables)
        # The whole report, once, in order, whatever the cursors hold.
        assert [e["node"]["student"]["lastName"] for e in edges] == ["Ames", "Baker", "Cole"]
        keys = [_decoded(e["cursor"]) for e in edges]
        in_cursors = {value for key in keys for value in key if isinstance(value, str)}
        if hidden:
            assert not in_cursors & set(emails)
            assert not any("@" in value for value in in_cursors)
        else:
            # The case the test constructs matters: readable emails are in the keys.
            assert set(emails) <= in_cursors
