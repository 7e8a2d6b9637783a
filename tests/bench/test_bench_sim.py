"""Benchmarks of the simulator alone (`make bench`): figures and ratios printed, no timed assertion.

Requests go straight into the ASGI app (no HTTP client, no socket, no JSON decoding on the calling side),
so the figures are the simulator's own cost per page: what it adds to every client benchmark that shares
the machine's cores with it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from typing import Any
from urllib.parse import urlencode

import msgspec
import pytest

from tui.sim.app import create_app
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig

AM = "/api/assetmanagement/v3"
NOW = 1714564800.0  # 2024-05-01T12:00:00Z


def _report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    for name, value in rows:
        print(f"   {name:<52} {value}")


async def _call(app: Any, method: str, path: str, query: dict[str, str], headers: list) -> tuple[int, bytes]:
    """One request through the app's ASGI interface; (status, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(query).encode(),
        "root_path": "",
        "headers": headers,
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 50000),
    }
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


@pytest.fixture(scope="module")
def big_app() -> tuple[Any, list]:
    app = create_app(SimConfig(assets=100_000, clock=lambda: NOW))
    form = urlencode({"grant_type": "client_credentials"}).encode()

    async def token() -> str:
        import base64

        basic = base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
        sent = False
        body: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": form, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/oauth/token",
            "raw_path": b"/oauth/token",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8080"),
                (b"authorization", f"Basic {basic}".encode()),
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", str(len(form)).encode()),
            ],
            "server": ("127.0.0.1", 8080),
            "client": ("127.0.0.1", 50000),
        }
        await app(scope, receive, send)
        return json.loads(b"".join(body))["access_token"]

    access = asyncio.run(token())
    headers = [(b"host", b"127.0.0.1:8080"), (b"authorization", f"Bearer {access}".encode())]
    return app, headers


def _list_pages(app: Any, headers: list, size: int, extra: dict[str, str]) -> tuple[int, int, int, float]:
    """Every page of a listing, sequentially; (pages, assets, bytes, seconds)."""

    async def run() -> tuple[int, int, int, float]:
        query = {"size": str(size), "sort": "name,asc", **extra}
        status, body = await _call(app, "GET", f"{AM}/assets", {**query, "page": "0"}, headers)
        assert status == 200
        total_pages = json.loads(body)["page"]["totalPages"]
        count = size_bytes = 0
        gc.collect()
        t0 = time.perf_counter()
        for page in range(total_pages):
            status, body = await _call(app, "GET", f"{AM}/assets", {**query, "page": str(page)}, headers)
            assert status == 200
            size_bytes += len(body)
            count += body.count(b'"hierarchyPath"')
        return total_pages, count, size_bytes, time.perf_counter() - t0

    return asyncio.run(run())


def test_bench_sim_asset_pages(big_app: tuple[Any, list]) -> None:
    """Asset pages of a 100 000-asset tenant: pages/s of the simulator alone."""
    app, headers = big_app
    total = sum(1 for a in app.state.tenant.assets.values() if a.deleted is None and not a.shared)
    rows = []
    for label, size, extra in (
        ("all assets, 200 per page, first pass", 200, {}),
        ("all assets, 200 per page, again", 200, {}),
        ("all assets, 100 per page (as mc list-assets)", 100, {}),
    ):
        pages, count, size_bytes, elapsed = _list_pages(app, headers, size, extra)
        assert count == total
        rows.append(
            (
                label,
                f"{pages} pages in {elapsed:.2f} s: {pages / elapsed:,.0f} pages/s, "
                f"{count / elapsed:,.0f} assets/s, {size_bytes / elapsed / 2**20:,.0f} MiB/s",
            )
        )
    wide = next(a for a in app.state.tenant.assets.values() if a.name == "Wide")
    pages, count, _bytes, elapsed = _list_pages(
        app, headers, 200, {"filter": json.dumps({"parentId": wide.assetId})}
    )
    assert count == len(app.state.tenant.children[wide.assetId])
    rows.append((f"children of the {count:,}-children node, 200 per page", f"{pages / elapsed:,.0f} pages/s"))

    async def floor() -> float:
        t0 = time.perf_counter()
        for _ in range(500):
            status, _body = await _call(app, "GET", f"{AM}/", {}, headers)
            assert status == 200
        return (time.perf_counter() - t0) / 500

    per_request = asyncio.run(floor())
    rows.append(("fixed cost of one request (billboard)", f"{per_request * 1000:.2f} ms"))

    # The encoder against the standard library's on the same page content.
    status, body = asyncio.run(_call(app, "GET", f"{AM}/assets", {"size": "200", "page": "7"}, headers))
    content = json.loads(body)
    t0 = time.perf_counter()
    for _ in range(50):
        json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    std = (time.perf_counter() - t0) / 50
    t0 = time.perf_counter()
    for _ in range(50):
        msgspec.json.encode(content)
    fast = (time.perf_counter() - t0) / 50
    rows.append(
        (
            "encode one page of 200: json.dumps / msgspec",
            f"{std * 1000:.2f} ms / {fast * 1000:.2f} ms, x{std / fast:.1f}",
        )
    )
    _report(f"simulator alone: asset pages ({total:,} assets, in-process ASGI, no client)", rows)


def test_bench_sim_one_hertz_raw(big_app: tuple[Any, list]) -> None:
    """A day of the 1 Hz Vibration aspect (86 400 records) in Link pages of 2000, and its aggregates."""
    app, headers = big_app
    pump = next(a for a in app.state.tenant.assets.values() if a.name == "Pump ER-1104")
    path = f"/api/iottimeseries/v3/timeseries/{pump.assetId}/Vibration"
    end = "2024-05-01T00:00:00.000Z"

    async def run() -> tuple[int, int, float]:
        query = {"from": "2024-04-30T00:00:00.000Z", "to": end}
        records = pages = 0
        t0 = time.perf_counter()
        while True:
            status, body = await _call(app, "GET", path, query, headers)
            assert status == 200
            batch = msgspec.json.decode(body)
            records += len(batch)
            pages += 1
            if len(batch) < 2000:
                return records, pages, time.perf_counter() - t0
            query = {"from": batch[-1]["_time"], "to": end}

    records, pages, elapsed = asyncio.run(run())
    assert records > 80_000

    async def aggregates(unit: str, value: str, start: str) -> tuple[int, float]:
        query = {
            "assetId": pump.assetId,
            "aspectName": "Vibration",
            "from": start,
            "to": end,
            "intervalUnit": unit,
            "intervalValue": value,
        }
        t0 = time.perf_counter()
        status, body = await _call(app, "GET", "/api/iottsaggregates/v4/aggregates", query, headers)
        assert status == 200
        return len(json.loads(body)["aggregates"]), time.perf_counter() - t0

    rows = [
        (
            "raw day, 2000 per page",
            f"{records:,} records, {pages} pages in {elapsed:.2f} s: {pages / elapsed:,.0f} pages/s, "
            f"{records / elapsed:,.0f} records/s",
        )
    ]
    for label, unit, value, start in (
        ("aggregates 24 h in 2-minute intervals", "minute", "2", "2024-04-30T00:00:00Z"),
        ("aggregates 7 d in 1-hour intervals", "hour", "1", "2024-04-24T00:00:00Z"),
        ("aggregates 30 d in 1-day intervals", "day", "1", "2024-04-01T00:00:00Z"),
    ):
        buckets, seconds = asyncio.run(aggregates(unit, value, start))
        rows.append((label, f"{buckets} buckets in {seconds * 1000:.0f} ms"))
    _report("simulator alone: the 1 Hz aspect (Pump ER-1104 Vibration)", rows)
