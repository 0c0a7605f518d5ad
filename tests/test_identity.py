"""One person, one account; one group name, one group: look-alike Unicode variants of an
email or a group name are the same identity (NFKC, case-folded), and invisible characters
are refused. Each variant below created a second account or group before."""

from __future__ import annotations

import unicodedata

import pytest

from tests.cast import Cast
from tests.support import Api, fullwidth, gid

CREATE_USER = """mutation($e: String!) {
  createUser(input: {firstName: "Twin", lastName: "Account", email: $e}) { user { email } } }"""
UPDATE_EMAIL = """mutation($id: ID!, $e: String!) {
  updateUser(input: {userId: $id, email: $e}) { user { email } } }"""
CREATE_GROUP = "mutation($n: String!) { createGroup(input: {name: $n}) { group { name } } }"
LOGIN = """mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) {
  viewer { email } } }"""

COMPOSED = unicodedata.normalize("NFC", "st\u00fcdent@example.com")
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)


@pytest.mark.parametrize(
    ("taken", "variant"),
    [
        ("student@example.com", fullwidth("s") + "tudent@example.com"),
        ("student@example.com", "STUDENT@EXAMPLE.COM"),
        (COMPOSED, DECOMPOSED),
        (DECOMPOSED, COMPOSED),
        ("strasse@example.com", "stra\u00dfe@example.com"),  # ß case-folds to ss
    ],
    ids=["full-width", "upper-case", "composed-first", "decomposed-first", "sharp-s"],
)
async def test_an_email_variant_is_the_same_account(
    api: Api, cast: Cast, taken: str, variant: str
) -> None:
    token = cast.tokens["admin"]
    await api.data(CREATE_USER, {"e": taken}, token)
    body = await api.raw(CREATE_USER, {"e": variant}, token)
    assert body["errors"][0]["extensions"] == {"code": "CONFLICT", "field": "email"}
    body = await api.raw(UPDATE_EMAIL, {"id": gid("User", cast.student.id), "e": variant}, token)
    assert body["errors"][0]["extensions"] == {"code": "CONFLICT", "field": "email"}


@pytest.mark.parametrize(
    "email",
    [
        "student@example.com\u200b",  # zero-width space after
        "stu\u200bdent@example.com",
        "stu\u2060dent@example.com",  # word joiner
        "\u202estudent@example.com",  # right-to-left override
        "not-an-email",
        "two@@example.com",
    ],
)
async def test_invisible_characters_and_bad_syntax_in_emails_are_refused(
    api: Api, cast: Cast, email: str
) -> None:
    body = await api.raw(CREATE_USER, {"e": email}, cast.tokens["admin"])
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "email"}


async def test_an_email_is_stored_normalised(api: Api, cast: Cast) -> None:
    data = await api.data(CREATE_USER, {"e": "Pat.Doe@EXAMPLE.com"}, cast.tokens["admin"])
    # The domain is lower-cased; the local part is kept as typed (it is the owner's).
    assert data["createUser"]["user"]["email"] == "Pat.Doe@example.com"


@pytest.mark.parametrize(
    "variant",
    [
        fullwidth("C") + "ohort 001 Data",
        "COHORT 001 DATA",
        "Co\u200dhort 001 Data",  # a joiner is allowed in names, but does not make a new one
    ],
)
async def test_a_group_name_variant_is_the_same_group(api: Api, cast: Cast, variant: str) -> None:
    token = cast.tokens["admin"]
    await api.data(CREATE_GROUP, {"n": "Cohort 001 Data"}, token)
    body = await api.raw(CREATE_GROUP, {"n": variant}, token)
    assert body["errors"][0]["extensions"] == {"code": "CONFLICT", "field": "name"}


async def test_login_finds_the_account_by_any_variant(api: Api, cast: Cast) -> None:
    await cast.world.user("Pat", "Word", email="pat@example.com", password="correct horse battery")
    data = await api.data(
        LOGIN, {"e": fullwidth("PAT") + "@example.com", "p": "correct horse battery"}
    )
    assert data["login"]["viewer"]["email"] == "pat@example.com"
