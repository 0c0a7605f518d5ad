"""The access review (`User.accessReview`, `groupanalyst access-report`): who can see a user
now, and what an analyst sees now.

The property: in random worlds, the review equals what each analyst actually sees through the
API with its own token (its groups, their members), from both sides.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from app import tokens
from app.cli import main
from app.db import Database
from app.models import Role, utcnow
from tests.cast import Cast
from tests.support import Api, gid
from tests.worlds import Spec, build, over_worlds

REVIEW = """
query Review($id: ID!) { node(id: $id) { ... on User { accessReview {
  seenBy { analyst { id } group { id name } since until }
  groups { group { id } studentCount }
  studentCount
} } } }
"""
SEES = """
{ groups(first: 100) { edges { node { id members(first: 100) { edges { node { id } } } } } } }
"""


async def _review(api: Api, token: str | None, user_id: str) -> Any:
    data = await api.data(REVIEW, {"id": user_id}, token=token)
    return data["node"]["accessReview"] if data["node"] else None


async def _token(db: Database, user_id: int) -> str:
    async with db.write() as session:
        issued = await tokens.issue(
            session, user_id=user_id, name="t", expires_at=utcnow() + timedelta(hours=1)
        )
    return issued.secret


async def _actually_sees(api: Api, token: str, self_id: str) -> dict[str, set[str]]:
    """Group id -> member ids (but itself) that the analyst reads through the API."""
    data = await api.data(SEES, token=token)
    return {
        edge["node"]["id"]: {m["node"]["id"] for m in edge["node"]["members"]["edges"]} - {self_id}
        for edge in data["groups"]["edges"]
    }


@over_worlds(15)
async def test_the_review_equals_what_each_analyst_sees(db: Database, api: Api, spec: Spec) -> None:
    built = await build(db, spec)
    admin = await _token(db, built.user_ids[0])  # user 0 is the owner
    ids = [gid("User", u) for u in built.user_ids]
    analysts = [
        i
        for i, roles in enumerate(spec.roles)
        if Role.GROUP_ANALYST in roles and not roles & {Role.SITE_ADMIN, Role.SITE_OWNER}
    ]
    seen: dict[int, dict[str, set[str]]] = {}
    for a in analysts:
        seen[a] = await _actually_sees(api, await _token(db, built.user_ids[a]), ids[a])
        review = await _review(api, admin, ids[a])
        assert {g["group"]["id"]: g["studentCount"] for g in review["groups"]} == {
            group: len(members) for group, members in seen[a].items()
        }
        assert review["studentCount"] == len(set().union(*seen[a].values()))
    for u, user_id in enumerate(ids):
        review = await _review(api, admin, user_id)
        by_plain_analysts = {
            (s["analyst"]["id"], s["group"]["id"])
            for s in review["seenBy"]
            if ids.index(s["analyst"]["id"]) in analysts
        }
        expected = {
            (ids[a], group)
            for a in analysts
            for group, members in seen[a].items()
            if user_id in members
        }
        assert by_plain_analysts == expected, (u, spec)


async def test_only_admins_read_the_review(api: Api, cast: Cast) -> None:
    group = await cast.world.group("Cohort", members=(cast.student,))
    until = utcnow() + timedelta(days=9)
    await cast.world.assign(cast.analyst, group, expires_at=until)
    student = gid("User", cast.student.id)
    for role in ("anonymous", "student", "analyst"):
        assert await _review(api, cast.token(role), student) is None
    for role in ("admin", "owner"):
        review = await _review(api, cast.token(role), student)
        [seen] = review["seenBy"]
        assert seen["analyst"]["id"] == gid("User", cast.analyst.id)
        assert seen["group"]["name"] == "Cohort" and seen["until"] is not None
    analyst = await _review(api, cast.token("admin"), gid("User", cast.analyst.id))
    assert analyst["studentCount"] == 1 and analyst["groups"][0]["studentCount"] == 1


async def test_expired_and_deactivated_access_is_not_listed(api: Api, cast: Cast) -> None:
    group = await cast.world.group("Cohort", members=(cast.student,))
    partner = await cast.world.user("Pat", "Partner", Role.GROUP_ANALYST)
    await cast.world.assign(cast.analyst, group, expires_at=utcnow() + timedelta(days=1))
    await cast.world.assign(partner, group)
    await api.data(
        "mutation D($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }",
        {"id": gid("User", partner.id)},
        token=cast.token("admin"),
    )
    review = await _review(api, cast.token("admin"), gid("User", cast.student.id))
    assert [s["analyst"]["id"] for s in review["seenBy"]] == [gid("User", cast.analyst.id)]
    gone = await _review(api, cast.token("admin"), gid("User", partner.id))
    assert gone["studentCount"] == 0 and gone["groups"] == []


async def test_access_report_prints_the_same(
    api: Api,
    cast: Cast,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    group = await cast.world.group("Cohort", members=(cast.student,))
    await cast.world.assign(cast.analyst, group)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert await asyncio.to_thread(main, ["access-report", "--email", "SAM@example.com"]) == 0
    out = capsys.readouterr().out
    assert "Ana Analyst <ana@example.com> through 'Cohort'" in out and "until no end" in out
    assert await asyncio.to_thread(main, ["access-report", "--email", "ana@example.com"]) == 0
    out = capsys.readouterr().out
    assert "Sees now as a Group Analyst: 1 students in 1 groups" in out
    assert "'Cohort': 1 students" in out
    assert await asyncio.to_thread(main, ["access-report", "--email", "nobody@example.com"]) == 1


@pytest.mark.parametrize("email", ["", "a\x00@example.com", "\ud800@example.com", "x" * 300])
def test_access_report_refuses_hostile_emails(
    email: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["access-report", "--email", email]) == 2
    assert "--email" in capsys.readouterr().err
