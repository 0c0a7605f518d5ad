"""Who may see and do what: the statement of the rules, and where each one lives.

The viewer's `AccessScope` is computed once per request (`load_scope`; again after a successful
`login` in it): who the viewer is, its roles, the groups it analyses with their members and
analysts, the courses it is enrolled in. The rules read only the scope (and, in SQL, the
tables), so the check on a loaded row and the clause in a statement cannot disagree.

Read rules, one object each in `permissions.rules` (each offers the O(1) check `allows`, the
SQL `clause`, and the `sentence` that `schema.graphql` shows):
- anonymous: nothing (only `login` works, and it does not read through here);
- site owner / site admin: everything;
- `USER` (a user): admins, the user itself, and for a Group Analyst the members and the other
  analysts (in force) of the groups it analyses; a co-analyst is seen by name only;
- `CONTACT` (`User.email`, `User.company`): admins, the user itself, analysts of a group the
  user is a member of; searching by email only matches these users;
- `ENROLLMENT` (a student's enrollments, their progress and `Progress.expiresAt`): admins,
  the student itself, analysts of a group the student is a member of;
- `PRIVATE` (roles, created at, the assignments list): admins and the user itself; filtering
  by role only matches these users;
- `TOKEN` (API tokens): the user itself only, admins included;
- `GROUP`: admins, and the analysts whose assignment to it is in force ("analysed groups");
  a user's `groups` are only these, so an analyst never learns a member's other groups, and
  report rows exist only for them;
- `COURSE`: admins and analysts (the catalogue); anyone else, the courses it is enrolled in;
- `ASSIGNMENT`: admins; an analyst its own (expired ones too, to tell "my access ended" from
  "no such group"; the expired group stays hidden by `GROUP`), never a co-analyst's;
  a group's `analysts` are its assignments in force (for admins too);
- `SITE` (name and plan): anyone signed in; `SEATS`, `AUDIT_TRAIL`: admins;
  `REPORT_EXPORT`: admins, and analysts for their groups.
A user holding several roles gets the union. Nothing out of scope is ever an error: it is
absent, exactly like a row that does not exist. A deactivated account sees nothing (`app.auth`
refuses its tokens and export links, so it never gets a scope) and its assignments grant
nothing (`in_force_clause`): it is nobody's co-analyst, no group lists it as an analyst, and it
holds no seat (`app.seats`). Field permissions live in
`permissions.fields`, built from the same objects.

Write rules (the `can_*` methods of `AccessScope`; mutations in `app/*_admin.py` and
`app/lesson_events.py` ask them before touching anything):
- site owner: everything; the only one who grants or revokes SITE_ADMIN and the only one who
  edits the owner's account;
- site admin: users (not the owner), roles (not the owner's, not SITE_ADMIN), groups, analyst
  assignments, courses, enrollments, anyone's lesson progress;
- group analyst, student: their own lesson progress only; never enrollments;
- everyone signed in: its own API tokens, and nobody else's (`rules.TOKEN`);
- SITE_OWNER is never granted or revoked and nobody changes the owner's roles, so there is
  always exactly one owner.
A refused write is FORBIDDEN when the target is visible to the viewer and NOT_FOUND when it is
not, so writes cannot probe ids either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import col, select

from app.auth import Viewer
from app.db import Database
from app.models import AnalystAssignment, Enrollment, GroupMembership, Role, User, utcnow

# Any SQL expression or mapped attribute usable in a WHERE clause.
Column = SQLCoreOperations[Any]

ADMIN_ROLES = frozenset({Role.SITE_OWNER, Role.SITE_ADMIN})


def in_force(expires_at: datetime | None, now: datetime) -> bool:
    """An assignment grants access while it has no expiry or its expiry is in the future."""
    return expires_at is None or expires_at > now


def in_force_clause(now: datetime, expires_at: Column | None = None) -> ColumnElement[bool]:
    """`in_force` in SQL, on `expires_at`. By default, on `AnalystAssignment` rows, where it
    also requires the analyst's account to be active: a deactivated analyst's assignments
    grant nothing. An explicit `expires_at` column checks the expiry alone."""
    if expires_at is not None:
        return sa.or_(expires_at.is_(None), expires_at > now)
    column = col(AnalystAssignment.expires_at)
    return sa.and_(
        sa.or_(column.is_(None), column > now),
        col(AnalystAssignment.analyst_id).not_in(
            select(User.id).where(col(User.deactivated_at).is_not(None))
        ),
    )


@dataclass(frozen=True)
class AccessScope:
    viewer_id: int | None
    roles: frozenset[Role]
    now: datetime
    # Groups this viewer analyses now (unexpired assignments); empty unless GROUP_ANALYST.
    analysed_group_ids: frozenset[int] = frozenset()
    # Members of the analysed groups.
    member_ids: frozenset[int] = frozenset()
    # Analysts (unexpired) of the analysed groups, the viewer included.
    co_analyst_ids: frozenset[int] = frozenset()
    # Courses the viewer is enrolled in; loaded only for viewers who are neither admins nor
    # analysts (they see every course, `rules.COURSE`).
    enrolled_course_ids: frozenset[int] = frozenset()

    # -- who ----------------------------------------------------------------------------
    @property
    def is_anonymous(self) -> bool:
        # No viewer and no roles: `system_scope()` has no viewer but is not anonymous.
        return self.viewer_id is None and not self.roles

    @property
    def is_admin(self) -> bool:
        return bool(self.roles & ADMIN_ROLES)

    @property
    def is_owner(self) -> bool:
        return Role.SITE_OWNER in self.roles

    @property
    def is_analyst(self) -> bool:
        return Role.GROUP_ANALYST in self.roles

    def is_self(self, user_id: int) -> bool:
        return self.viewer_id is not None and user_id == self.viewer_id

    # -- write rules (mutations) ------------------------------------------------------------
    def can_manage_users(self) -> bool:
        """Create users, edit them and set their roles (each role change also `can_grant`)."""
        return self.is_admin

    def can_edit_user(self, target_roles: frozenset[Role]) -> bool:
        """The owner's account is the owner's alone; any other account is the admins'."""
        return self.is_owner if Role.SITE_OWNER in target_roles else self.is_admin

    def can_set_active(self, target_roles: frozenset[Role]) -> bool:
        """Deactivate or reactivate an account: never the owner's; an admin's only by the
        owner (it ends that admin's powers, like revoking SITE_ADMIN); anyone else's, admins."""
        if Role.SITE_OWNER in target_roles:
            return False
        if Role.SITE_ADMIN in target_roles:
            return self.is_owner
        return self.is_admin

    def can_change_roles_of(self, target_roles: frozenset[Role]) -> bool:
        """Nobody changes the owner's roles: the site keeps exactly one owner."""
        return self.is_admin and Role.SITE_OWNER not in target_roles

    def can_grant(self, role: Role) -> bool:
        """Grant or revoke `role`. SITE_OWNER never moves; only the owner moves SITE_ADMIN."""
        if role is Role.SITE_OWNER:
            return False
        if role is Role.SITE_ADMIN:
            return self.is_owner
        return self.is_admin

    def can_manage_groups(self) -> bool:
        return self.is_admin

    def can_assign_analysts(self) -> bool:
        return self.is_admin

    def can_manage_courses(self) -> bool:
        return self.is_admin

    def can_manage_enrollments(self) -> bool:
        """Admins only: a Group Analyst never manages enrollments."""
        return self.is_admin

    def can_record_progress_for(self, user_id: int) -> bool:
        """Everyone signed in records its own lesson progress; admins anyone's (imports)."""
        return self.is_admin or self.is_self(user_id)

    def can_record_progress_after_expiry(self) -> bool:
        """A student whose course access has ended records nothing; admins still can."""
        return self.is_admin


ANONYMOUS = AccessScope(viewer_id=None, roles=frozenset(), now=datetime.min)


def system_scope(now: datetime | None = None) -> AccessScope:
    """An admin's scope with no viewer: the command line, run by an operator on the server.

    Only code that does not serve a network request may use it (`groupanalyst export`).
    """
    return AccessScope(viewer_id=None, roles=frozenset({Role.SITE_ADMIN}), now=now or utcnow())


async def load_scope(
    db: Database, viewer: Viewer | None, now: datetime | None = None
) -> AccessScope:
    """The viewer's scope at `now`: none for anonymous or admins, one statement for other
    non-analysts (their courses), at most two for analysts (groups and co-analysts, members).
    """
    now = now or utcnow()
    if viewer is None:
        return AccessScope(viewer_id=None, roles=frozenset(), now=now)
    return (await load_scopes(db, [viewer], now))[viewer.id]


async def load_scopes(
    db: Database, viewers: Sequence[Viewer], now: datetime | None = None
) -> dict[int, AccessScope]:
    """`load_scope` of many viewers at once, by viewer id, in at most three statements however
    many they are (the courses of the non-analysts; the analysts' groups with their analysts;
    those groups' members)."""
    now = now or utcnow()
    scopes = {
        v.id: AccessScope(viewer_id=v.id, roles=v.roles, now=now)
        for v in viewers
        if v.roles & ADMIN_ROLES
    }
    analysts = [v for v in viewers if v.id not in scopes and Role.GROUP_ANALYST in v.roles]
    others = [v for v in viewers if v.id not in scopes and Role.GROUP_ANALYST not in v.roles]
    if not analysts and not others:
        return scopes
    async with db.read() as session:
        if others:
            scopes.update(await _enrolled_scopes(session, others, now))
        if analysts:
            scopes.update(await _analyst_scopes(session, analysts, now))
    return scopes


async def _enrolled_scopes(
    session: AsyncSession, viewers: Sequence[Viewer], now: datetime
) -> dict[int, AccessScope]:
    courses: dict[int, set[int]] = defaultdict(set)
    rows = await session.execute(
        select(Enrollment.user_id, Enrollment.course_id).where(
            col(Enrollment.user_id).in_(sorted({v.id for v in viewers}))
        )
    )
    for user_id, course_id in rows.all():
        courses[user_id].add(course_id)
    return {
        v.id: AccessScope(
            viewer_id=v.id, roles=v.roles, now=now, enrolled_course_ids=frozenset(courses[v.id])
        )
        for v in viewers
    }


async def _analyst_scopes(
    session: AsyncSession, viewers: Sequence[Viewer], now: datetime
) -> dict[int, AccessScope]:
    # The assignments in force of every group the viewers analyse (their own among them).
    assignments = await session.execute(
        select(AnalystAssignment.group_id, AnalystAssignment.analyst_id).where(
            col(AnalystAssignment.group_id).in_(
                select(AnalystAssignment.group_id).where(
                    col(AnalystAssignment.analyst_id).in_(sorted({v.id for v in viewers})),
                    in_force_clause(now),
                )
            ),
            in_force_clause(now),
        )
    )
    groups_of: dict[int, set[int]] = defaultdict(set)
    analysts_of: dict[int, set[int]] = defaultdict(set)
    for group_id, analyst_id in assignments.all():
        groups_of[analyst_id].add(group_id)
        analysts_of[group_id].add(analyst_id)
    members_of: dict[int, set[int]] = defaultdict(set)
    if analysts_of:
        members = await session.execute(
            select(GroupMembership.group_id, GroupMembership.user_id).where(
                col(GroupMembership.group_id).in_(sorted(analysts_of))
            )
        )
        for group_id, user_id in members.all():
            members_of[group_id].add(user_id)
    return {
        v.id: AccessScope(
            viewer_id=v.id,
            roles=v.roles,
            now=now,
            analysed_group_ids=frozenset(groups_of[v.id]),
            member_ids=frozenset(u for g in groups_of[v.id] for u in members_of[g]),
            co_analyst_ids=frozenset(a for g in groups_of[v.id] for a in analysts_of[g]),
        )
        for v in viewers
    }
