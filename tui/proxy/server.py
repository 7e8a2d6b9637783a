"""Running the proxy with uvicorn: in the foreground (``ihub proxy``), in the caller's event loop (the
Textual app) or in a background thread (tests, tools), and the text it shows.

``ProxyServer`` binds its own socket first (so port 0 picks a free port and the URL is known before
serving), then serves the Starlette app of ``tui.proxy.app`` on it:

* ``await server.start()`` / ``await server.stop()``: a task in the running loop; pass ``tokens=`` to share
  an ``ApiClient``'s token provider (same loop only). ``async with ProxyServer(...)`` does both.
* ``server.start_thread()`` / ``server.stop_thread()``: its own loop in a daemon thread (``with`` does both);
  request events then arrive in that thread.
* ``server.run()``: the foreground until Ctrl-C (uvicorn's signal handling, graceful shutdown).

``serve(profile, secret, ...)`` is all ``ihub proxy`` needs: check, bind, print the startup text, run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn

from tui.api import contract as C
from tui.api.activity import ActivityLog
from tui.api.auth import Credentials, TokenProvider
from tui.api.errors import ApiError
from tui.api.tls import ssl_context
from tui.proxy.app import ProxyStats, RequestEvent, create_proxy_app
from tui.proxy.config import (
    DEFAULT_PORT,
    ENV_PROXY_KEY,
    KEY_HEADER,
    KEY_PARAM,
    KeySource,
    PortInUseError,
    ProxyConfig,
    ProxyError,
)
from tui.proxy.upstream import Upstream

if TYPE_CHECKING:
    from tui.config.profiles import Profile

log = logging.getLogger("ihub.proxy")

EXAMPLE_PATH = C.AM_ASSET_ROOT


class _QuietCutFilter(logging.Filter):
    """uvicorn's line for a response the proxy cuts on purpose (the gateway dropped it; logged by us)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


class _Uvicorn(uvicorn.Server):
    """uvicorn's server; signal capture only for the foreground (never inside the app's loop)."""

    def __init__(self, config: uvicorn.Config, *, handle_signals: bool) -> None:
        super().__init__(config)
        self._handle_signals = handle_signals

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        if self._handle_signals:
            return super().capture_signals()
        return contextlib.nullcontext()


class ProxyServer:
    """The local API proxy for one gateway. See the module docstring for the three ways to run it.

    Give ``credentials`` (the proxy keeps its own token) or ``tokens`` (shared ``TokenProvider``).
    ``transport``: an httpx transport towards the gateway (tests, the demo). ``environ``: where
    ``IHUB_PROXY_KEY`` is read (default ``os.environ``). ``clock``: the token expiry clock (tests).
    Raises ``ProxyConfigError`` for refused settings and ``ProxyError`` when it cannot listen.
    """

    def __init__(
        self,
        config: ProxyConfig,
        *,
        credentials: Credentials | None = None,
        tokens: TokenProvider | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (credentials is None) == (tokens is None):
            raise ValueError("give either credentials or a token provider")
        self.config = config.resolved(os.environ if environ is None else environ)
        self._credentials = credentials
        self._tokens = tokens
        self._transport = transport
        self._clock = clock
        self._verify: Any = True
        if transport is None:
            try:
                self._verify = ssl_context(
                    self.config.ca_bundle, verify=self.config.verify, trust_env=self.config.trust_env
                )
            except ApiError as exc:
                raise ProxyError(str(exc)) from None
        self.stats = ProxyStats()
        self._subscribers: list[Callable[[RequestEvent], None]] = []
        self.port = self.config.port
        self.upstream: Upstream | None = None
        self.app = create_proxy_app(self.config, self._get_upstream, self.stats, self._emit, lambda: self.url)
        self._socket: socket.socket | None = None
        self._server: _Uvicorn | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._stop_requested = False

    # -- what it serves -----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def url(self) -> str:
        """The base URL for local clients, e.g. ``http://127.0.0.1:8766`` (bound port once bound)."""
        host = self.config.host
        if host in ("0.0.0.0", "::"):  # listening everywhere: loopback still reaches it
            host = "127.0.0.1"
        elif host.lower().startswith("localhost"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def access_key(self) -> str | None:
        """The key clients must send (None with ``require_key=False``). Never log it."""
        return self.config.access_key

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.started and not self._server.should_exit

    # -- request events -----------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[RequestEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` after every request (in the proxy's event loop; keep it quick).

        Returns a function that unsubscribes. An exception in a callback is logged and ignored.
        """
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, event: RequestEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a subscriber must never break the proxy
                log.exception("proxy request subscriber failed")

    # -- binding ------------------------------------------------------------------------------------

    def bind(self) -> None:
        """Open the listening socket (idempotent); ``ProxyError`` when the address cannot be used."""
        if self._socket is not None:
            return
        host = "127.0.0.1" if self.config.host.lower().startswith("localhost") else self.config.host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP. Without
        # it, a response written in two parts (headers, body) waits for the client's delayed ACK (~40 ms).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, self.config.port))
            sock.listen(256)
        except OSError as exc:
            sock.close()
            reason = exc.strerror or str(exc)
            message = f"cannot listen on {host}:{self.config.port}: {reason}"
            if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                hint = " (another program uses it: pick one with --port, or 0 for any free port)"
                raise PortInUseError(message + hint, host=host, port=self.config.port) from None
            raise ProxyError(message) from None
        self._socket = sock
        self.port = sock.getsockname()[1]

    def _uvicorn(self, *, handle_signals: bool) -> _Uvicorn:
        config = uvicorn.Config(
            self.app,
            log_config=None,  # never configure the host program's logging (the app owns the terminal)
            log_level="warning",
            lifespan="off",
            access_log=False,  # the access key may travel in a query string
            proxy_headers=False,
            server_header=False,  # the gateway's Server and Date headers pass through
            date_header=False,
            ws="none",
            timeout_graceful_shutdown=2,
            # Longer than clients keep idle connections (httpx 5 s, Node 5 s), so a client never reuses a
            # connection at the moment the proxy closes it (uvicorn's default is 5 s: a race).
            timeout_keep_alive=65,
        )
        uv_logger = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _QuietCutFilter) for f in uv_logger.filters):
            uv_logger.addFilter(_QuietCutFilter())
        return _Uvicorn(config, handle_signals=handle_signals)

    def _get_upstream(self) -> Upstream:
        if self.upstream is None:
            raise RuntimeError("the proxy is not started")
        return self.upstream

    def _open_upstream(self) -> None:
        self.upstream = Upstream(
            self.config,
            credentials=self._credentials,
            tokens=self._tokens,
            transport=self._transport,
            verify=self._verify,
            clock=self._clock,
        )

    async def _close_upstream(self) -> None:
        upstream, self.upstream = self.upstream, None
        if upstream is not None:
            await upstream.aclose()

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    @property
    def tokens(self) -> TokenProvider | None:
        """The token provider in use (while running)."""
        return self.upstream.tokens if self.upstream is not None else self._tokens

    # -- in the caller's event loop (the Textual app) -----------------------------------------------

    async def start(self, wait_s: float = 10.0) -> None:
        """Serve as a task of the running loop; returns once listening. ``ProxyError`` on failure."""
        if self._task is not None:
            return
        self.bind()
        self._open_upstream()
        server = self._uvicorn(handle_signals=False)
        self._server = server
        assert self._socket is not None
        self._task = asyncio.ensure_future(server.serve(sockets=[self._socket]))
        deadline = time.monotonic() + wait_s
        while not server.started:
            if self._task.done() or time.monotonic() > deadline:
                await self.stop()
                raise ProxyError("the proxy did not start")
            await asyncio.sleep(0.005)

    async def stop(self, wait_s: float = 5.0) -> None:
        """Stop serving (open responses get ``timeout_graceful_shutdown``), close connections and socket."""
        server, task = self._server, self._task
        if server is not None:
            server.should_exit = True
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), wait_s)
            except TimeoutError:
                if server is not None:
                    server.force_exit = True
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            except (Exception, SystemExit) as exc:  # a failed start: nothing more to stop
                log.debug("proxy server ended with %r", exc)
        self._server = None
        self._task = None
        await self._close_upstream()
        self._close_socket()

    async def __aenter__(self) -> ProxyServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve_here(self, server: _Uvicorn) -> None:
        """Serve on the bound socket in the running loop (its own: a thread's or the foreground's)."""
        assert self._socket is not None
        self._open_upstream()
        try:
            await server.serve(sockets=[self._socket])
        finally:
            await self._close_upstream()

    # -- in a background thread ---------------------------------------------------------------------

    def start_thread(self, timeout: float = 10.0) -> None:
        """Serve in a daemon thread with its own event loop; returns once listening."""
        if self._thread is not None:
            return
        self.bind()
        server = self._uvicorn(handle_signals=False)
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve_here(server)), name="ihub-proxy", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop_thread()
                raise ProxyError("the proxy did not start")
            time.sleep(0.005)

    def stop_thread(self, timeout: float = 5.0) -> None:
        """Stop the background server and wait for its thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = None
        self._thread = None
        self._close_socket()

    def __enter__(self) -> ProxyServer:
        self.start_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_thread()

    # -- foreground ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Serve in the foreground until Ctrl-C or SIGTERM (then ``KeyboardInterrupt`` may follow)."""
        self.bind()
        server = self._uvicorn(handle_signals=True)
        server.should_exit = self._stop_requested
        self._server = server
        try:
            asyncio.run(self._serve_here(server))
        finally:
            self._server = None
            self._close_socket()

    def request_stop(self) -> None:
        """Ask the server to stop (from any thread; also before it has started serving)."""
        self._stop_requested = True
        if self._server is not None:
            self._server.should_exit = True


# ---------------------------------------------------------------- what it shows


def startup_warnings(config: ProxyConfig) -> list[str]:
    """Loud lines for unsafe choices (print them on stderr, before the startup text)."""
    lines = []
    if not config.require_key:
        lines.append(
            "WARNING: no access key (--no-access-key): every program on this machine, and every web page "
            "that can reach this port, acts with this profile's token."
        )
    if not config.loopback:
        lines.append(
            f"WARNING: listening on {config.host} (--allow-remote): other machines can reach the proxy; the "
            "access key is required, and it and all data travel unencrypted (plain HTTP)."
        )
    return lines


def startup_lines(server: ProxyServer, example_path: str = EXAMPLE_PATH) -> list[str]:
    """The startup text: URL, access key, profile, mode and a ready ``curl`` example (no trailing newline).

    The generated key is shown (this is the one place it is printed); a key from ``IHUB_PROXY_KEY`` is not
    repeated: the example reads it from the environment.
    """
    config = server.config
    url = server.url
    profile = f"profile {config.profile!r}" if config.profile else "gateway"
    lines = [f"ihub proxy: {profile} -> {config.gateway}", f"  URL:         {url}/api/..."]
    curl = ["curl"]
    if config.key_source == KeySource.ENV:
        lines.append(f"  Access key:  from {ENV_PROXY_KEY}")
        curl.append(f'-H "{KEY_HEADER}: ${ENV_PROXY_KEY}"')
    elif config.access_key:
        lines.append(f"  Access key:  {config.access_key}")
        curl.append(f"-H '{KEY_HEADER}: {config.access_key}'")
    else:
        lines.append("  Access key:  none (--no-access-key)")
    if config.access_key:
        lines.append(f"               send it in the {KEY_HEADER} header, or as ?{KEY_PARAM}=... in the URL")
    if config.read_only:
        lines.append("  Mode:        read-only: only GET and HEAD are forwarded")
    else:
        lines.append("  Mode:        read and write")
    if config.cors_origin:
        lines.append(f"  CORS:        web pages at {config.cors_origin} may call it")
    if not config.loopback:
        lines.append(f"  Listening:   {config.host}:{server.port} (remote clients allowed)")
    curl.append(f"'{url}{example_path}'")
    lines.append(f"  Try:         {' '.join(curl)}")
    lines.append("Press Ctrl-C to stop.")
    return lines


def startup_info(server: ProxyServer) -> dict[str, Any]:
    """The startup text as data (``ihub proxy -o json``): the key only when generated here."""
    config = server.config
    return {
        "event": "ready",
        "url": server.url,
        "profile": config.profile,
        "gateway": config.gateway,
        "access_key": config.access_key if config.key_source == KeySource.GENERATED else None,
        "access_key_source": str(config.key_source),
        "key_header": KEY_HEADER,
        "key_param": KEY_PARAM,
        "read_only": config.read_only,
        "cors_origin": config.cors_origin,
        "host": config.host,
        "port": server.port,
    }


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"


def format_event(event: RequestEvent) -> str:
    """One line for ``--verbose`` and logs: time, method, path (no key), status, duration, size."""
    clock = datetime.fromtimestamp(event.at).strftime("%H:%M:%S")
    line = (
        f"{clock} {event.method} {event.target} -> {event.status} "
        f"{event.duration_ms:.1f} ms {_size(event.bytes_sent)}"
    )
    if event.refused:
        line += f" (refused: {event.refused})"
    elif event.error:
        line += f" ({event.error})"
    return line


def verbose_printer(print_fn: Callable[[str], None] = print) -> Callable[[RequestEvent], None]:
    """A subscriber that prints each request as it passes."""

    def printer(event: RequestEvent) -> None:
        print_fn(format_event(event))

    return printer


# ---------------------------------------------------------------- ihub proxy


def config_for_profile(
    profile: Profile,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    access_key: bool = True,
    allow_remote: bool = False,
    read_only: bool = False,
    cors: str | None = None,
) -> ProxyConfig:
    """A ``ProxyConfig`` for a saved profile (its gateway, CA bundle and read-only flag)."""
    ca_bundle = str(os.path.expanduser(profile.ca_bundle)) if profile.ca_bundle else None
    return ProxyConfig(
        gateway=profile.gateway,
        host=host,
        port=port,
        profile=profile.name,
        require_key=access_key,
        allow_remote=allow_remote,
        read_only=read_only or bool(profile.read_only),
        cors_origin=cors,
        ca_bundle=ca_bundle,
    )


def serve(
    profile: Profile,
    secret: str,
    config: ProxyConfig | None = None,
    *,
    verbose: bool = False,
    environ: Mapping[str, str] | None = None,
    out: Callable[[str], None] | None = None,
    err: Callable[[str], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    ready: Callable[[ProxyServer], None] | None = None,
    output: str = "text",
    activity: ActivityLog | None = None,
    **settings: Any,
) -> ProxyStats:
    """``ihub proxy``: check the settings, bind, print the startup text, serve until Ctrl-C.

    Raises ``ProxyConfigError``/``ProxyError`` (plain one-line messages) before anything is served when
    the settings are refused or the port cannot be used. Returns the final counters. ``ready(server)``
    is called once bound (tests use it to stop the server with ``server.request_stop()``).
    ``output="json"``: JSON lines for scripts instead of text: ``startup_info`` first, with ``verbose``
    one ``RequestEvent.to_dict()`` per request, and ``{"event": "stopped", ...}`` last.
    The settings: ``config`` made with ``config_for_profile`` (and checked), or that function's keyword
    arguments (``host``, ``port``, ``access_key``, ``allow_remote``, ``read_only``, ``cors``).
    ``activity``: the activity log every forwarded request is written to (``tui.api.activity``).
    """
    if out is None:

        def out(line: str) -> None:
            print(line, flush=True)

    if err is None:

        def err(line: str) -> None:
            print(line, file=sys.stderr, flush=True)

    if config is None:
        config = config_for_profile(profile, **settings)
    server = ProxyServer(
        config, credentials=profile.to_credentials(secret), transport=transport, environ=environ
    )
    server.bind()
    as_json = output == "json"
    for line in startup_warnings(server.config):
        err(line)
    if as_json:
        out(json.dumps(startup_info(server)))
    else:
        for line in startup_lines(server):
            out(line)
    if verbose:
        if as_json:
            server.subscribe(lambda event: out(json.dumps(event.to_dict())))
        else:
            server.subscribe(verbose_printer(out))
    if activity is not None:
        server.subscribe(activity.proxy_listener(profile.name, gateway=server.config.gateway))
    if ready is not None:
        ready(server)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    stats = server.stats
    if as_json:
        out(json.dumps({"event": "stopped", "requests": stats.requests, "forwarded": stats.forwarded}))
    else:
        out(f"ihub proxy stopped after {stats.requests} request(s) ({stats.forwarded} forwarded).")
    return stats
