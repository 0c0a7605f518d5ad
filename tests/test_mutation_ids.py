"""Every mutation rejects a malformed or wrong-type id naming the field, and writes nothing."""

from __future__ import annotations

import pytest

from tests.cast import Cast, audit_count, call
from tests.support import Api, gid

# (mutation, input, the field at fault); "BAD" is replaced by a malformed id.
CASES = [
    ("updateUser", {"userId": "BAD", "firstName": "X"}, "userId"),
    ("setUserRoles", {"userId": "BAD", "roles": []}, "userId"),
    ("assignGroupAnalyst", {"userId": "BAD", "groupId": "GROUP"}, "userId"),
    ("assignGroupAnalyst", {"userId": "ANALYST", "groupId": "BAD"}, "groupId"),
    ("unassignGroupAnalyst", {"userId": "BAD", "groupId": "GROUP"}, "userId"),
    ("unassignGroupAnalyst", {"userId": "ANALYST", "groupId": "BAD"}, "groupId"),
    ("renameGroup", {"groupId": "BAD", "name": "X"}, "groupId"),
    ("deleteGroup", {"groupId": "BAD"}, "groupId"),
    ("addGroupMembers", {"groupId": "BAD", "userIds": ["ANALYST"]}, "groupId"),
    ("removeGroupMembers", {"groupId": "GROUP", "userIds": ["BAD"]}, "userIds"),
    ("enrollUser", {"userId": "BAD", "courseId": "COURSE"}, "userId"),
    ("enrollUser", {"userId": "ANALYST", "courseId": "BAD"}, "courseId"),
    ("updateEnrollment", {"userId": "ANALYST", "courseId": "BAD"}, "courseId"),
    ("unenrollUser", {"userId": "BAD", "courseId": "COURSE"}, "userId"),
    ("markLessonViewed", {"lessonId": "BAD"}, "lessonId"),
    ("completeLesson", {"lessonId": "LESSON", "userId": "BAD"}, "userId"),
]

# A payload field every mutation above has.
SELECTION = {
    "updateUser": "user { id }",
    "setUserRoles": "user { id }",
    "assignGroupAnalyst": "assignment { id }",
    "unassignGroupAnalyst": "removed",
    "renameGroup": "group { id }",
    "deleteGroup": "deletedGroupId",
    "addGroupMembers": "addedUserIds",
    "removeGroupMembers": "removedUserIds",
    "enrollUser": "progress { id }",
    "updateEnrollment": "progress { id }",
    "unenrollUser": "removed",
    "markLessonViewed": "changed",
    "completeLesson": "changed",
}


@pytest.mark.parametrize("bad", ["not-an-id", "Q291cnNlOjE="])  # garbage; a Course:1 id
@pytest.mark.parametrize(("mutation", "fields", "field"), CASES)
async def test_malformed_ids_are_bad_input(
    api: Api, cast: Cast, mutation: str, fields: dict[str, object], field: str, bad: str
) -> None:
    group = await cast.world.group("Cohort")
    course = await cast.world.course("Python", lessons=1)
    values = {
        "BAD": bad,
        "GROUP": gid("Group", group.id),
        "ANALYST": gid("User", cast.analyst.id),
        "COURSE": gid("Course", course.id),
        "LESSON": gid("Lesson", 1),
    }
    if field == "courseId" and bad.startswith("Q291"):
        values["BAD"] = gid("Group", 1)  # a well-formed id of the wrong type

    def fill(value: object) -> object:
        if isinstance(value, list):
            return [fill(v) for v in value]
        return values.get(value, value) if isinstance(value, str) else value

    variables = {"input": {k: fill(v) for k, v in fields.items()}}
    input_type = mutation[0].upper() + mutation[1:] + "Input"
    if mutation in ("addGroupMembers", "removeGroupMembers"):
        input_type = "GroupMembersInput"
    if mutation in ("markLessonViewed", "completeLesson"):
        input_type = "LessonEventInput"
    query = (
        f"mutation($input: {input_type}!) {{ {mutation}(input: $input) "
        f"{{ {SELECTION[mutation]} }} }}"
    )
    before = await audit_count(cast.world)
    error = await call(api, query, variables, cast.token("admin"), "BAD_USER_INPUT")
    assert error["extensions"]["field"] == field
    assert await audit_count(cast.world) == before


async def test_an_unknown_role_is_refused_by_the_schema(api: Api, cast: Cast) -> None:
    body = await api.raw(
        "mutation($input: SetUserRolesInput!) { setUserRoles(input: $input) { user { id } } }",
        {"input": {"userId": gid("User", cast.student.id), "roles": ["KING"]}},
        cast.token("admin"),
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "KING" in body["errors"][0]["message"]
