"""Link rewriting and header filtering (``tui.proxy.rewrite``), including every chunk boundary."""

from __future__ import annotations

import json

import pytest

from tui.proxy.rewrite import (
    MAX_HREF,
    LinkRewriter,
    request_headers,
    response_headers,
    upstream_accept_encoding,
    with_key,
)

GW = "https://gateway.eu1.example.test"
LOCAL = "http://127.0.0.1:8766"


def _rewrite(body: bytes, chunk: int, key: str | None = None, gateway: str = GW) -> bytes:
    rewriter = LinkRewriter(gateway).body(LOCAL, key)
    out = b"".join(rewriter.feed(body[i : i + chunk]) for i in range(0, len(body), chunk))
    return out + rewriter.flush()


HAL = json.dumps(
    {
        "_embedded": {"assets": [{"name": "a", "_links": {"self": {"href": f"{GW}/api/am/v3/assets/1"}}}]},
        "_links": {
            "self": {"href": f"{GW}/api/am/v3/assets?page=0&size=1"},
            "next": {"href": f"{GW}/api/am/v3/assets?page=1&size=1#frag"},
            "other": {"href": "https://elsewhere.example/api/x"},
            "lookalike": {"href": f"{GW}.evil.example/api/x"},
            "port": {"href": "https://gateway.eu1.example.test:8443/api/x"},
            "text": "mentions https://gateway.eu1.example.test/api/x outside an href",
        },
    }
).encode()


def test_hal_links_to_the_gateway_are_rewritten_and_nothing_else() -> None:
    out = json.loads(_rewrite(HAL, len(HAL)))
    assert out["_embedded"]["assets"][0]["_links"]["self"]["href"] == f"{LOCAL}/api/am/v3/assets/1"
    links = out["_links"]
    assert links["self"]["href"] == f"{LOCAL}/api/am/v3/assets?page=0&size=1"
    assert links["next"]["href"] == f"{LOCAL}/api/am/v3/assets?page=1&size=1#frag"
    assert links["other"]["href"] == "https://elsewhere.example/api/x"
    assert links["lookalike"]["href"] == f"{GW}.evil.example/api/x"
    assert links["port"]["href"] == "https://gateway.eu1.example.test:8443/api/x"
    assert links["text"] == "mentions https://gateway.eu1.example.test/api/x outside an href"


def test_every_chunk_boundary_gives_the_same_bytes() -> None:
    whole = _rewrite(HAL, len(HAL), key="k" * 20)
    for size in range(1, 80):
        assert _rewrite(HAL, size, key="k" * 20) == whole, size


def test_key_goes_into_rewritten_links_before_the_fragment() -> None:
    out = json.loads(_rewrite(HAL, 7, key="abc-KEY_0123456789"))
    assert (
        out["_links"]["self"]["href"]
        == f"{LOCAL}/api/am/v3/assets?page=0&size=1&ihub_proxy_key=abc-KEY_0123456789"
    )
    assert out["_links"]["next"]["href"].endswith("size=1&ihub_proxy_key=abc-KEY_0123456789#frag")
    assert "ihub_proxy_key" not in out["_links"]["other"]["href"]


def test_escaped_slashes_spaces_and_default_port() -> None:
    body = b'{"a":{"href" :  "https:\\/\\/gateway.eu1.example.test:443\\/api\\/x"},"b":{"href":"https://GATEWAY.eu1.example.test"}}'
    out = json.loads(_rewrite(body, 5))
    assert out == {"a": {"href": f"{LOCAL}/api/x"}, "b": {"href": LOCAL}}


def test_gateway_with_a_path_and_an_ip_gateway() -> None:
    body = b'{"x":{"href":"http://10.0.0.5:8080/base/api/y"},"z":{"href":"http://10.0.0.5:8080/other"}}'
    out = json.loads(_rewrite(body, 3, gateway="http://10.0.0.5:8080/base"))
    assert out == {"x": {"href": f"{LOCAL}/api/y"}, "z": {"href": "http://10.0.0.5:8080/other"}}


def test_hold_back_stays_bounded_and_overlong_hrefs() -> None:
    long_href = f"{GW}/api/x?f={'a' * (MAX_HREF + 10)}"
    body = json.dumps({"l": {"href": long_href}, "s": {"href": f"{GW}/api/s"}}).encode()
    for key, window in ((None, LinkRewriter(GW).origin_window), ("k" * 16, LinkRewriter(GW).href_window)):
        rewriter = LinkRewriter(GW).body(LOCAL, key)
        held = []
        out = b""
        for i in range(0, len(body), 1000):
            out += rewriter.feed(body[i : i + 1000])
            held.append(len(rewriter._carry))
        out += rewriter.flush()
        assert max(held) <= window + 1000
        result = json.loads(out)
        assert result["s"]["href"] == with_key(f"{LOCAL}/api/s", key)
        if key is None:  # only the origin is replaced: any length works
            assert result["l"]["href"] == long_href.replace(GW, LOCAL)
        else:  # the key goes at the end of the href, which must be within MAX_HREF: left as it is
            assert result["l"]["href"] == long_href


def test_body_without_links_streams_with_a_tiny_holdback() -> None:
    rewriter = LinkRewriter(GW).body(LOCAL, None)
    data = b'[{"_time":"2024-01-01T00:00:00.000Z","v":1.5}]' * 1000
    out = rewriter.feed(data)
    assert len(data) - len(out) <= 5
    assert out + rewriter.flush() == data


def test_link_and_location_headers() -> None:
    links = LinkRewriter(GW)
    value = f'<{GW}/api/ts?from=1&to=2>; rel="next", <https://other.example/x>; rel="help"'.encode()
    assert links.header(b"link", value, LOCAL, None) == (
        f'<{LOCAL}/api/ts?from=1&to=2>; rel="next", <https://other.example/x>; rel="help"'.encode()
    )
    assert links.header(b"location", f"{GW}/api/am/v3/assets/9".encode(), LOCAL, "k" * 16) == (
        f"{LOCAL}/api/am/v3/assets/9?ihub_proxy_key={'k' * 16}".encode()
    )
    assert links.header(b"location", b"/api/am/v3/assets/9", LOCAL, None) == b"/api/am/v3/assets/9"


def test_request_headers_filter() -> None:
    incoming = [
        (b"host", b"127.0.0.1:8766"),
        (b"authorization", b"Bearer stolen"),
        (b"cookie", b"a=b"),
        (b"x-ihub-proxy-key", b"secret-key"),
        (b"connection", b"keep-alive, X-Trace"),
        (b"x-trace", b"1"),
        (b"transfer-encoding", b"chunked"),
        (b"sec-fetch-site", b"cross-site"),
        (b"origin", b"http://localhost:3000"),
        (b"referer", b"http://localhost:3000/page"),
        (b"accept-encoding", b"gzip, br, zstd"),
        (b"content-type", b"application/json"),
        (b"if-match", b'"3"'),
        (b"x-custom", b"a"),
        (b"x-custom", b"b"),
    ]
    assert request_headers(incoming) == [
        (b"content-type", b"application/json"),
        (b"if-match", b'"3"'),
        (b"x-custom", b"a"),
        (b"x-custom", b"b"),
        (b"accept-encoding", b"gzip"),
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], ""), (["br"], ""), (["gzip;q=1.0, identity; q=0.5, *;q=0"], "gzip;q=1.0, identity; q=0.5")],
)
def test_upstream_accept_encoding(values: list[str], expected: str) -> None:
    assert upstream_accept_encoding(values) == expected


def test_response_headers_filter() -> None:
    headers = [
        (b"Content-Type", b"application/json"),
        (b"Set-Cookie", b"SESSION=1"),
        (b"Connection", b"close, X-Internal"),
        (b"X-Internal", b"1"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Alt-Svc", b'h3=":443"'),
        (b"ETag", b'"7"'),
        (b"Content-Length", b"10"),
    ]
    assert response_headers(headers, drop=["content-length"]) == [
        (b"content-type", b"application/json"),
        (b"etag", b'"7"'),
    ]
