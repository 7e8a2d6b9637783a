"""Event Management v3 and IoT File v3 in the simulator: the read-only listings `mc asset-info` and
`mc events` call. The tenant records no events and stores no files: empty answers with correct paging,
the parameters mc sends accepted, bad ones refused, a token with the right scope required."""

from __future__ import annotations

import json

import httpx
from starlette.applications import Starlette

from tests.sim.conftest import BASE_URL, fetch_token
from tui.sim.app import create_app
from tui.sim.config import SimClient, SimConfig
from tui.sim.transport import sim_transport

EVENTS = "/api/eventmanagement/v3/events"
FILES = "/api/iotfile/v3/files"
PUMP = "ff0d65e90c1000b7343ac254a953c927"  # Pump ER-1104 of the demo plant


async def test_events_page_of_an_asset_is_empty_with_page_metadata(
    raw_client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    # What `mc asset-info` sends (SDK EventManagementClient.GetEvents).
    params = {"sort": "timestamp,desc", "filter": json.dumps({"entityId": PUMP})}
    response = await raw_client.get(EVENTS, params=params, headers=auth_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "_embedded" not in body  # an empty page carries no _embedded (reference 7)
    assert body["page"] == {"size": 20, "totalElements": 0, "totalPages": 0, "number": 0}
    assert set(body["_links"]) == {"self", "first", "last"}
    assert body["_links"]["self"]["href"].startswith(f"{BASE_URL}{EVENTS}?")


async def test_events_accepts_what_mc_events_list_sends(
    raw_client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    # `mc events --mode list`: page, size=100, a filter, the sort and includeShared.
    filter_ = {"entityId": PUMP, "timestamp": {"after": "2025-06-01T00:00:00Z"}, "severity": 20}
    params = {
        "page": "2",
        "size": "100",
        "filter": json.dumps(filter_),
        "sort": "timestamp,desc",
        "includeShared": "true",
        "history": "false",
    }
    response = await raw_client.get(EVENTS, params=params, headers=auth_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["page"] == {"size": 100, "totalElements": 0, "totalPages": 0, "number": 2}
    assert "prev" in body["_links"] and "next" not in body["_links"]
    big = await raw_client.get(EVENTS, params={"size": "5000"}, headers=auth_headers)
    assert big.json()["page"]["size"] == 500  # the documented maximum


async def test_events_refuses_bad_parameters(
    raw_client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    for params, words in (
        ({"filter": "{not json"}, "not valid JSON"),
        ({"filter": json.dumps({"timestamp": {"sometime": "x"}})}, "operator 'sometime'"),
        ({"sort": "colour,asc"}, "Cannot sort by 'colour'"),
        ({"sort": "timestamp,up"}, "sort direction"),
        ({"size": "0"}, "'size'"),
        ({"size": "ten"}, "'size'"),
        ({"page": "-1"}, "'page'"),
        ({"history": "maybe"}, "'history'"),
    ):
        response = await raw_client.get(EVENTS, params=params, headers=auth_headers)
        assert response.status_code == 400, params
        (error,) = response.json()["errors"]
        assert error["code"] == "mdsp.core.eventmanagement.badRequest" and words in error["message"], error


def _app_with(scopes: tuple[str, ...]) -> Starlette:
    return create_app(SimConfig(clients=[SimClient("narrow-client", "FAKE-narrow-secret", scopes)]))


async def test_events_and_files_need_a_token_with_their_scope() -> None:
    app = _app_with(("mdsp:core:assetmanagement.read", "iot.tim.r"))
    async with httpx.AsyncClient(transport=sim_transport(app), base_url=BASE_URL) as client:
        assert (await client.get(EVENTS)).status_code == 401
        assert (await client.get(f"{FILES}/{PUMP}")).status_code == 401
        token = await fetch_token(client, "narrow-client", "FAKE-narrow-secret")
        headers = {"Authorization": f"Bearer {token}"}
        events = await client.get(EVENTS, headers=headers)
        assert events.status_code == 403 and "mdsp:core:em.read" in events.json()["errors"][0]["message"]
        files = await client.get(f"{FILES}/{PUMP}", headers=headers)
        assert files.status_code == 403 and "iot.fil.r" in files.json()["errors"][0]["message"]


async def test_events_and_files_readable_with_the_read_only_demo_client(
    raw_client: httpx.AsyncClient, readonly_headers: dict[str, str]
) -> None:
    assert (await raw_client.get(EVENTS, headers=readonly_headers)).status_code == 200
    assert (await raw_client.get(f"{FILES}/{PUMP}", headers=readonly_headers)).status_code == 200


async def test_files_of_an_asset_are_an_empty_list(
    raw_client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    # What `mc asset-info` sends (SDK IotFileClient.GetFiles).
    response = await raw_client.get(f"{FILES}/{PUMP}", params={"order": "updated desc"}, headers=auth_headers)
    assert response.status_code == 200, response.text
    assert response.json() == []
    params = {"offset": "0", "limit": "10", "count": "true", "order": "name", "filter": "name eq 'x*'"}
    assert (await raw_client.get(f"{FILES}/{PUMP}", params=params, headers=auth_headers)).json() == []


async def test_files_refuse_unknown_assets_and_bad_parameters(
    raw_client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    unknown = await raw_client.get(f"{FILES}/{'0' * 32}", headers=auth_headers)
    assert unknown.status_code == 404 and "not found" in unknown.json()["errors"][0]["message"]
    for params in ({"offset": "-1"}, {"offset": "10001"}, {"limit": "x"}, {"count": "2"}, {"order": "size"}):
        response = await raw_client.get(f"{FILES}/{PUMP}", params=params, headers=auth_headers)
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["code"] == "mdsp.core.iotfile.badRequest"
