"""Fast asset pages: msgspec bodies equal the stdlib JSON byte for byte, and the memoised hierarchy paths
follow renames and moves."""

from __future__ import annotations

import json
import math

import pytest

from tui.sim.encoding import FastJSONResponse, dumps
from tui.sim.signals import format_time, parse_time

AM = "/api/assetmanagement/v3"


def stdlib(content: object) -> bytes:
    """What Starlette's ``JSONResponse`` writes."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode()


@pytest.mark.parametrize(
    "content",
    [
        {"name": 'Pumpe Straße ü 東京 \u2028 "quoted" \\ \n\t', "etag": 3, "deleted": None, "ok": True},
        [
            {
                "_time": "2024-05-01T12:00:00.000Z",
                "v": 0.1 + 0.2,
                "big": 9.5e15,
                "small": 0.00012,
                "n": -(2**63),
            }
        ],
        {"nested": {"list": [1, 2.5, -0.0, 123456789.125, 49.5908]}, "empty": {}, "none": []},
    ],
)
def test_encoding_is_byte_identical_to_the_stdlib(content: object) -> None:
    assert dumps(content) == stdlib(content)
    assert FastJSONResponse(content).body == stdlib(content)


def test_exponent_notation_differs_in_spelling_only() -> None:
    """Floats of 1e16 and above or below 1e-4 are spelled without '+' and leading zeros: same value."""
    content = {"big": 1e22, "small": 1.234e-5, "tiny": 5e-324}
    assert dumps(content) == b'{"big":1e22,"small":0.00001234,"tiny":5e-324}'
    assert json.loads(dumps(content)) == content


def test_non_finite_floats_become_null() -> None:
    assert dumps({"sd": math.inf}) == b'{"sd":null}'


async def test_asset_page_and_time_series_bodies_match_the_stdlib(raw_client, auth_headers, sim_app) -> None:
    page = await raw_client.get(f"{AM}/assets", params={"size": 200}, headers=auth_headers)
    assert page.headers["content-type"] == "application/json"
    assert page.content == stdlib(json.loads(page.content))
    assert len(page.json()["_embedded"]["assets"]) == 200
    pump = next(a for a in sim_app.state.tenant.assets.values() if a.name == "Pump ER-1104")
    start = parse_time("2024-04-30T00:00:00Z")
    ts = await raw_client.get(
        f"/api/iottimeseries/v3/timeseries/{pump.assetId}/PumpData",
        params={"from": format_time(start), "to": format_time(start + 3_600_000)},
        headers=auth_headers,
    )
    assert ts.content == stdlib(json.loads(ts.content)) and len(ts.json()) > 30


async def test_hierarchy_paths_follow_renames_and_moves(raw_client, auth_headers) -> None:
    async def one(name: str) -> dict:
        body = (
            await raw_client.get(
                f"{AM}/assets", params={"filter": json.dumps({"name": name})}, headers=auth_headers
            )
        ).json()
        (asset,) = body["_embedded"]["assets"]
        return asset

    pump = await one("Pump ER-1104")
    assert [p["name"] for p in pump["hierarchyPath"]] == ["demo", "Erlangen", "Hall ER1", "Line ER11"]
    hall = await one("Hall ER1")
    renamed = await raw_client.patch(
        f"{AM}/assets/{hall['assetId']}",
        json={"name": "Hall ER1 (north)"},
        headers={**auth_headers, "If-Match": str(hall["etag"])},
    )
    assert renamed.status_code == 200
    pump = await one("Pump ER-1104")
    assert [p["name"] for p in pump["hierarchyPath"]] == ["demo", "Erlangen", "Hall ER1 (north)", "Line ER11"]
    line = await one("Line ER11")
    target = await one("Hall CH2")
    moved = await raw_client.post(
        f"{AM}/assets/{line['assetId']}/move",
        json={"newParentId": target["assetId"]},
        headers={**auth_headers, "If-Match": str(line["etag"])},
    )
    assert moved.status_code == 200
    pump = await one("Pump ER-1104")
    assert [p["name"] for p in pump["hierarchyPath"]] == ["demo", "Chicago", "Hall CH2", "Line ER11"]
    got = await raw_client.get(f"{AM}/assets/{pump['assetId']}", headers=auth_headers)
    assert got.json()["hierarchyPath"] == pump["hierarchyPath"]
