"""Ordinary bad input is BAD_USER_INPUT naming the field, never an internal error: lone
surrogates, NUL bytes, huge searches, date-times at the edges of the calendar, invisible
characters in names. Each was an INTERNAL_SERVER_ERROR (or stored as is) before."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cast import Cast
from tests.support import Api

SURROGATE = "a\ud800b"
NUL = "a\x00b"
HUGE = "x" * 100_000

USERS = "query($s: String) { users(filter: {search: $s}) { totalCount } }"
GROUPS = "query($s: String) { groups(filter: {search: $s}) { totalCount } }"
MEMBERS = (
    """query($s: String) { groups { edges { node { members(search: $s) { totalCount } } } } }"""
)
LOGIN = """mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) {
  token } }"""
CREATE_USER = """mutation($f: String!, $l: String!, $e: String!) {
  createUser(input: {firstName: $f, lastName: $l, email: $e}) { user { id } } }"""
CREATE_GROUP = "mutation($n: String!) { createGroup(input: {name: $n}) { group { id } } }"
CREATE_TOKEN = """mutation($n: String!, $x: DateTime) {
  createApiToken(input: {name: $n, expiresAt: $x}) { token } }"""
AUDIT = "query($a: String) { auditEvents(filter: {action: $a}) { totalCount } }"
AUDIT_SINCE = "query($d: DateTime) { auditEvents(filter: {since: $d}) { totalCount } }"
USERS_AFTER = "query($c: String) { users(after: $c) { totalCount } }"
PROGRESS = "query($d: DateTime) { groupProgress(filter: {activatedAfter: $d}) { totalCount } }"

# (name, query, variables, field named in the error); the owner's token unless anonymous.
CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("search surrogate", USERS, {"s": SURROGATE}, "filter.search"),
    ("search NUL", USERS, {"s": NUL}, "filter.search"),
    ("search huge", USERS, {"s": HUGE}, "filter.search"),
    ("group search huge", GROUPS, {"s": HUGE}, "filter.search"),
    ("group search NUL", GROUPS, {"s": NUL}, "filter.search"),
    ("member search surrogate", MEMBERS, {"s": SURROGATE}, "search"),
    ("name surrogate", CREATE_USER, {"f": SURROGATE, "l": "L", "e": "n@example.com"}, "firstName"),
    ("group name NUL", CREATE_GROUP, {"n": NUL}, "name"),
    ("token name surrogate", CREATE_TOKEN, {"n": SURROGATE}, "name"),
    # filter.action is an AuditAction enum: no string reaches the server's code
    # (test_audit_log checks that an unknown value is refused).
    ("audit since far past", AUDIT_SINCE, {"d": "0001-01-01T00:00:00+14:00"}, "filter.since"),
    ("cursor surrogate", USERS_AFTER, {"c": SURROGATE}, "after"),
    ("cursor NUL", USERS_AFTER, {"c": NUL}, "after"),
    ("cursor huge", USERS_AFTER, {"c": HUGE}, "after"),
    ("date at year 1", PROGRESS, {"d": "0001-01-01T00:00:00+14:00"}, "filter.activatedAfter"),
    (
        "expiry at year 9999",
        CREATE_TOKEN,
        {"n": "t", "x": "9999-12-31T23:59:59-14:00"},
        "expiresAt",
    ),
]


@pytest.mark.parametrize(
    ("query", "variables", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_hostile_values_are_bad_user_input(
    api: Api, cast: Cast, query: str, variables: dict[str, Any], field: str
) -> None:
    body = await api.raw(query, variables, token=cast.tokens["owner"])
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", body
    assert error["extensions"]["field"] == field


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        (SURROGATE + "@example.com", "whatever", "email"),
        ("a\x00@example.com", "whatever", "email"),
        ("pat@example.com", SURROGATE, "password"),
        ("pat@example.com", "x" * 10_000, "password"),
    ],
)
async def test_hostile_login_values_are_bad_user_input(
    api: Api, email: str, password: str, field: str
) -> None:
    body = await api.raw(LOGIN, {"e": email, "p": password})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_literals_in_the_document_are_checked_too(api: Api, cast: Cast) -> None:
    query = '{ users(filter: {search: "' + "y" * 255 + '"}) { totalCount } }'
    body = await api.raw(query, token=cast.tokens["owner"])
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "filter.search"}
    defaulted = 'query($d: DateTime = "0001-01-01T00:00:00+14:00") { groupProgress(filter: '
    defaulted += "{activatedAfter: $d}) { totalCount } }"
    body = await api.raw(defaulted, token=cast.tokens["owner"])
    assert body["errors"][0]["extensions"]["field"] == "filter.activatedAfter"


@pytest.mark.parametrize(
    "name", ["Zero\u200bWidth", "Right\u202eToLeft", "Soft\u00adHyphen", "Bell\x07"]
)
async def test_invisible_characters_in_names_are_refused(api: Api, cast: Cast, name: str) -> None:
    variables = {"f": name, "l": "Person", "e": "invisible@example.com"}
    body = await api.raw(CREATE_USER, variables, token=cast.tokens["owner"])
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "firstName"}
    body = await api.raw(CREATE_GROUP, {"n": name}, token=cast.tokens["owner"])
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "name"}


async def test_ordinary_values_still_work(api: Api, cast: Cast) -> None:
    token = cast.tokens["owner"]
    assert (await api.data(USERS, {"s": "Sam"}, token))["users"]["totalCount"] == 1
    # A Persian name keeps its zero-width non-joiner; accents and emoji are fine.
    variables = {"f": "Mehr\u200cnoosh", "l": "Zoë 🙂", "e": "mehr@example.com"}
    assert (await api.data(CREATE_USER, variables, token))["createUser"]["user"]["id"]
    edge = "2999-12-30T00:00:00-14:00"
    body = await api.raw(PROGRESS, {"d": edge}, token)
    assert body["data"]["groupProgress"]["totalCount"] == 0
