"""The one token service through the API: the viewer's token list, logout, ending every
token of a user, the token named by each audit event, and the lifetimes the API and the
CLI agree on."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

from app.audit import AuditAction
from app.cli import main
from app.models import ApiToken, AuditEvent, utcnow
from tests.cast import ADMINS_ONLY, Cast, call
from tests.support import Api, World, gid

TOKENS = """
query Tokens($first: Int, $after: String, $active: Boolean) {
  viewer { apiTokens(first: $first, after: $after, active: $active) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name createdAt lastUsedAt expiresAt revokedAt } }
  } }
}
"""
USER_TOKENS = """
query UserTokens($id: ID!) { node(id: $id) { ... on User { firstName apiTokens { totalCount } } } }
"""
CREATE = """
mutation CreateToken($name: String!, $expiresAt: DateTime) {
  createApiToken(input: {name: $name, expiresAt: $expiresAt}) {
    token apiToken { id name expiresAt }
  }
}
"""
LOGOUT = "mutation Logout { logout { apiToken { id name revokedAt } } }"
REVOKE_ALL = """
mutation RevokeUserTokens($userId: ID!) {
  revokeUserTokens(input: {userId: $userId}) { revokedCount user { id firstName } }
}
"""
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token apiToken { id name } }
}
"""
AUDIT = """
query Audit($action: [AuditAction!]) {
  auditEvents(first: 5, filter: {action: $action}) {
    edges { node { action targetId tokenId tokenName actor { firstName } details } }
  }
}
"""
VIEWER = "{ viewer { firstName } }"


def _edges(data: dict) -> list[dict]:  # type: ignore[type-arg]
    return [e["node"] for e in data["viewer"]["apiTokens"]["edges"]]


async def _audit(api: Api, cast: Cast, action: str) -> list[dict]:  # type: ignore[type-arg]
    data = await api.data(AUDIT, {"action": [AuditAction(action).name]}, token=cast.token("owner"))
    return [e["node"] for e in data["auditEvents"]["edges"]]


async def test_viewer_lists_its_own_tokens_newest_first_paginated(api: Api, world: World) -> None:
    user = await world.user("Tia", "Tokens")
    first = await world.token(user)
    for name in ("ci", "laptop", "hr-sync"):
        await api.data(CREATE, {"name": name}, token=first)
    page = await api.data(TOKENS, {"first": 2}, token=first)
    assert page["viewer"]["apiTokens"]["totalCount"] == 4
    assert [t["name"] for t in _edges(page)] == ["hr-sync", "laptop"]
    assert page["viewer"]["apiTokens"]["pageInfo"]["hasNextPage"] is True
    after = page["viewer"]["apiTokens"]["pageInfo"]["endCursor"]
    rest = await api.data(TOKENS, {"first": 2, "after": after}, token=first)
    assert [t["name"] for t in _edges(rest)] == ["ci", "test"]
    assert rest["viewer"]["apiTokens"]["pageInfo"]["hasNextPage"] is False
    # The token in use carries its last use; the ones never sent carry none.
    used = {t["name"]: t["lastUsedAt"] for t in _edges(rest) + _edges(page)}
    assert used["test"] is not None and used["ci"] is None
    assert all(t["revokedAt"] is None for t in _edges(page))


async def test_token_list_filters_usable_and_ended_tokens(api: Api, world: World) -> None:
    user = await world.user("Tia", "Tokens")
    token = await world.token(user)
    created = (await api.data(CREATE, {"name": "old"}, token=token))["createApiToken"]
    await api.data(
        "mutation R($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { id } } }",
        {"id": created["apiToken"]["id"]},
        token=token,
    )
    assert [t["name"] for t in _edges(await api.data(TOKENS, {"active": True}, token=token))] == [
        "test"
    ]
    ended = _edges(await api.data(TOKENS, {"active": False}, token=token))
    assert [t["name"] for t in ended] == ["old"] and ended[0]["revokedAt"] is not None


async def test_nobody_lists_another_users_tokens(api: Api, cast: Cast) -> None:
    # Admins and the owner included: a token list is its user's alone.
    for role in ("admin", "owner", "analyst"):
        data = await api.data(
            USER_TOKENS, {"id": gid("User", cast.student.id)}, token=cast.token(role)
        )
        node = data["node"]
        assert node is None or node["apiTokens"] is None, (role, node)
    assert (await api.data(TOKENS))["viewer"] is None  # anonymous


async def test_a_bad_cursor_or_page_size_is_bad_input(api: Api, cast: Cast) -> None:
    token = cast.token("student")
    for variables in ({"first": 0}, {"first": 101}, {"after": "bm90LWEtY3Vyc29y"}, {"after": ""}):
        assert await api.error_code(TOKENS, variables, token=token) == "BAD_USER_INPUT"


async def test_logout_ends_the_token_of_the_request_only(api: Api, cast: Cast) -> None:
    other = await cast.world.token(cast.student)
    token = cast.token("student")
    out = (await api.data(LOGOUT, token=token))["logout"]["apiToken"]
    assert out["revokedAt"] is not None and out["name"] == "test"
    response = await api.post(VIEWER, token=token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await api.data(VIEWER, token=other))["viewer"]["firstName"] == "Sam"
    [event] = await _audit(api, cast, "auth.logout")
    assert event["targetId"] == out["id"] and event["tokenId"] == out["id"]
    assert event["actor"]["firstName"] == "Sam"


async def test_logout_without_a_token_is_unauthenticated(api: Api) -> None:
    assert await api.error_code(LOGOUT) == "UNAUTHENTICATED"


async def test_logout_after_login_in_one_operation_ends_the_new_token(
    api: Api, world: World
) -> None:
    await world.user("Lou", "Login", email="lou@example.com", password="correct-horse")
    both = """mutation Both { login(input: {email: "lou@example.com", password: "correct-horse"})
      { token } logout { apiToken { revokedAt } } }"""
    data = await api.data(both)
    assert data["logout"]["apiToken"]["revokedAt"] is not None
    assert (await api.post(VIEWER, token=data["login"]["token"])).status_code == 401


async def test_login_returns_the_token_record_to_revoke_it_by(api: Api, world: World) -> None:
    await world.user("Lou", "Login", email="lou@example.com", password="correct-horse")
    login = (await api.data(LOGIN, {"email": "lou@example.com", "password": "correct-horse"}))[
        "login"
    ]
    assert login["apiToken"]["name"] == "login"
    listed = _edges(await api.data(TOKENS, token=login["token"]))
    assert [t["id"] for t in listed] == [login["apiToken"]["id"]]


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_revoke_user_tokens_who_may(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    second = await cast.world.token(cast.student)
    body = await call(
        api, REVOKE_ALL, {"userId": gid("User", cast.student.id)}, cast.token(role), expected
    )
    student_token = cast.token("student")
    if expected is None:
        assert body["revokeUserTokens"]["revokedCount"] == 2
        assert body["revokeUserTokens"]["user"]["firstName"] == "Sam"
        for dead in (student_token, second):
            assert (await api.post(VIEWER, token=dead)).status_code == 401
        [event] = await _audit(api, cast, "token.revoke_all")
        assert event["details"] == {"revoked": 2}
        assert event["tokenName"] == "test" and event["tokenId"] is not None
        # Nothing left to end: no error, no second event.
        again = await api.data(
            REVOKE_ALL, {"userId": gid("User", cast.student.id)}, token=cast.token(role)
        )
        assert again["revokeUserTokens"]["revokedCount"] == 0
        assert len(await _audit(api, cast, "token.revoke_all")) == 1
    else:
        assert (await api.data(VIEWER, token=second))["viewer"] is not None
        assert await _audit(api, cast, "token.revoke_all") == []


async def test_only_the_owner_ends_the_owners_tokens(api: Api, cast: Cast) -> None:
    owner_id = gid("User", cast.owner.id)
    assert await api.error_code(REVOKE_ALL, {"userId": owner_id}, token=cast.token("admin")) == (
        "FORBIDDEN"
    )
    assert (await api.data(VIEWER, token=cast.token("owner")))["viewer"] is not None
    # The owner may end another admin's, and even its own (then it signs in again).
    data = await api.data(
        REVOKE_ALL, {"userId": gid("User", cast.admin.id)}, token=cast.token("owner")
    )
    assert data["revokeUserTokens"]["revokedCount"] == 1


@pytest.mark.parametrize(
    "user_id",
    [
        "",
        "x" * 100_000,
        gid("User", 10**9) + "\x00",
        "\ud800",
        gid("User", 10**9) + "\u200b",
        gid("Group", 1),
        gid("User", 10**9),
    ],
)
async def test_revoke_user_tokens_hostile_ids(api: Api, cast: Cast, user_id: str) -> None:
    code = await api.error_code(REVOKE_ALL, {"userId": user_id}, token=cast.token("admin"))
    assert code in ("BAD_USER_INPUT", "NOT_FOUND")
    assert (await api.data(VIEWER, token=cast.token("student")))["viewer"] is not None


@pytest.mark.parametrize(
    ("name", "expires_at"),
    [
        ("", None),
        ("   ", None),
        ("x" * 101, None),
        ("bad\x00name", None),
        ("two\nlines", None),
        ("ok", "0001-01-01T00:00:00Z"),
        ("ok", "9999-12-31T23:59:59Z"),
        ("ok", "2026-13-45T00:00:00Z"),
        ("ok", "2030-01-01T00:00:00"),
    ],
)
async def test_create_token_hostile_inputs(
    api: Api, cast: Cast, name: str, expires_at: str | None
) -> None:
    body = await api.raw(
        CREATE, {"name": name, "expiresAt": expires_at}, token=cast.token("student")
    )
    assert body["errors"][0]["extensions"]["code"] in (
        "BAD_USER_INPUT",
        "GRAPHQL_VALIDATION_FAILED",
    )
    listed = _edges(await api.data(TOKENS, token=cast.token("student")))
    assert [t["name"] for t in listed] == ["test"]


async def test_look_alike_and_surrogate_names_are_kept_or_refused_whole(
    api: Api, cast: Cast
) -> None:
    token = cast.token("student")
    # A Cyrillic a (U+0430) makes a different name, kept exactly as given.
    data = await api.data(CREATE, {"name": "l\u0430ptop"}, token=token)
    assert data["createApiToken"]["apiToken"]["name"] == "l\u0430ptop"
    body = await api.raw(CREATE, {"name": "bad\ud800"}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_every_audit_event_names_the_token_that_made_it(api: Api, cast: Cast) -> None:
    owner = cast.token("owner")
    script = (await api.data(CREATE, {"name": "hr-sync"}, token=owner))["createApiToken"]
    await api.data(
        'mutation G { createGroup(input: {name: "By script"}) { group { id } } }',
        token=script["token"],
    )
    await api.data(
        'mutation G { createGroup(input: {name: "By hand"}) { group { id } } }', token=owner
    )
    events = await _audit(api, cast, "group.create")
    by_name = {e["details"]["name"]: (e["tokenId"], e["tokenName"]) for e in events}
    assert by_name["By script"] == (script["apiToken"]["id"], "hr-sync")
    assert by_name["By hand"][1] == "test" and by_name["By hand"][0] != script["apiToken"]["id"]
    [created] = await _audit(api, cast, "token.create")
    assert created["tokenName"] == "test"  # the token that made the new one


async def test_api_default_lifetime_is_the_cli_default(
    api: Api, cast: Cast, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    before = utcnow()
    data = await api.data(CREATE, {"name": "default"}, token=cast.token("student"))
    api_expiry = datetime.fromisoformat(data["createApiToken"]["apiToken"]["expiresAt"])
    monkeypatch.setenv("DATABASE_URL", database_url)
    args = ["create-token", "--email", "sam@example.com", "--name", "cli-default"]
    assert await asyncio.to_thread(main, args) == 0
    [cli_expiry] = await cast.world.scalars(
        select(ApiToken.expires_at).where(col(ApiToken.name) == "cli-default")
    )
    for expiry in (api_expiry, cli_expiry):
        assert before + timedelta(days=90) <= expiry <= utcnow() + timedelta(days=90)
    events = await cast.world.scalars(
        select(AuditEvent).where(col(AuditEvent.action) == "token.create")
    )
    [event] = [e for e in events if e.details["name"] == "cli-default"]
    assert event.token_id is None and event.actor_id is None  # the command line
