"""Cursors are opaque: nothing personal is readable in them (they end up in SPA URLs,
browser history and proxy logs), and one edited by hand is BAD_USER_INPUT. Before, a users
cursor decoded to `["Bauer","Yara","yara.bauer.45@example.com",…]`."""

from __future__ import annotations

import base64

from tests.cast import Cast
from tests.support import Api

USERS = """query($after: String) { users(first: 1, after: $after) {
  edges { cursor node { email } } pageInfo { hasNextPage } } }"""


def _raw(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


async def test_a_cursor_reveals_no_name_or_email(api: Api, cast: Cast) -> None:
    token = cast.tokens["admin"]
    data = await api.data(USERS, {}, token)
    edge = data["users"]["edges"][0]
    raw = _raw(edge["cursor"])
    for secret in (edge["node"]["email"], "example.com", "Adam", "Admin"):
        assert secret.encode().lower() not in raw.lower()
    # It still pages: the next page starts after it, without repeating the row.
    after = await api.data(USERS, {"after": edge["cursor"]}, token)
    assert after["users"]["edges"][0]["node"]["email"] != edge["node"]["email"]


async def test_the_same_row_never_gives_the_same_cursor_twice(api: Api, cast: Cast) -> None:
    """A fresh nonce per cursor: two readers of one row cannot tell it is the same row."""
    token = cast.tokens["admin"]
    first = (await api.data(USERS, {}, token))["users"]["edges"][0]["cursor"]
    again = (await api.data(USERS, {}, token))["users"]["edges"][0]["cursor"]
    assert first != again


async def test_a_tampered_cursor_is_bad_user_input(api: Api, cast: Cast) -> None:
    token = cast.tokens["admin"]
    cursor = (await api.data(USERS, {}, token))["users"]["edges"][0]["cursor"]
    raw = bytearray(_raw(cursor))
    for position in (0, len(raw) // 2, len(raw) - 1):
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        tampered = base64.urlsafe_b64encode(bytes(flipped)).decode().rstrip("=")
        body = await api.raw(USERS, {"after": tampered}, token)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    # A readable cursor of the old kind is not accepted either.
    legacy = base64.urlsafe_b64encode(b'["Admin","Adam","adam@example.com",3]').decode()
    body = await api.raw(USERS, {"after": legacy}, token)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
