"""How errors leave the GraphQL endpoint.

Invariant: an error that is not an `AppError` (a bug, a database failure) is logged with its
traceback and replaced by a generic INTERNAL_SERVER_ERROR, so no stack trace or SQL ever
reaches a client (a database that cannot be reached is SERVICE_UNAVAILABLE, with
`retryAfterSeconds`); errors from parsing and validation get GRAPHQL_VALIDATION_FAILED.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from app.db import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, is_unavailable
from app.errors import AppError, ErrorCode

log = logging.getLogger("groupanalyst.graphql")


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, AppError | GraphQLError)


class ClientSafeErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(
            should_mask_error=lambda _: True,
            error_message="Internal server error; it has been logged. Try again later.",
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if _is_unexpected(error):
            log.error("unexpected error at %s", error.path, exc_info=error.original_error)
            masked = super().anonymise_error(error)
            masked.extensions = {"code": ErrorCode.INTERNAL_SERVER_ERROR.value}
            if error.original_error is not None and is_unavailable(error.original_error):
                masked.message = UNAVAILABLE_MESSAGE
                masked.extensions = {
                    "code": ErrorCode.SERVICE_UNAVAILABLE.value,
                    "retryAfterSeconds": RETRY_AFTER_SECONDS,
                }
            return masked
        if not (error.extensions or {}).get("code"):
            code = (
                ErrorCode.GRAPHQL_VALIDATION_FAILED
                if error.path is None
                else ErrorCode.BAD_USER_INPUT
            )
            error.extensions = {**(error.extensions or {}), "code": code.value}
        return error
