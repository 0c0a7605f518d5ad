"""`node(id:)`: any object by its global id.

Invariant: every kind of object is fetched through its scoped loader, so an id out of the
viewer's scope answers `null`, exactly like an id that does not exist (ids cannot be probed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from app.errors import bad_input
from resolvers.assignments import GroupAnalystAssignmentType
from resolvers.context import Context, Info
from resolvers.courses import CourseType, LessonType
from resolvers.groups import GroupType
from resolvers.node import Node, parse_global_id
from resolvers.progress import ProgressType
from resolvers.users import UserType


async def _user(ctx: Context, pk: int) -> Node | None:
    user = await ctx.loaders.user_by_id.load(pk)
    return UserType.from_model(user) if user else None


async def _group(ctx: Context, pk: int) -> Node | None:
    group = await ctx.loaders.group_by_id.load(pk)
    return GroupType.from_model(group) if group else None


async def _course(ctx: Context, pk: int) -> Node | None:
    course = await ctx.loaders.course_by_id.load(pk)
    return CourseType.from_model(course) if course else None


async def _lesson(ctx: Context, pk: int) -> Node | None:
    lesson = await ctx.loaders.lesson_by_id.load(pk)
    return LessonType.from_model(lesson) if lesson else None


async def _progress(ctx: Context, pk: int) -> Node | None:
    row = await ctx.loaders.progress_by_id.load(pk)
    if row is None:
        return None
    enrollment, course = row
    return ProgressType.from_enrollment(enrollment, course.lesson_count)


async def _assignment(ctx: Context, pk: int) -> Node | None:
    assignment = await ctx.loaders.assignment_by_id.load(pk)
    return GroupAnalystAssignmentType.from_model(assignment) if assignment else None


FETCHERS: dict[str, Callable[[Context, int], Awaitable[Node | None]]] = {
    "User": _user,
    "Group": _group,
    "Course": _course,
    "Lesson": _lesson,
    "Progress": _progress,
    "GroupAnalystAssignment": _assignment,
}


@strawberry.type
class Query:
    @strawberry.field(
        description="The object with this id, or null if it does not exist or you may not see it."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        parsed = parse_global_id(id)
        if parsed is None:
            raise bad_input("id", "'id' is not an id from this API; copy one from an `id` field.")
        type_name, pk = parsed
        fetch = FETCHERS.get(type_name)
        return await fetch(info.context, pk) if fetch else None
