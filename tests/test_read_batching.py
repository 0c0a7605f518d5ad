"""The dashboard query runs a small, constant number of SQL statements at any size, and
operations too costly to run are refused with QUERY_TOO_COMPLEX."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from app.db import Database
from app.models import User
from app.settings import Settings
from tests import bulk
from tests.support import Api, World, api_with
from tests.test_compiled_reads import sealed_as_plain

DASHBOARD = """
query Dashboard {
  groups {
    totalCount
    edges { node {
      id name
      members(first: 100) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node {
          firstName lastName email
          progress { course { name } percentViewed percentCompleted completedAt expiresAt }
        } }
      }
      progressSummary {
        course { name }
        enrolled notStarted inProgress completed averagePercentCompleted completionRate
      }
    } }
  }
}
"""

# SQL statements of the analyst dashboard, whatever the world's size (SQLite's explicit
# BEGIN per session is not counted):
#   1  token → viewer with its roles (app.auth)
#   1  the scope: analysed groups with their analysts (permissions.policy; not the members:
#      the members page and the progress rows tell which users are members)
#   2  the groups page, and its totalCount
#   1  every group's members page (one windowed statement), 1 their counts (one grouped COUNT)
#   1  every member's progress, 1 every group's summary
# (a token's first request in a minute adds 1, the write stamping its last use: the
# tokens below are used once before counting, as a dashboard's token is)
# and none for `course { name }`: the progress and summary statements join the course (in
# the viewer's course scope) and each row carries it. That is through the resolvers
# (GROUPANALYST_COMPILED_READS=0); the compiled read path replaces the last six with one
# statement that builds the whole answer (`compiled`).
DASHBOARD_STATEMENTS = 8
COMPILED_DASHBOARD_STATEMENTS = 3


@contextmanager
def count_statements(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE"):
            statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def _dashboard_statements(api: Api, db: Database, token: str) -> tuple[int, dict[str, Any]]:
    with count_statements(db) as statements:
        data = await api.data(DASHBOARD, token=token)
    return len(statements), data


async def _both_paths(
    api: Api, resolvers: Api, db: Database, token: str
) -> tuple[tuple[int, int], dict[str, Any]]:
    """The statement counts of the compiled path and of the resolvers, and the answer (the
    same on both, cursors compared by the position they seal)."""
    compiled_count, data = await _dashboard_statements(api, db, token)
    resolvers_count, other = await _dashboard_statements(resolvers, db, token)
    assert sealed_as_plain(data) == sealed_as_plain(other)
    return (compiled_count, resolvers_count), data


@pytest.mark.slow
async def test_dashboard_statement_count_does_not_grow_with_the_world(
    api: Api, db: Database, world: World, settings: Settings
) -> None:
    small = await bulk.build(world, students=10)
    token = await world.token(small.analyst)
    await api.data("{ viewer { id } }", token=token)
    async with api_with(db, settings, compiled_reads=False) as resolvers:
        small_count, small_data = await _both_paths(api, resolvers, db, token)
    small_members = sum(len(e["node"]["members"]["edges"]) for e in small_data["groups"]["edges"])
    assert small_members == 6  # 10 students in 4 groups; the analyst has groups 0 and 1

    # Grow the same database to 2,010 students: the analyst's groups now hold 1,005.
    large = await bulk.build(world, students=2000, tag="b", analyst=small.analyst)
    # A course only one member takes, a member past the first page of 100: the summary shows
    # the course, the members' progress does not.
    async with db.read() as session:
        late = await session.get_one(User, large.student_ids[100])  # "Last100", sorts last
    await world.enroll(late, await world.course("Rare Course", 3), viewed=1)
    async with api_with(db, settings, compiled_reads=False) as resolvers:
        large_count, large_data = await _both_paths(api, resolvers, db, token)
    groups = large_data["groups"]["edges"]
    assert len(groups) == 4  # 2 small-world + 2 large-world groups it analyses
    assert sum(len(g["node"]["members"]["edges"]) for g in groups) == 6 + 200
    assert max(g["node"]["members"]["totalCount"] for g in groups) == 500
    summary_courses = {s["course"]["name"] for g in groups for s in g["node"]["progressSummary"]}
    assert "Rare Course" in summary_courses

    both = (COMPILED_DASHBOARD_STATEMENTS, DASHBOARD_STATEMENTS)
    assert (small_count, large_count) == (both, both)


async def test_dashboard_query_is_not_too_complex(api: Api, world: World) -> None:
    small = await bulk.build(world, students=10)
    data = await api.data(DASHBOARD, token=await world.token(small.analyst))
    assert data["groups"]["totalCount"] == 2


ABSURD = """
{ groups(first: 100) { edges { node { members(first: 100) { edges { node {
    groups { members(first: 100) { edges { node { firstName email } } } }
} } } } } } }
"""

DEEP = "{ viewer { " + "groups { analysts { " * 8 + "firstName" + " } }" * 8 + " } }"


async def test_absurd_nested_query_is_refused_before_running(
    api: Api, db: Database, world: World
) -> None:
    token = await world.token(world.owner)
    await api.data("{ viewer { id } }", token=token)
    with count_statements(db) as statements:
        body = await api.raw(ABSURD, token=token)
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "smaller `first`" in error["message"]
    # Only the token, with its viewer and roles, was read; no resolver ran.
    assert len(statements) == 1


async def test_too_deep_query_is_refused(api: Api, world: World) -> None:
    body = await api.raw(DEEP, token=await world.token(world.owner))
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "levels" in body["errors"][0]["message"]


async def test_cost_counts_page_sizes_from_variables(api: Api, world: World) -> None:
    query = """
    query($n: Int) { groups(first: $n) { edges { node { members(first: $n) { edges { node {
      groups { members(first: $n) { edges { node { firstName } } } } } } } } } } }
    """
    token = await world.token(world.owner)
    assert await api.error_code(query, {"n": 100}, token=token) == "QUERY_TOO_COMPLEX"
    assert await api.data(query, {"n": 5}, token=token) == {"groups": {"edges": []}}


async def test_fragments_are_counted(api: Api, world: World) -> None:
    query = """
    fragment M on Group { members(first: 100) { edges { node { groups { ...N } } } } }
    fragment N on Group { members(first: 100) { edges { node { firstName lastName } } } }
    { groups(first: 100) { edges { node { ...M } } } }
    """
    code = await api.error_code(query, token=await world.token(world.owner))
    assert code == "QUERY_TOO_COMPLEX"


async def test_introspection_is_not_refused(api: Api, world: World) -> None:
    query = """{ __schema { types { name fields { name type { name ofType { name ofType {
      name ofType { name ofType { name ofType { name ofType { name ofType { name } } } } } } } }
    } } } }"""
    data = await api.data(query, token=await world.token(world.owner))
    assert data["__schema"]["types"]
