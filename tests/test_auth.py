"""Sign-in, tokens, and what a dead token gets."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from app.models import LoginFailure, Role, utcnow
from app.throttle import client_digest, email_digest
from tests.support import Api, World

VIEWER = "{ viewer { firstName roles } }"
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token viewer { firstName } }
}
"""


async def test_anonymous_viewer_is_null(api: Api) -> None:
    assert await api.data(VIEWER) == {"viewer": None}


async def test_token_answers_its_user(api: Api, world: World) -> None:
    token = await world.token(world.owner)
    assert await api.data(VIEWER, token=token) == {
        "viewer": {"firstName": "Olivia", "roles": ["SITE_OWNER"]}
    }


async def test_login_with_right_password_gives_a_working_token(api: Api, world: World) -> None:
    await world.user(
        "Ana", "Analyst", Role.GROUP_ANALYST, email="Ana@Example.com", password="pw-123456"
    )
    # Emails compare case-insensitively.
    data = await api.data(LOGIN, {"email": "ana@example.COM", "password": "pw-123456"})
    assert data["login"]["viewer"] == {"firstName": "Ana"}
    me = await api.data(VIEWER, token=data["login"]["token"])
    assert me == {"viewer": {"firstName": "Ana", "roles": ["GROUP_ANALYST"]}}


async def test_wrong_password_and_unknown_email_answer_identically(api: Api, world: World) -> None:
    await world.user("Ana", "Analyst", email="ana@example.com", password="pw-123456")
    wrong = await api.raw(LOGIN, {"email": "ana@example.com", "password": "nope"})
    unknown = await api.raw(LOGIN, {"email": "nobody@example.com", "password": "nope"})
    assert wrong == unknown
    assert wrong["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert wrong["errors"][0]["message"] == "Invalid email or password."


async def test_user_without_password_cannot_log_in(api: Api, world: World) -> None:
    await world.user("Imported", "Student", email="imported@example.com")
    code = await api.error_code(LOGIN, {"email": "imported@example.com", "password": ""})
    assert code == "UNAUTHENTICATED"


async def test_expired_token_is_refused(api: Api, world: World) -> None:
    token = await world.token(world.owner, ttl=timedelta(seconds=-1))
    response = await api.post(VIEWER, token=token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_unknown_token_and_bad_scheme_are_refused(api: Api) -> None:
    response = await api.post(VIEWER, token="ga_not-a-token")
    assert response.status_code == 401
    response = await api.client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": "Basic abc"}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


CREATE = """
mutation($name: String!, $expiresAt: DateTime) {
  createApiToken(input: {name: $name, expiresAt: $expiresAt}) {
    token
    apiToken { id name expiresAt }
  }
}
"""
REVOKE = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { revokedAt } } }"


async def test_api_token_works_until_revoked(api: Api, world: World) -> None:
    login_token = await world.token(world.owner)
    created = (await api.data(CREATE, {"name": "graphiql"}, token=login_token))["createApiToken"]
    assert created["apiToken"]["name"] == "graphiql"
    api_token = created["token"]
    assert (await api.data(VIEWER, token=api_token))["viewer"]["firstName"] == "Olivia"

    revoked = await api.data(REVOKE, {"id": created["apiToken"]["id"]}, token=login_token)
    assert revoked["revokeApiToken"]["apiToken"]["revokedAt"] is not None
    response = await api.post(VIEWER, token=api_token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # The token that revoked it still works.
    assert (await api.data(VIEWER, token=login_token))["viewer"] is not None


async def test_cannot_revoke_someone_elses_token(api: Api, world: World) -> None:
    student = await world.user("Sam", "Student")
    owner_token = await world.token(world.owner)
    created = (await api.data(CREATE, {"name": "mine"}, token=owner_token))["createApiToken"]
    student_token = await world.token(student)
    code = await api.error_code(REVOKE, {"id": created["apiToken"]["id"]}, token=student_token)
    assert code == "NOT_FOUND"
    assert (await api.data(VIEWER, token=created["token"]))["viewer"] is not None


async def test_api_token_expiry_is_validated(api: Api, world: World) -> None:
    token = await world.token(world.owner)
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    assert (
        await api.error_code(CREATE, {"name": "x", "expiresAt": past}, token=token)
        == "BAD_USER_INPUT"
    )
    far = (utcnow() + timedelta(days=4000)).isoformat()
    assert (
        await api.error_code(CREATE, {"name": "x", "expiresAt": far}, token=token)
        == "BAD_USER_INPUT"
    )
    assert await api.error_code(CREATE, {"name": " "}, token=token) == "BAD_USER_INPUT"


async def test_anonymous_cannot_create_tokens(api: Api) -> None:
    assert await api.error_code(CREATE, {"name": "x"}) == "UNAUTHENTICATED"


async def test_health_and_readiness(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    assert (await api.client.get("/readyz")).json() == {"status": "ready"}


NODE_TOKEN = "query($id: ID!) { node(id: $id) { id ... on ApiToken { name } } }"


async def test_a_token_is_fetchable_by_node_only_by_its_user(api: Api, world: World) -> None:
    admin = await world.user("Adam", "Admin", Role.SITE_ADMIN)
    owner_token = await world.token(world.owner)
    created = (await api.data(CREATE, {"name": "mine"}, token=owner_token))["createApiToken"]
    token_id = created["apiToken"]["id"]
    mine = await api.data(NODE_TOKEN, {"id": token_id}, token=owner_token)
    assert mine == {"node": {"id": token_id, "name": "mine"}}
    # Anyone else, an admin included, and anonymous: as if it did not exist.
    for token in (await world.token(admin), None):
        assert await api.data(NODE_TOKEN, {"id": token_id}, token=token) == {"node": None}


async def test_login_payload_reads_as_the_user_who_signed_in(api: Api, world: World) -> None:
    await world.user(
        "Ana", "Analyst", Role.GROUP_ANALYST, email="ana@example.com", password="pw-123456"
    )
    query = """
    mutation { login(input: {email: "ana@example.com", password: "pw-123456"}) {
      viewer { email roles }
    } }
    """
    data = await api.data(query)
    assert data["login"]["viewer"] == {"email": "ana@example.com", "roles": ["GROUP_ANALYST"]}


# The address httpx's test transport reports for every request.
HERE = client_digest("127.0.0.1")


async def _login_code(api: Api, email: str, password: str) -> tuple[str | None, str]:
    body = await api.raw(LOGIN, {"email": email, "password": password})
    if not body.get("errors"):
        return None, ""
    return body["errors"][0]["extensions"]["code"], body["errors"][0]["message"]


async def test_password_guessing_is_throttled_per_email(api: Api, world: World) -> None:
    await world.user("Ana", "Analyst", email="ana@example.com", password="pw-123456")
    await world.user("Ben", "Other", email="ben@example.com", password="pw-654321")
    for _ in range(10):
        code, message = await _login_code(api, "ANA@example.com", "guess")
        assert (code, message) == ("UNAUTHENTICATED", "Invalid email or password.")
    # Now even the right password is refused from this address, with a message saying why.
    code, message = await _login_code(api, "ana@example.com", "pw-123456")
    assert code == "RATE_LIMITED"
    assert "Too many failed sign-ins" in message
    # Another account is not affected.
    assert await _login_code(api, "ben@example.com", "pw-654321") == (None, "")


async def test_throttle_answers_alike_for_unknown_emails(api: Api, world: World) -> None:
    await world.user("Ana", "Analyst", email="ana@example.com", password="pw-123456")
    for email in ("ana@example.com", "nobody@example.com"):
        for _ in range(10):
            await _login_code(api, email, "guess")
    known = await api.raw(LOGIN, {"email": "ana@example.com", "password": "guess"})
    unknown = await api.raw(LOGIN, {"email": "nobody@example.com", "password": "guess"})
    for body in (known, unknown):
        # The wait counts down by the second; everything else must be identical.
        wait = body["errors"][0]["extensions"].pop("retryAfterSeconds")
        assert 0 < wait <= 15 * 60
    assert known == unknown
    assert known["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "Too many failed sign-ins" in known["errors"][0]["message"]


async def test_throttle_ends_after_the_window(api: Api, world: World) -> None:
    await world.user("Ana", "Analyst", email="ana@example.com", password="pw-123456")
    long_ago = utcnow() - timedelta(minutes=16)
    async with world.db.write() as session:
        session.add_all(
            LoginFailure(email_digest=email_digest("Ana@example.com"), client_digest=HERE, at=at)
            for at in [long_ago] * 10
        )
    assert await _login_code(api, "ana@example.com", "pw-123456") == (None, "")
    # Nine recent failures still leave one try, and a right password clears them.
    async with world.db.write() as session:
        session.add_all(
            LoginFailure(
                email_digest=email_digest("ana@example.com"), client_digest=HERE, at=utcnow()
            )
            for _ in range(9)
        )
    assert await _login_code(api, " ana@example.com ", "pw-123456") == (None, "")
    for _ in range(9):
        await _login_code(api, "ana@example.com", "guess")
    assert await _login_code(api, "ana@example.com", "pw-123456") == (None, "")


async def test_parallel_guesses_cannot_outrun_the_throttle(api: Api, world: World) -> None:
    await world.user("Ana", "Analyst", email="ana@example.com", password="pw-123456")
    answers = await asyncio.gather(
        *(_login_code(api, "ana@example.com", "guess") for _ in range(16))
    )
    # Exactly 10 passwords were checked, whatever the interleaving; the rest never were.
    assert sum(message == "Invalid email or password." for _, message in answers) == 10
    assert sum("Too many" in message for _, message in answers) == 6
    code, message = await _login_code(api, "ana@example.com", "pw-123456")
    assert code == "RATE_LIMITED"
    assert "Too many" in message


async def test_long_email_is_refused_as_bad_input(api: Api) -> None:
    """No address is that long: a bad value of a named field, whoever asks (so it tells
    nothing about accounts), and no password is checked."""
    code, message = await _login_code(api, "x" * 400 + "@example.com", "guess")
    assert (code, message) == ("BAD_USER_INPUT", "'email' must be at most 254 characters.")


async def test_login_inside_an_operation_never_widens_it(api: Api, world: World) -> None:
    """After `login`, later fields read as the signed-in user, even for an admin's request."""
    await world.user("Sam", "Student", Role.STUDENT, email="sam@example.com", password="pw-123456")
    owner = await world.token(world.owner)
    body = await api.raw(
        """
        mutation {
          login(input: {email: "sam@example.com", password: "pw-123456"}) { viewer { firstName } }
          createGroup(input: {name: "Sneaky"}) { group { id } }
        }
        """,
        token=owner,
    )
    # createGroup's payload is non-null, so its refusal nulls the whole `data`.
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["createGroup"]
    groups = await api.data("{ groups { totalCount } }", token=owner)
    assert groups == {"groups": {"totalCount": 0}}
