"""HTTP error responses outside GraphQL, in the same shape as a GraphQL error."""

from __future__ import annotations

from starlette.responses import JSONResponse

from app.errors import HTTP_STATUS, AppError, ErrorCode


def error_response(status: int, code: ErrorCode, message: str) -> JSONResponse:
    """The same shape as a GraphQL error, so clients need one error path."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value}}]}, status_code=status
    )


def app_error_response(exc: AppError) -> JSONResponse:
    """An expected failure with the HTTP status its code stands for."""
    return error_response(HTTP_STATUS.get(exc.code, 400), exc.code, exc.message)
