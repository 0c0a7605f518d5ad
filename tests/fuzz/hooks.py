"""Schemathesis hooks (`SCHEMATHESIS_HOOKS=tests.fuzz.hooks`): what counts as a failure.

Schemathesis' own `not_a_server_error` calls every GraphQL error with a path a server error;
this API answers expected refusals (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, ...) that way,
each with a code. A failure here is what a client must never see: an HTTP 5xx, an
INTERNAL_SERVER_ERROR, an error without `extensions.code`, or a body that is not JSON.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.check
def no_internal_error(_ctx: Any, response: Any, _case: Any) -> None:
    # Returning a true value would tell Schemathesis the check did not apply.
    assert response.status_code < 500, f"HTTP {response.status_code}"
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"HTTP {response.status_code} with a body that is not JSON") from exc
    assert isinstance(body, dict), "the body is not a JSON object"
    for error in body.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        assert code, f"an error without extensions.code: {error.get('message')!r}"
        assert code != "INTERNAL_SERVER_ERROR", f"INTERNAL_SERVER_ERROR: {error.get('message')!r}"
