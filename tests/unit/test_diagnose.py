"""Connection diagnosis: each step and the plain cause, with injected network pieces (loopback only)."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.unit.conftest import TlsSimServer, make_self_signed
from tui.api.diagnose import (
    PROXY_TLS_CAUSE,
    SKIPPED_IN_PROCESS,
    STEP_API,
    STEP_DNS,
    STEP_PROXY,
    STEP_TCP,
    STEP_TLS,
    STEP_TOKEN,
    Diagnosis,
    diagnose,
)
from tui.config.profiles import Profile, profile_from_fields
from tui.sim.app import create_app
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.server import SimServer
from tui.sim.transport import sim_transport

SIM_GATEWAY = "https://gateway.sim.test"


def _profile(gateway: str, token_url: str | None = None, **kw: object) -> Profile:
    return profile_from_fields(
        "t", gateway, token_url if token_url is not None else f"{gateway}/oauth/token", DEMO_CLIENT_ID, **kw
    )  # type: ignore[arg-type]


def _fake_resolver(table: dict[str, str]):
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [table[host]]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def _no_token_in(result: Diagnosis) -> None:
    text = json.dumps(result.to_dict()) + "\n".join(result.lines())
    assert "eyJ" not in text  # no JWT
    assert DEMO_CLIENT_SECRET not in text


# -- in-process simulator ----------------------------------------------------------------------------
async def test_in_process_success_reports_token_facts_and_skips_network() -> None:
    app = create_app(SimConfig())
    result = await diagnose(_profile(SIM_GATEWAY), DEMO_CLIENT_SECRET, transport=sim_transport(app))
    assert result.ok, result.lines()
    for name in (STEP_DNS, STEP_TCP, STEP_TLS, STEP_PROXY):
        step = result.step(name)
        assert step is not None and step.ok is None and step.detail == SKIPPED_IN_PROCESS
    info = result.token_info
    assert info is not None
    assert info.style == "client_credentials"
    assert info.tenant == "demo" and info.client_id == DEMO_CLIENT_ID
    assert "iot.tim.r" in info.scopes
    assert info.issued_at is not None and info.expires_at - info.issued_at == 1800
    assert result.cause is None
    assert any(line.startswith("scopes: ") for line in result.lines())
    _no_token_in(result)


async def test_wrong_secret_is_named() -> None:
    app = create_app(SimConfig())
    result = await diagnose(_profile(SIM_GATEWAY), "not-the-secret", transport=sim_transport(app))
    assert not result.ok and result.token_info is None
    assert result.step(STEP_TOKEN).ok is False  # type: ignore[union-attr]
    assert result.step(STEP_API).ok is None  # type: ignore[union-attr]
    assert result.cause is not None and "wrong client secret" in result.cause
    assert "not-the-secret" not in json.dumps(result.to_dict())


async def test_wrong_token_url_is_named() -> None:
    app = create_app(SimConfig())
    profile = _profile(SIM_GATEWAY, f"{SIM_GATEWAY}/uaa/oauth/token")
    result = await diagnose(profile, DEMO_CLIENT_SECRET, transport=sim_transport(app))
    assert not result.ok
    assert result.cause is not None and result.cause.startswith("wrong token URL")


async def test_clock_skew_is_reported() -> None:
    app = create_app(SimConfig(clock=lambda: time.time() + 7200))
    result = await diagnose(_profile(SIM_GATEWAY), DEMO_CLIENT_SECRET, transport=sim_transport(app))
    assert result.token_info is not None
    skew = result.token_info.clock_skew_s
    assert skew is not None and 7100 < skew < 7300
    assert any("clock skew" in line and "behind" in line for line in result.lines())


async def test_app_credentials_through_the_token_manager() -> None:
    app = create_app(SimConfig())
    profile = _profile(SIM_GATEWAY, f"{SIM_GATEWAY}/api/technicaltokenmanager/v3/oauth/token")
    assert profile.style == "app_credentials"
    result = await diagnose(profile, DEMO_CLIENT_SECRET, transport=sim_transport(app))
    assert result.ok, result.lines()
    assert result.token_info is not None and result.token_info.style == "app_credentials"


# -- network steps with injected resolver --------------------------------------------------------------
async def test_name_resolution_failure_stops_before_any_request() -> None:
    resolver = _fake_resolver({})
    result = await diagnose(
        _profile("https://gateway.nowhere.test"), DEMO_CLIENT_SECRET, resolver=resolver, environ={}
    )
    dns = result.step(STEP_DNS)
    assert dns is not None and dns.ok is False and "does not resolve" in dns.detail
    assert result.step(STEP_TCP).ok is None  # type: ignore[union-attr]
    assert result.step(STEP_TOKEN).ok is None  # type: ignore[union-attr]
    assert result.cause is not None and "gateway.nowhere.test does not resolve" in result.cause
    assert resolver.calls == ["gateway.nowhere.test"]  # type: ignore[attr-defined]


async def test_refused_connection() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    resolver = _fake_resolver({"gw.test": "127.0.0.1"})
    result = await diagnose(
        _profile(f"https://gw.test:{port}"), DEMO_CLIENT_SECRET, resolver=resolver, environ={}
    )
    tcp = result.step(STEP_TCP)
    assert tcp is not None and tcp.ok is False
    assert result.step(STEP_TLS).ok is None  # type: ignore[union-attr]
    assert result.cause == f"nothing is listening on 127.0.0.1:{port}"


async def test_loopback_simulator_over_http() -> None:
    with SimServer(SimConfig()) as server:
        good = await diagnose(_profile(server.url), DEMO_CLIENT_SECRET, environ={})
        bad = await diagnose(_profile(server.url), "wrong", environ={})
    assert good.ok, good.lines()
    assert good.step(STEP_DNS).ok and good.step(STEP_TCP).ok  # type: ignore[union-attr]
    assert "plain HTTP" in good.step(STEP_TLS).detail  # type: ignore[union-attr]
    assert not bad.ok and bad.cause is not None and "wrong client secret" in bad.cause


# -- TLS ---------------------------------------------------------------------------------------------
async def test_self_signed_server_fails_tls_then_passes_with_the_ca_bundle(
    tls_sim: TlsSimServer, tls_files: tuple[Path, Path]
) -> None:
    resolver = _fake_resolver({"localhost": "127.0.0.1"})
    gateway = f"https://localhost:{tls_sim.port}"
    failed = await diagnose(_profile(gateway), DEMO_CLIENT_SECRET, resolver=resolver, environ={})
    tls = failed.step(STEP_TLS)
    assert tls is not None and tls.ok is False
    assert "certificate verification failed" in tls.detail
    assert "self-signed" in tls.detail and "CN=localhost" in tls.detail
    assert failed.step(STEP_TOKEN).ok is None  # type: ignore[union-attr]
    assert failed.cause is not None and "not trusted" in failed.cause

    cert, _ = tls_files
    passed = await diagnose(
        _profile(gateway, ca_bundle=str(cert)), DEMO_CLIENT_SECRET, resolver=resolver, environ={}
    )
    tls = passed.step(STEP_TLS)
    assert tls is not None and tls.ok is True and "TLSv1." in tls.detail and str(cert) in tls.detail
    assert passed.ok, passed.lines()


async def test_unreadable_ca_bundle(tls_sim: TlsSimServer, tmp_path: Path) -> None:
    resolver = _fake_resolver({"localhost": "127.0.0.1"})
    missing = tmp_path / "missing.pem"
    result = await diagnose(
        _profile(f"https://localhost:{tls_sim.port}", ca_bundle=str(missing)),
        DEMO_CLIENT_SECRET,
        resolver=resolver,
        environ={},
    )
    assert result.step(STEP_TLS).ok is False  # type: ignore[union-attr]
    assert result.cause is not None and "CA bundle" in result.cause


@pytest.fixture
async def intercepting_proxy(tmp_path: Path) -> AsyncIterator[str]:
    """An HTTP proxy that answers CONNECT and then speaks TLS itself (a TLS-inspecting proxy)."""
    cert, key = make_self_signed(tmp_path / "mitm", "Corp TLS Inspection", ["gateway.corp.test"])
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await writer.start_tls(server_ctx)
            await reader.read(1024)
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()


async def test_proxy_intercepting_tls_is_named(
    intercepting_proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", intercepting_proxy)  # httpx reads the real environment
    environ = {"HTTPS_PROXY": intercepting_proxy, "NO_PROXY": "127.0.0.1,localhost"}
    resolver = _fake_resolver({"127.0.0.1": "127.0.0.1"})
    result = await diagnose(
        _profile("https://gateway.corp.test"), DEMO_CLIENT_SECRET, resolver=resolver, environ=environ
    )
    assert resolver.calls == ["127.0.0.1"]  # type: ignore[attr-defined]  # the proxy, never the target
    proxy = result.step(STEP_PROXY)
    assert proxy is not None and proxy.ok and intercepting_proxy in proxy.detail
    assert result.step(STEP_TLS).ok is False  # type: ignore[union-attr]
    assert result.step(STEP_TOKEN).ok is False  # type: ignore[union-attr]
    assert result.cause == PROXY_TLS_CAUSE


# -- issue 7: clock skew, hops, masking --------------------------------------------------------------------
async def test_fast_local_clock_is_reported_but_does_not_break_the_connection() -> None:
    app = create_app(SimConfig())
    result = await diagnose(
        _profile(SIM_GATEWAY),
        DEMO_CLIENT_SECRET,
        transport=sim_transport(app),
        clock=lambda: time.time() + 1800,
    )
    assert result.ok and result.cause is None
    assert result.clock_skew_s is not None and -1810 < result.clock_skew_s < -1790
    assert any("clock skew" in line and "30 min ahead of" in line for line in result.lines())
    info = result.token_info
    assert info is not None and info.expires_at - info.issued_at == 1800  # local receipt + lifetime
    assert abs(info.issued_at - (time.time() + 1800)) < 60  # type: ignore[operator]


async def test_a_skewed_clock_is_never_blamed_for_a_wrong_secret() -> None:
    app = create_app(SimConfig())
    result = await diagnose(
        _profile(SIM_GATEWAY),
        "FAKE-not-the-secret",
        transport=sim_transport(app),
        clock=lambda: time.time() - 7200,
    )
    assert not result.ok
    assert result.cause is not None and result.cause.startswith("wrong client secret")
    assert result.clock_skew_s is not None and 7100 < result.clock_skew_s < 7300
    assert any("clock skew" in line and "behind" in line for line in result.lines())


async def test_short_secret_never_masks_ordinary_words() -> None:
    """A secret "s" must not turn "refused" into "refu***ed" (which would also reveal it)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    resolver = _fake_resolver({"127.0.0.1": "127.0.0.1"})
    result = await diagnose(_profile(f"http://127.0.0.1:{port}"), "s", resolver=resolver, environ={})
    text = "\n".join(result.lines())
    assert "***" not in text
    assert "Connection refused" in text and "skipped" in text


async def test_a_real_secret_in_a_detail_is_masked_as_a_whole_value() -> None:
    from tui.api.diagnose import _Diagnoser

    runner = _Diagnoser(
        _profile(SIM_GATEWAY),
        DEMO_CLIENT_SECRET,
        None,
        _fake_resolver({}),
        asyncio.open_connection,
        {},
        1,
        time.time,
    )
    step = runner.add(STEP_TOKEN, False, f"echoed {DEMO_CLIENT_SECRET}; prefix{DEMO_CLIENT_SECRET}")
    assert step.detail == "echoed ***; prefix***"


@pytest.fixture
async def silent_proxy() -> AsyncIterator[str]:
    """A proxy that accepts TCP connections and never answers anything."""
    held: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        try:
            await reader.read(65536)
            await asyncio.sleep(30)
        except (OSError, asyncio.CancelledError):
            pass

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()


def _eu1_profile() -> Profile:
    return profile_from_fields(
        "prod", "eu1", "https://acme.piam.eu1.mindsphere.io/oauth/token", "acme-tool-1.0.0-1234"
    )


async def test_proxy_that_never_answers_the_connect_is_named(silent_proxy: str) -> None:
    """The field report: the proxy steps passed and the cause blamed the tenant's host."""
    resolver = _fake_resolver({"127.0.0.1": "127.0.0.1"})
    result = await diagnose(
        _eu1_profile(),
        DEMO_CLIENT_SECRET,
        resolver=resolver,
        environ={"HTTPS_PROXY": f"http://{silent_proxy}"},
        step_timeout=0.5,
    )
    assert result.cause == (
        f"the proxy {silent_proxy} accepted the connection but did not answer the CONNECT to "
        "gateway.eu1.mindsphere.io:443 within 0.5 s"
    )
    proxy = result.step(STEP_PROXY)
    assert proxy is not None and proxy.ok is False
    assert "acme.piam.eu1.mindsphere.io:443 within 0.5 s" in proxy.detail
    assert result.step(STEP_TOKEN).ok is None  # type: ignore[union-attr]  # not repeated through the proxy
    assert resolver.calls == ["127.0.0.1", "127.0.0.1"]  # type: ignore[attr-defined]  # only the proxy


@pytest.fixture
async def auth_proxy() -> AsyncIterator[str]:
    """A proxy that answers every CONNECT with 407."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()


async def test_proxy_asking_for_authentication_is_named(auth_proxy: str) -> None:
    result = await diagnose(
        _eu1_profile(),
        DEMO_CLIENT_SECRET,
        resolver=_fake_resolver({"127.0.0.1": "127.0.0.1"}),
        environ={"HTTPS_PROXY": f"http://{auth_proxy}"},
        step_timeout=2,
    )
    assert result.cause is not None
    assert result.cause.startswith(f"the proxy {auth_proxy} requires authentication for the CONNECT to")
    assert "407" in result.cause


async def test_closed_proxy_port_is_named() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = await diagnose(
        _eu1_profile(),
        DEMO_CLIENT_SECRET,
        resolver=_fake_resolver({"127.0.0.1": "127.0.0.1"}),
        environ={"HTTPS_PROXY": f"http://127.0.0.1:{port}"},
    )
    assert result.cause == (
        f"the proxy 127.0.0.1:{port} refuses connections: nothing is listening on 127.0.0.1:{port}"
    )


async def test_token_url_on_a_closed_local_port() -> None:
    """The field report: the step said "Connection refused", the cause blamed a firewall."""
    with SimServer(SimConfig()) as server:
        profile = _profile(server.url, "http://127.0.0.1:1/oauth/token")
        result = await diagnose(profile, DEMO_CLIENT_SECRET, environ={})
    assert result.cause == "nothing is listening on 127.0.0.1:1"
    tcp = [s for s in result.steps if s.name == STEP_TCP and s.host == "127.0.0.1" and s.ok is False]
    assert tcp and "Connection refused" in tcp[0].detail
