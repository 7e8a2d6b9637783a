"""ApiClient against httpx.MockTransport: auth, retries, typed errors, logging."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from tests.api.conftest import GATEWAY, Clock, Sleeps
from tui import __version__
from tui.api.errors import (
    AuthenticationError,
    ForbiddenError,
    PreconditionFailedError,
    RateLimitedError,
    ResponseFormatError,
    ServerError,
    TransportError,
)

PATH = "/api/assetmanagement/v3/assets/root"


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"assetId": "a" * 32, "name": "demo"})


def sequence(*answers):
    """A handler that plays the given answers (Response or exception class) in order."""
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, type) and issubclass(item, Exception):
            raise item("simulated", request=request)
        return item

    return handler


async def test_bearer_token_and_user_agent(mock_api) -> None:
    api, gw = mock_api(ok)
    body = await api.get_json(PATH)
    assert body["name"] == "demo"
    (req,) = gw.api_requests
    assert req.headers["authorization"] == f"Bearer {gw.issued[0]}"
    assert req.headers["user-agent"] == f"ihub/{__version__}"
    assert str(req.url) == GATEWAY + PATH


async def test_fifty_concurrent_calls_with_expired_token_make_one_token_request(
    mock_api, clock: Clock
) -> None:
    api, gw = mock_api(ok)
    await api.get_json(PATH)
    assert len(gw.token_requests) == 1
    clock.advance(3600)  # the cached token is now expired

    gate = asyncio.Event()

    async def slow_token(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        now = int(clock())
        from tests.api.conftest import make_jwt

        return httpx.Response(200, json={"access_token": make_jwt(iat=now, exp=now + 1800)})

    gw.token_handler = slow_token
    tasks = [asyncio.create_task(api.get_json(PATH)) for _ in range(50)]
    await asyncio.sleep(0.01)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert len(results) == 50
    assert len(gw.token_requests) == 2  # exactly one more
    assert api.tokens.requests == 2


async def test_401_refreshes_once_and_retries(mock_api) -> None:
    api, gw = mock_api(sequence(httpx.Response(401, json={"errors": [{"message": "expired"}]}), ok(None)))
    body = await api.get_json(PATH)
    assert body["name"] == "demo"
    assert len(gw.token_requests) == 2
    first, second = gw.api_requests
    assert first.headers["authorization"] != second.headers["authorization"]
    assert second.headers["authorization"] == f"Bearer {gw.issued[1]}"


async def test_401_twice_raises_authentication_error(mock_api) -> None:
    api, gw = mock_api(lambda r: httpx.Response(401, json={"errors": [{"message": "no"}]}))
    with pytest.raises(AuthenticationError):
        await api.get_json(PATH)
    assert len(gw.api_requests) == 2 and len(gw.token_requests) == 2


async def test_429_honours_retry_after_seconds(mock_api, sleeps: Sleeps) -> None:
    api, gw = mock_api(sequence(httpx.Response(429, headers={"Retry-After": "2"}), ok(None)))
    await api.get_json(PATH)
    assert len(gw.api_requests) == 2
    assert 2.0 <= sleeps.delays[0] <= 2.2


async def test_429_retry_after_http_date(mock_api, sleeps: Sleeps, clock: Clock) -> None:
    from email.utils import formatdate

    later = formatdate(clock() + 5, usegmt=True)
    api, _ = mock_api(
        sequence(httpx.Response(429, headers={"Retry-After": later}), ok(None)), retry_budget=10.0
    )
    await api.get_json(PATH)
    assert 5.0 <= sleeps.delays[0] <= 5.2


async def test_429_is_retried_for_post(mock_api) -> None:
    api, gw = mock_api(sequence(httpx.Response(429), httpx.Response(201, json={"assetId": "b" * 32})))
    await api.send_json("POST", "/api/assetmanagement/v3/assets", json={"name": "x"}, expected=(201,))
    assert len(gw.api_requests) == 2


async def test_5xx_retried_with_backoff_for_get(mock_api, sleeps: Sleeps) -> None:
    api, gw = mock_api(
        sequence(httpx.Response(503), httpx.Response(502), httpx.Response(504), httpx.Response(500), ok(None))
    )
    await api.get_json(PATH)
    assert len(gw.api_requests) == 5
    assert len(sleeps.delays) == 4
    # exponential backoff with jitter: base 0.5 -> [0.25,0.5], [0.5,1], [1,2], [2,4]
    for n, delay in enumerate(sleeps.delays):
        assert 0.5 * 2**n / 2 <= delay <= 0.5 * 2**n


async def test_5xx_gives_up_after_max_retries(mock_api) -> None:
    api, gw = mock_api(lambda r: httpx.Response(503, json={"errors": [{"message": "down"}]}), max_retries=2)
    with pytest.raises(ServerError, match="down"):
        await api.get_json(PATH)
    assert len(gw.api_requests) == 3


async def test_5xx_not_retried_for_post_unless_idempotent(mock_api) -> None:
    api, gw = mock_api(lambda r: httpx.Response(503))
    with pytest.raises(ServerError):
        await api.request("POST", "/api/x", json={})
    assert len(gw.api_requests) == 1
    api2, gw2 = mock_api(sequence(httpx.Response(503), httpx.Response(200, json={})))
    await api2.request("POST", "/api/x", json={}, idempotent=True)
    assert len(gw2.api_requests) == 2


async def test_dropped_connection_retried_for_get_not_post(mock_api) -> None:
    api, gw = mock_api(sequence(httpx.RemoteProtocolError, httpx.ReadTimeout, ok(None)))
    await api.get_json(PATH)
    assert len(gw.api_requests) == 3
    api2, gw2 = mock_api(sequence(httpx.RemoteProtocolError))
    with pytest.raises(TransportError, match="connection dropped") as info:
        await api2.request("POST", "/api/x", json={})
    assert info.value.status is None and info.value.kind == TransportError.DROPPED
    assert len(gw2.api_requests) == 1


async def test_connect_error_retried_even_for_post(mock_api) -> None:
    api, gw = mock_api(sequence(httpx.ConnectError, httpx.Response(201, json={})))
    await api.request("POST", "/api/x", json={})
    assert len(gw.api_requests) == 2


async def test_typed_errors_and_no_token_in_message(mock_api) -> None:
    api, gw = mock_api(
        lambda r: httpx.Response(403, json={"errors": [{"message": "missing scope", "logref": "L1"}]})
    )
    with pytest.raises(ForbiddenError) as info:
        await api.request("DELETE", "/api/assetmanagement/v3/assets/x", headers={"If-Match": "1"})
    err = info.value
    assert err.logref == "L1" and err.method == "DELETE"
    assert err.url == GATEWAY + "/api/assetmanagement/v3/assets/x"
    for text in (str(err), repr(err), err.url or ""):
        assert gw.issued[0] not in text and "Bearer" not in text


async def test_412_is_precondition_failed(mock_api) -> None:
    api, _ = mock_api(lambda r: httpx.Response(412, json={"errors": [{"message": "etag mismatch"}]}))
    with pytest.raises(PreconditionFailedError):
        await api.request("PUT", "/api/x", json={}, headers={"If-Match": "3"})


async def test_rate_limit_exhausted(mock_api) -> None:
    api, _ = mock_api(lambda r: httpx.Response(429, headers={"Retry-After": "1"}), max_retries=1)
    with pytest.raises(RateLimitedError) as info:
        await api.get_json(PATH)
    assert info.value.retry_after == 1.0


async def test_unexpected_bodies(mock_api) -> None:
    api, _ = mock_api(
        lambda r: httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"})
    )
    with pytest.raises(ResponseFormatError, match="expected JSON"):
        await api.get_json(PATH)
    api2, _ = mock_api(lambda r: httpx.Response(204))
    with pytest.raises(ResponseFormatError, match="unexpected success status 204"):
        await api2.get_json(PATH)


async def test_redirect_is_an_error_not_followed(mock_api) -> None:
    api, gw = mock_api(lambda r: httpx.Response(302, headers={"location": "https://login.example.test/sso"}))
    with pytest.raises(Exception, match="unexpected redirect to https://login.example.test/sso"):
        await api.get_json(PATH)
    assert len(gw.api_requests) == 1


async def test_request_log_lines_keep_query_but_no_secrets(
    mock_api, caplog: pytest.LogCaptureFixture
) -> None:
    api, gw = mock_api(sequence(httpx.Response(503), ok(None)))
    with caplog.at_level(logging.DEBUG, logger="ihub.api"):
        await api.get_json("/api/assetmanagement/v3/assets", params={"filter": '{"name":"x"}', "page": 0})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET /api/assetmanagement/v3/assets?filter=" in text and "-> 200" in text
    assert "retry 1" in text
    assert gw.issued[0] not in text and "Bearer" not in text and "Basic" not in text
    assert "FAKE-test-secret-value" not in text


async def test_boolean_params_are_lowercase(mock_api) -> None:
    api, gw = mock_api(ok)
    await api.get_json(PATH, params={"includeShared": True, "skip": None})
    assert gw.api_requests[0].url.query == b"includeShared=true"
