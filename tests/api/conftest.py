"""Shared fixtures for the API layer tests: fake JWTs, a controllable clock, a mock gateway."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import Clock
from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig

GATEWAY = "https://gateway.eu1.example.test"
TOKEN_URL = "https://demo.piam.eu1.example.test/oauth/token"
APP_TOKEN_URL = GATEWAY + "/api/technicaltokenmanager/v3/oauth/token"
CLIENT_ID = "demo-client"
CLIENT_SECRET = "FAKE-test-secret-value"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(**claims: Any) -> str:
    """An unsigned-looking JWT (the client never verifies signatures)."""
    header = b64url(json.dumps({"alg": "RS256", "kid": "k1", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.c2lnbmF0dXJlLWZha2U"


class Sleeps:
    """A sleep that records delays and returns at once (backoff must not slow the suite)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


Handler = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]


class MockGateway:
    """A MockTransport that issues tokens at the token URLs and hands API requests to ``handler``."""

    def __init__(self, handler: Handler, clock: Clock, *, ttl: int = 1800) -> None:
        self.handler = handler
        self.clock = clock
        self.ttl = ttl
        self.token_requests: list[httpx.Request] = []
        self.api_requests: list[httpx.Request] = []
        self.issued: list[str] = []
        self.token_handler: Handler | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            self.token_requests.append(request)
            if self.token_handler is not None:
                result = self.token_handler(request)
                return await result if not isinstance(result, httpx.Response) else result
            now = int(self.clock())
            token = make_jwt(
                sub=CLIENT_ID,
                client_id=CLIENT_ID,
                scope=["iot.tim.r", "iot.tim.w"],
                ten="demo",
                zid="demo",
                iat=now,
                exp=now + self.ttl,
                n=len(self.issued),
            )
            self.issued.append(token)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": self.ttl}
            )
        self.api_requests.append(request)
        result = self.handler(request)
        return await result if not isinstance(result, httpx.Response) else result


def credentials(style: CredentialStyle = CredentialStyle.CLIENT_CREDENTIALS, **kw: Any) -> Credentials:
    if style == CredentialStyle.APP_CREDENTIALS:
        kw.setdefault("app_name", "ihub")
        kw.setdefault("app_version", "1.0.0")
        kw.setdefault("host_tenant", "demo")
        kw.setdefault("user_tenant", "demo")
        return Credentials(style, APP_TOKEN_URL, CLIENT_ID, CLIENT_SECRET, **kw)
    return Credentials(style, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, **kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def mock_api(clock: Clock, sleeps: Sleeps):
    """``mock_api(handler, **config) -> (ApiClient, MockGateway)``; clients are closed after the test."""
    clients: list[ApiClient] = []

    def factory(handler: Handler, **config: Any) -> tuple[ApiClient, MockGateway]:
        gateway = MockGateway(handler, clock)
        cfg = ConnectionConfig(GATEWAY, config.pop("credentials", None) or credentials(), **config)
        api = ApiClient(cfg, transport=httpx.MockTransport(gateway), clock=clock, sleep=sleeps)
        clients.append(api)
        return api, gateway

    yield factory
    for api in clients:
        await api.aclose()


def hal(key: str, items: list[dict[str, Any]], number: int, size: int, total: int) -> dict[str, Any]:
    pages = -(-total // size) if size else 0
    body: dict[str, Any] = {
        "_links": {"self": {"href": "x"}},
        "page": {"size": size, "totalElements": total, "totalPages": pages, "number": number},
    }
    if items:
        body["_embedded"] = {key: items}
    return body


SIM_GATEWAY = "http://sim.ihub.test"


@pytest.fixture
async def sim():
    """``sim(config, **options) -> (ApiClient, app)`` against the in-process simulator; closed after."""
    import time

    from tui.sim.app import create_app
    from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
    from tui.sim.transport import sim_transport

    clients: list[ApiClient] = []

    def factory(
        config: SimConfig | None = None,
        *,
        client_id: str = DEMO_CLIENT_ID,
        secret: str = DEMO_CLIENT_SECRET,
        style: CredentialStyle = CredentialStyle.CLIENT_CREDENTIALS,
        clock: Any = None,
        sleep: Any = None,
        **conn: Any,
    ) -> tuple[ApiClient, Any]:
        app = create_app(config or SimConfig())
        if style == CredentialStyle.APP_CREDENTIALS:
            cred = Credentials(
                style,
                SIM_GATEWAY + "/api/technicaltokenmanager/v3/oauth/token",
                client_id,
                secret,
                app_name="ihub",
                app_version="1.0.0",
                host_tenant="demo",
                user_tenant="demo",
            )
        else:
            cred = Credentials(style, SIM_GATEWAY + "/oauth/token", client_id, secret)
        api = ApiClient(
            ConnectionConfig(SIM_GATEWAY, cred, **conn),
            transport=sim_transport(app),
            clock=clock or Clock(time.time()),
            sleep=sleep or Sleeps(),
        )
        clients.append(api)
        return api, app

    yield factory
    for api in clients:
        await api.aclose()
