"""Fault injection: latency, 429 with Retry-After, 500, 503 and dropped connections.

A pure ASGI middleware. It reads ``app.state.config`` and counts in ``app.state.tenant.counters``
("requests", "faults", "faults_429", "faults_500", "faults_503", "faults_drop"). Draws come from a
``random.Random`` seeded with ``config.seed``, so a run with the same request sequence is reproducible.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import threading

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tui.sim.config import SimConfig
from tui.sim.errors import SimHTTPError, error_body, shape_for_path

TOKEN_PATHS = ("/oauth/token", "/token_keys", "/api/technicaltokenmanager/")
# The body the response start announces for a dropped connection; the body is never completed.
_DROP_ANNOUNCED_LENGTH = 1024


class ConnectionDropped(Exception):
    """The simulator dropped the connection: the client must see a transport error, not a status."""


def is_token_path(path: str) -> bool:
    return path.startswith(TOKEN_PATHS)


def is_api_path(path: str) -> bool:
    return path.startswith("/api/") or is_token_path(path)


class FaultMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._rng: random.Random | None = None
        self._rng_lock = threading.Lock()

    def _draw(self, config: SimConfig) -> str | None:
        with self._rng_lock:
            if self._rng is None:
                self._rng = random.Random(config.seed ^ 0x5EED_FA17)
            rng = self._rng
            if config.fault_rate <= 0 or not config.faults:
                return None
            if rng.random() >= config.fault_rate:
                return None
            return rng.choice(list(config.faults))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        app = scope["app"]
        config: SimConfig = app.state.config
        tenant = app.state.tenant
        if not is_api_path(path):
            await self.app(scope, receive, send)
            return
        tenant.bump("requests")
        token = is_token_path(path)
        if config.latency_ms > 0 and not token:
            await asyncio.sleep(config.latency_ms / 1000.0)
        fault = None
        if not token or config.fault_tokens:
            fault = self._draw(config)
        if fault is None:
            await self.app(scope, receive, send)
            return
        tenant.bump("faults")
        tenant.bump(f"faults_{fault}")
        if fault == "drop":
            await _drop(send)
            return
        status = int(fault)
        messages = {
            429: "Too many requests: rate limit exceeded",
            500: "Internal server error (injected by the simulator)",
            503: "Service temporarily unavailable (injected by the simulator)",
        }
        headers = {"Retry-After": retry_after_value(config)} if status in (429, 503) else {}
        exc = SimHTTPError(
            status,
            messages.get(status, "Injected fault"),
            shape=shape_for_path(path),
            headers=headers,
            oauth_error="temporarily_unavailable" if status != 429 else "too_many_requests",
        )
        await _send_error(exc, send)


def retry_after_value(config: SimConfig) -> str:
    """``Retry-After`` in the configured form: delay-seconds, or an HTTP-date on the simulator's clock."""
    if config.retry_after_http_date:
        return email.utils.formatdate(config.clock() + config.retry_after_s, usegmt=True)
    return str(config.retry_after_s)


class DateHeaderMiddleware:
    """Every response carries ``Date`` from the simulator's clock (RFC 9110 6.6.1), so a simulator
    whose clock is set apart from the client's shows it the way a real server does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        config: SimConfig = scope["app"].state.config

        async def dated_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"date" for k, _ in headers):
                    date = email.utils.formatdate(config.clock(), usegmt=True)
                    headers.append((b"date", date.encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, dated_send)


async def _send_error(exc: SimHTTPError, send: Send) -> None:
    import json
    import uuid

    logref = uuid.uuid4().hex
    body = json.dumps(error_body(exc, logref)).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"x-correlation-id", logref.encode("ascii")),
    ] + [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in exc.headers.items()]
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send) -> None:
    """Drop the connection: raised before any response start.

    In-process, ``tui.sim.transport`` turns it into ``httpx.RemoteProtocolError``. Over uvicorn,
    ``WireDropAdapter`` (installed by ``tui.sim.server``) turns it into a response that announces a body
    length, sends part of it and ends the connection, so the client sees a broken connection, not a 500.
    """
    raise ConnectionDropped("connection dropped by the simulator")


class WireDropAdapter:
    """Outermost ASGI wrapper for a real server: makes ``ConnectionDropped`` a real dropped connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ConnectionDropped:
            if started:
                raise
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(_DROP_ANNOUNCED_LENGTH).encode("ascii")),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b'{"dropped', "more_body": True})
            # Returning without completing the announced body makes the server close the socket.
