"""Benchmarks: `make bench`. Figures and ratios are printed; nothing here is a timed assertion.

Everything runs against the simulator over real loopback (uvicorn), as a remote tenant would be reached.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.server import SimServer
from tui.sim.tenant import build_tenant


def _report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    for name, value in rows:
        print(f"   {name:<44} {value}")


def _client(server: SimServer | _ProcessServer, **cfg: object) -> ApiClient:
    creds = Credentials(
        CredentialStyle.CLIENT_CREDENTIALS, server.token_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )
    return ApiClient(ConnectionConfig(gateway=server.url, credentials=creds, **cfg))  # type: ignore[arg-type]


def test_bench_tenant_build() -> None:
    """Building the 100 000-asset tenant: time and peak Python memory."""
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    state = build_tenant(SimConfig(assets=100_000))
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    _report(
        "simulator tenant with 100 000 generated assets",
        [
            ("assets in tenant", f"{len(state.assets):,}"),
            ("build time", f"{elapsed:.2f} s"),
            ("peak traced memory", f"{peak / 2**20:.0f} MiB"),
        ],
    )
    assert len(state.assets) > 100_000


class _ProcessServer:
    """The simulator in its own process, as a remote tenant would be: client and server share no GIL."""

    def __init__(self, *args: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        code = (
            "import sys; from tui.sim.server import build_parser_args, config_from_args, serve_forever; "
            "import argparse; p = argparse.ArgumentParser(); build_parser_args(p); "
            "ns = p.parse_args(sys.argv[1:]); "
            "serve_forever(config_from_args(ns), ns.host, ns.port, print_fn=lambda *a, **k: None)"
        )
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-c", code, "--port", str(self.port), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            self.proc.kill()
            raise RuntimeError("simulator did not start")
        self.url = f"http://127.0.0.1:{self.port}"
        self.token_url = f"{self.url}/oauth/token"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def big_server():
    server = _ProcessServer("--assets", "100000", "--latency", "10")
    yield server
    server.stop()


def test_bench_hal_paging(big_server: _ProcessServer) -> None:
    """Listing every asset of a 100 000-asset tenant: sequential pages against concurrent pages."""

    async def run(concurrency: int) -> tuple[float, int, int]:
        async with _client(big_server, page_concurrency=concurrency) as api:
            await api.tokens.get()
            t0 = time.perf_counter()
            ids = [a.asset_id async for a in api.assets.list()]
            return time.perf_counter() - t0, len(ids), len(set(ids))

    rows = []
    base = None
    for concurrency in (1, 4, 8):
        elapsed, n, unique = asyncio.run(run(concurrency))
        base = base or elapsed
        rows.append(
            (
                f"page_concurrency={concurrency}",
                f"{n:,} assets ({unique:,} unique) in {elapsed:.2f} s, {n / elapsed:,.0f}/s, "
                f"speed-up x{base / elapsed:.2f}",
            )
        )
        assert n == unique
    _report("HAL paging, 200 per page, 10 ms simulated latency, loopback", rows)


def test_bench_token_single_flight(big_server: _ProcessServer) -> None:
    """500 concurrent calls on a cold client: how many token requests reach the token endpoint."""

    async def run() -> tuple[int, float]:
        async with _client(big_server) as api:
            t0 = time.perf_counter()
            await asyncio.gather(*(api.assets.root() for _ in range(500)))
            return api.tokens.requests, time.perf_counter() - t0

    token_requests, elapsed = asyncio.run(run())
    _report(
        "token single-flight",
        [("token requests for 500 concurrent calls", str(token_requests)), ("wall time", f"{elapsed:.2f} s")],
    )


def test_bench_timeseries_link_paging() -> None:
    """Reading 100 days of 15-minute pump data (about 9 000 records) through Link paging."""
    server = SimServer(SimConfig())
    server.start()
    try:

        async def run() -> tuple[int, float, float]:
            async with _client(server) as api:
                pump = None
                async for asset in api.assets.list({"typeId": "demo.Pump"}):
                    pump = asset
                    break
                assert pump is not None
                aspects = [a for a in await api.assets.aspects(pump.asset_id) if a.category == "dynamic"]
                aspect = aspects[0].name
                to = datetime.now(UTC).replace(second=0, microsecond=0)
                t0 = time.perf_counter()
                records = [
                    r async for r in api.timeseries.iter(pump.asset_id, aspect, to - timedelta(days=100), to)
                ]
                ts_elapsed = time.perf_counter() - t0
                t0 = time.perf_counter()
                await api.aggregates.get(
                    pump.asset_id, aspect, to - timedelta(days=90), to, interval_value=1, interval_unit="day"
                )
                agg_elapsed = time.perf_counter() - t0
                return len(records), ts_elapsed, agg_elapsed

        n, ts_elapsed, agg_elapsed = asyncio.run(run())
        _report(
            "time series over loopback",
            [
                (
                    "records in 100 days (limit 2000 per page)",
                    f"{n:,} in {ts_elapsed:.2f} s, {n / ts_elapsed:,.0f}/s",
                ),
                ("aggregates: 90 days of 1-day intervals", f"{agg_elapsed * 1000:.0f} ms"),
            ],
        )
    finally:
        server.stop()
