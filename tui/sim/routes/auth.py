"""Token endpoints (reference 1.1, 1.2, 8): service credentials, app credentials and ``token_keys``."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tui.sim.config import SimClient, SimConfig
from tui.sim.errors import OAUTH, SimHTTPError
from tui.sim.security import SigningKey, issue_token

TM_BODY_FIELDS = ("appName", "appVersion", "hostTenant", "userTenant")


def _invalid_client(message: str = "Bad credentials") -> SimHTTPError:
    return SimHTTPError(
        401,
        message,
        shape=OAUTH,
        oauth_error="invalid_client",
        headers={"WWW-Authenticate": 'Basic realm="oauth"'},
    )


def _decode_basic(value: str) -> tuple[str, str] | None:
    """``base64(id:secret)`` to (id, secret); None when it is not that."""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        return None
    return client_id, secret


async def _form(request: Request) -> dict[str, str]:
    """The url-encoded form body (parsed here: Starlette's form parser needs python-multipart)."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items() if values}


def _find_client(config: SimConfig, client_id: str, secret: str) -> SimClient | None:
    for client in config.clients:
        id_ok = hmac.compare_digest(client.client_id.encode(), client_id.encode())
        secret_ok = hmac.compare_digest(client.client_secret.encode(), secret.encode())
        if id_ok and secret_ok:
            return client
    return None


def _token_response(request: Request, client: SimClient) -> JSONResponse:
    config: SimConfig = request.app.state.config
    key: SigningKey = request.app.state.signing_key
    host = request.headers.get("host", "localhost")
    token, claims = issue_token(key, config, client, host=host)
    body: dict[str, Any] = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(config.token_ttl),
        "scope": " ".join(claims["scope"]),
        "jti": claims["jti"],
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def oauth_token(request: Request) -> JSONResponse:
    """``POST /oauth/token``: client-credentials grant with HTTP Basic client authentication."""
    state = request.app.state.tenant
    with state.lock:
        state.bump("token_requests")
    config: SimConfig = request.app.state.config
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    creds = _decode_basic(value) if scheme.lower() == "basic" else None
    if creds is None:
        raise _invalid_client("Full authentication is required: send HTTP Basic client credentials")
    client = _find_client(config, *creds)
    if client is None:
        raise _invalid_client("Bad credentials")
    grant_type = (await _form(request)).get("grant_type")
    if grant_type != "client_credentials":
        raise SimHTTPError(
            400,
            "Unsupported grant type: only client_credentials is supported"
            if grant_type
            else "Missing grant_type: send grant_type=client_credentials in the form body",
            shape=OAUTH,
            oauth_error="unsupported_grant_type",
        )
    return _token_response(request, client)


async def technical_token(request: Request) -> JSONResponse:
    """``POST /api/technicaltokenmanager/v3/oauth/token``: app credentials (X-SPACE-AUTH-KEY)."""
    state = request.app.state.tenant
    with state.lock:
        state.bump("token_requests")
    config: SimConfig = request.app.state.config
    header = request.headers.get("x-space-auth-key", "").strip()
    scheme, _, value = header.partition(" ")
    creds = _decode_basic(value) if scheme.lower() in ("basic", "bearer") else None
    if creds is None:
        raise _invalid_client(
            "Missing or malformed X-SPACE-AUTH-KEY header: expected 'Basic base64(id:secret)'"
        )
    client = _find_client(config, *creds)
    if client is None:
        raise _invalid_client("Bad credentials")
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise SimHTTPError(
            400, "The request body must be a JSON object", shape=OAUTH, oauth_error="invalid_request"
        )
    missing = [name for name in TM_BODY_FIELDS if not isinstance(body.get(name), str) or not body.get(name)]
    if missing:
        raise SimHTTPError(
            400,
            f"Missing required body field(s): {', '.join(missing)}",
            shape=OAUTH,
            oauth_error="invalid_request",
        )
    return _token_response(request, client)


async def token_keys(request: Request) -> JSONResponse:
    """``GET /token_keys``: the signing key first (the SDK only ever looks at keys[0])."""
    key: SigningKey = request.app.state.signing_key
    return JSONResponse({"keys": [key.jwk()]})


def routes() -> list[Route]:
    return [
        Route("/oauth/token", oauth_token, methods=["POST"]),
        Route("/token_keys", token_keys, methods=["GET"]),
        Route("/api/technicaltokenmanager/v3/oauth/token", technical_token, methods=["POST"]),
    ]
