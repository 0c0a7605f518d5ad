"""The `Group` type (a cohort of students) and the `groups` list.

Invariants: a group is only built from a row the scope allowed; its nested lists (members,
analysts, report rows, summary) come from batched loaders filtered by the same scope, and its
report rows and summary from `app.report`, the SQL the CSV export uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.listing import GROUP_ORDER, group_rows, user_order
from app.models import Course, Group
from app.pagination import PageKey, check_page
from app.report import REPORT_ORDER, CourseSummary
from resolvers.context import Context, Info
from resolvers.courses import CourseType
from resolvers.pagination import Connection, build_connection, list_page
from resolvers.progress_filter import ProgressFilterInput, to_filter
from resolvers.relay import Node, to_global_id
from resolvers.users import UserType

if TYPE_CHECKING:
    from resolvers.progress import ProgressType


@strawberry.type(
    name="CourseProgressSummary",
    description="One course's figures over a group's report rows (one row per member enrolled).",
)
class CourseProgressSummaryType:
    enrolled: int
    not_started: int
    in_progress: int
    completed: int
    average_percent_completed: float = strawberry.field(
        description="Mean of the rows' percentCompleted, 0-100, rounded down to one decimal."
    )
    completion_rate: float = strawberry.field(
        description="Completed rows per enrolled row, as 0-100, rounded down to one decimal."
    )
    course_value: strawberry.Private[CourseType]

    @classmethod
    def from_summary(cls, summary: CourseSummary, course: Course) -> CourseProgressSummaryType:
        """`course` was read in the viewer's course scope (`ProgressSummaryByGroupIdLoader`)."""
        return cls(
            enrolled=summary.enrolled,
            not_started=summary.not_started,
            in_progress=summary.in_progress,
            completed=summary.completed,
            average_percent_completed=summary.average_percent_completed,
            completion_rate=summary.completion_rate,
            course_value=CourseType.from_model(course),
        )

    @strawberry.field
    def course(self) -> CourseType | None:
        return self.course_value


@strawberry.type(name="Group", description="A cohort of students.")
class GroupType(Node):
    name: str
    created_at: datetime
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, group: Group) -> GroupType:
        assert group.id is not None
        return cls(
            id=to_global_id("Group", group.id),
            name=group.name,
            created_at=group.created_at,
            db_id=group.id,
        )

    @strawberry.field(
        description="The students of this group, by last name, first name, email. "
        "`first`: 1 to 100, default 25."
    )
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[UserType]:
        loaders = info.context.loaders
        size = check_page(first, after, user_order(info.context.scope))
        rows = await loaders.members_by_group_id.load(
            (self.db_id, PageKey(first=size, after=after, filter=search))
        )
        items = [(UserType.from_model(user, via_group_id=self.db_id), key) for user, key in rows]

        async def count() -> int:
            return await loaders.member_count_by_group_id.load((self.db_id, search))

        return build_connection(items, size, after, count)

    @strawberry.field(description="The analysts whose assignment to this group is in force.")
    async def analysts(self, info: Info) -> list[UserType]:
        users = await info.context.loaders.analysts_by_group_id.load(self.db_id)
        return [UserType.from_model(user) for user in users]

    @strawberry.field(
        description="Report rows (one per member and enrollment), by last name, first name, "
        "email, course. `first`: 1 to 100, default 25."
    )
    async def progress(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ProgressFilterInput | None = None,
    ) -> Connection[Annotated[ProgressType, strawberry.lazy("resolvers.progress")]]:
        from resolvers.progress import progress_from_report_row

        loaders = info.context.loaders
        size = check_page(first, after, REPORT_ORDER)
        flt = to_filter(filter)
        rows = await loaders.progress_by_group_id.load(
            (self.db_id, PageKey(first=size, after=after, filter=flt))
        )

        async def count() -> int:
            return await loaders.progress_count_by_group_id.load((self.db_id, flt))

        items = [(progress_from_report_row(row), key) for row, key in rows]
        return build_connection(items, size, after, count)

    @strawberry.field(description="Per course: how this group's members stand, in course order.")
    async def progress_summary(self, info: Info) -> list[CourseProgressSummaryType]:
        rows = await info.context.loaders.progress_summary_by_group_id.load(self.db_id)
        return [CourseProgressSummaryType.from_summary(summary, course) for summary, course in rows]


async def load_group(ctx: Context, group_id: int | None) -> GroupType | None:
    """The group through its scoped loader; null when absent, out of scope, or no id."""
    if group_id is None:
        return None
    group = await ctx.loaders.group_by_id.load(group_id)
    return GroupType.from_model(group) if group else None


@strawberry.input(description="Every given condition must hold.")
class GroupFilter:
    search: str | None = strawberry.field(default=None, description="Part of the group's name.")


@strawberry.type
class Query:
    @strawberry.field(
        description="The groups you may see (an analyst: the ones it analyses), by name. "
        "`first`: 1 to 100, default 25."
    )
    async def groups(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: GroupFilter | None = None,
    ) -> Connection[GroupType]:
        stmt = group_rows(info.context.scope, filter.search if filter else None)
        return await list_page(
            info.context, stmt, GROUP_ORDER, first, after, lambda row: GroupType.from_model(row[0])
        )
