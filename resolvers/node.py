"""`node(id:)`: any object by its global id.

Invariant: every kind of object is fetched through its scoped loader, so an id out of the
viewer's scope answers `null`, exactly like an id that does not exist (ids cannot be probed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from app.errors import bad_input
from resolvers.api_tokens import load_api_token
from resolvers.assignments import GroupAnalystAssignmentType
from resolvers.audit import load_audit_event
from resolvers.context import Context, Info
from resolvers.courses import load_course, load_lesson
from resolvers.groups import load_group
from resolvers.progress import ProgressType, load_report_row
from resolvers.relay import Node, parse_global_key
from resolvers.users import load_user


async def _progress(ctx: Context, pk: int) -> Node | None:
    row = await ctx.loaders.progress_by_id.load(pk)
    return None if row is None else ProgressType.from_row(row)


async def _assignment(ctx: Context, pk: int) -> Node | None:
    assignment = await ctx.loaders.assignment_by_id.load(pk)
    return GroupAnalystAssignmentType.from_model(assignment) if assignment else None


FETCHERS: dict[str, Callable[[Context, int], Awaitable[Node | None]]] = {
    "User": load_user,
    "Group": load_group,
    "Course": load_course,
    "Lesson": load_lesson,
    "Progress": _progress,
    "GroupAnalystAssignment": _assignment,
    "ApiToken": load_api_token,
    "AuditEvent": load_audit_event,
}
# Objects named by two keys: a report row by its group and its enrollment.
PAIR_FETCHERS: dict[str, Callable[[Context, int, int], Awaitable[Node | None]]] = {
    "GroupProgressRow": load_report_row,
}


@strawberry.type
class Query:
    @strawberry.field(
        description="The object with this id, or null if it does not exist or you may not see it."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        parsed = parse_global_key(id)
        if parsed is None:
            raise bad_input("id", "'id' is not an id from this API; copy one from an `id` field.")
        type_name, keys = parsed
        if len(keys) == 2 and type_name in PAIR_FETCHERS:
            return await PAIR_FETCHERS[type_name](info.context, *keys)
        fetch = FETCHERS.get(type_name)
        return await fetch(info.context, keys[0]) if fetch and len(keys) == 1 else None
