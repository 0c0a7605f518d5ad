"""Password reset and invitations by mail, against a real SMTP server on loopback: what the
mail says, that a link works once and within its time, that asking never reveals an account,
and who may invite."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage

import httpx
import pytest
from sqlalchemy import update

from app import background
from app.db import Database
from app.main import create_app
from app.models import AccountLink, utcnow
from app.settings import Settings
from tests.cast import ADMINS_ONLY, Cast, audit_count, call
from tests.mail_server import Inbox, smtp_server
from tests.support import Api, gid

PUBLIC = "https://academy.test"
REQUEST = """
mutation RequestReset($email: String!) { requestPasswordReset(input: {email: $email}) { message } }
"""
RESET = """
mutation Reset($token: String!, $password: String!) {
  resetPassword(input: {token: $token, newPassword: $password}) { email }
}
"""
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token }
}
"""
CREATE = """
mutation Invite($email: String!, $password: String) {
  createUser(input: {firstName: "Nia", lastName: "New", email: $email, password: $password,
                     roles: [GROUP_ANALYST], invite: true}) {
    invitationSent user { id email }
  }
}
"""
RESEND = """
mutation Resend($userId: ID!) {
  resendInvitation(input: {userId: $userId}) { invitationSent user { id } }
}
"""
VIEWER = "{ viewer { firstName } }"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def mail_api(db: Database, settings: Settings, inbox: Inbox) -> AsyncIterator[Api]:
    app = create_app(replace(settings, smtp_url=inbox.url, public_url=PUBLIC), db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client)
    await background.idle()  # no reset job may outlive its test's database


async def _mail_to(inbox: Inbox, address: str, count: int = 1) -> list[EmailMessage]:
    """The mails to `address` once `count` have arrived (reset mails go out in the background)."""
    for _ in range(500):
        if len(inbox.to(address)) >= count:
            break
        await asyncio.sleep(0.02)
    return inbox.to(address)


def _token(message: EmailMessage) -> str:
    found = re.search(
        re.escape(PUBLIC) + r"/set-password#token=([A-Za-z0-9_-]+)", Inbox.text(message)
    )
    assert found, Inbox.text(message)
    return found.group(1)


async def _alive(api: Api, token: str) -> bool:
    return (await api.post(VIEWER, token=token)).status_code == 200


async def test_reset_by_mail_sets_the_password_once_and_ends_every_token(
    mail_api: Api, cast: Cast, inbox: Inbox
) -> None:
    await cast.world.user("Rae", "Reset", email="rae@example.com", password="forgotten-pw")
    old = await mail_api.data(LOGIN, {"email": "rae@example.com", "password": "forgotten-pw"})
    answer = await mail_api.data(REQUEST, {"email": "RAE@example.com"})
    [message] = await _mail_to(inbox, "rae@example.com")
    assert message["Subject"] == "Reset your Test Academy password"
    assert "within the hour" in Inbox.text(message)
    token = _token(message)

    done = await mail_api.data(RESET, {"token": token, "password": "copper-lantern-meadow"})
    assert done["resetPassword"]["email"] == "rae@example.com"
    assert not await _alive(mail_api, old["login"]["token"])
    await mail_api.data(LOGIN, {"email": "rae@example.com", "password": "copper-lantern-meadow"})
    again = await mail_api.raw(RESET, {"token": token, "password": "silver-orchard-harbor"})
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert again["errors"][0]["extensions"]["field"] == "token"
    assert await audit_count(cast.world, "user.password.reset") == 1
    # Only a hash is stored.
    [stored] = await cast.world.scalars(AccountLink.__table__.select())  # type: ignore[attr-defined]
    assert token not in str(stored)
    # The same answer for an unknown email, and no mail.
    unknown = await mail_api.data(REQUEST, {"email": "nobody@example.com"})
    assert unknown == answer
    await asyncio.sleep(0.1)
    assert inbox.to("nobody@example.com") == []


async def test_a_reset_request_answers_before_looking_the_account_up(
    mail_api: Api, cast: Cast, inbox: Inbox
) -> None:
    """The lookup, the link and the mail run after the answer, so the answer's timing cannot
    tell a known email from an unknown one: with the background work held up, both answer."""
    await cast.world.user("Rae", "Reset", email="rae@example.com", password="forgotten-pw")
    gate = asyncio.Event()

    async def held() -> None:
        await gate.wait()

    background.run_later("held", held)
    known = await asyncio.wait_for(mail_api.data(REQUEST, {"email": "rae@example.com"}), 5)
    unknown = await asyncio.wait_for(mail_api.data(REQUEST, {"email": "no@example.com"}), 5)
    assert known == unknown
    assert await cast.world.scalars(AccountLink.__table__.select()) == []  # type: ignore[attr-defined]
    gate.set()
    [message] = await _mail_to(inbox, "rae@example.com")
    assert _token(message)


async def test_a_reset_link_expires_after_an_hour(mail_api: Api, cast: Cast, inbox: Inbox) -> None:
    await cast.world.user("Rae", "Reset", email="rae@example.com", password="forgotten-pw")
    await mail_api.data(REQUEST, {"email": "rae@example.com"})
    [message] = await _mail_to(inbox, "rae@example.com")
    async with cast.world.db.write() as session:
        await session.execute(
            update(AccountLink).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    body = await mail_api.raw(
        RESET, {"token": _token(message), "password": "copper-lantern-meadow"}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await mail_api.data(LOGIN, {"email": "rae@example.com", "password": "forgotten-pw"})


async def test_reset_requests_are_throttled_per_account_with_the_same_answer(
    mail_api: Api, cast: Cast, inbox: Inbox
) -> None:
    await cast.world.user("Rae", "Reset", email="rae@example.com", password="forgotten-pw")
    answers = {
        (await mail_api.data(REQUEST, {"email": "rae@example.com"}))["requestPasswordReset"][
            "message"
        ]
        for _ in range(5)
    }
    assert len(answers) == 1
    mails = await _mail_to(inbox, "rae@example.com", 3)
    await asyncio.sleep(0.2)
    assert len(inbox.to("rae@example.com")) == len(mails) == 3
    # A newer link supersedes the older ones: only the last one works.
    tokens = [_token(m) for m in mails]
    for stale in tokens[:-1]:
        body = await mail_api.raw(RESET, {"token": stale, "password": "copper-lantern-meadow"})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_no_reset_for_deactivated_or_password_less_accounts(
    mail_api: Api, cast: Cast, inbox: Inbox
) -> None:
    gone = await cast.world.user("Gus", "Gone", email="gus@example.com", password="some-password")
    await mail_api.data(
        "mutation D($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }",
        {"id": gid("User", gone.id)},
        token=cast.token("admin"),
    )
    for email in ("gus@example.com", "sam@example.com"):  # sam: an imported student
        await mail_api.data(REQUEST, {"email": email})
    await asyncio.sleep(0.2)
    assert inbox.messages == []


@pytest.mark.parametrize(
    "email", ["", "x" * 300 + "@example.com", "a\x00@example.com", "\ud800@example.com", "nope"]
)
async def test_hostile_reset_emails_are_bad_input(mail_api: Api, email: str) -> None:
    body = await mail_api.raw(REQUEST, {"email": email})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("token", "password"),
    [
        ("", "copper-lantern-meadow"),
        ("x" * 100_000, "copper-lantern-meadow"),
        ("abc\x00", "copper-lantern-meadow"),
        ("\ud800", "copper-lantern-meadow"),
        ("\uff54\uff4f\uff4b\uff45\uff4e", "copper-lantern-meadow"),  # full-width look-alikes
        ("a-real-looking-token", "short"),
        ("a-real-looking-token", "\ud800" * 10),
    ],
)
async def test_hostile_reset_inputs_are_bad_input(mail_api: Api, token: str, password: str) -> None:
    body = await mail_api.raw(RESET, {"token": token, "password": password})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_invite_who_may(
    mail_api: Api, cast: Cast, inbox: Inbox, role: str, expected: str | None
) -> None:
    body = await call(mail_api, CREATE, {"email": "nia@example.com"}, cast.token(role), expected)
    if expected is None:
        assert body["createUser"]["invitationSent"] is True
        [message] = inbox.to("nia@example.com")
        assert message["Subject"] == "You are invited to Test Academy"
        assert "within 7 days" in Inbox.text(message)
        await mail_api.data(RESET, {"token": _token(message), "password": "quiet-compass-tide"})
        login = await mail_api.data(
            LOGIN, {"email": "nia@example.com", "password": "quiet-compass-tide"}
        )
        assert await _alive(mail_api, login["login"]["token"])
        assert await audit_count(cast.world, "user.invite") == 1
        assert await audit_count(cast.world, "user.invitation.accept") == 1
    else:
        assert inbox.messages == []
        assert await audit_count(cast.world, "user.invite") == 0


async def test_invite_with_a_password_is_bad_input(mail_api: Api, cast: Cast, inbox: Inbox) -> None:
    body = await mail_api.raw(
        CREATE,
        {"email": "nia@example.com", "password": "granite-sparrow-velvet"},
        cast.token("admin"),
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "password"}
    assert inbox.messages == []


@pytest.mark.parametrize(("role", "expected"), ADMINS_ONLY)
async def test_resend_invitation_who_may(
    mail_api: Api, cast: Cast, inbox: Inbox, role: str, expected: str | None
) -> None:
    created = await mail_api.data(CREATE, {"email": "nia@example.com"}, token=cast.token("owner"))
    user_id = created["createUser"]["user"]["id"]
    first = _token(inbox.to("nia@example.com")[0])
    body = await call(mail_api, RESEND, {"userId": user_id}, cast.token(role), expected)
    if expected is None:
        assert body["resendInvitation"]["invitationSent"] is True
        second = _token(inbox.to("nia@example.com")[1])
        stale = await mail_api.raw(RESET, {"token": first, "password": "quiet-compass-tide"})
        assert stale["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        await mail_api.data(RESET, {"token": second, "password": "quiet-compass-tide"})
        # Accepted: nothing left to invite to.
        done = await mail_api.raw(RESEND, {"userId": user_id}, cast.token(role))
        assert done["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    else:
        assert len(inbox.messages) == 1
        await mail_api.data(RESET, {"token": first, "password": "quiet-compass-tide"})


async def test_without_smtp_the_invitation_link_is_logged(
    api: Api, cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="groupanalyst.mail"):
        data = await api.data(CREATE, {"email": "nia@example.com"}, token=cast.token("admin"))
    assert data["createUser"]["invitationSent"] is True
    assert any("/set-password#token=" in r.getMessage() for r in caplog.records)


async def test_a_failed_mail_server_leaves_the_user_to_reinvite(
    db: Database, settings: Settings, cast: Cast
) -> None:
    from tests.mail_server import _free_port

    app = create_app(replace(settings, smtp_url=f"smtp://127.0.0.1:{_free_port()}"), db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        data = await Api(client).data(
            CREATE, {"email": "nia@example.com"}, token=cast.token("admin")
        )
    assert data["createUser"]["invitationSent"] is False
    assert data["createUser"]["user"]["email"] == "nia@example.com"


async def test_the_linked_page_is_served_and_sends_the_token_only_to_this_service(
    api: Api,
) -> None:
    response = await api.client.get("/set-password")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "resetPassword" in response.text and 'fetch("/graphql"' in response.text
    assert "connect-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "http" not in response.text.replace("http-equiv", "")  # nothing loaded from elsewhere
