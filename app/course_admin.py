"""Courses and enrollments: `create_course`, `enroll`, `update_enrollment`, `unenroll`.

Invariants:
- only admins create courses and manage enrollments (`AccessScope.can_manage_courses`,
  `can_manage_enrollments`); a Group Analyst never manages enrollments (the course site's
  admins do); permission first, then input checks, then writes;
- a course's lessons are created with it, in the order given, and `lesson_count` equals the
  number of lesson rows;
- one enrollment per (user, course): enrolling again is CONFLICT (use `update_enrollment`);
  an enrollment's expiry is after its activation;
- unenrolling deletes the enrollment and its lesson progress; unenrolling a user who is not
  enrolled changes nothing (and is no error);
- each change writes one audit event; a call that changes nothing writes none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app import audit, validation
from app.errors import AppError, ErrorCode, bad_input, conflict, not_found, require
from app.models import Course, Enrollment, Lesson, User, utcnow
from app.writes import locked
from permissions.policy import AccessScope

ENROLLMENTS_ADMINS_ONLY = (
    "Only site owners and admins manage enrollments; Group Analysts cannot. "
    "Ask a site admin to enroll the student."
)


async def create_course(
    session: AsyncSession, scope: AccessScope, *, name: str, lesson_titles: Sequence[str]
) -> Course:
    require(scope.can_manage_courses(), "Only site owners and admins create courses.")
    name = validation.name("name", name, validation.COURSE_NAME_MAX)
    if len(lesson_titles) > validation.MAX_LESSONS_PER_COURSE:
        raise bad_input(
            "lessonTitles",
            f"'lessonTitles' may list at most {validation.MAX_LESSONS_PER_COURSE} lessons.",
        )
    titles = [
        validation.name("lessonTitles", t, validation.LESSON_TITLE_MAX) for t in lesson_titles
    ]
    course = Course(name=name, lesson_count=len(titles), created_at=utcnow())
    session.add(course)
    await session.flush()
    assert course.id is not None
    session.add_all(
        Lesson(course_id=course.id, position=position, title=title)
        for position, title in enumerate(titles, start=1)
    )
    details = {"name": name, "lessonTitles": titles}
    audit.by_viewer(session, scope, "course.create", "Course", course.id, details)
    return course


async def _user_and_course(session: AsyncSession, user_id: int, course_id: int) -> Course:
    if await session.get(User, user_id) is None:
        raise not_found("user", field="userId")
    course = await session.get(Course, course_id)
    if course is None:
        raise not_found("course", field="courseId")
    return course


async def _enrollment(
    session: AsyncSession, user_id: int, course_id: int, *, lock: bool = False
) -> Enrollment | None:
    stmt = select(Enrollment).where(
        col(Enrollment.user_id) == user_id, col(Enrollment.course_id) == course_id
    )
    return (await session.execute(locked(stmt) if lock else stmt)).scalar_one_or_none()


def _refs(user_id: int, course_id: int) -> dict[str, str]:
    """How an enrollment's audit details name its user and course."""
    return {"userId": audit.ref("User", user_id), "courseId": audit.ref("Course", course_id)}


async def enroll(
    session: AsyncSession,
    scope: AccessScope,
    *,
    user_id: int,
    course_id: int,
    activated_at: datetime | None,
    expires_at: datetime | None,
) -> tuple[Enrollment, Course]:
    require(scope.can_manage_enrollments(), ENROLLMENTS_ADMINS_ONLY)
    activated_at = validation.aware("activatedAt", activated_at) or utcnow()
    expires_at = validation.aware("expiresAt", expires_at)
    validation.ends_after("expiresAt", expires_at, activated_at, "'activatedAt'")
    course = await _user_and_course(session, user_id, course_id)
    if await _enrollment(session, user_id, course_id) is not None:
        raise conflict(
            "courseId", "The user is already enrolled in this course; use updateEnrollment."
        )
    enrollment = Enrollment(
        user_id=user_id, course_id=course_id, activated_at=activated_at, expires_at=expires_at
    )
    session.add(enrollment)
    await session.flush()
    details = {
        **_refs(user_id, course_id),
        "activatedAt": audit.iso(activated_at),
        "expiresAt": audit.iso(expires_at),
    }
    audit.by_viewer(session, scope, "enrollment.create", "Progress", enrollment.id, details)
    return enrollment, course


async def update_enrollment(
    session: AsyncSession,
    scope: AccessScope,
    *,
    user_id: int,
    course_id: int,
    expires_at: datetime | None,
) -> tuple[Enrollment, Course]:
    """Set the expiry (None: the student never loses access)."""
    require(scope.can_manage_enrollments(), ENROLLMENTS_ADMINS_ONLY)
    expires_at = validation.aware("expiresAt", expires_at)
    course = await _user_and_course(session, user_id, course_id)
    enrollment = await _enrollment(session, user_id, course_id, lock=True)
    if enrollment is None:
        raise AppError(
            ErrorCode.NOT_FOUND,
            "The user is not enrolled in this course; use enrollUser first.",
            field="courseId",
        )
    validation.ends_after("expiresAt", expires_at, enrollment.activated_at, "the activation date")
    if enrollment.expires_at == expires_at:
        return enrollment, course
    before = enrollment.expires_at
    enrollment.expires_at = expires_at
    details = {
        **_refs(user_id, course_id),
        "expiresAt": {"before": audit.iso(before), "after": audit.iso(expires_at)},
    }
    audit.by_viewer(session, scope, "enrollment.update", "Progress", enrollment.id, details)
    return enrollment, course


async def unenroll(
    session: AsyncSession, scope: AccessScope, *, user_id: int, course_id: int
) -> bool:
    """Whether an enrollment was removed."""
    require(scope.can_manage_enrollments(), ENROLLMENTS_ADMINS_ONLY)
    await _user_and_course(session, user_id, course_id)
    enrollment = await _enrollment(session, user_id, course_id, lock=True)
    if enrollment is None:
        return False
    await session.delete(enrollment)
    details = {
        **_refs(user_id, course_id),
        "activatedAt": audit.iso(enrollment.activated_at),
        "lessonsViewed": enrollment.lessons_viewed,
        "lessonsCompleted": enrollment.lessons_completed,
        "completedAt": audit.iso(enrollment.completed_at),
    }
    audit.by_viewer(session, scope, "enrollment.delete", "Progress", enrollment.id, details)
    return True
