"""`Group.progressSummary`: per-course figures over exactly the group's report rows."""

from __future__ import annotations

import math

from app.models import Role, utcnow
from tests.support import Api, World, gid

SUMMARY = """query($id: ID!) { node(id: $id) { ... on Group {
  progressSummary { course { name } enrolled notStarted inProgress completed
                    averagePercentCompleted completionRate }
  progress(first: 100) { edges { node { course { name } progress { percentCompleted status } } } }
} } }"""


async def test_summary_figures_on_a_known_world(api: Api, world: World) -> None:
    m1, m2, m3, m4 = [await world.user("M", f"Member{i}") for i in range(1, 5)]
    outsider = await world.user("O", "Outsider")
    group = await world.group("Alpha", members=(m1, m2, m3, m4))
    await world.group("Beta", members=(outsider,))
    a = await world.course("Algebra", 3)
    b = await world.course("Biology", 7)
    await world.course("Chemistry", 2)  # nobody enrolled: no summary row
    await world.enroll(m1, a, viewed=3, completed=3, completed_at=utcnow())
    await world.enroll(m2, a, viewed=2, completed=1)
    await world.enroll(m3, a)
    await world.enroll(m1, b, viewed=2, completed=2)
    await world.enroll(m4, b, viewed=7, completed=6)
    await world.enroll(outsider, a, viewed=3, completed=3, completed_at=utcnow())
    analyst = await world.user("Ana", "Analyst", Role.GROUP_ANALYST)
    await world.assign(analyst, group)

    expected = [
        {
            "course": {"name": "Algebra"},
            "enrolled": 3,
            "notStarted": 1,
            "inProgress": 1,
            "completed": 1,
            "averagePercentCompleted": 44.4,  # (100 + 33.3 + 0) / 3, rounded down
            "completionRate": 33.3,
        },
        {
            "course": {"name": "Biology"},
            "enrolled": 2,
            "notStarted": 0,
            "inProgress": 2,
            "completed": 0,
            "averagePercentCompleted": 57.1,  # (28.5 + 85.7) / 2, rounded down
            "completionRate": 0.0,
        },
    ]
    variables = {"id": gid("Group", group.id)}
    for viewer in (world.owner, analyst):
        data = await api.data(SUMMARY, variables, await world.token(viewer))
        assert data["node"]["progressSummary"] == expected

    # The summary agrees with the rows a client can page through.
    rows = [e["node"] for e in data["node"]["progress"]["edges"]]
    for figures in expected:
        course_rows = [r for r in rows if r["course"] == figures["course"]]
        assert len(course_rows) == figures["enrolled"]
        mean = sum(r["progress"]["percentCompleted"] for r in course_rows) / len(course_rows)
        assert figures["averagePercentCompleted"] == math.floor(mean * 10 + 1e-9) / 10
        completed = sum(r["progress"]["status"] == "COMPLETED" for r in course_rows)
        assert completed == figures["completed"]


async def test_summary_is_absent_for_viewers_without_the_group(api: Api, world: World) -> None:
    student = await world.user("S", "Student")
    group = await world.group("Alpha", members=(student,))
    await world.enroll(student, await world.course("Algebra", 3), viewed=1)
    other = await world.user("O", "Other", Role.GROUP_ANALYST)
    await world.assign(other, await world.group("Beta"))
    variables = {"id": gid("Group", group.id)}
    assert await api.data(SUMMARY, variables) == {"node": None}
    for viewer in (student, other):
        assert await api.data(SUMMARY, variables, await world.token(viewer)) == {"node": None}
