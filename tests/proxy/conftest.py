"""Proxy test fixtures: the simulator over loopback (thread or process), and proxies in front of it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Clock
from tui.api.auth import Credentials, CredentialStyle
from tui.proxy import ProxyConfig, ProxyServer, RequestEvent
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.server import SimServer

AM = "/api/assetmanagement/v3"
MOCK_GATEWAY = "https://gw.example.test"


def sim_credentials(gateway: str, secret: str = DEMO_CLIENT_SECRET) -> Credentials:
    return Credentials(CredentialStyle.CLIENT_CREDENTIALS, f"{gateway}/oauth/token", DEMO_CLIENT_ID, secret)


def proxy_for(
    gateway: str, *, transport: httpx.AsyncBaseTransport | None = None, **config: Any
) -> ProxyServer:
    """A proxy (not started) for ``gateway`` on a free port, with the demo credentials' shape."""
    return ProxyServer(
        ProxyConfig(gateway=gateway, port=0, **config),
        credentials=sim_credentials(gateway),
        transport=transport,
        environ={},
    )


def mock_proxy(handler: Callable[[httpx.Request], Any], **config: Any) -> ProxyServer:
    """A proxy (not started) in front of an ``httpx.MockTransport`` gateway (token endpoint included)."""
    return proxy_for(MOCK_GATEWAY, transport=httpx.MockTransport(handler), **config)


def counters(sim: SimServer) -> dict[str, int]:
    """The simulator's request counters (API and token requests that reached it)."""
    return dict(sim.app.state.tenant.counters)


def direct_token(sim_url: str) -> str:
    response = httpx.post(
        f"{sim_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
    )
    response.raise_for_status()
    return response.json()["access_token"]


@pytest.fixture
def sim_clock() -> Clock:
    """The shared test clock, started at the real time (the proxy's tokens come from the simulator)."""
    return Clock(time.time())


@pytest.fixture
def sim(sim_clock: Clock) -> Iterator[SimServer]:
    """The simulator on a free loopback port (its clock is ``sim_clock``)."""
    server = SimServer(SimConfig(clock=sim_clock))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def proxy_factory(sim: SimServer) -> Iterator[Callable[..., ProxyServer]]:
    """``proxy_factory(**config) -> ProxyServer`` in front of ``sim``, serving in a thread; stopped after.

    ``credentials=``, ``transport=``, ``clock=`` and ``environ=`` go to ``ProxyServer``; the rest to
    ``ProxyConfig`` (port 0 and the sim's gateway by default). ``server.events`` collects the
    ``RequestEvent``s.
    """
    servers: list[ProxyServer] = []

    def factory(**options: Any) -> ProxyServer:
        kwargs = {k: options.pop(k) for k in ("credentials", "transport", "clock", "environ") if k in options}
        kwargs.setdefault("credentials", sim_credentials(sim.url))
        kwargs.setdefault("environ", {})
        options.setdefault("gateway", sim.url)
        options.setdefault("port", 0)
        options.setdefault("profile", "demo")
        server = ProxyServer(ProxyConfig(**options), **kwargs)
        events: list[RequestEvent] = []
        server.events = events  # type: ignore[attr-defined]
        server.subscribe(events.append)
        server.start_thread()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop_thread()


def wait_for_events(server: ProxyServer, count: int, timeout: float = 5.0) -> list[RequestEvent]:
    """``server.events`` once it holds ``count`` events: a request's event is emitted in the proxy's thread
    after its last byte is sent, so a client may see the response a moment before the event exists."""
    events: list[RequestEvent] = server.events  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    return events


@pytest.fixture
def proxy(proxy_factory: Callable[..., ProxyServer]) -> ProxyServer:
    return proxy_factory()


def key_headers(server: ProxyServer) -> dict[str, str]:
    assert server.access_key
    return {"X-Ihub-Proxy-Key": server.access_key}


class SimProcess:
    """The simulator in its own process (so its memory and CPU are not the proxy's)."""

    CODE = (
        "import sys\n"
        "from tui.sim.config import SimConfig\n"
        "from tui.sim.server import SimServer\n"
        "server = SimServer(SimConfig(ts_limit=int(sys.argv[1]), assets=int(sys.argv[2])))\n"
        "server.start()\n"
        "print(server.url, flush=True)\n"
        "sys.stdin.read()\n"
        "server.stop()\n"
    )

    def __init__(self, ts_limit: int = 2000, assets: int = 0) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and code)
            [sys.executable, "-c", self.CODE, str(ts_limit), str(assets)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError("the simulator process did not start")
        self.url = line

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


class MiniGateway:
    """A minimal gateway over loopback that counts request bodies chunk by chunk without keeping them.

    ``POST /oauth/token`` issues a token; a path in ``responses`` gets its (status, headers, body); any
    other request the next of ``statuses`` (then 204). ``uploads`` holds (bytes, chunks) per request and
    ``requests`` the (path, headers) seen.
    """

    def __init__(
        self,
        statuses: list[int] | None = None,
        responses: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]] | None = None,
    ) -> None:
        import socket as _socket

        import uvicorn

        self.statuses = list(statuses or [])
        self.uploads: list[tuple[int, int]] = []
        self.responses = responses if responses is not None else {}
        self.requests: list[tuple[str, dict[bytes, bytes]]] = []
        sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM, _socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        self._socket = sock
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self._app, log_config=None, log_level="warning", lifespan="off", ws="none", interface="asgi3"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[sock])), daemon=True
        )

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        size = chunks = 0
        more = True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            chunks += 1
            more = message.get("more_body", False)
        if scope["path"] == "/oauth/token":
            body = b'{"access_token":"upload-token","expires_in":1800}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        self.uploads.append((size, chunks))
        self.requests.append((scope["path"], dict(scope["headers"])))
        if scope["path"] in self.responses:
            status, headers, body = self.responses[scope["path"]]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        status = self.statuses.pop(0) if self.statuses else 204
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def __enter__(self) -> MiniGateway:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(5)
        self._socket.close()
