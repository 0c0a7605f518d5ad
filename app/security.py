"""Passwords and bearer tokens.

Invariants:
- passwords are hashed with Argon2id (argon2-cffi defaults); a wrong password and an unknown
  email cost the same work (`verify_password(None, ...)` checks against a dummy hash);
- tokens are 256-bit random strings shown once; only their SHA-256 is stored, so a database
  leak yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")
TOKEN_PREFIX = "ga_"  # noqa: S105  (a recognisable prefix, not a secret)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
