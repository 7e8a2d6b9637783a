"""The client over a real loopback socket (uvicorn SimServer): real dropped connections are retried."""

from __future__ import annotations

import pytest

from tests.api.conftest import Sleeps
from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.api.errors import TransportError
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.server import SimServer


@pytest.fixture
def server():
    servers: list[SimServer] = []

    def start(config: SimConfig) -> SimServer:
        srv = SimServer(config)
        srv.start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


def _client(srv: SimServer, **kw) -> ApiClient:
    cred = Credentials(CredentialStyle.CLIENT_CREDENTIALS, srv.token_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    return ApiClient(ConnectionConfig(srv.url, cred, **kw), sleep=Sleeps())


async def test_listing_over_the_wire_with_dropped_connections(server) -> None:
    srv = server(SimConfig(assets=300, fault_rate=0.3, faults=("drop", "503")))
    async with _client(srv, max_retries=12) as api:
        ids = [a.asset_id async for a in api.assets.list(page_size=50)]
        assert len(ids) == len(set(ids)) == await api.assets.count()
        assert api.retries > 0


async def test_connection_refused_is_a_transport_error(server) -> None:
    srv = server(SimConfig())
    url = srv.url
    srv.stop()
    cred = Credentials(CredentialStyle.CLIENT_CREDENTIALS, url + "/oauth/token", "id", "FAKE-secret")
    async with ApiClient(ConnectionConfig(url, cred, max_retries=1), sleep=Sleeps()) as api:
        with pytest.raises(TransportError) as info:
            await api.assets.root()
    assert info.value.status is None and "refused" in str(info.value)
