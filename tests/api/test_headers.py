"""Issue 7 section 4: the headers the client reads, parsed by their specifications (Link per RFC 8288,
Content-Type per RFC 9110 8.3; Retry-After is in test_retry_after.py; the body etag in test_api_models)."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import GATEWAY
from tui.api.client import parse_json
from tui.api.errors import ResponseFormatError, error_from_response
from tui.api.headers import link_target, parse_content_type, parse_link_header
from tui.api.models import parse_etag

TS = "/api/iottimeseries/v3/timeseries/ID/Env"


async def test_next_link_with_semicolons_in_the_query_reads_every_page(mock_api) -> None:
    """The field report: the URL was cut at ';' and paging stopped with "repeats a page already read";
    with the ';' after ``from``, ``to`` and ``limit`` were dropped silently."""
    t0, t1, t2 = (f"2024-03-01T10:00:0{i}.000Z" for i in range(3))
    links = {
        # the header: select before from
        "first": f"select=a;b&from={t0}",
        # select after from: to and limit come after the ';'
        t0: f"from={t1}&select=a;b&to=2024-03-02T00:00:00.000Z&limit=1",
    }
    records = {"first": [{"_time": t0, "a": 1}], t0: [{"_time": t1, "a": 2}], t1: [{"_time": t2, "a": 3}]}
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        assert request.url.params["select"] == "a;b"
        key = request.url.params.get("from", "first")
        headers = {}
        if key in links:
            headers["Link"] = f'<{GATEWAY}{TS}?{links[key]}>; rel="next"'
        return httpx.Response(200, json=records[key], headers=headers)

    api, gw = mock_api(handler)
    got = [r async for r in api.paginate_link(TS, {"select": "a;b"})]
    assert [r["a"] for r in got] == [1, 2, 3]
    assert len(gw.api_requests) == 3
    last = seen[-1].params
    assert last["to"] == "2024-03-02T00:00:00.000Z" and last["limit"] == "1" and last["from"] == t1


def test_link_uri_is_everything_between_the_angle_brackets() -> None:
    header = (
        "<https://gw.test/api/iottimeseries/v3/timeseries/ID/Env?select=a;b&from=2024-03-01T10:00:00.000Z>; "
        'rel="next"'
    )
    assert link_target(header, "next") == (
        "https://gw.test/api/iottimeseries/v3/timeseries/ID/Env?select=a;b&from=2024-03-01T10:00:00.000Z"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # several links, commas and semicolons inside the URIs
        ('<https://h/x?a=1,2;3>; rel="prev", <https://h/y?b=4;5,6>; rel="next"', "https://h/y?b=4;5,6"),
        # relation types are a space-separated, case-insensitive list
        ('<https://h/z>; rel="last NEXT"', "https://h/z"),
        ("<https://h/z>; REL=next", "https://h/z"),
        # other parameters first, quoted strings with commas, semicolons and escaped quotes
        ('<https://h/q>; title="a, b; \\"c\\""; type="application/json"; rel=next', "https://h/q"),
        # only the first rel counts (RFC 8288 3.3)
        ("<https://h/one>; rel=prev; rel=next, <https://h/two>; rel=next", "https://h/two"),
        # a malformed link is skipped, the next one is read
        ('garbage; rel=next, <https://h/ok>; rel="next"', "https://h/ok"),
        # whitespace around the URI and the parameters
        ('  < https://h/w >  ;  rel = "next"  ', "https://h/w"),
        ('<https://h/p>; rel="prev"', None),
        ("", None),
    ],
)
def test_link_header_rfc_8288(header: str, expected: str | None) -> None:
    assert link_target(header, "next") == expected


def test_link_params_are_parsed() -> None:
    (link,) = parse_link_header('<https://h/q>; rel="next last"; title="a, b"; anchor=x')
    assert link.rels == ("next", "last")
    assert link.params["title"] == "a, b" and link.params["anchor"] == "x"


async def test_next_link_in_a_second_link_header_line(mock_api) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if "page=2" in str(request.url):
            return httpx.Response(200, json=[{"v": 2}])
        headers = [
            ("Link", f"<{GATEWAY}{TS}?page=1>; rel=self"),
            ("Link", f"<{GATEWAY}{TS}?page=2>; rel=next"),
        ]
        return httpx.Response(200, json=[{"v": 1}], headers=headers)

    api, _ = mock_api(handler)
    assert [r["v"] async for r in api.paginate_link(TS)] == [1, 2]


@pytest.mark.parametrize(
    ("value", "essence", "json", "html", "charset"),
    [
        ("application/json", "application/json", True, False, None),
        ("application/json; charset=utf-8", "application/json", True, False, "utf-8"),
        ('Application/Problem+JSON;Charset="UTF-8"', "application/problem+json", True, False, "UTF-8"),
        (
            "application/vnd.siemens.mindsphere+json;version=3",
            "application/vnd.siemens.mindsphere+json",
            True,
            False,
            None,
        ),
        ("text/html; charset=ISO-8859-1", "text/html", False, True, "ISO-8859-1"),
        ("application/xhtml+xml", "application/xhtml+xml", False, True, None),
        ('text/plain; note="about json"', "text/plain", False, False, None),
        ("json", "", False, False, None),
        ("", "", False, False, None),
    ],
)
def test_content_type_rfc_9110(value: str, essence: str, json: bool, html: bool, charset: str | None) -> None:
    media = parse_content_type(value)
    assert media.essence == essence and media.is_json is json and media.is_html is html
    assert media.params.get("charset") == charset


def test_error_body_with_a_json_suffix_media_type_is_read() -> None:
    response = httpx.Response(
        400,
        content=b'  \n {"errors":[{"code":"mdsp.core.x","message":"bad filter","logref":"L1"}]}',
        headers={"content-type": "application/problem+json; charset=utf-8"},
        request=httpx.Request("GET", "https://gw.test/x"),
    )
    err = error_from_response(response)
    assert err.message == "bad filter" and err.logref == "L1"


def test_a_text_body_mentioning_json_is_not_taken_for_json() -> None:
    response = httpx.Response(
        502,
        content=b"upstream json parser failed",
        headers={"content-type": 'text/plain; note="json"'},
        request=httpx.Request("GET", "https://gw.test/x"),
    )
    assert error_from_response(response).message == "upstream json parser failed"


def test_non_json_success_body_is_named_in_plain_words() -> None:
    response = httpx.Response(
        200,
        content=b"<html>login</html>",
        headers={"content-type": "text/html; charset=utf-8"},
        request=httpx.Request("GET", "https://gw.test/x"),
    )
    with pytest.raises(ResponseFormatError, match="expected JSON, got text/html"):
        parse_json(response)


@pytest.mark.parametrize(
    ("value", "expected"), [(7, 7), ("7", 7), ('"7"', 7), ('W/"7"', 7), ('"abc"', "abc"), ('W/"a-b"', "a-b")]
)
def test_body_etag_forms(value: object, expected: object) -> None:
    """The client reads no ETag header: Asset Management's etag is in the body (reference 2.4, 7)."""
    assert parse_etag(value) == expected
