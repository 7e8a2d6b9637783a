"""Asset Management v3 in the simulator: listing, paging, filters, sort, etags, writes, types."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tui.sim.app import create_app
from tui.sim.config import SimConfig
from tui.sim.tenant import build_tenant
from tui.sim.transport import sim_transport

AM = "/api/assetmanagement/v3"


class Am:
    """Small helper around the raw client with the demo token."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(AM + path, params=params, headers=self.headers)

    async def list(self, filter_: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        if filter_ is not None:
            params["filter"] = json.dumps(filter_)
        response = await self.get("/assets", **params)
        assert response.status_code == 200, response.text
        return response.json()

    async def names(self, filter_: dict[str, Any] | None = None, **params: Any) -> list[str]:
        body = await self.list(filter_, size=2000, **params)
        return [a["name"] for a in body.get("_embedded", {}).get("assets", [])]

    async def send(
        self, method: str, path: str, body: Any = None, etag: Any = None, **headers: str
    ) -> httpx.Response:
        all_headers = dict(self.headers)
        if etag is not None:
            all_headers["If-Match"] = str(etag)
        all_headers.update({k.replace("_", "-"): v for k, v in headers.items()})
        return await self.client.request(method, AM + path, json=body, headers=all_headers)

    async def one(self, name: str) -> dict[str, Any]:
        body = await self.list({"name": name})
        (asset,) = body["_embedded"]["assets"]
        return asset


@pytest.fixture
def am(raw_client: httpx.AsyncClient, auth_headers: dict[str, str]) -> Am:
    return Am(raw_client, auth_headers)


# ---------------------------------------------------------------- reading


async def test_billboard(am: Am) -> None:
    for path in ("/", ""):
        body = (await am.get(path)).json()
        assert set(body["_links"]) >= {"self", "aspectTypes", "assetTypes", "assets", "files"}


async def test_root_asset(am: Am) -> None:
    response = await am.get("/assets/root")
    root = response.json()
    assert response.status_code == 200
    assert root["name"] == "demo" and root["typeId"] == "core.tenant" and root["parentId"] is None
    assert root["hierarchyPath"] == []
    assert re.fullmatch(r"[a-f0-9]{32}", root["assetId"])
    assert response.headers["ETag"] == f'"{root["etag"]}"'


async def test_asset_resource_has_hierarchy_path_and_links(am: Am) -> None:
    pump = await am.one("Pump ER-1104")
    response = await am.get(f"/assets/{pump['assetId']}")
    asset = response.json()
    assert [p["name"] for p in asset["hierarchyPath"]] == ["demo", "Erlangen", "Hall ER1", "Line ER11"]
    assert asset["hierarchyPath"][-1]["assetId"] == asset["parentId"]
    assert asset["typeId"] == "demo.Pump" and asset["timezone"] == "Europe/Berlin"
    assert {"self", "parent", "children", "variables", "aspects"} <= set(asset["_links"])
    assert asset["_links"]["self"]["href"] == f"http://sim.test{AM}/assets/{pump['assetId']}"
    assert {"name": "criticality", "value": "normal"} in asset["variables"]
    assert asset["aspects"][0]["name"] == "Nameplate"
    assert asset["deleted"] is None and asset["sharing"] == {"modes": []}


async def test_unknown_asset_is_404_in_the_am_error_shape(am: Am) -> None:
    response = await am.get("/assets/" + "0" * 32)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"].startswith("mdsp.core.assetmanagement.")


async def test_bare_question_mark_and_trailing_whitespace_are_accepted(am: Am) -> None:
    root = (await am.get("/assets/root")).json()
    raw = await am.client.get(f"{AM}/assets/{root['assetId']}?", headers=am.headers)
    assert raw.status_code == 200 and raw.json()["assetId"] == root["assetId"]
    # The SDK's PostAsset URL ends in a newline plus spaces.
    url = f"{AM}/assets?includeShared=false%0A%20%20%20"
    listing = await am.client.get(url, headers=am.headers)
    assert listing.status_code == 200 and listing.json()["page"]["totalElements"] > 200


async def test_paging_envelope_links_and_one_page_past_the_end(am: Am) -> None:
    first = await am.list(size=100, sort="name,asc")
    total = first["page"]["totalElements"]
    assert 200 < total < 1000
    assert first["page"] == {"size": 100, "totalElements": total, "totalPages": -(-total // 100), "number": 0}
    assert set(first["_links"]) == {"self", "first", "last", "next"}
    pages = first["page"]["totalPages"]
    last = await am.list(size=100, page=pages - 1)
    assert set(last["_links"]) == {"self", "first", "last", "prev"}
    collected: list[str] = []
    for page in range(pages):
        body = await am.list(size=100, page=page)
        collected += [a["assetId"] for a in body["_embedded"]["assets"]]
    assert len(collected) == len(set(collected)) == total
    # mc list-assets always asks for one page past the end: 200 with no items.
    past = await am.list(size=100, page=pages)
    assert "_embedded" not in past
    assert past["page"] == {"size": 100, "totalElements": total, "totalPages": pages, "number": pages}


async def test_default_size_and_clamp(raw_client: httpx.AsyncClient, auth_headers: dict[str, str]) -> None:
    am = Am(raw_client, auth_headers)
    assert (await am.list())["page"]["size"] == 10
    assert (await am.list(size=0))["page"]["size"] == 10
    assert (await am.list(size=100000))["page"]["size"] == 2000
    bad = await am.get("/assets", size="ten")
    assert bad.status_code == 400


async def test_page_size_clamped_to_configured_maximum(sim_clock) -> None:
    app = create_app(SimConfig(clock=sim_clock, max_page_size=200))
    async with httpx.AsyncClient(transport=sim_transport(app), base_url="http://sim.test") as client:
        token = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(app.state.config.clients[0].client_id, app.state.config.clients[0].client_secret),
        )
        am = Am(client, {"Authorization": f"Bearer {token.json()['access_token']}"})
        body = await am.list(size=2000)
        assert body["page"]["size"] == 200 and len(body["_embedded"]["assets"]) == 200


async def test_empty_result_omits_embedded(am: Am) -> None:
    body = await am.list({"name": "no such asset"})
    assert "_embedded" not in body
    assert body["page"] == {"size": 10, "totalElements": 0, "totalPages": 0, "number": 0}


@pytest.mark.parametrize("sort", ["name,asc", "ASC", "name", None])
async def test_sort_ascending_forms(am: Am, sort: str | None) -> None:
    params = {"sort": sort} if sort else {}
    names = await am.names({"typeId": "demo.Site"}, **params)
    assert names == ["Chengdu", "Chicago", "Erlangen"]


@pytest.mark.parametrize("sort", ["name,desc", "DESC"])
async def test_sort_descending_forms(am: Am, sort: str) -> None:
    names = await am.names({"typeId": "demo.Site"}, sort=sort)
    assert names == ["Erlangen", "Chicago", "Chengdu"]


async def test_sort_by_another_field_and_bad_sort(am: Am) -> None:
    body = await am.list({"typeId": "demo.Hall"}, size=50, sort="externalId,desc")
    external = [a["externalId"] for a in body["_embedded"]["assets"]]
    assert external == sorted(external, reverse=True)
    assert (await am.get("/assets", sort="name,sideways")).status_code == 400
    assert (await am.get("/assets", sort="colour,asc")).status_code == 400


# ---------------------------------------------------------------- filters


async def test_filter_equals_plain_and_eq(am: Am) -> None:
    assert await am.names({"name": "Chicago"}) == ["Chicago"]
    assert await am.names({"name": {"eq": "Chicago"}}) == ["Chicago"]
    assert await am.names({"externalId": "SITE-CD"}) == ["Chengdu"]


async def test_filter_in_with_value_wrapper(am: Am) -> None:
    assert await am.names({"name": {"in": {"value": ["Erlangen", "Chengdu", "Nowhere"]}}}) == [
        "Chengdu",
        "Erlangen",
    ]


async def test_filter_string_functions(am: Am) -> None:
    assert await am.names({"name": {"startsWith": "Ch"}}) == ["Chengdu", "Chicago"]
    assert await am.names({"name": {"endsWith": "go"}}) == ["Chicago"]
    contains = await am.names({"name": {"contains": "Pump CH-"}})
    assert contains and all("Pump CH-" in n for n in contains)
    # Case-sensitive, no wildcards.
    assert await am.names({"name": {"contains": "pump ch-"}}) == []
    assert await am.names({"name": {"startsWith": "Ch*"}}) == []


async def test_filter_timestamps_on_deleted(am: Am) -> None:
    assert await am.names({"deleted": {"before": "2024-04-01T00:00:00.00Z"}}) == ["Retired Pump ER-0"]
    assert await am.names({"deleted": {"after": "2024-04-01T00:00:00Z"}}) == ["Retired Pump CH-0"]
    both = await am.names({"deleted": {"between": "[2024-03-15T08:00:00.00Z, 2024-06-30T12:00:00.000Z]"}})
    assert both == ["Retired Pump CH-0", "Retired Pump ER-0"]
    open_ends = await am.names({"deleted": {"between": "(2024-03-15T08:00:00Z, 2024-06-30T12:00:00Z)"}})
    assert open_ends == []
    bad = await am.get("/assets", filter=json.dumps({"deleted": {"before": "yesterday"}}))
    assert bad.status_code == 400


async def test_deleted_assets_hidden_unless_the_filter_asks(am: Am) -> None:
    assert "Retired Pump ER-0" not in await am.names({"name": {"startsWith": "Retired"}})
    assert await am.names(
        {"name": {"startsWith": "Retired"}, "deleted": {"after": "2000-01-01T00:00:00Z"}}
    ) == [
        "Retired Pump CH-0",
        "Retired Pump ER-0",
    ]


async def test_filter_null_matches_not_deleted(am: Am) -> None:
    explicit = await am.names({"name": {"startsWith": "Retired"}, "deleted": None})
    assert explicit == []
    live = await am.names({"typeId": "demo.Site", "deleted": {"eq": None}})
    assert live == ["Chengdu", "Chicago", "Erlangen"]


async def test_filter_not(am: Am) -> None:
    sites = await am.names({"typeId": "demo.Site", "not": {"name": {"startsWith": "Ch"}}})
    assert sites == ["Erlangen"]
    assert await am.names({"typeId": "demo.Site", "not": {"name": "Chicago"}}) == ["Chengdu", "Erlangen"]
    assert await am.names({"typeId": "demo.Site", "name": {"not": {"eq": "Chicago"}}}) == [
        "Chengdu",
        "Erlangen",
    ]


async def test_filter_or_field_level_and_top_level(am: Am) -> None:
    field_or = await am.names({"name": {"or": [{"eq": "Erlangen"}, {"endsWith": "cago"}]}})
    assert field_or == ["Chicago", "Erlangen"]
    top_or = await am.names({"or": {"name": {"startsWith": "Hall CD"}, "externalId": "SITE-ER"}})
    assert top_or == ["Erlangen", "Hall CD1", "Hall CD2", "Hall CD3"]


async def test_filter_and_implicit_and_explicit(am: Am) -> None:
    implicit = await am.names({"typeId": "demo.Hall", "name": {"endsWith": "2"}})
    explicit = await am.names({"and": {"typeId": {"eq": "demo.Hall"}, "name": {"endsWith": "2"}}})
    assert implicit == explicit == ["Hall CD2", "Hall CH2", "Hall ER2"]
    # The CLI's combination of name and typeId.
    cli = await am.names({"and": {"name": {"contains": "ER-11"}, "typeId": {"contains": "Motor"}}})
    assert cli and all("ER-11" in n and n.startswith("Motor") for n in cli)


async def test_filter_has_type_includes_derived_types(am: Am) -> None:
    pumps = await am.names({"typeId": "demo.Pump"})
    machines = await am.names({"hasType": "demo.Machine"})
    assert set(pumps) < set(machines)
    assert all(n.split()[0] in {"Pump", "Motor", "Compressor", "Conveyor", "Mixer"} for n in machines)
    devices = await am.list({"hasType": "core.basicdevice"}, size=1)
    assert devices["page"]["totalElements"] == len(machines)


async def test_filter_parent_id_and_type_prefix(am: Am) -> None:
    root = (await am.get("/assets/root")).json()
    assert await am.names({"parentId": root["assetId"]}) == ["Chengdu", "Chicago", "Erlangen"]
    prefixed = await am.list({"typeId": {"startsWith": "demo"}}, size=1)
    everything = await am.list(size=1)
    assert prefixed["page"]["totalElements"] == everything["page"]["totalElements"] - 1  # all but the root


async def test_filter_unknown_field_is_ignored_and_bad_json_is_400(am: Am) -> None:
    assert await am.names({"typeId": "demo.Site", "colour": "red"}) == ["Chengdu", "Chicago", "Erlangen"]
    assert (await am.get("/assets", filter="{not json")).status_code == 400
    assert (await am.get("/assets", filter=json.dumps({"name": {"like": "x"}}))).status_code == 400


async def test_include_shared(am: Am) -> None:
    hidden = await am.names({"name": {"startsWith": "Leased"}})
    shown = await am.names({"name": {"startsWith": "Leased"}}, includeShared="true")
    assert hidden == []
    assert shown == ["Leased Compressor 1", "Leased Motor 3", "Leased Pump 2"]
    shared = (await am.list({"name": "Leased Pump 2"}, includeShared="true"))["_embedded"]["assets"][0]
    assert shared["sharing"]["modes"] == ["RECEIVER"]
    assert (await am.get(f"/assets/{shared['assetId']}")).status_code == 404
    assert (await am.get(f"/assets/{shared['assetId']}", includeShared="true")).status_code == 200


# ---------------------------------------------------------------- writes and etags


async def _new_asset(am: Am, name: str, parent: str | None = None, **extra: Any) -> dict[str, Any]:
    parent = parent or (await am.get("/assets/root")).json()["assetId"]
    response = await am.send(
        "POST", "/assets", {"name": name, "typeId": "demo.Pump", "parentId": parent, **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_fills_defaults_and_requires_instantiable_type(am: Am) -> None:
    line = await am.one("Line ER11")
    created = await _new_asset(am, "New Pump", line["assetId"], externalId="N-1")
    assert re.fullmatch(r"[a-f0-9]{32}", created["assetId"])
    assert created["etag"] == 0 and created["twinType"] == "performance" and created["deleted"] is None
    assert {"name": "criticality", "value": "normal"} in created["variables"]
    assert created["timezone"] == "Europe/Berlin"
    assert [p["name"] for p in created["hierarchyPath"]] == ["demo", "Erlangen", "Hall ER1", "Line ER11"]
    assert (await am.get(f"/assets/{created['assetId']}")).json()["name"] == "New Pump"
    abstract = await am.send(
        "POST", "/assets", {"name": "M", "typeId": "demo.Machine", "parentId": line["assetId"]}
    )
    assert abstract.status_code == 400 and "instantiable" in abstract.json()["errors"][0]["message"]
    for missing in ("name", "typeId", "parentId"):
        body = {"name": "M", "typeId": "demo.Pump", "parentId": line["assetId"]}
        del body[missing]
        assert (await am.send("POST", "/assets", body)).status_code == 400
    bad_var = await am.send(
        "POST",
        "/assets",
        {
            "name": "M",
            "typeId": "demo.Pump",
            "parentId": line["assetId"],
            "variables": [{"name": "x", "value": 1}],
        },
    )
    assert bad_var.status_code == 400


async def test_put_and_patch_with_etags(am: Am) -> None:
    asset = await _new_asset(am, "Etag Pump")
    path = f"/assets/{asset['assetId']}"
    body = {
        "name": "Etag Pump 2",
        "description": "replaced",
        "variables": [{"name": "criticality", "value": "high"}],
    }
    assert (await am.send("PUT", path, body)).status_code == 428
    assert (await am.send("PUT", path, body, etag=5)).status_code == 412
    put = await am.send("PUT", path, body, etag=0)
    assert put.status_code == 200 and put.json()["etag"] == 1 and put.json()["name"] == "Etag Pump 2"
    # Quoted If-Match works too; a stale one is refused.
    assert (await am.send("PATCH", path, {"description": "x"}, etag='"0"')).status_code == 412
    patch = await am.send(
        "PATCH", path, {"description": "patched"}, etag='"1"', Content_Type="application/merge-patch+json"
    )
    assert patch.status_code == 200
    patched = patch.json()
    assert patched["etag"] == 2 and patched["description"] == "patched" and patched["name"] == "Etag Pump 2"
    assert {"name": "criticality", "value": "high"} in patched["variables"]
    changed_type = await am.send("PUT", path, {"name": "x", "typeId": "demo.Motor"}, etag=2)
    assert changed_type.status_code == 400
    not_modified = await am.client.get(AM + path, headers={**am.headers, "If-None-Match": '"2"'})
    assert not_modified.status_code == 304


async def test_delete_rules_and_soft_delete(am: Am, sim_app: Starlette) -> None:
    parent = await _new_asset(am, "Parent Pump")
    child = await _new_asset(am, "Child Pump", parent["assetId"])
    assert (await am.send("DELETE", f"/assets/{parent['assetId']}")).status_code == 428
    refused = await am.send("DELETE", f"/assets/{parent['assetId']}", etag=0)
    assert refused.status_code == 409
    assert (await am.send("DELETE", f"/assets/{child['assetId']}", etag=3)).status_code == 412
    assert (await am.send("DELETE", f"/assets/{child['assetId']}", etag=0)).status_code == 204
    assert (await am.get(f"/assets/{child['assetId']}")).status_code == 404
    assert sim_app.state.tenant.assets[child["assetId"]].deleted == "2024-05-01T12:00:00.000Z"
    # Soft-deleted: still found when the filter asks about deletion, and the parent may now go.
    assert await am.names({"name": "Child Pump", "deleted": {"after": "2024-01-01T00:00:00Z"}}) == [
        "Child Pump"
    ]
    assert (await am.send("DELETE", f"/assets/{parent['assetId']}", etag=0)).status_code == 204
    root = (await am.get("/assets/root")).json()
    assert (await am.send("DELETE", f"/assets/{root['assetId']}", etag=root["etag"])).status_code == 400


@pytest.mark.parametrize("suffix", ["/move", ""])
async def test_move_on_both_paths(am: Am, suffix: str) -> None:
    asset = await _new_asset(am, "Mover")
    target = await am.one("Line CD33")
    path = f"/assets/{asset['assetId']}{suffix}"
    assert (await am.send("POST", path, {"newParentId": target["assetId"]})).status_code == 428
    moved = await am.send("POST", path, {"newParentId": target["assetId"]}, etag=0)
    assert moved.status_code == 200
    body = moved.json()
    assert body["parentId"] == target["assetId"] and body["etag"] == 1
    assert [p["name"] for p in body["hierarchyPath"]][-1] == "Line CD33"
    assert "Mover" in await am.names({"parentId": target["assetId"]})
    assert "Mover" not in await am.names({"parentId": asset["parentId"]})


async def test_move_below_itself_is_refused(am: Am) -> None:
    site = await am.one("Chicago")
    hall = await am.one("Hall CH1")
    response = await am.send(
        "POST", f"/assets/{site['assetId']}/move", {"newParentId": hall["assetId"]}, etag=0
    )
    assert response.status_code == 400


async def test_asset_aspects_and_variables(am: Am) -> None:
    pump = await am.one("Pump ER-1104")
    aspects = (await am.get(f"/assets/{pump['assetId']}/aspects")).json()
    items = aspects["_embedded"]["aspects"]
    assert [a["name"] for a in items] == [
        "Nameplate",
        "Energy",
        "Maintenance",
        "Diagnostics",
        "PumpData",
        "Vibration",
    ]
    pump_data = items[4]
    assert pump_data["category"] == "dynamic" and pump_data["holderAssetId"] == pump["assetId"]
    flow = pump_data["variables"][0]
    assert flow == {
        "name": "flow",
        "dataType": "DOUBLE",
        "unit": "m3/h",
        "searchable": False,
        "length": None,
        "defaultValue": None,
        "qualityCode": True,
    }
    paged = (await am.get(f"/assets/{pump['assetId']}/aspects", size=4, page=1)).json()
    assert [a["name"] for a in paged["_embedded"]["aspects"]] == ["PumpData", "Vibration"]
    variables = (await am.get(f"/assets/{pump['assetId']}/variables", size=100)).json()
    names = [v["name"] for v in variables["_embedded"]["variables"]]
    assert names[0] == "criticality" and "PumpData.flow" in names and "Nameplate.serial" in names


# ---------------------------------------------------------------- types


async def test_aspect_type_list_get_create_update_delete(am: Am) -> None:
    listing = (await am.get("/aspecttypes", size=100)).json()
    ids = [t["id"] for t in listing["_embedded"]["aspectTypes"]]
    assert "demo.PumpData" in ids and "demo.Nameplate" in ids
    dynamic = (await am.get("/aspecttypes", filter=json.dumps({"category": "static"}))).json()
    assert [t["id"] for t in dynamic["_embedded"]["aspectTypes"]] == ["demo.Maintenance", "demo.Nameplate"]
    one = (await am.get("/aspecttypes/demo.MotorData")).json()
    assert [v["unit"] for v in one["variables"]] == ["rpm", "A", "C", "mm/s"]

    body = {
        "name": "Env",
        "category": "dynamic",
        "scope": "private",
        "variables": [{"name": "temp", "dataType": "DOUBLE", "unit": "C", "qualityCode": True}],
    }
    created = await am.send("PUT", "/aspecttypes/demo.Env", body)
    assert created.status_code == 201 and created.json()["etag"] == 0
    again = await am.send("PUT", "/aspecttypes/demo.Env", body, If_None_Match="*")
    assert again.status_code == 412
    assert (await am.send("PUT", "/aspecttypes/demo.Env", body)).status_code == 428
    grown = {**body, "variables": [*body["variables"], {"name": "hum", "dataType": "DOUBLE", "unit": "%"}]}
    updated = await am.send("PUT", "/aspecttypes/demo.Env", grown, etag=0)
    assert updated.status_code == 200 and updated.json()["etag"] == 1
    removed = await am.send("PUT", "/aspecttypes/demo.Env", body, etag=1)
    assert removed.status_code == 400
    assert (await am.send("PUT", "/aspecttypes/other.Env", body)).status_code == 400
    bad_type = {**body, "variables": [{"name": "s", "dataType": "BIG_STRING"}], "category": "static"}
    assert (await am.send("PUT", "/aspecttypes/demo.Bad", bad_type)).status_code == 400
    in_use = await am.send("DELETE", "/aspecttypes/demo.PumpData", etag=0)
    assert in_use.status_code == 409
    assert (await am.send("DELETE", "/aspecttypes/demo.Env", etag=0)).status_code == 412
    assert (await am.send("DELETE", "/aspecttypes/demo.Env", etag=1)).status_code == 204
    assert (await am.get("/aspecttypes/demo.Env")).status_code == 404


async def test_asset_type_exploded_create_and_delete_rules(am: Am) -> None:
    plain = (await am.get("/assettypes/demo.Pump")).json()
    assert [a["name"] for a in plain["aspects"]] == ["PumpData", "Vibration"]
    assert plain["aspects"][0]["aspectType"]["id"] == "demo.PumpData"
    exploded = (await am.get("/assettypes/demo.Pump", exploded="true")).json()
    assert [a["name"] for a in exploded["aspects"]] == [
        "Nameplate",
        "Energy",
        "Maintenance",
        "Diagnostics",
        "PumpData",
        "Vibration",
    ]
    assert "origin" in exploded["aspects"][0]["_links"]
    listing = (
        await am.get("/assettypes", filter=json.dumps({"parentTypeId": "demo.Machine"}), size=50)
    ).json()
    assert {t["id"] for t in listing["_embedded"]["assetTypes"]} == {
        "demo.Pump",
        "demo.Motor",
        "demo.Compressor",
        "demo.Conveyor",
        "demo.Mixer",
    }
    body = {"name": "Valve", "parentTypeId": "demo.Machine", "instantiable": True, "aspects": []}
    created = await am.send("PUT", "/assettypes/demo.Valve", body)
    assert created.status_code == 201
    line = await am.one("Line ER11")
    valve = await am.send(
        "POST", "/assets", {"name": "V1", "typeId": "demo.Valve", "parentId": line["assetId"]}
    )
    assert valve.status_code == 201
    assert (await am.send("DELETE", "/assettypes/demo.Valve", etag=0)).status_code == 409  # has an asset
    assert (await am.send("DELETE", "/assettypes/demo.Machine", etag=0)).status_code == 409  # has child types
    assert (await am.send("DELETE", "/assettypes/core.basicasset", etag=0)).status_code == 403
    assert (await am.send("DELETE", f"/assets/{valve.json()['assetId']}", etag=0)).status_code == 204
    assert (await am.send("DELETE", "/assettypes/demo.Valve", etag=0)).status_code == 204


# ---------------------------------------------------------------- tenant generation


def test_build_tenant_is_deterministic_and_shaped() -> None:
    first = build_tenant(SimConfig(assets=2000))
    second = build_tenant(SimConfig(assets=2000))
    assert list(first.assets) == list(second.assets)
    other_seed = build_tenant(SimConfig(assets=2000, seed=7))
    assert first.root_id != other_seed.root_id
    assert 200 <= len(first.assets) - 2000 <= 500
    assert all(re.fullmatch(r"[a-f0-9]{32}", i) for i in first.assets)
    # Children index consistent with parentId.
    for parent, kids in first.children.items():
        assert all(first.assets[k].parentId == parent for k in kids)
    # The deep chain is at least 50 levels below its folder.
    depth = max(_depth(first, i) for i in first.assets)
    assert depth >= 50
    dynamic = [t for t in first.aspect_types.values() if t.category == "dynamic"]
    assert all(v.dataType and t.sample_period_s > 0 for t in dynamic for v in t.variables)


def _depth(state: Any, asset_id: str) -> int:
    depth = 0
    while state.assets[asset_id].parentId is not None:
        asset_id = state.assets[asset_id].parentId
        depth += 1
    return depth


async def test_large_tenant_answers_children_listing(sim_clock) -> None:
    app = create_app(SimConfig(clock=sim_clock, assets=20000))
    state = app.state.tenant
    assert len(state.assets) > 20000
    async with httpx.AsyncClient(transport=sim_transport(app), base_url="http://sim.test") as client:
        client_cfg = app.state.config.clients[0]
        token = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_cfg.client_id, client_cfg.client_secret),
        )
        am = Am(client, {"Authorization": f"Bearer {token.json()['access_token']}"})
        wide = await am.one("Wide")
        body = await am.list({"parentId": wide["assetId"]}, size=200, page=3)
        assert body["page"]["totalElements"] == 10_000
        names = [a["name"] for a in body["_embedded"]["assets"]]
        assert names[0] == "Sensor W00600" and names == sorted(names)
        generated = await am.one("Generated")
        assert await am.names({"parentId": generated["assetId"]}) == ["Deep", "Tree", "Wide"]
        everything = await am.list(size=1)
        assert everything["page"]["totalElements"] == len(
            [a for a in state.assets.values() if a.deleted is None and not a.shared]
        )
