"""Fixtures for the workflow tests: the in-process simulator behind the real API layer, with every request
recorded, and CA key stores in temporary folders."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Clock, Sleeps
from tests.pki.conftest import ec_ca, other_ca  # noqa: F401 - shared session fixtures
from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.pki import CaKeyStore
from tui.sim.app import create_app
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.transport import sim_transport

GATEWAY = "http://sim.ihub.test"


class RecordingTransport(httpx.AsyncBaseTransport):
    """The simulator's transport, recording ``(method, path)`` of every API request."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "/oauth/token" not in request.url.path:
            self.calls.append((request.method, request.url.path))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Sim:
    api: ApiClient
    app: Any
    transport: RecordingTransport
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> Any:
        return self.app.state.tenant

    @property
    def ca_posts(self) -> list[tuple[str, str]]:
        return [c for c in self.transport.calls if c[0] == "POST" and c[1].endswith("/caCertificates")]


@pytest.fixture
async def sim():
    """``sim(config=None) -> Sim`` (API client over the in-process simulator); clients closed after."""
    made: list[ApiClient] = []

    def factory(config: SimConfig | None = None, **conn: Any) -> Sim:
        app = create_app(config or SimConfig())
        transport = RecordingTransport(sim_transport(app))
        creds = Credentials(
            CredentialStyle.CLIENT_CREDENTIALS, GATEWAY + "/oauth/token", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
        )
        api = ApiClient(
            ConnectionConfig(GATEWAY, creds, **conn),
            transport=transport,
            clock=Clock(time.time()),
            sleep=Sleeps(),
        )
        made.append(api)
        return Sim(api, app, transport)

    yield factory
    for api in made:
        await api.aclose()


PASSPHRASE = "test-only passphrase, not a secret"


@pytest.fixture
def key_store(tmp_path: Path) -> CaKeyStore:
    return CaKeyStore.for_tenant(tmp_path / "pki", "demo", lambda create: PASSPHRASE)
