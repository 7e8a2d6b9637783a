"""Safety by default (issue 13, section 2): access key, loopback only, read-only, CORS, no secret leaks."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import httpx
import pytest

from tests.proxy.conftest import AM, counters, key_headers, mock_proxy, sim_credentials
from tui.proxy import (
    ENV_PROXY_KEY,
    KEY_PARAM,
    KeySource,
    ProxyConfig,
    ProxyConfigError,
    ProxyError,
    ProxyServer,
    startup_lines,
    startup_warnings,
)
from tui.sim.config import DEMO_CLIENT_SECRET
from tui.sim.server import SimServer

# -- access key ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    ["none", "wrong header", "wrong query", "empty header", "key of another proxy"],
)
def test_without_the_right_key_401_and_nothing_reaches_the_gateway(
    sim: SimServer, proxy: ProxyServer, how: str
) -> None:
    assert proxy.access_key
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    if how == "wrong header":
        headers["X-Ihub-Proxy-Key"] = proxy.access_key[:-1] + ("A" if proxy.access_key[-1] != "A" else "B")
    elif how == "wrong query":
        params[KEY_PARAM] = "x" * 32
    elif how == "empty header":
        headers["X-Ihub-Proxy-Key"] = ""
    elif how == "key of another proxy":
        headers["X-Ihub-Proxy-Key"] = "AnotherKeyThatIsLongEnough12345"
    before = counters(sim)
    for method in ("GET", "POST", "DELETE"):
        response = httpx.request(method, f"{proxy.url}{AM}/assets/root", headers=headers, params=params)
        assert response.status_code == 401
        assert response.headers["x-ihub-proxy-error"] == "access-key"
        assert response.headers["content-type"].startswith("text/plain")
        assert proxy.access_key not in response.text
    assert counters(sim) == before  # not one API or token request reached the simulator


def test_access_key_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    generated = ProxyConfig(gateway="http://127.0.0.1:1").resolved({})
    other = ProxyConfig(gateway="http://127.0.0.1:1").resolved({})
    assert generated.key_source == KeySource.GENERATED and len(generated.access_key or "") >= 32
    assert generated.access_key != other.access_key
    from_env = ProxyConfig(gateway="http://127.0.0.1:1").resolved({ENV_PROXY_KEY: "script-key-0123456789"})
    assert (from_env.access_key, from_env.key_source) == ("script-key-0123456789", KeySource.ENV)
    with pytest.raises(ProxyConfigError, match="too short"):
        ProxyConfig(gateway="http://127.0.0.1:1").resolved({ENV_PROXY_KEY: "short"})
    with pytest.raises(ProxyConfigError, match="letters, digits"):
        ProxyConfig(gateway="http://127.0.0.1:1").resolved({ENV_PROXY_KEY: "has spaces and & signs!!"})
    none = ProxyConfig(gateway="http://127.0.0.1:1", require_key=False).resolved({ENV_PROXY_KEY: "x" * 20})
    assert none.access_key is None and none.key_source == KeySource.NONE
    assert "***" in repr(generated) and (generated.access_key or "") not in repr(generated)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("script-key-0123456789\u200b", "an invisible character, U+200B, at position 22"),
        ("script-key\u00a00123456789", "an invisible character, U+00A0, at position 11"),
        ("script-key-01234\x0756789", "a control character, U+0007, at position 17"),
        ("script key 0123456789", "a space at position 7"),
    ],
)
def test_an_invisible_character_in_the_access_key_is_named(value: str, words: str) -> None:
    """Issue 7 section 5 for IHUB_PROXY_KEY: the message names the character, never the key."""
    with pytest.raises(ProxyConfigError) as info:
        ProxyConfig(gateway="http://127.0.0.1:1").resolved({ENV_PROXY_KEY: value})
    assert str(info.value).startswith(f"the access key from {ENV_PROXY_KEY} contains {words}: it may only")
    assert "0123456789" not in str(info.value)


def test_a_bom_and_spaces_around_the_access_key_are_dropped() -> None:
    config = ProxyConfig(gateway="http://127.0.0.1:1").resolved(
        {ENV_PROXY_KEY: "\ufeffscript-key-0123456789\n"}
    )
    assert config.access_key == "script-key-0123456789"


def test_env_key_is_used_and_not_printed(sim: SimServer, proxy_factory: Callable[..., ProxyServer]) -> None:
    key = "key-from-the-environment-42"
    server = proxy_factory(environ={ENV_PROXY_KEY: key})
    assert server.access_key == key
    assert httpx.get(f"{server.url}{AM}/assets/root", headers={"X-Ihub-Proxy-Key": key}).status_code == 200
    text = "\n".join(startup_lines(server))
    assert key not in text
    assert f"from {ENV_PROXY_KEY}" in text and f'"X-Ihub-Proxy-Key: ${ENV_PROXY_KEY}"' in text


def test_no_access_key_forwards_and_warns_loudly(
    sim: SimServer, proxy_factory: Callable[..., ProxyServer]
) -> None:
    server = proxy_factory(require_key=False)
    assert server.access_key is None
    assert httpx.get(f"{server.url}{AM}/assets/root").status_code == 200
    warnings = startup_warnings(server.config)
    assert warnings and warnings[0].startswith("WARNING: no access key")
    assert "Access key:  none" in "\n".join(startup_lines(server))


# -- where it listens ------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1"])
def test_non_loopback_bind_is_refused(host: str) -> None:
    with pytest.raises(ProxyConfigError, match="--allow-remote"):
        ProxyServer(
            ProxyConfig(gateway="http://127.0.0.1:1", host=host, port=0),
            credentials=sim_credentials("http://127.0.0.1:1"),
            environ={},
        )


def test_allow_remote_requires_the_access_key() -> None:
    with pytest.raises(ProxyConfigError, match="needs the access key"):
        ProxyConfig(
            gateway="http://127.0.0.1:1", host="0.0.0.0", allow_remote=True, require_key=False
        ).resolved({})
    ok = ProxyConfig(gateway="http://127.0.0.1:1", host="0.0.0.0", allow_remote=True).resolved({})
    assert ok.access_key and not ok.loopback
    assert any("--allow-remote" in line for line in startup_warnings(ok))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    config = ProxyConfig(gateway="http://127.0.0.1:1", host=host).resolved({})
    assert config.loopback


def test_a_port_in_use_is_a_clear_error(sim: SimServer) -> None:
    taken = int(sim.url.rsplit(":", 1)[1])
    server = ProxyServer(
        ProxyConfig(gateway=sim.url, port=taken), credentials=sim_credentials(sim.url), environ={}
    )
    with pytest.raises(ProxyError, match=f"cannot listen on 127.0.0.1:{taken}"):
        server.bind()


def test_host_header_other_than_loopback_is_refused(sim: SimServer, proxy: ProxyServer) -> None:
    """A page on a DNS name rebound to 127.0.0.1 sends its own Host: refused, nothing forwarded."""
    before = counters(sim)
    response = httpx.get(
        f"{proxy.url}{AM}/assets/root", headers={**key_headers(proxy), "Host": "attacker.example:8766"}
    )
    assert response.status_code == 421 and response.headers["x-ihub-proxy-error"] == "host"
    assert counters(sim) == before
    ok = httpx.get(f"{proxy.url}{AM}/assets/root", headers={**key_headers(proxy), "Host": "localhost"})
    assert ok.status_code == 200


# -- what it forwards ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/oauth/token", "/token_keys", "/apix/assets", "/api", "/api/%2e%2e/oauth/token", "/api/./x"],
)
def test_only_api_paths_are_forwarded(sim: SimServer, proxy: ProxyServer, path: str) -> None:
    before = counters(sim)
    with socket.create_connection(("127.0.0.1", proxy.port)) as conn:  # raw: no client-side normalising
        host = proxy.url.removeprefix("http://")
        conn.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Ihub-Proxy-Key: {proxy.access_key}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        raw = b""
        while chunk := conn.recv(65536):
            raw += chunk
    status = int(raw.split(b" ", 2)[1])
    assert status in (400, 404)
    assert b"x-ihub-proxy-error: path" in raw.lower()
    assert counters(sim) == before


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_read_only_refuses_writes_with_403_and_nothing_reaches_the_gateway(
    sim: SimServer, proxy_factory: Callable[..., ProxyServer], method: str
) -> None:
    server = proxy_factory(read_only=True)
    before = counters(sim)
    response = httpx.request(
        method, f"{server.url}{AM}/assets/root", headers=key_headers(server), content=b'{"name":"x"}'
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-ihub-proxy-error"] == "read-only"
    assert f"{method} refused" in response.text and "only GET and HEAD" in response.text
    assert counters(sim) == before
    assert httpx.get(f"{server.url}{AM}/assets/root", headers=key_headers(server)).status_code == 200
    head = httpx.head(f"{server.url}{AM}/assets/root", headers=key_headers(server))
    assert head.status_code == 200 and head.content == b""


def test_read_only_profile_makes_a_read_only_proxy() -> None:
    from tui.config.profiles import Profile
    from tui.proxy import config_for_profile

    profile = Profile(
        name="ro", gateway="http://127.0.0.1:1", token_url="http://127.0.0.1:1/oauth/token", client_id="x",
        read_only=True,
    )  # fmt: skip
    assert config_for_profile(profile).read_only
    assert config_for_profile(profile, read_only=False).read_only  # the flag cannot loosen a profile
    assert "read-only" in "\n".join(
        startup_lines(
            ProxyServer(config_for_profile(profile, port=0), credentials=sim_credentials("x"), environ={})
        )
    )


# -- browsers --------------------------------------------------------------------------------------------


def test_cross_site_requests_are_refused_without_cors(
    sim: SimServer, proxy_factory: Callable[..., ProxyServer]
) -> None:
    """Without --cors, no web page may use the proxy (not even with a guessed key)."""
    server = proxy_factory(require_key=False)
    before = counters(sim)
    for method in ("GET", "POST", "OPTIONS"):
        response = httpx.request(
            method,
            f"{server.url}{AM}/assets/root",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert response.status_code == 403, method
        assert response.headers["x-ihub-proxy-error"] == "origin"
        assert "access-control-allow-origin" not in response.headers
    assert counters(sim) == before


def test_one_named_cors_origin(sim: SimServer, proxy_factory: Callable[..., ProxyServer]) -> None:
    origin = "http://localhost:3000"
    server = proxy_factory(cors_origin=origin)
    before = counters(sim)
    preflight = httpx.options(
        f"{server.url}{AM}/assets",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-ihub-proxy-key, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "x-ihub-proxy-key" in preflight.headers["access-control-allow-headers"].lower()
    assert counters(sim) == before  # the preflight is answered by the proxy, never forwarded
    got = httpx.get(f"{server.url}{AM}/assets/root", headers={**key_headers(server), "Origin": origin})
    assert got.status_code == 200
    assert got.headers["access-control-allow-origin"] == origin
    assert "link" in got.headers["access-control-expose-headers"].lower()
    # The 401 of a page without the key is readable by that page (it can tell the user why).
    denied = httpx.get(f"{server.url}{AM}/assets/root", headers={"Origin": origin})
    assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == origin
    other = httpx.get(
        f"{server.url}{AM}/assets/root", headers={**key_headers(server), "Origin": "http://x.test"}
    )
    assert other.status_code == 403
    bad_preflight = httpx.options(
        f"{server.url}{AM}/assets",
        headers={"Origin": "http://x.test", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in bad_preflight.headers


@pytest.mark.parametrize(
    "origin", ["*", "http://*.example.com", "null", "localhost:3000", "http://a.test/path"]
)
def test_cors_wildcards_and_non_origins_are_refused(origin: str) -> None:
    with pytest.raises(ProxyConfigError):
        ProxyConfig(gateway="http://127.0.0.1:1", cors_origin=origin).resolved({})


# -- secrets ---------------------------------------------------------------------------------------------


def test_incoming_credentials_and_cookies_are_not_forwarded() -> None:
    """What reaches the gateway: the proxy's bearer token only; hop-by-hop headers and cookies dropped."""
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "proxy-token", "expires_in": 1800})
        seen.append(request)
        return httpx.Response(
            200,
            json={"ok": True},
            headers={"Set-Cookie": "SESSION=abc", "Connection": "x-private", "X-Private": "1", "X-Kept": "2"},
        )

    server = mock_proxy(gateway)
    with server:
        response = httpx.get(
            f"{server.url}/api/x/v1/y?a=1&b=%2F",
            headers={
                **key_headers(server),
                "Authorization": "Bearer client-supplied",
                "Cookie": "SESSION=local",
                "Proxy-Authorization": "Basic abc",
                "Connection": "keep-alive, x-hop",
                "X-Hop": "drop me",
                "TE": "trailers",
                "If-None-Match": '"3"',
                "X-Custom": "kept",
                "Accept": "application/hal+json",
            },
        )
    assert response.status_code == 200
    assert "set-cookie" not in response.headers and "x-private" not in response.headers
    assert response.headers["x-kept"] == "2"
    (request,) = seen
    assert request.headers.get_list("authorization") == ["Bearer proxy-token"]
    for name in ("cookie", "proxy-authorization", "x-hop", "te", "x-ihub-proxy-key"):
        assert name not in request.headers, name
    assert request.headers["if-none-match"] == '"3"' and request.headers["x-custom"] == "kept"
    assert request.headers["accept"] == "application/hal+json"
    assert request.headers["host"] == "gw.example.test"
    assert str(request.url) == "https://gw.example.test/api/x/v1/y?a=1&b=%2F"


def test_token_and_secret_never_in_responses_logs_or_lines(
    sim: SimServer, proxy_factory: Callable[..., ProxyServer], caplog: pytest.LogCaptureFixture
) -> None:
    from tui.proxy import format_event

    caplog.set_level(logging.DEBUG)
    good = proxy_factory()
    bad = proxy_factory(credentials=sim_credentials(sim.url, secret="FAKE-wrong-secret-value"))
    texts: list[str] = []
    with httpx.Client() as client:
        for server in (good, bad):
            for method, path in (("GET", "/assets/root"), ("GET", "/assets/nope"), ("POST", "/assets")):
                r = client.request(method, f"{server.url}{AM}{path}", headers=key_headers(server), json={})
                texts.append(r.text + str(r.headers))
            r = client.get(f"{server.url}{AM}/assets/root")
            texts.append(r.text + str(r.headers))
    # the wrong secret: a clean 502 that says why
    failed = httpx.get(f"{bad.url}{AM}/assets/root", headers=key_headers(bad))
    assert failed.status_code == 502 and failed.headers["x-ihub-proxy-error"] == "token"
    assert "rejected the client id or secret" in failed.text and "demo" in failed.text
    token = good.tokens.token.access_token  # type: ignore[union-attr]
    texts += [format_event(e) for e in good.events + bad.events]  # type: ignore[attr-defined]
    texts += [record.getMessage() for record in caplog.records]
    texts += startup_lines(good) + startup_lines(bad)
    blob = "\n".join(texts)
    for secret in (token, DEMO_CLIENT_SECRET, "FAKE-wrong-secret-value"):
        assert secret not in blob


def test_gateway_cookies_are_not_kept_by_the_proxy() -> None:
    """A Set-Cookie from the gateway reaches neither the client nor the proxy's later upstream calls."""
    seen: list[str | None] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 1800})
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json={}, headers={"Set-Cookie": "SESSION=gw; Path=/"})

    server = mock_proxy(gateway)
    with server, httpx.Client(headers=key_headers(server)) as client:
        for _ in range(2):
            assert "set-cookie" not in client.get(f"{server.url}/api/x/v1/y").headers
        assert server.upstream is not None
        assert len(server.upstream.client.cookies.jar) == 0  # nothing stored to replay later
    assert seen == [None, None]
