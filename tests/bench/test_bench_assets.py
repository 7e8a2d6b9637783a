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

(b) and (c) run five times, interleaved, and the medians are compared (the machine is shared); the
client's own CPU time is printed too, since it does not depend on how busy the simulator is.

Targets (issue 8): (c) at least 5x faster than (a) and within 1.5x of (b); (d) at most 200 MB.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.bench.test_bench import _client, _ProcessServer, _report
from tui.api import contract as C

TENANT_ASSETS = 100_000
LATENCY_MS = 20
FLOOR_CONCURRENCY = 16
MC_PAGE_SIZE = 100
ROUNDS = 5


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(run: Callable[[], Awaitable[tuple[float, int]]]) -> tuple[float, float, int]:
    """(wall seconds, client CPU seconds, result) of one run."""
    cpu = _cpu()
    wall, result = asyncio.run(run())
    return wall, _cpu() - cpu, result


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


async def _api_listing(server: _ProcessServer) -> tuple[float, int]:
    """The API layer's full concurrent listing: typed assets, 16 pages in flight; returns the number of
    distinct asset ids (each asset must come exactly once)."""
    async with _client(server, page_concurrency=FLOOR_CONCURRENCY) as api:
        await api.tokens.get()
        t0 = time.perf_counter()
        assets = await api.assets.list_all()
        elapsed = time.perf_counter() - t0
        unique = len({a.asset_id for a in assets})
        return elapsed, unique if unique == len(assets) else -len(assets)


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
    mc_s, mc_cpu, mc_n = _timed(lambda: _mc_pattern(tenant_server, token))
    floors: list[tuple[float, float, int]] = []
    apis: list[tuple[float, float, int]] = []
    for round_number in range(ROUNDS):  # interleaved, the order alternating, against drifting load
        for which in ("floor", "api") if round_number % 2 == 0 else ("api", "floor"):
            if which == "floor":
                floors.append(_timed(lambda: _floor(tenant_server, token, C.AM_MAX_PAGE_SIZE)))
            else:
                apis.append(_timed(lambda: _api_listing(tenant_server)))
    floor_s = statistics.median(f[0] for f in floors)
    api_s = statistics.median(a[0] for a in apis)
    floor_bytes = floors[0][2]
    api_n = apis[0][2]
    probe = _rss_probe(tenant_server)

    def runs(results: list[tuple[float, float, int]]) -> str:
        walls = ", ".join(f"{r[0]:.2f}" for r in results)
        cpu = statistics.median(r[1] for r in results)
        return f"median {statistics.median(r[0] for r in results):.2f} s ({walls}); client CPU {cpu:.2f} s"

    _report(
        f"listing every asset: {mc_n:,} assets, {LATENCY_MS} ms latency, simulator in its own process",
        [
            ("(a) mc pattern (sequential pages of 100)", f"{mc_s:.2f} s; client CPU {mc_cpu:.2f} s"),
            (f"(b) floor ({FLOOR_CONCURRENCY} raw requests, pages of {C.AM_MAX_PAGE_SIZE})", runs(floors)),
            ("    JSON read by the floor", f"{floor_bytes / 2**20:.0f} MiB"),
            (f"(c) API layer, typed assets ({api_n:,} distinct)", runs(apis)),
            ("    (a)/(c): times faster than mc (target >= 5)", f"x{mc_s / api_s:.2f}"),
            ("    (c)/(b): times the floor (target <= 1.5)", f"x{api_s / floor_s:.2f}"),
            (
                "(d) RSS holding every asset (target <= 200 MB)",
                f"{probe['after']:.0f} MB (before listing {probe['before']:.0f} MB, "
                f"peak {probe['peak']:.0f} MB, {int(probe['count']):,} assets)",
            ),
        ],
    )
    assert all(a[2] == mc_n for a in apis) and int(probe["count"]) == mc_n
