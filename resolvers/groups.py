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
from app.pagination import DEFAULT_PAGE_SIZE
from app.report import CourseSummary, report_order
from resolvers.context import Context, Info
from resolvers.courses import CourseType
from resolvers.pagination import Connection, First, entity_page, nested_page
from resolvers.progress_filter import ProgressFilterInput, to_filter
from resolvers.relay import Node, node_of
from resolvers.users import UserType

if TYPE_CHECKING:
    from resolvers.progress import GroupProgressRowType


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
    course: CourseType

    @classmethod
    def from_summary(cls, summary: CourseSummary, course: Course) -> CourseProgressSummaryType:
        """`summary` of `course` (read by the same scoped statement)."""
        return cls(
            enrolled=summary.enrolled,
            not_started=summary.not_started,
            in_progress=summary.in_progress,
            completed=summary.completed,
            average_percent_completed=summary.average_percent_completed,
            completion_rate=summary.completion_rate,
            course=CourseType.from_model(course),
        )


@strawberry.type(name="Group", description="A cohort of students.")
class GroupType(Node):
    name: str
    created_at: datetime
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, group: Group) -> GroupType:
        return node_of(cls, "Group", group, db_id=group.id)

    @strawberry.field(description="The students of this group, by last name, first name, email.")
    async def members(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[UserType]:
        loaders = info.context.loaders
        return await nested_page(
            loaders.members_by_group_id,
            loaders.member_count_by_group_id,
            self.db_id,
            user_order(info.context.scope),
            first,
            after,
            search,
            UserType.from_model,
        )

    @strawberry.field(description="The analysts whose assignment to this group is in force.")
    async def analysts(self, info: Info) -> list[UserType]:
        users = await info.context.loaders.analysts_by_group_id.load(self.db_id)
        return [UserType.from_model(user) for user in users]

    @strawberry.field(
        description="Report rows (one per member and enrollment), by last name, first name, "
        "email, course."
    )
    async def progress(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ProgressFilterInput | None = None,
    ) -> Connection[Annotated[GroupProgressRowType, strawberry.lazy("resolvers.progress")]]:
        from resolvers.progress import GroupProgressRowType

        loaders = info.context.loaders
        return await nested_page(
            loaders.report_rows_by_group_id,
            loaders.report_row_count_by_group_id,
            self.db_id,
            report_order(info.context.scope),
            first,
            after,
            to_filter(filter),
            GroupProgressRowType.from_report_row,
        )

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
        description="The groups you may see (an analyst: the ones it analyses), by name."
    )
    async def groups(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: GroupFilter | None = None,
    ) -> Connection[GroupType]:
        stmt = group_rows(info.context.scope, filter.search if filter else None)
        return await entity_page(
            info.context, stmt, GROUP_ORDER, first, after, GroupType.from_model
        )
