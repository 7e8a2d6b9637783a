"""The simulator's ASGI application: tenant state, signing key, routes, error handling, faults."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tui.sim.config import SimConfig
from tui.sim.errors import SimHTTPError, handle_sim_error, render, shape_for_path
from tui.sim.faults import DateHeaderMiddleware, FaultMiddleware
from tui.sim.routes import aggregates, assets, auth, events, files, mqtt, timeseries
from tui.sim.security import SigningKey
from tui.sim.tenant import build_tenant

_WHITESPACE = (b" ", b"\t", b"\n", b"\r", b"%20", b"%09", b"%0A", b"%0a", b"%0D", b"%0d")


def _rstrip_bytes(value: bytes) -> bytes:
    changed = True
    while changed and value:
        changed = False
        for ws in _WHITESPACE:
            if value.endswith(ws):
                value = value[: -len(ws)]
                changed = True
    return value


class NormaliseMiddleware:
    """Tolerate what the SDK sends (reference 0 and 8): trailing whitespace in path or query, a bare '?'."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope.get("path", "")
            stripped = path.rstrip()
            query: bytes = scope.get("query_string", b"")
            query = _rstrip_bytes(query)
            if stripped != path or query != scope.get("query_string", b""):
                scope = dict(scope)
                scope["path"] = stripped
                raw = scope.get("raw_path")
                if isinstance(raw, bytes):
                    scope["raw_path"] = _rstrip_bytes(raw)
                scope["query_string"] = query
        await self.app(scope, receive, send)


async def _handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own 404/405 in the API's error shape."""
    assert isinstance(exc, HTTPException)
    message = {404: "Resource not found", 405: "Method not allowed"}.get(exc.status_code, str(exc.detail))
    return render(
        SimHTTPError(
            exc.status_code,
            f"{message}: {request.method} {request.url.path}",
            shape=shape_for_path(request.url.path),
            oauth_error="invalid_request",
        )
    )


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    return render(SimHTTPError(500, "Internal simulator error", shape=shape_for_path(request.url.path)))


class SimApp(Starlette):
    """Starlette with the fault injector and the request normaliser outside its error middleware.

    Outside, so that an injected dropped connection is not turned into a 500 by Starlette's
    ``ServerErrorMiddleware``: the exception reaches the server (or ``tui.sim.transport``) untouched.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return DateHeaderMiddleware(NormaliseMiddleware(FaultMiddleware(super().build_middleware_stack())))


def create_app(config: SimConfig | None = None) -> Starlette:
    """Build a simulator app with its own tenant and RSA signing key."""
    config = config or SimConfig()
    tenant = build_tenant(config)
    all_routes: list[Any] = []
    for module in (auth, assets, timeseries, aggregates, mqtt, events, files):
        all_routes.extend(module.routes())
    app = SimApp(
        routes=all_routes,
        exception_handlers={
            SimHTTPError: handle_sim_error,
            HTTPException: _handle_http_exception,
            Exception: _handle_unexpected,
        },
    )
    app.state.config = config
    app.state.tenant = tenant
    app.state.signing_key = SigningKey.generate()
    return app
