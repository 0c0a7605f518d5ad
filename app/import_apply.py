"""What one row of a CSV import changes, through the write services the API's mutations use.

Invariants:
- every change goes through `app.user_admin`, `app.group_admin`, `app.assignment_admin` and
  `app.account_links` with the acting admin's `AccessScope`: the same permission checks,
  input checks, seat rules, locks and audit events as the matching mutation
  (`createUser`, `updateUser`, `setUserRoles`, `addGroupMembers`, `assignGroupAnalyst`);
- a row that matches what the database holds calls no service and writes nothing
  (`Outcome.UNCHANGED`), so importing a file twice changes nothing the second time; the
  `settled_*` functions find those rows for a whole batch in one or two reads, with the same
  comparisons as the `apply_*` functions;
- users are matched by email key (`app.identity`): case and Unicode forms of one address are
  one user; an existing user's email is never rewritten by an import;
- a row never creates a group or a user it refers to: an unknown one fails the row
  (NOT_FOUND), a group with the closest existing name suggested;
- the caller runs each row in its own savepoint or transaction; a row that raises leaves
  nothing behind.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app import account_links, assignment_admin, audit, group_admin, seats, user_admin
from app.accounts import user_by_email
from app.assignment_admin import Keep
from app.errors import AppError, ErrorCode
from app.export import unknown_name
from app.identity import group_name_key
from app.import_rows import (
    ANALYST_EMAIL,
    EMAIL,
    GROUP,
    AssignmentRequest,
    MembershipRequest,
    UserRequest,
)
from app.mailer import Mail
from app.models import AnalystAssignment, Group, GroupMembership, Role, User, UserRole
from app.settings import Settings
from permissions.policy import AccessScope


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Change:
    outcome: Outcome
    # What the row is about and, for an update, what changed: "ann@example.com (company)".
    what: str
    mail: Mail | None = None


@dataclass
class ImportContext:
    """What rows share: the settings (invitation links), whether new users are invited, and
    the group names (read once, only for suggestions)."""

    settings: Settings
    invite: bool = False
    _group_names: list[str] | None = field(default=None, repr=False)

    async def group(self, session: AsyncSession, name: str) -> Group:
        key = group_name_key(name)
        found = (
            await session.execute(select(Group).where(col(Group.name_key) == key))
        ).scalar_one_or_none()
        if found is not None:
            return found
        if self._group_names is None:
            self._group_names = list((await session.execute(select(Group.name))).scalars())
        raise AppError(
            ErrorCode.NOT_FOUND, unknown_name("group", name, self._group_names), field=GROUP
        )


async def _user_and_group(
    session: AsyncSession, ctx: ImportContext, email: str, column: str, group_name: str
) -> tuple[int, Group]:
    """The id of the user with `email` (named by `column`) and the group; NOT_FOUND if not."""
    user = await user_by_email(session, email)
    if user is None or user.id is None:
        hint = " (import it first with `groupanalyst import users`)" if column == EMAIL else ""
        raise AppError(ErrorCode.NOT_FOUND, f"no user with the email {email}{hint}", field=column)
    return user.id, await ctx.group(session, group_name)


async def apply_user(
    session: AsyncSession, scope: AccessScope, req: UserRequest, ctx: ImportContext
) -> Change:
    user = await user_by_email(session, req.email)
    if user is None:
        user = await user_admin.create_user(
            session,
            scope,
            first_name=req.first_name,
            last_name=req.last_name,
            email=req.email,
            company=req.company,
            password=None,
            roles=req.roles or {Role.STUDENT},
        )
        mail = None
        if ctx.invite:
            mail = await account_links.invite(
                session, ctx.settings, user, actor_id=scope.viewer_id, action="user.invite"
            )
        return Change(Outcome.CREATED, req.email, mail)
    assert user.id is not None
    changed = _field_changes(user, req)
    current = await user_admin.roles_of(session, user.id)
    new_roles = req.roles is not None and req.roles != current
    if new_roles:
        # Lock order site → user (app.writes), as setUserRoles takes them.
        await seats.lock_site(session)
    if changed:
        await user_admin.update_user(
            session,
            scope,
            user_id=user.id,
            first_name=req.first_name,
            last_name=req.last_name,
            company=req.company if req.company_given else None,
            clear_company=req.company_given and req.company is None,
        )
    if new_roles:
        assert req.roles is not None
        await user_admin.set_user_roles(session, scope, user_id=user.id, roles=req.roles)
        changed.append("roles")
    if not changed:
        return Change(Outcome.UNCHANGED, req.email)
    return Change(Outcome.UPDATED, f"{req.email} ({', '.join(changed)})")


def _field_changes(user: User, req: UserRequest) -> list[str]:
    changed = [
        name
        for name, before, after in (
            ("first name", user.first_name, req.first_name),
            ("last name", user.last_name, req.last_name),
        )
        if before != after
    ]
    if req.company_given and user.company != req.company:
        changed.append("company")
    return changed


async def apply_membership(
    session: AsyncSession, scope: AccessScope, req: MembershipRequest, ctx: ImportContext
) -> Change:
    user_id, group = await _user_and_group(session, ctx, req.email, EMAIL, req.group_name)
    assert group.id is not None
    _, added = await group_admin.add_members(session, scope, group_id=group.id, user_ids=[user_id])
    what = f"{req.email} in {group.name!r}"
    return Change(Outcome.CREATED if added else Outcome.UNCHANGED, what)


async def apply_assignment(
    session: AsyncSession, scope: AccessScope, req: AssignmentRequest, ctx: ImportContext
) -> Change:
    analyst_id, group = await _user_and_group(
        session, ctx, req.email, ANALYST_EMAIL, req.group_name
    )
    assert group.id is not None
    existed = (
        await session.execute(
            select(AnalystAssignment.id).where(
                col(AnalystAssignment.analyst_id) == analyst_id,
                col(AnalystAssignment.group_id) == group.id,
            )
        )
    ).first() is not None
    assignment, changed = await assignment_admin.assign_analyst(
        session, scope, user_id=analyst_id, group_id=group.id, expires_at=req.expires_at
    )
    until = audit.iso(assignment.expires_at) or "no end"
    what = f"{req.email} analyses {group.name!r} until {until}"
    if not changed:
        return Change(Outcome.UNCHANGED, what)
    return Change(Outcome.UPDATED if existed else Outcome.CREATED, what)


# -- rows the database already matches (one read per batch) ----------------------------------


async def settled_users(session: AsyncSession, batch: list[UserRequest]) -> set[int]:
    by_key = {r.key[0]: r for r in batch}
    users = (
        await session.execute(select(User).where(col(User.email_key).in_(list(by_key))))
    ).scalars()
    found = {u.id: u for u in users}
    roles: dict[int | None, set[Role]] = {uid: set() for uid in found}
    held = await session.execute(
        select(UserRole.user_id, UserRole.role).where(col(UserRole.user_id).in_(list(found)))
    )
    for user_id, role in held.all():
        roles[user_id].add(Role(role))
    return {
        by_key[user.email_key].line
        for user in found.values()
        if not _field_changes(user, req := by_key[user.email_key])
        and (req.roles is None or req.roles == roles[user.id])
    }


async def _existing_pairs(
    session: AsyncSession,
    model: type[GroupMembership] | type[AnalystAssignment],
    user_column: Any,
    keys: list[str],
) -> dict[tuple[str, str], Any]:
    """(user email key, group name key) → the row, for the users with one of `keys`."""
    rows = await session.execute(
        select(User.email_key, Group.name_key, model)
        .join(User, col(User.id) == user_column)
        .join(Group, col(Group.id) == col(model.group_id))
        .where(col(User.email_key).in_(keys))
    )
    return {(email, name): row for email, name, row in rows.all()}


async def settled_memberships(session: AsyncSession, batch: list[MembershipRequest]) -> set[int]:
    keys = sorted({r.key[0] for r in batch})
    pairs = await _existing_pairs(session, GroupMembership, col(GroupMembership.user_id), keys)
    return {r.line for r in batch if r.key in pairs}


async def settled_assignments(session: AsyncSession, batch: list[AssignmentRequest]) -> set[int]:
    keys = sorted({r.key[0] for r in batch})
    pairs = await _existing_pairs(
        session, AnalystAssignment, col(AnalystAssignment.analyst_id), keys
    )
    return {
        r.line
        for r in batch
        if r.key in pairs
        and (isinstance(r.expires_at, Keep) or pairs[r.key].expires_at == r.expires_at)
    }
