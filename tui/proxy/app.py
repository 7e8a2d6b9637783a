"""The proxy's ASGI application: checks, forwarding, streaming, and one event per request.

Every request goes through, in this order (the first failing check answers with a plain-text body and
an ``X-Ihub-Proxy-Error`` header naming the check; nothing is forwarded):

1. ``Host`` must name a loopback address when the proxy listens on loopback (421, ``host``): a web page
   cannot reach the proxy through a DNS name rebound to 127.0.0.1.
2. An ``Origin`` header must be the one named CORS origin (403, ``origin``): a page on another site cannot
   make the proxy act for it, with or without the access key. Preflights of the named origin are answered
   by Starlette's ``CORSMiddleware`` and never forwarded.
3. The access key, from the ``X-Ihub-Proxy-Key`` header or the ``ihub_proxy_key`` query parameter
   (401, ``access-key``), compared in constant time; the parameter is removed before forwarding.
4. Only ``/api/...`` is served, without ``.``/``..`` segments (404 ``path`` / 400 ``path``).
5. Read-only: any method but GET and HEAD (403, ``read-only``).

Failures towards the gateway become 502 (token or connection) or 504 (timeout), also plain text and
without the token or the secret. Responses of the gateway, errors included, pass unchanged apart from
the headers and links of ``tui.proxy.rewrite``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, unquote_plus

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from tui.api.errors import ApiError, TransportError
from tui.proxy.config import KEY_HEADER, KEY_PARAM, ProxyConfig, is_loopback
from tui.proxy.rewrite import LinkRewriter, is_json, request_headers, response_headers
from tui.proxy.upstream import Body, GatewayUnreachable, Upstream

log = logging.getLogger("ihub.proxy")

READ_METHODS = frozenset({"GET", "HEAD"})
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ERROR_HEADER = "X-Ihub-Proxy-Error"
EXPOSED_HEADERS = [
    "Link",
    "Location",
    "ETag",
    "X-Correlation-ID",
    "Retry-After",
    "Content-Disposition",
    ERROR_HEADER,
]
_KEY_HEADER = KEY_HEADER.lower().encode("latin-1")
_KEY_PARAM = KEY_PARAM
# Bodies up to this size (with a Content-Length) are read whole and sent in one piece; larger or
# unknown-length bodies stream chunk by chunk.
SMALL_BODY = 64 * 1024


@dataclass(frozen=True)
class RequestEvent:
    """One request as the proxy handled it (the activity log's and ``--verbose``'s line).

    ``path`` as requested, ``query`` without the access key; ``status`` sent to the client;
    ``duration_ms`` until the last byte was sent; ``bytes_sent``/``bytes_received``: body bytes;
    ``refused``: the check that refused it (``host``, ``origin``, ``access-key``, ``path``, ``read-only``)
    or None; ``error``: a plain message when the gateway could not be used; ``at``: epoch seconds.
    """

    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    bytes_sent: int
    bytes_received: int
    forwarded: bool
    at: float
    refused: str | None = None
    error: str | None = None

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def to_dict(self) -> dict[str, object]:
        """The event as JSON-ready data (``ihub proxy -o json --verbose``)."""
        return {
            "event": "request",
            "at": round(self.at, 3),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 2),
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "forwarded": self.forwarded,
            "refused": self.refused,
            "error": self.error,
        }


@dataclass
class ProxyStats:
    """Live counters (read them from any thread; they are only written by the proxy's event loop)."""

    requests: int = 0  # every request received
    forwarded: int = 0  # requests sent to the gateway
    refused: int = 0  # requests refused by a check
    failed: int = 0  # gateway unreachable, token refused or a response cut short
    in_flight: int = 0
    bytes_sent: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class _Refused(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def _plain(status: int, reason: str, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> Message:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"cache-control", b"no-store"),
        (ERROR_HEADER.lower().encode(), reason.encode()),
        *(extra or []),
    ]
    return {"type": "http.response.start", "status": status, "headers": headers}


def _query_without_key(raw: bytes) -> tuple[bytes, str | None]:
    """The raw query without any ``ihub_proxy_key`` parameter, and that parameter's value."""
    if not raw or _KEY_PARAM.encode() not in raw.lower() and b"%" not in raw:
        return raw, None
    kept: list[bytes] = []
    key: str | None = None
    for part in raw.split(b"&"):
        name, _, value = part.partition(b"=")
        if unquote_plus(name.decode("latin-1")) == _KEY_PARAM:
            key = unquote_plus(value.decode("latin-1"))
            continue
        kept.append(part)
    return b"&".join(kept), key


def _content_length(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _host_name(host: str) -> str:
    host = host.strip()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _bad_segments(path: str) -> bool:
    decoded = unquote(path)
    return any(seg in (".", "..") for seg in decoded.replace("\\", "/").split("/"))


class ProxyHandler:
    """The ASGI callable behind the Starlette app (raw ASGI: bodies stream in both directions)."""

    def __init__(
        self,
        config: ProxyConfig,
        upstream: Callable[[], Upstream],
        stats: ProxyStats,
        emit: Callable[[RequestEvent], None],
        local_url: Callable[[], str],
    ) -> None:
        self.config = config
        self._upstream = upstream
        self.stats = stats
        self._emit = emit
        self._local_url = local_url
        self._key = config.access_key.encode() if config.require_key and config.access_key else None
        self._links = LinkRewriter(config.gateway)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover - websockets are not routed here
            return
        started = time.perf_counter()
        at = time.time()
        method: str = scope["method"]
        path: str = scope["path"]
        raw_query: bytes = scope.get("query_string", b"")
        query, query_key = _query_without_key(raw_query)
        stats = self.stats
        stats.requests += 1
        stats.in_flight += 1
        status = 500
        sent = 0
        received = 0
        forwarded = False
        refused: str | None = None
        error: str | None = None
        try:
            try:
                header_key = self._check(scope, path, method, query_key)
            except _Refused as exc:
                status, refused = exc.status, exc.reason
                stats.refused += 1
                body = f"ihub proxy: {exc.message}\n".encode()
                await send(_plain(exc.status, exc.reason, exc.message))
                await send({"type": "http.response.body", "body": body})
                sent = len(body)
                return
            forwarded = True
            stats.forwarded += 1
            status, sent, received, error = await self._forward(
                scope, receive, send, method, query, link_key=None if header_key else query_key
            )
        finally:
            stats.in_flight -= 1
            stats.bytes_sent += sent
            stats.by_status[status] = stats.by_status.get(status, 0) + 1
            if error:
                stats.failed += 1
            event = RequestEvent(
                method=method,
                path=path,
                query=query.decode("latin-1"),
                status=status,
                duration_ms=(time.perf_counter() - started) * 1000,
                bytes_sent=sent,
                bytes_received=received,
                forwarded=forwarded,
                at=at,
                refused=refused,
                error=error,
            )
            self._emit(event)

    # -- checks -------------------------------------------------------------------------------------

    def _check(self, scope: Scope, path: str, method: str, query_key: str | None) -> bool:
        """Raise ``_Refused`` for a request that must not be forwarded; True when the key came in a header."""
        config = self.config
        host = origin = header_key = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"origin":
                origin = value.decode("latin-1")
            elif name == _KEY_HEADER:
                header_key = value
        if host is not None and config.loopback and not is_loopback(_host_name(host)):
            raise _Refused(
                421, "host", f"this proxy answers to 127.0.0.1 or localhost, not to {_host_name(host)!r}"
            )
        if origin is not None and origin.rstrip("/").lower() != (config.cors_origin or "").lower():
            hint = "" if config.cors_origin else "; allow one web page's origin with --cors ORIGIN"
            raise _Refused(403, "origin", f"requests from web pages at {origin} are refused{hint}")
        if self._key is not None:
            given = header_key if header_key is not None else (query_key.encode() if query_key else None)
            if given is None:
                raise _Refused(
                    401,
                    "access-key",
                    f"access key missing: send it in the {KEY_HEADER} header "
                    f"or the {KEY_PARAM} query parameter",
                )
            if not hmac.compare_digest(given, self._key):
                raise _Refused(401, "access-key", "wrong access key")
        if not path.startswith("/api/"):
            raise _Refused(404, "path", f"only /api/... is forwarded, not {path[:200]!r}")
        if _bad_segments(path):
            raise _Refused(400, "path", "paths with '.' or '..' segments are not forwarded")
        if config.read_only and method not in READ_METHODS:
            raise _Refused(
                403,
                "read-only",
                f"read-only{f' profile {config.profile!r}' if config.profile else ''}: "
                f"{method} refused, only GET and HEAD are forwarded",
            )
        return header_key is not None

    # -- forwarding ---------------------------------------------------------------------------------

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, method: str, query: bytes, link_key: str | None
    ) -> tuple[int, int, int, str | None]:
        """Forward one request and stream the answer; returns (status, bytes sent, bytes received, error)."""
        upstream = self._upstream()
        raw_path: bytes = scope.get("raw_path") or quote(scope["path"]).encode("ascii")
        url = upstream.url(raw_path.split(b"?", 1)[0], query)
        headers = request_headers(scope["headers"])
        body_state = _RequestBody(receive, self.config.replay_limit)
        try:
            body = await body_state.prepare()
            response = await upstream.send(method, url, headers, body, replayable=body_state.replayable)
        except GatewayUnreachable as exc:
            status = 504 if exc.timeout else 502
            message = f"gateway not reachable: {exc.error.detail}"
            return await self._fail(send, status, "gateway", message, body_state.received)
        except ApiError as exc:  # token request refused or failed
            message = (
                f"no token for profile {self.config.profile!r}: {exc}"
                if self.config.profile
                else f"no token: {exc}"
            )
            return await self._fail(send, 502, "token", message, body_state.received)
        except _ClientGone:
            return 499, 0, body_state.received, "client closed the connection while sending the body"
        status = response.status_code
        sent = 0
        watcher: asyncio.Task[None] | None = None
        gone = asyncio.Event()
        try:
            has_body = method != "HEAD" and status not in (204, 304) and status >= 200
            content_type = response.headers.get("content-type")
            rewrite = has_body and is_json(content_type)
            encoded = response.headers.get("content-encoding", "identity").lower() not in ("", "identity")
            # An in-memory response (a test transport) only has its decoded content.
            decode = encoded and (rewrite or response.is_stream_consumed)
            drop = ["content-length"] if rewrite else []
            if decode:
                drop.append("content-encoding")
            local = self._local(scope)
            length = _content_length(response.headers.get("content-length"))
            small = has_body and length is not None and length <= SMALL_BODY
            if small:
                drop.append("content-length")
            out_headers = []
            for name, value in response_headers(response.headers.raw, drop=drop):
                if name in (b"link", b"location", b"content-location"):
                    value = self._links.header(name, value, local, link_key)
                out_headers.append((name, value))
            if small:
                # A small body (known length) is read first and sent in one piece with its length:
                # fewer writes per request, and a gateway that drops it still gets a clean 502.
                try:
                    parts = [c async for c in _chunks(response, decode)]
                except httpx.HTTPError as exc:
                    err = TransportError.from_exception(exc, method=method, url=url.copy_with(query=None))
                    message = f"gateway dropped the response: {err}"
                    return await self._fail(send, 502, "gateway", message, body_state.received)
                data = b"".join(parts)
                if rewrite:
                    whole = self._links.body(local, link_key)
                    data = whole.feed(data) + whole.flush()
                out_headers.append((b"content-length", str(len(data)).encode("ascii")))
                await send({"type": "http.response.start", "status": status, "headers": out_headers})
                await send({"type": "http.response.body", "body": data})
                return status, len(data), body_state.received, None
            await send({"type": "http.response.start", "status": status, "headers": out_headers})
            if not has_body:
                await response.aclose()
                await send({"type": "http.response.body", "body": b""})
                return status, 0, body_state.received, None
            if body_state.done:
                watcher = asyncio.ensure_future(_watch_disconnect(receive, gone))
            rewriter = self._links.body(local, link_key) if rewrite else None
            chunks = _chunks(response, decode)
            try:
                async for chunk in chunks:
                    if rewriter is not None:
                        chunk = rewriter.feed(chunk)
                    if chunk:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                        sent += len(chunk)
                    if gone.is_set():
                        return status, sent, body_state.received, "client closed the connection"
            except httpx.HTTPError as exc:
                err = TransportError.from_exception(exc, method=method, url=url.copy_with(query=None))
                log.warning("%s %s: response cut short: %s", method, scope["path"], err)
                # Returning without completing the response makes the server close the connection, so
                # the client sees a broken transfer, never a silently truncated body.
                return status, sent, body_state.received, f"response cut short: {err}"
            tail = rewriter.flush() if rewriter is not None else b""
            await send({"type": "http.response.body", "body": tail, "more_body": False})
            sent += len(tail)
            return status, sent, body_state.received, None
        finally:
            if watcher is not None:
                watcher.cancel()
            await response.aclose()

    async def _fail(
        self, send: Send, status: int, reason: str, message: str, received: int
    ) -> tuple[int, int, int, str]:
        log.warning("ihub proxy: %s", message)
        body = f"ihub proxy: {message}\n".encode()
        await send(_plain(status, reason, message))
        await send({"type": "http.response.body", "body": body})
        return status, len(body), received, message

    def _local(self, scope: Scope) -> str:
        """The proxy's own base URL as this client addressed it (checked Host), else the bound URL."""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1").strip()
                if host and all(c not in host for c in '/\\@ "<>'):
                    return f"http://{host}"
        return self._local_url()


def _chunks(response: httpx.Response, decode: bool) -> AsyncIterator[bytes]:
    """The body as it arrives: decoded (to rewrite a compressed JSON body) or as sent."""
    if response.is_stream_consumed:  # already in memory (e.g. a transport that built it whole)
        return _one(response.content)
    return response.aiter_bytes() if decode else response.aiter_raw()


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


class _ClientGone(Exception):
    pass


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


class _RequestBody:
    """The client's request body: kept whole up to ``limit`` bytes (replayable), else streamed."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self._limit = limit
        self.received = 0
        self.done = False
        self.replayable = True

    async def _next(self) -> bytes:
        message = await self._receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone()
        chunk = message.get("body", b"")
        self.received += len(chunk)
        if not message.get("more_body", False):
            self.done = True
        return chunk

    async def prepare(self) -> Body:
        parts: list[bytes] = []
        size = 0
        while not self.done:
            chunk = await self._next()
            parts.append(chunk)
            size += len(chunk)
            if size > self._limit and not self.done:
                self.replayable = False
                return self._stream(parts)
        return b"".join(parts)

    async def _stream(self, first: list[bytes]) -> AsyncIterator[bytes]:
        for chunk in first:
            yield chunk
        while not self.done:
            chunk = await self._next()
            if chunk:
                yield chunk


def create_proxy_app(
    config: ProxyConfig,
    upstream: Callable[[], Upstream],
    stats: ProxyStats,
    emit: Callable[[RequestEvent], None],
    local_url: Callable[[], str],
) -> Starlette:
    """The Starlette app: one catch-all route to ``ProxyHandler``, behind CORS for the named origin."""
    handler = ProxyHandler(config, upstream, stats, emit, local_url)
    middleware = []
    if config.cors_origin:
        methods = sorted(READ_METHODS) + ([] if config.read_only else list(WRITE_METHODS))
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=[config.cors_origin],
                allow_methods=methods,
                allow_headers=["*"],
                expose_headers=EXPOSED_HEADERS,
                allow_credentials=False,
                max_age=600,
            )
        )
    app = Starlette(routes=[Route("/{path:path}", endpoint=handler)], middleware=middleware)
    app.state.handler = handler
    return app
