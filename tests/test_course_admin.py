"""createCourse, enrollUser, updateEnrollment, unenrollUser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from app.models import Course, Enrollment, Lesson, LessonProgress, utcnow
from tests.cast import ADMINS_ONLY, Cast, audit_count, call
from tests.support import Api, gid

CREATE = """
mutation($name: String!, $titles: [String!]!) {
  createCourse(input: {name: $name, lessonTitles: $titles}) {
    course { id name lessonCount lessons { id title position } }
  }
}
"""
ENROLL = """
mutation($user: ID!, $course: ID!, $activatedAt: DateTime, $expiresAt: DateTime) {
  enrollUser(input: {userId: $user, courseId: $course, activatedAt: $activatedAt,
                     expiresAt: $expiresAt}) {
    progress { id activatedAt expiresAt percentViewed percentCompleted completedAt
               student { id } course { id name } }
  }
}
"""
UPDATE = """
mutation($user: ID!, $course: ID!, $expiresAt: DateTime) {
  updateEnrollment(input: {userId: $user, courseId: $course, expiresAt: $expiresAt}) {
    progress { id expiresAt }
  }
}
"""
UNENROLL = """
mutation($user: ID!, $course: ID!) {
  unenrollUser(input: {userId: $user, courseId: $course}) { removed }
}
"""


async def enrollments(cast: Cast) -> list[Enrollment]:
    return await cast.world.scalars(select(Enrollment))


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_create_course_permission(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    await call(api, CREATE, {"name": "Python", "titles": ["Intro"]}, cast.token(role), expected)
    async with cast.world.db.read() as session:
        courses = (await session.execute(select(Course))).scalars().all()
    assert len(courses) == (1 if expected is None else 0)


async def test_create_course_with_lessons_in_order(api: Api, cast: Cast) -> None:
    data = await call(
        api,
        CREATE,
        {"name": "Python", "titles": ["Intro", "Loops", "Done"]},
        cast.token("admin"),
        None,
    )
    course = data["createCourse"]["course"]
    assert course["name"] == "Python"
    assert course["lessonCount"] == 3
    assert [(lesson["title"], lesson["position"]) for lesson in course["lessons"]] == [
        ("Intro", 1),
        ("Loops", 2),
        ("Done", 3),
    ]
    assert await audit_count(cast.world, "course.create") == 1


async def test_create_course_validation_writes_nothing(api: Api, cast: Cast) -> None:
    admin = cast.token("admin")
    error = await call(api, CREATE, {"name": " ", "titles": []}, admin, "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "name"
    error = await call(api, CREATE, {"name": "P", "titles": ["ok", ""]}, admin, "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "lessonTitles"
    error = await call(api, CREATE, {"name": "P", "titles": ["t" * 201]}, admin, "BAD_USER_INPUT")
    assert error["extensions"]["field"] == "lessonTitles"
    async with cast.world.db.read() as session:
        assert (await session.execute(select(Course))).scalars().all() == []
        assert (await session.execute(select(Lesson))).scalars().all() == []


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_enroll_permission(api: Api, cast: Cast, role: str, expected: str | None) -> None:
    course = await cast.world.course("Python", lessons=2)
    variables = {"user": gid("User", cast.student.id), "course": gid("Course", course.id)}
    error = await call(api, ENROLL, variables, cast.token(role), expected)
    assert len(await enrollments(cast)) == (1 if expected is None else 0)
    if role == "analyst":
        # Analysts cannot manage enrollments, and the message says who can.
        assert "Group Analysts cannot" in error["message"]


async def test_enroll_success_and_errors(api: Api, cast: Cast) -> None:
    course = await cast.world.course("Python", lessons=2)
    admin = cast.token("admin")
    user, course_id = gid("User", cast.student.id), gid("Course", course.id)
    activated = (utcnow() - timedelta(days=3)).replace(microsecond=0)
    expires = activated + timedelta(days=30)
    data = await call(
        api,
        ENROLL,
        {
            "user": user,
            "course": course_id,
            "activatedAt": activated.isoformat(),
            "expiresAt": expires.isoformat(),
        },
        admin,
        None,
    )
    progress = data["enrollUser"]["progress"]
    assert progress["student"] == {"id": user}
    assert progress["course"] == {"id": course_id, "name": "Python"}
    assert progress["percentViewed"] == 0.0 and progress["completedAt"] is None
    assert progress["expiresAt"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S"))
    error = await call(api, ENROLL, {"user": user, "course": course_id}, admin, "CONFLICT")
    assert error["extensions"]["field"] == "courseId"

    other = await cast.world.course("Other", lessons=1)
    error = await call(
        api,
        ENROLL,
        {
            "user": user,
            "course": gid("Course", other.id),
            "activatedAt": activated.isoformat(),
            "expiresAt": (activated - timedelta(days=1)).isoformat(),
        },
        admin,
        "BAD_USER_INPUT",
    )
    assert error["extensions"]["field"] == "expiresAt"
    error = await call(
        api, ENROLL, {"user": gid("User", 999_999), "course": course_id}, admin, "NOT_FOUND"
    )
    assert error["extensions"]["field"] == "userId"
    error = await call(
        api, ENROLL, {"user": user, "course": gid("Course", 999_999)}, admin, "NOT_FOUND"
    )
    assert error["extensions"]["field"] == "courseId"
    assert len(await enrollments(cast)) == 1
    assert await audit_count(cast.world, "enrollment.create") == 1


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_update_enrollment_permission(
    api: Api, cast: Cast, role: str, expected: str | None
) -> None:
    course = await cast.world.course("Python", lessons=2)
    await cast.world.enroll(cast.student, course)
    expires = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    variables = {
        "user": gid("User", cast.student.id),
        "course": gid("Course", course.id),
        "expiresAt": expires.isoformat(),
    }
    await call(api, UPDATE, variables, cast.token(role), expected)
    [enrollment] = await enrollments(cast)
    assert enrollment.expires_at == (expires if expected is None else None)


async def test_update_enrollment_success_and_errors(api: Api, cast: Cast) -> None:
    course = await cast.world.course("Python", lessons=2)
    activated = utcnow() - timedelta(days=10)
    await cast.world.enroll(cast.student, course, activated_at=activated)
    admin = cast.token("admin")
    user, course_id = gid("User", cast.student.id), gid("Course", course.id)
    expires = (utcnow() + timedelta(days=5)).isoformat()
    data = await call(
        api, UPDATE, {"user": user, "course": course_id, "expiresAt": expires}, admin, None
    )
    assert data["updateEnrollment"]["progress"]["expiresAt"] is not None
    data = await call(
        api, UPDATE, {"user": user, "course": course_id, "expiresAt": None}, admin, None
    )
    assert data["updateEnrollment"]["progress"]["expiresAt"] is None
    assert await audit_count(cast.world, "enrollment.update") == 2
    before_activation = (activated - timedelta(days=1)).isoformat()
    error = await call(
        api,
        UPDATE,
        {"user": user, "course": course_id, "expiresAt": before_activation},
        admin,
        "BAD_USER_INPUT",
    )
    assert error["extensions"]["field"] == "expiresAt"
    other = await cast.world.course("Other")
    error = await call(
        api, UPDATE, {"user": user, "course": gid("Course", other.id)}, admin, "NOT_FOUND"
    )
    assert error["extensions"]["field"] == "courseId"
    assert "not enrolled" in error["message"]
    error = await call(
        api, UPDATE, {"user": gid("User", 999_999), "course": course_id}, admin, "NOT_FOUND"
    )
    assert error["extensions"]["field"] == "userId"


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_unenroll_permission(api: Api, cast: Cast, role: str, expected: str | None) -> None:
    course = await cast.world.course("Python", lessons=2)
    await cast.world.enroll(cast.student, course)
    variables = {"user": gid("User", cast.student.id), "course": gid("Course", course.id)}
    await call(api, UNENROLL, variables, cast.token(role), expected)
    assert len(await enrollments(cast)) == (0 if expected is None else 1)


async def test_unenroll_removes_progress_and_is_idempotent(api: Api, cast: Cast) -> None:
    course = await cast.world.course("Python", lessons=2)
    enrollment = await cast.world.enroll(cast.student, course, viewed=1)
    async with cast.world.db.write() as session:
        lesson = (
            (await session.execute(select(Lesson).where(col(Lesson.course_id) == course.id)))
            .scalars()
            .first()
        )
        assert lesson is not None and lesson.id is not None and enrollment.id is not None
        session.add(
            LessonProgress(enrollment_id=enrollment.id, lesson_id=lesson.id, viewed_at=utcnow())
        )
    variables = {"user": gid("User", cast.student.id), "course": gid("Course", course.id)}
    data = await call(api, UNENROLL, variables, cast.token("admin"), None)
    assert data["unenrollUser"]["removed"] is True
    data = await call(api, UNENROLL, variables, cast.token("admin"), None)
    assert data["unenrollUser"]["removed"] is False
    async with cast.world.db.read() as session:
        assert (await session.execute(select(LessonProgress))).scalars().all() == []
    assert await audit_count(cast.world, "enrollment.delete") == 1
    error = await call(
        api,
        UNENROLL,
        {"user": variables["user"], "course": gid("Course", 999_999)},
        cast.token("admin"),
        "NOT_FOUND",
    )
    assert error["extensions"]["field"] == "courseId"
