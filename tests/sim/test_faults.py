"""Fault injection: statuses at the configured rate, Retry-After, error shapes, drops, token exemption."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette

from tui.sim import faults
from tui.sim.app import create_app
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.transport import sim_transport

ASSETS = "/api/assetmanagement/v3/assets"


@asynccontextmanager
async def _session(config: SimConfig) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], Starlette]]:
    """A raw client on a fresh app with ``config``, and the demo token's headers."""
    app = create_app(config)
    async with httpx.AsyncClient(transport=sim_transport(app), base_url="http://sim.test") as client:
        token = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        )
        assert token.status_code == 200
        yield client, {"Authorization": f"Bearer {token.json()['access_token']}"}, app


async def _statuses(
    client: httpx.AsyncClient, headers: dict[str, str], n: int, path: str = ASSETS
) -> list[str]:
    seen: list[str] = []
    for _ in range(n):
        try:
            response = await client.get(path, headers=headers)
        except httpx.RemoteProtocolError:
            seen.append("drop")
        else:
            seen.append(str(response.status_code))
    return seen


async def test_faults_at_roughly_the_configured_rate(sim_clock) -> None:
    async with _session(SimConfig(clock=sim_clock, fault_rate=0.3)) as (client, headers, app):
        counts = Counter(await _statuses(client, headers, 400))
    injected = 400 - counts["200"]
    assert 80 <= injected <= 160, counts
    assert set(counts) == {"200", "429", "500", "503", "drop"}
    state = app.state.tenant
    assert state.counters["faults"] == injected
    assert state.counters["faults_429"] == counts["429"]
    assert state.counters["faults_drop"] == counts["drop"]
    assert state.counters["requests"] == 401  # 400 API calls and the token request


async def test_429_carries_retry_after_and_the_api_error_shape(sim_clock) -> None:
    config = SimConfig(clock=sim_clock, fault_rate=1.0, faults=("429",), retry_after_s=7)
    async with _session(config) as (client, headers, app):
        am = await client.get(ASSETS, headers=headers)
        ts = await client.get("/api/iottimeseries/v3/timeseries/abc/Aspect", headers=headers)
    assert am.status_code == 429 and am.headers["Retry-After"] == "7"
    error = am.json()["errors"][0]
    assert error["code"] == "mdsp.core.generic.tooManyRequests" and error["logref"]
    assert am.headers["X-Correlation-ID"] == error["logref"]
    assert ts.status_code == 429 and set(ts.json()) == {"id", "message"}


@pytest.mark.parametrize("kind", ["500", "503"])
async def test_server_errors(sim_clock, kind: str) -> None:
    async with _session(SimConfig(clock=sim_clock, fault_rate=1.0, faults=(kind,))) as (client, headers, app):
        response = await client.get(ASSETS, headers=headers)
    assert response.status_code == int(kind)
    assert response.json()["errors"][0]["message"]


async def test_drop_is_a_remote_protocol_error_in_process(sim_clock) -> None:
    async with _session(SimConfig(clock=sim_clock, fault_rate=1.0, faults=("drop",))) as (
        client,
        headers,
        app,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(ASSETS, headers=headers)


async def test_tokens_exempt_unless_fault_tokens(sim_clock) -> None:
    config = SimConfig(clock=sim_clock, fault_rate=1.0, faults=("503",))
    # _session's own token request succeeds: token endpoints are exempt by default.
    async with _session(config) as (client, _headers, _app):
        keys = await client.get("/token_keys")
        assert keys.status_code == 200
        config.fault_tokens = True
        refused = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        )
    assert refused.status_code == 503
    assert refused.json()["error"] == "temporarily_unavailable"


async def test_same_seed_same_fault_sequence(sim_clock) -> None:
    runs = []
    for _ in range(2):
        async with _session(SimConfig(clock=sim_clock, fault_rate=0.5, seed=3)) as (client, headers, _app):
            runs.append(await _statuses(client, headers, 40))
    assert runs[0] == runs[1]
    async with _session(SimConfig(clock=sim_clock, fault_rate=0.5, seed=4)) as (client, headers, app):
        assert await _statuses(client, headers, 40) != runs[0]


async def test_latency_is_applied_to_api_calls_only(sim_clock, monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(faults.asyncio, "sleep", fake_sleep)
    async with _session(SimConfig(clock=sim_clock, latency_ms=250)) as (client, headers, app):
        assert delays == []  # the token request had no latency
        assert (await client.get(ASSETS, headers=headers)).status_code == 200
    assert delays == [0.25]
