"""Token provider: both credential styles, claims, caching, refresh margin, single flight, failures."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest

from tests.api.conftest import (
    APP_TOKEN_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN_URL,
    Clock,
    Sleeps,
    credentials,
    make_jwt,
)
from tui.api.auth import CredentialStyle, Token, TokenProvider, decode_claims, detect_style
from tui.api.errors import TokenError, TransportError

BASIC = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def provider(handler, clock: Clock, style=CredentialStyle.CLIENT_CREDENTIALS, **kw) -> TokenProvider:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return TokenProvider(credentials(style, **kw), http, clock=clock, sleep=Sleeps())


def token_body(clock: Clock, ttl: int = 1800, **claims) -> dict:
    now = int(clock())
    return {"access_token": make_jwt(iat=now, exp=now + ttl, **claims), "expires_in": ttl}


def test_detect_style() -> None:
    assert detect_style(TOKEN_URL) == CredentialStyle.CLIENT_CREDENTIALS
    assert detect_style(APP_TOKEN_URL) == CredentialStyle.APP_CREDENTIALS
    assert CredentialStyle.APP_CREDENTIALS.value == "app_credentials"
    assert CredentialStyle("client_credentials") is CredentialStyle.CLIENT_CREDENTIALS


async def test_client_credentials_request(clock: Clock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json=token_body(clock, scope=["a.r", "b.w"], client_id=CLIENT_ID, ten="t1")
        )

    tokens = provider(handler, clock)
    token = await tokens.get()
    (req,) = seen
    assert req.method == "POST" and str(req.url) == TOKEN_URL
    assert req.headers["authorization"] == f"Basic {BASIC}"
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"
    assert req.content == b"grant_type=client_credentials"
    assert req.url.query == b""  # grant type in the body, not the query
    assert token.scopes == ("a.r", "b.w")
    assert token.client_id == CLIENT_ID and token.tenant == "t1"
    assert token.expires_at == clock() + 1800 and token.issued_at == clock()
    assert tokens.requests == 1


async def test_app_credentials_request(clock: Clock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=token_body(clock, scope="x.r y.w", zid="hosttenant"))

    tokens = provider(
        handler, clock, CredentialStyle.APP_CREDENTIALS, host_tenant="hosttenant", user_tenant="user1"
    )
    token = await tokens.get()
    (req,) = seen
    assert str(req.url) == APP_TOKEN_URL
    assert req.headers["x-space-auth-key"] == f"Basic {BASIC}"
    assert "authorization" not in req.headers
    assert json.loads(req.content) == {
        "appName": "ihub",
        "appVersion": "1.0.0",
        "hostTenant": "hosttenant",
        "userTenant": "user1",
    }
    assert token.scopes == ("x.r", "y.w")  # a space-separated scope string
    assert token.tenant == "hosttenant"  # from zid when ten is absent


async def test_app_credentials_missing_fields_fail_before_sending(clock: Clock) -> None:
    calls = []
    tokens = provider(lambda r: calls.append(r), clock, CredentialStyle.APP_CREDENTIALS, app_name="")
    with pytest.raises(TokenError, match="app name"):
        await tokens.get()
    assert calls == []


async def test_cache_and_refresh_margin(clock: Clock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=token_body(clock))

    tokens = provider(handler, clock)
    first = await tokens.get()
    assert await tokens.get() is first
    clock.advance(1800 - 61)
    assert await tokens.get() is first and tokens.requests == 1
    clock.advance(2)  # now within 60 s of exp
    second = await tokens.get()
    assert second is not first and tokens.requests == 2
    assert await tokens.get(force=True) is not second and tokens.requests == 3


async def test_expires_in_used_when_token_is_not_a_jwt(clock: Clock) -> None:
    tokens = provider(
        lambda r: httpx.Response(200, json={"access_token": "opaque", "expires_in": 300}), clock
    )
    token = await tokens.get()
    assert token.expires_at == clock() + 300 and token.claims == {} and token.scopes == ()


async def test_single_flight_under_concurrency(clock: Clock) -> None:
    gate = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return httpx.Response(200, json=token_body(clock))

    tokens = provider(handler, clock)
    tasks = [asyncio.create_task(tokens.get()) for _ in range(50)]
    await asyncio.sleep(0.01)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert tokens.requests == 1
    assert len({id(t) for t in results}) == 1


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            401,
            {"error": "invalid_client", "error_description": "Bad credentials"},
            "rejected the client id or secret",
        ),
        (404, {"errors": [{"message": "no route"}]}, "token URL not found"),
        (
            400,
            {"error": "unsupported_grant_type", "error_description": "nope"},
            "does not accept the client-credentials grant",
        ),
        (400, {"error": "some_new_code", "error_description": "nope"}, "refused the request: nope"),
        (403, {"error": "access_denied"}, "denied access to these credentials (access_denied)"),
        (403, {"errors": [{"message": "no"}]}, "refused these credentials"),
    ],
)
async def test_token_endpoint_failures(clock: Clock, status: int, body: dict, expected: str) -> None:
    tokens = provider(lambda r: httpx.Response(status, json=body), clock)
    with pytest.raises(TokenError) as info:
        await tokens.get()
    assert expected in str(info.value)
    assert info.value.status == status
    assert CLIENT_SECRET not in str(info.value) and BASIC not in str(info.value)


async def test_token_endpoint_html_page(clock: Clock) -> None:
    tokens = provider(lambda r: httpx.Response(200, text="<html><title>Login</title></html>"), clock)
    with pytest.raises(TokenError, match="without an access_token"):
        await tokens.get()


async def test_token_endpoint_retries_503_then_succeeds(clock: Clock) -> None:
    answers = [httpx.Response(503), httpx.Response(200, json=token_body(clock))]
    tokens = provider(lambda r: answers.pop(0), clock)
    await tokens.get()
    assert tokens.requests == 2


async def test_token_endpoint_unreachable(clock: Clock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    tokens = provider(handler, clock)
    with pytest.raises(TransportError, match="could not resolve host demo.piam"):
        await tokens.get()
    assert tokens.requests == 1  # DNS failures are not retried


def test_reprs_hold_no_secrets(clock: Clock) -> None:
    cred = credentials()
    assert CLIENT_SECRET not in repr(cred)
    jwt = make_jwt(exp=2_000_000_000, scope=["a"])
    token = Token.from_response({"access_token": jwt}, clock())
    assert jwt not in repr(token)
    assert decode_claims(jwt)["scope"] == ["a"]
    assert decode_claims("not-a-jwt") == {}
    assert decode_claims("a.%%%.c") == {}
