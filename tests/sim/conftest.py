"""Simulator test fixtures: a fixed-clock config, the app, a raw in-process client and a demo token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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


@asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """An in-process client of ``app`` and the full-scope demo client's ``Authorization`` header."""
    async with httpx.AsyncClient(transport=sim_transport(app), base_url=BASE_URL) as client:
        token = await fetch_token(client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        yield client, {"Authorization": f"Bearer {token}"}


class AssetApi:
    """Asset Management v3 reads with the demo token (``am`` fixture; test_assets.py has its own)."""

    PREFIX = "/api/assetmanagement/v3"

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(self.PREFIX + path, params=params, headers=self.headers)

    async def json(self, path: str, **params: Any) -> dict[str, Any]:
        response = await self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    async def assets(self, filter_: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
        body = await self.json("/assets", filter=json.dumps(filter_), size=2000, **params)
        return body.get("_embedded", {}).get("assets", [])

    async def names(self, filter_: dict[str, Any], **params: Any) -> list[str]:
        return [a["name"] for a in await self.assets(filter_, **params)]

    async def one(self, name: str, **params: Any) -> dict[str, Any]:
        (asset,) = await self.assets({"name": name}, **params)
        return asset


@pytest.fixture
def am(raw_client: httpx.AsyncClient, auth_headers: dict[str, str]) -> AssetApi:
    return AssetApi(raw_client, auth_headers)
