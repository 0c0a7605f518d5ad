"""Deactivating and reactivating accounts, and changing one's password: who may, what stops
at once, what the seat count and the other analysts see, and the audit trail."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app import account_status
from app.audit import AuditAction
from app.db import Database
from app.errors import AppError
from app.models import Role, utcnow
from app.writes import run_write
from permissions.policy import AccessScope
from tests.cast import ADMINS_ONLY, Cast, audit_count, call
from tests.support import Api, World, gid

DEACTIVATE = """
mutation Deactivate($userId: ID!) {
  deactivateUser(input: {userId: $userId}) { user { id firstName deactivatedAt } }
}
"""
REACTIVATE = """
mutation Reactivate($userId: ID!) {
  reactivateUser(input: {userId: $userId}) { user { id deactivatedAt } }
}
"""
CHANGE = """
mutation ChangePassword($current: String!, $new: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $new}) {
    revokedTokenCount user { firstName }
  }
}
"""
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token }
}
"""
VIEWER = "{ viewer { firstName } }"
SEATS = "{ site { groupAnalystSeats { used limit } } }"
ANALYSTS = "query A($id: ID!) { node(id: $id) { ... on Group { analysts { firstName } } } }"
AUDIT = """
query Audit($action: [AuditAction!]) {
  auditEvents(first: 5, filter: {action: $action}) {
    edges { node { action targetId details tokenName } }
  }
}
"""


async def _alive(api: Api, token: str | None) -> bool:
    return (await api.post(VIEWER, token=token)).status_code == 200


async def _events(api: Api, cast: Cast, action: str) -> list[dict[str, Any]]:
    data = await api.data(AUDIT, {"action": [AuditAction(action).name]}, token=cast.token("owner"))
    return [e["node"] for e in data["auditEvents"]["edges"]]


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_deactivate_who_may(api: Api, cast: Cast, role: str, expected: str | None) -> None:
    body = await call(
        api, DEACTIVATE, {"userId": gid("User", cast.student.id)}, cast.token(role), expected
    )
    if expected is None:
        assert body["deactivateUser"]["user"]["deactivatedAt"] is not None
        assert not await _alive(api, cast.token("student"))
        [event] = await _events(api, cast, "user.deactivate")
        assert event["targetId"] == gid("User", cast.student.id)
        assert event["details"] == {"tokensRevoked": 1} and event["tokenName"] == "test"
        # Its data stays: an admin still reads the account.
        again = await api.data(
            "query U($id: ID!) { node(id: $id) { ... on User { email deactivatedAt } } }",
            {"id": gid("User", cast.student.id)},
            token=cast.token("admin"),
        )
        assert again["node"]["email"] == "sam@example.com"
    else:
        assert await _alive(api, cast.token("student"))
        assert await audit_count(cast.world, "user.deactivate") == 0


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_reactivate_who_may(api: Api, cast: Cast, role: str, expected: str | None) -> None:
    user_id = gid("User", cast.student.id)
    await api.data(DEACTIVATE, {"userId": user_id}, token=cast.token("owner"))
    token = cast.token(role) if role != "student" else await cast.world.token(cast.analyst)
    if role == "student":
        expected = "FORBIDDEN"  # signed in as someone else without admin rights
    body = await call(api, REACTIVATE, {"userId": user_id}, token, expected)
    if expected is None:
        assert body["reactivateUser"]["user"]["deactivatedAt"] is None
        [event] = await _events(api, cast, "user.reactivate")
        assert event["targetId"] == user_id
        # The tokens revoked on deactivation stay revoked: a new sign-in is needed.
        assert not await _alive(api, cast.token("student"))
    else:
        assert await audit_count(cast.world, "user.reactivate") == 0


async def test_a_deactivated_user_cannot_sign_in_until_reactivated(api: Api, cast: Cast) -> None:
    user = await cast.world.user("Dee", "Active", email="dee@example.com", password="correct-horse")
    variables = {"email": "dee@example.com", "password": "correct-horse"}
    token = (await api.data(LOGIN, variables))["login"]["token"]
    await api.data(DEACTIVATE, {"userId": gid("User", user.id)}, token=cast.token("admin"))
    assert not await _alive(api, token)
    body = await api.raw(LOGIN, variables)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "deactivated" in body["errors"][0]["message"]
    # A wrong password still gets the ordinary answer: nothing learnt without the password.
    wrong = await api.raw(LOGIN, {**variables, "password": "wrong-horse"})
    assert wrong["errors"][0]["message"] == "Invalid email or password."
    await api.data(REACTIVATE, {"userId": gid("User", user.id)}, token=cast.token("admin"))
    assert await _alive(api, (await api.data(LOGIN, variables))["login"]["token"])


async def test_the_owner_and_oneself_cannot_be_deactivated(api: Api, cast: Cast) -> None:
    owner_id = gid("User", cast.owner.id)
    assert await api.error_code(DEACTIVATE, {"userId": owner_id}, token=cast.token("admin")) == (
        "FORBIDDEN"
    )
    assert await api.error_code(DEACTIVATE, {"userId": owner_id}, token=cast.token("owner")) == (
        "BAD_USER_INPUT"
    )
    admin_id = gid("User", cast.admin.id)
    assert await api.error_code(DEACTIVATE, {"userId": admin_id}, token=cast.token("admin")) == (
        "BAD_USER_INPUT"
    )
    other_admin = await cast.world.user("Al", "Admin", Role.SITE_ADMIN)
    other_id = gid("User", other_admin.id)
    # Deactivating an admin ends its powers: the owner's call, like revoking SITE_ADMIN.
    assert await api.error_code(DEACTIVATE, {"userId": other_id}, token=cast.token("admin")) == (
        "FORBIDDEN"
    )
    await api.data(DEACTIVATE, {"userId": other_id}, token=cast.token("owner"))
    assert await _alive(api, cast.token("owner"))


async def test_deactivating_twice_changes_nothing_the_second_time(api: Api, cast: Cast) -> None:
    user_id = gid("User", cast.student.id)
    first = await api.data(DEACTIVATE, {"userId": user_id}, token=cast.token("admin"))
    second = await api.data(DEACTIVATE, {"userId": user_id}, token=cast.token("admin"))
    assert (
        first["deactivateUser"]["user"]["deactivatedAt"]
        == second["deactivateUser"]["user"]["deactivatedAt"]
    )
    assert await audit_count(cast.world, "user.deactivate") == 1
    await api.data(REACTIVATE, {"userId": user_id}, token=cast.token("admin"))
    await api.data(REACTIVATE, {"userId": user_id}, token=cast.token("admin"))
    assert await audit_count(cast.world, "user.reactivate") == 1


async def test_a_deactivated_analyst_grants_nothing_and_frees_its_seat(
    api: Api, cast: Cast
) -> None:
    world = cast.world
    member = await world.user("Mem", "Ber", email="member@example.com")
    group = await world.group("Cohort", members=(member,))
    partner = await world.user("Pat", "Partner", Role.GROUP_ANALYST)
    await world.assign(cast.analyst, group)
    await world.assign(partner, group)
    partner_token = await world.token(partner)
    admin = cast.token("admin")
    assert (await api.data(SEATS, token=admin))["site"]["groupAnalystSeats"]["used"] == 2
    await api.data(DEACTIVATE, {"userId": gid("User", partner.id)}, token=admin)

    assert not await _alive(api, partner_token)
    assert (await api.data(SEATS, token=admin))["site"]["groupAnalystSeats"]["used"] == 1
    # Nobody sees it as an analyst of the group any more: not admins, not its co-analyst.
    for token in (admin, cast.token("analyst")):
        data = await api.data(ANALYSTS, {"id": gid("Group", group.id)}, token=token)
        assert [a["firstName"] for a in data["node"]["analysts"]] == ["Ana"]
    listed = await api.data(
        "query L($g: ID!) { users(filter: {groupAnalystFor: $g})"
        " { edges { node { firstName } } } }",
        {"g": gid("Group", group.id)},
        token=admin,
    )
    assert [e["node"]["firstName"] for e in listed["users"]["edges"]] == ["Ana"]
    # The co-analyst no longer sees the deactivated analyst at all.
    seen = await api.data(
        "query U($id: ID!) { node(id: $id) { id } }",
        {"id": gid("User", partner.id)},
        token=cast.token("analyst"),
    )
    assert seen["node"] is None


async def test_reactivation_needs_a_free_seat(api: Api, cast: Cast) -> None:
    world = cast.world  # PRO_GROWTH: 3 seats; the cast's analyst holds one.
    partner = await world.user("Pat", "Partner", Role.GROUP_ANALYST)
    admin = cast.token("admin")
    await api.data(DEACTIVATE, {"userId": gid("User", partner.id)}, token=admin)
    for n in range(2):
        await world.user("Fill", f"Seat{n}", Role.GROUP_ANALYST)
    body = await api.raw(REACTIVATE, {"userId": gid("User", partner.id)}, token=admin)
    assert body["errors"][0]["extensions"]["code"] == "SEAT_LIMIT_REACHED"
    assert await audit_count(world, "user.reactivate") == 0
    # A student needs no seat.
    await api.data(DEACTIVATE, {"userId": gid("User", cast.student.id)}, token=admin)
    await api.data(REACTIVATE, {"userId": gid("User", cast.student.id)}, token=admin)


async def test_concurrent_reactivations_never_exceed_the_seats(
    world: World, database_url: str
) -> None:
    # PRO_GROWTH: 3 seats. Six inactive analysts, one active: two may come back.
    await world.user("Active", "Analyst", Role.GROUP_ANALYST)
    owner = AccessScope(viewer_id=world.owner.id, roles=frozenset({Role.SITE_OWNER}), now=utcnow())
    ids: list[int] = []
    for n in range(6):
        user = await world.user("Idle", f"Analyst{n}", Role.GROUP_ANALYST)
        assert user.id is not None
        ids.append(user.id)

        async def deactivate(session: AsyncSession, uid: int = user.id) -> object:
            return await account_status.deactivate_user(session, owner, user_id=uid)

        await run_write(world.db, deactivate)
    engines = [Database.from_url(database_url) for _ in range(3)]

    async def attempt(n: int) -> str:
        try:
            await run_write(
                engines[n % len(engines)],
                lambda s: account_status.reactivate_user(s, owner, user_id=ids[n]),
            )
        except AppError as exc:
            return exc.code.value
        return "OK"

    try:
        results = Counter(await asyncio.gather(*(attempt(n) for n in range(6))))
    finally:
        for engine in engines:
            await engine.dispose()
    assert results == Counter({"OK": 2, "SEAT_LIMIT_REACHED": 4})


async def test_a_signed_export_link_of_a_deactivated_analyst_stops(api: Api, cast: Cast) -> None:
    group = await cast.world.group("Cohort", members=(cast.student,))
    await cast.world.assign(cast.analyst, group)
    data = await api.data(
        "query L($g: [ID!]) { progressExportUrl(groupIds: $g) }",
        {"g": [gid("Group", group.id)]},
        token=cast.token("analyst"),
    )
    link = data["progressExportUrl"]
    assert (await api.client.get(link)).status_code == 200
    await api.data(DEACTIVATE, {"userId": gid("User", cast.analyst.id)}, token=cast.token("admin"))
    assert (await api.client.get(link)).status_code == 401


@pytest.mark.parametrize(
    "user_id", ["", "x" * 100_000, "\ud800", gid("User", 10**9) + "\x00", gid("Group", 1)]
)
async def test_hostile_user_ids(api: Api, cast: Cast, user_id: str) -> None:
    for mutation in (DEACTIVATE, REACTIVATE):
        code = await api.error_code(mutation, {"userId": user_id}, token=cast.token("admin"))
        assert code in ("BAD_USER_INPUT", "NOT_FOUND")
    assert await audit_count(cast.world, "user.deactivate") == 0


# -- changePassword ---------------------------------------------------------------------------


async def _signed_in(api: Api, world: World) -> tuple[str, str]:
    await world.user("Cat", "Change", email="cat@example.com", password="granite-sparrow-velvet")
    variables = {"email": "cat@example.com", "password": "granite-sparrow-velvet"}
    first = (await api.data(LOGIN, variables))["login"]["token"]
    second = (await api.data(LOGIN, variables))["login"]["token"]
    return first, second


async def test_change_password_revokes_the_other_tokens(api: Api, cast: Cast) -> None:
    this, other = await _signed_in(api, cast.world)
    data = await api.data(
        CHANGE, {"current": "granite-sparrow-velvet", "new": "quiet-meadow-compass"}, token=this
    )
    assert data["changePassword"]["revokedTokenCount"] == 1
    assert await _alive(api, this) and not await _alive(api, other)
    old = await api.raw(LOGIN, {"email": "cat@example.com", "password": "granite-sparrow-velvet"})
    assert old["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await api.data(LOGIN, {"email": "cat@example.com", "password": "quiet-meadow-compass"})
    [event] = await _events(api, cast, "user.password.change")
    assert event["details"] == {"tokensRevoked": 1} and event["tokenName"] == "login"
    assert "password" not in str(event["details"]).lower()


async def test_change_password_who_may(api: Api, cast: Cast) -> None:
    this, other = await _signed_in(api, cast.world)
    variables = {"current": "granite-sparrow-velvet", "new": "quiet-meadow-compass"}
    assert await api.error_code(CHANGE, variables) == "UNAUTHENTICATED"
    wrong = {"current": "not-the-password", "new": "quiet-meadow-compass"}
    assert await api.error_code(CHANGE, wrong, token=this) == "BAD_USER_INPUT"
    same = {"current": "granite-sparrow-velvet", "new": "granite-sparrow-velvet"}
    assert await api.error_code(CHANGE, same, token=this) == "BAD_USER_INPUT"
    # An account without a password (imported) cannot "change" one it does not have.
    assert await api.error_code(CHANGE, variables, token=cast.token("student")) == (
        "BAD_USER_INPUT"
    )
    assert await _alive(api, other)
    assert await audit_count(cast.world, "user.password.change") == 0


async def test_guessing_the_current_password_is_throttled(api: Api, cast: Cast) -> None:
    this, _ = await _signed_in(api, cast.world)
    codes = [
        await api.error_code(
            CHANGE, {"current": f"guess-{n:04}", "new": "quiet-meadow-compass"}, this
        )
        for n in range(11)
    ]
    assert codes[:10] == ["BAD_USER_INPUT"] * 10
    assert codes[10] == "RATE_LIMITED"  # throttled, like login
    right = await api.raw(
        CHANGE, {"current": "granite-sparrow-velvet", "new": "quiet-meadow-compass"}, this
    )
    assert "Too many" in right["errors"][0]["message"]


@pytest.mark.parametrize("new", ["", "short", "x" * 201, "\ud800" * 8 + "abc", "pass\x00word-ok"])
async def test_change_password_hostile_new_passwords(api: Api, cast: Cast, new: str) -> None:
    this, other = await _signed_in(api, cast.world)
    body = await api.raw(CHANGE, {"current": "granite-sparrow-velvet", "new": new}, token=this)
    # A NUL is refused too: `login` refuses it in any string (app.validation), so a password
    # holding one could never be used.
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "newPassword"
    assert await _alive(api, other)
