"""Issue 7 section 2: a Retry-After beyond the retry budget is not waited for; the error says the wait."""

from __future__ import annotations

import time
from email.utils import formatdate

import httpx
import pytest

from tests.api.conftest import Clock, Sleeps
from tui.api.errors import (
    ApiError,
    ForbiddenError,
    RateLimitedError,
    ServerError,
    TokenError,
    error_from_response,
    wait_words,
)
from tui.api.headers import parse_retry_after
from tui.sim.config import SimConfig

PATH = "/api/assetmanagement/v3/assets/root"


def always(status: int, **headers: str):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, json={"errors": [{"message": "Too many requests"}]})

    return handler


async def test_retry_after_3600_sends_no_further_request(mock_api, sleeps: Sleeps) -> None:
    """The field report: ihub slept 60 s four times, sent five requests, then said "Too many requests"."""
    api, gw = mock_api(always(429, **{"Retry-After": "3600"}))
    with pytest.raises(RateLimitedError) as info:
        await api.get_json(PATH)
    assert len(gw.api_requests) == 1 and sleeps.delays == []
    assert info.value.retry_after == 3600
    assert info.value.message == "rate limited; the service asks to retry in 60 min"
    assert str(info.value).startswith("rate limited; the service asks to retry in 60 min (HTTP 429")


async def test_http_date_form_is_measured_against_the_response_date(
    mock_api, sleeps: Sleeps, clock: Clock
) -> None:
    server_now = clock() - 7200  # the server's clock is two hours behind ours: must not matter
    headers = {
        "Retry-After": formatdate(server_now + 3600, usegmt=True),
        "Date": formatdate(server_now, usegmt=True),
    }
    api, gw = mock_api(always(429, **headers))
    with pytest.raises(RateLimitedError) as info:
        await api.get_json(PATH)
    assert len(gw.api_requests) == 1 and sleeps.delays == []
    assert info.value.retry_after == pytest.approx(3600)
    assert "the service asks to retry in 60 min" in str(info.value)


async def test_http_date_within_budget_is_waited_for(mock_api, sleeps: Sleeps, clock: Clock) -> None:
    server_now = clock() + 5000  # skewed the other way; only the difference counts
    answers = [
        httpx.Response(
            429,
            headers={
                "Retry-After": formatdate(server_now + 5, usegmt=True),
                "Date": formatdate(server_now, usegmt=True),
            },
        ),
        httpx.Response(200, json={"name": "root"}),
    ]
    api, gw = mock_api(lambda r: answers.pop(0))
    assert (await api.get_json(PATH))["name"] == "root"
    assert len(gw.api_requests) == 2 and 5.0 <= sleeps.delays[0] <= 5.2


@pytest.mark.parametrize(
    ("status", "cls", "method"),
    [
        (503, ServerError, "GET"),
        (502, ServerError, "GET"),
        (500, ServerError, "DELETE"),
        (503, ServerError, "POST"),
    ],
)
async def test_every_retried_status_carrying_retry_after(
    mock_api, sleeps: Sleeps, status, cls, method
) -> None:
    api, gw = mock_api(always(status, **{"Retry-After": "7200"}))
    with pytest.raises(cls) as info:
        await api.request(method, PATH)
    assert len(gw.api_requests) == 1 and sleeps.delays == []
    assert "the service asks to retry in 120 min" in str(info.value)


async def test_a_status_that_is_not_retried_still_says_the_wait(mock_api) -> None:
    api, _ = mock_api(always(403, **{"Retry-After": "90"}))
    with pytest.raises(ForbiddenError) as info:
        await api.get_json(PATH)
    assert "the service asks to retry in 90 s" in str(info.value)


async def test_waits_share_one_budget(mock_api, sleeps: Sleeps) -> None:
    api, gw = mock_api(always(429, **{"Retry-After": "40"}))
    with pytest.raises(RateLimitedError, match="retry in 40 s"):
        await api.get_json(PATH)
    assert len(gw.api_requests) == 2  # 40 s waited; another 40 s would pass the 60 s budget
    assert len(sleeps.delays) == 1 and 40.0 <= sleeps.delays[0] <= 40.2


async def test_token_endpoint_retry_after_beyond_budget(mock_api, sleeps: Sleeps) -> None:
    api, gw = mock_api(always(200))
    gw.token_handler = lambda r: httpx.Response(
        429, headers={"Retry-After": "3600"}, json={"error": "too_many_requests"}
    )
    with pytest.raises(TokenError) as info:
        await api.get_json(PATH)
    assert api.tokens.requests == 1 and sleeps.delays == []
    assert "the service asks to retry in 60 min" in str(info.value)


@pytest.mark.parametrize("http_date", [False, True])
async def test_simulator_rate_limit_with_a_long_wait_in_both_forms(sim, http_date: bool) -> None:
    config = SimConfig(fault_rate=1.0, faults=("429",), retry_after_s=3600, retry_after_http_date=http_date)
    api, app = sim(config, clock=Clock(time.time()))
    with pytest.raises(RateLimitedError) as info:
        await api.assets.root()
    assert api.requests == 1
    assert app.state.tenant.counters["faults_429"] == 1
    assert "rate limited; the service asks to retry in 60 min" in str(info.value)


def test_error_from_response_for_any_status_keeps_the_wait() -> None:
    request = httpx.Request("GET", "https://gw.test/x")
    err = error_from_response(httpx.Response(418, headers={"Retry-After": "5"}, request=request))
    assert isinstance(err, ApiError) and err.retry_after == 5 and "retry in 5 s" in err.message


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (119.2, "2 min"),
        (120, "2 min"),
        (3600, "60 min"),
        (5400, "90 min"),
        (10800, "3 h"),
        (86400, "24 h"),
        (3 * 86400, "3 days"),
    ],
)
def test_wait_words(seconds: float, words: str) -> None:
    assert wait_words(seconds) == words


def test_parse_retry_after_follows_rfc_9110() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("3600") == 3600
    assert parse_retry_after(" 120 ") == 120
    for invalid in ("1.5", "-5", "inf", "nan", "1e3", "soon", ""):
        assert parse_retry_after(invalid, now) is None, invalid
    # The three HTTP-date forms a recipient must accept (RFC 9110 5.6.7), all UTC.
    imf = "Tue, 14 Nov 2023 22:13:30 GMT"
    rfc850 = "Tuesday, 14-Nov-23 22:13:30 GMT"
    asctime = "Tue Nov 14 22:13:30 2023"
    for value in (imf, rfc850, asctime):
        assert parse_retry_after(value, now) == pytest.approx(10.0), value
    # Measured against the response's Date when given, not against the local clock.
    assert parse_retry_after(imf, now + 99999, date="Tue, 14 Nov 2023 22:13:00 GMT") == pytest.approx(30.0)


def test_asctime_dates_are_utc_whatever_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_retry_after("Tue Nov 14 22:13:30 2023", 1_700_000_000.0) == pytest.approx(10.0)
    finally:
        monkeypatch.undo()
        time.tzset()
