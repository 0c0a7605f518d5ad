"""The read rules, one object each: the O(1) check, the SQL clause and the sentence.

Every read path asks these objects and nothing else: field permissions
(`permissions.fields`) and single lookups call `allows` on a loaded row; lists, loaders,
summaries, report rows and the CSV export put `clause` in their WHERE; `schema.graphql` shows
`sentence` in the field's description and in `@visibleTo`. `tests/test_rules_agree.py` checks,
over random worlds and viewers on both databases, that `allows` and `clause` select exactly the
same rows for every rule in `READ_RULES`.

Invariants:
- `allows` is synchronous, O(1) and reads only the `AccessScope` (computed once per request,
  plus the members the request has learnt: `AccessScope.members`);
- `clause` selects exactly the keys `allows` accepts (the property test above), so a list
  never holds a row its fields would refuse, and a field never shows a row a list hides;
- nothing out of scope is an error: it is absent, exactly like a row that does not exist.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import col, select

from app.models import AnalystAssignment, Enrollment, Role
from permissions.policy import (
    ADMIN_ROLES,
    AccessScope,
    members_of_analysed,
)

# Any SQL expression or mapped attribute usable in a WHERE clause.
Column = SQLCoreOperations[Any]


@dataclass(frozen=True)
class KeyRule(ABC):
    """A rule over rows named by one integer key: a user's, a group's or a course's id."""

    name: str
    sentence: str

    @abstractmethod
    def allows_every(self, scope: AccessScope) -> bool:
        """Whether the viewer may read every row (then `clause` is plain true)."""

    @abstractmethod
    def allows(self, scope: AccessScope, key: int) -> bool:
        """Whether the viewer may read the row with this key (O(1), no database)."""

    @abstractmethod
    def clause(self, scope: AccessScope, key: Column) -> ColumnElement[bool]:
        """The rows whose `key` column `allows` accepts, as a WHERE clause."""

    def readable(self, scope: AccessScope, key: Column, value: Column) -> Column:
        """`value` where the viewer may read it, else '' (for sort keys: a sort key travels
        in cursors, so it must never hold a value the viewer may not read, nor let a forged
        cursor compare against one)."""
        if self.allows_every(scope):
            return value
        return sa.case((self.clause(scope, key), value), else_=sa.literal(""))


@dataclass(frozen=True)
class PeopleRule(KeyRule):
    """Rows about one user (the user itself, its email, its enrollments...), keyed by user id.

    Who may read them: site admins (if `admins`), the user itself, and, for a Group Analyst,
    the members of the groups it analyses (if `members`) and their analysts (if `co_analysts`).
    """

    admins: bool = True
    members: bool = False
    co_analysts: bool = False

    def allows_every(self, scope: AccessScope) -> bool:
        return self.admins and scope.is_admin

    def allows(self, scope: AccessScope, key: int) -> bool:
        # Co-analysts before members: they are known from the scope, members are learnt.
        return (
            self.allows_every(scope)
            or scope.is_self(key)
            or (self.co_analysts and key in scope.co_analyst_ids)
            or (self.members and scope.is_member(key))
        )

    def allows_every_member(self, scope: AccessScope) -> bool:
        """Whether `allows_member` holds for every user (then a caller may skip the row)."""
        return self.allows_every(scope) or (self.members and scope.analyses_groups)

    def allows_member(self, scope: AccessScope, key: int) -> bool:
        """`allows` for a user reached through its membership of a group the viewer may see
        (`GROUP`): for a Group Analyst that makes it a member, so nothing is looked up."""
        return self.allows_every_member(scope) or self.allows(scope, key)

    def clause(self, scope: AccessScope, key: Column) -> ColumnElement[bool]:
        if self.allows_every(scope):
            return sa.true()
        if scope.viewer_id is None:
            return sa.false()
        clauses = [key == scope.viewer_id]
        if scope.analysed_group_ids and self.members:
            clauses.append(key.in_(members_of_analysed(scope.viewer_id, scope.now)))
        if scope.analysed_group_ids and self.co_analysts:
            # The co-analysts the scope knows, not a sub-select: an analyst assigned after
            # the scope was read would pass a sub-select, and `learn_visible_users` (every
            # other user the clause lets through is a member) would take it for a member.
            clauses.append(key.in_(sorted(scope.co_analyst_ids)))
        return sa.or_(*clauses)


@dataclass(frozen=True)
class GroupRule(KeyRule):
    """Groups: site admins see all; a Group Analyst the groups it analyses (in force)."""

    def allows_every(self, scope: AccessScope) -> bool:
        return scope.is_admin

    def allows(self, scope: AccessScope, key: int) -> bool:
        return self.allows_every(scope) or key in scope.analysed_group_ids

    def clause(self, scope: AccessScope, key: Column) -> ColumnElement[bool]:
        if self.allows_every(scope):
            return sa.true()
        if not scope.analysed_group_ids:
            return sa.false()
        return key.in_(sorted(scope.analysed_group_ids))


@dataclass(frozen=True)
class CourseRule(KeyRule):
    """Courses: admins and analysts see the catalogue; anyone else signed in, the courses
    it is enrolled in (`AccessScope.enrolled_course_ids`)."""

    def allows_every(self, scope: AccessScope) -> bool:
        return scope.is_admin or scope.is_analyst

    def allows(self, scope: AccessScope, key: int) -> bool:
        return self.allows_every(scope) or key in scope.enrolled_course_ids

    def clause(self, scope: AccessScope, key: Column) -> ColumnElement[bool]:
        if self.allows_every(scope):
            return sa.true()
        if scope.viewer_id is None:
            return sa.false()
        return key.in_(
            select(Enrollment.course_id).where(col(Enrollment.user_id) == scope.viewer_id)
        )


class AssignmentKey(NamedTuple):
    """What decides whether an analyst assignment may be read."""

    analyst_id: int
    group_id: int
    expires_at: datetime | None


class AssignmentColumns(NamedTuple):
    analyst_id: Column
    group_id: Column
    expires_at: Column


ASSIGNMENT_COLUMNS = AssignmentColumns(
    col(AnalystAssignment.analyst_id),
    col(AnalystAssignment.group_id),
    col(AnalystAssignment.expires_at),
)


@dataclass(frozen=True)
class AssignmentRule:
    """Analyst assignments: site admins see every one; an analyst its own, expired ones too
    (so it can tell "my access ended" from "no such group": the expired group itself stays
    hidden by `GROUP`), never a co-analyst's (co-analysts see each other's names only, not
    when or by whom they were assigned nor when their access ends)."""

    name: str
    sentence: str

    def allows(self, scope: AccessScope, key: AssignmentKey) -> bool:
        return scope.is_admin or scope.is_self(key.analyst_id)

    def clause(
        self, scope: AccessScope, columns: AssignmentColumns = ASSIGNMENT_COLUMNS
    ) -> ColumnElement[bool]:
        if scope.is_admin:
            return sa.true()
        if scope.viewer_id is None:
            return sa.false()
        return columns.analyst_id == scope.viewer_id


@dataclass(frozen=True)
class SiteRule:
    """A rule about the whole site rather than a row: the viewer's roles decide it."""

    name: str
    sentence: str
    # Any one of these roles suffices; None: anyone signed in.
    roles: frozenset[Role] | None = None

    def allows(self, scope: AccessScope) -> bool:
        if self.roles is None:
            return not scope.is_anonymous
        return bool(scope.roles & self.roles)

    def clause(self, scope: AccessScope) -> ColumnElement[bool]:
        """`allows` as a WHERE clause (true or false: nothing in a row decides it)."""
        return sa.true() if self.allows(scope) else sa.false()


USER = PeopleRule(
    "user",
    "site admins, the user itself, and, for a Group Analyst, the members and the other "
    "analysts of the groups it analyses",
    members=True,
    co_analysts=True,
)
CONTACT = PeopleRule(
    "contact",
    "site admins, the user itself, and analysts of a group the user is a member of",
    members=True,
)
ENROLLMENT = PeopleRule(
    "enrollment",
    "site admins, the student itself, and analysts of a group the student is a member of",
    members=True,
)
PRIVATE = PeopleRule("private", "site admins and the user itself")
TOKEN = PeopleRule("token", "the user itself (not even site admins)", admins=False)
GROUP = GroupRule("group", "site admins, and the Group Analysts assigned to the group")
COURSE = CourseRule(
    "course", "site admins, Group Analysts, and the students enrolled in the course"
)
ASSIGNMENT = AssignmentRule(
    "assignment", "site admins, and the analyst itself (its expired assignments too)"
)
SITE = SiteRule("site", "anyone signed in")
SEATS = SiteRule("seats", "site admins", ADMIN_ROLES)
AUDIT_TRAIL = SiteRule("audit trail", "site admins", ADMIN_ROLES)
# Webhooks carry every event with the fields an admin may read.
WEBHOOKS = SiteRule("webhooks", "site admins", ADMIN_ROLES)
REPORT_EXPORT = SiteRule(
    "report export",
    "site admins, and Group Analysts (of their own groups only)",
    ADMIN_ROLES | {Role.GROUP_ANALYST},
)

ReadRule = KeyRule | AssignmentRule | SiteRule
READ_RULES: tuple[ReadRule, ...] = (
    USER,
    CONTACT,
    ENROLLMENT,
    PRIVATE,
    TOKEN,
    GROUP,
    COURSE,
    ASSIGNMENT,
    SITE,
    SEATS,
    AUDIT_TRAIL,
    WEBHOOKS,
    REPORT_EXPORT,
)
