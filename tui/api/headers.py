"""The response headers the client reads, parsed by their specifications, not by ad-hoc splitting.

* ``Link`` (RFC 8288 section 3): ``<URI-Reference> *( ";" link-param )``, comma-separated. The URI is
  everything between ``<`` and ``>``, so a ``;`` or ``,`` inside it (``select=a;b``) is part of the URI;
  parameter values are tokens or quoted strings (backslash escapes); ``rel`` is a space-separated list of
  case-insensitive relation types, and only its first occurrence counts.
* ``Retry-After`` (RFC 9110 section 10.2.3): ``delay-seconds`` (``1*DIGIT``) or an ``HTTP-date``. An
  HTTP-date is compared with the response's own ``Date`` header when there is one, so a skewed local
  clock does not change the wait.
* ``HTTP-date`` (RFC 9110 section 5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms a
  recipient must accept; always UTC.
* ``Content-Type`` (RFC 9110 section 8.3): ``type "/" subtype *( OWS ";" OWS parameter )``, case-
  insensitive type, subtype and parameter names; parameter values may be quoted. JSON is
  ``application/json`` or any ``+json`` structured suffix (RFC 6839).

The client reads no ``ETag`` header: Asset Management carries the etag in the body (reference 2.4, 7),
read by ``tui.api.models.parse_etag``.
"""

from __future__ import annotations

import calendar
import email.utils
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_OWS = " \t"
_DIGITS = re.compile(r"[0-9]+")


# --------------------------------------------------------------------------------------------------
# Link (RFC 8288)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinkValue:
    """One link of a ``Link`` header: its target as written and its parameters (names lower case)."""

    target: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def rels(self) -> tuple[str, ...]:
        """The relation types, lower case (``rel="next last"`` -> ``("next", "last")``)."""
        return tuple(r.lower() for r in self.params.get("rel", "").split())


def _skip_ows(text: str, i: int) -> int:
    while i < len(text) and text[i] in _OWS:
        i += 1
    return i


def _skip_to_next_link(text: str, i: int) -> int:
    """From a malformed spot, move past the next top-level comma (outside ``<...>`` and quotes)."""
    in_quotes = in_angle = False
    while i < len(text):
        ch = text[i]
        if in_quotes:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_quotes = False
        elif in_angle:
            in_angle = ch != ">"
        elif ch == '"':
            in_quotes = True
        elif ch == "<":
            in_angle = True
        elif ch == ",":
            return i + 1
        i += 1
    return i


def _quoted(text: str, i: int) -> tuple[str, int]:
    """A quoted-string starting at ``text[i] == '"'``: its unescaped value and the index after it."""
    out: list[str] = []
    i += 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    return "".join(out), i  # unterminated: take what there is


def _token(text: str, i: int) -> tuple[str, int]:
    start = i
    while i < len(text) and text[i] in _TOKEN_CHARS:
        i += 1
    return text[start:i], i


def parse_link_header(value: str | None) -> list[LinkValue]:
    """Every link of a ``Link`` header value (RFC 8288 section 3); malformed links are skipped."""
    links: list[LinkValue] = []
    if not value:
        return links
    text = value
    i = 0
    while i < len(text):
        i = _skip_ows(text, i)
        if i >= len(text):
            break
        if text[i] == ",":
            i += 1
            continue
        if text[i] != "<":
            i = _skip_to_next_link(text, i)
            continue
        end = text.find(">", i + 1)
        if end < 0:
            break
        target = text[i + 1 : end].strip()
        i = end + 1
        params: dict[str, str] = {}
        while True:
            i = _skip_ows(text, i)
            if i >= len(text) or text[i] == ",":
                break
            if text[i] != ";":
                i = _skip_to_next_link(text, i) - 1  # land on the comma (or the end)
                break
            i = _skip_ows(text, i + 1)
            name, i = _token(text, i)
            i = _skip_ows(text, i)
            param_value = ""
            if i < len(text) and text[i] == "=":
                i = _skip_ows(text, i + 1)
                if i < len(text) and text[i] == '"':
                    param_value, i = _quoted(text, i)
                else:
                    param_value, i = _token(text, i)
            name = name.lower()
            if name and name not in params:  # RFC 8288 3.3: occurrences after the first are ignored
                params[name] = param_value
        links.append(LinkValue(target, params))
    return links


def link_target(value: str | None, rel: str) -> str | None:
    """The target of the first link whose ``rel`` list contains ``rel`` (case-insensitive), or None."""
    wanted = rel.lower()
    for link in parse_link_header(value):
        if wanted in link.rels:
            return link.target
    return None


# --------------------------------------------------------------------------------------------------
# HTTP-date and Retry-After (RFC 9110)
# --------------------------------------------------------------------------------------------------
def parse_http_date(value: str | None) -> float | None:
    """Epoch seconds of an HTTP-date (IMF-fixdate, RFC 850 or asctime form; UTC); None if invalid."""
    if not value:
        return None
    parsed = email.utils.parsedate_tz(value.strip())
    if parsed is None:
        return None
    try:
        return float(calendar.timegm(parsed[:6]) - (parsed[9] or 0))
    except (OverflowError, ValueError, TypeError):
        return None


def parse_retry_after(
    value: str | None, now: float | None = None, *, date: str | None = None
) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP-date. None if absent/invalid.

    An HTTP-date is measured from ``date`` (the response's ``Date`` header, the server's clock) when it
    is given and valid, else from ``now`` (default: the local clock).
    """
    if not value:
        return None
    text = value.strip()
    if _DIGITS.fullmatch(text):
        return float(int(text))
    when = parse_http_date(text)
    if when is None:
        return None
    reference = parse_http_date(date)
    if reference is None:
        import time

        reference = time.time() if now is None else now
    return max(0.0, when - reference)


# --------------------------------------------------------------------------------------------------
# Content-Type (RFC 9110 section 8.3)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaType:
    """``type/subtype`` (lower case) and its parameters (names lower case, values unquoted)."""

    type: str
    subtype: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def essence(self) -> str:
        return f"{self.type}/{self.subtype}" if self.type else ""

    @property
    def is_json(self) -> bool:
        return self.type == "application" and (self.subtype == "json" or self.subtype.endswith("+json"))

    @property
    def is_html(self) -> bool:
        return self.essence in ("text/html", "application/xhtml+xml")


def parse_content_type(value: str | None) -> MediaType:
    """Parse a ``Content-Type`` value; an absent or malformed one gives an empty ``MediaType``."""
    if not value:
        return MediaType("", "")
    text = value.strip()
    i = 0
    kind, i = _token(text, i)
    if i >= len(text) or text[i] != "/" or not kind:
        return MediaType("", "")
    sub, i = _token(text, i + 1)
    if not sub:
        return MediaType("", "")
    params: dict[str, str] = {}
    while True:
        i = _skip_ows(text, i)
        if i >= len(text) or text[i] != ";":
            break
        i = _skip_ows(text, i + 1)
        name, i = _token(text, i)
        if i < len(text) and text[i] == "=":
            if i + 1 < len(text) and text[i + 1] == '"':
                param_value, i = _quoted(text, i + 1)
            else:
                param_value, i = _token(text, i + 1)
            if name and name.lower() not in params:
                params[name.lower()] = param_value
        elif not name:
            break
    return MediaType(kind.lower(), sub.lower(), params)


__all__ = [
    "LinkValue",
    "MediaType",
    "link_target",
    "parse_content_type",
    "parse_http_date",
    "parse_link_header",
    "parse_retry_after",
]
