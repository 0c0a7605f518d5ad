"""The dashboard on the demo world, as the demo analyst, partner and student."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from app.db import Database
from app.demo import DemoSummary
from app.models import GroupMembership, User
from tests.support import Api, token_for
from tests.test_read_batching import DASHBOARD


async def _emails_of_groups(db: Database, group_ids: list[int]) -> set[str]:
    async with db.read() as session:
        rows = await session.execute(
            select(User.email)
            .join(GroupMembership, col(GroupMembership.user_id) == col(User.id))
            .where(col(GroupMembership.group_id).in_(group_ids))
        )
        return set(rows.scalars())


@pytest.mark.parametrize(
    ("account", "group_ids", "group_names"),
    [
        ("analyst", [1, 2], ["Cohort 001 Data", "Cohort 002 Product"]),
        # The partner's assignment to "Cohort 003 Engineering" has expired.
        ("partner", [2], ["Cohort 002 Product"]),
    ],
)
async def test_demo_analyst_dashboard_holds_only_its_groups_with_emails(
    api: Api,
    db: Database,
    demo: DemoSummary,
    account: str,
    group_ids: list[int],
    group_names: list[str],
) -> None:
    data = await api.data(DASHBOARD, token=await token_for(db, demo.accounts[account]))
    groups = [edge["node"] for edge in data["groups"]["edges"]]
    assert [g["name"] for g in groups] == group_names
    members = [e["node"] for g in groups for e in g["members"]["edges"]]
    assert members
    emails = {m["email"] for m in members}
    assert None not in emails
    assert emails == await _emails_of_groups(db, group_ids)
    assert any(p["expiresAt"] for m in members for p in m["progress"])
    for group in groups:
        enrolled = sum(s["enrolled"] for s in group["progressSummary"])
        assert enrolled == sum(
            len(m["progress"]) for m in (e["node"] for e in group["members"]["edges"])
        )


async def test_demo_student_sees_nothing_of_other_students(
    api: Api, db: Database, demo: DemoSummary
) -> None:
    token = await token_for(db, demo.accounts["student"])
    assert await api.data(DASHBOARD, token=token) == {"groups": {"totalCount": 0, "edges": []}}
    data = await api.data(
        """{ viewer { email groups { name } progress { student { email } expiresAt } }
             users(first: 100) { edges { node { email } } }
             groupProgress(first: 100) { totalCount } }""",
        token=token,
    )
    assert data["users"]["edges"] == [{"node": {"email": "student@example.com"}}]
    assert data["groupProgress"] == {"totalCount": 0}
    assert data["viewer"]["groups"] == []
    assert data["viewer"]["progress"]
    assert {p["student"]["email"] for p in data["viewer"]["progress"]} == {"student@example.com"}
