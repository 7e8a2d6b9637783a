"""What the services send (paths, headers, bodies, parameters), checked against a MockTransport."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from tests.api.conftest import hal
from tui.api.aggregates import validate_interval
from tui.api.assets import build_filter, name_filter

AID = "9a1b2c3d4e5f60718293a4b5c6d7e8f9"
PID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def echo_asset(request: httpx.Request) -> httpx.Response:
    status = {"POST": 201, "DELETE": 204}.get(request.method, 200)
    if status == 204:
        return httpx.Response(204)
    return httpx.Response(status, json={"assetId": AID, "name": "n", "etag": 5})


def test_filters() -> None:
    assert build_filter(parentId=PID) == f'{{"parentId":"{PID}"}}'
    assert build_filter() is None
    assert json.loads(name_filter("Pump", "demo.Pump")) == {
        "and": {"name": {"contains": "Pump"}, "typeId": {"contains": "demo.Pump"}}
    }
    assert json.loads(name_filter("Pump")) == {"name": {"contains": "Pump"}}


async def test_asset_writes_send_if_match_and_content_types(mock_api) -> None:
    api, gw = mock_api(echo_asset)
    await api.assets.update(AID, 4, {"name": "x"})
    await api.assets.patch(AID, "4", {"description": "d"})
    await api.assets.delete(AID, 5)
    await api.assets.move(AID, PID, 5)
    created = await api.assets.create("New", "demo.Pump", PID, description="d")
    put, patch, delete, move, post = gw.api_requests
    assert put.method == "PUT" and put.headers["if-match"] == "4" and json.loads(put.content) == {"name": "x"}
    assert (
        patch.headers["content-type"] == "application/merge-patch+json" and patch.headers["if-match"] == "4"
    )
    assert delete.method == "DELETE" and delete.headers["if-match"] == "5"
    assert move.url.path == f"/api/assetmanagement/v3/assets/{AID}/move"
    assert json.loads(move.content) == {"newParentId": PID}
    assert json.loads(post.content) == {
        "name": "New",
        "typeId": "demo.Pump",
        "parentId": PID,
        "description": "d",
    }
    assert created.etag == 5


async def test_create_accepts_200_and_delete_accepts_200(mock_api) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"assetId": AID, "name": "n"})

    api, _ = mock_api(handler)
    assert (await api.assets.create("n", "t.T", PID)).asset_id == AID
    await api.assets.delete(AID, 1)


async def test_children_listing_params(mock_api) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=hal("assets", [{"assetId": AID, "name": "c"}], 0, 200, 1))

    api, gw = mock_api(handler)
    kids = [a async for a in api.assets.children(PID)]
    assert [k.asset_id for k in kids] == [AID]
    params = gw.api_requests[0].url.params
    assert json.loads(params["filter"]) == {"parentId": PID}
    assert params["sort"] == "name,asc" and params["size"] == "200" and params["page"] == "0"
    items, total = await api.assets.page(2, 25, filter={"name": "x"})
    assert total == 1
    assert gw.api_requests[1].url.params["page"] == "2" and gw.api_requests[1].url.params["size"] == "25"


async def test_timeseries_params_and_write(mock_api) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(204)
        if request.method == "DELETE":
            return httpx.Response(200)
        return httpx.Response(200, json=[{"_time": "2024-03-01T10:00:00.000Z", "t": 1}])

    api, gw = mock_api(handler)
    frm = datetime(2024, 3, 1, tzinfo=UTC)
    to = datetime(2024, 3, 2, tzinfo=UTC)
    records = await api.timeseries.read(AID, "env", frm, to, limit=5000, select=["t", "p"], sort="asc")
    assert records == [{"_time": "2024-03-01T10:00:00.000Z", "t": 1}]
    params = gw.api_requests[0].url.params
    assert params["from"] == "2024-03-01T00:00:00.000Z" and params["to"] == "2024-03-02T00:00:00.000Z"
    assert params["limit"] == "2000" and params["select"] == "t,p" and params["sort"] == "asc"
    assert gw.api_requests[0].url.path == f"/api/iottimeseries/v3/timeseries/{AID}/env"
    n = await api.timeseries.write(AID, "env", [{"_time": datetime(2024, 3, 1, 10, tzinfo=UTC), "t": 2}])
    assert n == 1 and json.loads(gw.api_requests[1].content) == [
        {"_time": "2024-03-01T10:00:00.000Z", "t": 2}
    ]
    await api.timeseries.delete(AID, "env", frm, to)
    assert (
        gw.api_requests[2].method == "DELETE"
        and gw.api_requests[2].url.params["to"] == "2024-03-02T00:00:00.000Z"
    )
    with pytest.raises(ValueError):
        await api.timeseries.read(AID, "env", to, frm)


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        (3, "minute", "even number"),
        (25, "hour", "1 to 24"),
        (1, "year", "interval unit"),
        (None, "day", "both"),
        (0, "month", "1 to 3"),
    ],
)
async def test_aggregate_interval_checked_before_sending(mock_api, value, unit, message) -> None:
    api, gw = mock_api(lambda r: httpx.Response(200, json={"aggregates": []}))
    with pytest.raises(ValueError, match=message):
        await api.aggregates.get(AID, "env", interval_value=value, interval_unit=unit)
    assert gw.api_requests == []


async def test_aggregates_request(mock_api) -> None:
    body = {
        "aggregates": [
            {
                "starttime": "2024-03-01T00:00:00Z",
                "endtime": "2024-03-01T01:00:00Z",
                "t": {"countgood": 60, "average": 1.5},
            }
        ]
    }
    api, gw = mock_api(lambda r: httpx.Response(200, json=body))
    result = await api.aggregates.get(
        AID,
        "env",
        datetime(2024, 3, 1, tzinfo=UTC),
        datetime(2024, 3, 2, tzinfo=UTC),
        1,
        "HOUR",
        select=["t"],
    )
    assert result[0].variables["t"].average == 1.5
    params = gw.api_requests[0].url.params
    assert params["intervalUnit"] == "hour" and params["intervalValue"] == "1" and params["assetId"] == AID
    assert params["aspectName"] == "env" and params["select"] == "t"
    assert validate_interval(60, "minute") == (60, "minute")


async def test_mqtt_requests(mock_api) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/registrationCode"):
            return httpx.Response(200, json={"registrationCode": "ab" * 32})
        if request.method == "DELETE":
            return httpx.Response(204)
        if path.endswith("/agentCertificates"):
            return httpx.Response(
                201,
                json={"id": "01G", "name": "d1", "credentials": {"certificatePem": "C", "privateKey": "K"}},
            )
        return httpx.Response(201, json={"id": "c" * 32, "name": "ca", "status": "NOT_VERIFIED", "etag": 0})

    api, gw = mock_api(handler)
    ca = await api.mqtt.upload_ca("ca", "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n", "desc")
    assert ca.status == "NOT_VERIFIED"
    assert await api.mqtt.registration_code(ca.id) == "ab" * 32
    await api.mqtt.delete_ca(ca.id, ca.etag)
    cert = await api.mqtt.create_agent_cert("d1", owner="me@example.test")
    assert cert.private_key == "K"
    upload, code, delete, agent = gw.api_requests
    assert upload.url.path == "/api/mindconnectmqtt/v3/caCertificates"
    assert json.loads(upload.content)["caCertificate"].startswith("-----BEGIN CERTIFICATE-----\nX")
    assert delete.headers["if-match"] == "0"
    assert json.loads(agent.content) == {"name": "d1", "owner": "me@example.test"}
    with pytest.raises(ValueError):
        await api.mqtt.create_agent_cert("bad name!")
    with pytest.raises(ValueError):
        await api.mqtt.upload_ca("x", "not a pem")
