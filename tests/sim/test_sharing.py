"""Assets shared between tenants: received ones (RECEIVER) only with includeShared and read-only, the
owner as tenantId and the owner's types; assets the demo tenant shares out (SHARER) stay writable."""

from __future__ import annotations

from tests.sim.conftest import AssetApi

AM = "/api/assetmanagement/v3"
TS = "/api/iottimeseries/v3/timeseries"
SHARED = {"includeShared": "true"}


async def test_received_assets_only_with_include_shared(am: AssetApi) -> None:
    root = (await am.get("/assets/root")).json()
    assert await am.names({"parentId": root["assetId"]}) == ["Chengdu", "Chicago", "Erlangen"]
    assert await am.names({"parentId": root["assetId"]}, **SHARED) == [
        "Chengdu",
        "Chicago",
        "Erlangen",
        "Grid Connection ER",
        "Supplier Equipment",
    ]
    everything = (await am.get("/assets", size=1)).json()["page"]["totalElements"]
    with_shared = (await am.get("/assets", size=1, **SHARED)).json()["page"]["totalElements"]
    assert with_shared - everything == 5


async def test_received_asset_carries_owner_mode_and_owner_types(am: AssetApi) -> None:
    leased = await am.one("Leased Pump 2", **SHARED)
    assert leased["sharing"] == {"modes": ["RECEIVER"]}
    assert leased["tenantId"] == "supplier" and leased["typeId"] == "supplier.LeasedPump"
    assert leased["timezone"] == "Europe/Vienna" and leased["location"]["locality"] == "Vienna"
    assert [p["name"] for p in leased["hierarchyPath"]] == ["demo", "Supplier Equipment"]
    lease = next(a for a in leased["aspects"] if a["name"] == "Lease")
    assert {v["name"] for v in lease["variables"]} == {"contractId", "leaseEnd", "monthlyRate"}
    grid = await am.one("Grid Connection ER", **SHARED)
    assert grid["tenantId"] == "utility" and grid["sharing"] == {"modes": ["RECEIVER"]}
    # One by one: 404 without includeShared, as the reference says for shared resources.
    assert (await am.get(f"/assets/{leased['assetId']}")).status_code == 404
    assert (await am.get(f"/assets/{leased['assetId']}", **SHARED)).status_code == 200
    aspects = (await am.get(f"/assets/{leased['assetId']}/aspects", **SHARED)).json()
    assert [a["name"] for a in aspects["_embedded"]["aspects"]] == ["Lease", "Service"]
    # Filters see the owner tenant.
    assert await am.names({"tenantId": "supplier"}, **SHARED) == [
        "Leased Compressor 1",
        "Leased Motor 3",
        "Leased Pump 2",
        "Supplier Equipment",
    ]
    assert await am.names({"hasType": "supplier.LeasedMachine"}) == []


async def test_received_types_only_with_include_shared(am: AssetApi) -> None:
    for path, key, type_id in (
        ("/assettypes", "assetTypes", "supplier.LeasedPump"),
        ("/aspecttypes", "aspectTypes", "utility.GridPower"),
    ):
        hidden = [t["id"] for t in (await am.get(path, size=200)).json()["_embedded"][key]]
        shown = [t for t in (await am.get(path, size=200, **SHARED)).json()["_embedded"][key]]
        assert type_id not in hidden
        (received,) = [t for t in shown if t["id"] == type_id]
        assert (
            received["sharing"] == {"modes": ["RECEIVER"]} and received["tenantId"] == type_id.split(".")[0]
        )
        assert all(t["sharing"] == {"modes": []} for t in shown if t["id"] in hidden)
        assert (await am.get(f"{path}/{type_id}")).status_code == 404
        assert (await am.get(f"{path}/{type_id}", **SHARED)).status_code == 200


async def test_received_assets_are_read_only(am: AssetApi) -> None:
    leased = await am.one("Leased Pump 2", **SHARED)
    path = f"{AM}/assets/{leased['assetId']}"
    headers = {**am.headers, "If-Match": str(leased["etag"])}
    for method, suffix, body in (
        ("PATCH", "", {"description": "mine now"}),
        ("PUT", "", {"name": "Mine"}),
        ("DELETE", "", None),
        ("POST", "/move", {"newParentId": leased["parentId"]}),
        ("PUT", "/location", {"locality": "Elsewhere"}),
        ("DELETE", "/location", None),
    ):
        refused = await am.client.request(method, path + suffix, json=body, headers=headers, params=SHARED)
        assert refused.status_code == 403, (method, suffix)
        assert refused.json()["errors"][0]["code"] == "mdsp.core.assetmanagement.sharedResourceReadOnly"
        hidden = await am.client.request(method, path + suffix, json=body, headers=headers)
        assert hidden.status_code == 404, (method, suffix)
    assert (await am.get(f"/assets/{leased['assetId']}", **SHARED)).json()["etag"] == leased["etag"]
    line = await am.one("Line ER11")
    instance = await am.client.post(
        f"{AM}/assets",
        json={"name": "Mine", "typeId": "supplier.LeasedPump", "parentId": line["assetId"]},
        headers=am.headers,
    )
    assert instance.status_code == 400


async def test_received_time_series_are_readable_not_writable(am: AssetApi) -> None:
    grid = await am.one("Grid Connection ER", **SHARED)
    url = f"{TS}/{grid['assetId']}/Grid"
    latest = await am.client.get(url, params={"latestValue": "true"}, headers=am.headers)
    assert latest.status_code == 200
    (record,) = latest.json()
    assert {"activePower", "voltage", "frequency"} <= set(record)
    assert 380 < record["voltage"] < 420 and 49.5 < record["frequency"] < 50.5
    write = await am.client.put(
        url, json=[{"_time": "2024-05-01T11:00:00.000Z", "activePower": 1.0}], headers=am.headers
    )
    assert write.status_code == 403 and "read-only" in write.json()["message"]
    delete = await am.client.delete(
        url, params={"from": "2024-05-01T10:00:00Z", "to": "2024-05-01T11:00:00Z"}, headers=am.headers
    )
    assert delete.status_code == 403


async def test_asset_shared_out_is_marked_sharer_and_stays_writable(am: AssetApi) -> None:
    hall = await am.one("Hall CH1")
    assert hall["sharing"] == {"modes": ["SHARER"]} and hall["tenantId"] == "demo"
    patched = await am.client.patch(
        f"{AM}/assets/{hall['assetId']}",
        json={"description": "Shared with our supplier"},
        headers={**am.headers, "If-Match": str(hall["etag"]), "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200
    assert patched.json()["sharing"] == {"modes": ["SHARER"]}
