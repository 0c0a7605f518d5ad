"""The help article, played from start to finish through GraphQL mutations.

The owner creates a user with the Group analyst role, grants the role to an existing user,
assigns a group to the analyst; the analyst then sees exactly that group's progress;
unassigning ends the access at once.

Reading lists (`users(filter: {role, groupAnalystFor})`, `groupProgress`) belongs to the read
API; until it is merged, this test checks those steps with the same building blocks the read
API uses: the database rows, `permissions.policy.load_scope` and `app.report.report_rows`.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from app.auth import viewer_for_token
from app.models import AnalystAssignment, Role, UserRole
from app.report import ProgressFilter, report_rows
from permissions.policy import Scope, load_scope
from resolvers.node import parse_global_id
from tests.support import Api, World

LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token viewer { id firstName } }
}
"""
CREATE_USER = """
mutation($input: CreateUserInput!) {
  createUser(input: $input) { user { id firstName roles } }
}
"""
SET_ROLES = """
mutation($input: SetUserRolesInput!) { setUserRoles(input: $input) { user { id roles } } }
"""
CREATE_GROUP = (
    "mutation($name: String!) { createGroup(input: {name: $name}) { group { id name } } }"
)
ADD = """
mutation($id: ID!, $users: [ID!]!) {
  addGroupMembers(input: {groupId: $id, userIds: $users}) { addedUserIds }
}
"""
CREATE_COURSE = """
mutation($name: String!, $titles: [String!]!) {
  createCourse(input: {name: $name, lessonTitles: $titles}) { course { id lessons { id } } }
}
"""
ENROLL = """
mutation($user: ID!, $course: ID!) {
  enrollUser(input: {userId: $user, courseId: $course}) { progress { id } }
}
"""
COMPLETE = """
mutation($lesson: ID!) {
  completeLesson(input: {lessonId: $lesson}) { progress { percentCompleted } }
}
"""
ASSIGN = """
mutation($user: ID!, $group: ID!) {
  assignGroupAnalyst(input: {userId: $user, groupId: $group}) {
    assignment { analyst { id firstName } group { id name } assignedAt expiresAt }
  }
}
"""
UNASSIGN = """
mutation($user: ID!, $group: ID!) {
  unassignGroupAnalyst(input: {userId: $user, groupId: $group}) { removed }
}
"""
VIEWER = "{ viewer { id firstName roles } }"


def person(first: str, last: str, *roles: str) -> dict[str, Any]:
    return {
        "input": {
            "firstName": first,
            "lastName": last,
            "email": f"{first.lower()}@example.com",
            "password": "article-password",
            "roles": list(roles),
        }
    }


async def visible_report(world: World, token: str) -> tuple[Scope, list[tuple[str, str, float]]]:
    """What the analyst's report shows: (group, student email, % completed) rows."""
    scope = await load_scope(world.db, await viewer_for_token(world.db, token))
    async with world.db.read() as session:
        rows = (await session.execute(report_rows(scope, ProgressFilter()))).all()
    return scope, [
        (row.group_name, row.email, row.lessons_completed * 100 // row.lesson_count) for row in rows
    ]


async def test_the_article_from_start_to_finish(api: Api, world: World) -> None:
    owner = await world.token(world.owner)

    async def run(query: str, variables: dict[str, Any], token: str | None = owner) -> Any:
        return await api.data(query, variables, token)

    # The site has groups of students, a course, and progress.
    data_group = (await run(CREATE_GROUP, {"name": "Data Cohort"}))["createGroup"]["group"]
    other_group = (await run(CREATE_GROUP, {"name": "Other Cohort"}))["createGroup"]["group"]
    alice = (await run(CREATE_USER, person("Alice", "Ames", "STUDENT")))["createUser"]["user"]
    bob = (await run(CREATE_USER, person("Bob", "Brown", "STUDENT")))["createUser"]["user"]
    await run(ADD, {"id": data_group["id"], "users": [alice["id"]]})
    await run(ADD, {"id": other_group["id"], "users": [bob["id"]]})
    course = (await run(CREATE_COURSE, {"name": "SQL", "titles": ["One", "Two"]}))["createCourse"][
        "course"
    ]
    for student in (alice, bob):
        await run(ENROLL, {"user": student["id"], "course": course["id"]})
    alice_token = (
        await run(LOGIN, {"email": "alice@example.com", "password": "article-password"}, None)
    )["login"]["token"]
    await run(COMPLETE, {"lesson": course["lessons"][0]["id"]}, alice_token)

    # "Assign While Creating a User": check off Group analyst.
    created = (await run(CREATE_USER, person("Gina", "Analyst", "GROUP_ANALYST")))["createUser"]
    gina = created["user"]
    assert gina["roles"] == ["GROUP_ANALYST"]
    # "Assign to an Existing User": edit the user's roles.
    pat = (await run(CREATE_USER, person("Pat", "Partner", "STUDENT")))["createUser"]["user"]
    granted = await run(SET_ROLES, {"input": {"userId": pat["id"], "roles": ["GROUP_ANALYST"]}})
    assert granted["setUserRoles"]["user"]["roles"] == ["GROUP_ANALYST"]

    # "How to Assign a Group to a Group Analyst".
    assignment = (await run(ASSIGN, {"user": gina["id"], "group": data_group["id"]}))[
        "assignGroupAnalyst"
    ]["assignment"]
    assert assignment["analyst"] == {"id": gina["id"], "firstName": "Gina"}
    assert assignment["group"] == data_group
    assert assignment["expiresAt"] is None

    # "How to Filter for Group Analysts": by role, and for a specific group.
    async with world.db.read() as session:
        analysts = set(
            (
                await session.execute(
                    select(UserRole.user_id).where(col(UserRole.role) == Role.GROUP_ANALYST.value)
                )
            ).scalars()
        )
        analysts_for_data = set(
            (
                await session.execute(
                    select(AnalystAssignment.analyst_id).where(
                        col(AnalystAssignment.group_id) == db_id(data_group["id"])
                    )
                )
            ).scalars()
        )
    assert analysts == {db_id(gina["id"]), db_id(pat["id"])}
    assert analysts_for_data == {db_id(gina["id"])}

    # The analyst logs in and sees exactly the Data Cohort's progress.
    gina_token = (
        await run(LOGIN, {"email": "gina@example.com", "password": "article-password"}, None)
    )["login"]["token"]
    me = (await run(VIEWER, {}, gina_token))["viewer"]
    assert me == {"id": gina["id"], "firstName": "Gina", "roles": ["GROUP_ANALYST"]}
    scope, rows = await visible_report(world, gina_token)
    assert rows == [("Data Cohort", "alice@example.com", 50)]
    assert scope.can_see_email(db_id(alice["id"]))
    assert not scope.can_see_email(db_id(bob["id"]))
    # The FAQ: a Group Analyst cannot manage enrollments.
    body = await api.raw(ENROLL, {"user": bob["id"], "course": course["id"]}, gina_token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # Unassigning ends the access at once: the analyst's next request sees nothing.
    removed = await run(UNASSIGN, {"user": gina["id"], "group": data_group["id"]})
    assert removed == {"unassignGroupAnalyst": {"removed": True}}
    scope, rows = await visible_report(world, gina_token)
    assert rows == []
    assert scope.analysed_group_ids == frozenset()
    assert not scope.can_see_email(db_id(alice["id"]))


def db_id(global_id: str) -> int:
    parsed = parse_global_id(global_id)
    assert parsed is not None
    return parsed[1]
