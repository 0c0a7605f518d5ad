"""The one source of who may see what (DESIGN.md §2).

Every read path asks this module: GraphQL field permissions use the predicates, lists,
loaders, summaries and the CSV export use the SQL clauses. Both are derived from one `AccessScope`
computed once per request (again after a successful `login` in it), so they cannot disagree.

Rules:
- anonymous: nothing (only `login` works, and it does not read through here);
- site owner / site admin: everything;
- group analyst: the groups it is assigned to whose assignment has not expired ("analysed
  groups"); their members (names, emails, company) and those members' enrollments and
  progress; the other analysts of those groups (names only: a co-analyst's email is visible
  only if the co-analyst is also a member); the course catalogue;
- student: itself, its own enrollments and progress, and the courses it is enrolled in;
- everyone signed in: itself.
A user holding several roles gets the union.

Field rules:
- `User.email`: admins, the user itself, an analyst of a group the user is a member of;
- `Progress.expiresAt`: admins, the student itself, an analyst of a group the student is in;
- private account data (roles, tokens, assignments list, created at): admins and the user itself.
- the site's name and plan: anyone signed in; its Group Analyst seat figures: admins only.

Lists derived from these rules: a user's `groups` are only the groups the viewer may see
(`groups_clause`), so an analyst never learns the name of a member's other groups; a group's
`analysts` are its unexpired assignments only (for admins too: an expired analyst is not an
analyst); an analyst's own assignments list holds its unexpired ones, an admin's view holds all.
An assignment (by id too) is private to its analyst and admins (`assignments_clause`).

List filters never reveal a protected field: searching by email only matches users whose
email the viewer may read (`email_visible_clause`), and filtering by role only matches users
whose roles the viewer may read (`private_clause`).

Nothing out of scope is ever an error: it is absent, exactly like a row that does not exist.

Write rules (the `can_*` methods under "write rules"; mutations in `app/*_admin.py` and
`app/lesson_events.py` ask them before touching anything):
- site owner: everything; the only one who grants or revokes SITE_ADMIN and the only one who
  edits the owner's account;
- site admin: users (not the owner), roles (not the owner's, not SITE_ADMIN), groups, analyst
  assignments, courses, enrollments, anyone's lesson progress, the audit trail;
- group analyst, student: their own lesson progress only; never enrollments (the seed's FAQ);
- everyone signed in: its own API tokens, and nobody else's (`can_use_token_of`);
- SITE_OWNER is never granted or revoked and nobody changes the owner's roles, so there is
  always exactly one owner.
A refused write is FORBIDDEN when the target is visible to the viewer and NOT_FOUND when it is
not, so writes cannot probe ids either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.auth import Viewer
from app.db import Database
from app.models import AnalystAssignment, Enrollment, GroupMembership, Role, utcnow

# Any SQL expression or mapped attribute usable in a WHERE clause.
Column = SQLCoreOperations[Any]

ADMIN_ROLES = frozenset({Role.SITE_OWNER, Role.SITE_ADMIN})


def active_assignment(now: datetime) -> ColumnElement[bool]:
    """An assignment grants access while it has no expiry or its expiry is in the future."""
    return sa.or_(
        col(AnalystAssignment.expires_at).is_(None), col(AnalystAssignment.expires_at) > now
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

    # -- predicates (O(1), for field permissions and single lookups) ---------------------
    def can_see_user(self, user_id: int) -> bool:
        return (
            self.is_admin
            or self.is_self(user_id)
            or user_id in self.member_ids
            or user_id in self.co_analyst_ids
        )

    def can_see_email(self, user_id: int) -> bool:
        return self.is_admin or self.is_self(user_id) or user_id in self.member_ids

    def can_see_private(self, user_id: int) -> bool:
        return self.is_admin or self.is_self(user_id)

    def can_see_group(self, group_id: int) -> bool:
        return self.is_admin or group_id in self.analysed_group_ids

    def can_see_enrollment_of(self, student_id: int) -> bool:
        return self.is_admin or self.is_self(student_id) or student_id in self.member_ids

    def can_see_expiry(self, student_id: int) -> bool:
        return self.can_see_enrollment_of(student_id)

    def can_see_all_courses(self) -> bool:
        return self.is_admin or self.is_analyst

    def can_see_site(self) -> bool:
        return not self.is_anonymous

    def can_see_seats(self) -> bool:
        return self.is_admin

    def can_export_reports(self) -> bool:
        """Admins and group analysts may export group progress (an analyst only its groups)."""
        return self.is_admin or self.is_analyst

    # -- write rules (mutations; DESIGN.md §2 "may change") -------------------------------
    def can_manage_users(self) -> bool:
        """Create users, edit them and set their roles (each role change also `can_grant`)."""
        return self.is_admin

    def can_edit_user(self, target_roles: frozenset[Role]) -> bool:
        """The owner's account is the owner's alone; any other account is the admins'."""
        return self.is_owner if Role.SITE_OWNER in target_roles else self.is_admin

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
        """Admins only: a Group Analyst never manages enrollments (the seed's FAQ)."""
        return self.is_admin

    def can_record_progress_for(self, user_id: int) -> bool:
        """Everyone signed in records its own lesson progress; admins anyone's (imports)."""
        return self.is_admin or self.is_self(user_id)

    def can_record_progress_after_expiry(self) -> bool:
        """A student whose course access has ended records nothing; admins still can."""
        return self.is_admin

    def can_use_token_of(self, user_id: int) -> bool:
        """API tokens are their user's alone: to see and revoke (admins included)."""
        return self.is_self(user_id)

    def can_read_audit(self) -> bool:
        return self.is_admin

    def can_manage_webhooks(self) -> bool:
        """Webhooks carry every event with admin-visible fields: admins only."""
        return self.is_admin

    # -- SQL clauses (for lists, loaders, summaries, exports) ----------------------------
    def _analysed(self) -> list[int]:
        return sorted(self.analysed_group_ids)

    def _members_of_analysed(self) -> SelectOfScalar[int]:
        return select(GroupMembership.user_id).where(
            col(GroupMembership.group_id).in_(self._analysed())
        )

    def _co_analysts(self) -> SelectOfScalar[int]:
        return select(AnalystAssignment.analyst_id).where(
            col(AnalystAssignment.group_id).in_(self._analysed()), active_assignment(self.now)
        )

    def users_clause(self, user_id: Column) -> ColumnElement[bool]:
        if self.is_anonymous:
            return sa.false()
        if self.is_admin:
            return sa.true()
        clauses = [user_id == self.viewer_id]
        if self.analysed_group_ids:
            clauses += [user_id.in_(self._members_of_analysed()), user_id.in_(self._co_analysts())]
        return sa.or_(*clauses)

    def email_visible_clause(self, user_id: Column) -> ColumnElement[bool]:
        """Users whose email (and company) the viewer may read: the SQL twin of `can_see_email`."""
        return self._admin_self_or_member(user_id)

    def readable_email_key(self, user_id: Column, email_key: Column) -> Column:
        """The email key where the viewer may read the email, else '' (for sorting people:
        a sort key travels in cursors, so it must never hold an email the viewer may not
        read, nor let a forged cursor compare against one)."""
        if self.is_admin:
            return email_key
        return sa.case((self.email_visible_clause(user_id), email_key), else_=sa.literal(""))

    def private_clause(self, user_id: Column) -> ColumnElement[bool]:
        """Rows private to their user (roles, assignments list): the twin of `can_see_private`."""
        if self.is_anonymous:
            return sa.false()
        if self.is_admin:
            return sa.true()
        return user_id == self.viewer_id

    def groups_clause(self, group_id: Column) -> ColumnElement[bool]:
        if self.is_admin:
            return sa.true()
        if not self.analysed_group_ids:
            return sa.false()
        return group_id.in_(self._analysed())

    def enrollments_clause(self, student_id: Column) -> ColumnElement[bool]:
        """Enrollments (and their progress) whose student the viewer may report on."""
        return self._admin_self_or_member(student_id)

    def _admin_self_or_member(self, user_id: Column) -> ColumnElement[bool]:
        """Admins: everyone; others: themselves and the members of the groups they analyse."""
        if self.is_anonymous:
            return sa.false()
        if self.is_admin:
            return sa.true()
        clauses = [user_id == self.viewer_id]
        if self.analysed_group_ids:
            clauses.append(user_id.in_(self._members_of_analysed()))
        return sa.or_(*clauses)

    def courses_clause(self, course_id: Column) -> ColumnElement[bool]:
        if self.is_anonymous:
            return sa.false()
        if self.can_see_all_courses():
            return sa.true()
        return course_id.in_(
            select(Enrollment.course_id).where(col(Enrollment.user_id) == self.viewer_id)
        )

    def assignments_clause(
        self, analyst_id: Column, group_id: Column, expires_at: Column
    ) -> ColumnElement[bool]:
        """Admins: every assignment. An analyst: its own assignments in force, never a
        co-analyst's (co-analysts see each other's names only, not when or by whom they were
        assigned nor when their access ends)."""
        if self.is_admin:
            return sa.true()
        if not self.analysed_group_ids:
            return sa.false()
        return sa.and_(
            analyst_id == self.viewer_id,
            group_id.in_(self._analysed()),
            sa.or_(expires_at.is_(None), expires_at > self.now),
        )


ANONYMOUS = AccessScope(viewer_id=None, roles=frozenset(), now=datetime.min)


def system_scope(now: datetime | None = None) -> AccessScope:
    """An admin's scope with no viewer: the command line, run by an operator on the server.

    Only code that does not serve a network request may use it (`groupanalyst export`).
    """
    return AccessScope(viewer_id=None, roles=frozenset({Role.SITE_ADMIN}), now=now or utcnow())


async def load_scope(
    db: Database, viewer: Viewer | None, now: datetime | None = None
) -> AccessScope:
    """The viewer's scope at `now`: at most two statements, none for anonymous or admins."""
    now = now or utcnow()
    if viewer is None:
        return AccessScope(viewer_id=None, roles=frozenset(), now=now)
    if viewer.roles & ADMIN_ROLES or Role.GROUP_ANALYST not in viewer.roles:
        return AccessScope(viewer_id=viewer.id, roles=viewer.roles, now=now)
    async with db.read() as session:
        assignments = (
            await session.execute(
                select(AnalystAssignment.group_id, AnalystAssignment.analyst_id).where(
                    col(AnalystAssignment.group_id).in_(
                        select(AnalystAssignment.group_id).where(
                            col(AnalystAssignment.analyst_id) == viewer.id, active_assignment(now)
                        )
                    ),
                    active_assignment(now),
                )
            )
        ).all()
        group_ids = frozenset(row.group_id for row in assignments if row.analyst_id == viewer.id)
        members: frozenset[int] = frozenset()
        if group_ids:
            members = frozenset(
                (
                    await session.execute(
                        select(GroupMembership.user_id)
                        .where(col(GroupMembership.group_id).in_(sorted(group_ids)))
                        .distinct()
                    )
                ).scalars()
            )
    return AccessScope(
        viewer_id=viewer.id,
        roles=viewer.roles,
        now=now,
        analysed_group_ids=group_ids,
        member_ids=members,
        co_analyst_ids=frozenset(row.analyst_id for row in assignments),
    )
