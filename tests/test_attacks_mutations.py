"""Mutations and login: hidden targets answer like missing ones, nobody records or revokes for
others, and a request cannot multiply password guesses.

The viewers and their world: `tests.attack_scene`."""

from __future__ import annotations

from tests.attack_scene import (
    COMPLETE,
    Scene,
    errors_without_locations,
)
from tests.support import Api, World, gid

RENAME = """mutation($id: ID!) { renameGroup(input: {groupId: $id, name: "Pwned"}) {
  group { name } } }"""


ADD = """mutation($g: ID!, $u: ID!) { addGroupMembers(input: {groupId: $g, userIds: [$u]}) {
  group { name } } }"""


ASSIGN = """mutation($g: ID!, $u: ID!) { assignGroupAnalyst(input: {groupId: $g, userId: $u}) {
  assignment { id } } }"""


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
        "{ groupProgress(first: 100) { edges { node { progress { percentCompleted } } } } }",
        token=scene.tokens["admin"],
    )
    done = {e["node"]["progress"]["percentCompleted"] for e in data["groupProgress"]["edges"]}
    assert done == {25.0, 0.0}


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
