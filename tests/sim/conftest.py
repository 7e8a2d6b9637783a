"""Simulator test fixtures: a fixed-clock config, the app, a raw in-process client and a demo token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import Clock
from tui.sim.app import create_app
from tui.sim.config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_READONLY_CLIENT_ID,
    DEMO_READONLY_CLIENT_SECRET,
    SimConfig,
)
from tui.sim.transport import sim_transport

# 2024-05-01T12:00:00Z
FIXED_NOW = 1714564800.0
BASE_URL = "http://sim.test"


@pytest.fixture
def sim_clock() -> Clock:
    return Clock(FIXED_NOW)


@pytest.fixture
def sim_config(sim_clock: Clock) -> SimConfig:
    return SimConfig(clock=sim_clock)


@pytest.fixture
def sim_app(sim_config: SimConfig) -> Starlette:
    return create_app(sim_config)


@pytest.fixture
async def raw_client(sim_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=sim_transport(sim_app), base_url=BASE_URL) as client:
        yield client


async def fetch_token(client: httpx.AsyncClient, client_id: str, secret: str) -> str:
    response = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def get_token(raw_client: httpx.AsyncClient):
    """``await get_token(client_id, secret)``: an access token from ``/oauth/token``."""

    async def get(client_id: str = DEMO_CLIENT_ID, secret: str = DEMO_CLIENT_SECRET) -> str:
        return await fetch_token(raw_client, client_id, secret)

    return get


@pytest.fixture
async def auth_headers(raw_client: httpx.AsyncClient) -> dict[str, str]:
    token = await fetch_token(raw_client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def readonly_headers(raw_client: httpx.AsyncClient) -> dict[str, str]:
    token = await fetch_token(raw_client, DEMO_READONLY_CLIENT_ID, DEMO_READONLY_CLIENT_SECRET)
    return {"Authorization": f"Bearer {token}"}
