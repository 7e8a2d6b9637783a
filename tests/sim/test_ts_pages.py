"""Raw time series pages built from columns (``records_json``) are the bytes of rendering record by record.

The simulator serves synthetic pages from whole-chunk columns; written records in the range fall back to
rendering record by record. Every aspect of the demo plant, every data type, gaps, deleted ranges, the
asset's creation time, ``sort=desc``, ``select`` and small limits give byte-identical bodies and ``Link``
headers either way.
"""

from __future__ import annotations

import json
import math

import httpx
import pytest
from starlette.applications import Starlette

import tui.sim.routes.timeseries as routes
from tui.sim.encoding import dumps, records_json
from tui.sim.model import aspects_of_asset
from tui.sim.signals import DAY_MS, format_time, parse_time

TS = "/api/iottimeseries/v3/timeseries"
NOW = parse_time("2024-05-01T12:00:00Z")  # tests/sim/conftest.py


def one_asset_per_aspect_type(app: Starlette) -> list[tuple[str, str]]:
    """(asset id, aspect name) for every dynamic, synthetic aspect type of the demo plant."""
    state = app.state.tenant
    seen: dict[str, tuple[str, str]] = {}
    for asset in state.assets.values():
        if asset.deleted is not None or asset.shared:
            continue
        for aspect, aspect_type, _origin in aspects_of_asset(state, asset.assetId):
            if aspect_type.category == "dynamic" and aspect_type.synthetic:
                seen.setdefault(aspect_type.id, (asset.assetId, aspect.name))
    return list(seen.values())


async def both_ways(
    client: httpx.AsyncClient, headers: dict, url: str, params: dict, monkeypatch: pytest.MonkeyPatch
) -> tuple[httpx.Response, httpx.Response, bool]:
    """The response from columns, the one rendered record by record, and whether the first was built from
    columns."""
    built: list[bool] = []
    original = routes._page_from_columns

    def spy(*args):
        page = original(*args)
        built.append(page is not None)
        return page

    with monkeypatch.context() as patch:
        patch.setattr(routes, "_page_from_columns", spy)
        fast = await client.get(url, params=params, headers=headers)
    with monkeypatch.context() as patch:
        patch.setattr(routes, "_page_from_columns", lambda *args: None)
        slow = await client.get(url, params=params, headers=headers)
    return fast, slow, built == [True]


QUERIES = [
    {"from": "2024-04-30T00:00:00Z", "to": "2024-05-01T00:00:00Z"},
    {"from": "2024-04-30T00:00:00.250Z", "to": "2024-04-30T06:00:00Z", "limit": "7"},
    {"from": "2024-04-01T00:00:00Z", "to": "2024-05-02T00:00:00Z", "sort": "desc"},
    {"from": "2024-04-20T03:00:00Z", "to": "2024-04-29T00:00:00Z", "sort": "desc", "limit": "3"},
    {"from": "2024-05-01T11:00:00Z"},  # up to now
    {"from": "2015-01-01T00:00:00Z", "to": "2024-05-01T12:00:00Z", "limit": "2000"},  # before creation
    {"from": "2024-04-30T10:00:00Z", "to": "2024-04-30T10:00:00Z"},  # empty
]


async def test_column_pages_equal_record_pages_for_every_aspect(
    sim_app, raw_client, auth_headers, monkeypatch
) -> None:
    pairs = one_asset_per_aspect_type(sim_app)
    assert len(pairs) >= 9
    state = sim_app.state.tenant
    for asset_id, aspect in pairs:
        names = [
            v.name
            for v in next(t for a, t, _ in aspects_of_asset(state, asset_id) if a.name == aspect).variables
        ]
        selects = [None, f"{names[-1]},{names[0]},{names[-1]}"]
        for query in QUERIES:
            for select in selects:
                params = {**query, **({"select": select} if select else {})}
                fast, slow, columns = await both_ways(
                    raw_client, auth_headers, f"{TS}/{asset_id}/{aspect}", params, monkeypatch
                )
                assert fast.status_code == slow.status_code == 200, (aspect, params, fast.text)
                assert columns
                assert fast.content == slow.content, (aspect, params)
                assert fast.headers.get("link") == slow.headers.get("link"), (aspect, params)
                assert fast.headers["content-type"] == slow.headers["content-type"]


async def test_gaps_deletions_and_writes(sim_app, raw_client, auth_headers, monkeypatch) -> None:
    """Outages (whole chunks missing), a deleted range, and written records (the record path)."""
    asset_id, aspect = next(p for p in one_asset_per_aspect_type(sim_app) if p[1] == "Vibration")
    url = f"{TS}/{asset_id}/{aspect}"
    week = {"from": format_time(NOW - 7 * DAY_MS), "to": format_time(NOW), "limit": "2000"}
    # Find an outage: consecutive records more than a second apart, then read across it.
    seen_gap = False
    cursor = NOW - 7 * DAY_MS
    for _ in range(400):
        body = (
            await raw_client.get(
                url, params={**week, "from": format_time(cursor), "select": "zone"}, headers=auth_headers
            )
        ).json()
        times = [parse_time(r["_time"]) for r in body]
        jumps = [a for a, b in zip(times, times[1:], strict=False) if b - a > 1000]
        if jumps:
            seen_gap = True
            params = {"from": format_time(jumps[0] - 5000), "to": format_time(jumps[0] + 3_600_000)}
            fast, slow, columns = await both_ways(raw_client, auth_headers, url, params, monkeypatch)
            assert (
                columns
                and fast.content == slow.content
                and fast.headers.get("link") == slow.headers.get("link")
            )
            break
        cursor = times[-1]
    assert seen_gap
    start = NOW - DAY_MS
    deleted = await raw_client.delete(
        url,
        params={"from": format_time(start + 10_000), "to": format_time(start + 20_500)},
        headers=auth_headers,
    )
    assert deleted.status_code == 204
    params = {"from": format_time(start), "to": format_time(start + 60_000)}
    fast, slow, columns = await both_ways(raw_client, auth_headers, url, params, monkeypatch)
    assert columns and fast.content == slow.content
    assert len(fast.json()) == 60 - 10
    written = await raw_client.put(
        url, json=[{"_time": format_time(start + 30_000), "velocityRms": 1.5}], headers=auth_headers
    )
    assert written.status_code == 204
    fast, slow, columns = await both_ways(raw_client, auth_headers, url, params, monkeypatch)
    assert not columns and fast.content == slow.content
    assert {"_time": format_time(start + 30_000), "velocityRms": 1.5} in fast.json()


@pytest.mark.parametrize(
    ("times", "columns"),
    [
        ([], [("v", [])]),
        (
            [0, 999, 60_000, 86_399_999],
            [("v", [0.1 + 0.2, 1e22, 1.234e-5, math.inf]), ("n", [1, -(2**63), 0, 7])],
        ),
        (
            [-1, -60_001, 253402300799000],
            [("s", ["a,b", 'q"u\\o\n', "Straße 東京"]), ("b", [True, False, None])],
        ),
        ([5], []),
        ([1714564800000, 1714564801000], [('odd "key"', ["x", "x"]), ("mixed", [1.5, "1,5"])]),
    ],
)
def test_records_json_is_dumps_of_the_records(times: list[int], columns: list[tuple[str, list]]) -> None:
    records = [{"_time": format_time(t), **{k: v[i] for k, v in columns}} for i, t in enumerate(times)]
    assert records_json(times, columns) == dumps(records)
    assert json.loads(records_json(times, columns)) == json.loads(dumps(records))
