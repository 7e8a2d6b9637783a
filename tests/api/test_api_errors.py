"""Error bodies of all three shapes, non-JSON bodies, transport errors, and no secrets in messages."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from tui.api.errors import (
    CODE_SENTENCES,
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
    RateLimitedError,
    ServerError,
    TransportError,
    error_from_response,
    parse_retry_after,
)

URL = "https://gateway.eu1.example.test/api/assetmanagement/v3/assets/abc"


def response(status: int, **kw) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", URL), **kw)


def test_shape_1_errors_list() -> None:
    body = {
        "errors": [
            {
                "code": "mdsp.core.assetmanagement.assetNotFound",
                "logref": "d1c6f2aa",
                "message": "Asset with id 'abc' not found",
                "messageParameters": [{"name": "assetId", "value": "abc"}],
            }
        ]
    }
    err = error_from_response(response(404, json=body))
    assert isinstance(err, NotFoundError)
    assert err.status == 404
    assert err.code == "mdsp.core.assetmanagement.assetNotFound"
    assert err.logref == "d1c6f2aa"
    assert err.message == "Asset with id 'abc' not found"
    assert err.method == "GET" and err.url == URL
    assert str(err) == (
        "Asset with id 'abc' not found (HTTP 404, mdsp.core.assetmanagement.assetNotFound, logref d1c6f2aa)"
    )


def test_shape_2_id_message() -> None:
    err = error_from_response(response(400, json={"id": "0f0e-uuid", "message": "Invalid time range"}))
    assert isinstance(err, BadRequestError)
    assert err.message == "Invalid time range"
    assert err.logref == "0f0e-uuid"
    assert err.code is None


def test_shape_3_oauth_error_with_correlation_id() -> None:
    body = {
        "id": "x1",
        "error": "invalid_client",
        "error_description": "Bad credentials (Correlation-ID: 7c9e6679abcd)",
    }
    err = error_from_response(response(401, json=body))
    assert isinstance(err, AuthenticationError)
    assert err.code == "invalid_client"
    assert err.logref == "7c9e6679abcd"
    assert "Bad credentials" in err.message


def test_plain_oauth_error_without_id() -> None:
    err = error_from_response(response(401, json={"error": "invalid_client"}))
    assert err.code == "invalid_client"
    assert err.message == "the token endpoint rejected the client id or secret (invalid_client)"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (409, ConflictError),
        (412, PreconditionFailedError),
        (428, PreconditionRequiredError),
        (429, RateLimitedError),
        (500, ServerError),
        (503, ServerError),
        (418, ApiError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[ApiError]) -> None:
    err = error_from_response(response(status, json={"errors": [{"message": "m"}]}))
    assert type(err) is cls
    assert isinstance(err, ApiError)


def test_html_page_from_proxy() -> None:
    html = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    err = error_from_response(response(502, text=html, headers={"content-type": "text/html"}))
    assert isinstance(err, ServerError)
    assert "HTML page" in err.message and "502 Bad Gateway" in err.message
    assert "<" not in err.message and "\n" not in str(err)


def test_empty_body_uses_reason_phrase() -> None:
    err = error_from_response(response(503, content=b""))
    assert isinstance(err, ServerError)
    assert "service unavailable" in err.message.lower()


def test_plain_text_body_one_line() -> None:
    err = error_from_response(response(500, text="upstream exploded\nstack line 1\nstack line 2"))
    assert err.message == "upstream exploded"


def test_correlation_header_used_when_body_has_no_logref() -> None:
    err = error_from_response(
        response(500, json={"errors": [{"message": "boom"}]}, headers={"X-Correlation-ID": "corr-42"})
    )
    assert err.logref == "corr-42"


def test_secrets_are_scrubbed_from_messages() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    body = {
        "errors": [{"message": f"bad header Bearer {jwt} and Basic ZGVtbzpzZWNyZXQxMjM= client_secret=abc"}]
    }
    err = error_from_response(response(400, json=body))
    text = str(err) + repr(err)
    assert jwt not in text
    assert "ZGVtbzpzZWNyZXQxMjM=" not in text
    assert "client_secret=abc" not in text


def test_long_message_cut_to_one_line() -> None:
    err = error_from_response(response(400, json={"errors": [{"message": "x " * 1000}]}))
    assert len(err.message) <= 300


def test_429_carries_retry_after() -> None:
    err = error_from_response(
        response(429, json={"errors": [{"message": "slow"}]}, headers={"Retry-After": "3"})
    )
    assert isinstance(err, RateLimitedError) and err.retry_after == 3.0


def test_parse_retry_after_seconds_and_date() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = 1_700_000_000.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now=now) == pytest.approx(10.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now=now) == 0.0


def _chained(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except Exception as final:
        return final


def test_transport_dns() -> None:
    exc = _chained(httpx.ConnectError("[Errno -2] Name or service not known"), socket.gaierror(-2, "x"))
    err = TransportError.from_exception(exc, method="GET", url="https://nohost.example.invalid/api")
    assert err.kind == TransportError.DNS and err.status is None
    assert str(err) == "could not resolve host nohost.example.invalid (DNS)"
    assert not err.transient


def test_transport_tls_verification() -> None:
    inner = ssl.SSLCertVerificationError(1, "certificate verify failed")
    inner.verify_message = "self-signed certificate in certificate chain"
    exc = _chained(httpx.ConnectError("verify failed"), inner)
    err = TransportError.from_exception(exc, url="https://gw.example.test/")
    assert err.kind == TransportError.TLS
    assert str(err).startswith("TLS certificate verification failed")
    assert "self-signed certificate" in str(err)


def test_transport_dropped_and_timeouts() -> None:
    dropped = TransportError.from_exception(
        httpx.RemoteProtocolError("Server disconnected without sending a response."), url="http://h:8/x"
    )
    assert dropped.kind == TransportError.DROPPED and "connection dropped" in str(dropped)
    assert dropped.transient and not dropped.never_sent
    refused = TransportError.from_exception(
        _chained(httpx.ConnectError("All connection attempts failed"), ConnectionRefusedError()),
        url="http://h:8/",
    )
    assert refused.kind == TransportError.CONNECT and refused.never_sent and "refused" in str(refused)
    read = TransportError.from_exception(httpx.ReadTimeout("t"), url="http://h/")
    assert read.kind == TransportError.READ_TIMEOUT and read.transient and "timed out" in str(read)


# -- issue 7 section 6: a plain sentence for each OAuth and gateway code ---------------------------------
def test_token_validation_failed_is_a_plain_sentence_with_the_bracketed_id_as_logref() -> None:
    body = {"error": "token_validation_failed", "error_description": "[96004b0a-5c8e-4bb2-9f5e-1d2c3b4a5f60]"}
    err = error_from_response(response(401, json=body))
    assert isinstance(err, AuthenticationError)
    assert err.code == "token_validation_failed"
    assert err.logref == "96004b0a-5c8e-4bb2-9f5e-1d2c3b4a5f60"
    assert str(err) == (
        "the gateway rejected the access token (token_validation_failed) "
        "(HTTP 401, logref 96004b0a-5c8e-4bb2-9f5e-1d2c3b4a5f60)"
    )


async def test_persistent_gateway_401_is_told_in_plain_words(mock_api) -> None:
    body = {"id": "x", "error": "token_validation_failed", "error_description": "[96004b0a]"}
    api, gw = mock_api(lambda r: httpx.Response(401, json=body))
    with pytest.raises(AuthenticationError) as info:
        await api.get_json("/api/assetmanagement/v3/assets/root")
    assert (
        str(info.value)
        == "the gateway rejected the access token (token_validation_failed) (HTTP 401, logref 96004b0a)"
    )
    assert len(gw.api_requests) == 2  # refreshed once


@pytest.mark.parametrize("code", sorted(CODE_SENTENCES))
@pytest.mark.parametrize("shape", ["oauth", "errors"])
def test_every_listed_code_reads_as_a_sentence(code: str, shape: str) -> None:
    if shape == "oauth":
        body: dict = {"error": code, "error_description": "[abc123]"}
    else:
        body = {"errors": [{"code": code, "logref": "abc123", "message": code}]}
    err = error_from_response(response(400, json=body))
    assert err.message == f"{CODE_SENTENCES[code]} ({code})"
    assert err.logref == "abc123" and err.code == code
    sentence = CODE_SENTENCES[code]
    assert sentence[0].islower() and "_" not in sentence and "mdsp." not in sentence


def test_listed_codes_cover_the_reference() -> None:
    for code in (
        "invalid_client",
        "token_validation_failed",
        "invalid_token",
        "insufficient_scope",
        "mdsp.core.generic.unauthorized",
        "mdsp.core.generic.forbidden",
        "mdsp.core.generic.tooManyRequests",
        "mdsp.core.generic.internalServerError",
        "mdsp.core.mindconnectmqtt.caCertificateLimitReached",
    ):
        assert code in CODE_SENTENCES


def test_server_words_that_add_something_are_kept() -> None:
    body = {"error": "invalid_token", "error_description": "[L-7] The token signature could not be verified"}
    err = error_from_response(response(401, json=body))
    assert err.message == (
        "the gateway rejected the access token as invalid or expired (invalid_token): "
        "The token signature could not be verified"
    )
    assert err.logref == "L-7"


def test_unknown_codes_keep_the_server_message() -> None:
    err = error_from_response(response(404, json={"errors": [{"code": "mdsp.core.x.y", "message": "Nope"}]}))
    assert err.message == "Nope" and str(err) == "Nope (HTTP 404, mdsp.core.x.y)"
