"""Errors a client can act on.

Every error leaving the service carries `extensions.code` (one of `ErrorCode`) and a message
a person can act on; anything else (a bug, a database failure) is masked as
INTERNAL_SERVER_ERROR with no stack trace or SQL (see `resolvers.schema`).
"""

from __future__ import annotations

import enum
from typing import Any

from graphql import GraphQLError


class ErrorCode(enum.StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    SEAT_LIMIT_REACHED = "SEAT_LIMIT_REACHED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    RATE_LIMITED = "RATE_LIMITED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # A request the GraphQL layer never saw: a body that is not a JSON object, a bad method.
    BAD_REQUEST = "BAD_REQUEST"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


HTTP_STATUS = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.CONFLICT: 409,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
}


class AppError(GraphQLError):
    """An expected failure; shown to the client as is."""

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None, **extra: Any):
        extensions: dict[str, Any] = {"code": code.value, **extra}
        if field is not None:
            extensions["field"] = field
        super().__init__(message, extensions=extensions)
        self.code = code
        self.field = field


def unauthenticated(
    message: str = "Sign in first: send 'Authorization: Bearer <token>'.",
) -> AppError:
    return AppError(ErrorCode.UNAUTHENTICATED, message)


def forbidden(message: str) -> AppError:
    return AppError(ErrorCode.FORBIDDEN, message)


def not_found(what: str, field: str | None = None) -> AppError:
    return AppError(ErrorCode.NOT_FOUND, f"No {what} with that id.", field=field)


def bad_input(field: str, message: str) -> AppError:
    return AppError(ErrorCode.BAD_USER_INPUT, message, field=field)


def conflict(field: str, message: str) -> AppError:
    return AppError(ErrorCode.CONFLICT, message, field=field)


def require(allowed: bool, message: str) -> None:
    """FORBIDDEN with `message` unless `allowed` (an answer of `permissions.policy.AccessScope`)."""
    if not allowed:
        raise forbidden(message)
