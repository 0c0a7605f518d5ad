"""HTTP error responses outside GraphQL, in the same shape as a GraphQL error."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.errors import HTTP_STATUS, AppError, ErrorCode


def error_response(
    status: int, code: ErrorCode, message: str, field: str | None = None
) -> JSONResponse:
    """The same shape as a GraphQL error, so clients need one error path."""
    extensions = {"code": code.value} | ({"field": field} if field else {})
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]}, status_code=status
    )


def app_error_response(exc: AppError) -> JSONResponse:
    """An expected failure with the HTTP status its code stands for (and the field at fault)."""
    return error_response(HTTP_STATUS.get(exc.code, 400), exc.code, exc.message, exc.field)


# A bare 400 is a malformed request (BAD_REQUEST), not a bad value in a named field.
_HTTP_CODES = {status: code for code, status in HTTP_STATUS.items()} | {400: ErrorCode.BAD_REQUEST}


def code_for_status(status: int) -> ErrorCode:
    """The error code a plain HTTP failure (bad body, wrong method, unknown path) carries."""
    if status in _HTTP_CODES:
        return _HTTP_CODES[status]
    return ErrorCode.BAD_REQUEST if 400 <= status < 500 else ErrorCode.INTERNAL_SERVER_ERROR


async def http_error_response(_request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 answers, in the API's error shape (405 keeps its `Allow`)."""
    assert isinstance(exc, HTTPException)
    response = error_response(exc.status_code, code_for_status(exc.status_code), exc.detail)
    response.headers.update(exc.headers or {})
    return response
