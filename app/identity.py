"""How identities compare: the keys behind "one account per email" and "one group per name".

Invariants:
- a key is the NFKC normalisation of the trimmed text, case-folded (`str.casefold`), so
  full-width letters, composed and decomposed accents, and case variants of one email or
  group name share a key, and the unique constraints on `email_key` and `name_key` hold
  across them; a group name's key also drops the zero-width joiners names may contain;
- an email is checked by `email-validator` (syntax only, no DNS: deliverability is not
  ours to judge); it refuses invisible and format characters (a zero-width space would make
  a second address look like the first). The address stored is its normalised form.
Migration 0008 recomputed the keys of existing rows with these rules.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from app.errors import bad_input

_JOINERS = str.maketrans({"\u200c": None, "\u200d": None})


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text.strip()).casefold()


def email_key(email: str) -> str:
    return _key(email)


def search_key(text: str) -> str:
    """A search term in the form keys are in, so it matches them."""
    return _key(text)


def group_name_key(name: str) -> str:
    return _key(name.translate(_JOINERS))


def checked_email(field: str, value: str) -> str:
    """The address in its normalised form, or BAD_USER_INPUT saying what is wrong with it."""
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise bad_input(field, f"'{field}' is not a valid email address: {exc}") from None
    return str(result.normalized)
