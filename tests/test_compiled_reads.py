"""The compiled read path (`compiled`, `resolvers.compiled_reads`) answers exactly what the
resolvers answer: same JSON, same key order, same nulls, cursors that decode to the same
positions, the same errors.

Hypothesis draws operations over the compilable set (aliases, fragments, @skip/@include,
variables, hostile arguments), random worlds and random viewers (anonymous, students,
analysts with assignments in force and expired, co-analysts, admins, the owner; see
`tests.worlds`), and each operation is sent to one app with the compiled path and one without,
over the same database (SQLite, and PostgreSQL under `make test`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry.utils.str_converters import to_camel_case

from app.db import Database
from app.ids import to_global_id
from app.settings import Settings
from compiled import nodes, run
from compiled.parts import Guarded, GuardedList
from permissions.fields import RulePermission
from resolvers.assignments import GroupAnalystAssignmentType
from resolvers.groups import GroupType
from resolvers.progress import GroupProgressRowType, ProgressType
from resolvers.users import UserType
from tests.attack_scene import Scene
from tests.support import Api, api_with, fullwidth, sealed_as_plain
from tests.worlds import Spec, build, specs


@pytest.fixture(name="settings")
def unmetered_settings(settings: Settings) -> Settings:
    """Hundreds of broad queries a minute on one token: no per-token budget here."""
    return replace(settings, cost_budget_per_minute=10**12)


@pytest.fixture
def compiled_answers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the operations the compiled path answered (so a test can tell it ran)."""
    answered: list[int] = []
    execute: Callable[..., Awaitable[dict[str, Any]]] = run.execute

    async def counting(*args: Any) -> dict[str, Any]:
        data = await execute(*args)
        answered.append(1)
        return data

    monkeypatch.setattr(run, "execute", counting)
    return answered


def differences(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """None when both answers are the same (cursors compared by position), else both."""
    if json.dumps(sealed_as_plain(a)) == json.dumps(sealed_as_plain(b)):
        return None
    return f"\nresolvers: {json.dumps(a)}\ncompiled:  {json.dumps(b)}"


# -- the operations ----------------------------------------------------------------------

FIRSTS = st.sampled_from([None, 1, 2, 3, 100])
HOSTILE_FIRSTS = st.sampled_from([0, -1, 101, 2**31 - 1])
PLAIN_SEARCHES = [None, "", "  ", "1", "l2", "F", "user1@", "example", "%", "_", "\\", "é", "g"]
SEARCHES = st.sampled_from([*PLAIN_SEARCHES, "G0", fullwidth("li")])
USER_FILTERS = st.sampled_from(
    [
        None,
        "{}",
        "{role: GROUP_ANALYST}",
        '{role: SITE_OWNER, search: "1"}',
        '{search: "user"}',
        *(f'{{groupAnalystFor: "{to_global_id("Group", pk)}"}}' for pk in (1, 2, 3)),
    ]
)
HOSTILE_USER_FILTERS = st.sampled_from(
    [f'{{groupAnalystFor: "{to_global_id("User", 1)}"}}', '{groupAnalystFor: "nope"}']
)
HOSTILE_SEARCHES = st.sampled_from(["\x00", "\ud800", "x" * 5000, "a\u202eb"])
PROGRESS_FILTERS = st.sampled_from(
    [
        None,
        "{}",
        "{status: COMPLETED}",
        "{status: NOT_STARTED}",
        "{status: IN_PROGRESS}",
        '{search: "user1"}',
        '{search: "@example"}',
        '{search: "l"}',
        '{activatedAfter: "2000-01-01T00:00:00Z", activatedBefore: "2100-01-01T00:00:00Z"}',
        '{completedAfter: "2000-01-01T02:00:00+02:00"}',
        '{completedBefore: "2000-01-01T00:00:00Z"}',
        *(f'{{groupIds: ["{to_global_id("Group", pk)}"]}}' for pk in (1, 2, 3)),
        f'{{courseIds: ["{to_global_id("Course", 1)}"], status: IN_PROGRESS}}',
        f'{{groupIds: [], courseIds: ["{to_global_id("Course", 2)}"]}}',
    ]
)
HOSTILE_PROGRESS_FILTERS = st.sampled_from(
    [
        f'{{groupIds: ["{to_global_id("User", 1)}"]}}',
        '{groupIds: ["nope"]}',
        '{courseIds: ["\\u0000"]}',
        '{search: "\\u0000"}',
        '{search: "' + "x" * 5000 + '"}',
        '{activatedAfter: "0001-01-01T00:00:00-01:00"}',
        '{completedBefore: "9999-12-31T23:59:59-14:00"}',
        '{activatedBefore: "2020-01-01T00:00:00"}',
    ]
)


def _alias(draw: st.DrawFn, name: str) -> str:
    return draw(st.sampled_from(["", "", f"{name}A: "])) + name


def _directive(draw: st.DrawFn) -> str:
    return draw(
        st.sampled_from(
            ["", "", "", " @skip(if: true)", " @include(if: false)", " @include(if: $on)",
             " @skip(if: $on)", " @include(if: true)"]
        )
    )  # fmt: skip


def _pick(draw: st.DrawFn, options: list[str]) -> list[str]:
    return draw(st.lists(st.sampled_from(options), min_size=1, max_size=len(options), unique=True))


def _selection(draw: st.DrawFn, options: list[str]) -> str:
    return " ".join(f"{_alias(draw, o)}{_directive(draw)}" if " " not in o and "(" not in o
                    else o for o in _pick(draw, options))  # fmt: skip


def _args(draw: st.DrawFn, hostile: bool, **extra: str) -> str:
    first = draw(HOSTILE_FIRSTS if hostile and draw(st.booleans()) else FIRSTS)
    args = [] if first is None else [f"first: {first}"]
    args += [f"{k}: {v}" for k, v in extra.items()]
    return f"({', '.join(args)})" if args else ""


def _connection(draw: st.DrawFn, node: str, args: str, name: str) -> str:
    parts = _pick(draw, ["totalCount", "__typename", "pageInfo", "edges"])
    body = []
    for part in parts:
        if part == "pageInfo":
            body.append(
                "pageInfo { "
                + _selection(
                    draw,
                    ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"],
                )
                + " }"
            )
        elif part == "edges":
            inner = _pick(draw, ["cursor", "node", "__typename"])
            body.append(
                "edges { "
                + " ".join(f"node {{ {node} }}" if p == "node" else p for p in inner)
                + " }"
            )
        else:
            body.append(part)
    return f"{_alias(draw, name)}{args} {{ {' '.join(body)} }}"  # fmt: skip


def _progress(draw: st.DrawFn) -> str:
    course = "course { " + _selection(draw, ["id", "name", "lessonCount", "__typename"]) + " }"
    return "progress { " + _selection(draw, [
        "id", "activatedAt", "completedAt", "expiresAt", "percentViewed", "percentCompleted",
        "status", "__typename", course]) + " }"  # fmt: skip


def _user(draw: st.DrawFn) -> str:
    options = ["id", "firstName", "lastName", "email", "company", "createdAt", "deactivatedAt",
               "roles", "__typename"]  # fmt: skip
    if draw(st.booleans()):
        options.append(_progress(draw))
    if draw(st.integers(0, 3)) == 0:
        group = "group { " + _selection(draw, ["id", "name", "__typename"]) + " }"
        options.append("analystAssignments { " + _selection(draw, [
            "id", "assignedAt", "expiresAt", "status", "__typename", group]) + " }")  # fmt: skip
    return _selection(draw, options)


def _report_row(draw: st.DrawFn) -> str:
    course = "course { " + _selection(draw, ["id", "name", "lessonCount", "__typename"]) + " }"
    group = "group { " + _selection(draw, ["id", "name", "createdAt", "__typename"]) + " }"
    options = ["id", "__typename", course, group, "student { " + _user(draw) + " }"]
    if draw(st.booleans()):
        options.append(_progress(draw))
    return _selection(draw, options)


def _report(draw: st.DrawFn, hostile: bool, name: str, after: bool = False) -> str:
    """A `groupProgress` or `Group.progress` connection, with its filter."""
    flt = draw(HOSTILE_PROGRESS_FILTERS if hostile and draw(st.booleans()) else PROGRESS_FILTERS)
    extra = {} if flt is None else {"filter": flt}
    if after:
        extra["after"] = "$reportAfter"
    return _connection(draw, _report_row(draw), _args(draw, hostile, **extra), name)


def _group(draw: st.DrawFn, hostile: bool) -> str:
    options = ["id", "name", "createdAt", "__typename"]
    if draw(st.integers(0, 3)) == 0:
        options.append(_report(draw, hostile, "progress"))
    if draw(st.booleans()):
        search = draw(HOSTILE_SEARCHES if hostile and draw(st.booleans()) else SEARCHES)
        extra = {} if search is None else {"search": json.dumps(search)}
        options.append(_connection(draw, _user(draw), _args(draw, hostile, **extra), "members"))
    if draw(st.booleans()):
        course = "course { " + _selection(draw, ["id", "name", "lessonCount"]) + " }"
        options.append("progressSummary { " + _selection(draw, [
            "enrolled", "notStarted", "inProgress", "completed", "averagePercentCompleted",
            "completionRate", "__typename", course]) + " }")  # fmt: skip
    fields = _selection(draw, options)
    wrap = draw(st.sampled_from(["plain", "inline", "fragment"]))
    if wrap == "inline":
        return f"... on Group {{ {fields} }} __typename"
    if wrap == "fragment":
        return "...G"
    return fields


@st.composite
def operations(draw: st.DrawFn, hostile: bool = False) -> tuple[str, str]:
    """An operation over the compilable set, and the fragment it may use."""
    group = _group(draw, hostile)
    fragment = "fragment G on Group { " + _group(draw, hostile).replace("...G", "id") + " }"
    roots = []
    roots_drawn = ["groups", "viewer", "users", "courses", "groupProgress", "node", "__typename"]
    for root in _pick(draw, roots_drawn):
        if root == "groupProgress":
            roots.append(_report(draw, hostile, "groupProgress", after=True))
        elif root == "node":
            pk = to_global_id("Group", draw(st.integers(1, 4)))
            roots.append(f'{_alias(draw, "node")}(id: "{pk}") {{ ... on Group {{ {group} }} }}')
        elif root == "groups":
            search = draw(SEARCHES)
            extra = {"after": "$after"}
            if search is not None:
                extra["filter"] = "{search: " + json.dumps(search) + "}"
            roots.append(_connection(draw, group, _args(draw, hostile, **extra), "groups"))
        elif root == "viewer":
            roots.append(f"{_alias(draw, 'viewer')} {{ {_user(draw)} }}")
        elif root == "users":
            flt = draw(HOSTILE_USER_FILTERS if hostile and draw(st.booleans()) else USER_FILTERS)
            extra = {} if flt is None else {"filter": flt}
            roots.append(_connection(draw, _user(draw), _args(draw, hostile, **extra), "users"))
        elif root == "courses":
            node = _selection(draw, ["id", "name", "lessonCount", "__typename"])
            roots.append(_connection(draw, node, _args(draw, hostile), "courses"))
        else:
            roots.append("__typename")
    body = " ".join(roots)
    if "...G" in body:
        body += f" }}\n{fragment}"
    else:
        body += " }"
    declared = [d for d, v in (("$after: String", "$after"), ("$on: Boolean = true", "$on"),
                               ("$reportAfter: String", "$reportAfter")) if v in body]  # fmt: skip
    head = f"query Q({', '.join(declared)}) {{ " if declared else "query Q { "
    return head + body, fragment


def _end_cursors(data: Any) -> dict[str, str]:
    """The `endCursor`s of the top-level `groups` and `groupProgress` pages, when the operation
    asked for them, as the variables that ask for their next pages."""
    found: dict[str, str] = {}
    for key, value in (data or {}).items():
        variable = "reportAfter" if key.startswith("groupProgress") else "after"
        if isinstance(value, dict) and key.startswith("group"):
            for item in value.values():
                if isinstance(item, dict) and isinstance(item.get("endCursor"), str):
                    found[variable] = str(item["endCursor"])
    return found


async def answers(
    slow: Api, fast: Api, query: str, token: str | None, after: str | None,
    report_after: str | None = None,
) -> Any:  # fmt: skip
    variables = {"after": after, "reportAfter": report_after}
    a = await slow.raw(query, variables, token)
    b = await fast.raw(query, variables, token)
    assert differences(a, b) is None, differences(a, b)
    return b


EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@EXAMPLES
@given(spec=specs(), operation=operations())
async def test_compiled_answers_equal_the_resolvers(
    db: Database, settings: Settings, compiled_answers: list[int], spec: Spec,
    operation: tuple[str, str],
) -> None:  # fmt: skip
    built = await build(db, spec)
    query, _ = operation
    async with api_with(db, settings, compiled_reads=False) as slow, api_with(db, settings) as fast:
        before = len(compiled_answers)
        body = await answers(slow, fast, query, built.token, None)
        # Every operation drawn here is compilable: the compiled path answered it, unless
        # the cost limit refused it first (both paths alike: nested lists of 100 can).
        codes = {error["extensions"]["code"] for error in body.get("errors", ())}
        refused = body.get("data") is None and codes == {"QUERY_TOO_COMPLEX"}
        assert len(compiled_answers) == before + (0 if refused else 1), body
        cursors = _end_cursors(body.get("data"))
        if cursors:
            await answers(
                slow, fast, query, built.token, cursors.get("after"), cursors.get("reportAfter")
            )


HOSTILE_AFTERS = st.sampled_from(
    [None, "", "abc", "\x00", "\ud800", "A" * 64, "x" * 5000, "WyJnMCIsMV0", "🙂" * 3]
)


@EXAMPLES
@given(spec=specs(), operation=operations(hostile=True), after=HOSTILE_AFTERS)
async def test_hostile_arguments_answer_the_same_on_both_paths(
    db: Database, settings: Settings, spec: Spec, operation: tuple[str, str], after: str | None
) -> None:
    """Bad `first`, NUL, lone surrogates and huge searches, forged or foreign cursors: the
    compiled path answers exactly what the resolvers answer (it leaves them to them)."""
    built = await build(db, spec)
    query, _ = operation
    async with api_with(db, settings, compiled_reads=False) as slow, api_with(db, settings) as fast:
        await answers(slow, fast, query, built.token, after, after)
        # A cursor of another list (courses) where the groups list expects its own.
        other = await fast.raw(
            "{ courses(first: 1) { pageInfo { endCursor } } }", None, built.token
        )
        foreign = ((other.get("data") or {}).get("courses") or {}).get("pageInfo") or {}
        if foreign.get("endCursor"):
            cursor = foreign["endCursor"]
            await answers(slow, fast, query, built.token, cursor, cursor)


def _guarded_fields(strawberry_type: type) -> dict[str, Any]:
    """The schema's `visible_field`s of a type: their GraphQL names and rules."""
    definition = strawberry_type.__strawberry_definition__  # type: ignore[attr-defined]
    guarded = {}
    for field in definition.fields:
        for extension in field.extensions:
            for permission in getattr(extension, "permissions", ()):
                if isinstance(permission, RulePermission):
                    guarded[to_camel_case(field.python_name)] = permission.rule
    return guarded


def test_every_guarded_field_is_compiled_with_its_own_rule() -> None:
    """The schema's field permissions are the source of truth: a field declared with
    `visible_field(rule, ...)` is compiled only as `Guarded` by that same rule, and a field
    compiled as `Guarded` is one the schema guards."""
    checked = 0
    for strawberry_type, table in (
        (UserType, nodes.USER),
        (ProgressType, nodes.PROGRESS),
        (GroupType, nodes.GROUP),
        (GroupProgressRowType, nodes.REPORT_ROW),
        (GroupAnalystAssignmentType, nodes.ASSIGNMENT),
    ):
        guarded = _guarded_fields(strawberry_type)
        compiled = {
            name: b.rule for name, b in table.items() if isinstance(b, Guarded | GuardedList)
        }
        assert compiled == {name: rule for name, rule in guarded.items() if name in table}
        checked += len(compiled)
    assert checked == 6  # email, company, createdAt, deactivatedAt, roles, expiresAt


SCENE_READS = """
query Reads($after: String) {
  viewer { id firstName lastName email roles createdAt }
  groups(first: 5, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id name
      members(first: 100) { totalCount edges { cursor node {
        id email company roles createdAt deactivatedAt
        progress { id status expiresAt percentCompleted course { id name } }
      } } }
      progressSummary { enrolled completed averagePercentCompleted course { id } }
    } }
  }
  users(first: 100) { totalCount edges { node { id firstName email company roles } } }
  courses(first: 100) { totalCount edges { node { id name } } }
}
"""


async def test_every_viewer_of_the_attack_scene_reads_the_same_on_both_paths(
    db: Database, settings: Settings, scene: Scene, compiled_answers: list[int]
) -> None:
    """Anonymous, a student, the analyst, its co-analyst, an analyst whose assignment expired,
    an analyst of another group, an analyst who is also a student elsewhere, an admin: the
    compiled path answers each of them (and what it answers is the resolvers' answer)."""
    async with api_with(db, settings, compiled_reads=False) as slow, api_with(db, settings) as fast:
        for name, token in scene.tokens.items():
            body = await answers(slow, fast, SCENE_READS, token, None)
            assert "errors" not in body, (name, body)
        assert len(compiled_answers) == len(scene.tokens)
        expired = await fast.data(SCENE_READS, {"after": None}, scene.tokens["expired"])
        assert expired["groups"]["totalCount"] == 0
        # Itself only: its former group's members and analysts are out of its sight.
        assert expired["users"]["totalCount"] == 1


PAGES = """
query Pages($after: String) {
  users(first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } }
  }
  groups(first: 5) {
    edges { node { name members(first: 1) { totalCount edges { node { id } } } } }
  }
}
"""


@pytest.mark.parametrize("viewer", ["admin", "other", "anonymous"])
async def test_total_count_is_the_whole_list_on_every_page(
    db: Database, settings: Settings, scene: Scene, compiled_answers: list[int], viewer: str
) -> None:
    """`totalCount` counts every row the viewer may see, however the page is cut: on a first
    page (PostgreSQL counts it with the page's own rows) and after a cursor (counted apart),
    at the top and in a nested page; the compiled path answers what the resolvers do."""
    token = scene.tokens[viewer]
    async with api_with(db, settings, compiled_reads=False) as slow, api_with(db, settings) as fast:
        after, seen, counts, pages = None, [], set(), 0
        while True:
            data = (await answers(slow, fast, PAGES, token, after))["data"]
            users = data["users"]
            counts.add(users["totalCount"])
            seen += [edge["node"]["id"] for edge in users["edges"]]
            pages += 1
            if not users["pageInfo"]["hasNextPage"]:
                break
            after = users["pageInfo"]["endCursor"]
        groups = {edge["node"]["name"]: edge["node"]["members"] for edge in data["groups"]["edges"]}
    assert len(compiled_answers) == pages
    assert counts == {len(seen)} and len(seen) == len(set(seen))
    if viewer == "anonymous":
        assert (seen, groups) == ([], {})
        return
    # The admin: all nine users (the scene's eight and the site's owner) over five pages;
    # Otto, who analyses Beta: itself and Beta's two members over two pages. Beta's first
    # member page shows one of its two members.
    assert len(seen) == {"admin": 9, "other": 3}[viewer]
    assert groups["Beta"]["totalCount"] == 2 and len(groups["Beta"]["edges"]) == 1
