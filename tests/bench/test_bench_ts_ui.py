"""Time series area benchmarks (issue 9, section 7): `make bench` prints figures and ratios; no timed asserts.

The app runs headless (``run_test``) around the demo profile. For the reads, the simulator runs in its own
process over loopback with 20 ms of injected latency per API call (as a remote tenant would be reached,
and so that its CPU is not counted as the app's); the resize benchmark reads in process.

* cold start of the area to the drawn chart, 30 days of 1 Hz (2.6 M raw points, aggregated): target 2 s;
* 24 h of raw 1 Hz (86 400 points, forced raw) fetched and drawn by the area, against the same records
  read as `mc timeseries` reads them (one range, sequential `Link` pages of 2000) plus the same drawing:
  target at least 3x faster (tests/bench/test_bench_ts.py measures the fetch part alone, and against a
  stand-in gateway with negligible cost per page);
* redraw after a terminal resize, four series in three panels: target 50 ms;
* live mode at a 5 s interval: the app's CPU time over a window of wall time, target under 5 % of a core.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

import tui.screens.timeseries as ts_screen
from tests.bench.test_bench_ts import (
    _FAST_SERVER_CODE,
    LATENCY_MS,
    CpuMeter,
    _OneHzServer,
    _report,
    cpu_pressure,
)
from tui.api.ts.frame import RawBuilder, format_ms
from tui.app import IhubApp
from tui.context import ChartRequest
from tui.devtools.screenshots import build_demo_app, wait_idle
from tui.screens.timeseries import TimeSeriesScreen
from tui.services import Services

PUMP = "ff0d65e90c1000b7343ac254a953c927"  # Pump ER-1104
PUMP_B = "04fe02527205719c9e72772be7d94347"  # Pump ER-1203
SIZE = (160, 50)

_SERVER_CODE = """
import sys, time
from tui.sim.config import SimConfig
from tui.sim.server import SimServer
server = SimServer(SimConfig(latency_ms=float(sys.argv[2])), port=int(sys.argv[1]))
server.start()
while server.running:
    time.sleep(0.5)
"""


# The stand-in gateway of test_bench_ts.py (24 h of 1 Hz records, pages cut with negligible cost, 20 ms
# latency), plus the two Asset Management reads the area makes before charting: the asset and its aspects.
_ASSETS = """
async def asset(request):
    await asyncio.sleep(latency)
    return JSONResponse({"assetId": request.path_params["a"], "name": "Bench Pump", "typeId": "bench.Pump"})
async def aspects(request):
    await asyncio.sleep(latency)
    variable = {"name": "velocityRms", "dataType": "DOUBLE", "unit": "mm/s", "qualityCode": False}
    body = {"_embedded": {"aspects": [{"name": "Vibration", "category": "dynamic", "variables": [variable]}]},
            "page": {"size": 200, "totalElements": 1, "totalPages": 1, "number": 0}}
    return JSONResponse(body)
app = Starlette(routes=[Route("/api/assetmanagement/v3/assets/{a}", asset),
                        Route("/api/assetmanagement/v3/assets/{a}/aspects", aspects),
"""
STAND_IN_CODE = _FAST_SERVER_CODE.replace("app = Starlette(routes=[", _ASSETS.strip("\n"), 1)


@pytest.fixture(scope="module")
def server() -> Iterator[_OneHzServer]:
    process = _OneHzServer(_SERVER_CODE)
    yield process
    process.stop()


def _app(server: _OneHzServer) -> IhubApp:
    return IhubApp(Services.for_demo(server.url), profile="demo")


async def _connected(app: IhubApp, pilot) -> None:
    async with asyncio.timeout(60):
        while app.api is None:
            await pilot.pause(0.02)
        await app.workers.wait_for_complete()


async def _drawn(app: IhubApp, pilot, screen: TimeSeriesScreen, draws: int = 0) -> None:
    """Until the chart holds the read data, then one paint."""
    async with asyncio.timeout(120):
        while not (screen.results and screen.chart.draws > draws and screen.chart.panels):  # noqa: ASYNC110
            await asyncio.sleep(0.002)  # polls the screen's state: there is no event to wait on
    await pilot.pause()


async def _open(app: IhubApp, pilot, *variables: str) -> tuple[TimeSeriesScreen, float]:
    t0 = time.perf_counter()
    app.open_area("timeseries", ChartRequest(PUMP, "Vibration", variables, "Pump ER-1104"))
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, TimeSeriesScreen)
    await _drawn(app, pilot, screen)
    return screen, time.perf_counter() - t0


def test_bench_30_days_of_1hz_cold_start_of_the_area_to_the_drawn_chart(server, monkeypatch) -> None:
    monkeypatch.setattr(ts_screen, "DEFAULT_PRESET", "30d")

    async def once() -> tuple[float, str]:
        app = _app(server)
        async with app.run_test(size=SIZE) as pilot:
            await _connected(app, pilot)
            screen, elapsed = await _open(app, pilot, "velocityRms")
            assert screen.range.duration == timedelta(days=30)
            return elapsed, screen.status

    runs = [asyncio.run(once()) for _ in range(3)]
    times = [t for t, _s in runs]
    _report(
        f"Time series area: 30 days of 1 Hz, one variable, cold area, {LATENCY_MS} ms latency",
        [
            ("first run (imports the area and textual-plot)", f"{times[0]:.2f} s"),
            ("median of 3 fresh apps", f"{statistics.median(times):.2f} s (target <= 2 s)"),
            ("ratio to the target", f"{statistics.median(times) / 2.0:.2f} of 2 s"),
            ("status line", runs[-1][1]),
        ],
    )


async def _raw_day(app: IhubApp, pilot, asset: str, server_pid: int | None = None) -> dict[str, object]:
    """24 h forced raw: the area (cold reader) against sequential Link pages plus the same drawing."""
    out: dict[str, object] = {}
    meter = CpuMeter(server_pid)
    await _connected(app, pilot)
    api = app.api
    assert api is not None
    app.switch_area("timeseries")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, TimeSeriesScreen)
    screen.force = "raw"
    app_times: list[float] = []
    seq_times: list[float] = []
    for _ in range(2):
        # The area: probe, concurrent sub-ranges, merge, points per column, drawn.
        screen._reader = None  # a cold reader: no known rate, an empty cache
        screen.action_clear()
        await pilot.pause()
        draws = screen.chart.draws
        meter.start()
        t0 = time.perf_counter()
        screen.handle_request(ChartRequest(asset, "Vibration", ("velocityRms",)))
        await _drawn(app, pilot, screen, draws)
        app_times.append(time.perf_counter() - t0)
        out["app_cpu"] = meter.text()
        result = next(iter(screen.results.values()))
        rng = screen.range
        # `mc timeseries`: one range, sequential Link pages of 2000, then the same drawing.
        meter.start()
        t0 = time.perf_counter()
        builder = RawBuilder(["velocityRms"])
        page: list[dict] = []
        async for record in api.timeseries.iter(
            asset, "Vibration", format_ms(rng.start_ms), format_ms(rng.end_ms), select="velocityRms"
        ):
            page.append(record)
            if len(page) == 2000:
                builder.add(page)
                page = []
        builder.add(page)
        frame = builder.build()
        screen.results[asset, "Vibration"] = type(result)(result.query, result.plan, frame, 0.0)
        await screen._redraw()
        await pilot.pause()
        seq_times.append(time.perf_counter() - t0)
        out["seq_cpu"] = meter.text()
        out["same"] = frame.times.tolist() == result.frame.times.tolist()  # type: ignore[union-attr]
        out["records"] = len(frame)
        out["status"] = screen.status
    out["app"], out["seq"] = min(app_times), min(seq_times)
    return out


def _print_raw_day(title: str, r: dict[str, object]) -> None:
    app_s, seq_s = float(r["app"]), float(r["seq"])  # type: ignore[arg-type]
    _report(
        title,
        [
            ("records", f"{r['records']:,}"),
            ("mc pattern: sequential Link pages + the same drawing", f"{seq_s:.2f} s"),
            ("the area: probe + concurrent sub-ranges + drawing", f"{app_s:.2f} s"),
            ("status line", str(r["status"])),
            ("same records", str(r["same"])),
            ("speed-up (target >= 3x)", f"x{seq_s / app_s:.1f}"),
            ("CPU, mc pattern (last run)", str(r["seq_cpu"])),
            ("CPU, the area (last run)", str(r["app_cpu"])),
            ("machine CPU pressure (PSI some, last 10 s)", cpu_pressure()),
        ],
    )


def test_bench_24h_raw_fetched_and_drawn_against_sequential_link_pages(server) -> None:
    """Against the simulator: it serves one request at a time and spends more CPU per page than the
    latency, which bounds any concurrent reader (see test_bench_ts.py)."""

    async def run() -> dict[str, object]:
        app = _app(server)
        async with app.run_test(size=SIZE) as pilot:
            return await _raw_day(app, pilot, PUMP, server.proc.pid)

    r = asyncio.run(run())
    _print_raw_day(
        f"Time series area: 24 h of raw 1 Hz fetched and drawn, simulator, {LATENCY_MS} ms latency", r
    )
    assert r["same"]


def test_bench_24h_raw_fetched_and_drawn_against_a_gateway_with_negligible_page_cost() -> None:
    """The same against the stand-in gateway: what the area's strategy is worth on a real service."""
    start_ms = (int(time.time()) - 25 * 3600) * 1000
    stand_in = _OneHzServer(STAND_IN_CODE, str(start_ms))
    try:

        async def run() -> dict[str, object]:
            app = _app(stand_in)
            async with app.run_test(size=SIZE) as pilot:
                return await _raw_day(app, pilot, "b" * 32, stand_in.proc.pid)

        r = asyncio.run(run())
    finally:
        stand_in.stop()
    _print_raw_day(
        f"Time series area: 24 h of raw 1 Hz fetched and drawn, stand-in gateway, {LATENCY_MS} ms latency", r
    )
    assert r["same"]


async def _resizes(pilot, screen: TimeSeriesScreen | None) -> tuple[list[float], list[float], list[float]]:
    repaint: list[float] = []
    rederive: list[float] = []
    cpu: list[float] = []  # the app's thread: what the resize cost, without Pilot's idle waits (20 ms steps)
    for size in [(150, 46), SIZE] * 5:
        c0 = time.thread_time()
        t0 = time.perf_counter()
        await pilot.resize_terminal(*size)
        await pilot.pause()
        repaint.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
        if screen is not None:
            t0 = time.perf_counter()
            await screen._redraw()
            await pilot.pause()
            rederive.append(time.perf_counter() - t0)
    return repaint, rederive, cpu


def test_bench_redraw_after_resize_four_series() -> None:
    async def run() -> dict[str, list[float]]:
        app = build_demo_app()
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            # The same screen without a chart: Textual's own relayout and repaint of the terminal.
            app.switch_area("timeseries")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, TimeSeriesScreen)
            screen.picker.display = False
            await pilot.pause()
            empty, _none, empty_cpu = await _resizes(pilot, None)
            screen.handle_request(
                ChartRequest(
                    PUMP, "Vibration", ("velocityRms", "accelerationPeak", "bearingTemperature"), "A"
                )
            )
            await wait_idle(app)
            await pilot.pause(0.5)
            screen.add_request(ChartRequest(PUMP_B, "Vibration", ("velocityRms",), "Pump ER-1203"))
            for _ in range(5):
                await wait_idle(app)
                await pilot.pause(0.1)
            series = sum(len(p.series) for p in screen.chart.panels)
            plots = screen.chart.plots
            render: list[float] = []
            for _ in range(10):
                t0 = time.perf_counter()
                for plot in plots:
                    plot._render_plot()
                render.append(time.perf_counter() - t0)
            repaint, rederive, cpu = await _resizes(pilot, screen)
            return {
                "empty": empty,
                "repaint": repaint,
                "rederive": rederive,
                "render": render,
                "empty_cpu": empty_cpu,
                "cpu": cpu,
                "series": [series],
            }

    runs = asyncio.run(run())
    series = int(runs.pop("series")[0])
    median_ms = {name: statistics.median(values) * 1000 for name, values in runs.items()}
    chart_cpu = median_ms["cpu"] - median_ms["empty_cpu"]
    chart = median_ms["repaint"] - median_ms["empty"]
    _report(
        f"Time series area: redraw after a resize, {series} series in 3 panels (24 h), median of 10",
        [
            ("resize to painted, the screen without a chart", f"{median_ms['empty']:.0f} ms"),
            ("resize to painted, with the chart", f"{median_ms['repaint']:.0f} ms"),
            ("the chart's share (difference)", f"{chart:.0f} ms (target <= 50 ms: x{chart / 50:.1f})"),
            ("drawing the three panels alone (textual-plot)", f"{median_ms['render']:.0f} ms"),
            ("points re-derived for the new width, painted", f"{median_ms['rederive']:.0f} ms"),
            (
                "app thread CPU per resize, without / with the chart",
                f"{median_ms['empty_cpu']:.0f} ms / {median_ms['cpu']:.0f} ms",
            ),
            ("the chart's share of CPU (difference)", f"{chart_cpu:.0f} ms (target <= 50 ms)"),
            ("machine CPU pressure (PSI some, last 10 s)", cpu_pressure()),
        ],
    )


def test_bench_live_mode_cpu_share(server) -> None:
    window_s = 30.0

    async def run() -> tuple[float, float, int, str]:
        app = _app(server)
        async with app.run_test(size=SIZE) as pilot:
            await _connected(app, pilot)
            screen, _elapsed = await _open(app, pilot, "velocityRms", "bearingTemperature")
            screen.apply_preset("15min")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.live_interval == 5.0
            screen.action_live()
            await pilot.pause(1.0)
            polls = screen.polls
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await asyncio.sleep(window_s)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            return cpu, wall, screen.polls - polls, screen.status

    cpu, wall, polls, status = asyncio.run(run())
    _report(
        "Time series area: live mode at 5 s (15 min window, 2 series, 1 Hz), app process only",
        [
            ("window", f"{wall:.1f} s wall, {polls} polls"),
            ("app CPU time", f"{cpu:.2f} s"),
            ("CPU share of one core (target < 5 %)", f"{cpu / wall:.1%}"),
            ("status line", status),
        ],
    )
