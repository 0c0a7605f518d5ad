"""markLessonViewed and completeLesson: counters, completion, repeats, who may record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from app.models import Course, Enrollment, Lesson, LessonProgress, User, utcnow
from tests.cast import Cast, audit_count, call
from tests.support import Api, World, gid

VIEW = """
mutation($lesson: ID!, $user: ID) {
  markLessonViewed(input: {lessonId: $lesson, userId: $user}) {
    progress { percentViewed percentCompleted completedAt status }
    lesson { id title }
    viewedAt completedAt changed
  }
}
"""
COMPLETE = VIEW.replace("markLessonViewed", "completeLesson")


async def lessons_of(world: World, course: Course) -> list[str]:
    lessons = await world.scalars(
        select(Lesson).where(col(Lesson.course_id) == course.id).order_by(col(Lesson.position))
    )
    return [gid("Lesson", lesson.id) for lesson in lessons]


async def enrollment_of(world: World, user: User) -> Enrollment:
    (enrollment,) = await world.scalars(
        select(Enrollment).where(col(Enrollment.user_id) == user.id)
    )
    return enrollment


async def lesson_rows(world: World) -> list[LessonProgress]:
    return await world.scalars(select(LessonProgress))


@pytest.fixture
async def course(cast: Cast) -> Course:
    course = await cast.world.course("Python", lessons=3)
    for user in (cast.student, cast.analyst, cast.admin):
        await cast.world.enroll(user, course)
    return course


async def test_student_views_then_completes_every_lesson(
    api: Api, cast: Cast, course: Course
) -> None:
    lessons = await lessons_of(cast.world, course)
    token = cast.token("student")
    viewed = (await call(api, VIEW, {"lesson": lessons[0]}, token, None))["markLessonViewed"]
    assert viewed["changed"] is True
    assert viewed["viewedAt"] is not None and viewed["completedAt"] is None
    assert viewed["progress"] == {
        "percentViewed": 33.3,
        "percentCompleted": 0.0,
        "completedAt": None,
        "status": "IN_PROGRESS",
    }
    # Completing implies viewing: the second lesson counts as viewed too.
    done: dict[str, Any] = {}
    for lesson in lessons:
        done = (await call(api, COMPLETE, {"lesson": lesson}, token, None))["completeLesson"]
    assert done["progress"]["percentViewed"] == 100.0
    assert done["progress"]["percentCompleted"] == 100.0
    assert done["progress"]["completedAt"] is not None
    assert done["progress"]["status"] == "COMPLETED"
    enrollment = await enrollment_of(cast.world, cast.student)
    assert (enrollment.lessons_viewed, enrollment.lessons_completed) == (3, 3)
    assert enrollment.completed_at is not None
    rows = await lesson_rows(cast.world)
    assert len(rows) == 3 and all(r.viewed_at and r.completed_at for r in rows)
    assert await audit_count(cast.world, "lesson.view") == 1
    assert await audit_count(cast.world, "lesson.complete") == 3


async def test_repeating_an_event_changes_nothing(api: Api, cast: Cast, course: Course) -> None:
    lessons = await lessons_of(cast.world, course)
    token = cast.token("student")
    for lesson in lessons:
        await call(api, COMPLETE, {"lesson": lesson}, token, None)
    first_completed_at = (await enrollment_of(cast.world, cast.student)).completed_at
    before = await audit_count(cast.world)
    for query, name in ((VIEW, "markLessonViewed"), (COMPLETE, "completeLesson")):
        again = (await call(api, query, {"lesson": lessons[0]}, token, None))[name]
        assert again["changed"] is False
    enrollment = await enrollment_of(cast.world, cast.student)
    assert (enrollment.lessons_viewed, enrollment.lessons_completed) == (3, 3)
    assert enrollment.completed_at == first_completed_at
    assert await audit_count(cast.world) == before


async def test_viewing_after_completing_keeps_completion(
    api: Api, cast: Cast, course: Course
) -> None:
    lessons = await lessons_of(cast.world, course)
    token = cast.token("student")
    await call(api, COMPLETE, {"lesson": lessons[1]}, token, None)
    data = (await call(api, VIEW, {"lesson": lessons[1]}, token, None))["markLessonViewed"]
    assert data["changed"] is False and data["completedAt"] is not None
    enrollment = await enrollment_of(cast.world, cast.student)
    assert (enrollment.lessons_viewed, enrollment.lessons_completed) == (1, 1)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("student", None),
        ("analyst", None),
        ("admin", None),
        ("owner", "BAD_USER_INPUT"),  # allowed, but the owner is not enrolled
    ],
)
async def test_everyone_signed_in_records_its_own_progress(
    api: Api, cast: Cast, course: Course, role: str, expected: str | None
) -> None:
    lessons = await lessons_of(cast.world, course)
    error = await call(api, VIEW, {"lesson": lessons[0]}, cast.token(role), expected)
    if role == "owner":
        assert error["extensions"]["field"] == "lessonId"
        assert "not enrolled" in error["message"] and "Python" in error["message"]
    assert len(await lesson_rows(cast.world)) == (1 if expected is None else 0)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("student", "NOT_FOUND"),  # another student is invisible to a student
        ("analyst", "FORBIDDEN"),  # a member of its group: visible, but not its to change
        ("admin", None),
        ("owner", None),
    ],
)
async def test_only_admins_record_progress_for_another_user(
    api: Api, cast: Cast, course: Course, role: str, expected: str | None
) -> None:
    world = cast.world
    other = await world.user("Oscar", "Other")
    await world.enroll(other, course)
    group = await world.group("Cohort", members=(other,))
    await world.assign(cast.analyst, group)
    lessons = await lessons_of(world, course)
    variables = {"lesson": lessons[0], "user": gid("User", other.id)}
    error = await call(api, COMPLETE, variables, cast.token(role), expected)
    if expected == "NOT_FOUND":
        assert error["extensions"]["field"] == "userId"
    enrollment = await enrollment_of(world, other)
    assert enrollment.lessons_completed == (1 if expected is None else 0)


async def test_student_not_enrolled_gets_a_clear_error(
    api: Api, cast: Cast, course: Course
) -> None:
    other_course = await cast.world.course("Secret", lessons=1)
    [lesson] = await lessons_of(cast.world, other_course)
    error = await call(api, VIEW, {"lesson": lesson}, cast.token("student"), "NOT_FOUND")
    assert error["extensions"]["field"] == "lessonId"
    assert "enrolled" in error["message"]
    # A lesson that does not exist answers the same way.
    missing = await call(
        api, VIEW, {"lesson": gid("Lesson", 999_999)}, cast.token("student"), "NOT_FOUND"
    )
    assert missing["message"] == error["message"]
    # An admin importing progress for a student who is not enrolled is told to enroll first.
    error = await call(
        api,
        VIEW,
        {"lesson": lesson, "user": gid("User", cast.student.id)},
        cast.token("admin"),
        "BAD_USER_INPUT",
    )
    assert "enroll" in error["message"]


async def test_bad_ids(api: Api, cast: Cast, course: Course) -> None:
    lessons = await lessons_of(cast.world, course)
    error = await call(api, VIEW, {"lesson": "garbage"}, cast.token("student"), "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "lessonId"
    error = await call(
        api, VIEW, {"lesson": gid("Lesson", 999_999)}, cast.token("admin"), "NOT_FOUND"
    )
    assert error["extensions"]["field"] == "lessonId"
    assert error["message"] == "No lesson with that id."
    error = await call(
        api,
        VIEW,
        {"lesson": lessons[0], "user": gid("User", 999_999)},
        cast.token("admin"),
        "NOT_FOUND",
    )
    assert error["extensions"]["field"] == "userId"


async def test_expired_enrollment_cannot_record_progress(api: Api, cast: Cast) -> None:
    world = cast.world
    course = await world.course("Old", lessons=2)
    await world.enroll(cast.student, course, expires_at=utcnow() - timedelta(days=1))
    lessons = await lessons_of(world, course)
    error = await call(api, VIEW, {"lesson": lessons[0]}, cast.token("student"), "FORBIDDEN")
    assert "ended" in error["message"]
    # An admin (an import) still can.
    variables = {"lesson": lessons[0], "user": gid("User", cast.student.id)}
    await call(api, VIEW, variables, cast.token("admin"), None)
