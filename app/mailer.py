"""The one mailer: every mail the product sends (password resets, invitations, report emails)
goes through `send_mail`.

Invariants:
- with `GROUPANALYST_SMTP_URL` set, a mail is delivered by SMTP (aiosmtplib): `smtp://` uses
  STARTTLS when the server offers it, `smtps://` TLS from the start; user and password come
  from the URL. A failed delivery raises `MailError` (never a secret from the URL);
- without it (`make run`, development) the mail is written to the log in full, text and links
  included, attachments by name, type and size, so a developer can click the link;
- a mail is built with the standard library's `EmailMessage`: headers are one line each (a
  recipient or subject holding a line break is refused with `MailError`, never sent), the
  sender is `GROUPANALYST_MAIL_FROM`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.settings import Settings

log = logging.getLogger("groupanalyst.mail")

SMTP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    attachments: tuple[Attachment, ...] = ()


class MailError(Exception):
    """The mail could not be built or delivered."""


def build_message(settings: Settings, mail: Mail) -> EmailMessage:
    for name, value in (("to", mail.to), ("subject", mail.subject)):
        if any(ch in value for ch in "\r\n\x00"):
            raise MailError(f"The mail's {name} must be a single line.")
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(mail.text)
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return message


def _log_mail(mail: Mail) -> None:
    files = "".join(
        f"\n  attachment: {a.filename} ({a.content_type}, {len(a.data):,} bytes)"
        for a in mail.attachments
    )
    log.warning(
        "GROUPANALYST_SMTP_URL is not set; this mail was not sent:\nTo: %s\nSubject: %s\n\n%s%s",
        mail.to,
        mail.subject,
        mail.text,
        files,
    )


async def send_mail(settings: Settings, mail: Mail) -> None:
    """Deliver `mail` by SMTP, or log it in full when no SMTP server is configured."""
    try:
        message = build_message(settings, mail)
    except ValueError as exc:  # EmailMessage refuses malformed header values
        raise MailError(f"The mail could not be built: {exc}") from None
    if settings.smtp_url is None:
        _log_mail(mail)
        return
    url = urlsplit(settings.smtp_url)
    implicit_tls = url.scheme == "smtps"
    try:
        await aiosmtplib.send(
            message,
            hostname=url.hostname or "localhost",
            port=url.port or (465 if implicit_tls else 25),
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            use_tls=implicit_tls,
            timeout=SMTP_TIMEOUT_SECONDS,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        # The URL may hold a password: name the host only.
        raise MailError(
            f"The mail server {url.hostname}:{url.port} refused or failed: {type(exc).__name__}"
        ) from None
