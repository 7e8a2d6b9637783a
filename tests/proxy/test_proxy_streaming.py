"""Bodies stream through the proxy both ways; compressed JSON; gateway failures (issue 13, 1 and 4)."""

from __future__ import annotations

import gc
import gzip
import hashlib
import json
import threading
import time
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from tests.proxy.conftest import (
    AM,
    MiniGateway,
    SimProcess,
    direct_token,
    key_headers,
    mock_proxy,
    proxy_for,
)

MB = 1_000_000


@pytest.fixture(scope="module")
def big_sim() -> Iterator[SimProcess]:
    """The simulator in its own process, allowed to answer one time-series read with ~20 MB."""
    server = SimProcess(ts_limit=1_000_000)
    yield server
    server.stop()


def _motor(sim_url: str, token: str) -> str:
    flt = json.dumps({"typeId": {"startsWith": "demo.Motor"}})
    response = httpx.get(
        f"{sim_url}{AM}/assets",
        params={"size": 1, "filter": flt},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.json()["_embedded"]["assets"][0]["assetId"]


def _read(client: httpx.Client, url: str, **kw: object) -> tuple[int, str, int]:
    """Stream a response without keeping it: (bytes, sha256, status)."""
    digest = hashlib.sha256()
    size = 0
    with client.stream("GET", url, **kw) as response:  # type: ignore[arg-type]
        for chunk in response.iter_raw():
            digest.update(chunk)
            size += len(chunk)
        return size, digest.hexdigest(), response.status_code


def test_a_20_mb_time_series_read_streams_without_the_proxy_holding_it(big_sim: SimProcess) -> None:
    token = direct_token(big_sim.url)
    asset = _motor(big_sim.url, token)
    path = f"/api/iottimeseries/v3/timeseries/{asset}/MotorData"
    query = {"from": "2024-01-01T00:00:00Z", "to": "2024-01-15T00:00:00Z", "limit": "1000000"}
    with httpx.Client(timeout=120) as client:
        want_size, want_hash, status = _read(
            client, big_sim.url + path, params=query, headers={"Authorization": f"Bearer {token}"}
        )
    assert status == 200 and want_size > 20 * MB

    server = proxy_for(big_sim.url)
    with server, httpx.Client(timeout=120, headers=key_headers(server)) as client:
        _read(client, f"{server.url}{AM}/assets/root")  # warm up: token, connections, imports
        gc.collect()
        tracemalloc.start()
        try:
            baseline, _ = tracemalloc.get_traced_memory()
            size, digest, status = _read(client, server.url + path, params=query)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert status == 200
    assert (size, digest) == (want_size, want_hash)  # byte for byte
    growth = peak - baseline
    # The proxy (and this streaming client) held a few chunks at a time, never the body.
    assert growth < 4 * MB, f"memory grew by {growth / MB:.1f} MB while streaming {size / MB:.1f} MB"


def test_a_client_that_goes_away_stops_the_transfer(big_sim: SimProcess) -> None:
    token = direct_token(big_sim.url)
    asset = _motor(big_sim.url, token)
    path = f"/api/iottimeseries/v3/timeseries/{asset}/MotorData"
    query = {"from": "2024-01-01T00:00:00Z", "to": "2024-01-15T00:00:00Z", "limit": "1000000"}
    server = proxy_for(big_sim.url)
    events = []
    done = threading.Event()
    server.subscribe(lambda e: (events.append(e), done.set()))
    with server, httpx.Client(timeout=120, headers=key_headers(server)) as client:
        with client.stream("GET", server.url + path, params=query) as response:
            first = next(response.iter_raw())
            assert first
        client.close()
        assert done.wait(30)
    (event,) = events
    assert event.status == 200
    assert event.error == "client closed the connection"
    assert event.bytes_sent < 20 * MB


def test_a_large_upload_streams_to_the_gateway() -> None:
    """A 20 MB request body goes on in chunks (over the replay limit: no copy kept, no retry on 401)."""

    def body() -> Iterator[bytes]:
        block = b"x" * 65536
        for _ in range(20 * MB // 65536):
            yield block

    with MiniGateway(statuses=[401]) as gateway:
        server = proxy_for(gateway.url)
        with server, httpx.Client(timeout=60, headers=key_headers(server)) as client:
            client.put(f"{server.url}/api/files/v3/small", content=b"warm up")
            gc.collect()
            tracemalloc.start()
            try:
                baseline, _ = tracemalloc.get_traced_memory()
                first = client.put(f"{server.url}/api/files/v3/big", content=body())
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            second = client.put(f"{server.url}/api/files/v3/big", content=body())
    expected = (20 * MB // 65536) * 65536
    assert first.status_code == 204 or first.status_code == 401
    # the warm-up got the 401 and was replayed (small body); the big ones were not buffered
    assert gateway.uploads[0] == gateway.uploads[1] and gateway.uploads[0][0] == len(b"warm up")
    assert [size for size, _ in gateway.uploads[2:]] == [expected, expected]
    assert all(chunks > 10 for _, chunks in gateway.uploads[2:])
    assert first.status_code == second.status_code == 204
    growth = peak - baseline
    assert growth < 4 * MB, f"memory grew by {growth / MB:.1f} MB while uploading 20 MB"


def test_a_401_on_a_large_upload_reaches_the_client() -> None:
    """Bodies over the replay limit are not kept, so their 401 cannot be retried: the client sees it."""
    with MiniGateway(statuses=[401]) as gateway:
        server = proxy_for(gateway.url, replay_limit=1000)
        with server, httpx.Client(headers=key_headers(server)) as client:
            response = client.put(f"{server.url}/api/files/v3/big", content=iter([b"y" * 100_000] * 3))
    assert response.status_code == 401
    assert [size for size, _ in gateway.uploads] == [300_000]


def test_compressed_json_is_decoded_for_link_rewriting_other_bodies_pass_as_sent() -> None:
    binary = gzip.compress(b"\x00\x01" * 1000)
    responses: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
    with MiniGateway(responses=responses) as gateway:
        payload = json.dumps({"_links": {"self": {"href": f"{gateway.url}/api/a/v1/x?page=1"}}}).encode()
        json_headers = [(b"content-type", b"application/hal+json"), (b"content-encoding", b"gzip")]
        responses["/api/a/v1/x"] = (200, json_headers, gzip.compress(payload))
        bin_headers = [(b"content-type", b"application/octet-stream"), (b"content-encoding", b"gzip")]
        responses["/api/a/v1/file"] = (200, bin_headers, binary)
        server = proxy_for(gateway.url)
        with server, httpx.Client(headers={**key_headers(server), "Accept-Encoding": "gzip, br"}) as client:
            rewritten = client.get(f"{server.url}/api/a/v1/x")
            with client.stream("GET", f"{server.url}/api/a/v1/file") as raw:
                raw_bytes = b"".join(raw.iter_raw())
    # br is not asked of the gateway: the proxy could not decode it to rewrite links
    assert [h.get(b"accept-encoding") for p, h in gateway.requests if p.startswith("/api/a")] == [
        b"gzip",
        b"gzip",
    ]
    assert "content-encoding" not in rewritten.headers
    assert rewritten.json() == {"_links": {"self": {"href": f"{server.url}/api/a/v1/x?page=1"}}}
    assert raw.headers["content-encoding"] == "gzip" and raw_bytes == binary  # passed as sent


def test_gateway_unreachable_or_slow_is_a_clean_502_or_504() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 1800})
        raise httpx.ReadTimeout("timed out", request=request)

    with proxy_for("http://127.0.0.1:9", connect_timeout=2) as down:
        response = httpx.get(f"{down.url}/api/x/v1/y", headers=key_headers(down), timeout=30)
    assert response.status_code == 502
    assert response.headers["x-ihub-proxy-error"] == "token"  # the token endpoint is down too
    assert response.text.startswith("ihub proxy: no token") and "Traceback" not in response.text

    with mock_proxy(slow) as server:
        started = time.monotonic()
        response = httpx.get(f"{server.url}/api/x/v1/y", headers=key_headers(server))
        assert time.monotonic() - started < 10
    assert response.status_code == 504
    assert response.headers["x-ihub-proxy-error"] == "gateway"
    assert "gateway not reachable" in response.text


def test_a_silent_https_proxy_before_the_gateway_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 7 section 3 in ihub proxy: the hop that failed is the corporate proxy, not the gateway."""
    import socket

    from tui.api.auth import Credentials, CredentialStyle
    from tui.proxy import ProxyConfig, ProxyServer
    from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
    from tui.sim.server import SimServer

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts (the kernel does) and never answers
    port = silent.getsockname()[1]
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    try:
        with SimServer(SimConfig()) as sim:  # the token over plain HTTP on loopback: not proxied
            credentials = Credentials(
                CredentialStyle.CLIENT_CREDENTIALS, sim.token_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
            )
            config = ProxyConfig(
                gateway="https://gateway.eu1.mindsphere.io", port=0, timeout=1, connect_timeout=1
            )
            with ProxyServer(config, credentials=credentials) as server:
                response = httpx.get(f"{server.url}/api/x/v1/y", headers=key_headers(server), timeout=30)
    finally:
        silent.close()
    assert response.status_code == 504 and response.headers["x-ihub-proxy-error"] == "gateway"
    assert response.text.strip() == (
        f"ihub proxy: gateway not reachable: the proxy 127.0.0.1:{port} accepted the connection but did not "
        "answer the CONNECT to gateway.eu1.mindsphere.io:443 within 1 s"
    )
