"""The token behind the proxy: single-flight under 50 clients, refresh ahead of expiry, one retry on 401."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from tests.conftest import Clock
from tests.proxy.conftest import AM, counters, key_headers, mock_proxy
from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.proxy import ProxyConfig, ProxyServer
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tui.sim.server import SimServer

CLIENTS = 50


async def _burst(server: ProxyServer, n: int = CLIENTS) -> list[int]:
    """``n`` clients, each on its own connection, all at once."""

    async def one() -> int:
        async with httpx.AsyncClient(headers=key_headers(server)) as client:
            return (await client.get(f"{server.url}{AM}/assets/root")).status_code

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def test_50_clients_with_an_expired_token_cause_one_token_request(
    sim: SimServer, sim_clock: Clock, proxy_factory: Callable[..., ProxyServer]
) -> None:
    server = proxy_factory(clock=sim_clock)  # the proxy's and the simulator's clocks agree
    assert await _burst(server, 1) == [200]
    assert counters(sim)["token_requests"] == 1
    sim_clock.advance(1800)  # half an hour later: the cached token has expired
    statuses = await _burst(server)
    assert statuses == [200] * CLIENTS
    assert counters(sim)["token_requests"] == 2
    assert server.tokens is not None and server.tokens.requests == 2


async def test_token_refreshed_ahead_of_expiry(
    sim: SimServer, sim_clock: Clock, proxy_factory: Callable[..., ProxyServer]
) -> None:
    clock = sim_clock
    server = proxy_factory(clock=clock)
    await _burst(server, 1)
    clock.advance(1800 - 120)  # two minutes left: still used
    await _burst(server, 3)
    assert counters(sim)["token_requests"] == 1
    clock.advance(90)  # 30 s left, inside the 60 s margin: refreshed before the gateway would refuse it
    await _burst(server, 3)
    assert counters(sim)["token_requests"] == 2


async def test_50_clients_refused_with_401_refresh_once_and_retry_once(
    sim: SimServer, sim_clock: Clock, proxy_factory: Callable[..., ProxyServer]
) -> None:
    """The gateway rejects a token the proxy still thinks valid (revoked, clock skew): one refresh."""
    server = proxy_factory()
    assert await _burst(server, 1) == [200]
    sim_clock.advance(3600)  # the simulator now considers the cached token expired
    before = counters(sim)
    statuses = await _burst(server)
    assert statuses == [200] * CLIENTS
    after = counters(sim)
    assert after["token_requests"] - before["token_requests"] == 1
    # every client that met the 401 was retried once with the new token; nothing else was sent
    assert server.upstream is not None
    retried = server.upstream.retries_after_401
    assert 1 <= retried <= CLIENTS
    assert after["requests"] - before["requests"] == CLIENTS + retried + 1


def test_a_second_401_is_passed_to_the_client_unchanged() -> None:
    """Only one retry: a gateway that keeps refusing gets its own 401 body back to the client."""
    tokens: list[str] = []
    api_calls: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            tokens.append(f"t{len(tokens)}")
            return httpx.Response(200, json={"access_token": tokens[-1], "expires_in": 1800})
        api_calls.append(request)
        return httpx.Response(401, json={"errors": [{"code": "x", "message": "token revoked"}]})

    server = mock_proxy(gateway)
    with server:
        response = httpx.post(
            f"{server.url}/api/x/v3/things", headers=key_headers(server), content=b'{"a": 1}'
        )
    assert response.status_code == 401
    assert response.json() == {"errors": [{"code": "x", "message": "token revoked"}]}
    assert response.headers.get("x-ihub-proxy-error") is None
    assert len(tokens) == 2 and len(api_calls) == 2
    # the small body was kept and sent again, with the new token
    assert [c.content for c in api_calls] == [b'{"a": 1}', b'{"a": 1}']
    assert [c.headers["authorization"] for c in api_calls] == ["Bearer t0", "Bearer t1"]


async def test_in_the_apps_loop_sharing_the_apps_token(sim: SimServer) -> None:
    """The app starts the proxy in its own event loop with its ApiClient's token provider: one token."""
    creds = Credentials(CredentialStyle.CLIENT_CREDENTIALS, sim.token_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    async with ApiClient(ConnectionConfig(gateway=sim.url, credentials=creds)) as api:
        await api.assets.root()
        assert api.tokens.requests == 1
        server = ProxyServer(ProxyConfig(gateway=sim.url, port=0), tokens=api.tokens, environ={})
        seen = []
        server.subscribe(seen.append)
        async with server:
            assert server.running
            async with httpx.AsyncClient(headers=key_headers(server)) as client:
                results = await asyncio.gather(
                    *(client.get(f"{server.url}{AM}/assets/root") for _ in range(10))
                )
            assert all(r.status_code == 200 for r in results)
            assert server.stats.forwarded == 10 and len(seen) == 10
        assert not server.running
        assert api.tokens.requests == 1  # the proxy used the app's token
        assert counters(sim)["token_requests"] == 1
        await api.assets.root()  # the app's client still works after the proxy stopped
    # and the port is free again
    with httpx.Client() as client:
        try:
            client.get(f"{server.url}{AM}/assets/root", timeout=1)
            reachable = True
        except httpx.ConnectError:
            reachable = False
    assert not reachable


def test_a_dropped_keep_alive_connection_is_resent_once_for_idempotent_requests() -> None:
    """The gateway closed a pooled connection as it was reused: GET is sent again, POST is not."""
    calls: list[str] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 1800})
        calls.append(request.method)
        if len(calls) in (1, 3, 4):
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(200, json={"ok": True})

    server = mock_proxy(gateway)
    with server, httpx.Client(headers=key_headers(server)) as client:
        assert client.get(f"{server.url}/api/x/v3/y").status_code == 200  # calls 1 (dropped) and 2
        post = client.post(f"{server.url}/api/x/v3/y", content=b"{}")  # call 3 dropped: not resent
        assert post.status_code == 502 and post.headers["x-ihub-proxy-error"] == "gateway"
        twice = client.get(f"{server.url}/api/x/v3/y")  # calls 4 (dropped) and 5
        assert twice.status_code == 200
    assert calls == ["GET", "GET", "POST", "GET", "GET"]
    assert server.upstream is None  # closed with the server
