"""Lesson events from the course player (or an import): viewed, completed.

Invariants:
- everyone signed in records its own progress; admins record anyone's
  (`AccessScope.can_record_progress_for`); a target the viewer cannot see is NOT_FOUND, one it can
  see but not change is FORBIDDEN;
- the lesson_progress row and the enrollment's running counters (`lessons_viewed`,
  `lessons_completed`) change in one transaction, with the enrollment row locked, so the
  counters always equal the number of viewed / completed lesson rows, also under concurrent
  events for the same enrollment;
- completing implies viewing; a repeated event changes nothing (no counter change, no audit
  event); `completed_at` on the enrollment is set the first time completion reaches 100% and
  never cleared;
- a student whose access to the course has expired cannot record progress (admins can).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app import audit
from app.errors import AppError, ErrorCode, bad_input, forbidden, not_found
from app.models import Course, Enrollment, Lesson, LessonProgress, User, utcnow
from app.writes import locked
from permissions import rules
from permissions.policy import AccessScope, learn_members


@dataclass(frozen=True)
class LessonEvent:
    enrollment: Enrollment
    course: Course
    lesson: Lesson
    progress: LessonProgress
    changed: bool


async def _target(session: AsyncSession, scope: AccessScope, user_id: int | None) -> int:
    assert scope.viewer_id is not None, "the resolver checks authentication first"
    target = scope.viewer_id if user_id is None else user_id
    if not scope.can_record_progress_for(target):
        await learn_members(session, scope, (target,))
        if rules.USER.allows(scope, target):
            raise forbidden("You may record only your own lesson progress.")
        raise not_found("user", field="userId")
    if await session.get(User, target) is None:
        raise not_found("user", field="userId")
    return target


async def record_lesson_event(
    session: AsyncSession,
    scope: AccessScope,
    *,
    lesson_id: int,
    user_id: int | None,
    complete: bool,
) -> LessonEvent:
    target = await _target(session, scope, user_id)
    lesson, enrollment, course = await _enrolled_lesson(session, scope, target, lesson_id)
    now = utcnow()
    ended = enrollment.expires_at
    if ended is not None and ended <= now and not scope.can_record_progress_after_expiry():
        raise forbidden(
            f"Access to the course '{course.name}' ended on "
            f"{ended.date().isoformat()}; progress can no longer be recorded."
        )
    progress, changed = await _mark(session, enrollment, course, lesson_id, complete, now)
    if changed:
        details = {
            "userId": audit.ref("User", target),
            "courseId": audit.ref("Course", course.id or 0),
            "lessonsViewed": enrollment.lessons_viewed,
            "lessonsCompleted": enrollment.lessons_completed,
            "courseCompleted": enrollment.completed_at == now,
        }
        audit.by_viewer(
            session,
            scope,
            "lesson.complete" if complete else "lesson.view",
            "Lesson",
            lesson_id,
            details,
        )
    return LessonEvent(
        enrollment=enrollment, course=course, lesson=lesson, progress=progress, changed=changed
    )


async def _enrolled_lesson(
    session: AsyncSession, scope: AccessScope, target: int, lesson_id: int
) -> tuple[Lesson, Enrollment, Course]:
    """The lesson, the target's enrollment in its course (locked) and the course; NOT_FOUND
    for a lesson the viewer cannot see, BAD_USER_INPUT when the target is not enrolled."""
    lesson = await session.get(Lesson, lesson_id)
    enrollment = None
    if lesson is not None:
        enrollment = (
            await session.execute(
                locked(
                    select(Enrollment).where(
                        col(Enrollment.user_id) == target,
                        col(Enrollment.course_id) == lesson.course_id,
                    )
                )
            )
        ).scalar_one_or_none()
    if lesson is None or not rules.COURSE.allows(scope, lesson.course_id):
        # A lesson of a course the viewer may not see (`rules.COURSE`: a student sees only
        # the courses it is enrolled in) is as absent as a lesson that does not exist.
        if rules.COURSE.allows_every(scope):
            raise not_found("lesson", field="lessonId")
        raise AppError(
            ErrorCode.NOT_FOUND,
            "No lesson with that id in a course the user is enrolled in.",
            field="lessonId",
        )
    course = await session.get_one(Course, lesson.course_id)
    if enrollment is None:
        raise bad_input(
            "lessonId",
            f"The user is not enrolled in the course '{course.name}' of this lesson; "
            "enroll them first (enrollUser).",
        )
    return lesson, enrollment, course


async def _mark(
    session: AsyncSession,
    enrollment: Enrollment,
    course: Course,
    lesson_id: int,
    complete: bool,
    now: datetime,
) -> tuple[LessonProgress, bool]:
    """The lesson's progress row marked viewed (and completed), the enrollment's counters
    and completion kept in step; whether anything changed."""
    progress = await session.get(LessonProgress, (enrollment.id, lesson_id))
    if progress is None:
        assert enrollment.id is not None
        progress = LessonProgress(enrollment_id=enrollment.id, lesson_id=lesson_id)
        session.add(progress)
    changed = False
    if progress.viewed_at is None:
        progress.viewed_at = now
        enrollment.lessons_viewed += 1
        changed = True
    if complete and progress.completed_at is None:
        progress.completed_at = now
        enrollment.lessons_completed += 1
        changed = True
    if (
        enrollment.completed_at is None
        and course.lesson_count > 0
        and enrollment.lessons_completed >= course.lesson_count
    ):
        enrollment.completed_at = now
    return progress, changed
