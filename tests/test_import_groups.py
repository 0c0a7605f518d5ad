"""`groupanalyst import memberships` and `import assignments`: as the API's group mutations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from app.models import AnalystAssignment, GroupMembership, Role, User
from tests.import_support import Importer, audit_actions, count, make_importer
from tests.support import World

MEMBERS = "Student Email,Group Name\n"
ASSIGNMENTS = "Analyst Email,Group Name,Expiry Date\n"


@pytest.fixture
def importer(request: pytest.FixtureRequest) -> Importer:
    return make_importer(request)


async def expiry_of(world: World, analyst: User) -> list[datetime | None]:
    rows = await world.scalars(
        select(AnalystAssignment)
        .where(col(AnalystAssignment.analyst_id) == analyst.id)
        .order_by(col(AnalystAssignment.group_id))
    )
    return [row.expires_at for row in rows]


async def test_memberships_go_in_once_by_group_name_in_any_case(
    importer: Importer, world: World
) -> None:
    ann = await world.user("Ann", "Lee", email="ann@example.com")
    await world.user("Bob", "Ray", email="bob@example.com")
    morning = await world.group("Morning Cohort")
    await world.group("Evening Cohort", members=(ann,))
    rows = (
        MEMBERS + "ann@example.com,morning cohort\n"
        "ANN@example.com,Evening Cohort\n"
        "bob@example.com,  MORNING COHORT \n"
    )
    run = await importer.run("memberships", rows)
    assert run.code == 0, run.out + run.err
    assert run.summary == "2 created, 0 updated, 1 unchanged, 0 failed"
    members = await world.scalars(
        select(GroupMembership.user_id).where(col(GroupMembership.group_id) == morning.id)
    )
    assert len(members) == 2
    events = await audit_actions(world.db, "group.members.add")
    assert events == [("group.members.add", world.owner.id)] * 2

    again = await importer.run("memberships", rows)
    assert again.summary == "0 created, 0 updated, 3 unchanged, 0 failed"
    assert len(await audit_actions(world.db, "group.members.add")) == 2


async def test_membership_rows_name_unknown_groups_and_users(
    importer: Importer, world: World
) -> None:
    await world.user("Ann", "Lee", email="ann@example.com")
    await world.group("Morning Cohort")
    rows = (
        MEMBERS + "ann@example.com,Mornig Cohort\n"
        "nobody@example.com,Morning Cohort\n"
        "ann@example.com,Morning Cohort\n"
        "ann@example.com,MORNING cohort\n"
        ",Morning Cohort\n"
    )
    run = await importer.run("memberships", rows)
    assert run.code == 1
    assert run.line(2) == (
        "line 2: no group named 'Mornig Cohort' (did you mean 'Morning Cohort'?) [NOT_FOUND]"
    )
    assert "no user with the email nobody@example.com" in run.line(3)
    assert "import it first with `groupanalyst import users`" in run.line(3)
    assert run.line(4) == ""
    assert run.line(5) == "line 5: duplicate of line 4 [BAD_USER_INPUT]"
    assert "'Student Email' must not be empty" in run.line(6)
    assert await count(world.db, GroupMembership) == 1


async def test_a_progress_export_file_imports_as_memberships(
    importer: Importer, world: World
) -> None:
    ann = await world.user("Ann", "Lee", email="ann@example.com")
    await world.group("Morning Cohort", members=(ann,))
    await world.group("Evening Cohort")
    export_header = (
        "Student First Name,Student Last Name,Student Email,Company,Group Name,Course Name,"
        "Activated At Date,% Completed,Completed Date,Expiry Date\n"
    )
    rows = export_header + "Ann,Lee,ann@example.com,,Evening Cohort,SQL,2026-01-05T09:00:00Z,50,,\n"
    run = await importer.run("memberships", rows)
    assert run.summary == "1 created, 0 updated, 0 unchanged, 0 failed"


async def test_assignments_follow_the_api_rules_and_are_idempotent(
    importer: Importer, world: World
) -> None:
    analyst = await world.user("Ana", "Lyst", Role.GROUP_ANALYST, email="ana@example.com")
    await world.user("Stu", "Dent", Role.STUDENT, email="stu@example.com")
    await world.group("Morning Cohort")
    await world.group("Evening Cohort")
    rows = (
        ASSIGNMENTS + "ana@example.com,Morning Cohort,2999-12-30\n"
        "ana@example.com,evening cohort,\n"
        "stu@example.com,Morning Cohort,\n"
    )
    run = await importer.run("assignments", rows)
    assert run.code == 1
    assert run.summary == "2 created, 0 updated, 0 unchanged, 1 failed"
    assert "does not hold the GROUP_ANALYST role" in run.line(4)
    assert await expiry_of(world, analyst) == [datetime(2999, 12, 30, tzinfo=UTC), None]
    events = await audit_actions(world.db, "analyst.assign", "analyst.assign.update")
    assert events == [("analyst.assign", world.owner.id)] * 2

    moved = ASSIGNMENTS + "ana@example.com,Morning Cohort,2999-06-01T12:00:00+02:00\n"
    again = await importer.run("assignments", moved)
    assert again.summary == "0 created, 1 updated, 0 unchanged, 0 failed"
    assert (await expiry_of(world, analyst))[0] == datetime(2999, 6, 1, 10, tzinfo=UTC)
    assert (await importer.run("assignments", moved)).summary == (
        "0 created, 0 updated, 1 unchanged, 0 failed"
    )
    # Without the Expiry Date column an existing assignment keeps its expiry.
    kept = "Analyst Email,Group Name\nana@example.com,Morning Cohort\n"
    assert (await importer.run("assignments", kept)).summary == (
        "0 created, 0 updated, 1 unchanged, 0 failed"
    )
    assert (await expiry_of(world, analyst))[0] == datetime(2999, 6, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("2001-01-01", "is not in the future"),
        ("3000-01-02", "must be between 1900-01-01 and 2999-12-31"),
        ("0000-01-01", "must be a date such as 2026-12-31"),
        ("31/12/2030", "must be a date such as 2026-12-31"),
        ("2030-12-31T10:00:00", "has a time but no zone"),
        ("2030-02-30", "must be a date such as 2026-12-31"),
        ("9" * 5000, "must be a date such as 2026-12-31"),
    ],
)
async def test_bad_expiry_dates_fail_their_row(
    importer: Importer, world: World, cell: str, reason: str
) -> None:
    await world.user("Ana", "Lyst", Role.GROUP_ANALYST, email="ana@example.com")
    await world.group("Morning Cohort")
    run = await importer.run(
        "assignments", ASSIGNMENTS + f"ana@example.com,Morning Cohort,{cell}\n"
    )
    assert run.code == 1
    assert reason in run.line(2)
    assert "[BAD_USER_INPUT]" in run.line(2)
    assert await count(world.db, AnalystAssignment) == 0


async def test_assignments_atomic_and_dry_run(importer: Importer, world: World) -> None:
    await world.user("Ana", "Lyst", Role.GROUP_ANALYST, email="ana@example.com")
    await world.group("Morning Cohort")
    rows = ASSIGNMENTS + "ana@example.com,Morning Cohort,\nana@example.com,Nowhere,\n"
    atomic = await importer.run("assignments", rows, "--atomic")
    assert atomic.code == 1
    assert atomic.summary.startswith("--atomic: nothing written")
    dry = await importer.run("assignments", rows, "--dry-run")
    assert dry.line(2) == (
        "line 2: would create ana@example.com analyses 'Morning Cohort' until no end"
    )
    assert await count(world.db, AnalystAssignment) == 0
    assert await audit_actions(world.db, "analyst.assign") == []


async def test_a_non_admin_cannot_import_memberships_or_assignments(
    importer: Importer, world: World
) -> None:
    analyst = await world.user("Ana", "Lyst", Role.GROUP_ANALYST, email="ana@example.com")
    await world.group("Morning Cohort")
    for kind, rows in (
        ("memberships", MEMBERS + "ana@example.com,Morning Cohort\n"),
        ("assignments", ASSIGNMENTS + "ana@example.com,Morning Cohort,\n"),
    ):
        run = await importer.run(kind, rows, "--as", analyst.email)
        assert run.code == 2
        assert "is not an active site admin or owner" in run.err
    assert await count(world.db, GroupMembership) == 0
    assert await count(world.db, AnalystAssignment) == 0


async def test_an_expired_assignment_is_renewed_by_a_future_date(
    importer: Importer, world: World
) -> None:
    analyst = await world.user("Ana", "Lyst", Role.GROUP_ANALYST, email="ana@example.com")
    group = await world.group("Morning Cohort")
    await world.assign(analyst, group, expires_at=datetime.now(UTC) - timedelta(days=1))
    run = await importer.run(
        "assignments", ASSIGNMENTS + "ana@example.com,Morning Cohort,2999-01-01\n"
    )
    assert run.summary == "0 created, 1 updated, 0 unchanged, 0 failed"
    assert await audit_actions(world.db, "analyst.assign.update") == [
        ("analyst.assign.update", world.owner.id)
    ]
