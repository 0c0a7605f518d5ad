"""Passwords and bearer tokens.

Invariants:
- passwords are hashed with Argon2id (argon2-cffi defaults); a wrong password and an unknown
  email cost the same work (`verify_password(None, ...)` checks against a dummy hash);
- the dummy hash is computed once, on the first password check of any kind, not at import:
  an Argon2 hash costs about 64 MiB and tens of milliseconds, which no process that never
  checks a password (the CLI, a migration, a worker before its first login) should pay;
- tokens are 256-bit random strings shown once; only their SHA-256 is stored, so a database
  leak yields no usable token.
"""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
TOKEN_PREFIX = "ga_"  # noqa: S105  (a recognisable prefix, not a secret)


@functools.cache
def _dummy_hash() -> str:
    # Same parameters as real hashes, so verifying against it costs what a real check costs.
    # Two threads racing the first call may both compute it; the results are equivalent.
    return _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    # Always fetched, so the first check in a process costs the same for a known email.
    dummy = _dummy_hash()
    try:
        return _hasher.verify(stored_hash or dummy, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
