"""Which new passwords are accepted: NIST SP 800-63B, section 5.1.1.2.

Invariants (`check_new_password`, the one check for every password a person chooses: user
creation, the owner at `init`, password changes and resets):
- at least `PASSWORD_MIN` (12) and at most `PASSWORD_MAX` characters, any characters
  (spaces and emoji included) but not only whitespace, NUL or lone surrogates;
- not common or guessable: zxcvbn (a maintained strength estimator with its own lists of
  common passwords, names, words and keyboard patterns) must rate it at least
  `MIN_SCORE` (3 of 4: about 10^8 guesses or more), told the user's names, email and this
  service's name, also once those words are taken out of it, and it must not contain the
  user's email or the part before the `@`;
- no composition rules (no "one digit, one symbol"), as the guideline says;
- a refusal is BAD_USER_INPUT on the field, saying why and what would be accepted.
The password itself is never logged or echoed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from zxcvbn import zxcvbn

from app.errors import bad_input
from app.validation import PASSWORD_MAX, valid_unicode

PASSWORD_MIN = 12
MIN_SCORE = 3
# zxcvbn's own bound (its matching is slow beyond); a longer password is judged by its start.
_ESTIMATE_MAX = 72
SERVICE_WORDS = ("groupanalyst", "group analyst", "analyst")


def _context(user_inputs: Sequence[str]) -> list[str]:
    words = [w.strip() for w in user_inputs if w and w.strip()]
    for value in list(words):
        if "@" in value:
            words.append(value.split("@", 1)[0])
    return [*words, *SERVICE_WORDS]


def _without(password: str, words: Sequence[str]) -> str:
    """The password with every context word of 3+ letters taken out, any case."""
    pieces = {p for w in words for p in re.split(r"[\s.@_+-]+", w) if len(p) >= 3}
    rest = password
    for piece in sorted(pieces, key=len, reverse=True):
        rest = re.sub(re.escape(piece), "", rest, flags=re.IGNORECASE)
    return rest


def check_new_password(field: str, password: str, user_inputs: Sequence[str] = ()) -> str:
    """The password if a person may choose it; BAD_USER_INPUT saying why otherwise.

    `user_inputs`: the account's first and last name and email (what an attacker knows)."""
    valid_unicode(field, password)
    if len(password) < PASSWORD_MIN:
        raise bad_input(
            field,
            f"'{field}' must be at least {PASSWORD_MIN} characters; a few unrelated words "
            "make a long password that is easy to remember.",
        )
    if len(password) > PASSWORD_MAX:
        raise bad_input(field, f"'{field}' must be at most {PASSWORD_MAX} characters.")
    if not password.strip():
        raise bad_input(field, f"'{field}' must not be only spaces.")
    folded = password.casefold()
    emails = [w.strip() for w in user_inputs if "@" in w]
    user_names = [w.split("@", 1)[0] for w in emails]
    if any(len(w) >= 3 and w.casefold() in folded for w in [*emails, *user_names]):
        raise bad_input(field, f"'{field}' must not contain your email address or user name.")
    context = _context(user_inputs)
    estimate = zxcvbn(password[:_ESTIMATE_MAX], user_inputs=context)
    # What is left once the user's own names are taken out must stand on its own too
    # ("Nina Keller 1990" is "1990" to anyone who knows Nina).
    rest = _without(password, context)
    if rest != password and estimate["score"] >= MIN_SCORE:
        estimate = zxcvbn(rest[:_ESTIMATE_MAX] or " ", user_inputs=context)
    if estimate["score"] < MIN_SCORE:
        feedback = estimate["feedback"]
        why = feedback.get("warning") or "It would be guessed quickly."
        hint = " ".join(feedback.get("suggestions") or ["Add another word or two."])
        raise bad_input(
            field,
            f"'{field}' is too easy to guess: {why.rstrip('.')}. {hint} "
            "(A few unrelated words work well; no digits or symbols are required.)",
        )
    return password
