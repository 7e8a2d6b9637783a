"""Forwarding through the proxy equals the direct call (issue 13, section 1 and 4), over loopback."""

from __future__ import annotations

import json

import httpx

from tests.proxy.conftest import AM, counters, direct_token, key_headers, wait_for_events
from tui.proxy import KEY_PARAM, ProxyServer
from tui.sim.server import SimServer

TS = "/api/iottimeseries/v3/timeseries"


def _direct(sim: SimServer) -> httpx.Client:
    return httpx.Client(base_url=sim.url, headers={"Authorization": f"Bearer {direct_token(sim.url)}"})


def _via(proxy: ProxyServer) -> httpx.Client:
    return httpx.Client(base_url=proxy.url, headers=key_headers(proxy))


def _unlink(body: bytes, proxy: ProxyServer, sim: SimServer) -> bytes:
    return body.replace(proxy.url.encode(), sim.url.encode())


def test_get_equals_direct_byte_for_byte_apart_from_links(sim: SimServer, proxy: ProxyServer) -> None:
    with _direct(sim) as direct, _via(proxy) as via:
        want = direct.get(f"{AM}/assets/root")
        got = via.get(f"{AM}/assets/root")
    assert got.status_code == want.status_code == 200
    assert got.headers["content-type"] == want.headers["content-type"]
    assert got.headers["etag"] == want.headers["etag"]
    # Links now point at the proxy, and nothing else changed.
    assert sim.url.encode() not in got.content
    assert f'"href":"{proxy.url}{AM}/assets/'.encode() in got.content
    assert _unlink(got.content, proxy, sim) == want.content
    assert int(got.headers["content-length"]) == len(got.content)


def test_paged_hal_listing_equals_direct_and_next_links_work(sim: SimServer, proxy: ProxyServer) -> None:
    """Follow ``_links.next`` through the proxy: every page equals the direct page."""
    with _direct(sim) as direct, _via(proxy) as via:
        url: str | None = f"{proxy.url}{AM}/assets?size=40&sort=name,asc"
        pages = 0
        names: list[str] = []
        while url:
            got = via.get(url)
            assert got.status_code == 200
            assert url.startswith(proxy.url)  # the next link came back rewritten
            want = direct.get(url.replace(proxy.url, sim.url))
            assert _unlink(got.content, proxy, sim) == want.content
            body = got.json()
            names += [a["name"] for a in body.get("_embedded", {}).get("assets", [])]
            url = body["_links"].get("next", {}).get("href")
            pages += 1
        total = direct.get(f"{AM}/assets?size=1").json()["page"]["totalElements"]
    assert pages == -(-total // 40) and pages > 3
    assert len(names) == total


def _motor(direct: httpx.Client) -> str:
    flt = json.dumps({"typeId": {"startsWith": "demo.Motor"}})
    return direct.get(f"{AM}/assets", params={"size": 1, "filter": flt}).json()["_embedded"]["assets"][0][
        "assetId"
    ]


def test_time_series_link_header_paging_through_the_proxy(sim: SimServer, proxy: ProxyServer) -> None:
    with _direct(sim) as direct, _via(proxy) as via:
        asset = _motor(direct)
        params = {"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T01:00:00Z", "limit": "100"}
        got = via.get(f"{TS}/{asset}/MotorData", params=params)
        want = direct.get(f"{TS}/{asset}/MotorData", params=params)
        assert got.status_code == 200
        assert got.content == want.content  # no links in the body: byte for byte
        assert got.links["next"]["url"].startswith(f"{proxy.url}{TS}/{asset}/MotorData?")
        assert got.links["next"]["url"].replace(proxy.url, sim.url) == want.links["next"]["url"]
        records = 0
        url: str | None = got.links["next"]["url"]
        records += len(got.json())
        while url:
            page = via.get(url)
            assert page.status_code == 200
            records += len(page.json())
            url = page.links.get("next", {}).get("url")
    assert records == 360  # one hour of 10 s samples, in pages of 100


def test_key_in_query_is_not_forwarded_and_links_carry_it(sim: SimServer, proxy: ProxyServer) -> None:
    """A tool that cannot set headers uses the query parameter, and can follow the rewritten links."""
    assert proxy.access_key
    with httpx.Client() as plain:
        got = plain.get(f"{proxy.url}{AM}/assets", params={"size": 5, KEY_PARAM: proxy.access_key})
        assert got.status_code == 200
        next_url = got.json()["_links"]["next"]["href"]
        assert next_url.startswith(proxy.url) and f"{KEY_PARAM}={proxy.access_key}" in next_url
        assert plain.get(next_url).status_code == 200
    # The gateway saw the query without the key (its own self link shows what it received).
    self_href = got.json()["_links"]["self"]["href"]
    assert self_href.count(KEY_PARAM) == 1  # only the one the proxy added back for the client
    event = wait_for_events(proxy, 1)[0]
    assert KEY_PARAM not in event.query and event.query == "size=5"


def test_error_bodies_pass_unchanged(sim: SimServer, proxy: ProxyServer) -> None:
    with _direct(sim) as direct, _via(proxy) as via:
        missing = f"{AM}/assets/{'0' * 32}"
        want = direct.get(missing)
        got = via.get(missing)
        assert got.status_code == want.status_code == 404
        # logref differs per call: compare the shape and message
        assert got.json()["errors"][0]["message"] == want.json()["errors"][0]["message"]
        bad = via.get(f"{TS}/{'0' * 32}/MotorData", params={"from": "not-a-time"})
        assert bad.status_code in (400, 404)
        assert bad.headers.get("x-ihub-proxy-error") is None  # the gateway's answer, not the proxy's


def test_write_through_a_read_write_proxy(sim: SimServer, proxy: ProxyServer) -> None:
    """Method, body and conditional headers pass: create, update with If-Match, delete."""
    with _via(proxy) as via:
        root = via.get(f"{AM}/assets/root").json()
        created = via.post(
            f"{AM}/assets",
            json={"name": "Proxy test", "typeId": "demo.Folder", "parentId": root["assetId"]},
        )
        assert created.status_code == 201, created.text
        asset = created.json()
        assert created.headers["location"].startswith(proxy.url)
        patched = via.patch(
            f"{AM}/assets/{asset['assetId']}",
            content=json.dumps({"description": "via the proxy"}),
            headers={"Content-Type": "application/merge-patch+json", "If-Match": str(asset["etag"])},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["description"] == "via the proxy"
        stale = via.delete(f"{AM}/assets/{asset['assetId']}", headers={"If-Match": str(asset["etag"])})
        assert stale.status_code == 412
        gone = via.delete(
            f"{AM}/assets/{asset['assetId']}", headers={"If-Match": str(patched.json()["etag"])}
        )
        assert gone.status_code == 204
    assert counters(sim)["requests"] >= 5


def test_events_and_counters(sim: SimServer, proxy: ProxyServer) -> None:
    with _via(proxy) as via:
        via.get(f"{AM}/assets/root")
        via.get(f"{AM}/assets", params={"size": 3})
    with httpx.Client() as plain:
        plain.get(f"{proxy.url}{AM}/assets/root")
    events = wait_for_events(proxy, 3)
    assert [(e.method, e.path, e.status, e.forwarded) for e in events] == [
        ("GET", f"{AM}/assets/root", 200, True),
        ("GET", f"{AM}/assets", 200, True),
        ("GET", f"{AM}/assets/root", 401, False),
    ]
    assert events[1].query == "size=3" and events[1].bytes_sent > 1000
    assert all(e.duration_ms > 0 for e in events)
    assert events[2].refused == "access-key"
    stats = proxy.stats
    assert (stats.requests, stats.forwarded, stats.refused, stats.in_flight) == (3, 2, 1, 0)
    assert stats.bytes_sent == sum(e.bytes_sent for e in events)
