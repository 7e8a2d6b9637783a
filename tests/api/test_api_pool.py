"""Requests and httpcore's connection pool over real loopback sockets (the simulator served by uvicorn).

httpcore hands a kept-alive idle connection to every request that arrives before the first of them has
started on it; the others then fail over and scan the pool again. ``ApiClient`` makes requests take
turns until each holds its connection (``ApiClient._start``, released from ``HopTrace``), so a burst of
requests costs one pool scan per request and one per answer.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import httpcore
import pytest

from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.api.errors import TransportError
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.server import SimServer


@pytest.fixture(scope="module")
def loopback_sim() -> Iterator[SimServer]:
    server = SimServer(SimConfig())
    server.start()
    yield server
    server.stop()


def _config(gateway: str, token_from: str | None = None, **options: object) -> ConnectionConfig:
    token_url = f"{token_from or gateway}/oauth/token"
    creds = Credentials(CredentialStyle.CLIENT_CREDENTIALS, token_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    return ConnectionConfig(gateway, creds, **options)  # type: ignore[arg-type]


@pytest.fixture
def pool_scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per time httpcore's pool assigns requests to connections."""
    scans: list[int] = []
    pool = httpcore.AsyncConnectionPool
    original = pool._assign_requests_to_connections

    def counted(self: httpcore.AsyncConnectionPool) -> list[object]:
        scans.append(len(self._requests))
        return original(self)  # type: ignore[no-any-return]

    monkeypatch.setattr(pool, "_assign_requests_to_connections", counted)
    return scans


@pytest.mark.parametrize("taking_turns", [True, False])
async def test_a_burst_of_requests_scans_the_pool_once_per_request_and_answer(
    loopback_sim: SimServer, pool_scans: list[int], taking_turns: bool
) -> None:
    async with ApiClient(_config(loopback_sim.url, page_concurrency=8)) as api:
        if not taking_turns:
            api._starts = None  # what httpcore does on its own: the check that this test measures
        await api.tokens.get()
        await asyncio.gather(*(api.assets.root() for _ in range(16)))  # 16 kept-alive connections
        pool_scans.clear()
        burst = 64
        roots = await asyncio.gather(*(api.assets.root() for _ in range(burst)))
    assert len({r.asset_id for r in roots}) == 1
    if taking_turns:
        assert len(pool_scans) <= 2 * burst + 2
    else:  # without turns the same burst collides on the idle connections: many more scans
        assert len(pool_scans) > 3 * burst


async def test_a_request_that_gets_no_connection_gives_up_its_turn(loopback_sim: SimServer) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gateway = f"http://127.0.0.1:{port}"
    async with ApiClient(_config(gateway, loopback_sim.url, max_retries=0)) as api:
        async with asyncio.timeout(10):
            for _ in range(2):
                results = await asyncio.gather(
                    *(api.request("GET", "/api/assetmanagement/v3/assets/root") for _ in range(3)),
                    return_exceptions=True,
                )
                assert all(isinstance(r, TransportError) for r in results), results
        assert api._starts is not None and not api._starts.locked()


async def test_a_request_whose_connection_is_never_reported_gives_up_its_turn_when_done(
    loopback_sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should httpcore report no trace events, each turn still ends with its request (no deadlock)."""
    from tui.api.errors import HopTrace

    async def silent(self: HopTrace, name: str, info: dict[str, object]) -> None:
        return None

    monkeypatch.setattr(HopTrace, "__call__", silent)
    async with ApiClient(_config(loopback_sim.url)) as api:
        async with asyncio.timeout(10):
            roots = await asyncio.gather(*(api.assets.root() for _ in range(5)))
        assert len(roots) == 5
        assert api._starts is not None and not api._starts.locked()


async def test_a_request_waiting_to_retry_without_a_connection_lets_the_others_take_their_turn(
    loopback_sim: SimServer,
) -> None:
    """A request that got no connection (the pool stayed full: a pool timeout) gives up its turn before
    its backoff, so the other requests are not held up for the length of its wait."""
    import httpx

    others: list[bool] = []

    async def backoff(seconds: float) -> None:  # another request is sent while this one waits
        try:
            await asyncio.wait_for(api.assets.root(), 2)
            others.append(True)
        except TimeoutError:
            others.append(False)

    api = ApiClient(_config(loopback_sim.url), sleep=backoff)
    async with api:
        await api.tokens.get()
        send = api._http.request
        sent = 0

        async def pool_full_once(*args: object, **kwargs: object) -> httpx.Response:
            nonlocal sent
            sent += 1
            if sent == 1:
                raise httpx.PoolTimeout("no connection came free in time")
            return await send(*args, **kwargs)  # type: ignore[arg-type]

        api._http.request = pool_full_once  # type: ignore[method-assign]
        root = await api.assets.root()
        assert root.asset_id and api.retries == 1
        assert api._starts is not None and not api._starts.locked()
    assert others == [True]
