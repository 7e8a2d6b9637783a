"""Activity log cost (issue 12 §5: "the activity log adds less than 1 ms per call"): `make bench`.

Figures and ratios are printed; nothing here is a timed assertion.

(a) API calls against the in-process simulator (``sim_transport``: no socket, so the client's and the
    simulator's own work is all there is) with and without the activity log, interleaved rounds, medians
    per call; the difference is what the log adds to a call.
(b) The log's own work, isolated: recording one answered call (entry, JSON line, rotated-file write,
    the session's copy of the request for "copy as curl") in a tight loop.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import httpx

from tests.bench.test_bench import _report
from tui.api.activity import ActivityLog
from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.sim.app import create_app
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.transport import sim_transport

GATEWAY = "http://sim.ihub.localhost"
CALLS = 400
ROUNDS = 7
RECORDS = 20_000


def _client(sim, log: ActivityLog | None) -> ApiClient:
    creds = Credentials(
        CredentialStyle.CLIENT_CREDENTIALS, f"{GATEWAY}/oauth/token", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )
    return ApiClient(
        ConnectionConfig(gateway=GATEWAY, credentials=creds),
        transport=sim_transport(sim),
        activity=log.recorder("bench") if log is not None else None,
    )


async def _per_call(sim, log: ActivityLog | None) -> float:
    """Seconds per call of ``CALLS`` sequential GETs of one asset (the token fetched beforehand)."""
    async with _client(sim, log) as api:
        root = await api.assets.root()
        path = f"/api/assetmanagement/v3/assets/{root.asset_id}"
        started = time.perf_counter()
        for _ in range(CALLS):
            await api.request("GET", path)
        return (time.perf_counter() - started) / CALLS


def test_bench_activity_log_cost_per_call(tmp_path: Path) -> None:
    sim = create_app(SimConfig())
    log = ActivityLog(tmp_path / "activity.jsonl")
    without: list[float] = []
    with_log: list[float] = []
    asyncio.run(_per_call(sim, None))  # warm-up: imports, the simulator's caches
    for _ in range(ROUNDS):
        without.append(asyncio.run(_per_call(sim, None)))
        with_log.append(asyncio.run(_per_call(sim, log)))
    base = statistics.median(without)
    logged = statistics.median(with_log)
    lines = sum(1 for _ in (tmp_path / "activity.jsonl").open())

    # (b) the recording alone
    request = httpx.Request(
        "GET",
        f"{GATEWAY}/api/assetmanagement/v3/assets?filter=%7B%7D&page=3&size=200",
        headers={"Authorization": "Bearer x", "Accept": "application/json"},
    )
    response = httpx.Response(200, content=b"{}" * 500, headers={"X-Correlation-ID": "c1"}, request=request)
    recorder = ActivityLog(tmp_path / "alone.jsonl").recorder("bench")
    started = time.perf_counter()
    for _ in range(RECORDS):
        recorder.answered(request, response, 1.7e9, 0.01)
    alone = (time.perf_counter() - started) / RECORDS

    _report(
        f"activity log: {CALLS} GETs x {ROUNDS} rounds against the in-process simulator (medians)",
        [
            ("per call without the log", f"{base * 1e6:,.0f} µs"),
            ("per call with the log", f"{logged * 1e6:,.0f} µs"),
            ("added per call", f"{(logged - base) * 1e6:,.0f} µs (target < 1000 µs)"),
            ("ratio with / without", f"{logged / base:.3f}"),
            ("recording one call, isolated", f"{alone * 1e6:,.1f} µs ({RECORDS:,} records)"),
            ("lines written", f"{lines:,}"),
        ],
    )
    assert lines >= ROUNDS * CALLS
