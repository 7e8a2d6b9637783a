"""Asset listing benchmarks (issue 8 section 5): `make bench`. Figures and ratios, no timed assertions.

The simulator runs in its own process with a 100 000-asset tenant and 20 ms injected latency per API call,
reached over loopback as a remote tenant would be. In one run this prints:

(a) the `mc list-assets` pattern: sequential pages of 100 (`sort=name,asc`, one page past the end, as
    `mc` loops), each body decoded as plain JSON;
(b) the floor: the pages the API layer reads (size 200), fetched with 16 concurrent raw requests and
    not decoded at all;
(c) the API layer's full concurrent listing (typed `Asset` models, every asset once), with its ratios
    to (a) and (b);
(d) resident memory (RSS) of a fresh process after it has listed and holds every asset, measured in a
    subprocess so that nothing else of the benchmark run is counted.

Targets (issue 8): (c) at least 5x faster than (a) and within 1.5x of (b); (d) at most 200 MB.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.bench.test_bench import _client, _ProcessServer, _report
from tui.api import contract as C

TENANT_ASSETS = 100_000
LATENCY_MS = 20
FLOOR_CONCURRENCY = 16
MC_PAGE_SIZE = 100


@pytest.fixture(scope="module")
def tenant_server():
    server = _ProcessServer("--assets", str(TENANT_ASSETS), "--latency", str(LATENCY_MS))
    yield server
    server.stop()


async def _token(server: _ProcessServer) -> str:
    async with _client(server) as api:
        return (await api.tokens.get()).access_token


def _raw_client(server: _ProcessServer, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        limits=httpx.Limits(max_connections=FLOOR_CONCURRENCY * 2),
        timeout=60,
    )


async def _mc_pattern(server: _ProcessServer, token: str) -> tuple[float, int]:
    """`mc list-assets`: size=100, sort=name,asc, `while (page++ < totalPages)`, JSON.parse of each."""
    async with _raw_client(server, token) as http:
        t0 = time.perf_counter()
        count = 0
        page, total_pages = 0, 1
        while page <= total_pages:  # mc asks for one page past the end
            response = await http.get(
                C.AM_ASSETS, params={"page": page, "size": MC_PAGE_SIZE, "sort": C.DEFAULT_SORT}
            )
            response.raise_for_status()
            body = json.loads(response.content)
            count += len(body.get("_embedded", {}).get("assets", []))
            total_pages = body["page"]["totalPages"]
            page += 1
        return time.perf_counter() - t0, count


async def _floor(server: _ProcessServer, token: str, size: int) -> tuple[float, int]:
    """The same pages the API layer reads, 16 raw requests in flight, bodies read but not decoded."""
    async with _raw_client(server, token) as http:
        t0 = time.perf_counter()
        first = await http.get(C.AM_ASSETS, params={"page": 0, "size": size, "sort": C.DEFAULT_SORT})
        total_pages = first.json()["page"]["totalPages"]
        gate = asyncio.Semaphore(FLOOR_CONCURRENCY)
        sizes = [len(first.content)]

        async def one(page: int) -> None:
            async with gate:
                response = await http.get(
                    C.AM_ASSETS, params={"page": page, "size": size, "sort": C.DEFAULT_SORT}
                )
                response.raise_for_status()
                sizes.append(len(response.content))

        await asyncio.gather(*(one(p) for p in range(1, total_pages)))
        return time.perf_counter() - t0, sum(sizes)


async def _api_listing(server: _ProcessServer) -> tuple[float, int, int]:
    async with _client(server, page_concurrency=FLOOR_CONCURRENCY) as api:
        await api.tokens.get()
        t0 = time.perf_counter()
        assets = await api.assets.list_all()
        elapsed = time.perf_counter() - t0
        return elapsed, len(assets), len({a.asset_id for a in assets})


# The memory probe: a fresh interpreter that lists every asset through the API layer and holds them.
_RSS_PROBE = """
import asyncio, gc, json, sys
from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

def rss_mb(field="VmRSS"):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")

async def main(url):
    creds = Credentials(CredentialStyle.CLIENT_CREDENTIALS, url + "/oauth/token", DEMO_CLIENT_ID,
                        DEMO_CLIENT_SECRET)
    async with ApiClient(ConnectionConfig(gateway=url, credentials=creds, page_concurrency=16)) as api:
        await api.tokens.get()
        gc.collect()
        before = rss_mb()
        assets = await api.assets.list_all()
    gc.collect()
    print(json.dumps({"before": before, "after": rss_mb(), "peak": rss_mb("VmHWM"), "count": len(assets)}))

asyncio.run(main(sys.argv[1]))
"""


def _rss_probe(server: _ProcessServer) -> dict[str, float]:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", _RSS_PROBE, server.url],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_bench_asset_listing(tenant_server: _ProcessServer) -> None:
    """(a) mc pattern, (b) floor, (c) API layer, with ratios; (d) RSS while holding every asset."""
    token = asyncio.run(_token(tenant_server))
    asyncio.run(_floor(tenant_server, token, C.AM_MAX_PAGE_SIZE))  # warm the server's sorted cache
    mc_s, mc_n = asyncio.run(_mc_pattern(tenant_server, token))
    floor_s, floor_bytes = asyncio.run(_floor(tenant_server, token, C.AM_MAX_PAGE_SIZE))
    api_s, api_n, api_unique = asyncio.run(_api_listing(tenant_server))
    probe = _rss_probe(tenant_server)
    _report(
        f"listing every asset: {mc_n:,} assets, {LATENCY_MS} ms latency, simulator in its own process",
        [
            ("(a) mc pattern (sequential pages of 100)", f"{mc_s:.2f} s"),
            (
                f"(b) floor ({FLOOR_CONCURRENCY} raw requests, pages of {C.AM_MAX_PAGE_SIZE})",
                f"{floor_s:.2f} s ({floor_bytes / 2**20:.0f} MiB of JSON)",
            ),
            (
                "(c) API layer, typed assets",
                f"{api_s:.2f} s ({api_n:,} assets, {api_unique:,} unique, {api_n / api_s:,.0f}/s)",
            ),
            ("    (a)/(c): times faster than mc (target >= 5)", f"x{mc_s / api_s:.2f}"),
            ("    (c)/(b): times the floor (target <= 1.5)", f"x{api_s / floor_s:.2f}"),
            (
                "(d) RSS holding every asset (target <= 200 MB)",
                f"{probe['after']:.0f} MB (before listing {probe['before']:.0f} MB, "
                f"peak {probe['peak']:.0f} MB, {int(probe['count']):,} assets)",
            ),
        ],
    )
    assert api_n == api_unique == mc_n == int(probe["count"])
