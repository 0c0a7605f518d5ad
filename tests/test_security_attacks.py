"""Attacks on the access rules (DESIGN.md §2) from every angle a real client has.

Each test plays a client trying to learn something it may not see: an email, a membership,
an assignment, whether an id exists. The viewers: an analyst of Alpha, its co-analyst, an
analyst whose assignment expired, the analyst of Beta, a student, anonymous, and a user who
is both an analyst (of Alpha) and a student (in Beta).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from sqlmodel import col, update

from app import export_links
from app.db import Database
from app.main import create_app
from app.models import AnalystAssignment, Course, Group, Role, User, utcnow
from app.settings import Settings
from tests.support import Api, World, gid


@dataclass
class Scene:
    admin: User
    analyst: User  # analyses Alpha
    co: User  # analyses Alpha too; not a member of any group
    expired: User  # its assignment to Alpha has expired
    other: User  # analyses Beta only
    dual: User  # analyses Alpha and is a student in Beta
    s1: User  # in Alpha
    s3: User  # in Beta only
    alpha: Group
    beta: Group
    course: Course
    zen: Course  # only s3 is enrolled
    tokens: dict[str, str | None]


@pytest.fixture
async def scene(world: World) -> Scene:
    now = utcnow()
    admin = await world.user("Adam", "Admin", Role.SITE_ADMIN)
    analyst = await world.user("Ana", "Analyst", Role.GROUP_ANALYST)
    co = await world.user("Cody", "Coanalyst", Role.GROUP_ANALYST, email="cody.secret@partner.io")
    expired = await world.user("Eve", "Expired", Role.GROUP_ANALYST)
    other = await world.user("Otto", "Other", Role.GROUP_ANALYST)
    dual = await world.user("Dana", "Dual", Role.GROUP_ANALYST, Role.STUDENT)
    s1 = await world.user("Sue", "One", email="sue.one@students.io")
    s3 = await world.user("Uma", "Three", email="uma.hidden@students.io", company="Initech")
    alpha = await world.group("Alpha", members=(s1,))
    beta = await world.group("Beta", members=(s3, dual))
    await world.assign(analyst, alpha)
    await world.assign(co, alpha, expires_at=now + timedelta(days=365))
    await world.assign(expired, alpha, expires_at=now - timedelta(minutes=1))
    await world.assign(other, beta)
    await world.assign(dual, alpha)
    course = await world.course("Python", 4)
    zen = await world.course("Zen", 2)
    for student in (s1, s3, dual):
        await world.enroll(student, course, viewed=2, completed=1)
    await world.enroll(s3, zen, viewed=1, expires_at=now + timedelta(days=30))
    tokens: dict[str, str | None] = {"anonymous": None}
    for name, user in [
        ("admin", admin),
        ("analyst", analyst),
        ("co", co),
        ("expired", expired),
        ("other", other),
        ("dual", dual),
        ("s1", s1),
        ("s3", s3),
    ]:
        tokens[name] = await world.token(user)
    return Scene(admin, analyst, co, expired, other, dual, s1, s3, alpha, beta, course, zen, tokens)


def cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode()


def decoded(value: str) -> str:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()


def errors_without_locations(body: dict[str, Any]) -> dict[str, Any]:
    """The body with error locations (which differ between two query texts) left out."""
    out = dict(body)
    if "errors" in out:
        out["errors"] = [{k: v for k, v in e.items() if k != "locations"} for e in out["errors"]]
    return out


# -- cursors ----------------------------------------------------------------------------

USERS = """query($after: String, $filter: UserFilter) {
  users(first: 100, after: $after, filter: $filter) {
    totalCount edges { cursor node { id lastName email } }
  }
}"""


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
        answers.append(errors_without_locations(body))
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


# -- node(id:) with every type name -------------------------------------------------------

NODE = "query($id: ID!) { node(id: $id) { id __typename } }"
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


# -- list filters and counts ----------------------------------------------------------------


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


# -- mutations ----------------------------------------------------------------------------------

RENAME = """mutation($id: ID!) { renameGroup(input: {groupId: $id, name: "Pwned"}) {
  group { name } } }"""
ADD = """mutation($g: ID!, $u: ID!) { addGroupMembers(input: {groupId: $g, userIds: [$u]}) {
  group { name } } }"""
ASSIGN = """mutation($g: ID!, $u: ID!) { assignGroupAnalyst(input: {groupId: $g, userId: $u}) {
  assignment { id } } }"""
COMPLETE = """mutation($l: ID!, $u: ID) { completeLesson(input: {lessonId: $l, userId: $u}) {
  changed } }"""


async def test_mutations_refuse_hidden_and_missing_ids_alike(api: Api, scene: Scene) -> None:
    for viewer in ("analyst", "other", "s1"):
        token = scene.tokens[viewer]
        for query, hidden, missing in [
            (RENAME, {"id": gid("Group", scene.beta.id)}, {"id": gid("Group", 999_999)}),
            (
                ADD,
                {"g": gid("Group", scene.beta.id), "u": gid("User", scene.s3.id)},
                {"g": gid("Group", 999_999), "u": gid("User", 999_998)},
            ),
            (
                ASSIGN,
                {"g": gid("Group", scene.beta.id), "u": gid("User", scene.other.id)},
                {"g": gid("Group", 999_999), "u": gid("User", 999_998)},
            ),
        ]:
            a = await api.raw(query, hidden, token)
            b = await api.raw(query, missing, token)
            assert a == b, (viewer, query)
            assert a["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Nothing changed.
    data = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Group { name } } }",
        {"id": gid("Group", scene.beta.id)},
        scene.tokens["admin"],
    )
    assert data["node"]["name"] == "Beta"


async def test_complete_lesson_for_someone_else(api: Api, scene: Scene) -> None:
    lessons = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Course { lessons { id } } } }",
        {"id": gid("Course", scene.course.id)},
        scene.tokens["admin"],
    )
    lesson = lessons["node"]["lessons"][0]["id"]
    # A student: another student is as absent as a user that does not exist.
    hidden = await api.raw(
        COMPLETE, {"l": lesson, "u": gid("User", scene.s3.id)}, scene.tokens["s1"]
    )
    missing = await api.raw(COMPLETE, {"l": lesson, "u": gid("User", 999_999)}, scene.tokens["s1"])
    assert errors_without_locations(hidden) == errors_without_locations(missing)
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # An analyst sees its member but may not record progress for it.
    code = await api.error_code(COMPLETE, {"l": lesson, "u": gid("User", scene.s1.id)},
                                scene.tokens["analyst"])  # fmt: skip
    assert code == "FORBIDDEN"
    # Nothing was recorded for s1 or s3.
    data = await api.data(
        "{ groupProgress(first: 100) { edges { node { percentCompleted } } } }",
        token=scene.tokens["admin"],
    )
    assert {e["node"]["percentCompleted"] for e in data["groupProgress"]["edges"]} == {25.0, 0.0}


async def test_revoking_another_users_token_answers_like_a_missing_one(
    api: Api, scene: Scene
) -> None:
    created = await api.data(
        'mutation { createApiToken(input: {name: "mine"}) { apiToken { id } } }',
        token=scene.tokens["s3"],
    )
    token_id = created["createApiToken"]["apiToken"]["id"]
    revoke = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { id } } }"
    for viewer in ("s1", "analyst", "admin"):
        theirs = await api.raw(revoke, {"id": token_id}, scene.tokens[viewer])
        missing = await api.raw(revoke, {"id": gid("ApiToken", 999_999)}, scene.tokens[viewer])
        assert theirs == missing, viewer
        assert theirs["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # The token still works.
    assert (await api.data("{ viewer { lastName } }", token=scene.tokens["s3"]))["viewer"]


async def test_login_answers_alike_for_unknown_email_and_wrong_password(
    api: Api, world: World
) -> None:
    await world.user("Pat", "Word", email="pat@example.com", password="correct horse")
    login = """mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) {
      token } }"""
    wrong = await api.raw(login, {"e": "pat@example.com", "p": "nope"})
    unknown = await api.raw(login, {"e": "nobody@example.com", "p": "nope"})
    assert wrong == unknown
    assert wrong["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# -- batching and aliases ------------------------------------------------------------------


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


# -- the CSV export --------------------------------------------------------------------------


async def _csv(api: Api, params: list[tuple[str, str]], token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await api.client.get(f"/exports/progress.csv?{urlencode(params)}", headers=headers)


async def test_export_answers_hidden_and_missing_ids_alike(api: Api, scene: Scene) -> None:
    for viewer in ("analyst", "dual", "expired"):
        for key, hidden, missing in [
            ("groupId", gid("Group", scene.beta.id), gid("Group", 999_999)),
        ]:
            a = await _csv(api, [(key, hidden)], scene.tokens[viewer])
            b = await _csv(api, [(key, missing)], scene.tokens[viewer])
            assert (a.status_code, a.json()) == (b.status_code, b.json()), viewer
            assert a.status_code == 404
    everything = await _csv(api, [], scene.tokens["dual"])
    assert everything.status_code == 200
    assert "uma.hidden" not in everything.text and "Beta" not in everything.text


async def test_a_signed_link_carries_no_access_of_its_own(
    api: Api, db: Database, scene: Scene
) -> None:
    data = await api.data(
        "query($g: [ID!]) { progressExportUrl(groupIds: $g) }",
        {"g": [gid("Group", scene.alpha.id)]},
        scene.tokens["co"],
    )
    link: str = data["progressExportUrl"]
    ok = await api.client.get(link)
    assert ok.status_code == 200 and "sue.one@students.io" in ok.text
    # Tampering with any parameter (the group, the viewer) breaks the signature.
    path, _, query = link.partition("?")
    items = parse_qsl(query)
    for key, value in [("groupId", gid("Group", scene.beta.id)), ("viewer", str(scene.admin.id))]:
        forged = [(k, value if k == key else v) for k, v in items]
        response = await api.client.get(f"{path}?{urlencode(forged)}")
        assert response.status_code == 401, key
    # Once the viewer's assignment ends, the link exports nothing.
    async with db.write() as session:
        await session.execute(
            update(AnalystAssignment)
            .where(col(AnalystAssignment.analyst_id) == scene.co.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    replay = await api.client.get(link)
    assert replay.status_code == 404
    assert "sue.one" not in replay.text


async def test_without_a_configured_key_links_cannot_be_forged(
    db: Database, scene: Scene, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """A deployment that forgot GROUPANALYST_SECRET_KEY must not sign links with a key
    printed in the source: anyone could forge the owner's link and export every email."""
    monkeypatch.delenv("GROUPANALYST_SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings = Settings.from_env()
    assert settings.secret_key != "dev-only-change-me"
    public = replace(settings, secret_key="dev-only-change-me")
    forged = export_links.signed_path(public, scene.admin.id or 0, [], utcnow())
    app = create_app(settings, db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get(forged)
        assert response.status_code == 401
        assert "uma.hidden" not in response.text
        # A link the deployment signed itself still works.
        own = export_links.signed_path(settings, scene.admin.id or 0, [], utcnow())
        assert (await client.get(own)).status_code == 200
    assert Settings().secret_key != Settings().secret_key  # no shared default


async def test_a_lesson_of_another_course_answers_like_a_missing_one(
    api: Api, scene: Scene
) -> None:
    lessons = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Course { lessons { id } } } }",
        {"id": gid("Course", scene.zen.id)},
        scene.tokens["admin"],
    )
    zen_lesson = lessons["node"]["lessons"][0]["id"]
    hidden = await api.raw(COMPLETE, {"l": zen_lesson}, scene.tokens["s1"])
    missing = await api.raw(COMPLETE, {"l": gid("Lesson", 999_999)}, scene.tokens["s1"])
    assert errors_without_locations(hidden) == errors_without_locations(missing)
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "Zen" not in str(hidden)


async def test_dead_tokens_and_lost_roles_stop_everything(
    api: Api, world: World, scene: Scene
) -> None:
    link = (
        await api.data(
            "query($g: [ID!]) { progressExportUrl(groupIds: $g) }",
            {"g": [gid("Group", scene.alpha.id)]},
            scene.tokens["analyst"],
        )
    )["progressExportUrl"]
    expired_token = await world.token(scene.analyst, ttl=timedelta(seconds=-1))
    created = await api.data(
        'mutation { createApiToken(input: {name: "x"}) { token apiToken { id } } }',
        token=scene.tokens["analyst"],
    )
    revoked_token = created["createApiToken"]["token"]
    await api.data(
        "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { id } } }",
        {"id": created["createApiToken"]["apiToken"]["id"]},
        scene.tokens["analyst"],
    )
    for dead in (expired_token, revoked_token, "ga_forged"):
        response = await api.post("{ users { totalCount } }", token=dead)
        assert response.status_code == 401
        assert (await _csv(api, [], dead)).status_code == 401
    # The analyst loses its role: its signed link (still unexpired) exports nothing.
    await api.data(
        """mutation($id: ID!) { setUserRoles(input: {userId: $id, roles: [STUDENT]}) {
          user { id } } }""",
        {"id": gid("User", scene.analyst.id)},
        scene.tokens["admin"],
    )
    response = await api.client.get(link)
    assert response.status_code == 403
    assert "sue.one" not in response.text


async def test_an_expired_analyst_cannot_export_or_link_its_old_group(
    api: Api, scene: Scene
) -> None:
    query = "query($g: [ID!]) { progressExportUrl(groupIds: $g) }"
    old = await api.raw(query, {"g": [gid("Group", scene.alpha.id)]}, scene.tokens["expired"])
    missing = await api.raw(query, {"g": [gid("Group", 999_999)]}, scene.tokens["expired"])
    assert errors_without_locations(old) == errors_without_locations(missing)
    assert old["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    a = await _csv(api, [("groupId", gid("Group", scene.alpha.id))], scene.tokens["expired"])
    b = await _csv(api, [("groupId", gid("Group", 999_999))], scene.tokens["expired"])
    assert (a.status_code, a.json()) == (b.status_code, b.json()) and a.status_code == 404
    everything = await _csv(api, [], scene.tokens["expired"])
    assert everything.status_code == 200
    assert everything.text.count("\n") == 1  # the header only


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


@pytest.mark.parametrize("pk", ["\N{SUPERSCRIPT TWO}", "\N{ARABIC-INDIC DIGIT ONE}", "0x1"])
async def test_a_crafted_global_id_is_bad_input_or_absent(api: Api, scene: Scene, pk: str) -> None:
    """Digits that are not ASCII are not ids: never an internal error, nor a second spelling."""
    forged = base64.urlsafe_b64encode(f"Group:{pk}".encode()).decode()
    body = await api.raw(NODE, {"id": forged}, scene.tokens["admin"])
    assert body.get("data") in (None, {"node": None}), body
    if body.get("errors"):
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    response = await _csv(api, [("groupId", forged)], scene.tokens["admin"])
    assert response.status_code == 400, response.text


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
    assert (await _csv(api, [], scene.tokens["admin"])).status_code == 403


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


async def test_aliases_cannot_multiply_password_guesses(api: Api, world: World) -> None:
    """One request, one password check: 1,000 aliased `login`s would be 1,000 guesses (and
    1,000 deliberately slow hashes) in one call."""
    await world.user("Pat", "Word", email="pat@example.com", password="correct horse")
    guesses = ["nope", "123456", "correct horse"]
    query = (
        "mutation { "
        + " ".join(
            f'g{n}: login(input: {{email: "pat@example.com", password: "{guess}"}}) {{ token }}'
            for n, guess in enumerate(guesses)
        )
        + " }"
    )
    body = await api.raw(query)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", body
    assert "token" not in str(body.get("data"))
    # Through a fragment too.
    fragment = """mutation { ...Twice }
      fragment Twice on Mutation {
        a: login(input: {email: "pat@example.com", password: "x"}) { token }
        b: login(input: {email: "pat@example.com", password: "correct horse"}) { token } }"""
    body = await api.raw(fragment)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", body
    # One login per request still works.
    single = 'mutation { login(input: {email: "pat@example.com", password: "correct horse"}) '
    assert (await api.data(single + "{ token } }"))["login"]["token"]
