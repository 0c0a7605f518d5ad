"""`groupanalyst import users`: created, updated, unchanged, refused, audited, as which admin."""

from __future__ import annotations

import sys

import pytest
from sqlmodel import col, select

from app.models import AccountLink, Role, User, UserRole
from tests.import_support import USERS_HEADER, Importer, audit_actions, count, make_importer
from tests.mail_server import Inbox, _free_port, smtp_server
from tests.support import World, fullwidth


@pytest.fixture
def importer(request: pytest.FixtureRequest) -> Importer:
    return make_importer(request)


async def user_row(world: World, email: str) -> tuple[str, str, str | None, list[str]]:
    async with world.db.read() as session:
        user = (
            await session.execute(select(User).where(col(User.email_key) == email.lower()))
        ).scalar_one()
        roles = await session.execute(
            select(UserRole.role).where(col(UserRole.user_id) == user.id).order_by(UserRole.role)
        )
        return user.first_name, user.last_name, user.company, list(roles.scalars())


PEOPLE = (
    USERS_HEADER
    + "Ann,Lee,ann@example.com,Acme,STUDENT\n"
    + "Bob,Ray,bob@example.com,,group analyst\n"
    + "Cy,Dee,cy@example.com,Initech,student; group_analyst\n"
)


async def test_users_are_created_audited_as_the_owner_and_a_second_run_changes_nothing(
    importer: Importer, world: World
) -> None:
    first = await importer.run("users", PEOPLE)
    assert first.code == 0, first.out + first.err
    assert first.summary == "3 created, 0 updated, 0 unchanged, 0 failed"
    assert await user_row(world, "ann@example.com") == ("Ann", "Lee", "Acme", ["STUDENT"])
    assert await user_row(world, "bob@example.com") == ("Bob", "Ray", None, ["GROUP_ANALYST"])
    assert (await user_row(world, "cy@example.com"))[3] == ["GROUP_ANALYST", "STUDENT"]
    events = await audit_actions(world.db, "user.create", "user.update", "user.roles.set")
    assert events == [("user.create", world.owner.id)] * 3

    again = await importer.run("users", PEOPLE)
    assert again.code == 0
    assert again.summary == "0 created, 0 updated, 3 unchanged, 0 failed"
    assert len(await audit_actions(world.db, "user.create", "user.update", "user.roles.set")) == 3
    assert await count(world.db, User) == 4


async def test_changed_rows_update_names_company_and_roles_through_the_services(
    importer: Importer, world: World
) -> None:
    await world.user("Ann", "Lee", Role.STUDENT, email="ann@example.com", company="Acme")
    await world.user("Bob", "Ray", Role.STUDENT, email="bob@example.com", company="Globex")
    changed = USERS_HEADER + "Anne,Lee,ANN@example.com,,STUDENT\nBob,Ray,bob@example.com,,\n"
    run = await importer.run("users", changed)
    assert run.summary == "0 created, 2 updated, 0 unchanged, 0 failed"
    # An empty Company cell removes the company; an empty Roles cell keeps the roles.
    assert await user_row(world, "ann@example.com") == ("Anne", "Lee", None, ["STUDENT"])
    assert await user_row(world, "bob@example.com") == ("Bob", "Ray", None, ["STUDENT"])

    promote = await importer.run(
        "users",
        "Student Email,Student First Name,Student Last Name,Roles\n"
        "bob@example.com,Bob,Ray,GROUP_ANALYST\n",
    )
    assert promote.summary == "0 created, 1 updated, 0 unchanged, 0 failed"
    # No Company column: the company is kept (none here), the roles are exactly the cell's.
    assert await user_row(world, "bob@example.com") == ("Bob", "Ray", None, ["GROUP_ANALYST"])
    events = await audit_actions(world.db, "user.update", "user.roles.set")
    assert [a for a, _ in events] == ["user.update", "user.update", "user.roles.set"]
    assert {actor for _, actor in events} == {world.owner.id}


async def test_bad_rows_are_reported_by_line_and_the_good_rows_go_in(
    importer: Importer, world: World
) -> None:
    await world.group("Morning Cohort")
    rows = [
        "Ann,Lee,ann@example.com,,",  # 2: good
        "Bad,Email,not-an-email,,",  # 3
        "Role,Typo,typo@example.com,,ANALIST",  # 4
        f"Ann,Again,{fullwidth('ANN')}@example.com,,",  # 5: same key as line 2
        "Long," + "x" * 101 + ",long@example.com,,",  # 6
        "Zed,Zero,zed@example.com,,\u200bSTUDENT",  # 7: a zero-width space in a role
        "Ivan,Look,p\u0430ypal@example.com,,",  # 8: Cyrillic a among Latin letters
        'Gus,Good,gus@example.com,=HYPERLINK("http://x"),',  # 9: good, a formula as text
        "Cell,Count,cells@example.com",  # 10: too few cells
    ]
    run = await importer.run("users", USERS_HEADER + "\n".join(rows) + "\n")
    assert run.code == 1
    assert run.summary == "2 created, 0 updated, 0 unchanged, 7 failed"
    assert "'Student Email' is not a valid email address" in run.line(3)
    assert "unknown role 'ANALIST' (did you mean GROUP_ANALYST?)" in run.line(4)
    assert "duplicate of line 2" in run.line(5)
    assert "'Student Last Name' must be at most 100 characters" in run.line(6)
    assert "[BAD_USER_INPUT]" in run.line(7)
    assert "mixes CYRILLIC and LATIN letters" in run.line(8)
    assert "it has 3 cells where the header has 5" in run.line(10)
    assert run.line(2) == run.line(9) == ""
    assert await user_row(world, "gus@example.com") == (
        "Gus",
        "Good",
        '=HYPERLINK("http://x")',
        ["STUDENT"],
    )
    assert await count(world.db, User) == 3


async def test_atomic_writes_nothing_when_a_row_fails_and_everything_when_none_does(
    importer: Importer, world: World
) -> None:
    bad = PEOPLE + "Bad,Email,not-an-email,,\n"
    run = await importer.run("users", bad, "--atomic")
    assert run.code == 1
    assert run.summary.startswith("--atomic: nothing written, because 1 row failed")
    assert await count(world.db, User) == 1
    assert await audit_actions(world.db, "user.create") == []

    run = await importer.run("users", PEOPLE, "--atomic")
    assert run.code == 0
    assert run.summary == "3 created, 0 updated, 0 unchanged, 0 failed"
    assert await count(world.db, User) == 4


async def test_dry_run_reports_each_change_and_writes_nothing(
    importer: Importer, world: World
) -> None:
    await world.user("Ann", "Lee", Role.STUDENT, email="ann@example.com", company="Old")
    run = await importer.run("users", PEOPLE, "--dry-run")
    assert run.code == 0
    assert run.line(2) == "line 2: would update ann@example.com (company)"
    assert run.line(3) == "line 3: would create bob@example.com"
    assert (
        run.summary == "dry run, nothing written; it would make: 2 created, 1 updated, "
        "0 unchanged, 0 failed"
    )
    assert await count(world.db, User) == 2
    assert (await user_row(world, "ann@example.com"))[2] == "Old"
    assert await audit_actions(world.db, "user.create", "user.update") == []


async def test_seat_limit_is_reported_per_line_as_the_api_does(
    importer: Importer, world: World
) -> None:
    await world.set_plan("PRO_GROWTH", seats=1)
    run = await importer.run("users", PEOPLE)
    assert run.code == 1
    assert run.line(2) == ""
    assert run.line(3) == ""
    assert "[SEAT_LIMIT_REACHED]" in run.line(4)
    assert "1 Group Analyst seats and 1 are in use" in run.line(4)
    assert await count(world.db, User) == 3
    dry = await importer.run(
        "users", USERS_HEADER + "A,B,a1@example.com,,GROUP_ANALYST\n", "--dry-run"
    )
    assert "[SEAT_LIMIT_REACHED]" in dry.line(2)


@pytest.mark.parametrize("who", ["student", "analyst", "nobody", "deactivated admin", "hostile"])
async def test_only_an_active_admin_can_be_acted_as(
    importer: Importer, world: World, who: str
) -> None:
    roles = {
        "student": (Role.STUDENT,),
        "analyst": (Role.GROUP_ANALYST,),
        "deactivated admin": (Role.SITE_ADMIN,),
    }
    email = "some\x00one@example.com\ud800" if who == "hostile" else "someone@example.com"
    if who in roles:
        user = await world.user("Some", "One", *roles[who], email=email)
        if who == "deactivated admin":
            async with world.db.write() as session:
                (await session.get_one(User, user.id)).deactivated_at = user.created_at
    run = await importer.run("users", PEOPLE, "--as", email)
    assert run.code == 2
    assert "nothing was imported" in run.err
    assert await count(world.db, User) == (2 if who in roles else 1)
    assert await audit_actions(world.db, "user.create") == []


async def test_an_admin_imports_as_itself_but_only_the_owner_grants_site_admin(
    importer: Importer, world: World
) -> None:
    admin = await world.user("Ada", "Admin", Role.SITE_ADMIN, email="ada@example.com")
    rows = PEOPLE + "Sam,Second,sam@example.com,,SITE_ADMIN\n"
    run = await importer.run("users", rows, "--as", "ADA@example.com")
    assert run.code == 1
    assert "Only the site owner grants or revokes SITE_ADMIN. [FORBIDDEN]" in run.line(5)
    assert await audit_actions(world.db, "user.create") == [("user.create", admin.id)] * 3

    as_owner = await importer.run("users", rows)
    assert as_owner.summary == "1 created, 0 updated, 3 unchanged, 0 failed"
    assert (await user_row(world, "sam@example.com"))[3] == ["SITE_ADMIN"]


async def test_the_owners_row_is_refused_to_an_admin_and_unchanged_for_the_owner(
    importer: Importer, world: World
) -> None:
    await world.user("Ada", "Admin", Role.SITE_ADMIN, email="ada@example.com")
    rename = USERS_HEADER + "Mallory,Owner,owner@example.com,,SITE_OWNER\n"
    run = await importer.run("users", rename, "--as", "ada@example.com")
    assert "Only the site owner edits the owner's account. [FORBIDDEN]" in run.line(2)
    same = USERS_HEADER + "Olivia,Owner,owner@example.com,,SITE_OWNER\n"
    assert (await importer.run("users", same)).summary == (
        "0 created, 0 updated, 1 unchanged, 0 failed"
    )


async def test_invite_mails_a_set_password_link_to_each_new_user(
    importer: Importer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server() as inbox:
        monkeypatch.setenv("GROUPANALYST_SMTP_URL", inbox.url)
        monkeypatch.setenv("GROUPANALYST_PUBLIC_URL", "https://analyst.example")
        run = await importer.run("users", PEOPLE, "--invite")
        assert run.code == 0
        assert sorted(m["To"] for m in inbox.messages) == [
            "ann@example.com",
            "bob@example.com",
            "cy@example.com",
        ]
        assert "https://analyst.example/" in Inbox.text(inbox.to("ann@example.com")[0])
        assert await count(world.db, AccountLink) == 3
        invites = await audit_actions(world.db, "user.invite")
        assert invites == [("user.invite", world.owner.id)] * 3
        # Users who exist are never invited again by an import; a dry run mails nobody.
        await importer.run("users", PEOPLE, "--invite")
        await importer.run("users", PEOPLE + "Di,Dry,di@example.com,,\n", "--invite", "--dry-run")
        assert len(inbox.messages) == 3
    assert await count(world.db, AccountLink) == 3


async def test_an_invitation_the_mail_server_refuses_is_reported_and_its_user_kept(
    importer: Importer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUPANALYST_SMTP_URL", f"smtp://127.0.0.1:{_free_port()}")
    run = await importer.run("users", USERS_HEADER + "Ann,Lee,ann@example.com,,\n", "--invite")
    assert run.code == 1
    assert "the invitation to ann@example.com was not sent" in run.out
    assert run.summary == "1 created, 0 updated, 0 unchanged, 0 failed"
    assert await count(world.db, User) == 2


async def test_a_progress_bar_shows_on_a_terminal(
    importer: Importer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    run = await importer.run("users", PEOPLE)
    assert run.code == 0
    assert "rows" in run.err
    assert "3/3 (100.0%)" in run.err
    assert run.summary == "3 created, 0 updated, 0 unchanged, 0 failed"


async def test_a_full_width_form_of_an_existing_email_is_that_user(
    importer: Importer, world: World
) -> None:
    await world.user("Ann", "Lee", Role.STUDENT, email="ann@example.com", company="Acme")
    row = USERS_HEADER + f"Ann,Lee,{fullwidth('Ann')}@example.com,Acme,STUDENT\n"
    run = await importer.run("users", row)
    assert run.summary == "0 created, 0 updated, 1 unchanged, 0 failed"
    assert await count(world.db, User) == 2
