"""The fuzzing check (`tests.fuzz.hooks`) fails on what a client must never see, and only then."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fuzz.hooks import no_internal_error


@dataclass
class FakeResponse:
    status_code: int
    content: bytes


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


REFUSED = {"message": "Sign in first.", "extensions": {"code": "UNAUTHENTICATED"}}


@pytest.mark.parametrize(
    "response",
    [
        FakeResponse(200, body({"data": {"viewer": None}})),
        FakeResponse(200, body({"data": None, "errors": [REFUSED]})),
        FakeResponse(
            400, body({"errors": [{**REFUSED, "extensions": {"code": "BAD_USER_INPUT"}}]})
        ),
        FakeResponse(429, body({"data": None, "errors": [REFUSED]})),
    ],
)
def test_coded_refusals_pass(response: FakeResponse) -> None:
    no_internal_error(None, response, None)


@pytest.mark.parametrize(
    ("response", "why"),
    [
        (FakeResponse(500, body({"errors": [REFUSED]})), "HTTP 500"),
        (FakeResponse(200, b"Internal Server Error"), "not JSON"),
        (FakeResponse(200, body(["x"])), "not a JSON object"),
        (FakeResponse(200, body({"errors": [{"message": "boom"}]})), "without extensions.code"),
        (
            FakeResponse(
                200,
                body(
                    {
                        "data": None,
                        "errors": [
                            {"message": "x", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
                        ],
                    }
                ),
            ),
            "INTERNAL_SERVER_ERROR",
        ),
    ],
)
def test_what_must_never_happen_fails(response: FakeResponse, why: str) -> None:
    with pytest.raises(AssertionError, match=why):
        no_internal_error(None, response, None)
