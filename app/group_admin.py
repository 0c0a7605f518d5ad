"""Groups and their members (analyst assignments: `app.assignment_admin`).

Invariants:
- only admins change groups (`AccessScope.can_manage_groups`); permission first, then input
  checks, then writes;
- group names are unique case-insensitively (`name_key`); a taken name is CONFLICT;
- deleting a group deletes its memberships and assignments (foreign-key cascades), never
  users or their enrollments;
- adding a member who is already in the group, or removing one who is not, changes nothing
  (idempotent); unknown user ids are NOT_FOUND and nothing is written;
- each change writes one audit event; a call that changes nothing writes none.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from app import audit, validation
from app.errors import AppError, ErrorCode, conflict, not_found, require
from app.identity import group_name_key
from app.models import AnalystAssignment, Group, GroupMembership, User, utcnow
from app.writes import locked
from permissions.policy import AccessScope

ADMINS_ONLY = "Only site owners and admins manage groups."


async def get_group(session: AsyncSession, group_id: int, *, lock: bool = False) -> Group:
    stmt = select(Group).where(col(Group.id) == group_id)
    group = (await session.execute(locked(stmt) if lock else stmt)).scalar_one_or_none()
    if group is None:
        raise not_found("group", field="groupId")
    return group


async def _name_taken(session: AsyncSession, name: str, except_id: int | None = None) -> None:
    existing = (
        await session.execute(select(Group).where(col(Group.name_key) == group_name_key(name)))
    ).scalar_one_or_none()
    if existing is not None and existing.id != except_id:
        raise conflict("name", f"A group named '{existing.name}' already exists.")


async def create_group(session: AsyncSession, scope: AccessScope, *, name: str) -> Group:
    require(scope.can_manage_groups(), ADMINS_ONLY)
    name = validation.name("name", name, validation.GROUP_NAME_MAX)
    await _name_taken(session, name)
    group = Group(name=name, name_key=group_name_key(name), created_at=utcnow())
    session.add(group)
    await session.flush()
    audit.by_viewer(session, scope, "group.create", "Group", group.id, {"name": name})
    return group


async def rename_group(
    session: AsyncSession, scope: AccessScope, *, group_id: int, name: str
) -> Group:
    require(scope.can_manage_groups(), ADMINS_ONLY)
    name = validation.name("name", name, validation.GROUP_NAME_MAX)
    group = await get_group(session, group_id, lock=True)
    if group.name == name:
        return group
    await _name_taken(session, name, except_id=group_id)
    before = group.name
    group.name, group.name_key = name, group_name_key(name)
    details = {"name": {"before": before, "after": name}}
    audit.by_viewer(session, scope, "group.rename", "Group", group_id, details)
    return group


async def _count(session: AsyncSession, stmt: SelectOfScalar[int]) -> int:
    return int((await session.execute(stmt)).scalar_one())


async def delete_group(session: AsyncSession, scope: AccessScope, *, group_id: int) -> Group:
    require(scope.can_manage_groups(), ADMINS_ONLY)
    group = await get_group(session, group_id, lock=True)
    members = await _count(
        session,
        select(func.count())
        .select_from(GroupMembership)
        .where(col(GroupMembership.group_id) == group_id),
    )
    analysts = await _count(
        session,
        select(func.count())
        .select_from(AnalystAssignment)
        .where(col(AnalystAssignment.group_id) == group_id),
    )
    # Memberships and assignments go with the group (ON DELETE CASCADE); users stay.
    await session.execute(delete(Group).where(col(Group.id) == group_id))
    details = {"name": group.name, "members": members, "assignments": analysts}
    audit.by_viewer(session, scope, "group.delete", "Group", group_id, details)
    return group


async def _existing_users(session: AsyncSession, user_ids: Sequence[int]) -> None:
    found = set(
        (await session.execute(select(User.id).where(col(User.id).in_(user_ids)))).scalars()
    )
    missing = [audit.ref("User", uid) for uid in user_ids if uid not in found]
    if missing:
        raise AppError(
            ErrorCode.NOT_FOUND,
            f"No user with the id(s) {', '.join(missing)}; nothing was changed.",
            field="userIds",
        )


async def _member_ids(session: AsyncSession, group_id: int, user_ids: Sequence[int]) -> set[int]:
    rows = await session.execute(
        select(GroupMembership.user_id).where(
            col(GroupMembership.group_id) == group_id, col(GroupMembership.user_id).in_(user_ids)
        )
    )
    return set(rows.scalars())


async def _membership_change(
    session: AsyncSession, scope: AccessScope, group_id: int, user_ids: Sequence[int]
) -> tuple[Group, list[int], set[int]]:
    """The checks both member mutations make, in order: permission, ids, the group, every
    user; then the group, the ids (deduplicated) and which of them are members now."""
    require(scope.can_manage_groups(), ADMINS_ONLY)
    unique_ids = validation.id_list("userIds", user_ids)
    group = await get_group(session, group_id)
    await _existing_users(session, unique_ids)
    return group, unique_ids, await _member_ids(session, group_id, unique_ids)


async def add_members(
    session: AsyncSession, scope: AccessScope, *, group_id: int, user_ids: Sequence[int]
) -> tuple[Group, list[int]]:
    """Returns the group and the ids actually added (not members before)."""
    group, user_ids, already = await _membership_change(session, scope, group_id, user_ids)
    added = [uid for uid in user_ids if uid not in already]
    if added:
        now = utcnow()
        session.add_all(
            GroupMembership(group_id=group_id, user_id=uid, added_at=now) for uid in added
        )
        details = {"userIds": [audit.ref("User", uid) for uid in added]}
        audit.by_viewer(session, scope, "group.members.add", "Group", group_id, details)
    return group, added


async def remove_members(
    session: AsyncSession, scope: AccessScope, *, group_id: int, user_ids: Sequence[int]
) -> tuple[Group, list[int]]:
    """Returns the group and the ids actually removed (members before)."""
    group, user_ids, present = await _membership_change(session, scope, group_id, user_ids)
    removed = [uid for uid in user_ids if uid in present]
    if removed:
        await session.execute(
            delete(GroupMembership).where(
                col(GroupMembership.group_id) == group_id,
                col(GroupMembership.user_id).in_(removed),
            )
        )
        details = {"userIds": [audit.ref("User", uid) for uid in removed]}
        audit.by_viewer(session, scope, "group.members.remove", "Group", group_id, details)
    return group, removed
