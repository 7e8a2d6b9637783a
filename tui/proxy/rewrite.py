"""Header filtering and link rewriting between the local client and the gateway (issue 13, section 1).

* Request headers lose the hop-by-hop ones (RFC 9110 7.6.1, plus any named in ``Connection``), the
  incoming ``Authorization`` and ``Cookie``, the proxy's own access key, and the browser's view of the
  local page (``Origin``, ``Referer``, ``Sec-Fetch-*``, ``Forwarded``/``X-Forwarded-*``).
* Response headers lose the hop-by-hop ones, ``Set-Cookie`` (a gateway cookie has no business on
  localhost) and ``Alt-Svc``; ``Link``, ``Location`` and ``Content-Location`` URLs that point at the
  gateway are rewritten to the proxy's own URL.
* JSON bodies are rewritten as they stream: ``"href": "<gateway>/..."`` values (the HAL ``_links`` of
  Asset Management, reference 2.2) become ``<proxy>/...``. The rewriter keeps only a bounded tail between
  chunks, so a body is never held whole; an href longer than ``MAX_HREF`` bytes is left as it is.

When the client authenticated with the query parameter, rewritten links carry it too, so a paging tool
that cannot set headers can follow them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import quote, urlsplit

import httpx

from tui.proxy.config import KEY_HEADER, KEY_PARAM

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
REQUEST_DROP = HOP_BY_HOP | {
    "host",
    "authorization",
    "cookie",
    KEY_HEADER.lower(),
    "origin",
    "referer",
    "accept-encoding",  # replaced by the encodings the proxy can decode (see upstream_accept_encoding)
    "expect",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-real-ip",
}
RESPONSE_DROP = HOP_BY_HOP | {"set-cookie", "alt-svc"}
REWRITE_HEADERS = frozenset({b"link", b"location", b"content-location"})
# Encodings httpx decodes without optional packages: the proxy may have to decode a JSON body to
# rewrite its links, so it never asks the gateway for anything else.
DECODABLE = frozenset({"gzip", "deflate", "identity"})
MAX_HREF = 8192
_MAX_SPACE = 16


def _connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> set[str]:
    names: set[str] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            names.update(t.strip().lower() for t in value.decode("latin-1").split(",") if t.strip())
    return names


def request_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The incoming headers (ASGI, lower-case names) that go on to the gateway, order kept."""
    headers = list(headers)
    extra = _connection_tokens(headers)
    out: list[tuple[bytes, bytes]] = []
    encodings: list[str] = []
    for name, value in headers:
        key = name.decode("latin-1").lower()
        if key == "accept-encoding":
            encodings.append(value.decode("latin-1"))
            continue
        if key in REQUEST_DROP or key in extra or key.startswith("sec-fetch-"):
            continue
        out.append((name, value))
    accept = upstream_accept_encoding(encodings)
    if accept:
        out.append((b"accept-encoding", accept.encode("ascii")))
    return out


def upstream_accept_encoding(values: list[str]) -> str:
    """The client's ``Accept-Encoding`` restricted to what the proxy can decode ('' = none asked)."""
    kept: list[str] = []
    for value in values:
        for item in value.split(","):
            token = item.strip()
            name = token.split(";", 1)[0].strip().lower()
            if name in DECODABLE and token not in kept:
                kept.append(token)
    return ", ".join(kept)


def response_headers(
    headers: Iterable[tuple[bytes, bytes]], *, drop: Iterable[str] = ()
) -> list[tuple[bytes, bytes]]:
    """The gateway's response headers that go back to the client (``drop``: extra names to leave out)."""
    headers = list(headers)
    extra = _connection_tokens(headers) | {d.lower() for d in drop}
    out = []
    for name, value in headers:
        key = name.decode("latin-1").lower()
        if key in RESPONSE_DROP or key in extra:
            continue
        out.append((name.lower(), value))
    return out


def is_json(content_type: str | None) -> bool:
    """True for ``application/json``, ``application/hal+json`` and other ``+json`` types."""
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def with_key(url: str, key: str | None) -> str:
    """``url`` with ``ihub_proxy_key=key`` added to its query (before any fragment)."""
    if not key:
        return url
    base, hash_, fragment = url.partition("#")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}{KEY_PARAM}={quote(key, safe='')}{hash_}{fragment}"


class LinkRewriter:
    """Rewrites gateway URLs to the proxy's URL; one per proxy (the gateway is fixed)."""

    def __init__(self, gateway: str) -> None:
        url = httpx.URL(gateway)
        self.scheme = url.scheme
        self.host = url.raw_host.decode("ascii").lower()
        default = 443 if url.scheme == "https" else 80
        self.port = url.port or default
        self.base_path = url.path.rstrip("/")
        slash = rb"\\?/"
        host = re.escape(self.host.encode("ascii"))
        if ":" in self.host:
            host = rb"\[" + host + rb"\]"
        port = rb"(?::%d)" % self.port + (b"?" if self.port == default else b"")
        base = re.escape(self.base_path.encode("ascii")).replace(b"/", slash)
        origin = (
            rb'("href"\s{0,%d}:\s{0,%d}")' % (_MAX_SPACE, _MAX_SPACE)
            + re.escape(self.scheme.encode("ascii"))
            + rb":"
            + slash
            + slash
            + rb"(?i:"
            + host
            + rb")"
            + port
            + base
        )
        # Without a key to add, only the origin is replaced: short matches, a short hold-back.
        self.origin_pattern = re.compile(origin + rb'(?=\\?[/?#]|")')
        # With a key to add, the whole href is matched (its end is where the key goes).
        self.href_pattern = re.compile(origin + rb'((?:\\?[/?#][^"]{0,%d})?)"' % MAX_HREF)
        # The canonical spelling, for a fast plain replacement of the common compact form.
        default_port = "" if self.port == default else f":{self.port}"
        host_text = f"[{self.host}]" if ":" in self.host else self.host
        self.origin = f"{self.scheme}://{host_text}{default_port}{self.base_path}".encode("ascii")
        # The longest matches (escaped slashes take two bytes), plus the lookahead.
        self.origin_window = 6 + 2 * _MAX_SPACE + 2 + 2 * len(gateway) + 8 + 2
        self.href_window = self.origin_window + MAX_HREF + 2

    def local_path(self, url: str) -> str | None:
        """For a gateway URL, its path+query+fragment relative to the proxy; else None."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            return None
        if parts.scheme.lower() != self.scheme or (parts.hostname or "").lower() != self.host:
            return None
        if (port or (443 if self.scheme == "https" else 80)) != self.port:
            return None
        path = parts.path
        if self.base_path:
            if not (path == self.base_path or path.startswith(self.base_path + "/")):
                return None
            path = path[len(self.base_path) :]
        rest = path or "/"
        if parts.query:
            rest += "?" + parts.query
        if parts.fragment:
            rest += "#" + parts.fragment
        return rest

    def url(self, url: str, proxy_base: str, key: str | None) -> str:
        """``url`` pointed at ``proxy_base`` when it is a gateway URL; a local path gets the key only."""
        local = self.local_path(url)
        if local is not None:
            return with_key(proxy_base + local, key)
        if url.startswith("/") and not url.startswith("//"):
            return with_key(url, key)
        return url

    def header(self, name: bytes, value: bytes, proxy_base: str, key: str | None) -> bytes:
        """A ``Link``, ``Location`` or ``Content-Location`` value with gateway URLs rewritten."""
        text = value.decode("latin-1")
        if name == b"link":
            text = re.sub(r"<([^>]*)>", lambda m: "<" + self.url(m.group(1), proxy_base, key) + ">", text)
        else:
            text = self.url(text, proxy_base, key)
        return text.encode("latin-1")

    def body(self, proxy_base: str, key: str | None) -> BodyRewriter:
        return BodyRewriter(self, proxy_base, key)


class BodyRewriter:
    """Streams a JSON body, rewriting gateway hrefs; holds back at most one possibly unfinished href."""

    _PREFIX = b'"href"'
    _plain: tuple[bytes, bytes] | None = None

    def __init__(self, links: LinkRewriter, proxy_base: str, key: str | None) -> None:
        base = proxy_base.encode("ascii")
        self._repl: Callable[[re.Match[bytes]], bytes]
        if key:
            self._regex = links.href_pattern
            self._window = links.href_window + len(self._PREFIX)

            def replace(match: re.Match[bytes]) -> bytes:
                rest = match.group(2)
                if rest.endswith(b"\\") and (len(rest) - len(rest.rstrip(b"\\"))) % 2:
                    return match.group(0)  # ends inside an escape: leave it as it is
                url = with_key(proxy_base + rest.decode("latin-1"), key).encode("latin-1")
                return match.group(1) + url + b'"'

            self._repl = replace
        else:
            self._regex = links.origin_pattern
            self._window = links.origin_window + len(self._PREFIX)
            # '"href":"<gateway>/' is replaced as plain bytes (fast); the regex catches the other
            # spellings (spaces, escaped slashes, an explicit default port, a bare origin).
            self._plain = (b'"href":"' + links.origin + b"/", b'"href":"' + base + b"/")

            def origin_only(match: re.Match[bytes]) -> bytes:
                return match.group(1) + base

            self._repl = origin_only
        self._carry = b""

    def feed(self, chunk: bytes) -> bytes:
        """The rewritten bytes that are final so far (possibly empty)."""
        buf = self._carry + chunk if self._carry else chunk
        keep = len(self._PREFIX) - 1
        if self._PREFIX not in buf:
            hold = max(0, len(buf) - keep)
            self._carry = buf[hold:]
            return buf[:hold]
        # An href that starts in the last window may be incomplete: hold back from there. A match that
        # starts earlier ends before it (no match contains a second '"href"'), and before the last bytes.
        start = buf.find(self._PREFIX, max(0, len(buf) - self._window))
        hold = start if start != -1 else max(0, len(buf) - keep)
        self._carry = buf[hold:]
        return self._rewrite(buf[:hold])

    def flush(self) -> bytes:
        """The rest (an href cut off by the end of the body is left as it is)."""
        tail, self._carry = self._carry, b""
        return self._rewrite(tail) if tail else tail

    def _rewrite(self, data: bytes) -> bytes:
        if self._plain is not None:
            data = data.replace(*self._plain)
        return self._regex.sub(self._repl, data)
