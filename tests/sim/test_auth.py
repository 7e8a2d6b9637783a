"""Token endpoints, token_keys and Bearer-token checks of the simulator."""

from __future__ import annotations

import base64

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from tui.sim.app import create_app
from tui.sim.config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_READONLY_CLIENT_ID,
    DEMO_READONLY_CLIENT_SECRET,
    READ_SCOPES,
    WRITE_SCOPES,
)
from tui.sim.errors import SimHTTPError
from tui.sim.security import require_token
from tui.sim.transport import sim_transport

TM_PATH = "/api/technicaltokenmanager/v3/oauth/token"
TM_BODY = {"appName": "ihub", "appVersion": "1.0.0", "hostTenant": "demo", "userTenant": "demo"}
ASSETS = "/api/assetmanagement/v3/assets"


def _b64(client_id: str, secret: str) -> str:
    return base64.b64encode(f"{client_id}:{secret}".encode()).decode()


async def test_client_credentials_token_response(raw_client: httpx.AsyncClient, sim_app: Starlette) -> None:
    response = await raw_client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == sim_app.state.config.token_ttl
    assert body["scope"].split(" ") == list(READ_SCOPES + WRITE_SCOPES)
    assert len(body["jti"]) >= 16
    assert sim_app.state.tenant.counters["token_requests"] == 1


async def test_jwt_verifies_with_first_token_key_and_carries_claims(
    raw_client: httpx.AsyncClient, get_token, sim_clock
) -> None:
    token = await get_token()
    now = int(sim_clock.now)
    keys = (await raw_client.get("/token_keys")).json()["keys"]
    first = keys[0]
    assert {"kty", "e", "use", "kid", "alg", "value", "n"} <= set(first)
    assert first["alg"] == "RS256" and first["use"] == "sig"
    assert first["value"].startswith("-----BEGIN PUBLIC KEY-----")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] == first["kid"]
    # Verify as the SDK does: the PEM of keys[0], at the simulator's clock.
    claims = jwt.decode(
        token, first["value"], algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False}
    )
    assert claims["iat"] == now
    assert claims["exp"] == now + 1800
    assert claims["sub"] == claims["client_id"] == claims["cid"] == claims["azp"] == DEMO_CLIENT_ID
    assert claims["zid"] == claims["ten"] == "demo"
    assert isinstance(claims["scope"], list) and "mdsp:core:assetmanagement.write" in claims["scope"]
    assert claims["iss"].startswith("https://demo.piam.") and claims["iss"].endswith("/oauth/token")
    assert claims["grant_type"] == "client_credentials"
    assert claims["schemas"] == ["urn:siemens:mindsphere:iam:v1"]
    # The JWK numbers describe the same key as the PEM.
    jwk_key = jwt.PyJWK({k: first[k] for k in ("kty", "e", "n", "kid", "alg", "use")})
    assert jwt.decode(
        token, jwk_key.key, algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False}
    )


async def test_each_app_has_its_own_signing_key(raw_client: httpx.AsyncClient, sim_config) -> None:
    other = create_app(sim_config)
    async with httpx.AsyncClient(transport=sim_transport(other), base_url="http://sim.test") as other_client:
        response = await other_client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        )
        foreign = response.json()["access_token"]
    response = await raw_client.get(ASSETS, headers={"Authorization": f"Bearer {foreign}"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Invalid access token"


@pytest.mark.parametrize(
    ("auth", "status", "error"),
    [
        ((DEMO_CLIENT_ID, "wrong"), 401, "invalid_client"),
        (("nobody", DEMO_CLIENT_SECRET), 401, "invalid_client"),
        (None, 401, "invalid_client"),
    ],
)
async def test_client_credentials_refused(
    raw_client: httpx.AsyncClient, auth, status: int, error: str
) -> None:
    response = await raw_client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert "Correlation-ID" in body["error_description"]
    assert DEMO_CLIENT_SECRET not in response.text


@pytest.mark.parametrize("form", [{}, {"grant_type": "password"}])
async def test_missing_or_other_grant_type(raw_client: httpx.AsyncClient, form: dict[str, str]) -> None:
    response = await raw_client.post("/oauth/token", data=form, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET))
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_grant_type_in_query_string_is_not_enough(raw_client: httpx.AsyncClient) -> None:
    response = await raw_client.post(
        "/oauth/token?grant_type=client_credentials", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    )
    assert response.status_code == 400


@pytest.mark.parametrize("prefix", ["Basic", "Bearer"])
async def test_technical_token_manager_accepts_both_prefixes(
    raw_client: httpx.AsyncClient, prefix: str
) -> None:
    body = {**TM_BODY, "grant_type": "client_credentials", "unknownKey": 1}
    response = await raw_client.post(
        TM_PATH,
        json=body,
        headers={"X-SPACE-AUTH-KEY": f"{prefix} {_b64(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)}"},
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    api = await raw_client.get(ASSETS, headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200


async def test_technical_token_manager_refusals(raw_client: httpx.AsyncClient) -> None:
    good_key = {"X-SPACE-AUTH-KEY": f"Basic {_b64(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)}"}
    bad_key = {"X-SPACE-AUTH-KEY": f"Basic {_b64(DEMO_CLIENT_ID, 'nope')}"}
    wrong = await raw_client.post(TM_PATH, json=TM_BODY, headers=bad_key)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    missing_header = await raw_client.post(TM_PATH, json=TM_BODY)
    assert missing_header.status_code == 401
    for field in TM_BODY:
        partial = {k: v for k, v in TM_BODY.items() if k != field}
        response = await raw_client.post(TM_PATH, json=partial, headers=good_key)
        assert response.status_code == 400
        assert field in response.json()["error_description"]


async def test_api_requires_a_bearer_token(raw_client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic abc"}):
        response = await raw_client.get(ASSETS, headers=headers)
        assert response.status_code == 401
        error = response.json()["errors"][0]
        assert error["code"].startswith("mdsp.core.") and error["logref"]
        assert response.headers["X-Correlation-ID"] == error["logref"]


async def test_expired_token_is_refused(
    raw_client: httpx.AsyncClient, auth_headers: dict[str, str], sim_clock
) -> None:
    assert (await raw_client.get(ASSETS, headers=auth_headers)).status_code == 200
    sim_clock.advance(1799)
    assert (await raw_client.get(ASSETS, headers=auth_headers)).status_code == 200
    sim_clock.advance(1)
    response = await raw_client.get(ASSETS, headers=auth_headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Access token expired"


async def test_read_only_client_reads_but_cannot_write(
    raw_client: httpx.AsyncClient, readonly_headers: dict[str, str]
) -> None:
    root = await raw_client.get(f"{ASSETS}/root", headers=readonly_headers)
    assert root.status_code == 200
    body = {"name": "X", "typeId": "demo.Pump", "parentId": root.json()["assetId"]}
    response = await raw_client.post(ASSETS, json=body, headers=readonly_headers)
    assert response.status_code == 403
    assert "mdsp:core:assetmanagement.write" in response.json()["errors"][0]["message"]
    token = readonly_headers["Authorization"].split()[1]
    assert (
        "mdsp:core:assetmanagement.write"
        not in jwt.decode(token, options={"verify_signature": False})["scope"]
    )
    assert DEMO_READONLY_CLIENT_ID and DEMO_READONLY_CLIENT_SECRET


def _request(app: Starlette, path: str, token: str | None) -> Request:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": headers,
        "app": app,
        "scheme": "http",
        "server": ("sim.test", 80),
    }
    return Request(scope)


async def test_require_token_uses_the_error_shape_of_the_path(
    raw_client: httpx.AsyncClient, sim_app: Starlette, readonly_headers: dict[str, str]
) -> None:
    with pytest.raises(SimHTTPError) as missing:
        require_token(_request(sim_app, "/api/iottimeseries/v3/timeseries/x/y", None))
    assert missing.value.status == 401 and missing.value.shape == "id_message"
    token = readonly_headers["Authorization"].split()[1]
    claims = require_token(_request(sim_app, "/api/iottimeseries/v3/timeseries/x/y", token), "iot.tim.r")
    assert claims["client_id"] == DEMO_READONLY_CLIENT_ID
    with pytest.raises(SimHTTPError) as forbidden:
        require_token(_request(sim_app, "/api/iottsaggregates/v4/aggregates", token), "iot.tim.w")
    assert forbidden.value.status == 403 and forbidden.value.shape == "errors"


async def test_token_keys_needs_no_auth_and_lists_the_signing_key_first(
    raw_client: httpx.AsyncClient, sim_app: Starlette
) -> None:
    response = await raw_client.get("/token_keys", headers={"Accept": "*/*", "X-Powered-By": "meowz"})
    assert response.status_code == 200
    assert response.json()["keys"][0]["kid"] == sim_app.state.signing_key.kid
