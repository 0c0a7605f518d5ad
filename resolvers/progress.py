"""The `Progress` type: one student in one course, seen through one group in reports."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.models import Enrollment
from app.report import ProgressStatus, percent, status_of
from permissions.fields import ExpiryVisible, visible_to
from resolvers.context import Info
from resolvers.courses import CourseType
from resolvers.groups import GroupType
from resolvers.node import Node, to_global_id
from resolvers.users import UserType

strawberry.enum(ProgressStatus, description="Where a student stands in a course.")


@strawberry.type(name="Progress", description="One student's progress in one course.")
class ProgressType(Node):
    activated_at: datetime = strawberry.field(description="When the student was enrolled.")
    completed_at: datetime | None = strawberry.field(
        description="When the student first reached 100% completion."
    )
    percent_viewed: float = strawberry.field(
        description="Lessons navigated to, as 0-100 with one decimal, rounded down."
    )
    percent_completed: float = strawberry.field(
        description="Lessons marked complete, as 0-100 with one decimal, rounded down."
    )
    status: ProgressStatus
    owner_id: strawberry.Private[int]
    course_id: strawberry.Private[int]
    group_id: strawberry.Private[int | None]
    expires_at_value: strawberry.Private[datetime | None]

    @classmethod
    def from_enrollment(
        cls, enrollment: Enrollment, lesson_count: int, group_id: int | None = None
    ) -> ProgressType:
        assert enrollment.id is not None
        return cls(
            id=to_global_id("Progress", enrollment.id),
            activated_at=enrollment.activated_at,
            completed_at=enrollment.completed_at,
            percent_viewed=percent(enrollment.lessons_viewed, lesson_count),
            percent_completed=percent(enrollment.lessons_completed, lesson_count),
            status=status_of(
                enrollment.lessons_viewed, enrollment.lessons_completed, enrollment.completed_at
            ),
            owner_id=enrollment.user_id,
            course_id=enrollment.course_id,
            group_id=group_id,
            expires_at_value=enrollment.expires_at,
        )

    @strawberry.field(
        extensions=[visible_to(ExpiryVisible())],
        description="When the student loses access to the course (the export's Expiry Date).",
    )
    def expires_at(self) -> datetime | None:
        return self.expires_at_value

    @strawberry.field
    async def student(self, info: Info) -> UserType | None:
        user = await info.context.loaders.user_by_id.load(self.owner_id)
        return UserType.from_model(user) if user else None

    @strawberry.field
    async def course(self, info: Info) -> CourseType | None:
        course = await info.context.loaders.course_by_id.load(self.course_id)
        return CourseType.from_model(course) if course else None

    @strawberry.field(description="The group this row is reported under; null outside reports.")
    async def group(self, info: Info) -> GroupType | None:
        if self.group_id is None:
            return None
        group = await info.context.loaders.group_by_id.load(self.group_id)
        return GroupType.from_model(group) if group else None
