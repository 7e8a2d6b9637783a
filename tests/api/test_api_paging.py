"""HAL paging (concurrency, clamping, empty pages, growth) and Link paging (relative, absolute, foreign)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.api.conftest import GATEWAY, hal
from tui.api.errors import ResponseFormatError

ASSETS = "/api/assetmanagement/v3/assets"


def assets(n: int) -> list[dict]:
    return [{"assetId": f"{i:032x}", "name": f"A{i:05d}", "etag": i} for i in range(n)]


class HalServer:
    """Serves ``items`` as HAL pages, clamping size to ``max_size``; tracks concurrency."""

    def __init__(self, items: list[dict], max_size: int = 2000, key: str = "assets") -> None:
        self.items = items
        self.max_size = max_size
        self.key = key
        self.in_flight = 0
        self.max_in_flight = 0
        self.pages: list[int] = []
        self.sizes: list[int] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            page = int(request.url.params.get("page", 0))
            size = min(int(request.url.params.get("size", 10)), self.max_size)
            self.pages.append(page)
            self.sizes.append(int(request.url.params.get("size", 10)))
            chunk = self.items[page * size : (page + 1) * size]
            return httpx.Response(200, json=hal(self.key, chunk, page, size, len(self.items)))
        finally:
            self.in_flight -= 1


async def test_every_item_once_in_order_with_bounded_concurrency(mock_api) -> None:
    server = HalServer(assets(2345))
    api, _ = mock_api(server, page_concurrency=4)
    got = [a async for a in api.paginate_hal(ASSETS, "assets", {"sort": "name,asc"})]
    assert [a["assetId"] for a in got] == [a["assetId"] for a in server.items]
    assert sorted(server.pages) == list(range(12))
    assert 1 < server.max_in_flight <= 4
    assert set(server.sizes) == {200}


async def test_page_size_capped_at_200_and_clamping_server(mock_api) -> None:
    server = HalServer(assets(1050), max_size=100)
    api, _ = mock_api(server)
    got = [a async for a in api.paginate_hal(ASSETS, "assets", page_size=5000)]
    assert len(got) == 1050 and len({a["assetId"] for a in got}) == 1050
    assert set(server.sizes) == {200}  # never more than 200 requested
    assert sorted(server.pages) == list(range(11))  # paged by the returned size (100)


async def test_missing_embedded_is_an_empty_page(mock_api) -> None:
    api, _ = mock_api(
        lambda r: httpx.Response(
            200, json={"page": {"size": 200, "totalElements": 0, "totalPages": 0, "number": 0}}
        )
    )
    assert [a async for a in api.paginate_hal(ASSETS, "assets")] == []
    api2, _ = mock_api(lambda r: httpx.Response(200, json={}))
    assert [a async for a in api2.paginate_hal(ASSETS, "assets")] == []


async def test_spring_content_page_variant(mock_api) -> None:
    items = assets(3)
    api, _ = mock_api(
        lambda r: httpx.Response(
            200, json={"content": items, "totalElements": 3, "totalPages": 1, "number": 0, "size": 200}
        )
    )
    got = [a async for a in api.paginate_hal("/api/mindconnectmqtt/v3/caCertificates", "caCertificates")]
    assert got == items


async def test_listing_that_grows_while_paging(mock_api) -> None:
    items = assets(450)

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        if page == 1:
            # 150 items were inserted at the front after page 0 was read
            items[:0] = [{"assetId": f"f{i:031x}", "name": "new"} for i in range(150)]
        chunk = items[page * 200 : (page + 1) * 200]
        return httpx.Response(200, json=hal("assets", chunk, page, 200, len(items)))

    api, _ = mock_api(handler, page_concurrency=1)
    got = [a async for a in api.paginate_hal(ASSETS, "assets")]
    ids = [a["assetId"] for a in got]
    assert len(ids) == len(set(ids))  # nothing twice
    original = {f"{i:032x}" for i in range(450)}
    assert original <= set(ids)  # every original item still seen: the extra page was fetched


async def test_no_page_object_reads_until_short_page(mock_api) -> None:
    items = assets(450)

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"_embedded": {"assets": items[page * 200 : (page + 1) * 200]}})

    api, _ = mock_api(handler)
    assert len([a async for a in api.paginate_hal(ASSETS, "assets")]) == 450


async def test_error_during_concurrent_paging_propagates(mock_api) -> None:
    server = HalServer(assets(1000))

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "3":
            return httpx.Response(404, json={"errors": [{"message": "gone"}]})
        return await server(request)

    api, _ = mock_api(handler)
    with pytest.raises(Exception, match="gone"):
        [a async for a in api.paginate_hal(ASSETS, "assets")]


async def test_a_slow_page_does_not_hold_back_the_requests_behind_it(mock_api) -> None:
    """While page 1's answer is awaited, the other request slots keep reading the pages after it (up to
    the read-ahead window), never more than ``concurrency`` at once; the pages still come in order."""
    from tui.api.client import PAGE_WINDOW_FACTOR

    server = HalServer(assets(200 * 40))
    slow_page_answers = asyncio.Event()

    window = 4 * PAGE_WINDOW_FACTOR
    window_read = asyncio.Event()  # every page of the window but the slow one answered

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "1":
            await slow_page_answers.wait()
        response = await server(request)
        if len(server.pages) >= window - 1:
            window_read.set()
        return response

    api, _ = mock_api(handler, page_concurrency=4)
    got: list[str] = []

    async def read() -> None:
        async for items in api.paginate_hal_pages(ASSETS, "assets", {"sort": "name,asc"}):
            got.extend(a["assetId"] for a in items)

    reader = asyncio.create_task(read())
    await asyncio.wait_for(window_read.wait(), 5)
    await asyncio.sleep(0.02)
    assert sorted(server.pages) == [0, *range(2, window + 1)]  # nothing beyond the window meanwhile
    assert len(server.pages) > 2 * 4  # far more than the slots: they did not wait for page 1
    assert len(got) == 200  # page 0 only: the rest waits for page 1, in order
    slow_page_answers.set()
    await asyncio.wait_for(reader, 5)
    assert got == [a["assetId"] for a in server.items]
    assert server.max_in_flight <= 4


async def test_record_pages_pass_each_asset_on_as_its_typed_model_encodes() -> None:
    """``record_pages`` (``ihub assets ls -o json``) gives, for every asset of the demo tenant, the JSON
    object the typed ``Asset`` encodes to (the same fields, names and defaults), without ``_links``."""
    from tests.api.conftest import SIM_GATEWAY
    from tui.api.auth import Credentials, CredentialStyle
    from tui.api.client import ApiClient, ConnectionConfig
    from tui.api.decode import encode
    from tui.sim.app import create_app
    from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
    from tui.sim.transport import sim_transport

    cred = Credentials(
        CredentialStyle.CLIENT_CREDENTIALS, SIM_GATEWAY + "/oauth/token", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )
    config = ConnectionConfig(SIM_GATEWAY, cred)
    async with ApiClient(config, transport=sim_transport(create_app(SimConfig(assets=600)))) as api:
        typed = [a for page in [p async for p in api.assets.list_pages()] for a in page]
        records = [r for page in [p async for p in api.assets.record_pages()] for r in page]
        first, total = await api.assets.record_page(0, 50)
    assert len(records) == len(typed) == total > 600
    assert [json.loads(encode(r)) for r in records] == [json.loads(encode(a)) for a in typed]
    assert "_links" not in json.loads(encode(records[0]))
    assert [json.loads(encode(r)) for r in first] == [json.loads(encode(a)) for a in typed[:50]]


async def test_records_keep_what_the_service_sent_and_defaults_for_what_it_left_out(mock_api) -> None:
    items = [
        {
            "assetId": "a" * 32,
            "name": "Pump",
            "location": {"country": "Neverland", "extra": 1},
            "_links": {"self": {"href": "x"}},
        },
        {"assetId": "b" * 32},
    ]
    api, _ = mock_api(HalServer(items))
    from tui.api.decode import encode

    [page] = [p async for p in api.assets.record_pages()]
    first, second = (json.loads(encode(r)) for r in page)
    assert first["location"] == {"country": "Neverland", "extra": 1}  # passed on as sent
    assert "_links" not in first
    assert second["name"] == "" and second["aspects"] == [] and second["parentId"] is None


async def test_a_record_without_asset_id_is_a_format_error(mock_api) -> None:
    api, _ = mock_api(HalServer([{"name": "no id"}]))
    with pytest.raises(ResponseFormatError, match="asset listing"):
        [p async for p in api.assets.record_pages()]


# -- Link paging ------------------------------------------------------------------------------------

TS = "/api/iottimeseries/v3/timeseries/" + "a" * 32 + "/env"


def link_server(total: int, limit: int, next_style: str):
    records = [{"_time": f"2024-03-01T00:{i // 60:02d}:{i % 60:02d}.000Z", "v": i} for i in range(total)]

    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("from", "-1"))
        page = [r for r in records if r["v"] > start][:limit]
        headers = {}
        if page and page[-1]["v"] < total - 1:
            query = f"from={page[-1]['v']}&limit={limit}"
            if next_style == "absolute":
                headers["Link"] = f'<{GATEWAY}{TS}?{query}>; rel="next"'
            elif next_style == "relative":
                headers["Link"] = f'<{TS}?{query}>; rel="next"'
            else:
                headers["Link"] = f'<{next_style}{TS}?{query}>; rel="next"'
        return httpx.Response(200, json=page, headers=headers)

    return handler


@pytest.mark.parametrize("style", ["absolute", "relative"])
async def test_link_paging(mock_api, style: str) -> None:
    api, gw = mock_api(link_server(250, 100, style))
    got = [r async for r in api.paginate_link(TS, {"limit": 100})]
    assert [r["v"] for r in got] == list(range(250))
    assert len(gw.api_requests) == 3
    assert all(r.url.host == "gateway.eu1.example.test" for r in gw.api_requests)


@pytest.mark.parametrize(
    "foreign",
    ["https://evil.example.test", "http://gateway.eu1.example.test", "https://gateway.eu1.example.test:8443"],
)
async def test_link_to_another_origin_is_refused(mock_api, foreign: str) -> None:
    api, gw = mock_api(link_server(250, 100, foreign))
    with pytest.raises(ResponseFormatError, match="another host"):
        [r async for r in api.paginate_link(TS, {"limit": 100})]
    assert len(gw.api_requests) == 1  # the token never went to the other host


async def test_link_loop_is_detected(mock_api) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json=[{"_time": "2024-01-01T00:00:00.000Z"}], headers={"Link": f'<{TS}?from=1>; rel="next"'}
        )

    api, _ = mock_api(handler)
    with pytest.raises(ResponseFormatError, match="repeats"):
        [r async for r in api.paginate_link(TS, {"from": "0"})]


async def test_link_body_must_be_an_array(mock_api) -> None:
    api, _ = mock_api(
        lambda r: httpx.Response(
            200, content=json.dumps({"x": 1}), headers={"content-type": "application/json"}
        )
    )
    with pytest.raises(ResponseFormatError, match="JSON array"):
        [r async for r in api.paginate_link(TS)]


def test_unique_drops_ids_seen_before_or_twice_in_a_page_and_keeps_items_without_id() -> None:
    from tui.api.client import _unique

    seen: set[str] = set()
    page = [{"id": "a"}, {"id": "b"}]
    assert _unique(page, seen, lambda i: i.get("id")) == page and seen == {"a", "b"}
    twice = [{"id": "c"}, {"id": "d"}, {"id": "c", "n": 2}]
    assert _unique(twice, seen, lambda i: i.get("id")) == [{"id": "c"}, {"id": "d"}]
    again = [{"id": "b"}, {"id": "e"}, {}, {}]
    assert _unique(again, seen, lambda i: i.get("id")) == [{"id": "e"}, {}, {}]
    assert seen == {"a", "b", "c", "d", "e"}


@pytest.mark.parametrize(
    "sent",
    [
        {"etag": "5"},  # the SDK types etag as a string (reference 2.4): Asset gives the number
        {"etag": 'W/"7"'},
        {"etag": "v-3"},
        {"etag": 3.0},
        {"t2Tenant": "plant-a"},  # deprecated: Asset's subTenant falls back to it
        {"t2Tenant": "plant-a", "subTenant": "plant-b"},
        {"name": "Pumpe Süd ☃", "description": "\u00e9t\u00e9"},
    ],
)
async def test_a_record_encodes_to_what_its_asset_encodes_to(mock_api, sent: dict) -> None:
    from tui.api.decode import encode

    items = [{"assetId": "a" * 32, **sent}]
    api, _ = mock_api(HalServer(items))
    [typed] = [p async for p in api.assets.list_pages()]
    [records] = [p async for p in api.assets.record_pages()]
    assert json.loads(encode(records)) == json.loads(encode(typed))


async def test_a_record_with_an_empty_asset_id_is_a_format_error_as_for_an_asset(mock_api) -> None:
    api, _ = mock_api(HalServer([{"assetId": "", "name": "no id"}]))
    with pytest.raises(ResponseFormatError, match="without assetId"):
        [p async for p in api.assets.list_pages()]
    with pytest.raises(ResponseFormatError, match="without assetId"):
        [p async for p in api.assets.record_pages()]
