"""The `Course` and `Lesson` types and the `courses` list."""

from __future__ import annotations

import strawberry

from app.listing import COURSE_ORDER, course_rows
from app.models import Course, Lesson
from app.pagination import DEFAULT_PAGE_SIZE
from resolvers.context import Context, Info
from resolvers.pagination import Connection, First, entity_page
from resolvers.relay import Node, node_of


@strawberry.type(name="Lesson", description="One lesson of a course, in course order.")
class LessonType(Node):
    title: str
    position: int

    @classmethod
    def from_model(cls, lesson: Lesson) -> LessonType:
        return node_of(cls, "Lesson", lesson)


@strawberry.type(name="Course", description="A course: a name and an ordered list of lessons.")
class CourseType(Node):
    name: str
    lesson_count: int
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, course: Course) -> CourseType:
        return node_of(cls, "Course", course, db_id=course.id)

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
    @strawberry.field(description="The courses you may see (a student: its own), by name.")
    async def courses(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[CourseType]:
        stmt = course_rows(info.context.scope)
        return await entity_page(
            info.context, stmt, COURSE_ORDER, first, after, CourseType.from_model
        )
