"""IoT Time Series v3 in the simulator: ranges, limit, select, sort, latestValue, paging, write, delete."""

from __future__ import annotations

import json

import httpx
import pytest
from starlette.applications import Starlette

from tui.sim.model import Asset
from tui.sim.routes.timeseries import signal_for
from tui.sim.signals import DAY_MS, Series, format_time, parse_time

NOW = 1714564800_000  # the fixed simulator clock of tests/sim/conftest.py (2024-05-01T12:00:00Z)
MINUTE = 60_000
TS = "/api/iottimeseries/v3/timeseries"


@pytest.fixture(autouse=True)
def _fixed_clock(sim_config) -> None:
    assert int(sim_config.clock() * 1000) == NOW


def asset_of(app: Starlette, kind: str) -> Asset:
    tenant = app.state.tenant
    return next(
        a
        for a in tenant.assets.values()
        if a.typeId == f"{tenant.tenant}.{kind}" and a.deleted is None and not a.shared
    )


def expected(app: Starlette, asset: Asset, aspect: str, start: int, end: int) -> list[tuple[int, dict]]:
    """The records the simulator should serve for (start, end], straight from the signal module."""
    tenant = app.state.tenant
    aspect_type = tenant.aspect_types[f"{tenant.tenant}.{aspect}"]
    signal = signal_for(app.state.config, asset.assetId, aspect, aspect_type)
    key = (asset.assetId, aspect)
    series = Series(signal, tenant.ts_writes.get(key), tenant.ts_deleted.get(key), NOW)
    return list(series.records(start, end))


def gap_free_window(app: Starlette, asset: Asset, minutes: int) -> tuple[int, int]:
    """A (from, to] window on the 60 s grid with a record at every grid point."""
    end = NOW - 2 * 3_600_000
    while True:
        start = end - minutes * MINUTE
        if len(expected(app, asset, "PumpData", start - MINUTE, end)) == minutes + 1:
            return start, end
        end -= 3_600_000


async def test_range_is_exclusive_from_inclusive_to(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    start, end = gap_free_window(sim_app, pump, 30)
    r = await raw_client.get(
        f"{TS}/{pump.assetId}/PumpData",
        params={"from": format_time(start), "to": format_time(end)},
        headers=auth_headers,
    )
    assert r.status_code == 200
    body = r.json()
    times = [parse_time(rec["_time"]) for rec in body]
    assert times[0] == start + MINUTE and times[-1] == end and len(times) == 30
    assert body[0]["_time"].endswith(".000Z")
    assert set(body[0]) == {"_time", "flow", "flow_qc", "pressure", "pressure_qc", "running"}
    assert [(parse_time(b["_time"]), {k: v for k, v in b.items() if k != "_time"}) for b in body] == expected(
        sim_app, pump, "PumpData", start, end
    )


async def test_limit_select_and_sort(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    start, end = gap_free_window(sim_app, pump, 30)
    url = f"{TS}/{pump.assetId}/PumpData"
    params = {"from": format_time(start), "to": format_time(end)}
    limited = await raw_client.get(url, params={**params, "limit": "5"}, headers=auth_headers)
    assert len(limited.json()) == 5 and 'rel="next"' in limited.headers["link"]
    selected = await raw_client.get(url, params={**params, "select": "pressure"}, headers=auth_headers)
    assert all(set(rec) == {"_time", "pressure", "pressure_qc"} for rec in selected.json())
    full = await raw_client.get(url, params=params, headers=auth_headers)
    assert "link" not in full.headers
    asc = full.json()
    desc = (await raw_client.get(url, params={**params, "sort": "desc"}, headers=auth_headers)).json()
    assert desc == asc[::-1]
    assert limited.json() == asc[:5]


async def test_limit_above_the_cap_is_clamped(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    r = await raw_client.get(
        f"{TS}/{pump.assetId}/PumpData",
        params={"from": format_time(NOW - 5 * DAY_MS), "to": format_time(NOW), "limit": "5000"},
        headers=auth_headers,
    )
    assert r.status_code == 200 and len(r.json()) == 2000 and "link" in r.headers


async def test_no_range_gives_only_the_newest_record(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    r = await raw_client.get(f"{TS}/{pump.assetId}/PumpData", headers=auth_headers)
    body = r.json()
    newest = expected(sim_app, pump, "PumpData", NOW - DAY_MS, NOW)[-1]
    assert len(body) == 1 and parse_time(body[0]["_time"]) == newest[0]


async def test_link_paging_reassembles_the_exact_sequence(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    start, end = NOW - 3 * DAY_MS, NOW  # about 4300 records on the 60 s grid
    want = [format_time(t) for t, _r in expected(sim_app, pump, "PumpData", start, end)]
    assert len(want) > 4000
    for sort, order in (("asc", want), ("desc", want[::-1])):
        got: list[str] = []
        url: str | None = f"{TS}/{pump.assetId}/PumpData"
        params: dict[str, str] | None = {"from": format_time(start), "to": format_time(end), "sort": sort}
        pages = 0
        while url:
            r = await raw_client.get(url, params=params, headers=auth_headers)
            assert r.status_code == 200
            page = r.json()
            assert isinstance(page, list) and len(page) <= 2000
            got += [rec["_time"] for rec in page]
            link = r.headers.get("link")
            url, params = None, None
            if link:
                assert link.endswith('; rel="next"') and link.startswith("<http://sim.test/")
                url = link[1 : link.index(">")]
            pages += 1
        assert pages == 3
        assert got == order and len(set(got)) == len(got)


async def test_latest_value_rules(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    url = f"{TS}/{pump.assetId}/PumpData"
    five = NOW - 5 * MINUTE
    writes = [
        {"_time": format_time(five), "flow": 999.0},  # exactly 5 minutes old: counts
        {"_time": format_time(NOW - MINUTE), "flow": 111.0, "pressure": 1.0},  # too new
    ]
    assert (await raw_client.put(url, json=writes, headers=auth_headers)).status_code == 204
    r = await raw_client.get(url, params={"latestValue": "true"}, headers=auth_headers)
    body = r.json()
    by_prop = {k: (rec["_time"], v) for rec in body for k, v in rec.items() if k != "_time"}
    assert by_prop["flow"] == (format_time(five), 999.0)
    assert parse_time(by_prop["pressure"][0]) < five  # the write at `five` nulled pressure there
    assert "running" in by_prop
    assert all(parse_time(rec["_time"]) <= five for rec in body)
    keys = [k for rec in body for k in rec if k != "_time"]
    assert len(keys) == len(set(keys))
    only = await raw_client.get(
        url, params={"latestValue": "true", "select": "running"}, headers=auth_headers
    )
    assert [set(rec) for rec in only.json()] == [{"_time", "running"}]


async def test_latest_value_ignores_values_older_than_90_days(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    url = f"{TS}/{pump.assetId}/PumpData"
    params = {"from": format_time(NOW - 200 * DAY_MS), "to": format_time(NOW + DAY_MS)}
    assert (await raw_client.delete(url, params=params, headers=auth_headers)).status_code == 204
    old = [{"_time": format_time(NOW - 91 * DAY_MS), "flow": 5.0}]
    assert (await raw_client.put(url, json=old, headers=auth_headers)).status_code == 204
    r = await raw_client.get(url, params={"latestValue": "true"}, headers=auth_headers)
    assert r.json() == []
    recent = [{"_time": format_time(NOW - 89 * DAY_MS), "pressure": 4.0}]
    assert (await raw_client.put(url, json=recent, headers=auth_headers)).status_code == 204
    r = await raw_client.get(url, params={"latestValue": "true"}, headers=auth_headers)
    assert r.json() == [{"_time": format_time(NOW - 89 * DAY_MS), "pressure": 4.0}]


async def test_write_overlays_and_delete_removes(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    start, end = gap_free_window(sim_app, pump, 10)
    url = f"{TS}/{pump.assetId}/PumpData"
    on_grid = start + 3 * MINUTE
    off_grid = start + 4 * MINUTE + 250
    writes = [
        {"_time": format_time(on_grid), "flow": 1.5, "flow_qc": 0x40},
        {"_time": format_time(off_grid), "pressure": 2, "pressure_qc": 0, "running": False},
    ]
    r = await raw_client.put(url, json=writes, headers=auth_headers)
    assert r.status_code == 204 and r.content == b""
    params = {"from": format_time(start), "to": format_time(end)}
    body = (await raw_client.get(url, params=params, headers=auth_headers)).json()
    by_time = {rec["_time"]: rec for rec in body}
    assert by_time[format_time(on_grid)] == {"_time": format_time(on_grid), "flow": 1.5, "flow_qc": 64}
    assert by_time[format_time(off_grid)]["running"] is False
    assert len(body) == 11
    assert [rec["_time"] for rec in body] == sorted(rec["_time"] for rec in body)

    cut = {"from": format_time(start + 2 * MINUTE), "to": format_time(start + 5 * MINUTE)}
    assert (await raw_client.delete(url, params=cut, headers=auth_headers)).status_code == 204
    after = [
        parse_time(rec["_time"])
        for rec in (await raw_client.get(url, params=params, headers=auth_headers)).json()
    ]
    assert not [t for t in after if start + 2 * MINUTE < t <= start + 5 * MINUTE]
    assert start + 2 * MINUTE in after and start + 6 * MINUTE in after
    assert len(after) == 7

    # Writing after a delete makes the record visible again.
    again = [{"_time": format_time(start + 4 * MINUTE), "flow": 7.0}]
    assert (await raw_client.put(url, json=again, headers=auth_headers)).status_code == 204
    body = (await raw_client.get(url, params=params, headers=auth_headers)).json()
    assert {"_time": format_time(start + 4 * MINUTE), "flow": 7.0} in body


async def test_errors_use_the_id_message_shape(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    cases = [
        (f"{TS}/{'0' * 32}/PumpData", {}, 404),
        (f"{TS}/not-an-asset/PumpData", {}, 404),
        (f"{TS}/{pump.assetId}/NoSuchAspect", {}, 404),
        (f"{TS}/{pump.assetId}/Nameplate", {}, 404),  # a static aspect has no time series
        (f"{TS}/{pump.assetId}/PumpData", {"from": "yesterday", "to": format_time(NOW)}, 400),
        (f"{TS}/{pump.assetId}/PumpData", {"from": format_time(NOW), "to": format_time(NOW - 1)}, 400),
        (f"{TS}/{pump.assetId}/PumpData", {"sort": "up"}, 400),
        (f"{TS}/{pump.assetId}/PumpData", {"limit": "0"}, 400),
        (f"{TS}/{pump.assetId}/PumpData", {"select": "flow,nope"}, 400),
    ]
    for url, params, status in cases:
        r = await raw_client.get(url, params=params, headers=auth_headers)
        assert r.status_code == status, (url, params, r.text)
        body = r.json()
        assert set(body) == {"id", "message"} and body["message"]


async def test_no_data_is_an_empty_array(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    r = await raw_client.get(
        f"{TS}/{pump.assetId}/PumpData",
        params={"from": format_time(NOW + 3_600_000), "to": format_time(NOW + 7_200_000)},
        headers=auth_headers,
    )
    assert r.status_code == 200 and r.json() == [] and "link" not in r.headers


async def test_write_validation(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    url = f"{TS}/{pump.assetId}/PumpData"
    t = format_time(NOW - 3_600_000)
    bad_bodies = [
        {"_time": t, "flow": 1.0},  # not an array
        [{"flow": 1.0}],  # no _time
        [{"_time": "noon", "flow": 1.0}],
        [{"_time": t, "flow": "high"}],
        [{"_time": t, "running": 1}],
        [{"_time": t, "flow": True}],
        [{"_time": t, "unknown": 1.0}],
        [{"_time": t, "running_qc": 0, "running": True}],  # running has no quality code
        [{"_time": t, "flow": 1.0, "flow_qc": -1}],
    ]
    for body in bad_bodies:
        r = await raw_client.put(url, json=body, headers=auth_headers)
        assert r.status_code == 400, body
        assert set(r.json()) == {"id", "message"}
    r = await raw_client.put(url, content=b"[not json", headers=auth_headers)
    assert r.status_code == 400
    big = json.dumps([{"_time": t, "flow": 1.0}] * 40_000).encode()
    assert len(big) > 1024 * 1024
    r = await raw_client.put(url, content=big, headers={**auth_headers, "Content-Type": "application/json"})
    assert r.status_code == 413
    # Nothing of the refused writes was stored.
    assert sim_app.state.tenant.ts_writes.get((pump.assetId, "PumpData"), {}) == {}
    r = await raw_client.put(f"{TS}/{'0' * 32}/PumpData", json=[{"_time": t}], headers=auth_headers)
    assert r.status_code == 404


async def test_delete_requires_a_range(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    r = await raw_client.delete(
        f"{TS}/{pump.assetId}/PumpData", params={"from": format_time(NOW)}, headers=auth_headers
    )
    assert r.status_code == 400 and set(r.json()) == {"id", "message"}


async def test_scopes(sim_app, raw_client: httpx.AsyncClient, readonly_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    url = f"{TS}/{pump.assetId}/PumpData"
    assert (await raw_client.get(url, headers=readonly_headers)).status_code == 200
    put = await raw_client.put(url, json=[{"_time": format_time(NOW), "flow": 1.0}], headers=readonly_headers)
    assert put.status_code == 403 and set(put.json()) == {"id", "message"}
    params = {"from": format_time(NOW - MINUTE), "to": format_time(NOW)}
    assert (await raw_client.delete(url, params=params, headers=readonly_headers)).status_code == 403
    assert (await raw_client.get(url)).status_code == 401


async def test_synthetic_data_starts_when_the_asset_was_created(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    pump.createdAt = (NOW - 3_600_000) / 1000
    url = f"{TS}/{pump.assetId}/PumpData"
    written = [{"_time": format_time(NOW - 2 * 3_600_000), "flow": 3.0}]
    assert (await raw_client.put(url, json=written, headers=auth_headers)).status_code == 204
    params = {"from": format_time(NOW - 3 * 3_600_000), "to": format_time(NOW)}
    times = [
        parse_time(r["_time"])
        for r in (await raw_client.get(url, params=params, headers=auth_headers)).json()
    ]
    assert times[0] == NOW - 2 * 3_600_000  # written data is kept
    assert all(t > NOW - 3_600_000 for t in times[1:]) and len(times) > 30
