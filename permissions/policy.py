"""Who may see and do what: the statement of the rules, and where each one lives.

The viewer's `AccessScope` is computed once per request (`load_scope`; again after a successful
`login` in it): who the viewer is, its roles, the groups it analyses with their analysts (and
which of those analysts are members), the courses it is enrolled in. It does NOT read the
members of the analysed groups (their number grows with the groups): which users are members
is learnt per request, from the rows the request loads (`Members`, below). The rules read only
the scope (and, in SQL, the tables), so the check on a loaded row and the clause in a statement
cannot disagree.

Membership, per request (`AccessScope.members`): a row the request loaded through a membership
of an analysed group, or through a members rule's clause, tells that its user is a member
(`learn`, `learn_visible_users`); any other user id is asked in one statement
(`learn_members`) before a check needs it. A check on a user id the request has not learnt
raises `MembershipUnknown` instead of guessing either way.

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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import BindParameter, ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.auth import Viewer
from app.db import Database
from app.models import (
    AnalystAssignment,
    Enrollment,
    GroupMembership,
    Role,
    User,
    UTCDateTime,
    table_of,
    utcnow,
)

# Any SQL expression or mapped attribute usable in a WHERE clause.
Column = SQLCoreOperations[Any]

ADMIN_ROLES = frozenset({Role.SITE_OWNER, Role.SITE_ADMIN})

# The assignment's analyst's account, under a name of its own: the statement around
# `in_force_clause` may read `user_account` too (it must not be correlated to that row).
_ANALYST_ACCOUNT = table_of(User).alias("analyst_account")


def in_force(expires_at: datetime | None, now: datetime) -> bool:
    """An assignment grants access while it has no expiry or its expiry is in the future."""
    return expires_at is None or expires_at > now


# The name of `now` in every statement the rules build (`now_param`).
NOW_PARAM = "scope_now"


def now_param(now: datetime) -> BindParameter[datetime]:
    """`now` as the named parameter `NOW_PARAM`, never as an anonymous literal: a statement
    built at one `now` then runs again at another by passing `{NOW_PARAM: now}`
    (`compiled.statements` caches built statements across requests), and nothing else in a
    rule's clause depends on the time. One statement holds one `now`: every occurrence
    shares the name, so they share one value."""
    return sa.bindparam(NOW_PARAM, now, type_=UTCDateTime())


def in_force_clause(now: datetime, expires_at: Column | None = None) -> ColumnElement[bool]:
    """`in_force` in SQL, on `expires_at`. By default, on `AnalystAssignment` rows, where it
    also requires the analyst's account to be active: a deactivated analyst's assignments
    grant nothing. An explicit `expires_at` column checks the expiry alone."""
    if expires_at is not None:
        return sa.or_(expires_at.is_(None), expires_at > now_param(now))
    column = col(AnalystAssignment.expires_at)
    # NOT EXISTS on the analyst's own row (its primary key), not NOT IN over every
    # deactivated account: that scanned the whole user table each time it was evaluated.
    return sa.and_(
        sa.or_(column.is_(None), column > now_param(now)),
        ~sa.exists().where(
            _ANALYST_ACCOUNT.c.id == col(AnalystAssignment.analyst_id),
            _ANALYST_ACCOUNT.c.deactivated_at.is_not(None),
        ),
    )


def analysed_groups(viewer_id: int, now: datetime) -> SelectOfScalar[int]:
    """The groups `viewer_id` analyses at `now` (its assignments in force), as a sub-select."""
    # Never correlated: it names its own rows, whatever statement it is placed in.
    return (
        select(AnalystAssignment.group_id)
        .where(col(AnalystAssignment.analyst_id) == viewer_id, in_force_clause(now))
        .correlate(None)
    )


def members_of_analysed(viewer_id: int, now: datetime) -> SelectOfScalar[int]:
    """The members of the groups `viewer_id` analyses at `now`, as a sub-select: the one
    definition of "member" that the rules' clauses and `learn_members` both use."""
    return (
        select(GroupMembership.user_id)
        .where(col(GroupMembership.group_id).in_(analysed_groups(viewer_id, now)))
        .correlate(None)
    )


class MembershipUnknown(LookupError):
    """A check asked whether a user is a member before the request learnt it: a read path
    that builds rows without telling the scope (a bug; failing beats guessing)."""


class Members:
    """Which users are members of the viewer's analysed groups, as far as this request has
    learnt: O(1) to ask, filled by the loaders (from the rows they read) and `learn_members`."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[int, bool] = {}

    def learn(self, members: Iterable[int], others: Iterable[int] = ()) -> None:
        """`members` are members; `others` (asked of the database, not among them) are not."""
        for key in others:
            self._known.setdefault(key, False)
        for key in members:
            self._known[key] = True

    def unknown(self, keys: Iterable[int]) -> list[int]:
        return sorted({key for key in keys if key not in self._known})

    def __contains__(self, key: int) -> bool:
        try:
            return self._known[key]
        except KeyError:
            raise MembershipUnknown(key) from None


# `AccessScope.timeless`'s `now`: no request's.
_TIMELESS = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AccessScope:
    viewer_id: int | None
    roles: frozenset[Role]
    now: datetime
    # Groups this viewer analyses now (unexpired assignments); empty unless GROUP_ANALYST.
    analysed_group_ids: frozenset[int] = frozenset()
    # Analysts (unexpired) of the analysed groups, the viewer included.
    co_analyst_ids: frozenset[int] = frozenset()
    # Those of `co_analyst_ids` that are members of an analysed group too.
    co_analyst_member_ids: frozenset[int] = frozenset()
    # Courses the viewer is enrolled in; loaded only for viewers who are neither admins nor
    # analysts (they see every course, `rules.COURSE`).
    enrolled_course_ids: frozenset[int] = frozenset()
    # The members of the analysed groups this request has learnt (per request, never shared).
    members: Members = field(default_factory=Members, compare=False, repr=False)

    def timeless(self) -> AccessScope:
        """This scope with `now` left out: two scopes whose rules' clauses differ only in the
        value of `NOW_PARAM` have equal (and equally hashed) timeless scopes, whatever field
        this class gains (every compared field but `now` is kept). It holds no request's
        learnt members (a kept key outlives its request)."""
        return replace(self, now=_TIMELESS, members=Members())

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

    # -- membership of the analysed groups ----------------------------------------------------
    @property
    def analyses_groups(self) -> bool:
        return bool(self.analysed_group_ids)

    def is_member(self, user_id: int) -> bool:
        """Whether `user_id` is a member of a group this viewer analyses (O(1); raises
        `MembershipUnknown` for a user the request has not learnt)."""
        if not self.analysed_group_ids:
            return False
        if user_id in self.co_analyst_ids:
            return user_id in self.co_analyst_member_ids
        return user_id in self.members

    def learn_visible_users(self, user_ids: Iterable[int]) -> None:
        """Users a people rule's clause let through (`USER`, `CONTACT`, `ENROLLMENT`): each is
        the viewer, a co-analyst (known from the scope) or a member, so the others are
        members."""
        if self.analysed_group_ids:
            self.members.learn(
                key for key in user_ids if key not in self.co_analyst_ids and not self.is_self(key)
            )

    def learn_reached_members(self, user_ids: Iterable[int]) -> None:
        """Users reached through their membership of a group the viewer may see (`GROUP`):
        for a viewer that analyses groups, members."""
        if self.analysed_group_ids:
            self.members.learn(user_ids)

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
    """The viewer's scope at `now`: none for anonymous or admins, one statement for anyone
    else (an analyst: its groups' assignments in force; others: their courses)."""
    now = now or utcnow()
    if viewer is None:
        return AccessScope(viewer_id=None, roles=frozenset(), now=now)
    return (await load_scopes(db, [viewer], now))[viewer.id]


async def load_scopes(
    db: Database, viewers: Sequence[Viewer], now: datetime | None = None
) -> dict[int, AccessScope]:
    """`load_scope` of each viewer at one `now`, by viewer id (live subscribers re-checked for
    one event: `app.live_access`): each viewer's scope is read by the statement `load_scope`
    reads it with, the analysts' joined by UNION ALL (`SCOPES_PER_STATEMENT` to a statement)
    and the others' enrollments in one IN, so a few statements serve any number of viewers
    (`tests/test_load_scopes.py` checks both agree over random worlds)."""
    now = now or utcnow()
    unique = {viewer.id: viewer for viewer in viewers}
    scopes = {
        viewer.id: AccessScope(viewer_id=viewer.id, roles=viewer.roles, now=now)
        for viewer in unique.values()
        if viewer.roles & ADMIN_ROLES
    }
    analysts = [v for v in unique.values() if v.id not in scopes and _analyses(v)]
    others = [v for v in unique.values() if v.id not in scopes and not _analyses(v)]
    if not analysts and not others:
        return scopes
    async with db.read() as session:
        scopes.update(await _analyst_scopes(session, analysts, now))
        scopes.update(await _enrolled_scopes(session, others, now))
    return scopes


def _analyses(viewer: Viewer) -> bool:
    return Role.GROUP_ANALYST in viewer.roles


# SQLite allows at most 500 terms in one compound SELECT.
SCOPES_PER_STATEMENT = 200


def _analyst_rows(viewer_id: int, now: datetime) -> sa.Select[int, int, int, bool]:
    """The assignments in force of every group `viewer_id` analyses (its own among them), each
    analyst telling whether it is a member of an analysed group, each row naming the viewer:
    analysts are few, members are many and are learnt per request instead.
    (EXISTS, per analyst, through the membership index: an IN over the members would read
    them all, which is what this scope avoids.)"""
    is_member = sa.exists().where(
        col(GroupMembership.user_id) == col(AnalystAssignment.analyst_id),
        col(GroupMembership.group_id).in_(analysed_groups(viewer_id, now)),
    )
    return sa.select(
        sa.literal(viewer_id, sa.Integer()).label("viewer_id"),
        col(AnalystAssignment.group_id),
        col(AnalystAssignment.analyst_id),
        is_member.label("is_member"),
    ).where(
        col(AnalystAssignment.group_id).in_(analysed_groups(viewer_id, now)),
        in_force_clause(now),
    )


async def _analyst_scopes(
    session: AsyncSession, viewers: Sequence[Viewer], now: datetime
) -> dict[int, AccessScope]:
    rows: dict[int, list[Any]] = {viewer.id: [] for viewer in viewers}
    for start in range(0, len(viewers), SCOPES_PER_STATEMENT):
        chunk = [_analyst_rows(v.id, now) for v in viewers[start : start + SCOPES_PER_STATEMENT]]
        statement = chunk[0] if len(chunk) == 1 else sa.union_all(*chunk)
        for row in (await session.execute(statement)).all():
            rows[row.viewer_id].append(row)
    return {
        viewer.id: AccessScope(
            viewer_id=viewer.id,
            roles=viewer.roles,
            now=now,
            analysed_group_ids=frozenset(
                r.group_id for r in rows[viewer.id] if r.analyst_id == viewer.id
            ),
            co_analyst_ids=frozenset(r.analyst_id for r in rows[viewer.id]),
            co_analyst_member_ids=frozenset(r.analyst_id for r in rows[viewer.id] if r.is_member),
        )
        for viewer in viewers
    }


# Users per statement in `_enrolled_scopes`: far below every driver's parameter limit.
USERS_PER_READ = 1000


async def _enrolled_scopes(
    session: AsyncSession, viewers: Sequence[Viewer], now: datetime
) -> dict[int, AccessScope]:
    courses: dict[int, set[int]] = {viewer.id: set() for viewer in viewers}
    ids = sorted(courses)
    for start in range(0, len(ids), USERS_PER_READ):
        found = await session.execute(
            select(Enrollment.user_id, Enrollment.course_id).where(
                col(Enrollment.user_id).in_(ids[start : start + USERS_PER_READ])
            )
        )
        for user_id, course_id in found.all():
            courses[user_id].add(course_id)
    return {
        viewer.id: AccessScope(
            viewer_id=viewer.id,
            roles=viewer.roles,
            now=now,
            enrolled_course_ids=frozenset(courses[viewer.id]),
        )
        for viewer in viewers
    }


async def learn_members(session: AsyncSession, scope: AccessScope, user_ids: Iterable[int]) -> None:
    """Ask the database, in one statement, which of `user_ids` the request has not learnt yet
    are members of the viewer's analysed groups (nothing to ask for a viewer without groups)."""
    if not scope.analysed_group_ids or scope.viewer_id is None:
        return
    unknown = [key for key in scope.members.unknown(user_ids) if key not in scope.co_analyst_ids]
    if not unknown:
        return
    found = await session.execute(
        members_of_analysed(scope.viewer_id, scope.now)
        .where(col(GroupMembership.user_id).in_(unknown))
        .distinct()
    )
    scope.members.learn(found.scalars(), others=unknown)
