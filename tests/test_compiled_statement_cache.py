"""Compiled queries kept across requests (`compiled.statements`): a kept query answers every
later request exactly as building it again would, at that request's `now`, and only for a
viewer with the same scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from app.models import Role, utcnow
from app.settings import Settings
from compiled import run
from compiled.statements import MAX_KEY_LENGTH, StatementCache, cache_key
from permissions import policy
from tests.support import World, api_with, gid

DASHBOARD = """
{ groups { edges { node { name members(first: 10) { edges { node { email } } } } } } }
"""


@pytest.fixture(name="settings")
def unmetered_settings(settings: Settings) -> Settings:
    return replace(settings, cost_budget_per_minute=10**12)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the queries the compiled path built (a kept one is not built again)."""
    built: list[int] = []
    compile_query: Callable[..., run.Query] = run.compile_query

    def counting(*args: Any) -> run.Query:
        built.append(1)
        return compile_query(*args)

    monkeypatch.setattr(run, "compile_query", counting)
    return built


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The `now` of every request's scope, set by the test."""
    moments = [utcnow()]
    monkeypatch.setattr(policy, "utcnow", lambda: moments[0])
    return moments


def names(data: dict[str, Any], root: str, field: str) -> list[str]:
    return [edge["node"][field] for edge in data[root]["edges"]]


async def test_a_kept_query_reads_assignments_at_each_requests_now(
    world: World, settings: Settings, builds: list[int], clock: list[datetime]
) -> None:
    # The admin's scope does not change with time, so the second request reuses the query
    # built by the first: only the named `now` it runs at can tell the assignment expired.
    admin = await world.user("Adam", "Admin", Role.SITE_ADMIN)
    lasting = await world.user("Lou", "Lasting", Role.GROUP_ANALYST)
    ending = await world.user("Eve", "Ending", Role.GROUP_ANALYST)
    group = await world.group("Alpha")
    expiry = utcnow() + timedelta(days=1)
    await world.assign(lasting, group)
    await world.assign(ending, group, expires_at=expiry)
    token = await world.token(admin)
    query = """query Analysts($group: ID!) {
      users(filter: {groupAnalystFor: $group}) { edges { node { lastName } } }
    }"""
    variables = {"group": gid("Group", group.id)}
    async with (
        api_with(world.db, settings) as api,
        api_with(world.db, settings, compiled_reads=False) as resolvers,
    ):
        clock[0] = expiry - timedelta(hours=1)
        assert names(await api.data(query, variables, token=token), "users", "lastName") == [
            "Ending",
            "Lasting",
        ]
        clock[0] = expiry + timedelta(seconds=1)
        after = await api.data(query, variables, token=token)
        assert names(after, "users", "lastName") == ["Lasting"]
        assert after == await resolvers.data(query, variables, token=token)
    assert len(builds) == 1


async def test_a_kept_query_tells_an_assignments_status_at_each_requests_now(
    world: World, settings: Settings, builds: list[int], clock: list[datetime]
) -> None:
    # `GroupAnalystAssignment.status` compares the expiry with the request's `now`: built at
    # one time and kept, the query still answers EXPIRED once the expiry has passed.
    admin = await world.user("Adam", "Admin", Role.SITE_ADMIN)
    ending = await world.user("Eve", "Ending", Role.GROUP_ANALYST)
    group = await world.group("Alpha")
    expiry = utcnow() + timedelta(days=1)
    await world.assign(ending, group, expires_at=expiry)
    token = await world.token(admin)
    query = """query Assignments($after: String) {
      users(first: 5, after: $after, filter: {role: GROUP_ANALYST}) { edges { node {
        lastName analystAssignments { status group { name } } } } }
    }"""
    async with (
        api_with(world.db, settings) as api,
        api_with(world.db, settings, compiled_reads=False) as resolvers,
    ):
        statuses = []
        for moment in (expiry - timedelta(hours=1), expiry + timedelta(seconds=1)):
            clock[0] = moment
            data = await api.data(query, token=token)
            assert data == await resolvers.data(query, token=token)
            (node,) = (edge["node"] for edge in data["users"]["edges"])
            statuses.append(node["analystAssignments"])
    assert statuses == [
        [{"status": "ACTIVE", "group": {"name": "Alpha"}}],
        [{"status": "EXPIRED", "group": {"name": "Alpha"}}],
    ]
    assert len(builds) == 1


async def test_a_kept_query_never_answers_another_viewer(
    world: World, settings: Settings, builds: list[int]
) -> None:
    ana = await world.user("Ana", "Analyst", Role.GROUP_ANALYST)
    bob = await world.user("Bob", "Analyst", Role.GROUP_ANALYST)
    alice = await world.user("Alice", "Student", email="alice@example.com")
    bea = await world.user("Bea", "Student", email="bea@example.com")
    alpha = await world.group("Alpha", members=(alice,))
    beta = await world.group("Beta", members=(bea,))
    await world.assign(ana, alpha)
    await world.assign(bob, beta)
    ana_token, bob_token = await world.token(ana), await world.token(bob)
    student_token = await world.token(alice)

    def seen(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
        return [
            (node["name"], names(node, "members", "email"))
            for node in (edge["node"] for edge in data["groups"]["edges"])
        ]

    async with api_with(world.db, settings) as api:
        for _ in range(2):
            assert seen(await api.data(DASHBOARD, token=ana_token)) == [
                ("Alpha", ["alice@example.com"])
            ]
            assert seen(await api.data(DASHBOARD, token=bob_token)) == [
                ("Beta", ["bea@example.com"])
            ]
            assert seen(await api.data(DASHBOARD, token=student_token)) == []
            assert seen(await api.data(DASHBOARD)) == []
    # Built once per viewer scope (anonymous included), then kept.
    assert len(builds) == 4


async def test_a_new_assignment_is_seen_by_the_next_request(
    world: World, settings: Settings, builds: list[int]
) -> None:
    # A changed scope is another key: the query kept for the old scope is not used.
    ana = await world.user("Ana", "Analyst", Role.GROUP_ANALYST)
    alice = await world.user("Alice", "Student", email="alice@example.com")
    alpha = await world.group("Alpha", members=(alice,))
    beta = await world.group("Beta")
    await world.assign(ana, alpha)
    token = await world.token(ana)
    async with api_with(world.db, settings) as api:
        first = await api.data(DASHBOARD, token=token)
        await world.assign(ana, beta)
        second = await api.data(DASHBOARD, token=token)
    assert [e["node"]["name"] for e in first["groups"]["edges"]] == ["Alpha"]
    assert [e["node"]["name"] for e in second["groups"]["edges"]] == ["Alpha", "Beta"]
    assert len(builds) == 2


def test_the_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    scope = policy.AccessScope(viewer_id=1, roles=frozenset({Role.SITE_ADMIN}), now=utcnow())
    cache = StatementCache(budget=10)
    keys = [cache_key("sqlite", scope, f"{{ q{i} }}", None, {}) for i in range(4)]
    assert all(keys)
    first, second, third, huge = (k for k in keys if k is not None)
    queries = [run.Query((), weight=4) for _ in range(3)]
    cache.put(first, queries[0])
    cache.put(second, queries[1])
    assert cache.get(first) is queries[0]
    cache.put(third, queries[2])  # 12 fields > 10: the least recently used goes
    assert (len(cache), cache.weight) == (2, 8)
    assert cache.get(second) is None
    assert cache.get(first) is queries[0]
    assert cache.get(third) is queries[2]
    cache.put(huge, run.Query((), weight=11))  # heavier than the whole budget: not kept
    assert cache.get(huge) is None
    assert (len(cache), cache.weight) == (2, 8)


def test_the_cache_holds_a_bounded_number_of_queries_however_light() -> None:
    scope = policy.AccessScope(viewer_id=1, roles=frozenset({Role.SITE_ADMIN}), now=utcnow())
    cache = StatementCache(budget=1000, size=3)
    for i in range(10):
        key = cache_key("sqlite", scope, f"{{ q{i} }}", None, {})
        assert key is not None
        cache.put(key, run.Query((), weight=1))
    assert (len(cache), cache.weight) == (3, 3)


def test_long_operations_and_odd_variables_are_not_kept() -> None:
    scope = policy.AccessScope(viewer_id=None, roles=frozenset(), now=utcnow())
    assert (
        cache_key("sqlite", scope, "{ viewer { id } }", None, {"a": "x" * MAX_KEY_LENGTH}) is None
    )
    assert cache_key("sqlite", scope, "{" + " " * MAX_KEY_LENGTH + "}", None, None) is None
    assert cache_key("sqlite", scope, "{ viewer { id } }", None, {"a": object()}) is None


def test_a_key_holds_no_requests_learnt_members() -> None:
    scope = policy.AccessScope(
        viewer_id=2,
        roles=frozenset({Role.GROUP_ANALYST}),
        now=utcnow(),
        analysed_group_ids=frozenset({1}),
    )
    scope.members.learn([7, 8], others=[9])
    key = cache_key("sqlite", scope, "{ viewer { id } }", None, {})
    assert key is not None
    assert key[1].members.unknown([7, 8, 9]) == [7, 8, 9]
    assert scope.members.unknown([7, 8, 9]) == []


def test_keys_differ_by_viewer_scope_not_by_time() -> None:
    now = utcnow()
    ana = policy.AccessScope(
        viewer_id=2,
        roles=frozenset({Role.GROUP_ANALYST}),
        now=now,
        analysed_group_ids=frozenset({1}),
    )
    later = replace(ana, now=now + timedelta(hours=1))
    other_groups = replace(ana, analysed_group_ids=frozenset({1, 2}))
    key = cache_key("sqlite", ana, "{ viewer { id } }", None, {})
    assert key == cache_key("sqlite", later, "{ viewer { id } }", None, {})
    assert key != cache_key("sqlite", other_groups, "{ viewer { id } }", None, {})
    assert key != cache_key("postgresql", ana, "{ viewer { id } }", None, {})
    assert key != cache_key("sqlite", ana, "{ viewer { id } }", None, {"x": 1})
