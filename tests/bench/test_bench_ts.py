"""Time series benchmarks (issue 9, section 7): `make bench` prints figures and ratios; no timed asserts.

The simulator runs in its own process over loopback with 20 ms of injected latency per API call, as a
remote tenant would be reached, and reads the demo pumps' 1 Hz ``Vibration`` aspect (86 400 records a
day). It builds a 2000-record page from whole-chunk columns in 1-3 ms of CPU (it was 10-35 ms, record by
record, and concurrent requests queued behind it), so it no longer bounds a concurrent reader. The 24 h
comparison is also run against a stand-in gateway with negligible cost per page: that figure is what the
client's strategy is worth on its own."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.api.ts.downsample import minmax_indices
from tui.api.ts.fetch import SeriesQuery, TimeSeriesReader
from tui.api.ts.frame import RawBuilder, RawFrame, format_ms
from tui.api.ts.textchart import ChartSeries, render_chart
from tui.api.ts.timerange import TimeRange
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

ASPECT = "Vibration"
VARIABLE = "velocityRms"
LATENCY_MS = 20
WIDTH = 150  # chart columns

_SERVER_CODE = """
import sys, time
from tui.sim.config import SimConfig
from tui.sim.server import SimServer
server = SimServer(SimConfig(latency_ms=float(sys.argv[2])), port=int(sys.argv[1]))
server.start()
while server.running:
    time.sleep(0.5)
"""


class _OneHzServer:
    """A server in its own process on a free loopback port (started from ``code``)."""

    def __init__(self, code: str = _SERVER_CODE, *args: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and code)
            [sys.executable, "-c", code, str(self.port), str(LATENCY_MS), *args],
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
            self.stop()
            raise RuntimeError("server did not start")
        self.url = f"http://127.0.0.1:{self.port}"
        self.token_url = f"{self.url}/oauth/token"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def one_hz_server():
    server = _OneHzServer()
    yield server
    server.stop()


# A stand-in for a gateway whose own cost per page is negligible: 24 h of 1 Hz records rendered once at
# start, pages cut from them by from/to/limit with the reference's Link rule, 20 ms latency per call.
# It isolates what the client's strategy is worth when the server answers requests in parallel.
_FAST_SERVER_CODE = """
import asyncio, base64, json, sys, time
from datetime import UTC, datetime
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
port, latency, start_ms = int(sys.argv[1]), float(sys.argv[2]) / 1000, int(sys.argv[3])
name = sys.argv[4] if len(sys.argv) > 4 else "velocityRms"
N = 2 * 86_400
def iso(ms):
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
def parse(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
TEXT = [json.dumps({"_time": iso(start_ms + 1000 * i), name: 1 + (i % 97) / 64}) for i in range(N)]
def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
async def token(request):
    now = int(time.time())
    jwt = b64({"alg": "none"}) + "." + b64({"exp": now + 3600, "iat": now, "client_id": "bench"}) + ".x"
    return JSONResponse({"access_token": jwt, "token_type": "Bearer", "expires_in": 3600})
async def series(request):
    await asyncio.sleep(latency)
    q = request.query_params
    lo, hi, limit = parse(q["from"]), parse(q["to"]), min(int(q.get("limit", "2000")), 2000)
    first = max(0, (lo - start_ms) // 1000 + 1)
    last = min(N - 1, (hi - start_ms) // 1000)
    stop = min(last + 1, first + limit)
    headers = {}
    if last + 1 > stop:
        nxt = request.url.include_query_params(**{"from": iso(start_ms + 1000 * (stop - 1))})
        headers["Link"] = f'<{nxt}>; rel="next"'
    body = "[" + ",".join(TEXT[first:stop]) + "]"
    return Response(body, media_type="application/json", headers=headers)
app = Starlette(routes=[Route("/oauth/token", token, methods=["POST"]),
                        Route("/api/iottimeseries/v3/timeseries/{e}/{a}", series)])
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""


def _client(server: _OneHzServer) -> ApiClient:
    creds = Credentials(
        CredentialStyle.CLIENT_CREDENTIALS, server.token_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )
    return ApiClient(ConnectionConfig(gateway=server.url, credentials=creds))


async def _pump(api: ApiClient) -> str:
    async for asset in api.assets.list({"typeId": "demo.Pump"}):
        return asset.asset_id
    raise RuntimeError("no pump in the demo plant")


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used so far, from /proc (None where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_pressure() -> str:
    """The machine's CPU pressure over the last 10 s (Linux PSI ``some``: the share of time runnable tasks
    waited for a core). Above a few per cent, wall-clock figures of CPU-bound work are stretched."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return "n/a"
    return next((f"{float(f[6:]):.0f} %" for f in line.split() if f.startswith("avg10=")), "n/a")


class CpuMeter:
    """CPU seconds of this process and of the server process between ``start()`` and ``text()``: what the
    work cost, whatever the wall clock says on a busy machine."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self._ours = 0.0
        self._theirs: float | None = None

    def start(self) -> None:
        self._ours = time.process_time()
        self._theirs = process_cpu_s(self.server_pid) if self.server_pid else None

    def text(self) -> str:
        ours = time.process_time() - self._ours
        after = process_cpu_s(self.server_pid) if self.server_pid else None
        theirs = f"{after - self._theirs:.2f} s" if after is not None and self._theirs is not None else "n/a"
        return f"client {ours:.2f} s, server {theirs}"


def _report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    for name, value in rows:
        print(f"   {name:<52} {value}")


def _draw(times, values) -> list[str]:
    """Downsample to the chart's columns and render: the part of "drawn" that is ours."""
    idx = minmax_indices(times, values, WIDTH)
    series = ChartSeries(VARIABLE, times[idx] / 1000.0, values[idx], "mm/s")
    return render_chart([series], width=WIDTH, height=20, tz=UTC)


async def _compare(
    api: ApiClient, asset: str, rng: TimeRange, server_pid: int | None = None
) -> dict[str, object]:
    """Sequential Link pages (`mc timeseries`) against ``TimeSeriesReader``, interleaved, best of 2."""
    meter = CpuMeter(server_pid)
    await api.tokens.get()
    await api.timeseries.read(asset, ASPECT, rng.start, rng.start + timedelta(minutes=1))  # warm up
    sequential: list[float] = []
    concurrent: list[float] = []
    out: dict[str, object] = {"same": True}
    for _ in range(2):
        before = api.requests
        meter.start()
        t0 = time.perf_counter()
        builder = RawBuilder([VARIABLE])
        page: list[dict] = []
        async for record in api.timeseries.iter(
            asset, ASPECT, format_ms(rng.start_ms), format_ms(rng.end_ms), select=VARIABLE
        ):
            page.append(record)
            if len(page) == 2000:
                builder.add(page)
                page = []
        builder.add(page)
        seq_frame = builder.build()
        _draw(seq_frame.times, seq_frame.columns[VARIABLE].values)
        sequential.append(time.perf_counter() - t0)
        out["seq_cpu"] = meter.text()
        out["seq_n"], out["seq_requests"] = len(seq_frame), api.requests - before

        reader = TimeSeriesReader(api)  # cold: no known rate, empty cache
        before = api.requests
        meter.start()
        t0 = time.perf_counter()
        result = await reader.load(SeriesQuery(asset, ASPECT, (VARIABLE,), rng), WIDTH)
        frame = result.frame
        assert isinstance(frame, RawFrame)
        _draw(frame.times, frame.columns[VARIABLE].values)
        concurrent.append(time.perf_counter() - t0)
        out["con_cpu"] = meter.text()
        out["con_n"], out["con_requests"] = len(frame), api.requests - before
        out["same"] = bool(out["same"]) and frame.times.tolist() == seq_frame.times.tolist()
        out["summary"] = result.summary
    out["sequential"], out["concurrent"] = min(sequential), min(concurrent)
    return out


def _print_compare(title: str, r: dict[str, object]) -> None:
    seq, con = float(r["sequential"]), float(r["concurrent"])  # type: ignore[arg-type]
    _report(
        title,
        [
            (
                "one range, sequential Link pages of 2000 (mc)",
                f"{r['seq_n']:,} records, {r['seq_requests']} requests, {seq:.2f} s",
            ),
            (
                "TimeSeriesReader: probe + concurrent sub-ranges",
                f"{r['con_n']:,} records, {r['con_requests']} requests, {con:.2f} s",
            ),
            ("status line", str(r["summary"])),
            ("same records", str(r["same"])),
            ("speed-up (target >= 3x)", f"x{seq / con:.1f}"),
            ("CPU, mc pattern (last run)", str(r["seq_cpu"])),
            ("CPU, TimeSeriesReader (last run)", str(r["con_cpu"])),
            ("machine CPU pressure (PSI some, last 10 s)", cpu_pressure()),
        ],
    )


def _day() -> TimeRange:
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    return TimeRange.of(end - timedelta(hours=24), end)


def test_bench_24h_raw_concurrent_subranges_vs_sequential_link_pages(one_hz_server: _OneHzServer) -> None:
    """24 h of 1 Hz raw data from the simulator: concurrent sub-ranges vs sequential Link pages (`mc`)."""

    async def run() -> dict[str, object]:
        async with _client(one_hz_server) as api:
            return await _compare(api, await _pump(api), _day(), one_hz_server.proc.pid)

    r = asyncio.run(run())
    _print_compare(
        f"24 h of 1 Hz raw data, one variable, {LATENCY_MS} ms latency, simulator in its own process", r
    )
    assert r["same"]  # a correctness check, not a timing one


def test_bench_24h_raw_against_a_server_with_negligible_page_cost() -> None:
    """The same comparison against a stand-in gateway that costs next to nothing per page."""
    rng = _day()
    server = _OneHzServer(_FAST_SERVER_CODE, str(rng.start_ms - 3_600_000))
    try:

        async def run() -> dict[str, object]:
            async with _client(server) as api:
                return await _compare(api, "a" * 32, rng, server.proc.pid)

        r = asyncio.run(run())
    finally:
        server.stop()
    _print_compare(
        f"24 h of 1 Hz raw data, {LATENCY_MS} ms latency, a stand-in gateway with negligible cost per page", r
    )
    assert r["same"]


def test_bench_30_days_of_1hz_cold_plan_fetch_downsample(one_hz_server: _OneHzServer) -> None:
    """30 days of 1 Hz (2.6 M raw points) for one variable, cold: probe, plan, fetch, downsample, render."""
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    rng = TimeRange.of(end - timedelta(days=30), end)

    async def run() -> tuple[float, str, float]:
        async with _client(one_hz_server) as api:
            asset = await _pump(api)
            await api.tokens.get()
            times = []
            summary = ""
            for _ in range(3):
                reader = TimeSeriesReader(api)
                t0 = time.perf_counter()
                result = await reader.load(SeriesQuery(asset, ASPECT, (VARIABLE,), rng), WIDTH)
                frame = result.frame
                render_chart(
                    [ChartSeries(VARIABLE, frame.mids(), frame.field(VARIABLE, "average"))],  # type: ignore[union-attr]
                    width=WIDTH,
                    height=20,
                    tz=UTC,
                )
                times.append(time.perf_counter() - t0)
                summary = result.summary
                t0 = time.perf_counter()
                again = await reader.load(SeriesQuery(asset, ASPECT, (VARIABLE,), rng), WIDTH)
                cached = time.perf_counter() - t0
                assert again.cached
            return statistics.median(times), summary, cached

    elapsed, summary, cached = asyncio.run(run())
    _report(
        f"30 days of 1 Hz data, one variable, cold reader, {LATENCY_MS} ms latency",
        [
            (
                "probe + plan + fetch + text chart (median of 3)",
                f"{elapsed:.2f} s (target for the screen: <= 2 s)",
            ),
            ("status line", summary),
            ("zooming back out (cache)", f"{cached * 1000:.1f} ms"),
        ],
    )
