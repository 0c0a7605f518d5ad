"""Input checks: the one place that decides what a valid string or date-time is.

Two layers, both here:
- `argument(field, value)`, applied to every argument of every GraphQL field before its
  resolver runs (`resolvers.input_guard`), and by the CLI to its flags: no string holds a NUL
  or a lone surrogate or is longer than its field's bound (`max_length`: per field name,
  e.g. `search` and `email` 254, else `TEXT_MAX`), and every date-time has a time zone and
  lies within `DATE_MIN`..`DATE_MAX` (so no comparison or conversion to UTC can overflow);
  nothing hostile reaches SQL, whatever the field;
- per-field rules the write services call (`text`, `name`, `email`, `password`, `aware`, …):
  trimmed one-line texts, names without control or invisible characters, email syntax.

Invariant: every check raises BAD_USER_INPUT with `extensions.field` set to the GraphQL name
of the field and a message saying what a valid value looks like; nothing is written before
all checks of a mutation have passed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from app.errors import bad_input
from app.identity import checked_email

PERSON_NAME_MAX = 100
EMAIL_MAX = 254
COMPANY_MAX = 200
GROUP_NAME_MAX = 200
COURSE_NAME_MAX = 200
LESSON_TITLE_MAX = 200
TOKEN_NAME_MAX = 100
PASSWORD_MAX = 200
# Cursors this API hands out are far shorter.
CURSOR_MAX = 500
# Any other string argument (ids, actions, type names).
TEXT_MAX = 1_000
MAX_IDS_PER_CALL = 500
MAX_LESSONS_PER_COURSE = 500
# A search is a part of a name or email: longer than any of them matches nothing, and SQLite
# refuses LIKE patterns past its own limit ("LIKE or GLOB pattern too complex").
SEARCH_MAX = 254

# Date-times a course site can mean; outside, conversions to UTC could overflow.
DATE_MIN = datetime(1900, 1, 1, tzinfo=UTC)
DATE_MAX = datetime(2999, 12, 31, tzinfo=UTC)

# The longest each named field may be; a field not listed gets TEXT_MAX.
_FIELD_MAX = {
    "search": SEARCH_MAX,
    "after": CURSOR_MAX,
    "email": EMAIL_MAX,
    "password": PASSWORD_MAX,
    "currentPassword": PASSWORD_MAX,
    "newPassword": PASSWORD_MAX,
    "firstName": PERSON_NAME_MAX,
    "lastName": PERSON_NAME_MAX,
    "company": COMPANY_MAX,
    "name": max(GROUP_NAME_MAX, COURSE_NAME_MAX, TOKEN_NAME_MAX),
    "lessonTitles": LESSON_TITLE_MAX,
    # Webhook URLs (`app.webhooks` checks them further).
    "url": 2_000,
}

# Unicode categories refused in names: controls, format characters (zero-width spaces,
# bidirectional overrides), line/paragraph separators, private use, unassigned.
_NOT_IN_NAMES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs"})
# Joiners some scripts need inside words (Persian, Indic); comparison keys drop them.
JOINERS = frozenset({"\u200c", "\u200d"})

T = TypeVar("T")


def max_length(field: str) -> int:
    """The bound of a field, by its own name (`filter.search` is a `search`)."""
    return _FIELD_MAX.get(field.rsplit(".", 1)[-1], TEXT_MAX)


def valid_unicode(field: str, value: str) -> str:
    """Refuse NUL (PostgreSQL cannot store it) and lone surrogates (JSON's "\\ud800": no
    database can store them)."""
    if "\x00" in value:
        raise bad_input(field, f"'{field}' must not contain a NUL character.")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise bad_input(field, f"'{field}' must be valid Unicode text (it holds a lone surrogate).")
    return value


def string_argument(field: str, value: str) -> str:
    valid_unicode(field, value)
    limit = max_length(field)
    if len(value) > limit:
        raise bad_input(field, f"'{field}' must be at most {limit} characters.")
    return value


def date_time(field: str, value: datetime) -> datetime:
    """An aware date-time within DATE_MIN..DATE_MAX, as UTC."""
    if value.tzinfo is None:
        raise bad_input(field, f"'{field}' must include a time zone, e.g. '2026-01-31T00:00:00Z'.")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not DATE_MIN <= utc <= DATE_MAX:
        raise bad_input(
            field,
            f"'{field}' must be between {DATE_MIN:%Y-%m-%d} and {DATE_MAX:%Y-%m-%d} (UTC).",
        )
    return utc


def text(field: str, value: str, max_len: int) -> str:
    """A required one-line text: trimmed, 1..max_len characters, no control characters."""
    value = valid_unicode(field, value).strip()
    if not value:
        raise bad_input(field, f"'{field}' must not be empty.")
    if len(value) > max_len:
        raise bad_input(field, f"'{field}' must be at most {max_len} characters.")
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in value):
        raise bad_input(field, f"'{field}' must be a single line of text.")
    return value


def name(field: str, value: str, max_len: int) -> str:
    """A person's, group's or course's name: `text` without invisible or format characters
    (zero-width spaces, bidirectional overrides), which would let two names look alike."""
    value = text(field, value, max_len)
    if any(unicodedata.category(ch) in _NOT_IN_NAMES and ch not in JOINERS for ch in value):
        raise bad_input(
            field, f"'{field}' must not contain invisible, formatting or control characters."
        )
    return value


def optional_text(field: str, value: str | None, max_len: int) -> str | None:
    """Like `text`, but empty or null means "none"."""
    if value is None or not value.strip():
        return None
    return text(field, value, max_len)


def search(value: str | None) -> str | None:
    """A search term, or None when blank."""
    if value is None or not value.strip():
        return None
    return string_argument("search", value.strip())


def email(field: str, value: str) -> str:
    """A valid address (syntax only; no DNS lookup), normalised (`app.identity`)."""
    return checked_email(field, text(field, value, EMAIL_MAX))


def aware(field: str, value: datetime | None) -> datetime | None:
    return None if value is None else date_time(field, value)


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
