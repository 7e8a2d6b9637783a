"""The API layer against the in-process simulator (tui.sim): the contract seen from both sides."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Clock, Sleeps
from tui.api.auth import CredentialStyle
from tui.api.client import ApiClient
from tui.api.errors import (
    ApiError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    ServerError,
    TokenError,
)
from tui.api.models import record_time
from tui.sim.config import (
    DEMO_CLIENT_ID,
    DEMO_READONLY_CLIENT_ID,
    DEMO_READONLY_CLIENT_SECRET,
    SimConfig,
)


def counter(app: Any, name: str) -> int:
    return app.state.tenant.counters.get(name, 0)


async def find_dynamic_aspect(api: ApiClient) -> tuple[str, str]:
    """A pump and its dynamic aspect (PumpData: one record a minute in the demo tenant)."""
    async for asset in api.assets.list({"typeId": "demo.Pump"}):
        for aspect in await api.assets.aspects(asset.asset_id):
            if aspect.is_dynamic and aspect.aspect_type_id == "demo.PumpData":
                return asset.asset_id, aspect.name
    raise AssertionError("no pump with a dynamic aspect in the demo tenant")


# -- auth -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", list(CredentialStyle))
async def test_both_credential_styles(sim, style: CredentialStyle) -> None:
    api, app = sim(style=style)
    root = await api.assets.root()
    assert root.is_root and root.name == "demo" and len(root.asset_id) == 32
    token = api.tokens.token
    assert token is not None and token.tenant == "demo" and token.client_id == DEMO_CLIENT_ID
    assert counter(app, "token_requests") == 1


async def test_wrong_secret_is_a_token_error(sim) -> None:
    api, _ = sim(secret="FAKE-wrong-secret")
    with pytest.raises(TokenError, match="rejected the client id or secret") as info:
        await api.assets.root()
    assert info.value.status == 401 and info.value.logref  # shape 3 with a Correlation-ID


async def test_fifty_concurrent_calls_with_expired_token(sim) -> None:
    clock = Clock(1_750_000_000.0)
    api, app = sim(SimConfig(clock=clock), clock=clock)
    root = await api.assets.root()
    assert counter(app, "token_requests") == 1
    clock.advance(1800)  # expired for both sides
    results = await asyncio.gather(*(api.assets.get(root.asset_id) for _ in range(50)))
    assert {r.asset_id for r in results} == {root.asset_id}
    assert counter(app, "token_requests") == 2
    assert api.tokens.requests == 2


async def test_401_from_server_refreshes_once(sim) -> None:
    client_clock = Clock(1_750_000_000.0)
    server_clock = Clock(1_750_000_000.0)
    api, app = sim(SimConfig(clock=server_clock), clock=client_clock)
    await api.assets.root()
    server_clock.advance(1810)  # the server thinks the token is expired; the client does not yet
    root = await api.assets.root()
    assert root.name == "demo"
    assert counter(app, "token_requests") == 2


async def test_read_only_client_gets_forbidden_on_write(sim) -> None:
    api, _ = sim(client_id=DEMO_READONLY_CLIENT_ID, secret=DEMO_READONLY_CLIENT_SECRET)
    root = await api.assets.root()
    with pytest.raises(ForbiddenError):
        await api.assets.patch(root.asset_id, root.etag or 0, {"description": "nope"})


# -- Asset Management -------------------------------------------------------------------------------


async def test_asset_lifecycle_and_stale_etag(sim) -> None:
    api, _ = sim()
    root = await api.assets.root()
    created = await api.assets.create("ihub-test-folder", "core.basicarea", root.asset_id, description="x")
    assert created.parent_id == root.asset_id and created.etag is not None
    patched = await api.assets.patch(created.asset_id, created.etag, {"description": "patched"})
    assert patched.description == "patched" and patched.etag != created.etag
    with pytest.raises(PreconditionFailedError) as info:
        await api.assets.update(created.asset_id, created.etag, {"name": "stale"})
    assert info.value.status == 412 and info.value.logref
    child = await api.assets.create("ihub-test-child", "core.basicarea", created.asset_id)
    with pytest.raises((ConflictError, BadRequestError)):
        await api.assets.delete(created.asset_id, patched.etag)  # has a child
    moved = await api.assets.move(child.asset_id, root.asset_id, child.etag)
    assert moved is None or moved.parent_id == root.asset_id
    assert (await api.assets.get(child.asset_id)).parent_id == root.asset_id
    current = await api.assets.get(created.asset_id)
    await api.assets.delete(created.asset_id, current.etag)
    with pytest.raises(NotFoundError):
        await api.assets.get("f" * 32)


async def test_error_body_shape_1_from_asset_management(sim) -> None:
    api, _ = sim()
    with pytest.raises(NotFoundError) as info:
        await api.assets.get("0" * 32)
    err = info.value
    assert err.code and err.code.startswith("mdsp.") and err.logref and err.message
    with pytest.raises(BadRequestError):
        [a async for a in api.assets.list('{"name":')]  # bad filter JSON


async def test_children_types_and_variables(sim) -> None:
    api, _ = sim()
    root = await api.assets.root()
    sites = [a async for a in api.assets.children(root.asset_id)]
    assert sites and all(s.parent_id == root.asset_id for s in sites)
    assert [s.name for s in sites] == sorted(s.name for s in sites)
    items, total = await api.assets.page(0, 2, filter={"parentId": root.asset_id})
    assert len(items) == min(2, total) and total == len(sites)
    types = [t async for t in api.assets.asset_types()]
    assert any(t.id == "core.tenant" or t.id.startswith("demo.") for t in types)
    aspect_types = [t async for t in api.assets.aspect_types()]
    pump = next(t for t in aspect_types if t.name == "PumpData")
    assert {v.name for v in (await api.assets.aspect_type(pump.id)).variables} >= {"flow", "pressure"}
    asset_id, aspect = await find_dynamic_aspect(api)
    assert await api.assets.variables(asset_id) is not None
    assert aspect


async def test_hal_paging_10000_assets_each_once(sim) -> None:
    api, app = sim(SimConfig(assets=10000), page_concurrency=4)
    ids = [a.asset_id async for a in api.assets.list(page_size=200)]
    total = await api.assets.count()
    assert total > 10000
    assert len(ids) == total and len(set(ids)) == total
    state = app.state.tenant
    visible = {a.assetId for a in state.assets.values() if a.deleted is None and not a.shared}
    assert set(ids) == visible


async def test_listings_complete_under_faults(sim) -> None:
    faults = ("429", "500", "503", "drop")
    reference_api, _ = sim(SimConfig(assets=1500))
    expected = [a.asset_id async for a in reference_api.assets.list()]
    api, app = sim(SimConfig(assets=1500, fault_rate=0.3, faults=faults), max_retries=12)
    got = [a.asset_id async for a in api.assets.list(page_size=50)]  # many pages: many faults
    assert got == expected  # complete, exact and in order
    asset_id, aspect = await find_dynamic_aspect(api)
    to = datetime.now(UTC).replace(microsecond=0)
    records = await api.timeseries.read(asset_id, aspect, to - timedelta(days=3), to)
    assert len(records) > 2000 and len({r["_time"] for r in records}) == len(records)
    for name in faults:
        assert counter(app, f"faults_{name}") > 0


# -- time series and aggregates ---------------------------------------------------------------------


async def test_link_paging_over_2000_records(sim) -> None:
    api, app = sim()
    asset_id, aspect = await find_dynamic_aspect(api)
    to = datetime.now(UTC).replace(second=0, microsecond=0)
    frm = to - timedelta(days=3)
    before = counter(app, "requests")
    records = await api.timeseries.read(asset_id, aspect, frm, to)
    requests = counter(app, "requests") - before
    times = [record_time(r) for r in records]
    assert len(records) > 2000 and requests >= 2
    assert all(t is not None and frm < t <= to for t in times)
    assert times == sorted(times) and len(set(times)) == len(times)
    limited = await api.timeseries.read(asset_id, aspect, frm, to, limit=2500)
    assert limited == records[:2500]
    streamed = [r async for r in api.timeseries.iter(asset_id, aspect, frm, to, page_limit=500)]
    assert streamed == records


async def test_timeseries_write_read_delete(sim) -> None:
    api, _ = sim()
    asset_id, aspect = await find_dynamic_aspect(api)
    variables = await api.assets.aspects(asset_id)
    dyn = next(a for a in variables if a.name == aspect)
    numeric = next(v.name for v in dyn.variables if v.data_type == "DOUBLE")
    base = datetime(2020, 6, 1, 12, tzinfo=UTC)
    records = [{"_time": base + timedelta(seconds=i), numeric: 1000.0 + i} for i in range(3)]
    assert await api.timeseries.write(asset_id, aspect, records) == 3
    back = await api.timeseries.read(
        asset_id, aspect, base - timedelta(seconds=1), base + timedelta(seconds=5), select=[numeric]
    )
    assert [r[numeric] for r in back if r["_time"].startswith("2020-06-01T12:00:0")][:3] == [
        1000.0,
        1001.0,
        1002.0,
    ]
    await api.timeseries.delete(asset_id, aspect, base - timedelta(seconds=1), base + timedelta(seconds=5))
    after = await api.timeseries.read(
        asset_id, aspect, base - timedelta(seconds=1), base + timedelta(seconds=5), select=[numeric]
    )
    assert all(r.get(numeric) not in (1000.0, 1001.0, 1002.0) for r in after)


async def test_error_body_shape_2_from_timeseries(sim) -> None:
    api, _ = sim()
    with pytest.raises(ApiError) as info:
        await api.timeseries.read(
            "0" * 32, "nothing", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
        )
    err = info.value
    assert err.status in (400, 404) and err.code is None and err.logref and err.message


async def test_aggregates(sim) -> None:
    api, _ = sim()
    asset_id, aspect = await find_dynamic_aspect(api)
    to = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    result = await api.aggregates.get(asset_id, aspect, to - timedelta(days=1), to, 1, "hour")
    assert 20 <= len(result) <= 25
    first = result[0]
    assert first.start is not None and first.end is not None and first.end - first.start == timedelta(hours=1)
    stats = next(iter(first.variables.values()))
    assert stats.count > 0 and stats.average is not None
    with pytest.raises(ValueError):
        await api.aggregates.get(asset_id, aspect, interval_value=7, interval_unit="minute")


async def test_429_and_5xx_from_the_simulator_are_retried(sim) -> None:
    sleeps = Sleeps()
    api, app = sim(SimConfig(fault_rate=0.5, faults=("429", "503", "500")), sleep=sleeps, max_retries=10)
    root = await api.assets.root()
    sites = [a async for a in api.assets.children(root.asset_id)]
    assert sites
    faults = counter(app, "faults")
    assert faults > 0 and api.retries == faults
    # Retry-After: 1 from the simulator is honoured for 429 and 503
    honoured = counter(app, "faults_429") + counter(app, "faults_503")
    assert sum(1 for d in sleeps.delays if 1.0 <= d <= 1.1) >= honoured


async def test_post_is_not_retried_after_a_5xx(sim) -> None:
    api, app = sim(SimConfig(fault_rate=1.0, faults=("503",)), max_retries=3)
    with pytest.raises(ServerError):
        await api.assets.create("x", "core.basicarea", "0" * 32)
    assert counter(app, "faults") == 1
