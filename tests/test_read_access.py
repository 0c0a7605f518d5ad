"""Who reads what: every protected field and every list, seen by anonymous, by viewers
without access (an analyst whose assignment expired, an analyst of another group, a
student) and by viewers with access (admins, the group's analysts, the user itself).

Every test runs twice: with the compiled read path (`compiled`) and through the resolvers
only, so the rules hold on both paths."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest

from app.models import Course, Group, Role, User, utcnow
from app.settings import Settings
from tests.support import Api, World, gid


@pytest.fixture(name="settings", params=[True, False], ids=["compiled", "resolvers"])
def both_read_paths(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    return replace(settings, compiled_reads=request.param)


@dataclass
class Scene:
    admin: User
    analyst: User  # analyses Alpha
    co_analyst: User  # analyses Alpha too, until next year
    expired: User  # its assignment to Alpha has expired
    other: User  # analyses Beta only
    s1: User  # in Alpha
    s2: User  # in Alpha and Beta
    s3: User  # in Beta only
    alpha: Group
    beta: Group
    course: Course
    hidden_course: Course  # nobody in the scene is enrolled in it
    tokens: dict[str, str | None]


@pytest.fixture
async def scene(world: World) -> Scene:
    now = utcnow()
    admin = await world.user("Adam", "Admin", Role.SITE_ADMIN)
    analyst = await world.user("Ana", "Analyst", Role.GROUP_ANALYST, company="Partner Co")
    co = await world.user("Cody", "Coanalyst", Role.GROUP_ANALYST)
    expired = await world.user("Eve", "Expired", Role.GROUP_ANALYST)
    other = await world.user("Otto", "Other", Role.GROUP_ANALYST)
    s1 = await world.user("Sue", "One", company="Acme")
    s2 = await world.user("Tom", "Two", company="Globex")
    s3 = await world.user("Uma", "Three", company="Initech")
    alpha = await world.group("Alpha", members=(s1, s2))
    beta = await world.group("Beta", members=(s2, s3))
    await world.assign(analyst, alpha)
    await world.assign(co, alpha, expires_at=now + timedelta(days=365))
    await world.assign(expired, alpha, expires_at=now - timedelta(minutes=1))
    await world.assign(other, beta)
    course = await world.course("Python", 4)
    hidden = await world.course("Zen", 2)
    for student in (s1, s2, s3):
        await world.enroll(
            student, course, viewed=2, completed=1, expires_at=now + timedelta(days=30)
        )
    tokens: dict[str, str | None] = {"anonymous": None}
    for name, user in [
        ("owner", world.owner),
        ("admin", admin),
        ("analyst", analyst),
        ("co_analyst", co),
        ("expired", expired),
        ("other", other),
        ("s1", s1),
        ("s3", s3),
    ]:
        tokens[name] = await world.token(user)
    return Scene(
        admin, analyst, co, expired, other, s1, s2, s3, alpha, beta, course, hidden, tokens
    )


def names(connection: dict[str, Any], key: str = "lastName") -> list[str]:
    return [edge["node"][key] for edge in connection["edges"]]


USER = """query($id: ID!) { node(id: $id) { ... on User {
  firstName email company groups { name } progress { id expiresAt }
} } }"""


# -- User.email / User.company ----------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "sees_user", "sees_email"),
    [
        ("anonymous", False, False),
        ("owner", True, True),
        ("admin", True, True),
        ("analyst", True, True),
        ("co_analyst", True, True),
        ("expired", False, False),
        ("other", False, False),
        ("s1", True, True),  # itself
        ("s3", False, False),  # another student
    ],
)
async def test_member_email_and_company(
    api: Api, scene: Scene, viewer: str, sees_user: bool, sees_email: bool
) -> None:
    data = await api.data(USER, {"id": gid("User", scene.s1.id)}, token=scene.tokens[viewer])
    node = data["node"]
    if not sees_user:
        assert node is None
        return
    assert node["firstName"] == "Sue"
    assert (node["email"], node["company"]) == (
        (scene.s1.email, "Acme") if sees_email else (None, None)
    )


ANALYSTS = """query($id: ID!) { node(id: $id) { ... on Group {
  analysts { firstName lastName email company }
} } }"""


async def test_co_analysts_see_each_others_names_not_emails(api: Api, scene: Scene) -> None:
    data = await api.data(ANALYSTS, {"id": gid("Group", scene.alpha.id)}, scene.tokens["analyst"])
    assert data["node"]["analysts"] == [
        {"firstName": "Ana", "lastName": "Analyst", "email": scene.analyst.email,
         "company": "Partner Co"},
        {"firstName": "Cody", "lastName": "Coanalyst", "email": None, "company": None},
    ]  # fmt: skip
    # The same through node(id) and through the users list.
    node = await api.data(USER, {"id": gid("User", scene.co_analyst.id)}, scene.tokens["analyst"])
    assert node["node"]["firstName"] == "Cody"
    assert node["node"]["email"] is None


async def test_admin_sees_analyst_emails_and_expired_analysts_are_not_listed(
    api: Api, scene: Scene
) -> None:
    data = await api.data(ANALYSTS, {"id": gid("Group", scene.alpha.id)}, scene.tokens["admin"])
    assert [(a["lastName"], a["email"]) for a in data["node"]["analysts"]] == [
        ("Analyst", scene.analyst.email),
        ("Coanalyst", scene.co_analyst.email),
    ]


# -- Progress.expiresAt -----------------------------------------------------------------

PROGRESS = """{ groupProgress(first: 100) { edges { node {
  student { lastName } group { name } progress { expiresAt } } } } }"""


@pytest.mark.parametrize(
    ("viewer", "rows"),
    [
        ("anonymous", []),
        ("owner", [("Alpha", "One"), ("Alpha", "Two"), ("Beta", "Three"), ("Beta", "Two")]),
        ("admin", [("Alpha", "One"), ("Alpha", "Two"), ("Beta", "Three"), ("Beta", "Two")]),
        ("analyst", [("Alpha", "One"), ("Alpha", "Two")]),
        ("co_analyst", [("Alpha", "One"), ("Alpha", "Two")]),
        ("expired", []),
        ("other", [("Beta", "Three"), ("Beta", "Two")]),
        ("s1", []),  # a student is in no report
    ],
)
async def test_report_rows_and_their_expiry(
    api: Api, scene: Scene, viewer: str, rows: list[tuple[str, str]]
) -> None:
    data = await api.data(PROGRESS, token=scene.tokens[viewer])
    edges = data["groupProgress"]["edges"]
    assert [(e["node"]["group"]["name"], e["node"]["student"]["lastName"]) for e in edges] == rows
    assert all(e["node"]["progress"]["expiresAt"] is not None for e in edges)


OWN_PROGRESS = "{ viewer { progress { expiresAt percentCompleted course { name } } } }"


async def test_student_sees_its_own_expiry_and_nobody_elses(api: Api, scene: Scene) -> None:
    data = await api.data(OWN_PROGRESS, token=scene.tokens["s1"])
    [row] = data["viewer"]["progress"]
    assert row["expiresAt"] is not None
    assert row == {**row, "percentCompleted": 25.0, "course": {"name": "Python"}}
    other = await api.data(USER, {"id": gid("User", scene.s2.id)}, token=scene.tokens["s1"])
    assert other["node"] is None


async def test_a_groups_report_rows_carry_that_group_and_share_the_progress(
    api: Api, scene: Scene
) -> None:
    """Two (a member of Alpha and Beta) is a row of each group's report: two row ids, one
    `Progress`, the same as the member's own progress."""
    query = """query($id: ID!) { node(id: $id) { ... on Group {
      members { edges { node { lastName progress { id expiresAt } } } }
      progress { edges { node { id group { name } student { lastName } progress { id } } } }
    } } }"""
    rows: dict[str, list[tuple[str, str]]] = {}
    for group in (scene.alpha, scene.beta):
        data = await api.data(query, {"id": gid("Group", group.id)}, scene.tokens["admin"])
        members = {
            e["node"]["lastName"]: [p["id"] for p in e["node"]["progress"]]
            for e in data["node"]["members"]["edges"]
        }
        for edge in data["node"]["progress"]["edges"]:
            row = edge["node"]
            assert row["group"] == {"name": group.name}
            assert row["progress"]["id"] in members[row["student"]["lastName"]]
            rows.setdefault(row["student"]["lastName"], []).append(
                (row["id"], row["progress"]["id"])
            )
    [(alpha_row, alpha_progress), (beta_row, beta_progress)] = rows["Two"]
    assert alpha_row != beta_row
    assert alpha_progress == beta_progress


# -- User.groups: an analyst never learns another group's name --------------------------


async def test_analyst_sees_only_its_groups_of_a_shared_member(api: Api, scene: Scene) -> None:
    variables = {"id": gid("User", scene.s2.id)}
    for viewer, groups in [
        ("analyst", ["Alpha"]),
        ("other", ["Beta"]),
        ("admin", ["Alpha", "Beta"]),
    ]:
        data = await api.data(USER, variables, token=scene.tokens[viewer])
        assert [g["name"] for g in data["node"]["groups"]] == groups, viewer
        assert all(p["expiresAt"] for p in data["node"]["progress"])


# -- lists ------------------------------------------------------------------------------

LISTS = """{
  users(first: 100) { totalCount edges { node { lastName } } }
  groups { totalCount edges { node { name } } }
  courses { totalCount edges { node { name } } }
}"""


@pytest.mark.parametrize(
    ("viewer", "users", "groups", "courses"),
    [
        ("anonymous", [], [], []),
        (
            "admin",
            ["Admin", "Analyst", "Coanalyst", "Expired", "One", "Other", "Owner", "Three", "Two"],
            ["Alpha", "Beta"],
            ["Python", "Zen"],
        ),
        ("analyst", ["Analyst", "Coanalyst", "One", "Two"], ["Alpha"], ["Python", "Zen"]),
        ("co_analyst", ["Analyst", "Coanalyst", "One", "Two"], ["Alpha"], ["Python", "Zen"]),
        ("expired", ["Expired"], [], ["Python", "Zen"]),
        ("other", ["Other", "Three", "Two"], ["Beta"], ["Python", "Zen"]),
        ("s1", ["One"], [], ["Python"]),  # a student: itself and its own courses
    ],
)
async def test_lists_hold_exactly_what_the_viewer_may_see(
    api: Api, scene: Scene, viewer: str, users: list[str], groups: list[str], courses: list[str]
) -> None:
    data = await api.data(LISTS, token=scene.tokens[viewer])
    assert names(data["users"]) == users
    assert data["users"]["totalCount"] == len(users)
    assert names(data["groups"], "name") == groups
    assert data["groups"]["totalCount"] == len(groups)
    assert names(data["courses"], "name") == courses
    assert data["courses"]["totalCount"] == len(courses)


async def test_analyst_assignments_are_private(api: Api, scene: Scene) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on User {
      analystAssignments { group { name } expiresAt analyst { lastName } } } } }"""
    own = await api.data(query, {"id": gid("User", scene.analyst.id)}, scene.tokens["analyst"])
    assert own["node"]["analystAssignments"] == [
        {"group": {"name": "Alpha"}, "expiresAt": None, "analyst": {"lastName": "Analyst"}}
    ]
    # A co-analyst is visible, its assignments are not.
    co = await api.data(query, {"id": gid("User", scene.co_analyst.id)}, scene.tokens["analyst"])
    assert co["node"]["analystAssignments"] == []
    # The expired analyst's assignment grants nothing: it sees that its access ended (status
    # and end date), while the group itself stays hidden...
    status = query.replace("expiresAt", "expiresAt status")
    mine = await api.data(status, {"id": gid("User", scene.expired.id)}, scene.tokens["expired"])
    [ended] = mine["node"]["analystAssignments"]
    assert ended["group"] is None and ended["status"] == "EXPIRED"
    assert ended["expiresAt"] is not None
    hidden = await api.data("{ groups { totalCount } }", token=scene.tokens["expired"])
    assert hidden["groups"]["totalCount"] == 0
    live = await api.data(status, {"id": gid("User", scene.analyst.id)}, scene.tokens["analyst"])
    assert [a["status"] for a in live["node"]["analystAssignments"]] == ["ACTIVE"]
    # ...while an admin sees it, expiry included.
    seen = await api.data(query, {"id": gid("User", scene.expired.id)}, scene.tokens["admin"])
    [assignment] = seen["node"]["analystAssignments"]
    assert assignment["group"] == {"name": "Alpha"}
    assert assignment["expiresAt"] is not None


SITE = "{ site { name plan groupAnalystSeats { used limit } } }"


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("anonymous", None),
        ("analyst", {"name": "Test Academy", "plan": "PRO_GROWTH", "groupAnalystSeats": None}),
        ("s1", {"name": "Test Academy", "plan": "PRO_GROWTH", "groupAnalystSeats": None}),
        (
            "admin",
            {"name": "Test Academy", "plan": "PRO_GROWTH",
             "groupAnalystSeats": {"used": 4, "limit": 3}},
        ),
    ],
)  # fmt: skip
async def test_site_seats_are_for_admins(
    api: Api, scene: Scene, viewer: str, expected: dict[str, Any] | None
) -> None:
    assert (await api.data(SITE, token=scene.tokens[viewer]))["site"] == expected


async def test_unlimited_plan_has_a_null_seat_limit(api: Api, world: World) -> None:
    await world.set_plan("PLUS")
    data = await api.data(SITE, token=await world.token(world.owner))
    assert data["site"]["groupAnalystSeats"] == {"used": 0, "limit": None}


# -- node(id) probing -------------------------------------------------------------------

NODE = "query($id: ID!) { node(id: $id) { id __typename } }"


async def test_out_of_scope_ids_answer_like_missing_ones(api: Api, scene: Scene) -> None:
    hidden_from_analyst = {
        "User": scene.s3.id,
        "Group": scene.beta.id,
        "Progress": None,  # filled below: s3's enrollment
        "GroupAnalystAssignment": None,
    }
    report = await api.data(
        "{ groupProgress(first: 100) { edges { node { id student { id } progress { id } } } } }",
        token=scene.tokens["admin"],
    )
    s3_row = next(
        e["node"]
        for e in report["groupProgress"]["edges"]
        if e["node"]["student"]["id"] == gid("User", scene.s3.id)
    )
    other_assignment = await api.data(
        """query($id: ID!) { node(id: $id) { ... on User { analystAssignments { id } } } }""",
        {"id": gid("User", scene.other.id)},
        scene.tokens["admin"],
    )
    ids = [gid(t, pk) for t, pk in hidden_from_analyst.items() if pk is not None]
    ids += [s3_row["id"], s3_row["progress"]["id"]]
    ids.append(other_assignment["node"]["analystAssignments"][0]["id"])
    for hidden in ids:
        seen_by_admin = await api.data(NODE, {"id": hidden}, scene.tokens["admin"])
        assert seen_by_admin["node"]["id"] == hidden
        for viewer in ("anonymous", "analyst", "expired", "s1"):
            probe = await api.raw(NODE, {"id": hidden}, scene.tokens[viewer])
            type_name = seen_by_admin["node"]["__typename"]
            missing = await api.raw(NODE, {"id": gid(type_name, 999_999)}, scene.tokens[viewer])
            assert probe == missing == {"data": {"node": None}}, (viewer, type_name)


async def test_node_answers_every_visible_kind(api: Api, scene: Scene) -> None:
    lessons = await api.data(
        "{ courses { edges { node { id lessons { id } } } } }", token=scene.tokens["s1"]
    )
    course = lessons["courses"]["edges"][0]["node"]
    for id_ in (course["id"], course["lessons"][0]["id"], gid("User", scene.s1.id)):
        data = await api.data(NODE, {"id": id_}, scene.tokens["s1"])
        assert data["node"]["id"] == id_
    # A course the student is not enrolled in is as absent as a missing one.
    hidden = await api.data(NODE, {"id": gid("Course", scene.hidden_course.id)}, scene.tokens["s1"])
    assert hidden == {"node": None}


async def test_node_with_a_malformed_id_is_bad_input(api: Api, scene: Scene) -> None:
    body = await api.raw(NODE, {"id": "not an id"}, scene.tokens["admin"])
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "id" in body["errors"][0]["message"]


async def test_search_does_not_match_hidden_emails(api: Api, scene: Scene) -> None:
    query = """query($q: String) { users(filter: {search: $q}) { edges { node { lastName } } } }"""
    # The analyst sees the co-analyst's name but not its email: searching the email finds nothing.
    by_email = await api.data(query, {"q": scene.co_analyst.email[:8]}, scene.tokens["analyst"])
    assert names(by_email["users"]) == []
    by_name = await api.data(query, {"q": "coanal"}, scene.tokens["analyst"])
    assert names(by_name["users"]) == ["Coanalyst"]
    admin = await api.data(query, {"q": scene.co_analyst.email[:8]}, scene.tokens["admin"])
    assert names(admin["users"]) == ["Coanalyst"]


async def test_role_filter_matches_only_roles_the_viewer_may_see(api: Api, scene: Scene) -> None:
    query = "{ users(filter: {role: GROUP_ANALYST}) { edges { node { lastName } } } }"
    admin = await api.data(query, token=scene.tokens["admin"])
    assert names(admin["users"]) == ["Analyst", "Coanalyst", "Expired", "Other"]
    analyst = await api.data(query, token=scene.tokens["analyst"])
    assert names(analyst["users"]) == ["Analyst"]
    student = await api.data(query, token=scene.tokens["s1"])
    assert names(student["users"]) == []
