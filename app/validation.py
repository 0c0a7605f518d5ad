"""Input checks shared by the mutations (and usable by the CLI).

Invariant: every check raises BAD_USER_INPUT with `extensions.field` set to the GraphQL name
of the field and a message saying what a valid value looks like; nothing is written before
all checks of a mutation have passed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from app.errors import bad_input

PERSON_NAME_MAX = 100
EMAIL_MAX = 254
COMPANY_MAX = 200
GROUP_NAME_MAX = 200
COURSE_NAME_MAX = 200
LESSON_TITLE_MAX = 200
TOKEN_NAME_MAX = 100
PASSWORD_MIN = 8
PASSWORD_MAX = 200
MAX_IDS_PER_CALL = 500
MAX_LESSONS_PER_COURSE = 500
# Longer than any name or email.
SEARCH_MAX = 254

# Deliberately loose: one "@", no spaces, a dot in the domain. Deliverability is not ours to judge.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

T = TypeVar("T")


def text(field: str, value: str, max_len: int) -> str:
    """A required one-line text: trimmed, 1..max_len characters."""
    value = value.strip()
    if not value:
        raise bad_input(field, f"'{field}' must not be empty.")
    if len(value) > max_len:
        raise bad_input(field, f"'{field}' must be at most {max_len} characters.")
    if any(ch in value for ch in "\r\n\t\x00"):
        raise bad_input(field, f"'{field}' must be a single line of text.")
    return valid_unicode(field, value)


def valid_unicode(field: str, value: str) -> str:
    """Refuse lone surrogates (JSON's "\\ud800"): no database can store them."""
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise bad_input(field, f"'{field}' must be valid Unicode text (it holds a lone surrogate).")
    return value


def optional_text(field: str, value: str | None, max_len: int) -> str | None:
    """Like `text`, but empty or null means "none"."""
    if value is None or not value.strip():
        return None
    return text(field, value, max_len)


def email(field: str, value: str) -> str:
    value = text(field, value, EMAIL_MAX)
    if not _EMAIL.match(value):
        raise bad_input(field, f"'{field}' must be an email address such as name@example.com.")
    return value


def password(field: str, value: str | None) -> str | None:
    """None: the account cannot log in with a password (API-only or imported)."""
    if value is None:
        return None
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        raise bad_input(
            field, f"'{field}' must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long."
        )
    return valid_unicode(field, value)


def aware(field: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise bad_input(field, f"'{field}' must include a time zone, e.g. '2026-01-31T00:00:00Z'.")
    return value


def ends_after(field: str, ends: datetime | None, starts: datetime, what: str) -> None:
    if ends is not None and ends <= starts:
        raise bad_input(field, f"'{field}' must be after {what} ({starts.isoformat()}).")


def id_list(field: str, values: Sequence[T]) -> list[T]:
    """1..MAX_IDS_PER_CALL ids, duplicates dropped, order kept."""
    unique = list(dict.fromkeys(values))
    if not unique:
        raise bad_input(field, f"'{field}' must list at least one id.")
    if len(unique) > MAX_IDS_PER_CALL:
        raise bad_input(field, f"'{field}' may list at most {MAX_IDS_PER_CALL} ids per call.")
    return unique
