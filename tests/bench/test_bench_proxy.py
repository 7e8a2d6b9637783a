"""Benchmarks of the local API proxy (issue 13): added latency per request and throughput, against direct
calls to the same simulator measured in the same run. Figures and ratios are printed; nothing is asserted
on time.

Three processes, as in real use: the simulator (the gateway), the proxy (``tui.proxy.serve``, as
``ihub proxy`` runs it) and this client. Direct and proxied rounds alternate so that load from elsewhere
on the machine affects both alike.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

AM = "/api/assetmanagement/v3"
ROUNDS = 5
PER_ROUND = 200
CLIENTS = 50
PER_CLIENT = 40


def _report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    for name, value in rows:
        print(f"   {name:<44} {value}")


class _Process:
    """A child Python process that prints its URL on the first line and stops when stdin closes."""

    def __init__(self, code: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and code)
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(os.environ.get("BENCH_STDERR", os.devnull), "a"),
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert self.proc.stdout is not None
        self.url = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if "URL:" in line or line.startswith("http://"):
                self.url = line.split("URL:")[-1].strip().removesuffix("/api/...")
                break
        if not self.url:
            self.stop()
            raise RuntimeError("child process did not start")

    def cpu_seconds(self) -> tuple[float, float] | None:
        """(user, system) CPU seconds of the process so far (Linux /proc), or None."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            tick = os.sysconf("SC_CLK_TCK")
            return int(fields[11]) / tick, int(fields[12]) / tick
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


SIM_CODE = (
    "import sys\n"
    "from tui.sim.server import SimServer\n"
    "server = SimServer()\n"
    "server.start()\n"
    "print(server.url, flush=True)\n"
    "sys.stdin.read()\n"
    "server.stop()\n"
)

PROXY_CODE = (
    "import os, sys\n"
    "from tui.config.profiles import Profile\n"
    "from tui.proxy import serve\n"
    "gateway = os.environ['BENCH_GATEWAY']\n"
    "profile = Profile(name='bench', gateway=gateway, token_url=gateway + '/oauth/token',\n"
    "                  client_id=os.environ['BENCH_CLIENT_ID'])\n"
    "serve(profile, os.environ['BENCH_SECRET'], port=0, err=lambda line: None)\n"
)

KEY = "bench-access-key-0123456789"


@pytest.fixture(scope="module")
def setup() -> Iterator[tuple[_Process, _Process, str]]:
    sim = _Process(SIM_CODE)
    proxy = _Process(
        PROXY_CODE,
        env={
            "BENCH_GATEWAY": sim.url,
            "BENCH_CLIENT_ID": DEMO_CLIENT_ID,
            "BENCH_SECRET": DEMO_CLIENT_SECRET,
            "IHUB_PROXY_KEY": KEY,
        },
    )
    token = httpx.post(
        f"{sim.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
    ).json()["access_token"]
    yield sim, proxy, token
    proxy.stop()
    sim.stop()


def _cpu(before: tuple[float, float], after: tuple[float, float], requests: int) -> str:
    user = (after[0] - before[0]) / requests * 1000
    system = (after[1] - before[1]) / requests * 1000
    return f"{user + system:.2f} ms ({user:.2f} user, {system:.2f} system incl. loopback TCP)"


def _timed(client: httpx.Client, url: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200
    return times


def test_bench_proxy_added_latency(setup: tuple[_Process, _Process, str]) -> None:
    """Sequential GETs on one keep-alive connection: median through the proxy minus median direct."""
    sim, proxy, token = setup
    rows = []
    for label, path in (
        ("asset (1 kB)", f"{AM}/assets/root"),
        ("page of 200 assets", f"{AM}/assets?size=200"),
    ):
        with (
            httpx.Client(headers={"Authorization": f"Bearer {token}"}) as direct,
            httpx.Client(headers={"X-Ihub-Proxy-Key": KEY}) as via,
        ):
            _timed(direct, sim.url + path, 20)  # warm-up: connections, the proxy's token
            _timed(via, proxy.url + path, 20)
            size = len(via.get(proxy.url + path).content)
            d_times: list[float] = []
            p_times: list[float] = []
            cpu0 = proxy.cpu_seconds()
            for _ in range(ROUNDS):
                d_times += _timed(direct, sim.url + path, PER_ROUND)
                p_times += _timed(via, proxy.url + path, PER_ROUND)
            cpu1 = proxy.cpu_seconds()
        d_med = statistics.median(d_times) * 1000
        p_med = statistics.median(p_times) * 1000
        rows.append((f"{label}: direct median", f"{d_med:.2f} ms"))
        rows.append((f"{label}: through the proxy median", f"{p_med:.2f} ms ({size / 1000:.0f} kB)"))
        rows.append(
            (
                f"{label}: added latency (target <= 2 ms)",
                f"{p_med - d_med:.2f} ms, ratio x{p_med / d_med:.2f}",
            )
        )
        if cpu0 is not None and cpu1 is not None:
            rows.append((f"{label}: proxy CPU per request", _cpu(cpu0, cpu1, ROUNDS * PER_ROUND)))
    _report(f"proxy latency, {ROUNDS} x {PER_ROUND} sequential GETs each way, loopback, 3 processes", rows)


async def _throughput(base: str, path: str, headers: dict[str, str]) -> float:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as client:

        async def one_client() -> None:
            for _ in range(PER_CLIENT):
                response = await client.get(base + path)
                assert response.status_code == 200

        await asyncio.gather(*(client.get(base + path) for _ in range(CLIENTS)))  # open the connections
        t0 = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
        return CLIENTS * PER_CLIENT / (time.perf_counter() - t0)


def test_bench_proxy_throughput_50_clients(setup: tuple[_Process, _Process, str]) -> None:
    """50 concurrent clients, 40 GETs each: requests per second direct and through the proxy."""
    sim, proxy, token = setup
    path = f"{AM}/assets/root"
    direct_rates = []
    proxy_rates = []
    cpu0 = proxy.cpu_seconds()
    for _ in range(2):
        direct_rates.append(asyncio.run(_throughput(sim.url, path, {"Authorization": f"Bearer {token}"})))
        proxy_rates.append(asyncio.run(_throughput(proxy.url, path, {"X-Ihub-Proxy-Key": KEY})))
    cpu1 = proxy.cpu_seconds()
    direct = max(direct_rates)
    via = max(proxy_rates)
    rows = [
        ("direct", f"{direct:,.0f} requests/s"),
        ("through the proxy", f"{via:,.0f} requests/s, ratio x{via / direct:.2f}"),
    ]
    if cpu0 is not None and cpu1 is not None:
        rows.append(("proxy CPU per request", _cpu(cpu0, cpu1, 2 * (CLIENTS * PER_CLIENT + CLIENTS))))
    rows.append(("CPUs on this machine", str(os.cpu_count())))
    _report(f"proxy throughput, {CLIENTS} concurrent clients x {PER_CLIENT} GETs (best of 2)", rows)
