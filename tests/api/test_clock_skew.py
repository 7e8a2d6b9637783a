"""Issue 7 section 1: token freshness is judged on the local clock from the receipt time, whatever the
local clock's error; waiters share the token request in flight; a skew is measured and told once."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.api.conftest import Clock, Sleeps, credentials, make_jwt
from tui.api.auth import Token, TokenProvider
from tui.api.errors import TokenError
from tui.sim.config import SimConfig


@pytest.mark.parametrize("offset", [1800, -1800, 7 * 86400])
async def test_skewed_local_clock_gets_one_token_for_many_calls(sim, offset: int) -> None:
    """The field report: a clock 30 min fast made every API call request a new token."""
    api, _ = sim(clock=lambda: time.time() + offset)
    for _ in range(10):
        await api.assets.root()
    assert api.tokens.requests == 1
    await asyncio.gather(*(api.assets.root() for _ in range(8)))
    assert api.tokens.requests == 1


async def test_eight_concurrent_first_calls_on_a_fast_clock_make_one_token_request(sim) -> None:
    api, _ = sim(clock=lambda: time.time() + 1800)
    await asyncio.gather(*(api.assets.root() for _ in range(8)))
    assert api.tokens.requests == 1


async def test_refresh_follows_the_local_clock_from_receipt(sim) -> None:
    """Server clock one hour behind the client: the token is refreshed after its lifetime by the local
    clock (not an hour late, not at once)."""
    server = Clock(1_700_000_000.0)
    local = Clock(server() + 3600)
    api, _ = sim(SimConfig(clock=server), clock=local)
    await api.assets.root()
    token = api.tokens.token
    assert token is not None
    assert token.issued_at == local() and token.expires_at == local() + 1800
    assert token.server_expires_at == server() + 1800
    assert token.clock_skew == pytest.approx(-3600, abs=1)
    for seconds in (600, 600, 1800 - 1200 - 61):  # still 61 s before the local expiry
        server.advance(seconds)
        local.advance(seconds)
        await api.assets.root()
    assert api.tokens.requests == 1
    server.advance(2)
    local.advance(2)  # now within the 60 s refresh margin
    await api.assets.root()
    assert api.tokens.requests == 2


def test_lifetime_is_relative_and_applied_to_the_receipt_time() -> None:
    server_now, local_now = 1_700_000_000, 1_700_000_000 + 1800  # local clock 30 min fast
    jwt = make_jwt(iat=server_now, exp=server_now + 1800)
    # exp - iat, no expires_in
    token = Token.from_response({"access_token": jwt}, local_now)
    assert token.expires_at == local_now + 1800 and token.issued_at == local_now
    assert token.clock_skew == -1800
    # expires_in and exp - iat: the shorter wins
    token = Token.from_response({"access_token": jwt, "expires_in": 1799}, local_now)
    assert token.expires_at == local_now + 1799
    # only exp: measured against the response's Date header, not the local clock
    only_exp = make_jwt(exp=server_now + 1800)
    token = Token.from_response({"access_token": only_exp}, local_now, server_date=server_now)
    assert token.expires_at == local_now + 1800 and token.clock_skew == -1800
    # an opaque token with expires_in only
    token = Token.from_response({"access_token": "opaque", "expires_in": 300}, local_now)
    assert token.expires_at == local_now + 300 and token.clock_skew is None


class TickingClock(Clock):
    """A clock that moves one second each time it is read (a slow, busy machine)."""

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


async def test_waiters_reuse_a_token_fetched_while_they_waited_even_if_short_lived() -> None:
    clock = TickingClock()
    gate = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return httpx.Response(200, json={"access_token": "opaque", "expires_in": 1})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    tokens = TokenProvider(credentials(), http, clock=clock, sleep=Sleeps())
    tasks = [asyncio.create_task(tokens.get()) for _ in range(8)]
    await asyncio.sleep(0.01)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert tokens.requests == 1 and len({id(t) for t in results}) == 1
    await http.aclose()


async def test_waiters_share_a_failed_token_request() -> None:
    clock = Clock()
    gate = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return httpx.Response(401, json={"error": "invalid_client"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    tokens = TokenProvider(credentials(), http, clock=clock, sleep=Sleeps())
    tasks = [asyncio.create_task(tokens.get()) for _ in range(8)]
    await asyncio.sleep(0.01)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert tokens.requests == 1
    assert all(isinstance(r, TokenError) for r in results)
    await http.aclose()


async def test_a_large_skew_is_told_once(sim) -> None:
    seen: list[float] = []
    api, _ = sim(clock=lambda: time.time() + 1800)
    api.tokens.on_clock_skew = seen.append
    await api.assets.root()
    await api.tokens.get(force=True)
    await api.tokens.get(force=True)
    assert api.tokens.requests == 3
    assert len(seen) == 1 and seen[0] == pytest.approx(-1800, abs=5)
    assert api.tokens.clock_skew == pytest.approx(-1800, abs=5)


async def test_a_small_skew_is_not_told(sim) -> None:
    seen: list[float] = []
    api, _ = sim(clock=lambda: time.time() + 20)
    api.tokens.on_clock_skew = seen.append
    await api.assets.root()
    assert seen == [] and api.tokens.clock_skew == pytest.approx(-20, abs=5)


async def test_services_tell_the_ui_once_per_process() -> None:
    from tui.services import Services
    from tui.sim.app import create_app
    from tui.sim.transport import sim_transport

    app = create_app(SimConfig())
    slow = lambda: time.time() - 900  # noqa: E731
    services = Services.for_demo(transport_factory=lambda: sim_transport(app), clock=slow)
    profile = services.resolve_profile("demo")
    secret = await services.read_secret(profile)
    assert secret is not None
    for _ in range(2):  # two connections (a reconnect): still one notice
        client = services.connect(profile, secret.value)
        await client.assets.root()
        await client.aclose()
    notice = services.pop_clock_skew_notice()
    assert notice == pytest.approx(900, abs=5)
    assert services.pop_clock_skew_notice() is None
    assert services.clock_skew == pytest.approx(900, abs=5)

    told: list[float] = []
    services2 = Services.for_demo(transport_factory=lambda: sim_transport(app), clock=slow)
    services2.on_clock_skew = told.append
    for _ in range(2):
        client = services2.connect(profile, secret.value)
        await client.assets.root()
        await client.aclose()
    assert len(told) == 1 and services2.pop_clock_skew_notice() is None
