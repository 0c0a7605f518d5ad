"""GraphQL subscriptions over WebSocket (graphql-transport-ws at `/graphql`):
`progressChanged(groupIds)` and `groupChanged(groupIds)`.

Invariants:
- a subscription needs a viewer: the token is checked at `connection_init` (`app.main`);
  `groupIds` lists 1 to `MAX_IDS_PER_CALL` ids (else BAD_USER_INPUT); ids the viewer may not
  see answer NOT_FOUND, exactly like ids that do not exist;
- before anything is sent, and at least every `live_recheck_seconds`, the subscriber's token
  and access are read again from the database (`_recheck`): a token revoked or expired, a
  user whose tokens stop working, or a watched group no longer visible (unassigned, expired,
  deleted) closes the connection at once with code 4403 and a reason saying which;
- for an event, that read is made once for every subscriber of the process, after the event
  arrived (`app.live_access`: one statement for all their tokens, then their scopes in one
  statement per 200 analysts and one for the other viewers), and the report rows the event
  changed are read once in every group, each subscriber keeping those of groups
  `rules.GROUP` lets it see (the rule `report_where` applies in SQL); with
  `live_batch_reads` off, each subscriber reads its own (to compare, in `bench/events.py`);
- a subscriber reading alone (its periodic re-check, or `live_batch_reads` off) reads its own
  token and scope only, so N subscribers cost N reads, not N²;
- what is sent is read through the same rules, loaders and types as queries, with the fresh
  scope: `progressChanged` yields `GroupProgressRow`s of the report (`app.report`, as
  `groupProgress` and `Group.progress`), so hidden fields stay null exactly as there;
  `groupChanged` lists only the users the subscriber may see.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from enum import Enum
from typing import Any, TypeVar

import sqlalchemy as sa
import strawberry
from sqlmodel import col

from app import validation
from app.errors import AppError, ErrorCode, not_found
from app.events import ACCESS_TYPES, GROUP_TYPES, PROGRESS_TYPES
from app.ids import parse_global_id
from app.live import OVERFLOW, LiveEvent
from app.live_access import Access, check_tokens
from app.models import Enrollment, GroupMembership
from app.report import REPORT_COLUMNS, report_from
from loaders import Loaders
from permissions import rules
from resolvers.context import Context, Info
from resolvers.groups import GroupType, load_group
from resolvers.progress import GroupProgressRowType, report_row_item
from resolvers.relay import from_global_id
from resolvers.users import UserType, load_user

CLOSE_CODE = 4403
T = TypeVar("T")


@strawberry.enum(description="What changed in a group.")
class GroupChangeKind(Enum):
    MEMBERS_ADDED = "group.members.added"
    MEMBERS_REMOVED = "group.members.removed"
    ANALYST_ASSIGNED = "analyst.assigned"
    ANALYST_UNASSIGNED = "analyst.unassigned"
    ANALYST_ASSIGNMENT_EXPIRED = "analyst.assignment.expired"


@strawberry.type(description="Members added or removed, or an analyst assigned or unassigned.")
class GroupChange:
    event_id: str = strawberry.field(description="The event's id (as in webhooks).")
    kind: GroupChangeKind
    group_id: strawberry.Private[int]
    user_ids: strawberry.Private[list[int]]

    @strawberry.field
    async def group(self, info: Info) -> GroupType | None:
        return await load_group(info.context, self.group_id)

    @strawberry.field(
        description="The members added or removed, or the analyst: those you may see."
    )
    async def users(self, info: Info) -> list[UserType]:
        found = [await load_user(info.context, pk) for pk in self.user_ids]
        return [user for user in found if user is not None]


def _pk(value: object, type_name: str) -> int | None:
    parsed = parse_global_id(str(value))
    return parsed[1] if parsed is not None and parsed[0] == type_name else None


def _watched(ctx: Context, group_ids: list[strawberry.ID] | None) -> frozenset[int] | None:
    """The groups a subscription watches; None: every group (admins, no `groupIds`)."""
    ctx.get_viewer()
    if ctx.live is None:
        raise AppError(
            ErrorCode.BAD_USER_INPUT,
            "Subscriptions are served over WebSocket at /graphql (graphql-transport-ws).",
        )
    if group_ids is None:
        return None if ctx.scope.is_admin else frozenset(ctx.scope.analysed_group_ids)
    ids = validation.id_list("groupIds", group_ids)
    wanted = frozenset(from_global_id(g, "Group", "groupIds") for g in ids)
    if not all(rules.GROUP.allows(ctx.scope, g) for g in wanted):
        raise not_found("group", "groupIds")
    return wanted


async def _shared(
    ctx: Context, event: LiveEvent | None, key: str, read: Callable[[], Awaitable[T]]
) -> T:
    """`read()` made once for every subscriber of the event (or by this one alone)."""
    if event is None or not ctx.settings.live_batch_reads:
        return await read()
    return await event.shared.once(key, read)


async def _access(ctx: Context, token: str, event: LiveEvent | None) -> Access | None:
    assert ctx.live is not None
    hub = ctx.live
    # For an event, every subscriber's token at once; alone (a periodic re-check, or not
    # batching), its own only: each reading everyone's made N subscribers read N² of them.
    everyone = event is not None and ctx.settings.live_batch_reads
    found = await _shared(
        ctx, event, "access", lambda: check_tokens(ctx.db, hub.tokens() if everyone else [token])
    )
    if token not in found:  # subscribed after that read
        found = await check_tokens(ctx.db, [token])
    return found[token]


async def _recheck(
    ctx: Context, watched: frozenset[int] | None, event: LiveEvent | None
) -> str | None:
    """Read the subscriber's token and access again; the reason to close, or None."""
    if ctx.token is None:
        return "Not signed in."
    access = await _access(ctx, ctx.token, event)
    if access is None:
        return "Token revoked or expired, or the account deactivated: sign in again."
    scope = access.scope
    ctx.viewer, ctx.scope, ctx.loaders = access.viewer, scope, Loaders.create(ctx.db, scope)
    if watched is None:
        return None if scope.is_admin else "No longer a site admin."
    lost = sorted(g for g in watched if not rules.GROUP.allows(scope, g))
    if lost:
        return f"Access to a watched group ended (unassigned, expired or deleted): {lost[0]}."
    return None


async def _close(ctx: Context, reason: str) -> None:
    """Close the connection with the reason; wait to be cancelled as the socket ends."""
    if ctx.websocket is None:
        raise AppError(ErrorCode.FORBIDDEN, reason)
    await ctx.websocket.close(code=CLOSE_CODE, reason=reason[:120])
    await asyncio.Event().wait()


async def _events(
    ctx: Context, watched: frozenset[int] | None, types: frozenset[str]
) -> AsyncGenerator[LiveEvent, None]:
    """The events of `types`, each after the subscriber's access was checked again."""
    assert ctx.live is not None
    async with ctx.live.subscribe(ctx.token) as queue:
        while True:
            event: LiveEvent | None
            try:
                event = await asyncio.wait_for(queue.get(), ctx.settings.live_recheck_seconds)
            except TimeoutError:
                event = None
            if event is OVERFLOW:
                await _close(ctx, "Fell too far behind the events; reconnect.")
            if event is None or event.type in ACCESS_TYPES or event.type in types:
                reason = await _recheck(ctx, watched, event)
                if reason is not None:
                    await _close(ctx, reason)
            if event is not None and event.type in types:
                yield event


async def _rows_in_every_group(ctx: Context, user: int, course: int) -> list[Any]:
    stmt = (
        report_from(sa.select(*REPORT_COLUMNS))
        .where(col(Enrollment.user_id) == user, col(Enrollment.course_id) == course)
        .order_by(col(GroupMembership.group_id))
    )
    async with ctx.db.read() as session:
        return list((await session.execute(stmt)).all())


async def _progress_rows(
    ctx: Context, watched: frozenset[int] | None, event: LiveEvent
) -> list[GroupProgressRowType]:
    """The report rows the event changed, as the subscriber may see them now."""
    user, course = (
        _pk(event.subject.get("user"), "User"),
        _pk(event.subject.get("course"), "Course"),
    )
    if user is None or course is None:
        return []
    rows = await _shared(ctx, event, "rows", lambda: _rows_in_every_group(ctx, user, course))
    return [
        report_row_item(ctx.scope, row)
        for row in rows
        if (watched is None or row.group_id in watched)
        and rules.GROUP.allows(ctx.scope, row.group_id)
    ]


def _group_change(watched: frozenset[int] | None, event: LiveEvent) -> GroupChange | None:
    group = _pk(event.subject.get("group"), "Group")
    if group is None or (watched is not None and group not in watched):
        return None
    if "users" in event.subject:
        users = [_pk(u, "User") for u in event.subject["users"]]
    else:
        users = [_pk(event.subject.get("analyst"), "User")]
    return GroupChange(
        event_id=event.event_id,
        kind=GroupChangeKind(event.type),
        group_id=group,
        user_ids=[u for u in users if u is not None],
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Report rows (as in `groupProgress`) each time a member's progress changes "
        "in the given groups (1 to 500 ids; none: every group you may see now). Closed with a "
        "reason when your access to one of them ends."
    )
    async def progress_changed(
        self, info: Info, group_ids: list[strawberry.ID] | None = None
    ) -> AsyncGenerator[GroupProgressRowType, None]:
        ctx = info.context
        watched = _watched(ctx, group_ids)
        async for event in _events(ctx, watched, PROGRESS_TYPES):
            for row in await _progress_rows(ctx, watched, event):
                yield row

    @strawberry.subscription(
        description="Members added or removed, analysts assigned, unassigned or expired, in "
        "the given groups (1 to 500 ids; none: every group you may see now)."
    )
    async def group_changed(
        self, info: Info, group_ids: list[strawberry.ID] | None = None
    ) -> AsyncGenerator[GroupChange, None]:
        ctx = info.context
        watched = _watched(ctx, group_ids)
        async for event in _events(ctx, watched, GROUP_TYPES):
            change = _group_change(watched, event)
            if change is not None:
                yield change
