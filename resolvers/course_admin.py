"""Mutations on courses and enrollments: `createCourse`, `enrollUser`, `updateEnrollment`,
`unenrollUser`.

The rules live in `app.course_admin`; this module decodes inputs, runs one transaction per
call and shapes the payloads.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import course_admin
from resolvers.context import Info
from resolvers.courses import CourseType
from resolvers.progress import ProgressType
from resolvers.relay import from_global_id


@strawberry.input
class CreateCourseInput:
    name: str
    lesson_titles: list[str] = strawberry.field(description="The lessons, in course order.")


@strawberry.type
class CreateCoursePayload:
    course: CourseType


@strawberry.input
class EnrollUserInput:
    user_id: strawberry.ID
    course_id: strawberry.ID
    activated_at: datetime | None = strawberry.field(
        default=None, description="The enrolment date; defaults to now."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the student loses access; null: never."
    )


@strawberry.type
class EnrollUserPayload:
    progress: ProgressType


@strawberry.input
class UpdateEnrollmentInput:
    user_id: strawberry.ID
    course_id: strawberry.ID
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the student loses access; null: never."
    )


@strawberry.type
class UpdateEnrollmentPayload:
    progress: ProgressType


@strawberry.input
class UnenrollUserInput:
    user_id: strawberry.ID
    course_id: strawberry.ID


@strawberry.type
class UnenrollUserPayload:
    removed: bool = strawberry.field(
        description="False when the user was not enrolled (nothing changed)."
    )


def _ids(user_id: strawberry.ID, course_id: strawberry.ID) -> tuple[int, int]:
    return from_global_id(user_id, "User", "userId"), from_global_id(
        course_id, "Course", "courseId"
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a course with its lessons (admins).")
    async def create_course(self, info: Info, input: CreateCourseInput) -> CreateCoursePayload:
        course = await info.context.write(
            lambda s, scope: course_admin.create_course(
                s, scope, name=input.name, lesson_titles=input.lesson_titles
            ),
        )
        return CreateCoursePayload(course=CourseType.from_model(course))

    @strawberry.mutation(description="Enroll a user in a course (admins; never Group Analysts).")
    async def enroll_user(self, info: Info, input: EnrollUserInput) -> EnrollUserPayload:
        user_id, course_id = _ids(input.user_id, input.course_id)
        enrollment, course = await info.context.write(
            lambda s, scope: course_admin.enroll(
                s,
                scope,
                user_id=user_id,
                course_id=course_id,
                activated_at=input.activated_at,
                expires_at=input.expires_at,
            ),
        )
        return EnrollUserPayload(progress=ProgressType.from_enrollment(enrollment, course))

    @strawberry.mutation(description="Change when a student loses access to a course (admins).")
    async def update_enrollment(
        self, info: Info, input: UpdateEnrollmentInput
    ) -> UpdateEnrollmentPayload:
        user_id, course_id = _ids(input.user_id, input.course_id)
        enrollment, course = await info.context.write(
            lambda s, scope: course_admin.update_enrollment(
                s, scope, user_id=user_id, course_id=course_id, expires_at=input.expires_at
            ),
        )
        return UpdateEnrollmentPayload(progress=ProgressType.from_enrollment(enrollment, course))

    @strawberry.mutation(
        description="Remove a user's enrollment and its lesson progress (admins); idempotent."
    )
    async def unenroll_user(self, info: Info, input: UnenrollUserInput) -> UnenrollUserPayload:
        user_id, course_id = _ids(input.user_id, input.course_id)
        removed = await info.context.write(
            lambda s, scope: course_admin.unenroll(s, scope, user_id=user_id, course_id=course_id),
        )
        return UnenrollUserPayload(removed=removed)
