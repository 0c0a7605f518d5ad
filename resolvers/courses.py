"""The `Course` and `Lesson` types and the `courses` list."""

from __future__ import annotations

import strawberry

from app.listing import COURSE_ORDER, course_rows
from app.models import Course, Lesson
from resolvers.context import Context, Info
from resolvers.pagination import Connection, list_page
from resolvers.relay import Node, to_global_id


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


async def load_course(ctx: Context, course_id: int) -> CourseType | None:
    course = await ctx.loaders.course_by_id.load(course_id)
    return CourseType.from_model(course) if course else None


async def load_lesson(ctx: Context, lesson_id: int) -> LessonType | None:
    lesson = await ctx.loaders.lesson_by_id.load(lesson_id)
    return LessonType.from_model(lesson) if lesson else None


@strawberry.type
class Query:
    @strawberry.field(
        description="The courses you may see (a student: its own), by name. "
        "`first`: 1 to 100, default 25."
    )
    async def courses(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[CourseType]:
        stmt = course_rows(info.context.scope)
        return await list_page(
            info.context,
            stmt,
            COURSE_ORDER,
            first,
            after,
            lambda row: CourseType.from_model(row[0]),
        )
