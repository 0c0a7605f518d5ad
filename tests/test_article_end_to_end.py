"""The whole Group Analyst workflow, played from start to finish through GraphQL mutations.

The owner creates a user with the Group analyst role, grants the role to an existing user,
assigns a group to the analyst; the analyst then sees exactly that group's progress;
unassigning ends the access at once.

Every step is a GraphQL call, as an admin's automation or the analyst's dashboard makes it.
"""

from __future__ import annotations

from typing import Any

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
USERS = """
query($filter: UserFilter) { users(filter: $filter) { totalCount edges { node { firstName } } } }
"""
REPORT = """
{ groupProgress { totalCount edges { node {
    group { name } student { email } course { name } progress { percentCompleted }
} } } }
"""


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


async def visible_report(api: Api, token: str) -> list[tuple[str, str, str, float]]:
    """What the analyst's dashboard shows: (group, student email, course, % completed) rows."""
    data = await api.data(REPORT, token=token)
    return [
        (
            edge["node"]["group"]["name"],
            edge["node"]["student"]["email"],
            edge["node"]["course"]["name"],
            edge["node"]["progress"]["percentCompleted"],
        )
        for edge in data["groupProgress"]["edges"]
    ]


async def names(api: Api, token: str, filter: dict[str, Any]) -> list[str]:
    data = await api.data(USERS, {"filter": filter}, token)
    return [edge["node"]["firstName"] for edge in data["users"]["edges"]]


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
    assert await names(api, owner, {"role": "GROUP_ANALYST"}) == ["Gina", "Pat"]
    assert await names(api, owner, {"groupAnalystFor": data_group["id"]}) == ["Gina"]
    assert await names(api, owner, {"groupAnalystFor": other_group["id"]}) == []

    # The analyst logs in and sees exactly the Data Cohort's progress.
    gina_token = (
        await run(LOGIN, {"email": "gina@example.com", "password": "article-password"}, None)
    )["login"]["token"]
    me = (await run(VIEWER, {}, gina_token))["viewer"]
    assert me == {"id": gina["id"], "firstName": "Gina", "roles": ["GROUP_ANALYST"]}
    assert await visible_report(api, gina_token) == [
        ("Data Cohort", "alice@example.com", "SQL", 50.0)
    ]
    # The FAQ: a Group Analyst cannot manage enrollments.
    body = await api.raw(ENROLL, {"user": bob["id"], "course": course["id"]}, gina_token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # Unassigning ends the access at once: the analyst's next request sees nothing.
    removed = await run(UNASSIGN, {"user": gina["id"], "group": data_group["id"]})
    assert removed == {"unassignGroupAnalyst": {"removed": True}}
    assert await visible_report(api, gina_token) == []
    groups = await api.data("{ groups { totalCount } }", token=gina_token)
    assert groups == {"groups": {"totalCount": 0}}
