"""IoT TS Aggregates v4 in the simulator: intervals, limits, fill-in rules, select, values vs raw data."""

from __future__ import annotations

import math
import statistics
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tui.sim.model import Asset
from tui.sim.signals import DAY_MS, format_time, parse_time, quality_class

NOW = 1714564800_000  # the fixed simulator clock of tests/sim/conftest.py (2024-05-01T12:00:00Z)
HOUR = 3_600_000
AGG = "/api/iottsaggregates/v4/aggregates"
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


async def aggregates(client: httpx.AsyncClient, headers: dict, asset: Asset, aspect: str, **params: Any):
    query = {"assetId": asset.assetId, "aspectName": aspect, **{k: str(v) for k, v in params.items()}}
    return await client.get(AGG, params=query, headers=headers)


async def raw_records(
    client: httpx.AsyncClient, headers: dict, asset: Asset, aspect: str, start: int, end: int
):
    """All raw records with start <= t < end, following Link paging."""
    out: list[dict] = []
    url: str | None = f"{TS}/{asset.assetId}/{aspect}"
    params: dict | None = {"from": format_time(start - 1), "to": format_time(end - 1)}
    while url:
        r = await client.get(url, params=params, headers=headers)
        assert r.status_code == 200
        out += r.json()
        link = r.headers.get("link")
        url, params = (link[1 : link.index(">")], None) if link else (None, None)
    return out


def check_against_raw(agg: dict, records: list[dict], name: str) -> None:
    start, end = parse_time(agg["starttime"]), parse_time(agg["endtime"])
    rows = [(parse_time(r["_time"]), r[name], r.get(name + "_qc", 0)) for r in records if name in r]
    rows = [row for row in rows if start <= row[0] < end]
    values = [v for _t, v, _q in rows]
    got = agg[name]
    classes = [quality_class(q) for _t, _v, q in rows]
    assert (got["countgood"], got["countuncertain"], got["countbad"]) == (
        classes.count(0),
        classes.count(1),
        classes.count(2),
    )
    assert got["countgood"] + got["countuncertain"] + got["countbad"] == len(values)
    assert got["minvalue"] == min(values) and got["maxvalue"] == max(values)
    assert parse_time(got["mintime"]) == rows[values.index(min(values))][0]
    assert parse_time(got["maxtime"]) == rows[values.index(max(values))][0]
    assert (got["firstvalue"], parse_time(got["firsttime"])) == (values[0], rows[0][0])
    assert (got["lastvalue"], parse_time(got["lasttime"])) == (values[-1], rows[-1][0])
    assert got["sum"] == pytest.approx(math.fsum(values), rel=1e-12)
    assert got["average"] == pytest.approx(statistics.fmean(values), rel=1e-12)
    assert got["sd"] == pytest.approx(statistics.pstdev(values), rel=1e-9, abs=1e-12)


async def test_values_match_the_raw_series(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    start, end = NOW - 2 * DAY_MS, NOW - DAY_MS
    r = await aggregates(
        raw_client,
        auth_headers,
        pump,
        "PumpData",
        **{"from": format_time(start), "to": format_time(end)},
        intervalUnit="hour",
        intervalValue=2,
    )
    assert r.status_code == 200
    items = r.json()["aggregates"]
    records = await raw_records(raw_client, auth_headers, pump, "PumpData", start, end)
    assert 10 <= len(items) <= 12
    assert sum(
        it["flow"]["countgood"] + it["flow"]["countuncertain"] + it["flow"]["countbad"] for it in items
    ) == len(records)
    assert any(it["flow"]["countuncertain"] or it["flow"]["countbad"] for it in items)
    for item in items:
        assert parse_time(item["endtime"]) - parse_time(item["starttime"]) == 2 * HOUR
        assert set(item) == {"starttime", "endtime", "flow", "pressure"}  # BOOLEAN running not aggregated
        check_against_raw(item, records, "flow")
        check_against_raw(item, records, "pressure")


async def test_written_and_deleted_data_are_aggregated(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    start = NOW - 10 * HOUR
    url = f"{TS}/{pump.assetId}/PumpData"
    write = [{"_time": format_time(start + 30 * 60_000 + 500), "flow": 5000.0, "flow_qc": 0x88}]
    assert (await raw_client.put(url, json=write, headers=auth_headers)).status_code == 204
    cut = {"from": format_time(start + HOUR), "to": format_time(start + HOUR + 20 * 60_000)}
    assert (await raw_client.delete(url, params=cut, headers=auth_headers)).status_code == 204
    r = await aggregates(
        raw_client,
        auth_headers,
        pump,
        "PumpData",
        **{"from": format_time(start), "to": format_time(start + 3 * HOUR)},
        intervalUnit="hour",
        intervalValue=1,
    )
    items = r.json()["aggregates"]
    records = await raw_records(raw_client, auth_headers, pump, "PumpData", start, start + 3 * HOUR)
    first = items[0]
    assert first["flow"]["maxvalue"] == 5000.0
    assert first["flow"]["maxtime"] == format_time(start + 30 * 60_000 + 500)
    assert first["flow"]["countbad"] >= 1
    for item in items:
        check_against_raw(item, records, "flow")
    second = next(it for it in items if it["starttime"] == format_time(start + HOUR).replace(".000", ""))
    total = second["flow"]["countgood"] + second["flow"]["countuncertain"] + second["flow"]["countbad"]
    assert total <= 40  # 20 of 60 minutes deleted


async def test_bounds_are_widened_to_the_grid(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    r = await aggregates(
        raw_client,
        auth_headers,
        pump,
        "PumpData",
        **{"from": "2024-04-29T01:10Z", "to": "2024-04-29T02:50Z"},
        intervalUnit="hour",
        intervalValue=1,
    )
    items = r.json()["aggregates"]
    assert items[0]["starttime"] == "2024-04-29T01:00:00Z"
    assert items[-1]["endtime"] == "2024-04-29T03:00:00Z"
    assert [it["starttime"] for it in items] in (
        ["2024-04-29T01:00:00Z", "2024-04-29T02:00:00Z"],
        ["2024-04-29T01:00:00Z"],
        ["2024-04-29T02:00:00Z"],
    )


async def test_time_formats_and_offsets(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    forms = [
        ("2024-04-29Z", "2024-04-29T06Z"),
        ("2024-04-29T00Z", "2024-04-29T06:00Z"),
        ("2024-04-29T00:00:00Z", "2024-04-29T06:00:00.000Z"),
        ("2024-04-28T19:00-05:00", "2024-04-29T08:00+02:00"),
    ]
    answers = []
    for start, end in forms:
        r = await aggregates(
            raw_client, auth_headers, pump, "PumpData", **{"from": start, "to": end}, intervalUnit="hour"
        )
        assert r.status_code == 200, r.text
        answers.append(r.json())
    assert all(a == answers[0] for a in answers)
    assert answers[0]["aggregates"][0]["starttime"] == "2024-04-29T00:00:00Z"


async def test_select_forms(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    window = {"from": "2024-04-29T00Z", "to": "2024-04-29T04Z", "intervalUnit": "hour"}
    only_flow = (await aggregates(raw_client, auth_headers, pump, "PumpData", **window, select="flow")).json()
    assert all(set(it) == {"starttime", "endtime", "flow"} for it in only_flow["aggregates"])
    assert len(only_flow["aggregates"][0]["flow"]) == 14
    fields = (
        await aggregates(
            raw_client, auth_headers, pump, "PumpData", **window, select="flow.sum,pressure.maxvalue"
        )
    ).json()
    for it, full in zip(fields["aggregates"], only_flow["aggregates"], strict=True):
        assert it["flow"] == {"sum": full["flow"]["sum"]}
        assert set(it["pressure"]) == {"maxvalue"}
    for bad in ("nope", "flow.median", "running"):
        r = await aggregates(raw_client, auth_headers, pump, "PumpData", **window, select=bad)
        assert r.status_code == 400 and r.json()["errors"][0]["code"].startswith("mdsp.core.")


@pytest.mark.parametrize(
    ("unit", "value", "days"),
    [("minute", 2, 1.01), ("hour", 1, 7.5), ("day", 1, 91), ("week", 1, 91), ("month", 1, 91)],
)
async def test_range_limits(sim_app, raw_client, auth_headers, unit: str, value: int, days: float) -> None:
    pump = asset_of(sim_app, "Pump")
    start = NOW - int(days * DAY_MS)
    r = await aggregates(
        raw_client,
        auth_headers,
        pump,
        "PumpData",
        **{"from": format_time(start), "to": format_time(NOW)},
        intervalUnit=unit,
        intervalValue=value,
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "mdsp.core.iottsaggregates.timeRangeTooLarge"


async def test_ninety_days_of_daily_aggregates_over_a_10_s_signal(sim_app, raw_client, auth_headers) -> None:
    motor = asset_of(sim_app, "Motor")
    start = NOW - 90 * DAY_MS
    r = await aggregates(
        raw_client,
        auth_headers,
        motor,
        "MotorData",
        **{"from": format_time(start), "to": format_time(NOW)},
        intervalUnit="day",
        intervalValue=1,
    )
    assert r.status_code == 200
    items = r.json()["aggregates"]
    assert len(items) == 91  # widened: 2024-02-01T00:00 .. 2024-05-02T00:00
    full_days = items[1:-1]
    counts = [sum(it["speed"][k] for k in ("countgood", "countuncertain", "countbad")) for it in full_days]
    assert max(counts) == 8640 and min(counts) < 8640  # some days have outages
    assert all(isinstance(it["speed"]["sd"], float) for it in items)
    last = items[-1]["speed"]
    assert parse_time(last["lasttime"]) <= NOW


@pytest.mark.parametrize(
    ("unit", "value"),
    [
        ("minute", 3),
        ("minute", 62),
        ("hour", 0),
        ("hour", 25),
        ("day", 91),
        ("week", 13),
        ("month", 4),
        ("year", 1),
    ],
)
async def test_invalid_intervals(sim_app, raw_client, auth_headers, unit: str, value: int) -> None:
    pump = asset_of(sim_app, "Pump")
    r = await aggregates(raw_client, auth_headers, pump, "PumpData", intervalUnit=unit, intervalValue=value)
    assert r.status_code == 400 and "errors" in r.json()


async def test_bad_parameters(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")
    cases = [
        {"intervalValue": 1},
        {"from": "yesterday"},
        {"from": format_time(NOW), "to": format_time(NOW - HOUR)},
        {"count": 0},
        {"count": "many"},
    ]
    for params in cases:
        r = await aggregates(raw_client, auth_headers, pump, "PumpData", **params)
        assert r.status_code == 400, params
        error = r.json()["errors"][0]
        assert error["code"].startswith("mdsp.core.") and error["message"] and error["logref"]
    r = await raw_client.get(AGG, params={"aspectName": "PumpData"}, headers=auth_headers)
    assert r.status_code == 400
    r = await aggregates(raw_client, auth_headers, pump, "NoSuchAspect")
    assert r.status_code == 404 and "errors" in r.json()
    r = await raw_client.get(
        AGG, params={"assetId": "0" * 32, "aspectName": "PumpData"}, headers=auth_headers
    )
    assert r.status_code == 404


async def test_fill_in_rules(sim_app, raw_client, auth_headers) -> None:
    pump = asset_of(sim_app, "Pump")

    async def window(**params: Any) -> list[dict]:
        r = await aggregates(raw_client, auth_headers, pump, "PumpData", **params)
        assert r.status_code == 200, r.text
        return r.json()["aggregates"]

    def length(items: list[dict]) -> int:
        return parse_time(items[0]["endtime"]) - parse_time(items[0]["starttime"])

    # 1. Nothing: 1-day intervals over the last 7 days.
    items = await window()
    assert length(items) == DAY_MS and len(items) == 8
    assert items[0]["starttime"] == "2024-04-24T00:00:00Z" and items[-1]["endtime"] == "2024-05-02T00:00:00Z"
    # 2. Only from: to = from's date + 90 days, capped at now.
    items = await window(**{"from": "2024-04-20T10:30Z"})
    assert items[0]["starttime"] == "2024-04-20T00:00:00Z" and items[-1]["endtime"] == "2024-05-02T00:00:00Z"
    # 3. Only to: from = to - 90 days.
    items = await window(to="2024-04-01T00Z")
    assert items[0]["starttime"] == "2024-01-02T00:00:00Z" and items[-1]["endtime"] == "2024-04-01T00:00:00Z"
    # 4. Unit, value and count: one bound is enough.
    items = await window(**{"from": "2024-04-29T05:20Z"}, intervalUnit="hour", intervalValue=1, count=3)
    assert [it["starttime"] for it in items] == [
        "2024-04-29T05:00:00Z",
        "2024-04-29T06:00:00Z",
        "2024-04-29T07:00:00Z",
    ]
    items = await window(to="2024-04-29T06:00Z", intervalUnit="minute", intervalValue=30, count=2)
    assert [it["starttime"] for it in items] == ["2024-04-29T05:00:00Z", "2024-04-29T05:30:00Z"]
    # 5. No interval: the largest pre-computed one that fits the range.
    assert length(await window(**{"from": "2024-04-29T00Z", "to": "2024-04-29T06Z"})) == HOUR
    assert length(await window(**{"from": "2024-04-29T00Z", "to": "2024-04-29T00:30Z"})) == 2 * 60_000
    assert length(await window(**{"from": "2024-04-20Z", "to": "2024-04-29Z"})) == DAY_MS
    # 7. from, to and count: interval = range / count.
    items = await window(**{"from": "2024-04-29T00Z", "to": "2024-04-30T00Z", "count": 24})
    assert length(items) == HOUR and len(items) == 24
    items = await window(**{"from": "2024-04-29T00Z", "to": "2024-04-29T02Z", "count": 4})
    assert length(items) == 30 * 60_000 and len(items) == 4
    # Weeks start on Monday, months on the 1st (UTC).
    items = await window(**{"from": "2024-03-10Z", "to": "2024-04-20Z"}, intervalUnit="week", intervalValue=1)
    assert items[0]["starttime"] == "2024-03-04T00:00:00Z" and length(items) == 7 * DAY_MS
    items = await window(
        **{"from": "2024-02-10Z", "to": "2024-04-20Z"}, intervalUnit="month", intervalValue=1
    )
    assert [it["starttime"] for it in items] == [
        "2024-02-01T00:00:00Z",
        "2024-03-01T00:00:00Z",
        "2024-04-01T00:00:00Z",
    ]
    assert items[0]["endtime"] == "2024-03-01T00:00:00Z"


async def test_requires_the_aggregates_scope(sim_app, raw_client) -> None:
    pump = asset_of(sim_app, "Pump")
    r = await raw_client.get(AGG, params={"assetId": pump.assetId, "aspectName": "PumpData"})
    assert r.status_code == 401 and "errors" in r.json()
