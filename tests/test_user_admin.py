"""createUser, updateUser, setUserRoles: success, every error code, every role."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.models import AnalystAssignment, Role, User
from tests.cast import ADMINS_ONLY, Cast, audit_count, call, roles_of
from tests.support import Api, gid

CREATE = """
mutation($input: CreateUserInput!) {
  createUser(input: $input) { user { id firstName lastName email company roles } }
}
"""
UPDATE = """
mutation($input: UpdateUserInput!) {
  updateUser(input: $input) { user { id firstName lastName email company } }
}
"""
SET_ROLES = """
mutation($input: SetUserRolesInput!) { setUserRoles(input: $input) { user { id roles } } }
"""
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { viewer { firstName } }
}
"""


def new_user(**overrides: object) -> dict[str, object]:
    return {
        "firstName": "Nina",
        "lastName": "New",
        "email": "nina@example.com",
        "company": "Acme",
        "password": "secret-password",
        "roles": ["STUDENT"],
        **overrides,
    }


async def users_with_email(cast: Cast, email: str) -> int:
    async with cast.world.db.read() as session:
        rows = await session.execute(select(User).where(User.email_key == email.lower()))
        return len(rows.all())


# -- createUser ------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_create_user_permission(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    await call(api, CREATE, {"input": new_user()}, cast.token(role), expected)
    assert await users_with_email(cast, "nina@example.com") == (1 if expected is None else 0)


async def test_create_user_persists_and_can_log_in(api: Api, cast: Cast) -> None:
    data = await call(api, CREATE, {"input": new_user()}, cast.token("admin"), None)
    user = data["createUser"]["user"]
    assert user["firstName"] == "Nina"
    assert user["email"] == "nina@example.com"
    assert user["company"] == "Acme"
    assert user["roles"] == ["STUDENT"]
    login = await api.data(LOGIN, {"email": "NINA@example.com", "password": "secret-password"})
    assert login["login"]["viewer"] == {"firstName": "Nina"}
    assert await audit_count(cast.world, "user.create") == 1


async def test_create_user_with_group_analyst_role_uses_a_seat(api: Api, cast: Cast) -> None:
    # PRO_GROWTH: 3 seats, the cast's analyst holds one.
    for n in range(2):
        await call(
            api,
            CREATE,
            {"input": new_user(email=f"a{n}@example.com", roles=["GROUP_ANALYST"])},
            cast.token("owner"),
            None,
        )
    error = await call(
        api,
        CREATE,
        {"input": new_user(email="a3@example.com", roles=["GROUP_ANALYST"])},
        cast.token("owner"),
        "SEAT_LIMIT_REACHED",
    )
    assert "PRO_GROWTH" in error["message"] and "3" in error["message"]
    assert await users_with_email(cast, "a3@example.com") == 0


async def test_plan_without_seats_says_the_feature_is_not_on_the_plan(api: Api, cast: Cast) -> None:
    await cast.world.set_plan("BASIC")
    error = await call(
        api,
        CREATE,
        {"input": new_user(roles=["GROUP_ANALYST"])},
        cast.token("owner"),
        "SEAT_LIMIT_REACHED",
    )
    assert "not included in the BASIC plan" in error["message"]


async def test_unlimited_plan_has_no_seat_limit(api: Api, cast: Cast) -> None:
    await cast.world.set_plan("PLUS")
    for n in range(5):
        await call(
            api,
            CREATE,
            {"input": new_user(email=f"p{n}@example.com", roles=["GROUP_ANALYST"])},
            cast.token("admin"),
            None,
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "two@@example.com"),
        ("firstName", "   "),
        ("lastName", "x" * 101),
        ("company", "c" * 201),
        ("password", "short"),
    ],
)
async def test_create_user_rejects_invalid_input(
    api: Api, cast: Cast, field: str, value: str
) -> None:
    error = await call(
        api, CREATE, {"input": new_user(**{field: value})}, cast.token("admin"), "BAD_USER_INPUT"
    )
    assert error["extensions"]["field"] == field
    assert field in error["message"]
    assert await audit_count(cast.world, "user.create") == 0


async def test_create_user_email_taken_ignoring_case_is_conflict(api: Api, cast: Cast) -> None:
    error = await call(
        api, CREATE, {"input": new_user(email="SAM@Example.com")}, cast.token("admin"), "CONFLICT"
    )
    assert error["extensions"]["field"] == "email"


async def test_create_user_role_grants_follow_the_rules(api: Api, cast: Cast) -> None:
    # Only the owner grants SITE_ADMIN; nobody grants SITE_OWNER.
    await call(
        api,
        CREATE,
        {"input": new_user(roles=["SITE_ADMIN"])},
        cast.token("admin"),
        "FORBIDDEN",
    )
    await call(
        api,
        CREATE,
        {"input": new_user(roles=["SITE_OWNER"])},
        cast.token("owner"),
        "FORBIDDEN",
    )
    data = await call(
        api, CREATE, {"input": new_user(roles=["SITE_ADMIN"])}, cast.token("owner"), None
    )
    assert data["createUser"]["user"]["roles"] == ["SITE_ADMIN"]


async def test_create_user_without_password_cannot_log_in(api: Api, cast: Cast) -> None:
    await call(api, CREATE, {"input": new_user(password=None)}, cast.token("admin"), None)
    body = await api.raw(LOGIN, {"email": "nina@example.com", "password": ""})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# -- updateUser ------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_update_user_permission(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    variables = {"input": {"userId": gid("User", cast.student.id), "lastName": "Changed"}}
    await call(api, UPDATE, variables, cast.token(role), expected)
    async with cast.world.db.read() as session:
        student = await session.get_one(User, cast.student.id)
    assert (student.last_name == "Changed") == (expected is None)


async def test_update_user_changes_only_given_fields(api: Api, cast: Cast) -> None:
    variables = {"input": {"userId": gid("User", cast.student.id), "email": "Sam.New@example.com"}}
    data = await call(api, UPDATE, variables, cast.token("admin"), None)
    assert data["updateUser"]["user"] == {
        "id": gid("User", cast.student.id),
        "firstName": "Sam",
        "lastName": "Student",
        "email": "Sam.New@example.com",
        "company": None,
    }
    assert await users_with_email(cast, "sam.new@example.com") == 1
    # Setting then clearing the company.
    uid = gid("User", cast.student.id)
    data = await call(
        api, UPDATE, {"input": {"userId": uid, "company": "Initech"}}, cast.token("admin"), None
    )
    assert data["updateUser"]["user"]["company"] == "Initech"
    data = await call(
        api, UPDATE, {"input": {"userId": uid, "company": None}}, cast.token("admin"), None
    )
    assert data["updateUser"]["user"]["company"] is None
    assert await audit_count(cast.world, "user.update") == 3
    # The same values again change nothing and record nothing.
    await call(
        api, UPDATE, {"input": {"userId": uid, "firstName": "Sam"}}, cast.token("admin"), None
    )
    assert await audit_count(cast.world, "user.update") == 3


async def test_update_user_errors(api: Api, cast: Cast) -> None:
    admin = cast.token("admin")
    uid = gid("User", cast.student.id)
    error = await call(
        api, UPDATE, {"input": {"userId": uid, "email": "ANA@example.com"}}, admin, "CONFLICT"
    )
    assert error["extensions"]["field"] == "email"
    error = await call(
        api, UPDATE, {"input": {"userId": uid, "email": "nope"}}, admin, "BAD_USER_INPUT"
    )
    assert error["extensions"]["field"] == "email"
    error = await call(
        api, UPDATE, {"input": {"userId": uid, "firstName": ""}}, admin, "BAD_USER_INPUT"
    )
    assert error["extensions"]["field"] == "firstName"
    error = await call(api, UPDATE, {"input": {"userId": gid("User", 999_999)}}, admin, "NOT_FOUND")
    assert error["extensions"]["field"] == "userId"
    error = await call(api, UPDATE, {"input": {"userId": gid("Group", 1)}}, admin, "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "userId"


async def test_only_the_owner_edits_the_owner(api: Api, cast: Cast) -> None:
    variables = {"input": {"userId": gid("User", cast.owner.id), "lastName": "Hijacked"}}
    await call(api, UPDATE, variables, cast.token("admin"), "FORBIDDEN")
    variables = {"input": {"userId": gid("User", cast.owner.id), "lastName": "Renamed"}}
    data = await call(api, UPDATE, variables, cast.token("owner"), None)
    assert data["updateUser"]["user"]["lastName"] == "Renamed"


# -- setUserRoles ----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_set_user_roles_permission(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    variables = {"input": {"userId": gid("User", cast.student.id), "roles": ["GROUP_ANALYST"]}}
    await call(api, SET_ROLES, variables, cast.token(role), expected)
    expected_roles = {"GROUP_ANALYST"} if expected is None else {"STUDENT"}
    assert await roles_of(cast.world, cast.student.id) == expected_roles


async def test_set_user_roles_sets_exactly_the_given_set(api: Api, cast: Cast) -> None:
    uid = gid("User", cast.student.id)
    data = await call(
        api,
        SET_ROLES,
        {"input": {"userId": uid, "roles": ["GROUP_ANALYST", "STUDENT"]}},
        cast.token("admin"),
        None,
    )
    assert data["setUserRoles"]["user"]["roles"] == ["GROUP_ANALYST", "STUDENT"]
    data = await call(
        api, SET_ROLES, {"input": {"userId": uid, "roles": []}}, cast.token("admin"), None
    )
    assert data["setUserRoles"]["user"]["roles"] == []
    assert await audit_count(cast.world, "user.roles.set") == 2
    # Repeating the same set changes nothing and records nothing.
    await call(api, SET_ROLES, {"input": {"userId": uid, "roles": []}}, cast.token("admin"), None)
    assert await audit_count(cast.world, "user.roles.set") == 2


async def test_granting_analyst_beyond_the_seats_is_refused(api: Api, cast: Cast) -> None:
    extra = [await cast.world.user("Extra", f"E{n}") for n in range(3)]
    results = []
    for user in extra:
        body = await api.raw(
            SET_ROLES,
            {"input": {"userId": gid("User", user.id), "roles": ["GROUP_ANALYST"]}},
            cast.token("owner"),
        )
        results.append(body["errors"][0]["extensions"]["code"] if body.get("errors") else "OK")
    assert results == ["OK", "OK", "SEAT_LIMIT_REACHED"]
    assert await roles_of(cast.world, extra[2].id) == {"STUDENT"}


async def test_revoking_analyst_frees_the_seat_and_removes_assignments(
    api: Api, cast: Cast
) -> None:
    world = cast.world
    group = await world.group("Cohort A")
    await world.assign(cast.analyst, group)
    for n in range(2):  # the plan's other two seats
        await world.user("Other", f"O{n}", Role.GROUP_ANALYST)
    newcomer = await world.user("New", "Comer")
    grant = {"input": {"userId": gid("User", newcomer.id), "roles": ["GROUP_ANALYST"]}}
    await call(api, SET_ROLES, grant, cast.token("admin"), "SEAT_LIMIT_REACHED")

    revoke = {"input": {"userId": gid("User", cast.analyst.id), "roles": ["STUDENT"]}}
    await call(api, SET_ROLES, revoke, cast.token("admin"), None)
    async with world.db.read() as session:
        left = (await session.execute(select(AnalystAssignment))).scalars().all()
    assert left == []
    await call(api, SET_ROLES, grant, cast.token("admin"), None)
    assert await roles_of(world, newcomer.id) == {"GROUP_ANALYST"}


async def test_nobody_changes_the_owners_roles(api: Api, cast: Cast) -> None:
    owner_id = gid("User", cast.owner.id)
    for token in (cast.token("owner"), cast.token("admin")):
        error = await call(
            api,
            SET_ROLES,
            {"input": {"userId": owner_id, "roles": ["SITE_OWNER", "GROUP_ANALYST"]}},
            token,
            "FORBIDDEN",
        )
        assert "owner" in error["message"]
        await call(api, SET_ROLES, {"input": {"userId": owner_id, "roles": []}}, token, "FORBIDDEN")
    assert await roles_of(cast.world, cast.owner.id) == {"SITE_OWNER"}
    # Nor can anyone make a second owner.
    await call(
        api,
        SET_ROLES,
        {"input": {"userId": gid("User", cast.admin.id), "roles": ["SITE_OWNER"]}},
        cast.token("owner"),
        "FORBIDDEN",
    )


async def test_only_the_owner_grants_or_revokes_site_admin(api: Api, cast: Cast) -> None:
    student = {"input": {"userId": gid("User", cast.student.id), "roles": ["SITE_ADMIN"]}}
    error = await call(api, SET_ROLES, student, cast.token("admin"), "FORBIDDEN")
    assert "SITE_ADMIN" in error["message"]
    admin = {"input": {"userId": gid("User", cast.admin.id), "roles": ["STUDENT"]}}
    await call(api, SET_ROLES, admin, cast.token("admin"), "FORBIDDEN")
    assert await roles_of(cast.world, cast.admin.id) == {"SITE_ADMIN"}
    await call(api, SET_ROLES, student, cast.token("owner"), None)
    await call(api, SET_ROLES, admin, cast.token("owner"), None)
    assert await roles_of(cast.world, cast.student.id) == {"SITE_ADMIN"}
    assert await roles_of(cast.world, cast.admin.id) == {"STUDENT"}


async def test_admin_may_change_other_roles_of_an_admin(api: Api, cast: Cast) -> None:
    variables = {
        "input": {"userId": gid("User", cast.admin.id), "roles": ["SITE_ADMIN", "STUDENT"]}
    }
    await call(api, SET_ROLES, variables, cast.token("admin"), None)
    assert await roles_of(cast.world, cast.admin.id) == {"SITE_ADMIN", "STUDENT"}


async def test_set_user_roles_unknown_user(api: Api, cast: Cast) -> None:
    error = await call(
        api,
        SET_ROLES,
        {"input": {"userId": gid("User", 999_999), "roles": []}},
        cast.token("admin"),
        "NOT_FOUND",
    )
    assert error["extensions"]["field"] == "userId"


async def test_taken_email_is_reported_before_a_full_plan(api: Api, cast: Cast) -> None:
    """Retrying a createUser that already succeeded says CONFLICT, even with no seat left."""
    await cast.world.set_plan("PRO_GROWTH", seats=0)
    error = await call(
        api,
        CREATE,
        {
            "input": {
                "firstName": "Again",
                "lastName": "Student",
                "email": cast.student.email.upper(),
                "roles": ["GROUP_ANALYST"],
            }
        },
        cast.token("admin"),
        "CONFLICT",
    )
    assert error["extensions"]["field"] == "email"
