"""Property: for every read rule, the O(1) check and the SQL clause select the same rows.

In random worlds (`tests.worlds`), for every viewer of the world (each user, anonymous and the
command line's `system_scope`), each rule of `permissions.rules.READ_RULES` is asked twice:
in Python (`allows`, on every row loaded whole) and in SQL (`clause`, in a WHERE), and both
must name exactly the same rows; and what resolvers rely on without a second check holds
(`_implied`). Runs on SQLite, and on PostgreSQL under
`tests/with_postgres.sh`, like every test. A rule of a kind this test does not know fails it,
so a new rule cannot skip the check.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from sqlmodel import col, select

from app.auth import viewer_by_id
from app.db import Database
from app.models import AnalystAssignment, Course, Group, User
from app.report import ProgressFilter, ReportRow, report_rows
from permissions import rules
from permissions.policy import ANONYMOUS, AccessScope, load_scope, system_scope
from permissions.rules import AssignmentKey, CourseRule, GroupRule, PeopleRule, SiteRule
from tests.worlds import Spec, build, specs

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


async def _agree_on_keys(db: Database, scope: AccessScope, rule: rules.KeyRule) -> None:
    column = next(c for kind, c in KEY_COLUMNS.items() if isinstance(rule, kind))
    every = await _ids(db, sa.select(column))
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
    for user_id in await _ids(db, sa.select(col(User.id))):
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


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=specs())
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
