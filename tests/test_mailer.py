"""The mailer against a real SMTP server on loopback, and its log fallback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest

from app.mailer import Attachment, Mail, MailError, send_mail
from app.settings import Settings
from tests.mail_server import Inbox, _free_port, smtp_server


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as server:
        yield server


def _settings(url: str | None) -> Settings:
    return Settings(smtp_url=url, mail_from="Group Analyst <noreply@academy.test>")


async def test_a_mail_with_an_attachment_is_delivered(inbox: Inbox) -> None:
    csv = "Student First Name,Group Name\nÉlodie,Cohort\n".encode()
    mail = Mail(
        to="ana@example.com",
        subject="Weekly progress — Cohort 001",
        text="Hello Ana,\nthe report is attached.\nhttps://academy.test/x?y=1\n",
        attachments=(Attachment("progress.csv", "text/csv", csv),),
    )
    await send_mail(_settings(inbox.url), mail)
    [message] = inbox.messages
    assert inbox.recipients == [["ana@example.com"]]
    assert message["From"] == "Group Analyst <noreply@academy.test>"
    assert message["Subject"] == "Weekly progress — Cohort 001"
    assert message["Message-ID"].endswith("@academy.test>")
    assert "https://academy.test/x?y=1" in Inbox.text(message)
    [part] = list(message.iter_attachments())
    assert part.get_filename() == "progress.csv"
    assert part.get_content_type() == "text/csv"
    assert part.get_payload(decode=True) == csv


async def test_without_smtp_the_mail_is_logged_in_full(caplog: pytest.LogCaptureFixture) -> None:
    mail = Mail(
        to="new@example.com",
        subject="Set your password",
        text="Open https://academy.test/set-password?token=abc to choose it.",
        attachments=(Attachment("a.csv", "text/csv", b"x" * 2048),),
    )
    with caplog.at_level(logging.WARNING, logger="groupanalyst.mail"):
        await send_mail(_settings(None), mail)
    [record] = caplog.records
    logged = record.getMessage()
    assert "To: new@example.com" in logged and "Subject: Set your password" in logged
    assert "https://academy.test/set-password?token=abc" in logged
    assert "a.csv (text/csv, 2,048 bytes)" in logged


@pytest.mark.parametrize(
    ("to", "subject"),
    [("a@example.com\r\nBcc: victim@example.com", "Hi"), ("a@example.com", "Hi\nBcc: x@y.z")],
)
async def test_header_injection_is_refused_before_sending(
    inbox: Inbox, to: str, subject: str
) -> None:
    with pytest.raises(MailError):
        await send_mail(_settings(inbox.url), Mail(to=to, subject=subject, text="x"))
    assert inbox.messages == []


async def test_an_unreachable_server_is_a_mail_error_without_the_password() -> None:
    settings = _settings(f"smtp://user:s3cret@127.0.0.1:{_free_port()}")
    with pytest.raises(MailError) as raised:
        await send_mail(settings, Mail(to="a@example.com", subject="Hi", text="x"))
    assert "s3cret" not in str(raised.value)
    assert "127.0.0.1" in str(raised.value)


def test_smtp_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUPANALYST_SMTP_URL", "smtps://mailer:pw@mail.example.com:465")
    monkeypatch.setenv("GROUPANALYST_MAIL_FROM", "Academy <no-reply@example.com>")
    monkeypatch.setenv("GROUPANALYST_PUBLIC_URL", "https://analyst.example.com/")
    settings = Settings.from_env()
    assert settings.smtp_url == "smtps://mailer:pw@mail.example.com:465"
    assert settings.mail_from == "Academy <no-reply@example.com>"
    assert settings.public_url == "https://analyst.example.com"
    monkeypatch.setenv("GROUPANALYST_SMTP_URL", "http://mail.example.com")
    with pytest.raises(SystemExit):
        Settings.from_env()
    assert replace(settings, smtp_url=None).smtp_url is None
