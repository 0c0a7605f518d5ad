"""Short-lived signed export links, for dashboards that cannot set headers on a download.

A link is `/exports/progress.csv?<parameters>&expires=<unix seconds>&viewer=<user id>&token=<token
id>&sig=<hex>`
where `sig` is HMAC-SHA256 (key `Settings.secret_key`) over the path and every other query
parameter, canonically encoded.

Invariants:
- changing, adding or removing any parameter (the viewer and the expiry included) breaks the
  signature, so a link exports exactly what its viewer asked for, and nothing for anyone else;
- a link is refused after `expires` (at most `Settings.export_link_ttl` after it was made);
- a link dies with the token whose request made it: the download checks that this token is
  still unrevoked, unexpired and its user's (`app.auth.viewer_for_token_id`), so revoking a
  token (or logging out) ends every link it minted at once; links the server mails itself
  (`SERVER_MADE`) have no token, and only their expiry and the user's deactivation end them;
- a link carries no access of its own: the download re-checks the viewer's current scope.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlencode

from app.errors import AppError, unauthenticated
from app.settings import Settings

EXPORT_PATH = "/exports/progress.csv"
# The token id of a link the server made itself (a scheduled report's mail): it has no token
# to die with, lives `Settings.report_link_ttl`, and ends when its user is deactivated.
SERVER_MADE = 0

LINK_PARAMS = frozenset({"expires", "viewer", "token", "sig"})

_INVALID = "This export link is not valid; ask for a new one (progressExportUrl)."
_EXPIRED = "This export link has expired; ask for a new one (progressExportUrl)."


def invalid_link() -> AppError:
    return unauthenticated(_INVALID)


def _signature(settings: Settings, items: Sequence[tuple[str, str]]) -> str:
    # JSON of the sorted pairs is an injective encoding: no two parameter lists share it.
    message = json.dumps([EXPORT_PATH, sorted(items)], separators=(",", ":"))
    return hmac.new(settings.secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_path(
    settings: Settings,
    viewer_id: int,
    token_id: int,
    items: Sequence[tuple[str, str]],
    now: datetime,
) -> str:
    """The path and query of a link for `viewer_id`, made with token `token_id`, to the
    export with these parameters."""
    expires = int((now + settings.export_link_ttl).timestamp())
    signed = [
        *items,
        ("expires", str(expires)),
        ("viewer", str(viewer_id)),
        ("token", str(token_id)),
    ]
    return f"{EXPORT_PATH}?{urlencode([*signed, ('sig', _signature(settings, signed))])}"


def is_signed(items: Sequence[tuple[str, str]]) -> bool:
    return any(key == "sig" for key, _ in items)


def verify(settings: Settings, items: Sequence[tuple[str, str]], now: datetime) -> tuple[int, int]:
    """The viewer id and token id a valid, unexpired link was made with; UNAUTHENTICATED
    otherwise."""
    sigs = [value for key, value in items if key == "sig"]
    signed = [(key, value) for key, value in items if key != "sig"]
    expires = [value for key, value in signed if key == "expires"]
    viewers = [value for key, value in signed if key == "viewer"]
    tokens = [value for key, value in signed if key == "token"]
    if len(sigs) != 1 or len(expires) != 1 or len(viewers) != 1 or len(tokens) != 1:
        raise invalid_link()
    if not hmac.compare_digest(sigs[0].encode(), _signature(settings, signed).encode()):
        raise invalid_link()
    # Signed by us, so both are the integers we wrote.
    if int(expires[0]) <= now.timestamp():
        raise unauthenticated(_EXPIRED)
    return int(viewers[0]), int(tokens[0])
