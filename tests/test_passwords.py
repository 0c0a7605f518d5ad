"""New passwords follow NIST SP 800-63B: long enough, not common or guessable (judged with
the user's names and email), no composition rules, and a refusal that says why.
"password", "12345678" and twelve spaces were accepted before."""

from __future__ import annotations

import pytest

from app.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from app.errors import AppError
from app.password_policy import check_new_password
from tests.cast import Cast
from tests.support import Api

CREATE = """mutation($p: String) { createUser(input: {firstName: "Nina", lastName: "Keller",
  email: "nina.keller@example.com", password: $p}) { user { id } } }"""
LOGIN = """mutation($p: String!) { login(input: {email: "nina.keller@example.com", password: $p})
  { viewer { firstName } } }"""


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("password", "at least 12 characters"),
        ("12345678", "at least 12 characters"),
        (" " * 12, "only spaces"),
        ("password1234", "too easy to guess"),
        ("passwordpassword", "too easy to guess"),
        ("qwertyuiopasdf", "too easy to guess"),
        ("demo-password", "too easy to guess"),
        ("111111111111", "too easy to guess"),
        ("nina.keller@example.com", "email address"),
        ("nina.keller2026!", "email address"),
        ("Nina Keller 1990", "too easy to guess"),
    ],
)
async def test_weak_passwords_are_refused_saying_why(
    api: Api, cast: Cast, password: str, why: str
) -> None:
    body = await api.raw(CREATE, {"p": password}, cast.tokens["admin"])
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "password"}
    assert why in error["message"]
    if len(password) >= 12 and password.strip():
        assert password not in error["message"]


@pytest.mark.parametrize(
    "password",
    [
        "violet harbor lantern",
        "amber-kettle-orchard",
        "Zürich Tram 🚋 morning",
        "o" * 3 + "x7q!Lm2vR9",
    ],
)
async def test_strong_passwords_need_no_digits_or_symbols(
    api: Api, cast: Cast, password: str
) -> None:
    """Composition is not required: lower-case words do; anything long and unusual does."""
    await api.data(CREATE, {"p": password}, cast.tokens["admin"])
    assert (await api.data(LOGIN, {"p": password}))["login"]["viewer"]["firstName"] == "Nina"


def test_the_demo_password_passes_for_every_demo_account() -> None:
    for account in DEMO_ACCOUNTS:
        names = (account.first_name, account.last_name, account.email)
        assert check_new_password("password", DEMO_PASSWORD, names) == DEMO_PASSWORD


def test_the_check_names_the_field_it_is_given() -> None:
    with pytest.raises(AppError) as refused:
        check_new_password("newPassword", "password")
    assert refused.value.field == "newPassword"
