"""GraphQL over HTTP: which media type a response uses, and its status code.

Invariants (the GraphQL-over-HTTP specification):
- a client whose `Accept` prefers `application/graphql-response+json` gets that media type;
  then an operation that did not execute (a request error: unparsable or invalid document,
  variables that do not coerce, or a refusal before execution such as QUERY_TOO_COMPLEX)
  answers with a 4xx status (the status of its error code, 400 by default) and no `data`
  entry, while an executed operation answers 200, errors or not;
- every other client (`application/json`, `*/*`, no `Accept`) keeps the legacy behaviour:
  `application/json` and 200 for any GraphQL result, except RATE_LIMITED (429), which every
  client gets so that throttling is visible to HTTP tooling.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.errors import HTTP_STATUS, ErrorCode


class Media(enum.StrEnum):
    JSON = "application/json"
    GRAPHQL_RESPONSE = "application/graphql-response+json"


def _quality(parameters: Iterable[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def preferred_media(accept: str | None) -> Media:
    """`application/graphql-response+json` only when the client prefers it (ties go to it:
    a client naming it at all knows it)."""
    if not accept:
        return Media.JSON
    best: dict[str, float] = {}
    for item in accept.split(",")[:32]:
        media, *parameters = item.split(";")
        media = media.strip().lower()
        best[media] = max(best.get(media, 0.0), _quality(parameters))
    modern = best.get(Media.GRAPHQL_RESPONSE.value, 0.0)
    legacy = best.get(Media.JSON.value, 0.0)
    return Media.GRAPHQL_RESPONSE if modern > 0 and modern >= legacy else Media.JSON


def _errors(errors: Sequence[object] | None) -> list[Mapping[str, Any]]:
    return [error for error in errors or () if isinstance(error, Mapping)]


def executed(data: object, errors: Sequence[object] | None) -> bool:
    """Whether execution started: it did if there is data, or if an error has a `path`
    (a field failed; a non-null root field failing makes `data` null)."""
    return data is not None or any(error.get("path") for error in _errors(errors))


def request_error_status(errors: Sequence[object] | None) -> int:
    """The HTTP status of an operation that did not execute, from its first error's code."""
    for error in _errors(errors):
        code = (error.get("extensions") or {}).get("code")
        if code == ErrorCode.INTERNAL_SERVER_ERROR:
            return 500
        if isinstance(code, str) and code in ErrorCode.__members__:
            return HTTP_STATUS.get(ErrorCode(code), 400)
    return 400
