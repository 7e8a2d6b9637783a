"""The pumps' 1 Hz ``Vibration`` aspect: 86 400 records a day, served from the synthetic signal without
storage, paged by ``Link`` past 2000 records, aggregated by Aggregates v4; STRING and BOOLEAN variables."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from tests.sim.conftest import serve
from tui.sim.app import create_app
from tui.sim.config import SimConfig
from tui.sim.model import Asset
from tui.sim.routes.timeseries import signal_for
from tui.sim.signals import DAY_MS, format_time, parse_time

NOW = 1714564800_000  # tests/sim/conftest.py: 2024-05-01T12:00:00Z
TS = "/api/iottimeseries/v3/timeseries"
AGG = "/api/iottsaggregates/v4/aggregates"
DAY_START = parse_time("2024-04-30T00:00:00Z")


def pump(app: Starlette, name: str = "Pump ER-1104") -> Asset:
    return next(a for a in app.state.tenant.assets.values() if a.name == name)


def signal(app: Starlette, asset: Asset):
    aspect_type = app.state.tenant.aspect_types["demo.PumpVibration"]
    return signal_for(app.state.config, asset.assetId, "Vibration", aspect_type)


async def aggregates(
    client: httpx.AsyncClient, headers: dict, asset: Asset, start: int, end: int, **params: str
) -> httpx.Response:
    """Aggregates v4 of the asset's Vibration aspect over [start, end)."""
    query = {"assetId": asset.assetId, "aspectName": "Vibration", "from": format_time(start)}
    query |= {"to": format_time(end), **params}
    return await client.get(AGG, params=query, headers=headers)


async def read_all(client: httpx.AsyncClient, headers: dict, url: str, params: dict) -> tuple[list, int]:
    """Every record of a range, following ``Link`` as the SDK does; (records, pages)."""
    records: list[dict] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        response = await client.get(next_url, params=params if pages == 0 else None, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        link = response.headers.get("link")
        assert (len(body) == 2000) == (link is not None)
        records += body
        next_url = link[1 : link.index(">")] if link else None
    return records, pages


async def test_a_day_of_raw_data_is_86400_points_paged_by_link(sim_app, raw_client, auth_headers) -> None:
    asset = pump(sim_app)
    sig = signal(sim_app, asset)
    chunks = range(DAY_START // sig.chunk_ms, (DAY_START + DAY_MS) // sig.chunk_ms)
    gap_seconds = sum(sig.chunk for c in chunks if sig.in_gap(c))
    params = {"from": format_time(DAY_START - 1), "to": format_time(DAY_START + DAY_MS - 1)}
    records, pages = await read_all(raw_client, auth_headers, f"{TS}/{asset.assetId}/Vibration", params)
    assert sig.period_s == 1
    assert len(records) == 86_400 - gap_seconds > 80_000
    assert pages == -(-len(records) // 2000)
    times = [parse_time(r["_time"]) for r in records]
    assert times == sorted(set(times)) and times[0] >= DAY_START and times[-1] < DAY_START + DAY_MS
    assert all(t % 1000 == 0 for t in times)
    # Exactly the synthetic signal, no record lost or doubled across the page seams.
    expected = [format_time(t) for t, _rec in sig.records(DAY_START - 1, DAY_START + DAY_MS - 1)]
    assert [r["_time"] for r in records] == expected


async def test_string_and_boolean_variables_agree(sim_app, raw_client, auth_headers) -> None:
    asset = pump(sim_app)
    params = {"from": format_time(DAY_START), "to": format_time(DAY_START + 6 * 3_600_000)}
    records, _pages = await read_all(raw_client, auth_headers, f"{TS}/{asset.assetId}/Vibration", params)
    zones = [r["zone"] for r in records]
    alarms = [r["alarm"] for r in records]
    assert set(zones) <= {"A", "B", "C", "D"} and {"A", "B"} <= set(zones)
    assert all(isinstance(a, bool) for a in alarms)
    assert alarms == [z == "D" for z in zones]
    assert all(isinstance(r["velocityRms"], float) and r["velocityRms_qc"] >= 0 for r in records)
    assert "bearingTemperature_qc" not in records[0]


async def test_thirty_days_answer_without_storage(sim_app, raw_client, auth_headers) -> None:
    asset = pump(sim_app)
    sig = signal(sim_app, asset)
    start = parse_time("2024-04-01T00:00:00Z")
    end = start + 30 * DAY_MS
    first = await raw_client.get(
        f"{TS}/{asset.assetId}/Vibration",
        params={"from": format_time(start), "to": format_time(end)},
        headers=auth_headers,
    )
    body = first.json()
    assert len(body) == 2000
    assert f"from={body[-1]['_time']}".replace(":", "%3A") in first.headers["link"]
    daily_params = {"intervalUnit": "day", "intervalValue": "1", "select": "velocityRms"}
    daily = await aggregates(raw_client, auth_headers, asset, start, end, **daily_params)
    assert daily.status_code == 200
    days = daily.json()["aggregates"]
    assert len(days) == 30
    counts = sum(
        a["velocityRms"]["countgood"] + a["velocityRms"]["countuncertain"] + a["velocityRms"]["countbad"]
        for a in days
    )
    gap_seconds = sum(sig.chunk for c in range(start // sig.chunk_ms, end // sig.chunk_ms) if sig.in_gap(c))
    assert counts == 30 * 86_400 - gap_seconds > 2_500_000
    assert all(a["velocityRms"]["countbad"] > 0 for a in days)  # quality codes at 1 Hz too


async def test_two_minute_aggregates_match_the_raw_seconds(sim_app, raw_client, auth_headers) -> None:
    asset = pump(sim_app)
    start = DAY_START + 8 * 3_600_000
    end = start + 3_600_000
    response = await aggregates(
        raw_client, auth_headers, asset, start, end, intervalUnit="minute", intervalValue="2"
    )
    buckets = response.json()["aggregates"]
    params = {"from": format_time(start - 1), "to": format_time(end - 1)}
    records, _pages = await read_all(raw_client, auth_headers, f"{TS}/{asset.assetId}/Vibration", params)
    for bucket in buckets:
        lo, hi = parse_time(bucket["starttime"]), parse_time(bucket["endtime"])
        assert hi - lo == 120_000
        values = [r["velocityRms"] for r in records if lo <= parse_time(r["_time"]) < hi]
        stats = bucket["velocityRms"]
        assert stats["countgood"] + stats["countuncertain"] + stats["countbad"] == len(values)
        assert stats["minvalue"] == min(values) and stats["maxvalue"] == max(values)
        assert set(bucket) == {
            "starttime",
            "endtime",
            "velocityRms",
            "accelerationPeak",
            "bearingTemperature",
        }
    assert len(buckets) >= 25
    not_numeric = await aggregates(raw_client, auth_headers, asset, start, end, select="zone")
    assert not_numeric.status_code == 400


async def test_latest_values_of_the_fast_aspect(sim_app, raw_client, auth_headers) -> None:
    asset = pump(sim_app)
    response = await raw_client.get(
        f"{TS}/{asset.assetId}/Vibration", params={"latestValue": "true"}, headers=auth_headers
    )
    records = response.json()
    latest = {name for record in records for name in record if name != "_time"}
    assert {"velocityRms", "accelerationPeak", "bearingTemperature", "zone", "alarm"} <= latest
    assert all(NOW - 90 * DAY_MS <= parse_time(r["_time"]) <= NOW - 5 * 60_000 for r in records)


async def test_diagnostics_carry_timestamp_and_big_string(sim_app, raw_client, auth_headers) -> None:
    asset = pump(sim_app)
    response = await raw_client.get(
        f"{TS}/{asset.assetId}/Diagnostics",
        params={"from": format_time(DAY_START), "to": format_time(DAY_START + DAY_MS)},
        headers=auth_headers,
    )
    records = response.json()
    assert 60 <= len(records) <= 96  # one every 15 minutes, minus gaps
    for record in records:
        changed = parse_time(record["lastStateChange"])
        assert changed <= parse_time(record["_time"]) and changed % 3_600_000 == 0
        assert isinstance(record["message"], str) and 20 < len(record["message"]) <= 2000
    assert len({r["message"] for r in records}) > 5


async def test_the_fast_aspect_is_deterministic(sim_clock) -> None:
    """Two simulators with the same seed serve the same bytes (ids, values, quality codes)."""
    bodies = []
    for _ in range(2):
        app = create_app(SimConfig(clock=sim_clock))
        async with serve(app) as (client, headers):
            response = await client.get(
                f"{TS}/{pump(app, 'Pump CH-11D').assetId}/Vibration",
                params={"from": format_time(DAY_START), "to": format_time(DAY_START + 3_600_000)},
                headers=headers,
            )
            bodies.append(response.content)
    assert bodies[0] == bodies[1] and bodies[0].count(b"_time") == 2000


async def test_writes_overlay_the_fast_aspect(sim_app, raw_client, auth_headers) -> None:
    asset = pump(sim_app)
    stamp = format_time(DAY_START + 1000)
    written = await raw_client.put(
        f"{TS}/{asset.assetId}/Vibration",
        json=[{"_time": stamp, "velocityRms": 9.5, "zone": "D", "alarm": True}],
        headers=auth_headers,
    )
    assert written.status_code == 204
    response = await raw_client.get(
        f"{TS}/{asset.assetId}/Vibration",
        params={"from": format_time(DAY_START), "to": stamp},
        headers=auth_headers,
    )
    assert response.json() == [{"_time": stamp, "velocityRms": 9.5, "zone": "D", "alarm": True}]
