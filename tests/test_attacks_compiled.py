"""Attacks on the compiled read path (`compiled`, `resolvers.compiled_reads`): every operation
here is sent to one app with the compiled path and one without, over the same database, as
every kind of viewer, and both answers must be the same (cursors compared by the position
they seal, `tests.test_compiled_reads.differences`): data, nulls, errors and their codes,
the HTTP status and the cost reported.

The stage holds what the random worlds of `tests.worlds` do not: namesakes ordered by email,
a user without a company, deactivated students and analysts, a revoked token, an expired
enrollment, a course without lessons, odd characters in names, and a member of another group
whose email an analyst must not be able to find by searching.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from strawberry.utils.str_converters import to_camel_case

from app.db import Database
from app.models import ApiToken, Course, Group, Role, User, utcnow
from app.pagination import cursor_values
from app.settings import Settings
from compiled import nodes
from compiled.parts import Guarded, column, date_time
from permissions import rules
from permissions.fields import RulePermission
from resolvers.assignments import GroupAnalystAssignmentType
from resolvers.courses import CourseType
from resolvers.groups import CourseProgressSummaryType, GroupType
from resolvers.progress import GroupProgressRowType, ProgressType
from resolvers.users import UserType
from tests.support import Api, World, api_with, gid, web_operation

# The fixture counting the operations the compiled path answered.
from tests.test_compiled_reads import compiled_answers as compiled_answers
from tests.test_compiled_reads import differences


@pytest.fixture(name="settings")
def unmetered_settings(settings: Settings) -> Settings:
    return replace(settings, cost_budget_per_minute=10**12)


@dataclass
class Stage:
    alpha: Group
    beta: Group
    gamma: Group
    course: Course
    tokens: dict[str, str | None]
    ids: dict[str, str]


async def _deactivate(world: World, *users: User) -> None:
    async with world.db.write() as session:
        await session.execute(
            sa.update(User)
            .where(sa.column("id").in_([u.id for u in users]))
            .values(deactivated_at=utcnow())
        )


@pytest.fixture
async def stage(world: World) -> Stage:
    now = utcnow()
    admin = await world.user("Adam", "Admin", Role.SITE_ADMIN)
    analyst = await world.user("Ana", "Analyst", Role.GROUP_ANALYST)
    co = await world.user("Cody", "Coanalyst", Role.GROUP_ANALYST, company="Co Inc")
    expired = await world.user("Eve", "Expired", Role.GROUP_ANALYST)
    gone_analyst = await world.user("Gil", "Gone", Role.GROUP_ANALYST)
    other = await world.user("Otto", "Other", Role.GROUP_ANALYST)
    # A co-analyst of Alpha who is no member: its email and company are hidden from Ana.
    nia = await world.user("Nia", "Nonmember", Role.GROUP_ANALYST, company="Nia Corp")
    # Namesakes: only the email (and then the id) orders them.
    zed = await world.user("Sam", "Same", email="zed.same@example.com", company="Zed Ltd")
    amy = await world.user("Sam", "Same", email="amy.same@example.com")
    odd = await world.user('Zoë "Q" \\ \u2028 🙂', "null", company='{"a": 1}')
    gone = await world.user("Dee", "Activated", company="Gone Co")
    secret = await world.user("Bea", "Beta", email="secret.only.beta@example.com")
    alpha = await world.group("Alpha", members=(zed, amy, odd, gone, co))
    beta = await world.group("Beta", members=(secret, zed))
    gamma = await world.group("Gamma", members=(amy, secret))
    await world.assign(analyst, alpha)
    await world.assign(co, alpha, expires_at=now + timedelta(days=30))
    await world.assign(expired, alpha, expires_at=now - timedelta(minutes=1))
    await world.assign(gone_analyst, alpha)
    await world.assign(other, beta)
    await world.assign(nia, alpha)
    course = await world.course("Python", 4)
    empty = await world.course("Empty", 0)
    await world.course("Hidden", 3)
    await world.enroll(zed, course, viewed=2, completed=1, expires_at=now - timedelta(days=1))
    await world.enroll(amy, course, viewed=4, completed=4, completed_at=now)
    await world.enroll(odd, empty)
    await world.enroll(secret, course, viewed=1, expires_at=now + timedelta(days=9))
    await world.enroll(gone, course, viewed=3, completed=3)
    # Course order is not id order; dates at the ends of the range and on the second.
    aardvark = await world.course("aardvark", 2)
    await world.enroll(
        odd,
        course,
        activated_at=datetime(1, 1, 2, tzinfo=UTC),
        expires_at=datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC),
    )
    await world.enroll(odd, aardvark, viewed=1, activated_at=datetime(2026, 1, 1, tzinfo=UTC))
    await world.enroll(
        amy, aardvark, viewed=2, completed=2, completed_at=datetime(2026, 2, 1, 12, tzinfo=UTC)
    )
    await world.enroll(amy, empty)
    names = {
        "admin": admin, "owner": world.owner, "analyst": analyst, "co": co,
        "expired": expired, "gone_analyst": gone_analyst, "other": other, "zed": zed,
        "secret": secret, "gone": gone,
    }  # fmt: skip
    tokens: dict[str, str | None] = {"anonymous": None}
    for name, user in names.items():
        tokens[name] = await world.token(user)
    tokens["revoked"] = await world.token(analyst)
    async with world.db.write() as session:
        await session.execute(
            sa.update(ApiToken)
            .where(sa.column("id") == sa.select(sa.func.max(sa.column("id"))).select_from(
                ApiToken).scalar_subquery())
            .values(revoked_at=now)
        )  # fmt: skip
    await _deactivate(world, gone, gone_analyst)
    ids = {"alpha": gid("Group", alpha.id), "zed": gid("User", zed.id)}
    return Stage(alpha, beta, gamma, course, tokens, ids)


@asynccontextmanager
async def two_paths(db: Database, settings: Settings) -> AsyncIterator[tuple[Api, Api]]:
    async with api_with(db, settings, compiled_reads=False) as slow, api_with(db, settings) as fast:
        yield slow, fast


async def full(api: Api, query: str, variables: dict[str, Any] | None, token: str | None) -> Any:
    """Status, body (errors included) and the cost the operation was charged."""
    response = await api.post(query, variables, token)
    body = response.json()
    cost = body.pop("extensions", {}).get("cost", {}).get("requestedQueryCost")
    return response.status_code, body, cost


async def same_on_both(
    slow: Api, fast: Api, query: str, token: str | None, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    a_status, a, a_cost = await full(slow, query, variables, token)
    b_status, b, b_cost = await full(fast, query, variables, token)
    assert differences(a, b) is None, f"{query}\n{variables}{differences(a, b)}"
    assert (a_status, a_cost) == (b_status, b_cost), query
    answer: dict[str, Any] = b
    return answer


USER = """id firstName lastName email company createdAt deactivatedAt __typename
  progress { id activatedAt completedAt expiresAt percentViewed percentCompleted status
             course { id name lessonCount } }"""
SUMMARY = """progressSummary { enrolled notStarted inProgress completed averagePercentCompleted
  completionRate course { id name lessonCount __typename } }"""
DASHBOARD = f"""query Dashboard {{
  groups(first: 5) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor node {{ id name createdAt __typename {SUMMARY}
      members(first: 10) {{ totalCount pageInfo {{ hasNextPage endCursor }}
        edges {{ cursor node {{ {USER} }} }} }} }} }} }}
  viewer {{ {USER} }}
  courses {{ totalCount edges {{ node {{ id name lessonCount }} }} }}
}}"""

# Each a compilable operation (the compiled path must answer it).
OPERATIONS = {
    "dashboard": DASHBOARD,
    # A search must never find a member by an email the viewer may not read, and no count
    # may reveal that it would have.
    "email searches": """{
      a: groups { edges { node { name
        e1: members(search: "secret.only") { totalCount edges { node { id email } } }
        e2: members(search: "amy.same") { totalCount edges { node { id email } } }
        e3: members(search: "example.com") { totalCount }
        e4: members(search: "ZED.SAME@") { totalCount edges { node { lastName } } } } } }
      b: groups(filter: {search: "et"}) { totalCount edges { node { name } } }
      c: groups(filter: {search: "secret"}) { totalCount }
    }""",
    # Aliases of one field with other arguments, the same field twice merged.
    "aliases": """{
      groups { edges { node {
        one: members(first: 1) { edges { cursor node { lastName } } pageInfo { hasNextPage } }
        three: members(first: 3) { e1: edges { node { email } } e2: edges { cursor __typename }
          p1: pageInfo { endCursor } p2: pageInfo { startCursor hasPreviousPage }
          c1: totalCount c2: totalCount __typename }
        two: members(first: 2, search: "sam") { totalCount edges { node { email } } }
        members(first: 1) { totalCount }
        members(first: 1) { edges { node { company } } }
      } } }
      first: courses(first: 1) { edges { node { name } } }
      courses(first: 2) { edges { node { name } } }
    }""",
    # Fragments on the `Node` interface, on the object, nested and repeated.
    "interface fragments": """
      query { groups { edges { node { ...N ... on Node { id } ...G } } }
              viewer { ...N ... on User { email ... on Node { __typename } } } }
      fragment N on Node { id __typename }
      fragment G on Group { name members { edges { node { ...N ...U } } } }
      fragment U on User { email createdAt ...N }
    """,
    "typename only": "{ __typename groups { __typename } viewer { __typename } }",
    # The report: rows of deactivated students, expired enrollments, a course without
    # lessons, a co-analyst who is a member; searches by an email only some may read.
    "report": """{
      groupProgress(first: 100) { totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id __typename group { id name createdAt }
          student { id firstName lastName email company createdAt deactivatedAt roles }
          course { id name lessonCount }
          progress { id activatedAt completedAt expiresAt percentViewed percentCompleted
                     status course { id } } } } }
      hidden: groupProgress(filter: {search: "secret.only"}) { totalCount edges { node {
        student { email } } } }
      done: groupProgress(filter: {status: COMPLETED}) { totalCount edges { node { id } } }
      groups { edges { node { name
        progress(first: 3) { totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { id student { lastName email } progress { status } } } }
        e1: progress(filter: {search: "secret.only"}) { totalCount }
        e2: progress(filter: {search: "ZED.SAME@"}) { totalCount edges { node {
          student { email } } } } } } }
    }""",
    # Lists nested in a report row's group and student, read from the row's own columns.
    "nested report": """{
      groupProgress(first: 3) { edges { node {
        group { name members(first: 2) { totalCount edges { node { email } } }
                progressSummary { enrolled } progress(first: 1) { totalCount } }
        student { roles progress { id status } analystAssignments { status } } } } }
      node(id: "R3JvdXA6MQ") { ... on Group { progress(first: 2) { edges { node {
        group { progress(first: 1) { edges { node { student { email } } } } } } } } } }
    }""",
}

VIEWERS = [
    "anonymous", "admin", "owner", "analyst", "co", "expired", "gone_analyst", "other", "zed",
    "secret", "gone", "revoked",
]  # fmt: skip


@pytest.mark.parametrize("name", list(OPERATIONS))
async def test_every_viewer_reads_the_same_on_both_paths(
    db: Database, settings: Settings, stage: Stage, compiled_answers: list[int], name: str
) -> None:
    async with two_paths(db, settings) as (slow, fast):
        for viewer in VIEWERS:
            before = len(compiled_answers)
            body = await same_on_both(slow, fast, OPERATIONS[name], stage.tokens[viewer])
            refused = bool(body.get("errors"))
            # The compiled path answered (unless the token itself was refused).
            assert len(compiled_answers) == before + (0 if refused else 1), (viewer, body)


async def test_an_analyst_never_finds_another_groups_member_by_email(
    db: Database, settings: Settings, stage: Stage
) -> None:
    """The attack's other side: what the analyst of Alpha gets back, on both paths."""
    async with two_paths(db, settings) as (slow, fast):
        body = await same_on_both(slow, fast, OPERATIONS["email searches"], stage.tokens["analyst"])
    group = body["data"]["a"]["edges"][0]["node"]
    assert group["name"] == "Alpha" and len(body["data"]["a"]["edges"]) == 1
    assert group["e1"] == {"totalCount": 0, "edges": []}
    assert group["e2"]["totalCount"] == 1
    assert group["e2"]["edges"][0]["node"]["email"] == "amy.same@example.com"
    assert body["data"]["c"] == {"totalCount": 0}


@pytest.mark.parametrize(
    "variables",
    [
        {"on": True, "off": False, "n": 1},
        {"on": False, "off": True, "n": 2},
        {"on": True, "off": True, "n": None},
    ],
)
async def test_directives_and_variables_decide_the_same(
    db: Database, settings: Settings, stage: Stage, compiled_answers: list[int],
    variables: dict[str, Any],
) -> None:  # fmt: skip
    query = """query Q($on: Boolean!, $off: Boolean = false, $n: Int = 3) {
      groups(first: $n) @include(if: $on) { totalCount edges { node {
        name @skip(if: $off)
        ...F @include(if: $off)
        members(first: $n) { edges { node { email @include(if: $on) email @skip(if: $on) } } }
      } } }
      viewer @skip(if: $off) { email }
    }
    fragment F on Group { createdAt m1: members(first: 1) { totalCount } }"""
    async with two_paths(db, settings) as (slow, fast):
        for viewer in ("admin", "analyst", "zed", "anonymous"):
            await same_on_both(slow, fast, query, stage.tokens[viewer], variables)
    assert compiled_answers


async def _walk(api: Api, query: str, token: str | None, key: str) -> list[Any]:
    """Every page of a list, `first: 1` at a time, following `endCursor`."""
    pages: list[Any] = []
    after: str | None = None
    for _ in range(20):
        body = await api.data(query, {"after": after}, token)
        if key == "groupProgress":
            page = body[key]
        else:
            page = body["groups"]["edges"][0]["node"][key] if key else body["groups"]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("more pages than rows")


REPORT_PAGES = """query P($after: String) { groupProgress(first: 1, after: $after) { totalCount
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { id student { lastName email } course { name } } } } }"""
GROUP_REPORT_PAGES = """query P($after: String) { groups(filter: {search: "alpha"}) { edges {
  node { progress(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id student { email } } } } } } } }"""
MEMBER_PAGES = """query P($after: String) { groups(filter: {search: "alpha"}) { edges { node {
  members(first: 1, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage
    startCursor endCursor } edges { cursor node { firstName lastName email } } } } } } }"""
GROUP_PAGES = """query P($after: String) { groups(first: 1, after: $after) { totalCount
  pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { name } } } }"""


@pytest.mark.parametrize("viewer", ["admin", "analyst", "co"])
async def test_pages_walk_the_same_rows_on_both_paths(
    db: Database, settings: Settings, stage: Stage, viewer: str
) -> None:
    token = stage.tokens[viewer]
    async with two_paths(db, settings) as (slow, fast):
        walks = [(MEMBER_PAGES, "members"), (GROUP_PAGES, ""), (GROUP_REPORT_PAGES, "progress"),
                 (REPORT_PAGES, "groupProgress")]  # fmt: skip
        for query, key in walks:
            a = await _walk(slow, query, token, key)
            b = await _walk(fast, query, token, key)
            assert differences({"p": a}, {"p": b}) is None
            # Each path's cursors continue the other's walk exactly.
            for page in a[:-1]:
                variables = {"after": page["pageInfo"]["endCursor"]}
                await same_on_both(slow, fast, query, token, variables)
    if key == "" and viewer == "admin":
        assert [p["edges"][0]["node"]["name"] for p in b] == ["Alpha", "Beta", "Gamma"]


async def _end_cursor(api: Api, query: str, token: str | None) -> str:
    body = await api.data(query, None, token)
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("endCursor"), str):
                found.append(value["endCursor"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body)
    return found[0]


async def test_cursors_of_another_viewer_or_list_answer_the_same(
    db: Database, settings: Settings, stage: Stage
) -> None:
    """A cursor of another list (courses' and groups' keys have the same arity and types),
    of another group's members, or of another viewer's order (an admin's members' keys)."""
    sources = [
        ("admin", "{ courses(first: 1) { pageInfo { endCursor } } }"),
        ("admin", "{ groups(first: 1) { pageInfo { endCursor } } }"),
        (
            "admin",
            """{ groups(filter: {search: "beta"}) { edges { node {
            members(first: 1) { pageInfo { endCursor } } } } } }""",
        ),
        (
            "analyst",
            """{ groups { edges { node { members(first: 2) { pageInfo { endCursor } }
            } } } }""",
        ),
    ]
    sources += [("admin", REPORT_PAGES), ("analyst", GROUP_REPORT_PAGES)]
    targets = [
        MEMBER_PAGES,
        GROUP_PAGES,
        REPORT_PAGES,
        GROUP_REPORT_PAGES,
        """query P($after: String) {
        courses(first: 1, after: $after) { edges { node { name } } } }""",
    ]
    async with two_paths(db, settings) as (slow, fast):
        cursors = [await _end_cursor(fast, q, stage.tokens[v]) for v, q in sources]
        cursors += [await _end_cursor(slow, q, stage.tokens[v]) for v, q in sources]
        for cursor in cursors:
            for target in targets:
                for viewer in ("admin", "analyst", "other", "zed", "anonymous"):
                    await same_on_both(slow, fast, target, stage.tokens[viewer], {"after": cursor})


BAD_ARGUMENTS = [
    "{ groups(first: 101) { totalCount } }",
    "{ groups(first: 0) { edges { cursor } } }",
    "{ groups(first: -1) { totalCount } }",
    "{ groups(first: 2147483647) { totalCount } }",
    '{ groups(after: "nope") { totalCount } }',
    '{ groups(after: "") { totalCount pageInfo { hasPreviousPage } } }',
    '{ courses(after: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") { totalCount } }',
    "{ groups { edges { node { members(first: 101) { totalCount } } } } }",
    "{ groups { edges { node { members(first: -5) { totalCount } } } } }",
    '{ groups { edges { node { members(after: "x") { totalCount } } } } }',
    '{ groups { edges { node { name members(search: "' + "x" * 5000 + '") { totalCount } } } } }',
    '{ groups(filter: {search: "' + "y" * 5000 + '"}) { totalCount } }',
    '{ groups { edges { node { members(search: "\\u0000") { totalCount } } } } }',
    '{ groups { edges { node { members(search: "\\ud800") { totalCount } } } } }',
    "{ groups { edges { node { members(first: 1.5) { totalCount } } } } }",
    "{ groups { edges { node { nope } } } }",
    "{ groupProgress(first: 101) { totalCount } }",
    '{ groupProgress(after: "nope") { totalCount } }',
    '{ groupProgress(filter: {groupIds: ["nope"]}) { totalCount } }',
    '{ groupProgress(filter: {courseIds: ["%(zed)s"]}) { totalCount } }',
    '{ groupProgress(filter: {search: "\\u0000"}) { totalCount } }',
    '{ groupProgress(filter: {search: "' + "z" * 5000 + '"}) { totalCount } }',
    '{ groupProgress(filter: {activatedAfter: "2020-01-01T00:00:00"}) { totalCount } }',
    '{ groupProgress(filter: {completedBefore: "0001-01-01T00:00:00-01:00"}) { totalCount } }',
    "{ groupProgress(filter: {status: DONE}) { totalCount } }",
    '{ groups { edges { node { progress(filter: {groupIds: ["%(zed)s"]}) { totalCount } } } } }',
    "{ groups { edges { node { progress(first: 0) { edges { cursor } } } } } }",
    '{ node(id: "nope") { ... on Group { progress { totalCount } } } }',
    '{ node(id: "%(alpha)s\\u0000") { ... on Group { name } } }',
    "{ groups { edges { node { members { edges { node { progress(first: 1) { id } } } } } } } }",
]


@pytest.mark.parametrize("query", BAD_ARGUMENTS)
async def test_bad_arguments_answer_the_same_errors(
    db: Database, settings: Settings, stage: Stage, query: str
) -> None:
    query = query % stage.ids
    async with two_paths(db, settings) as (slow, fast):
        for viewer in ("admin", "analyst", "expired", "zed", "anonymous"):
            await same_on_both(slow, fast, query, stage.tokens[viewer])


# Operations outside the compilable set, or mixing it with other fields: Strawberry answers.
MIXED = [
    'query { node(id: "%(zed)s") { id ... on User { email } } groups { totalCount } }',
    "query { groups { edges { node { id analysts { email } } } } }",
    "query { viewer { email groups { name } roles } }",
    "query { __schema { queryType { name } } groups { totalCount } }",
    'query { __type(name: "User") { name } viewer { id } }',
    "query { users { totalCount edges { node { email } } } groups { totalCount } }",
    """query A { groups { totalCount } }
       mutation B { revokeApiToken(id: "x") { __typename } }""",
]


@pytest.mark.parametrize("query", MIXED)
async def test_operations_outside_the_set_answer_the_same(
    db: Database, settings: Settings, stage: Stage, query: str
) -> None:
    query = query % stage.ids
    async with two_paths(db, settings) as (slow, fast):
        for viewer in ("admin", "analyst", "co", "zed", "anonymous"):
            await same_on_both(slow, fast, query, stage.tokens[viewer])
            body = json.dumps({"query": query, "operationName": "A"})
            for api in (slow, fast):
                headers = {"Content-Type": "application/json"}
                token = stage.tokens[viewer]
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                await api.client.post("/graphql", content=body, headers=headers)


async def test_cost_limit_and_budget_refuse_the_same(
    db: Database, settings: Settings, stage: Stage
) -> None:
    """Over the cost limit, and over the token's budget: the same refusal on both paths."""
    heavy = """{ groups(first: 100) { edges { node { members(first: 100) { edges { node {
      progress { id course { name } } } } } } } } }"""
    token = stage.tokens["admin"]
    for limited in (
        replace(settings, max_query_cost=50),
        replace(settings, cost_budget_per_minute=60),
    ):
        async with two_paths(db, limited) as (slow, fast):
            await same_on_both(slow, fast, heavy, token)
            await same_on_both(slow, fast, "{ courses(first: 1) { totalCount } }", token)


def _compiled_tables() -> dict[str, dict[str, Any]]:
    """Every table of compilable fields in `compiled.nodes`, by its name there."""
    return {
        name: table
        for name, table in vars(nodes).items()
        if name.isupper() and isinstance(table, dict) and table
        and all(isinstance(k, str) and callable(v) for k, v in table.items())
    }  # fmt: skip


TYPES_OF_TABLES = {
    "USER": UserType,
    "PROGRESS": ProgressType,
    "GROUP": GroupType,
    "COURSE": CourseType,
    "SUMMARY": CourseProgressSummaryType,
    "REPORT_ROW": GroupProgressRowType,
    "ASSIGNMENT": GroupAnalystAssignmentType,
}


def _field_guards(strawberry_type: type) -> dict[str, list[Any]]:
    """Per GraphQL field name, whatever the schema runs around its value: extensions (field
    permissions among them) and permission classes."""
    definition = strawberry_type.__strawberry_definition__  # type: ignore[attr-defined]
    found: dict[str, list[Any]] = {}
    for field in definition.fields:
        guards = [*field.extensions, *field.permission_classes]
        found[field.graphql_name or to_camel_case(field.python_name)] = guards
    return found


def test_no_compiled_field_skips_a_guard_of_the_schema() -> None:
    """Every table the compiler reads fields from is checked against its Strawberry type (a
    new table must be listed here), and a compiled field whose Strawberry field has any
    permission or extension is compiled guarded (`Guarded`) by that field's own rule: were a course
    name or a summary figure guarded one day, the compiled path could not keep answering it
    unguarded."""
    tables = _compiled_tables()
    assert set(tables) == set(TYPES_OF_TABLES)
    for name, table in tables.items():
        guards = _field_guards(TYPES_OF_TABLES[name])
        for field, builder in table.items():
            assert field in guards, f"{name}.{field} is not a field of the schema"
            rules_of_field = [
                permission.rule
                for extension in guards[field]
                for permission in getattr(extension, "permissions", ())
                if isinstance(permission, RulePermission)
            ]
            # `Guarded`, and any other guarded builder, carries its rule.
            rule = getattr(builder, "rule", None)
            if rule is not None:
                assert rules_of_field == [rule], f"{name}.{field}"
                assert len(guards[field]) == 1, f"{name}.{field}: {guards[field]}"
            else:
                assert guards[field] == [], f"{name}.{field} is guarded: {guards[field]}"


@pytest.mark.parametrize(
    "builder",
    [column("created_at", date_time), Guarded(rules.CONTACT, "id", "created_at", date_time)],
    ids=["unguarded", "another rule"],
)
async def test_a_field_compiled_without_the_schemas_rule_is_left_to_strawberry(
    db: Database, settings: Settings, stage: Stage, compiled_answers: list[int],
    monkeypatch: pytest.MonkeyPatch, builder: Any,
) -> None:  # fmt: skip
    """Were `User.createdAt` (PRIVATE: admins and the user itself) compiled without its rule
    or with another one, the compiler reads the schema's rule at run time and leaves the
    operation to Strawberry: an analyst still reads null for its students' createdAt."""
    monkeypatch.setitem(nodes.USER, "createdAt", builder)
    query = "{ groups { edges { node { members { edges { node { email createdAt } } } } } } }"
    async with two_paths(db, settings) as (slow, fast):
        body = await same_on_both(slow, fast, query, stage.tokens["analyst"])
        assert compiled_answers == []
        await same_on_both(slow, fast, "{ groups { edges { node { members { totalCount } } } } }",
                           stage.tokens["analyst"])  # fmt: skip
        assert compiled_answers == [1]
    members = body["data"]["groups"]["edges"][0]["node"]["members"]["edges"]
    assert members and all(m["node"]["createdAt"] is None for m in members)
    assert all(m["node"]["email"] for m in members)


USER_SEARCHES = """{
  byEmail: users(filter: {search: "nia.nonmember"}) { totalCount edges { node { id } } }
  byDomain: users(filter: {search: "nonmember."}) { totalCount }
  byName: users(filter: {search: "Nonmember"}) { totalCount edges { cursor node {
    lastName email company createdAt } } }
  analysts: users(filter: {role: GROUP_ANALYST}) { totalCount }
  everyone: users(first: 100) { totalCount edges { cursor node { lastName email } } }
}"""


async def test_the_users_list_never_matches_a_hidden_email(
    db: Database, settings: Settings, stage: Stage
) -> None:
    """Ana sees Nia (both analyse Alpha; Nia is no member) but not her email: searching for
    it finds nothing and counts nothing; an admin finds her by it. The same on both paths
    (compiled or not)."""
    async with two_paths(db, settings) as (slow, fast):
        for viewer in VIEWERS:
            await same_on_both(slow, fast, USER_SEARCHES, stage.tokens[viewer])
        ana = (await same_on_both(slow, fast, USER_SEARCHES, stage.tokens["analyst"]))["data"]
        admin = (await same_on_both(slow, fast, USER_SEARCHES, stage.tokens["admin"]))["data"]
    assert ana["byEmail"] == {"totalCount": 0, "edges": []}
    assert ana["byDomain"] == {"totalCount": 0}
    assert ana["byName"]["totalCount"] == 1
    node = ana["byName"]["edges"][0]["node"]
    assert node == {"lastName": "Nonmember", "email": None, "company": None, "createdAt": None}
    # Nor does the cursor on her row seal her email (an admin's does).
    sealed = cursor_values(ana["byName"]["edges"][0]["cursor"])
    assert sealed is not None and sealed[:3] == ["Nonmember", "Nia", ""]
    sealed = cursor_values(admin["byName"]["edges"][0]["cursor"])
    assert sealed is not None and "nia.nonmember" in str(sealed[2])
    assert admin["byEmail"]["totalCount"] == 1 and admin["byDomain"] == {"totalCount": 1}
    assert admin["byName"]["edges"][0]["node"]["company"] == "Nia Corp"


@pytest.mark.parametrize(
    "variables",
    [
        {"first": 25},
        {"first": 1},
        {"first": 25, "filter": {"search": "secret.only"}},
        {"first": 25, "filter": {"search": "same", "status": "IN_PROGRESS"}},
        {"first": 25, "filter": {"completedAfter": "2026-01-01T00:00:00Z"}},
    ],
)
async def test_the_web_apps_group_page_compiles_and_reads_the_same(
    db: Database, settings: Settings, stage: Stage, compiled_answers: list[int],
    variables: dict[str, Any],
) -> None:  # fmt: skip
    """The Group page's own query, for every group and viewer: the compiled path answers it
    (a group out of sight is null, as the resolver answers), and what it answers is the
    resolvers' answer; its next page too."""
    query = web_operation("GroupQuery")
    groups = [gid("Group", g.id) for g in (stage.alpha, stage.beta, stage.gamma)]
    async with two_paths(db, settings) as (slow, fast):
        for viewer in VIEWERS:
            for group in groups:
                before = len(compiled_answers)
                asked = {**variables, "id": group}
                body = await same_on_both(slow, fast, query, stage.tokens[viewer], asked)
                refused = bool(body.get("errors"))
                assert len(compiled_answers) == before + (0 if refused else 1), (viewer, body)
                node = (body.get("data") or {}).get("node")
                if node and node["progress"]["pageInfo"]["hasNextPage"]:
                    asked["after"] = node["progress"]["pageInfo"]["endCursor"]
                    await same_on_both(slow, fast, query, stage.tokens[viewer], asked)
        ana = await fast.data(query, {**variables, "id": groups[1]}, stage.tokens["analyst"])
        assert ana["node"] is None  # Beta is not Ana's
        if variables.get("filter", {}).get("search") == "secret.only":
            # Bea's email is Ana's to read nowhere: searching Alpha for it finds nothing; Bea's
            # own group's analyst finds her by it.
            ana = await fast.data(query, {**variables, "id": groups[0]}, stage.tokens["analyst"])
            assert ana["node"]["progress"]["totalCount"] == 0
            otto = await fast.data(query, {**variables, "id": groups[1]}, stage.tokens["other"])
            rows = otto["node"]["progress"]["edges"]
            assert [r["node"]["student"]["email"] for r in rows] == ["secret.only.beta@example.com"]


async def test_the_report_hides_what_the_viewer_may_not_read(
    db: Database, settings: Settings, stage: Stage
) -> None:
    """The other side of the report's attacks: an analyst of Alpha reads Alpha's rows only,
    never a row of Beta or Gamma, and never finds Bea by her email; the expired analyst and
    a student read no rows; an admin reads every row (the same on both paths)."""
    report = OPERATIONS["report"]
    async with two_paths(db, settings) as (slow, fast):
        seen = {
            viewer: (await same_on_both(slow, fast, report, stage.tokens[viewer]))["data"]
            for viewer in ("analyst", "expired", "zed", "admin")
        }
    rows = seen["analyst"]["groupProgress"]["edges"]
    assert rows and {r["node"]["group"]["name"] for r in rows} == {"Alpha"}
    assert seen["analyst"]["hidden"] == {"totalCount": 0, "edges": []}
    names = [g["node"]["name"] for g in seen["analyst"]["groups"]["edges"]]
    assert names == ["Alpha"]
    for viewer in ("expired", "zed"):
        assert seen[viewer]["groupProgress"] == {
            "totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []
        }  # fmt: skip
    admin = seen["admin"]
    assert {r["node"]["group"]["name"] for r in admin["groupProgress"]["edges"]} == {
        "Alpha", "Beta", "Gamma"
    }  # fmt: skip
    assert admin["hidden"]["totalCount"] == 2  # Bea in Beta and in Gamma


async def test_the_web_apps_home_page_compiles_and_reads_the_same(
    db: Database, settings: Settings, stage: Stage, compiled_answers: list[int]
) -> None:
    """The Home page's own query (the viewer's assignments, expired ones with a null group
    for the analyst, and the groups with their summaries), for every viewer."""
    query = web_operation("HomeQuery")
    async with two_paths(db, settings) as (slow, fast):
        for viewer in VIEWERS:
            before = len(compiled_answers)
            body = await same_on_both(slow, fast, query, stage.tokens[viewer], {"after": None})
            refused = bool(body.get("errors"))
            assert len(compiled_answers) == before + (0 if refused else 1), (viewer, body)
        eve = await fast.data(query, {"after": None}, stage.tokens["expired"])
    (assignment,) = eve["viewer"]["analystAssignments"]
    assert assignment["status"] == "EXPIRED" and assignment["group"] is None
    assert eve["groups"]["totalCount"] == 0
