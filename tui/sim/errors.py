"""Error responses in the three Insights Hub body shapes (reference section 6).

Routes raise ``SimHTTPError``; the app's exception handler renders it in the shape of the API that
raised it, with a meaningful reason phrase, a logref and an ``X-Correlation-ID`` header.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

# Body shapes.
ERRORS = "errors"  # {"errors":[{"code","logref","message"}]}: AM, aggregates v4, MQTT
ID_MESSAGE = "id_message"  # {"id","message"}: IoT Time Series v3
OAUTH = "oauth"  # {"error","error_description"}: token endpoints


class SimHTTPError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        shape: str = ERRORS,
        headers: dict[str, str] | None = None,
        oauth_error: str | None = None,
        message_parameters: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _default_code(status)
        self.shape = shape
        self.headers = dict(headers or {})
        self.oauth_error = oauth_error
        self.message_parameters = message_parameters


def _default_code(status: int) -> str:
    return {
        400: "mdsp.core.generic.badRequest",
        401: "mdsp.core.generic.unauthorized",
        403: "mdsp.core.generic.forbidden",
        404: "mdsp.core.generic.notFound",
        409: "mdsp.core.generic.conflict",
        412: "mdsp.core.generic.preconditionFailed",
        428: "mdsp.core.generic.preconditionRequired",
        429: "mdsp.core.generic.tooManyRequests",
        500: "mdsp.core.generic.internalServerError",
        503: "mdsp.core.generic.serviceUnavailable",
    }.get(status, "mdsp.core.generic.error")


def error_body(exc: SimHTTPError, logref: str) -> dict[str, Any]:
    if exc.shape == ID_MESSAGE:
        return {"id": logref, "message": exc.message}
    if exc.shape == OAUTH:
        return {
            "id": logref,
            "error": exc.oauth_error or "invalid_request",
            "error_description": f"{exc.message} (Correlation-ID: {logref})",
        }
    item: dict[str, Any] = {"code": exc.code, "logref": logref, "message": exc.message}
    if exc.message_parameters:
        item["messageParameters"] = exc.message_parameters
    return {"errors": [item]}


def render(exc: SimHTTPError) -> JSONResponse:
    logref = uuid.uuid4().hex
    headers = {"X-Correlation-ID": logref, **exc.headers}
    return JSONResponse(error_body(exc, logref), status_code=exc.status, headers=headers)


async def handle_sim_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SimHTTPError)
    return render(exc)


def shape_for_path(path: str) -> str:
    """Which error shape the API behind ``path`` uses."""
    if path.startswith("/api/iottimeseries/"):
        return ID_MESSAGE
    if path.startswith("/oauth/") or path.startswith("/api/technicaltokenmanager/") or path == "/token_keys":
        return OAUTH
    return ERRORS
