"""Property: for every read rule, the O(1) check and the SQL clause select the same rows.

In random worlds (`tests.worlds`), for every viewer of the world (each user, anonymous and the
command line's `system_scope`), each rule of `permissions.rules.READ_RULES` is asked twice:
in Python (`allows`, on every row loaded whole) and in SQL (`clause`, in a WHERE), and both
must name exactly the same rows; and what resolvers rely on without a second check holds
(`_implied`). The Python check of a people rule first learns, in one statement
(`learn_members`), which users are members of the viewer's analysed groups: the scope itself
no longer holds them. Runs on SQLite, and on PostgreSQL under
`tests/with_postgres.sh`, like every test. A rule of a kind this test does not know fails it,
so a new rule cannot skip the check.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from app.auth import viewer_by_id
from app.db import Database
from app.models import AnalystAssignment, Course, Group, GroupMembership, Role, User
from app.report import ProgressFilter, ReportRow, report_rows
from permissions import rules
from permissions.policy import (
    ANONYMOUS,
    AccessScope,
    MembershipUnknown,
    learn_members,
    load_scope,
    system_scope,
)
from permissions.rules import AssignmentKey, CourseRule, GroupRule, PeopleRule, SiteRule
from tests.support import World
from tests.worlds import Spec, build, over_worlds

# The rows a rule over one integer key is about, by the rule's kind.
KEY_COLUMNS: dict[type[rules.KeyRule], Any] = {
    PeopleRule: col(User.id),
    GroupRule: col(Group.id),
    CourseRule: col(Course.id),
}


async def _scopes(db: Database, user_ids: list[int]) -> list[AccessScope]:
    scopes = [ANONYMOUS, system_scope()]
    for user_id in user_ids:
        viewer = await viewer_by_id(db, user_id)
        assert viewer is not None
        scopes.append(await load_scope(db, viewer))
    return scopes


async def _ids(db: Database, statement: Any) -> set[Any]:
    async with db.read() as session:
        return set((await session.execute(statement)).scalars())


async def _learn(db: Database, scope: AccessScope, user_ids: set[int]) -> None:
    async with db.read() as session:
        await learn_members(session, scope, user_ids)


async def _agree_on_keys(db: Database, scope: AccessScope, rule: rules.KeyRule) -> None:
    column = next(c for kind, c in KEY_COLUMNS.items() if isinstance(rule, kind))
    every = await _ids(db, sa.select(column))
    if isinstance(rule, PeopleRule):
        await _learn(db, scope, every)
    in_sql = await _ids(db, sa.select(column).where(rule.clause(scope, column)))
    in_python = {key for key in every if rule.allows(scope, key)}
    assert in_sql == in_python, (rule.name, scope)


async def _agree_on_readable(db: Database, scope: AccessScope, rule: rules.KeyRule) -> None:
    """`readable` keeps a value exactly where `allows` does, and is '' elsewhere."""
    readable = rule.readable(scope, col(User.id), col(User.email_key))
    async with db.read() as session:
        rows = (await session.execute(sa.select(col(User.id), col(User.email_key), readable))).all()
    for user_id, email_key, shown in rows:
        assert shown == (email_key if rule.allows(scope, user_id) else ""), (rule.name, scope)


async def _agree_on_assignments(db: Database, scope: AccessScope, rule: Any) -> None:
    async with db.read() as session:
        every = (await session.execute(select(AnalystAssignment))).scalars().all()
    in_sql = await _ids(db, select(AnalystAssignment.id).where(rule.clause(scope)))
    in_python = {
        a.id
        for a in every
        if rule.allows(scope, AssignmentKey(a.analyst_id, a.group_id, a.expires_at))
    }
    assert in_sql == in_python, (rule.name, scope)


async def _agree_on_site(db: Database, scope: AccessScope, rule: SiteRule) -> None:
    in_sql = await _ids(db, sa.select(sa.literal(1)).where(rule.clause(scope)))
    assert in_sql == ({1} if rule.allows(scope) else set()), (rule.name, scope)


async def _agree(db: Database, scope: AccessScope, rule: rules.ReadRule) -> None:
    if isinstance(rule, rules.KeyRule):
        await _agree_on_keys(db, scope, rule)
        if isinstance(rule, PeopleRule):
            await _agree_on_readable(db, scope, rule)
    elif isinstance(rule, rules.AssignmentRule):
        await _agree_on_assignments(db, scope, rule)
    elif isinstance(rule, SiteRule):
        await _agree_on_site(db, scope, rule)
    else:  # a new kind of rule must be taught to this test
        raise AssertionError(f"no agreement check for {rule!r}")


async def _implied(db: Database, scope: AccessScope) -> None:
    """What resolvers rely on to show an object whole, or a non-null field, with no second
    check: whoever may read a user's contact, enrollments or private data may read the user;
    a report row's group, student (contact and enrollment too) and course are readable; an
    assignment's analyst is readable (not always its group: an analyst's ended assignment
    hides it)."""
    every = await _ids(db, sa.select(col(User.id)))
    await _learn(db, scope, every)
    for user_id in every:
        if any(r.allows(scope, user_id) for r in (rules.CONTACT, rules.ENROLLMENT, rules.PRIVATE)):
            assert rules.USER.allows(scope, user_id), scope
    async with db.read() as session:
        report = (await session.execute(report_rows(scope, ProgressFilter()))).all()
        assignments = (
            await session.execute(select(AnalystAssignment).where(rules.ASSIGNMENT.clause(scope)))
        ).scalars()
        for row in map(ReportRow.from_row, report):
            assert rules.GROUP.allows(scope, row.group_id)
            for rule in (rules.USER, rules.CONTACT, rules.ENROLLMENT):
                assert rule.allows(scope, row.progress.student_id), (rule.name, scope)
            assert rules.COURSE.allows(scope, row.progress.course_id)
        for assignment in assignments:
            assert rules.USER.allows(scope, assignment.analyst_id)


@over_worlds(25)
async def test_every_rule_selects_in_sql_exactly_what_it_allows(db: Database, spec: Spec) -> None:
    built = await build(db, spec)
    for scope in await _scopes(db, built.user_ids):
        for rule in rules.READ_RULES:
            await _agree(db, scope, rule)
        await _implied(db, scope)


def test_every_read_rule_kind_has_its_rows() -> None:
    """Each rule over one key names a kind of row this test can list (guards `KEY_COLUMNS`)."""
    for rule in rules.READ_RULES:
        if isinstance(rule, rules.KeyRule):
            assert any(isinstance(rule, kind) for kind in KEY_COLUMNS), rule.name


async def test_the_check_and_the_clause_disagreeing_would_fail(db: Database) -> None:
    """The agreement check can fail: a rule whose clause says more than its check is caught."""

    class Wider(GroupRule):
        def clause(self, scope: AccessScope, key: Any) -> Any:
            return sa.true()

    await build(db, Spec([set()], 1, set(), {}, 1, {}, None))
    with pytest.raises(AssertionError):
        await _agree_on_keys(db, ANONYMOUS, Wider("wider", "nobody"))


async def _members_reached_through_groups(db: Database, scope: AccessScope) -> set[int]:
    """The users the rows of the viewer's visible groups' memberships reach (`GROUP`)."""
    return await _ids(
        db,
        sa.select(col(GroupMembership.user_id)).where(
            rules.GROUP.clause(scope, col(GroupMembership.group_id))
        ),
    )


@over_worlds(15)
async def test_what_a_request_learns_from_its_rows_agrees_with_the_clause(
    db: Database, spec: Spec
) -> None:
    """A scope that learnt members only from the rows it was given (no `learn_members`): the
    users a people rule's clause let through, and the users reached through a visible group's
    memberships; the check then answers for each of them exactly as the clause does, and
    `allows_member` agrees with the clause on every user reached through a group."""
    built = await build(db, spec)
    for user_id in built.user_ids:
        viewer = await viewer_by_id(db, user_id)
        assert viewer is not None
        for rule in (rules.USER, rules.CONTACT, rules.ENROLLMENT):
            scope = await load_scope(db, viewer)
            visible = await _ids(
                db, sa.select(col(User.id)).where(rule.clause(scope, col(User.id)))
            )
            reached = await _members_reached_through_groups(db, scope)
            scope.learn_visible_users(visible)
            scope.learn_reached_members(reached)
            for key in visible | reached:
                assert rule.allows(scope, key) == (key in visible), (rule.name, key)
            fresh = await load_scope(db, viewer)
            for key in reached:
                assert rule.allows_member(fresh, key) == (key in visible), (rule.name, key)


async def test_a_check_on_a_user_the_request_has_not_learnt_fails_instead_of_guessing(
    db: Database,
) -> None:
    """An analyst's scope does not hold its groups' members: asking about a user no row of
    the request reached raises, rather than hiding or showing its email by default."""
    roles = [{Role.SITE_OWNER}, {Role.GROUP_ANALYST}, {Role.STUDENT}, {Role.STUDENT}]
    built = await build(db, Spec(roles, 1, {(2, 0)}, {(1, 0): "never"}, 1, {}, None))
    analyst, member, stranger = built.user_ids[1:]
    viewer = await viewer_by_id(db, analyst)
    assert viewer is not None
    scope = await load_scope(db, viewer)
    assert scope.analysed_group_ids == {built.group_ids[0]}
    for user_id in (member, stranger):
        with pytest.raises(MembershipUnknown):
            rules.CONTACT.allows(scope, user_id)
    await _learn(db, scope, {member, stranger})
    assert rules.CONTACT.allows(scope, member)
    assert not rules.CONTACT.allows(scope, stranger)


async def test_an_analyst_assigned_during_a_request_is_not_taken_for_a_member(
    db: Database,
) -> None:
    """The scope is read when the request starts; its statements run later. An analyst
    assigned to the viewer's group in between passes the `USER` clause then, and must not be
    learnt as a member (its email and enrollments would show): the clause names the
    co-analysts the scope knows, so every other user it lets through is a member."""
    world = await World.create(db)
    analyst = await world.user("Ana", "Lyst", Role.GROUP_ANALYST)
    member = await world.user("Mem", "Ber")
    late = await world.user("Late", "Comer", Role.GROUP_ANALYST)
    group = await world.group("Alpha", members=(member,))
    await world.assign(analyst, group)
    viewer = await viewer_by_id(db, analyst.id)  # type: ignore[arg-type]
    assert viewer is not None
    scope = await load_scope(db, viewer)
    await world.assign(late, group)  # committed after the scope was read
    visible = await _ids(db, sa.select(col(User.id)).where(rules.USER.clause(scope, col(User.id))))
    scope.learn_visible_users(visible)
    assert member.id in visible and analyst.id in visible
    assert late.id not in visible  # a co-analyst the scope does not know yet: not shown
    assert member.id is not None and rules.CONTACT.allows(scope, member.id)
