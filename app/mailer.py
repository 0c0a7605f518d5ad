"""The one mailer: every mail the product sends (password resets, invitations, report emails)
goes through `send_mail`.

Invariants:
- with `GROUPANALYST_SMTP_URL` set, a mail is delivered by SMTP (aiosmtplib): `smtp://` uses
  STARTTLS when the server offers it, `smtps://` TLS from the start; user and password come
  from the URL. A failed delivery raises `MailError` (never a secret from the URL);
- without it (`make run`, development) the mail is written to the log in full, text and links
  included, attachments by name, type and size, so a developer can click the link;
- `send_mail_later` sends in the background, logging a failure, for answers that must not
  depend on whether a mail went out (password reset);
- a mail is built with the standard library's `EmailMessage`: headers are one line each (a
  recipient or subject holding a line break is refused with `MailError`, never sent), the
  sender is `GROUPANALYST_MAIL_FROM`.
"""

from __future__ import annotations

import asyncio
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


_pending: set[asyncio.Task[None]] = set()


async def deliver(settings: Settings, mail: Mail) -> bool:
    """`send_mail`, answering whether it went out; a failure is logged, not raised (for
    callers whose change is committed already and only report on the mail)."""
    try:
        await send_mail(settings, mail)
    except MailError:
        log.exception("a mail to %s was not delivered", mail.to)
        return False
    return True


async def _deliver_later(settings: Settings, mail: Mail) -> None:
    await deliver(settings, mail)


def send_mail_later(settings: Settings, mail: Mail) -> None:
    """Send `mail` in the background: the caller answers at once, so how long delivery takes
    (or whether a mail was sent at all) never shows in its answer. A failure is logged."""
    task = asyncio.create_task(_deliver_later(settings, mail))
    _pending.add(task)  # the event loop keeps only weak references to tasks
    task.add_done_callback(_pending.discard)
