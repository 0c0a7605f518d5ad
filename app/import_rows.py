"""The rows of a CSV import, checked without the database: columns, cells, one request per row.

Invariants:
- column names are the export's (`app.export.HEADER`) where they exist, plus `Roles`,
  `Analyst Email` and `Expiry Date`; every other export column is tolerated and ignored, so
  an exported file can be imported again;
- every cell goes through the same checks as the API's arguments (`app.validation`), with the
  column's name in the message; a failed check raises `AppError` (BAD_USER_INPUT) for that
  row only;
- a row is identified by `key` (email key; email key and group name key): two rows of one
  file with one key are a duplicate, however their case or Unicode form differ;
- an email whose parts mix scripts (a Cyrillic a among Latin letters) is refused: it is
  the look-alike of another address, which the API alone cannot tell;
- `Expiry Date` is a date (`2026-12-31`, the start of that day, UTC) or a date-time with a
  zone (`2026-12-31T17:00:00Z`, as the export writes it); empty means never; the column left
  out keeps what an existing assignment has.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from app import validation
from app.assignment_admin import Expiry, Keep
from app.csv_file import Columns
from app.errors import bad_input
from app.export import HEADER
from app.identity import email_key, group_name_key
from app.models import Role

FIRST_NAME, LAST_NAME, EMAIL, COMPANY, GROUP = HEADER[:5]
EXPIRY = "Expiry Date"
ROLES = "Roles"
ANALYST_EMAIL = "Analyst Email"
ROLES_MAX = 200
DATE_TEXT_MAX = 40


def columns(*read: str, optional: tuple[str, ...] = ()) -> Columns:
    return Columns(
        required=read,
        optional=optional,
        ignored=tuple(c for c in HEADER if c not in read and c not in optional),
    )


@dataclass(frozen=True)
class UserRequest:
    line: int
    first_name: str
    last_name: str
    email: str
    # None: no company (an empty cell); `company_given` False: the file has no Company column,
    # so an existing user keeps its company.
    company: str | None
    company_given: bool
    # None: no Roles column or an empty cell (a new user is a STUDENT, a user keeps its roles).
    roles: frozenset[Role] | None

    @property
    def key(self) -> tuple[str, ...]:
        return (email_key(self.email),)


@dataclass(frozen=True)
class MembershipRequest:
    line: int
    email: str
    group_name: str

    @property
    def key(self) -> tuple[str, ...]:
        return (email_key(self.email), group_name_key(self.group_name))


@dataclass(frozen=True)
class AssignmentRequest:
    line: int
    email: str
    group_name: str
    expires_at: Expiry

    @property
    def key(self) -> tuple[str, ...]:
        return (email_key(self.email), group_name_key(self.group_name))


def _script(ch: str) -> str:
    return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]


def email(column: str, value: str) -> str:
    """A valid address (the API's check), refused when one of its parts mixes scripts."""
    address = validation.email(column, value)
    for part in re.split(r"[@.]", email_key(address)):
        scripts = sorted({_script(ch) for ch in part if ch.isalpha()})
        if len(scripts) > 1:
            raise bad_input(
                column,
                f"{column!r} mixes {' and '.join(scripts)} letters in {part!r}: it looks like "
                "another address. Check it and type it in one script.",
            )
    return address


def roles(value: str) -> frozenset[Role] | None:
    """`STUDENT; GROUP_ANALYST` (also `,` or `|`, any case, spaces for underscores)."""
    value = validation.text(ROLES, value, ROLES_MAX) if value.strip() else ""
    names = [re.sub(r"[\s-]+", "_", p.strip()).upper() for p in re.split(r"[;,|]", value)]
    names = [n for n in names if n]
    if not names:
        return None
    known = [r.value for r in Role]
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise bad_input(
                ROLES,
                f"unknown role {name!r}{hint}; roles are {', '.join(known)}, separated by ';'.",
            )
    return frozenset(Role(n) for n in names)


def expiry(value: str, now: datetime) -> datetime | None:
    """A moment in the future, or None (never) for an empty cell."""
    value = value.strip()
    if not value:
        return None
    message = (
        f"{EXPIRY!r} must be a date such as 2026-12-31 or a date-time with its zone such as "
        "2026-12-31T17:00:00Z"
    )
    try:
        if len(value) > DATE_TEXT_MAX:
            raise ValueError(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise bad_input(EXPIRY, message + ".") from None
    if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", value):
        moment = moment.replace(tzinfo=UTC)
    if moment.tzinfo is None:
        raise bad_input(EXPIRY, message + " (this one has a time but no zone).")
    moment = validation.date_time(EXPIRY, moment)
    if moment <= now:
        raise bad_input(
            EXPIRY,
            f"{EXPIRY!r} ({value}) is not in the future; to end an assignment, unassign it.",
        )
    return moment


def group_name(value: str) -> str:
    return validation.name(GROUP, value, validation.GROUP_NAME_MAX)


def user_request(line: int, cells: dict[str, str], _now: datetime) -> UserRequest:
    company = validation.optional_text(COMPANY, cells.get(COMPANY), validation.COMPANY_MAX)
    return UserRequest(
        line=line,
        first_name=validation.name(FIRST_NAME, cells[FIRST_NAME], validation.PERSON_NAME_MAX),
        last_name=validation.name(LAST_NAME, cells[LAST_NAME], validation.PERSON_NAME_MAX),
        email=email(EMAIL, cells[EMAIL]),
        company=company,
        company_given=COMPANY in cells,
        roles=roles(cells.get(ROLES, "")),
    )


def membership_request(line: int, cells: dict[str, str], _now: datetime) -> MembershipRequest:
    return MembershipRequest(
        line=line, email=email(EMAIL, cells[EMAIL]), group_name=group_name(cells[GROUP])
    )


def assignment_request(line: int, cells: dict[str, str], now: datetime) -> AssignmentRequest:
    expires_at: Expiry = Keep.EXPIRY
    if EXPIRY in cells:
        expires_at = expiry(cells[EXPIRY], now)
    return AssignmentRequest(
        line=line,
        email=email(ANALYST_EMAIL, cells[ANALYST_EMAIL]),
        group_name=group_name(cells[GROUP]),
        expires_at=expires_at,
    )
