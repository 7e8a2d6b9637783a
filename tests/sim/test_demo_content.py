"""What the demo tenant holds for the Assets and Time series areas: the 10 000-children node, locations,
time zones, static values of every data type, type chains, aspects and the variable endpoints."""

from __future__ import annotations

import json

import pytest

from tests.sim.conftest import AssetApi, serve
from tui.sim.app import create_app
from tui.sim.config import SimConfig
from tui.sim.signals import parse_time
from tui.sim.tenant import WIDE_MAX, build_tenant

AM = "/api/assetmanagement/v3"
ALL_TYPES = {"DOUBLE", "INT", "LONG", "BOOLEAN", "STRING", "TIMESTAMP", "BIG_STRING"}


# ---------------------------------------------------------------- the generated area


@pytest.mark.parametrize(("total", "wide"), [(20_000, 10_000), (25_000, 10_000), (19_998, 9_999), (500, 250)])
def test_wide_node_rule(total: int, wide: int) -> None:
    """``--assets N``: the "Wide" folder has min(N // 2, 10 000) children; N >= 20 000 gives 10 000."""
    state = build_tenant(SimConfig(assets=total))
    (wide_folder,) = [a for a in state.assets.values() if a.name == "Wide"]
    assert len(state.children[wide_folder.assetId]) == wide == min(total // 2, WIDE_MAX)
    generated = [a for a in state.assets.values() if a.typeId == "demo.Sensor"]
    assert len(generated) == total


async def test_ten_thousand_children_page_in_order(sim_clock) -> None:
    async with serve(create_app(SimConfig(clock=sim_clock, assets=20_000))) as (client, headers):
        am = AssetApi(client, headers)
        wide = await am.one("Wide")
        last = await am.json("/assets", filter=json.dumps({"parentId": wide["assetId"]}), size=200, page=49)
        assert last["page"] == {"size": 200, "totalElements": 10_000, "totalPages": 50, "number": 49}
        names = [a["name"] for a in last["_embedded"]["assets"]]
        assert names[0] == "Sensor W09800" and names[-1] == "Sensor W09999"
        assert [p["name"] for p in last["_embedded"]["assets"][0]["hierarchyPath"]] == [
            "demo",
            "Generated",
            "Wide",
        ]


# ---------------------------------------------------------------- locations and time zones


def test_sites_halls_and_machines_have_locations_and_time_zones() -> None:
    state = build_tenant(SimConfig())
    kinds = ("Site", "Hall", "Pump", "Motor", "Compressor", "Conveyor", "Mixer", "DosingPump")
    located = [a for a in state.assets.values() if a.typeId in {f"demo.{k}" for k in kinds} and not a.deleted]
    assert len(located) > 150
    for asset in located:
        location = asset.location
        assert location is not None, asset.name
        assert -90 <= location["latitude"] <= 90 and -180 <= location["longitude"] <= 180
        assert location["streetAddress"] and location["locality"] and location["country"]
    zones = {a.timezone for a in state.assets.values()}
    assert {"Europe/Berlin", "America/Chicago", "Asia/Shanghai", "Europe/Vienna"} <= zones
    chicago_pumps = [a for a in located if a.name.startswith("Pump CH-")]
    assert chicago_pumps and all(a.timezone == "America/Chicago" for a in chicago_pumps)


async def test_pump_details_as_the_assets_screen_reads_them(am: AssetApi) -> None:
    pump = await am.one("Pump ER-1104")
    assert pump["timezone"] == "Europe/Berlin" and pump["twinType"] == "performance"
    assert pump["location"]["locality"] == "Erlangen"
    assert pump["location"]["latitude"] == pytest.approx(49.5908)
    assert pump["location"]["streetAddress"] == "Demo Str. 1, Building 1, Line 1, Bay 4"
    assert isinstance(pump["etag"], int)
    assert [p["name"] for p in pump["hierarchyPath"]] == ["demo", "Erlangen", "Hall ER1", "Line ER11"]
    assert pump["sharing"] == {"modes": []} and pump["tenantId"] == "demo"
    variables = {v["name"]: v["value"] for v in pump["variables"]}
    assert variables["criticality"] == "normal" and float(variables["ratedFlow"]) > 0
    static = {a["name"]: {v["name"]: v["value"] for v in a["variables"]} for a in pump["aspects"]}
    assert set(static) == {"Nameplate", "Maintenance"}
    assert static["Nameplate"]["manufacturer"] == "Acme Fluid"


# ---------------------------------------------------------------- static values of every type


def _check_value(data_type: str, value: str) -> None:
    if data_type in ("INT", "LONG"):
        int(value)
    elif data_type == "DOUBLE":
        float(value)
    elif data_type == "BOOLEAN":
        assert value in ("true", "false")
    elif data_type == "TIMESTAMP":
        parse_time(value)
    else:
        assert isinstance(value, str)


async def test_static_values_match_their_declared_types(am: AssetApi) -> None:
    pump = await am.one("Pump ER-1104")
    aspects = (await am.json(f"/assets/{pump['assetId']}/aspects"))["_embedded"]["aspects"]
    declared = {(a["name"], v["name"]): v["dataType"] for a in aspects for v in a["variables"]}
    seen_types = set()
    for aspect in pump["aspects"]:
        for variable in aspect["variables"]:
            data_type = declared[(aspect["name"], variable["name"])]
            _check_value(data_type, variable["value"])
            seen_types.add(data_type)
    assert {"DOUBLE", "INT", "LONG", "BOOLEAN", "STRING", "TIMESTAMP"} <= seen_types
    maintenance = next(a for a in pump["aspects"] if a["name"] == "Maintenance")
    values = {v["name"]: v["value"] for v in maintenance["variables"]}
    assert parse_time(values["commissioned"]) < parse_time("2024-01-01T00:00:00Z")


def test_static_values_differ_between_machines_but_not_between_builds() -> None:
    first, second = build_tenant(SimConfig()), build_tenant(SimConfig())
    assert [a.aspects for a in first.assets.values()] == [a.aspects for a in second.assets.values()]
    assert [a.location for a in first.assets.values()] == [a.location for a in second.assets.values()]
    powers = {
        v["value"]
        for a in first.assets.values()
        for aspect in a.aspects
        if aspect["name"] == "Maintenance"
        for v in aspect["variables"]
        if v["name"] == "ratedPower"
    }
    assert len(powers) > 5


# ---------------------------------------------------------------- types


async def test_aspect_types_cover_every_data_type_with_units_and_quality_codes(am: AssetApi) -> None:
    types = (await am.json("/aspecttypes", size=200))["_embedded"]["aspectTypes"]
    variables = [(t, v) for t in types for v in t["variables"]]
    assert {v["dataType"] for _t, v in variables} == ALL_TYPES
    assert all(t["category"] == "dynamic" for t, v in variables if v["dataType"] == "BIG_STRING")
    assert any(v["qualityCode"] for _t, v in variables) and not all(v["qualityCode"] for _t, v in variables)
    assert all(v["unit"] for _t, v in variables if v["dataType"] == "DOUBLE")
    vibration = next(t for t in types if t["id"] == "demo.PumpVibration")
    assert [(v["name"], v["dataType"], v["unit"], v["qualityCode"]) for v in vibration["variables"]] == [
        ("velocityRms", "DOUBLE", "mm/s", True),
        ("accelerationPeak", "DOUBLE", "g", True),
        ("bearingTemperature", "DOUBLE", "C", False),
        ("zone", "STRING", "", False),
        ("alarm", "BOOLEAN", "", False),
    ]


async def test_asset_type_chain_and_has_type(am: AssetApi) -> None:
    chain = []
    type_id: str | None = "demo.DosingPump"
    while type_id:
        asset_type = await am.json(f"/assettypes/{type_id}")
        chain.append(asset_type["id"])
        type_id = asset_type["parentTypeId"]
    assert chain == ["demo.DosingPump", "demo.Pump", "demo.Machine", "core.basicdevice", "core.basicasset"]
    dosing = await am.json("/assettypes/demo.DosingPump", exploded="true")
    assert [v["name"] for v in dosing["variables"]] == ["criticality", "ratedFlow", "maxStrokeRate", "medium"]
    assert "Vibration" in [a["name"] for a in dosing["aspects"]]
    pumps = {a["name"] for a in await am.assets({"hasType": "demo.Pump"})}
    assert {"Pump ER-11D", "Pump CH-11D", "Pump CD-11D", "Pump ER-1104"} <= pumps
    assert "Pump ER-11D" not in {a["name"] for a in await am.assets({"typeId": "demo.Pump"})}


async def test_variables_endpoint_lists_type_and_aspect_variables(am: AssetApi) -> None:
    pump = await am.one("Pump ER-11D")
    body = await am.json(f"/assets/{pump['assetId']}/variables", size=200)
    rows = {v["name"]: v for v in body["_embedded"]["variables"]}
    assert {"criticality", "ratedFlow", "maxStrokeRate", "medium"} <= set(rows)
    assert rows["Vibration.velocityRms"]["unit"] == "mm/s"
    assert rows["Maintenance.commissioned"]["dataType"] == "TIMESTAMP"
    assert rows["Diagnostics.message"]["dataType"] == "BIG_STRING"
    assert rows["Maintenance.serviceIntervalHours"]["defaultValue"] == "4000"
    assert body["page"]["totalElements"] == len(rows)


# ---------------------------------------------------------------- soft delete


async def test_soft_deleted_assets_are_gone_one_by_one_but_found_by_the_deleted_filter(am: AssetApi) -> None:
    (retired,) = await am.assets({"name": "Retired Pump ER-0", "deleted": {"after": "2000-01-01T00:00:00Z"}})
    assert retired["deleted"] == "2024-03-15T08:00:00.000Z"
    asset_id = retired["assetId"]
    for path in (f"/assets/{asset_id}", f"/assets/{asset_id}/aspects", f"/assets/{asset_id}/variables"):
        response = await am.get(path)
        assert response.status_code == 404, path
    patch = await am.client.patch(
        f"{AM}/assets/{asset_id}", json={"name": "x"}, headers={**am.headers, "If-Match": "0"}
    )
    assert patch.status_code == 404
    ts = await am.client.get(f"/api/iottimeseries/v3/timeseries/{asset_id}/PumpData", headers=am.headers)
    assert ts.status_code == 404
