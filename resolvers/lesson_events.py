"""Mutations for the course player: `markLessonViewed`, `completeLesson`.

The rules live in `app.lesson_events`; this module decodes inputs, runs one transaction per
call and shapes the payloads.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import lesson_events
from resolvers.context import Info
from resolvers.courses import LessonType
from resolvers.progress import ProgressType
from resolvers.relay import from_global_id


@strawberry.input
class LessonEventInput:
    lesson_id: strawberry.ID
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the viewer; admins may give another user."
    )


@strawberry.type
class LessonEventPayload:
    progress: ProgressType = strawberry.field(description="The enrollment, counters updated.")
    lesson: LessonType
    viewed_at: datetime = strawberry.field(description="Completing a lesson views it too.")
    completed_at: datetime | None
    changed: bool = strawberry.field(description="False when the call repeated an earlier one.")


async def _record(info: Info, input: LessonEventInput, *, complete: bool) -> LessonEventPayload:
    lesson_id = from_global_id(input.lesson_id, "Lesson", "lessonId")
    user_id = None if input.user_id is None else from_global_id(input.user_id, "User", "userId")
    event = await info.context.write(
        lambda s, scope: lesson_events.record_lesson_event(
            s, scope, lesson_id=lesson_id, user_id=user_id, complete=complete
        ),
    )
    viewed_at = event.progress.viewed_at
    assert viewed_at is not None, "recording a lesson event always views the lesson"
    return LessonEventPayload(
        progress=ProgressType.from_enrollment(event.enrollment, event.course),
        lesson=LessonType.from_model(event.lesson),
        viewed_at=viewed_at,
        completed_at=event.progress.completed_at,
        changed=event.changed,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Record that a lesson was viewed; repeating changes nothing.")
    async def mark_lesson_viewed(self, info: Info, input: LessonEventInput) -> LessonEventPayload:
        return await _record(info, input, complete=False)

    @strawberry.mutation(
        description="Record 'Complete & continue' on a lesson (implies viewed); repeating "
        "changes nothing."
    )
    async def complete_lesson(self, info: Info, input: LessonEventInput) -> LessonEventPayload:
        return await _record(info, input, complete=True)
