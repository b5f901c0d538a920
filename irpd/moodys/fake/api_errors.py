"""Moody's-shaped error answers: ``{code, message, logId}`` with an HTTP status."""

from __future__ import annotations

import json
import secrets

from aiohttp import web

from irpd.errors import PermanentError


class ApiError(PermanentError):
    """Raised by a route to answer with a Moody's error body; never leaves the fake."""

    kind = "FakeApiError"

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def bad_request(code: str, message: str) -> ApiError:
    """A ``400`` validation error."""
    return ApiError(400, code, message)


def not_found(code: str, message: str) -> ApiError:
    """A ``404`` for an unknown resource."""
    return ApiError(404, code, message)


def next_log_id() -> str:
    """A hexadecimal id like the ``logId`` Moody's puts in error bodies."""
    return secrets.token_hex(9)[:17]


def error_body(code: str, message: str) -> dict[str, str]:
    """The JSON body of a Moody's error."""
    return {"code": code, "message": message, "logId": next_log_id()}


def error_response(status: int, code: str, message: str) -> web.Response:
    """A complete Moody's error response."""
    return web.Response(
        status=status,
        body=json.dumps(error_body(code, message)).encode(),
        content_type="application/json",
    )


def response_for(error: ApiError) -> web.Response:
    """The response that answers *error*."""
    return error_response(error.status, error.code, error.message)
