"""Asset Management decoded straight into typed models (msgspec): fields, paging, errors, memory sharing."""

from __future__ import annotations

import gc
import json
from typing import Any

import httpx
import pytest

from tests.api.conftest import hal
from tests.api.test_api_paging import HalServer, assets
from tui.api.assets import ASSET_PAGES, ASSET_TYPE_PAGES, type_filter
from tui.api.decode import decode, describe_error, encode
from tui.api.errors import NotFoundError, ResponseFormatError
from tui.api.models import (
    Asset,
    AssetType,
    FileAssignment,
    HierarchyEntry,
    Location,
    Lock,
    StaticValue,
    VariableDefinition,
    static_values,
    type_chain,
)
from tui.sim.config import SimConfig

ROOT = "e" * 32
SITE = "5" * 32
PUMP = "9a1b2c3d4e5f60718293a4b5c6d7e8f9"

FULL_ASSET: dict[str, Any] = {
    "assetId": PUMP,
    "tenantId": "supplier",
    "name": "Pump-001",
    "etag": '"7"',
    "externalId": "SN-4711",
    "t2Tenant": "legacy-sub",
    "subTenant": None,
    "description": "Feed pump hall A",
    "timezone": "Europe/Berlin",
    "twinType": "simulation",
    "parentId": SITE,
    "typeId": "mytenant.Pump",
    "location": {
        "country": "Germany",
        "region": "Bavaria",
        "locality": "Erlangen",
        "streetAddress": "Example Str. 1",
        "postalCode": "91052",
        "longitude": 11.0,
        "latitude": "49.6",
    },
    "fileAssignments": [{"key": "manual", "fileId": "f1", "_links": {"download": {"href": "x"}}}],
    "variables": [{"name": "color", "value": "gray"}, {"name": "weight", "value": 12.5}],
    "aspects": [{"name": "nameplate", "variables": [{"name": "serial", "value": "X1"}]}],
    "locks": [{"id": "l1", "service": "svc", "reason": "import", "reasonCode": "IMPORT"}],
    "hierarchyPath": [{"assetId": ROOT, "name": "mytenant"}, {"assetId": SITE, "name": "Erlangen"}],
    "deleted": None,
    "sharing": {"modes": ["RECEIVER"]},
    "somethingNew": {"x": 1},
    "_links": {"self": {"href": "https://gateway.example.test/api/assetmanagement/v3/assets/x"}},
}


def page_bytes(items: list[Any], number: int = 0, size: int = 200, total: int | None = None) -> bytes:
    return json.dumps(hal("assets", items, number, size, len(items) if total is None else total)).encode()


# -- decoding ---------------------------------------------------------------------------------------


def test_asset_page_decodes_every_field_and_keeps_no_raw() -> None:
    items, info = ASSET_PAGES(page_bytes([FULL_ASSET], total=1), 0)
    assert info.total_elements == 1 and info.total_pages == 1 and info.number == 0
    (asset,) = items
    assert isinstance(asset, Asset)
    assert (asset.asset_id, asset.name, asset.type_id, asset.parent_id) == (
        PUMP,
        "Pump-001",
        "mytenant.Pump",
        SITE,
    )
    assert asset.etag == 7  # a quoted numeric string becomes the number
    assert asset.external_id == "SN-4711" and asset.description == "Feed pump hall A"
    assert asset.timezone == "Europe/Berlin" and asset.twin_type == "simulation"
    assert asset.sub_tenant == "legacy-sub"  # falls back to the deprecated t2Tenant
    assert asset.location == Location(
        country="Germany",
        region="Bavaria",
        locality="Erlangen",
        street_address="Example Str. 1",
        postal_code="91052",
        longitude=11.0,
        latitude=49.6,
    )
    assert asset.location is not None and asset.location.coordinates == (49.6, 11.0)
    assert asset.file_assignments == (FileAssignment(key="manual", file_id="f1"),)
    assert asset.locks == (Lock(id="l1", service="svc", reason="import", reason_code="IMPORT"),)
    assert asset.hierarchy_path == (HierarchyEntry(ROOT, "mytenant"), HierarchyEntry(SITE, "Erlangen"))
    assert asset.path_names == ("mytenant", "Erlangen", "Pump-001")
    assert asset.path_ids == (ROOT, SITE, PUMP)
    assert asset.static_value("weight") == 12.5 and asset.static_value("serial", aspect="nameplate") == "X1"
    assert asset.static_value("missing") is None
    assert asset.sharing_modes == ("RECEIVER",) and asset.is_shared and not asset.is_sharer
    assert asset.owner_tenant == "supplier"
    assert not asset.is_root and not asset.is_deleted
    # No raw JSON is kept in a listing: ``raw`` is the model re-encoded, without unknown fields.
    assert not hasattr(asset, "__dict__")  # no room for it
    assert "somethingNew" not in asset.raw and "_links" not in asset.raw
    assert asset.raw == asset.to_json()


def test_to_json_uses_the_api_field_names_and_round_trips() -> None:
    (asset,) = ASSET_PAGES(page_bytes([FULL_ASSET]), 0)[0]
    out = asset.to_json()
    assert list(out)[:3] == ["assetId", "name", "tenantId"]
    assert {"typeId", "parentId", "externalId", "twinType", "hierarchyPath", "subTenant"} <= set(out)
    assert out["location"]["streetAddress"] == "Example Str. 1"
    assert out["hierarchyPath"][0] == {"assetId": ROOT, "name": "mytenant"}
    assert out["sharing"] == {"modes": ["RECEIVER"]} and out["etag"] == 7
    assert decode(encode([asset]), list[Asset], what="assets") == [asset]


def test_minimal_asset_and_null_fields() -> None:
    items, _ = ASSET_PAGES(
        page_bytes([{"assetId": "a" * 32, "location": None, "sharing": None, "hierarchyPath": []}]), 0
    )
    (asset,) = items
    assert asset.name == "" and asset.is_root and asset.location is None and asset.sharing_modes == ()
    assert asset.etag is None and asset.hierarchy_path == () and asset.path_names == ("",)


def test_from_json_keeps_the_given_dict_and_accepts_id() -> None:
    asset = Asset.from_json(FULL_ASSET)
    assert asset.raw is FULL_ASSET and asset.etag == 7
    (decoded,), _ = ASSET_PAGES(page_bytes([FULL_ASSET]), 0)
    # The model that holds its dict is equal to, hashes like and reads like the decoded one.
    assert asset == decoded and decoded == asset and not (asset != decoded) and not (decoded != asset)
    assert hash(asset) == hash(decoded) and len({asset, decoded}) == 1
    assert isinstance(asset, Asset) and repr(asset) == repr(decoded)
    assert not gc.is_tracked(decoded)  # listings' models are left out of garbage collection
    assert Asset.from_json({"id": "b" * 32, "name": "x"}).asset_id == "b" * 32
    with pytest.raises(ResponseFormatError, match="without assetId"):
        Asset.from_json({"assetId": "", "name": "x"})
    with pytest.raises(ResponseFormatError, match=r"expected a string, got a whole number at name"):
        Asset.from_json({"assetId": "c" * 32, "name": 5})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "expected an object, got an array"),
        (b"<html>oops</html>", "not valid JSON (17 bytes)"),
        (
            b'{"_embedded":{"assets":[{"name":"x"}]}}',
            "missing required field `assetId` at _embedded.assets[0]",
        ),
        (b'{"_embedded":{"assets":[{"assetId":""}]}}', "an asset without assetId at _embedded.assets[0]"),
        (b'{"_embedded":{"assets":[3]}}', "expected an object, got a whole number at _embedded.assets[0]"),
        (b'{"_embedded":{"assets":{"a":1}}}', "expected an array or null, got an object at _embedded.assets"),
        (
            b'{"_embedded":{"assets":[{"assetId":"a","hierarchyPath":[{"assetId":1}]}]}}',
            "expected a string, got a whole number at _embedded.assets[0].hierarchyPath[0].assetId",
        ),
        (
            b'{"_embedded":{"assets":[{"assetId":"a","location":{"latitude":"north"}}]}}',
            "at _embedded.assets[0].location.latitude",
        ),
        (
            b'{"page":{"totalPages":"many"}}',
            "expected a whole number or null, got a string at page.totalPages",
        ),
    ],
)
def test_malformed_pages_raise_response_format_error(body: bytes, message: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        ASSET_PAGES(body, 0)
    assert str(info.value).startswith("unexpected asset listing: ")
    assert message in str(info.value)


def test_page_variants() -> None:
    # No _embedded (an empty page), _embedded without the key, and the Spring "content" shape.
    empty = b'{"page":{"size":200,"totalElements":0,"totalPages":0,"number":0}}'
    assert ASSET_PAGES(empty, 0)[0] == [] and ASSET_PAGES(empty, 0)[1].total_pages == 0
    assert ASSET_PAGES(b'{"_embedded":{}}', 3) == ([], ASSET_PAGES(b"{}", 3)[1])
    assert ASSET_PAGES(b"{}", 3)[1].number == 3
    spring = json.dumps({"content": [{"assetId": PUMP}], "totalElements": 1, "totalPages": 1}).encode()
    items, info = ASSET_PAGES(spring, 0)
    assert [a.asset_id for a in items] == [PUMP] and info.total_pages == 1


def test_describe_error_plain_words() -> None:
    class Fake(Exception):
        pass

    assert describe_error(Fake("Expected `str | null`, got `int` - at `$.a[0].b`")) == (
        "expected a string or null, got a whole number at a[0].b"
    )
    assert describe_error(Fake("Object missing required field `assetId`")) == (
        "object missing required field `assetId`"
    )


def test_types_variables_and_inheritance() -> None:
    body = hal(
        "assetTypes",
        [
            {
                "id": "t.Pump",
                "name": "Pump",
                "parentTypeId": "t.Device",
                "instantiable": "true",
                "etag": "4",
                "aspects": [
                    {
                        "name": "env",
                        "aspectType": {
                            "id": "t.Env",
                            "name": "Env",
                            "category": "dynamic",
                            "variables": [
                                {"name": "temp", "dataType": "DOUBLE", "unit": "C", "qualityCode": True}
                            ],
                        },
                        "_links": {"origin": {"href": "https://x/assettypes/t.Device"}},
                    }
                ],
                "variables": [
                    {"name": "color", "dataType": "STRING", "length": "10", "defaultValue": "gray"},
                    {
                        "name": "rpm",
                        "dataType": "INT",
                        "defaultValue": 1500,
                        "_links": {"origin": {"href": "o"}},
                    },
                    {"name": "on", "dataType": "BOOLEAN", "defaultValue": True},
                ],
                "sharing": {"modes": ["SHARER"]},
            }
        ],
        0,
        200,
        1,
    )
    (pump,), _ = ASSET_TYPE_PAGES(json.dumps(body).encode(), 0)
    assert pump.etag == 4 and pump.instantiable is True and pump.parent_type_id == "t.Device"
    (env,) = pump.aspects
    assert env.aspect_type_id == "t.Env" and env.inherited  # id from the nested type; origin = inherited
    assert env.aspect_type is not None and env.aspect_type.is_dynamic
    temp = env.aspect_type.variables[0]
    assert (temp.data_type, temp.unit, temp.quality_code, temp.is_numeric) == ("DOUBLE", "C", True, True)
    color, rpm, on = pump.variables
    assert color.length == 10 and color.default_value == "gray" and not color.inherited
    assert rpm.default_value == "1500" and rpm.inherited and rpm.is_numeric
    assert on.default_value == "true" and not on.is_numeric  # defaultValue is a string in the API
    device = AssetType.from_json({"id": "t.Device", "name": "Device", "parentTypeId": "core.basicdevice"})
    basic = AssetType.from_json({"id": "core.basicdevice", "name": "BasicDevice", "parentTypeId": "t.Pump"})
    types = {t.id: t for t in (pump, device, basic)}
    assert [t.id for t in type_chain(types, "t.Pump")] == ["t.Pump", "t.Device", "core.basicdevice"]
    assert [t.id for t in type_chain(types, "t.Device")] == ["t.Device", "core.basicdevice", "t.Pump"]
    assert type_chain(types, "t.Unknown") == []


def test_static_values_join_values_with_definitions() -> None:
    asset = Asset.from_json(FULL_ASSET)
    asset_type = AssetType.from_json(
        {
            "id": "mytenant.Pump",
            "variables": [
                {"name": "weight", "dataType": "DOUBLE", "unit": "kg"},
                {"name": "color", "dataType": "STRING"},
                {"name": "rated", "dataType": "DOUBLE", "unit": "kW"},
            ],
            "aspects": [
                {
                    "name": "nameplate",
                    "aspectType": {
                        "id": "t.Nameplate",
                        "category": "static",
                        "variables": [{"name": "serial", "dataType": "STRING"}],
                    },
                },
                {
                    "name": "env",
                    "aspectType": {"id": "t.Env", "category": "dynamic", "variables": [{"name": "t"}]},
                },
            ],
        }
    )
    assert static_values(asset, asset_type) == [
        StaticValue(name="weight", value=12.5, unit="kg", data_type="DOUBLE"),
        StaticValue(name="color", value="gray", data_type="STRING"),
        StaticValue(name="rated", value=None, unit="kW", data_type="DOUBLE"),
        StaticValue(aspect="nameplate", name="serial", value="X1", data_type="STRING"),
    ]
    assert static_values(asset) == [
        StaticValue(name="color", value="gray"),
        StaticValue(name="weight", value=12.5),
        StaticValue(aspect="nameplate", name="serial", value="X1"),
    ]


# -- paging through the client -----------------------------------------------------------------------


async def test_list_pages_every_asset_once_in_order_with_chosen_concurrency(mock_api) -> None:
    server = HalServer(assets(2345))
    api, _ = mock_api(server, page_concurrency=2)
    pages = [page async for page in api.assets.list_pages(concurrency=8)]
    assert [len(p) for p in pages] == [200] * 11 + [145]
    assert all(isinstance(a, Asset) for p in pages for a in p)
    expected = [a["assetId"] for a in server.items]
    assert [a.asset_id for p in pages for a in p] == expected
    assert 2 < server.max_in_flight <= 8  # the call's concurrency, not the connection's 2
    server.max_in_flight = 0
    everything = await api.assets.list_all()
    assert [a.asset_id for a in everything] == expected and server.max_in_flight <= 2
    assert [a.asset_id async for a in api.assets.list()] == expected
    assert everything[5].name == "A00005" and everything[5].etag == 5


async def test_typed_listing_drops_duplicates_when_the_listing_grows(mock_api) -> None:
    items = assets(450)

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        if page == 1:
            items[:0] = [{"assetId": f"f{i:031x}", "name": "new"} for i in range(150)]
        chunk = items[page * 200 : (page + 1) * 200]
        return httpx.Response(200, json=hal("assets", chunk, page, 200, len(items)))

    api, _ = mock_api(handler, page_concurrency=1)
    ids = [a.asset_id for a in await api.assets.list_all()]
    assert len(ids) == len(set(ids))
    assert {f"{i:032x}" for i in range(450)} <= set(ids)


async def test_malformed_page_mid_listing_raises_with_page_and_field(mock_api) -> None:
    server = HalServer(assets(1000))

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "3":
            bad = assets(2)
            bad[1]["name"] = ["not", "a", "name"]
            return httpx.Response(200, json=hal("assets", bad, 3, 200, 1000))
        return await server(request)

    api, _ = mock_api(handler, page_concurrency=4)
    with pytest.raises(ResponseFormatError) as info:
        await api.assets.list_all()
    err = info.value
    assert err.status == 200 and err.method == "GET" and err.url and "page=3" in err.url
    assert "unexpected asset listing: expected a string, got an array at _embedded.assets[1].name" in str(err)
    assert "(page 3)" in str(err)


async def test_get_get_raw_and_page_decode_typed(mock_api) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/assets"):
            return httpx.Response(200, json=hal("assets", [FULL_ASSET], 0, 50, 120))
        if request.url.path.endswith("/broken"):
            return httpx.Response(200, content=b"<html/>", headers={"content-type": "text/html"})
        return httpx.Response(200, json=FULL_ASSET)

    api, _ = mock_api(handler)
    asset = await api.assets.get(PUMP)
    assert asset.asset_id == PUMP and asset.etag == 7 and not hasattr(asset, "__dict__")
    raw = await api.assets.get_raw(PUMP)
    assert raw["somethingNew"] == {"x": 1} and raw["_links"]["self"]["href"].endswith("/assets/x")
    items, total = await api.assets.page(0, 50)
    assert total == 120 and items == [asset]
    with pytest.raises(ResponseFormatError, match=r"unexpected asset: not valid JSON \(7 bytes\)"):
        await api.assets.get("broken")


async def test_assets_of_one_parent_share_one_hierarchy_path(mock_api) -> None:
    path = [{"assetId": ROOT, "name": "root"}, {"assetId": SITE, "name": "site"}]
    moved = [{"assetId": ROOT, "name": "root"}, {"assetId": SITE, "name": "renamed site"}]
    items = [
        {"assetId": f"{i:032x}", "name": f"A{i}", "parentId": SITE, "hierarchyPath": path} for i in range(300)
    ]
    items[250]["hierarchyPath"] = moved  # read after a rename: its own path is kept

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json=hal("assets", items[page * 200 : (page + 1) * 200], page, 200, 300))

    api, _ = mock_api(handler)
    listed = await api.assets.list_all()
    shared = listed[0].hierarchy_path
    assert all(a.hierarchy_path is shared for i, a in enumerate(listed) if i != 250)
    assert listed[250].hierarchy_path[1].name == "renamed site"


async def test_type_listing_and_type_chain_requests(mock_api) -> None:
    types = {
        "t.Pump": {"id": "t.Pump", "name": "Pump", "parentTypeId": "core.basicdevice"},
        "core.basicdevice": {
            "id": "core.basicdevice",
            "name": "BasicDevice",
            "parentTypeId": "core.basicasset",
        },
        "core.basicasset": {"id": "core.basicasset", "name": "BasicAsset", "parentTypeId": None},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/assettypes"):
            return httpx.Response(200, json=hal("assetTypes", list(types.values()), 0, 200, 3))
        return httpx.Response(200, json=types[request.url.path.rsplit("/", 1)[1]])

    api, gw = mock_api(handler)
    listed = [t async for t in api.assets.asset_types(exploded=True, include_shared=True)]
    assert [t.id for t in listed] == list(types)
    params = gw.api_requests[0].url.params
    assert params["exploded"] == "true" and params["includeShared"] == "true"
    chain = await api.assets.asset_type_chain("t.Pump")
    assert [t.name for t in chain] == ["Pump", "BasicDevice", "BasicAsset"]
    assert json.loads(type_filter("t.Pump")) == {"hasType": "t.Pump"}
    assert json.loads(type_filter("t.Pump", subtypes=False)) == {"typeId": "t.Pump"}


# -- against the simulator ----------------------------------------------------------------------------


async def test_sim_listing_exact_with_16_pages_in_flight(sim) -> None:
    api, app = sim(SimConfig(assets=3000))
    listed = await api.assets.list_all(concurrency=16)
    state = app.state.tenant
    visible = {a.assetId for a in state.assets.values() if a.deleted is None and not a.shared}
    ids = [a.asset_id for a in listed]
    assert len(ids) == len(set(ids)) == len(visible) and set(ids) == visible
    assert [(a.name, a.asset_id) for a in listed] == sorted((a.name, a.asset_id) for a in listed)
    by_id = {a.asset_id: a for a in listed}
    for asset in listed[::97]:  # fields as the simulator holds them, paths that lead to the asset
        held = state.assets[asset.asset_id]
        assert (asset.name, asset.type_id, asset.parent_id, asset.etag) == (
            held.name,
            held.typeId,
            held.parentId,
            held.etag,
        )
        assert asset.timezone == held.timezone and asset.twin_type == held.twinType
        if asset.hierarchy_path:
            assert asset.hierarchy_path[-1].asset_id == asset.parent_id
            assert all(entry.asset_id in by_id for entry in asset.hierarchy_path)


async def test_sim_include_shared_aspects_and_static_values(sim) -> None:
    api, _ = sim()
    own = await api.assets.list_all()
    with_shared = await api.assets.list_all(include_shared=True)
    shared = [a for a in with_shared if a.is_shared]
    assert shared and not any(a.is_shared for a in own)
    assert {a.asset_id for a in with_shared} - {a.asset_id for a in own} == {a.asset_id for a in shared}
    assert all(a.sharing_modes == ("RECEIVER",) and a.owner_tenant for a in shared)
    with pytest.raises(NotFoundError):
        await api.assets.get(shared[0].asset_id)
    assert (await api.assets.get(shared[0].asset_id, include_shared=True)).is_shared

    pump = next(a for a in own if a.type_id == "demo.Pump")
    aspects = {a.name: a for a in await api.assets.aspects(pump.asset_id)}
    flow = next(v for v in aspects["PumpData"].variables if v.name == "flow")
    assert aspects["PumpData"].is_dynamic and (flow.data_type, flow.unit) == ("DOUBLE", "m3/h")
    assert isinstance(flow.quality_code, bool)
    definitions = await api.assets.variables(pump.asset_id)
    assert all(isinstance(v, VariableDefinition) for v in definitions) and definitions
    chain = await api.assets.asset_type_chain(pump.type_id or "")
    assert chain[0].id == "demo.Pump" and chain[-1].parent_type_id is None
    pump_type = await api.assets.asset_type(pump.type_id or "", exploded=True)
    rows = static_values(pump, pump_type)
    serial = next(r for r in rows if r.aspect == "Nameplate" and r.name == "serial")
    assert serial.value == pump.static_value("serial", aspect="Nameplate") and serial.data_type == "STRING"
