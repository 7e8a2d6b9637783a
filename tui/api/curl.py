"""Requests as curl command lines, with every credential replaced by a shell variable.

One function for every place that shows a request as curl: the CLI's ``--dry-run`` (``curl_line`` of an
``httpx.Request``) and the app's Requests view ("copy as curl", from the activity log's in-memory copy of
a call, ``tui.api.activity.RequestCopy``).

Credentials never appear: ``Authorization: Bearer <token>`` becomes ``$TOKEN``; ``Authorization: Basic
<client id:secret>`` (the token request) becomes ``-u "$CLIENT_ID:$CLIENT_SECRET"``; the app-credentials
header ``X-SPACE-AUTH-KEY`` is rebuilt from the same two variables; any other header whose name says key,
token, secret, password or cookie becomes ``$<HEADER_NAME>``. Headers curl adds by itself (Host,
Content-Length, Accept-Encoding, Connection, User-Agent) are left out.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tui.api import contract as C

if TYPE_CHECKING:
    import httpx

__all__ = ["TOKEN_VARIABLE", "curl_command", "curl_line", "safe_headers"]

TOKEN_VARIABLE = "$TOKEN"
BASIC_VARIABLES = "$CLIENT_ID:$CLIENT_SECRET"
# Headers curl sets by itself, or that only describe this client.
_SKIPPED = frozenset({"host", "content-length", "accept-encoding", "connection", "user-agent"})
_SENSITIVE_NAME = re.compile(r"key|token|secret|passw|cookie|auth|signature|credential", re.IGNORECASE)
_SPACE_AUTH = C.SPACE_AUTH_HEADER.lower()
# A header value made by ``safe_headers``: only placeholders, safe inside double quotes.
_PLACEHOLDER = re.compile(r"^[A-Za-z]*\s?\$[A-Z_]+(:\$[A-Z_]+)?$")


def _variable(name: str) -> str:
    return "$" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()


def safe_headers(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """``headers`` without the ones curl adds itself, credentials replaced by shell variables.

    ``Authorization`` keeps its scheme (``Bearer $TOKEN``, ``Basic $CLIENT_ID:$CLIENT_SECRET``); other
    sensitive headers become ``$<NAME>``. Applying it twice gives the same result.
    """
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower in _SKIPPED:
            continue
        if lower == "authorization":
            name = "Authorization"
            scheme = value.split(" ", 1)[0].lower()
            if scheme == "basic":
                value = f"Basic {BASIC_VARIABLES}"
            else:
                value = f"Bearer {TOKEN_VARIABLE}"
        elif lower == _SPACE_AUTH:
            name = C.SPACE_AUTH_HEADER
            value = f"{C.SPACE_AUTH_PREFIX} {BASIC_VARIABLES}"
        elif _SENSITIVE_NAME.search(lower):
            value = _variable(name)
        kept.append((name, value))
    return tuple(kept)


def curl_command(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    *,
    omitted_body: int = 0,
) -> str:
    """One curl command line for a request (credentials as shell variables, see the module doc).

    ``omitted_body``: the size of a request body that was not kept; the line then reads it from a file
    (``--data-binary @body``) and says so.
    """
    parts = ["curl"]
    if method != "GET":
        parts += ["-X", method]
    parts.append(shlex.quote(url))
    for name, value in safe_headers(headers):
        lower = name.lower()
        if lower == "authorization" and value.endswith(BASIC_VARIABLES):
            parts += ["-u", f'"{BASIC_VARIABLES}"']
        elif lower == _SPACE_AUTH and value.endswith(BASIC_VARIABLES):
            encoded = "$(printf '%s' \"$CLIENT_ID:$CLIENT_SECRET\" | base64)"
            parts += ["-H", f'"{name}: {C.SPACE_AUTH_PREFIX} {encoded}"']
        elif _PLACEHOLDER.match(value):
            parts += ["-H", f'"{name}: {value}"']
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        parts += ["--data-binary", shlex.quote(body.decode("utf-8", "replace"))]
    elif omitted_body:
        parts += ["--data-binary", "@body", f"# the {omitted_body}-byte body was not kept"]
    return " ".join(parts)


def curl_line(request: httpx.Request) -> str:
    """``request`` as a curl command line; the Authorization header shows ``$TOKEN``, never a token."""
    return curl_command(request.method, str(request.url), request.headers.items(), request.content)
