"""Issue 7 section 3: every transport error names the hop that failed (proxy, DNS, TCP, TLS, token endpoint,
gateway). Real sockets on loopback only; the proxy is read from the environment by httpx."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.conftest import Sleeps
from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.api.errors import HopTrace, TokenError, TransportError
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.server import SimServer

EU1_GATEWAY = "https://gateway.eu1.mindsphere.io"
EU1_TOKEN_URL = "https://acme.piam.eu1.mindsphere.io/oauth/token"


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _client(gateway: str, token_url: str, timeout: float = 1.0, **kw: object) -> ApiClient:
    cred = Credentials(CredentialStyle.CLIENT_CREDENTIALS, token_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    config = ConnectionConfig(gateway, cred, timeout=timeout, connect_timeout=timeout, **kw)  # type: ignore[arg-type]
    return ApiClient(config, sleep=Sleeps())


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch):
    def use(proxy: str) -> None:
        for name in (
            "NO_PROXY",
            "no_proxy",
            "ALL_PROXY",
            "all_proxy",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
        ):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTPS_PROXY", proxy)

    return use


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """Accepts TCP connections, reads, never answers."""
    held: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        try:
            await reader.read(65536)
            await asyncio.sleep(30)
        except (OSError, asyncio.CancelledError):
            pass

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()


async def test_proxy_that_accepts_and_never_answers_the_connect(silent_server: int, proxy_env) -> None:
    proxy_env(f"http://127.0.0.1:{silent_server}")
    async with _client(EU1_GATEWAY, EU1_TOKEN_URL) as api:
        with pytest.raises(TransportError) as info:
            await api.assets.root()
    err = info.value
    assert str(err) == (
        f"token endpoint: the proxy 127.0.0.1:{silent_server} accepted the connection but did not answer "
        "the CONNECT to acme.piam.eu1.mindsphere.io:443 within 1 s"
    )
    assert err.hop == "proxy" and err.role == "token endpoint"
    assert api.tokens.requests == 1  # a proxy problem is not retried


async def test_proxy_port_closed(proxy_env) -> None:
    port = _closed_port()
    proxy_env(f"http://127.0.0.1:{port}")
    async with _client(EU1_GATEWAY, EU1_TOKEN_URL) as api:
        with pytest.raises(TransportError) as info:
            await api.assets.root()
    assert str(info.value) == (
        f"token endpoint: the proxy 127.0.0.1:{port} refused the connection: nothing is listening on "
        f"127.0.0.1:{port}"
    )
    assert info.value.hop == "proxy"


async def test_proxy_refusing_the_connect(proxy_env) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proxy_env(f"http://127.0.0.1:{port}")
    try:
        async with _client(EU1_GATEWAY, EU1_TOKEN_URL) as api:
            with pytest.raises(TransportError) as info:
                await api.assets.root()
    finally:
        server.close()
    assert str(info.value) == (
        f"token endpoint: the proxy 127.0.0.1:{port} refused the CONNECT to acme.piam.eu1.mindsphere.io:443 "
        "(HTTP 403 Forbidden)"
    )


async def test_token_url_on_a_closed_local_port() -> None:
    with SimServer(SimConfig()) as sim:
        async with _client(sim.url, "http://127.0.0.1:1/oauth/token") as api:
            with pytest.raises(TransportError) as info:
                await api.assets.root()
    assert str(info.value) == "token endpoint: nothing is listening on 127.0.0.1:1 (connection refused)"
    assert info.value.hop == "tcp"


async def test_gateway_on_a_closed_local_port_is_the_gateway_hop() -> None:
    port = _closed_port()
    with SimServer(SimConfig()) as sim:
        async with _client(f"http://127.0.0.1:{port}", sim.token_url) as api:
            with pytest.raises(TransportError) as info:
                await api.assets.root()
    assert str(info.value) == f"gateway: nothing is listening on 127.0.0.1:{port} (connection refused)"
    assert info.value.role == "gateway"


async def test_gateway_that_accepts_the_request_but_never_answers(silent_server: int) -> None:
    with SimServer(SimConfig()) as sim:
        async with _client(
            f"http://127.0.0.1:{silent_server}", sim.token_url, timeout=0.5, max_retries=0
        ) as api:
            with pytest.raises(TransportError) as info:
                await api.assets.root()
    assert str(info.value) == (
        f"gateway: 127.0.0.1:{silent_server} accepted the request but did not answer within 0.5 s"
    )


async def test_plain_http_off_loopback_is_refused_before_anything_is_sent() -> None:
    async with _client("http://10.0.0.5:8080", "http://10.0.0.5:8080/oauth/token") as api:
        with pytest.raises(TransportError, match="refusing to send the access token over plain HTTP"):
            await api.assets.root()
        with pytest.raises(
            TokenError, match="refusing to send the client secret over plain HTTP to 10.0.0.5"
        ):
            await api.tokens.get()
    assert api.tokens.requests == 0 and api.requests == 0


async def test_hop_trace_records_the_connect_phase() -> None:
    trace = HopTrace()

    class Req:
        method = b"CONNECT"

        class url:  # noqa: N801 - mimics httpcore's request.url
            target = b"host.example:443"

    await trace("connection.connect_tcp.started", {"host": "10.1.1.1", "port": 3128})
    await trace("connection.connect_tcp.complete", {})
    await trace("http11.send_request_headers.started", {"request": Req()})
    await trace("http11.receive_response_headers.started", {"request": Req()})
    assert trace.phase == "proxy_connect" and trace.tunnel == "host.example:443"
    assert trace.proxy_for("host.example", 443) == "10.1.1.1:3128"
    err = TransportError.from_exception(
        httpx.ReadTimeout("", request=httpx.Request("GET", "https://host.example/x")),
        url="https://host.example/x",
        trace=trace,
        role="gateway",
    )
    assert str(err) == (
        "gateway: the proxy 10.1.1.1:3128 accepted the connection but did not answer the CONNECT to "
        "host.example:443"
    )
