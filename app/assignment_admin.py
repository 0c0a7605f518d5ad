"""Analyst assignments: which Group Analyst reports on which group, until when.

Invariants:
- only admins assign and unassign (`AccessScope.can_assign_analysts`); permission first, then input
  checks, then writes;
- only a user holding GROUP_ANALYST can be assigned (else BAD_USER_INPUT saying to grant the
  role first); the analyst's row is locked (`FOR SHARE`) while assigning, so a concurrent
  revocation of the role (which locks it `FOR UPDATE`) cannot leave an assignment behind;
- assigning again returns the existing assignment and sets its expiry to the one given (left
  out, `Keep.EXPIRY`: it keeps its expiry; null: never expires): no duplicate, no error, also
  when two requests race (`app.writes.run_write` re-runs the loser);
- `set_analyst_groups` makes an analyst's assignments exactly the given groups in one
  transaction, through `assign_analyst` and `unassign_analyst` (so with their checks and one
  audit event per change); repeating it changes nothing;
- unassigning takes effect at once: scopes are computed per request from the table;
- each change writes one audit event; a call that changes nothing writes none.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app import audit, validation
from app.errors import bad_input, require
from app.group_admin import get_group
from app.models import AnalystAssignment, Role, utcnow
from app.user_admin import locked_user, roles_of
from permissions.policy import AccessScope


async def _assignment(
    session: AsyncSession, user_id: int, group_id: int
) -> AnalystAssignment | None:
    return (
        await session.execute(
            select(AnalystAssignment).where(
                col(AnalystAssignment.analyst_id) == user_id,
                col(AnalystAssignment.group_id) == group_id,
            )
        )
    ).scalar_one_or_none()


class Keep(enum.Enum):
    """`expiresAt` left out: an existing assignment keeps its expiry (a new one never expires)."""

    EXPIRY = "keep"


Expiry = datetime | None | Keep


def _check_expiry(expires_at: Expiry, now: datetime) -> Expiry:
    if isinstance(expires_at, Keep):
        return expires_at
    expires_at = validation.aware("expiresAt", expires_at)
    if expires_at is not None and expires_at <= now:
        raise bad_input(
            "expiresAt",
            "'expiresAt' must be in the future; use unassignGroupAnalyst to end access.",
        )
    return expires_at


async def _lock_analyst(session: AsyncSession, user_id: int) -> None:
    """The analyst, locked against a concurrent revocation of GROUP_ANALYST while we assign."""
    user = await locked_user(session, user_id, shared=True)
    if Role.GROUP_ANALYST not in await roles_of(session, user_id):
        raise bad_input(
            "userId",
            f"{user.first_name} {user.last_name} does not hold the GROUP_ANALYST role; "
            "grant it first with setUserRoles (or createUser), then assign the group.",
        )


async def assign_analyst(
    session: AsyncSession,
    scope: AccessScope,
    *,
    user_id: int,
    group_id: int,
    expires_at: Expiry,
) -> tuple[AnalystAssignment, bool]:
    """The assignment and whether anything changed (created, or its expiry updated)."""
    require(
        scope.can_assign_analysts(), "Only site owners and admins assign groups to Group Analysts."
    )
    now = utcnow()
    expires_at = _check_expiry(expires_at, now)
    await _lock_analyst(session, user_id)
    await get_group(session, group_id)
    assignment = await _assignment(session, user_id, group_id)
    if assignment is None:
        expires_at = None if isinstance(expires_at, Keep) else expires_at
        assignment = AnalystAssignment(
            analyst_id=user_id,
            group_id=group_id,
            assigned_by_id=scope.viewer_id,
            assigned_at=now,
            expires_at=expires_at,
        )
        session.add(assignment)
        await session.flush()
        _record(scope, session, "analyst.assign", assignment, audit.iso(expires_at))
    elif not isinstance(expires_at, Keep) and assignment.expires_at != expires_at:
        change = {"before": audit.iso(assignment.expires_at), "after": audit.iso(expires_at)}
        assignment.expires_at = expires_at
        _record(scope, session, "analyst.assign.update", assignment, change)
    else:
        return assignment, False
    return assignment, True


def _record(
    scope: AccessScope,
    session: AsyncSession,
    action: str,
    assignment: AnalystAssignment,
    expires_at: Any,
) -> None:
    """The audit event of an assignment change; `expires_at` says what became of the expiry."""
    details = {
        "analystId": audit.ref("User", assignment.analyst_id),
        "groupId": audit.ref("Group", assignment.group_id),
        "expiresAt": expires_at,
    }
    audit.by_viewer(session, scope, action, "GroupAnalystAssignment", assignment.id, details)


async def unassign_analyst(
    session: AsyncSession, scope: AccessScope, *, user_id: int, group_id: int
) -> bool:
    """Whether an assignment was removed; removing one that does not exist is no error."""
    require(scope.can_assign_analysts(), "Only site owners and admins unassign Group Analysts.")
    await locked_user(session, user_id, shared=True)
    await get_group(session, group_id)
    assignment = await _assignment(session, user_id, group_id)
    if assignment is None:
        return False
    await session.delete(assignment)
    _record(scope, session, "analyst.unassign", assignment, audit.iso(assignment.expires_at))
    return True


@dataclass
class GroupsSet:
    """What `set_analyst_groups` did: assignments added, assignments kept (their expiry
    updated where asked), and the groups whose assignment was removed."""

    added: list[AnalystAssignment] = field(default_factory=list)
    kept: list[AnalystAssignment] = field(default_factory=list)
    removed_group_ids: list[int] = field(default_factory=list)


async def set_analyst_groups(
    session: AsyncSession,
    scope: AccessScope,
    *,
    user_id: int,
    group_ids: list[int],
    expires_at: Expiry,
) -> GroupsSet:
    """Assign the analyst to exactly `group_ids` (none: unassign it everywhere)."""
    require(
        scope.can_assign_analysts(), "Only site owners and admins assign groups to Group Analysts."
    )
    wanted = list(dict.fromkeys(group_ids))
    if len(wanted) > validation.MAX_IDS_PER_CALL:
        raise bad_input(
            "groupIds", f"'groupIds' may list at most {validation.MAX_IDS_PER_CALL} ids per call."
        )
    _check_expiry(expires_at, utcnow())
    await _lock_analyst(session, user_id)
    before = set(
        (
            await session.execute(
                select(AnalystAssignment.group_id).where(
                    col(AnalystAssignment.analyst_id) == user_id
                )
            )
        ).scalars()
    )
    result = GroupsSet()
    for group_id in wanted:
        assignment, _ = await assign_analyst(
            session, scope, user_id=user_id, group_id=group_id, expires_at=expires_at
        )
        (result.kept if group_id in before else result.added).append(assignment)
    for group_id in sorted(before - set(wanted)):
        await unassign_analyst(session, scope, user_id=user_id, group_id=group_id)
        result.removed_group_ids.append(group_id)
    return result
