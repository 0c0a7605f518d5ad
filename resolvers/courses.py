"""The `Course` and `Lesson` types."""

from __future__ import annotations

import strawberry

from app.models import Course, Lesson
from resolvers.context import Info
from resolvers.node import Node, to_global_id


@strawberry.type(name="Lesson", description="One lesson of a course, in course order.")
class LessonType(Node):
    title: str
    position: int

    @classmethod
    def from_model(cls, lesson: Lesson) -> LessonType:
        assert lesson.id is not None
        return cls(
            id=to_global_id("Lesson", lesson.id), title=lesson.title, position=lesson.position
        )


@strawberry.type(name="Course", description="A course: a name and an ordered list of lessons.")
class CourseType(Node):
    name: str
    lesson_count: int
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, course: Course) -> CourseType:
        assert course.id is not None
        return cls(
            id=to_global_id("Course", course.id),
            name=course.name,
            lesson_count=course.lesson_count,
            db_id=course.id,
        )

    @strawberry.field(description="The lessons, in order.")
    async def lessons(self, info: Info) -> list[LessonType]:
        lessons = await info.context.loaders.lessons_by_course_id.load(self.db_id)
        return [LessonType.from_model(lesson) for lesson in lessons]
