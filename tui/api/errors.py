"""Typed API errors with one-line, secret-free messages.

``error_from_response`` reads the three Insights Hub error-body shapes (reference section 6):

1. ``{"errors":[{"code","logref","message"}]}`` (Asset Management, Aggregates v4, MQTT),
2. ``{"id","message"}`` (IoT Time Series v3),
3. ``{"id","error","error_description"}`` (token endpoints and the gateway),

plus plain-text, HTML (a proxy's error page) and empty bodies. A known OAuth or gateway error code becomes
a plain sentence (``CODE_SENTENCES``); a bracketed id at the start of ``error_description`` becomes the
logref. Every error status that carries ``Retry-After`` says the requested wait in words.

``TransportError.from_exception`` turns httpx's DNS, connect, proxy, TLS, timeout and dropped-connection
errors into messages that name the hop that failed; with a ``HopTrace`` (httpcore's trace extension) it
knows how far the request got, e.g. that a proxy accepted the connection but never answered the CONNECT.
"""

from __future__ import annotations

import ipaddress
import math
import re
import socket
import ssl
from collections.abc import Callable
from typing import Any

import httpx

from tui.api import contract as C
from tui.api.headers import parse_content_type
from tui.api.headers import parse_retry_after as _parse_retry_after

_MAX_MESSAGE = 300
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_AUTH_VALUE = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)
_SECRET_PARAM = re.compile(
    r"((?:access_token|client_secret|secret|password|passphrase|token|private_?key)=)[^&\s]+", re.IGNORECASE
)
_CORRELATION = re.compile(r"correlation[-_ ]?id[:=\s]+([A-Za-z0-9-]+)", re.IGNORECASE)
# IAM puts a correlation id in brackets at the start of error_description: "[96004b0a-...] text".
_BRACKET_ID = re.compile(r"^\s*\[([A-Za-z0-9][A-Za-z0-9._:-]*)\]\s*(.*)$", re.DOTALL)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")

# Real client secrets are long random strings. A shorter value cannot be told from ordinary words ("wrong",
# "s"), so it is refused at every input boundary (tui.config.inputs) and never searched for when masking.
MIN_SECRET_LENGTH = 12
MASK = "***"


def scrub(text: str) -> str:
    """Remove anything that looks like a token, an auth header value or a secret query parameter."""
    text = _JWT.sub("<token>", text)
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)} <redacted>", text)
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}<redacted>", text)


def mask_secret(text: str, secret: str | None, mask: str = MASK) -> str:
    """``text`` with every occurrence of the whole value ``secret`` replaced by ``mask``.

    The whole value is masked, never a piece of a word: a value shorter than ``MIN_SECRET_LENGTH`` (refused
    as a secret at every input boundary) is not searched for at all, so the "secret" ``s`` never turns
    "Connection refused" into "Connection refu***ed" (which would also reveal it). A value of that length
    cannot occur inside ordinary text by chance, so every occurrence of it is masked, even glued to other
    characters.
    """
    if not secret or len(secret) < MIN_SECRET_LENGTH or not text:
        return text
    return text.replace(secret, mask)


def one_line(text: str, limit: int = _MAX_MESSAGE) -> str:
    """Collapse whitespace to a single line and cut it to ``limit`` characters."""
    text = " ".join(scrub(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_url(url: httpx.URL | str | None) -> str | None:
    """The URL without userinfo and with secret-looking query values redacted."""
    if url is None:
        return None
    try:
        u = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError):
        return scrub(str(url))
    if u.userinfo:
        u = u.copy_with(username=None, password=None)
    return scrub(str(u))


def wait_words(seconds: float) -> str:
    """A wait in plain words: ``45 s``, ``60 min`` (3600 s), ``3 h``, ``2 days``."""
    total = max(0, math.ceil(seconds))
    if total < 120:
        return f"{total} s"
    if total <= 2 * 3600:
        return f"{math.ceil(total / 60)} min"
    if total < 48 * 3600:
        return f"{round(total / 3600, 1):g} h"
    return f"{round(total / 86400, 1):g} days"


def retry_words(seconds: float) -> str:
    return f"the service asks to retry in {wait_words(seconds)}"


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (object, array, string, number, boolean, null)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    return "an unexpected value"


# --------------------------------------------------------------------------------------------------
# Plain sentences for the OAuth and gateway error codes (reference sections 4, 5.3 and 6; RFC 6749
# section 5.2 for the token endpoint, RFC 6750 section 3.1 for the gateway's bearer-token errors).
# --------------------------------------------------------------------------------------------------
CODE_SENTENCES: dict[str, str] = {
    # OAuth 2.0 token endpoint (RFC 6749 5.2); invalid_client is the reference's (6, 7).
    C.OAUTH_INVALID_CLIENT: "the token endpoint rejected the client id or secret",
    "invalid_request": "the token endpoint refused the request as malformed",
    "invalid_grant": "the token endpoint refused the grant",
    "unauthorized_client": "this client id may not use the client-credentials grant",
    "unsupported_grant_type": (
        "the token endpoint does not accept the client-credentials grant: check the token URL and the "
        "credential style"
    ),
    "invalid_scope": "the requested scope is unknown or not granted to this client",
    "access_denied": "the token endpoint denied access to these credentials",
    "server_error": "the token endpoint had an internal error",
    "temporarily_unavailable": "the service is temporarily unavailable",
    # Bearer tokens at the gateway (RFC 6750 3.1) and the gateway's own code.
    "invalid_token": "the gateway rejected the access token as invalid or expired",
    "insufficient_scope": "the access token lacks the scope for this operation",
    C.GATEWAY_TOKEN_VALIDATION_FAILED: "the gateway rejected the access token",
    "unauthorized": "the gateway did not accept the request's credentials",
    "too_many_requests": "rate limited",
    # Generic gateway codes (reference 4: unauthorized, forbidden, tooManyRequests, internalServerError).
    "mdsp.core.generic.unauthorized": "the gateway did not accept the access token (missing or expired)",
    "mdsp.core.generic.forbidden": (
        "access denied: these credentials lack the scope or role for this operation"
    ),
    "mdsp.core.generic.tooManyRequests": "rate limited",
    "mdsp.core.generic.internalServerError": "the service had an internal error",
    "mdsp.core.generic.serviceUnavailable": "the service is temporarily unavailable",
    "mdsp.core.generic.invalidToken": "the gateway rejected the access token as invalid",
    "mdsp.core.generic.tokenExpired": "the access token has expired",
    # MindConnect MQTT (reference 5.3).
    C.CA_LIMIT_CODE: "the environment already has two CA certificates, the most allowed; delete one first",
}
_CODE_SENTENCES_LOWER = {code.lower(): sentence for code, sentence in CODE_SENTENCES.items()}


def code_sentence(code: str | None) -> str | None:
    """The plain sentence for a known OAuth or gateway error code, else None."""
    if not code:
        return None
    return CODE_SENTENCES.get(code) or _CODE_SENTENCES_LOWER.get(code.lower())


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _with_detail(sentence: str, code: str, detail: str | None) -> str:
    """``sentence (code)``, plus the server's own words when they add something."""
    text = f"{sentence} ({code})"
    if detail:
        d = _norm(detail)
        if d and d != _norm(code) and d not in _norm(sentence) and len(detail.split()) >= 3:
            text += f": {detail}"
    return text


class ApiError(Exception):
    """Base of every error the API layer raises. ``str(err)`` is one human line without secrets.

    ``retry_after`` (seconds) is set when the response carried ``Retry-After``.
    """

    default_message = "the request failed"

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        logref: str | None = None,
        method: str | None = None,
        url: httpx.URL | str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = one_line(message or self.default_message)
        self.status = status
        self.code = code
        self.logref = logref
        self.method = method
        self.url = safe_url(url)
        self.retry_after = retry_after
        super().__init__(self.message)

    def set_message(self, message: str) -> None:
        self.message = one_line(message)
        self.args = (self.message,)

    def __str__(self) -> str:
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.code and f"({self.code})" not in self.message:
            details.append(self.code)
        if self.logref:
            details.append(f"logref {self.logref}")
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, method={self.method!r}, url={self.url!r})"


class BadRequestError(ApiError):
    default_message = "the server refused the request as invalid"


class AuthenticationError(ApiError):
    default_message = "the token was missing, expired or rejected"


class ForbiddenError(ApiError):
    default_message = "access denied: these credentials lack the scope or role for this operation"


class NotFoundError(ApiError):
    default_message = "not found"


class ConflictError(ApiError):
    default_message = "conflict with the current state of the resource"


class PreconditionFailedError(ApiError):
    default_message = "the resource was changed by someone else (stale etag); reload and try again"


class PreconditionRequiredError(ApiError):
    default_message = "the server requires an If-Match etag for this change"


class RateLimitedError(ApiError):
    default_message = "rate limited; the service asks to slow down"


class ServerError(ApiError):
    default_message = "the service had an internal error"


class TokenError(ApiError):
    """The token endpoint refused to issue a token (wrong id/secret, wrong URL, ...)."""

    default_message = "could not get an access token"


class HopTrace:
    """How far one request got, recorded from httpcore's ``trace`` request extension.

    Pass it as ``extensions={"trace": trace}``; ``TransportError.from_exception(..., trace=trace)`` then
    names the hop that failed. Phases: ``tcp`` (connecting to the server or the proxy), ``tls``,
    ``proxy_connect`` (a CONNECT sent to the proxy, its answer awaited), ``request``, ``response``
    (waiting for the answer), ``body``.

    ``on_connection`` (optional) is called once, when the request holds its connection: a new one being
    opened (``connect_tcp``) or a kept-alive one it sends its headers on.
    """

    __slots__ = ("on_connection", "phase", "tcp_host", "tcp_port", "tunnel")

    def __init__(self, on_connection: Callable[[], None] | None = None) -> None:
        self.phase: str | None = None
        self.tcp_host: str | None = None
        self.tcp_port: int | None = None
        self.tunnel: str | None = None  # "host:port" of a CONNECT sent to a proxy
        self.on_connection = on_connection

    async def __call__(self, name: str, info: dict[str, Any]) -> None:
        if not name.endswith(".started"):
            return
        step = name[: -len(".started")].rsplit(".", 1)[-1]
        if self.on_connection is not None and step in ("connect_tcp", "send_request_headers"):
            self.on_connection()
            self.on_connection = None
        if step == "connect_tcp":
            self.phase = "tcp"
            self.tcp_host = str(info.get("host") or "") or None
            port = info.get("port")
            self.tcp_port = port if isinstance(port, int) else None
        elif step == "start_tls":
            self.phase = "tls"
        elif step == "send_request_headers":
            request = info.get("request")
            method = getattr(request, "method", b"")
            if method == b"CONNECT":
                self.phase = "proxy_connect"
                target = getattr(getattr(request, "url", None), "target", b"")
                self.tunnel = target.decode("ascii", "replace") if isinstance(target, bytes) else str(target)
            else:
                self.phase = "request"
        elif step == "receive_response_headers":
            if self.phase != "proxy_connect":
                self.phase = "response"
        elif step == "receive_response_body":
            self.phase = "body"

    def proxy_for(self, host: str, port: int | None) -> str | None:
        """``host:port`` of the proxy the request went through, when it did."""
        if self.tcp_host is None:
            return None
        if self.tunnel is not None or (self.tcp_host, self.tcp_port) != (host, port):
            return _hostport(self.tcp_host, self.tcp_port)
        return None


class TransportError(ApiError):
    """No HTTP answer: DNS, connect, proxy, TLS, timeout or a dropped connection. ``status`` is None.

    ``kind`` says what failed, ``hop`` where (``dns``, ``tcp``, ``proxy``, ``tls``, ``server``,
    ``config``), ``role`` which endpoint was being called (``token endpoint`` or ``gateway``), and
    ``detail`` the message without the role.
    """

    default_message = "network error"

    # kinds
    DNS = "dns"
    CONNECT = "connect"
    TLS = "tls"
    CONNECT_TIMEOUT = "connect_timeout"
    READ_TIMEOUT = "read_timeout"
    WRITE_TIMEOUT = "write_timeout"
    POOL_TIMEOUT = "pool_timeout"
    DROPPED = "dropped"
    PROXY = "proxy"
    PROTOCOL = "protocol"
    CONFIG = "config"

    def __init__(
        self,
        message: str | None = None,
        *,
        kind: str = "connect",
        hop: str | None = None,
        role: str | None = None,
        **kw: Any,
    ) -> None:
        detail = message or self.default_message
        super().__init__(f"{role}: {detail}" if role else detail, **kw)
        self.kind = kind
        self.hop = hop or _HOP_OF_KIND.get(kind, "server")
        self.role = role
        self.detail = one_line(detail)

    @property
    def never_sent(self) -> bool:
        """True when the request certainly never reached the server (safe to retry for any method)."""
        return self.kind in (self.CONNECT, self.CONNECT_TIMEOUT, self.POOL_TIMEOUT)

    @property
    def transient(self) -> bool:
        """True for failures that may go away on retry (not DNS, TLS, proxy or configuration)."""
        return self.kind in (
            self.CONNECT,
            self.CONNECT_TIMEOUT,
            self.READ_TIMEOUT,
            self.WRITE_TIMEOUT,
            self.POOL_TIMEOUT,
            self.DROPPED,
        )

    @classmethod
    def from_exception(
        cls,
        exc: BaseException,
        *,
        method: str | None = None,
        url: httpx.URL | str | None = None,
        trace: HopTrace | None = None,
        role: str | None = None,
    ) -> TransportError:
        host, port = _host_port_of(url, exc)
        kind, hop, message = _classify(exc, host, port, trace, _timeouts(exc))
        return cls(message, kind=kind, hop=hop, role=role, method=method, url=url)


_HOP_OF_KIND = {
    TransportError.DNS: "dns",
    TransportError.CONNECT: "tcp",
    TransportError.CONNECT_TIMEOUT: "tcp",
    TransportError.TLS: "tls",
    TransportError.PROXY: "proxy",
    TransportError.CONFIG: "config",
}


class ResponseFormatError(ApiError):
    """A success response whose body is not what the contract says."""

    default_message = "the service answered with an unexpected body"


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    428: PreconditionRequiredError,
    429: RateLimitedError,
}


def error_class_for(status: int) -> type[ApiError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return ApiError


def parse_error_body(response: httpx.Response) -> tuple[str | None, str | None, str | None]:
    """(message, code, logref) from any of the three body shapes, plain text, HTML or empty.

    For a known code the message is its plain sentence (``CODE_SENTENCES``) followed by the code.
    """
    media = parse_content_type(response.headers.get("content-type"))
    text = _text(response)
    if not text.strip():
        return None, None, None
    data: Any = None
    if media.is_json or text.lstrip()[:1] in ("{", "["):
        try:
            data = response.json()
        except ValueError:
            data = None
    if isinstance(data, dict):
        return _from_json_error(data)
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return _from_json_error({C.ERRORS_FIELD: data})
    if media.is_html or text.lstrip()[:1] == "<":
        return _from_html(text), None, None
    return one_line(text.splitlines()[0] if text.splitlines() else text), None, None


def error_from_response(
    response: httpx.Response,
    *,
    method: str | None = None,
    error_class: type[ApiError] | None = None,
    now: float | None = None,
) -> ApiError:
    """Build the typed error for a non-success response (any of the body shapes of section 6).

    ``now`` (the local clock) is used for an HTTP-date ``Retry-After`` only when the response has no
    ``Date`` header.
    """
    status = response.status_code
    message, code, logref = parse_error_body(response)
    logref = logref or response.headers.get(C.CORRELATION_HEADER)
    if message is None:
        reason = response.reason_phrase or ""
        message = f"{reason.lower() or 'error'} (empty response body)" if reason else None
    if 300 <= status < 400:
        location = response.headers.get("location")
        message = f"unexpected redirect{' to ' + (safe_url(location) or '') if location else ''}" + (
            f": {message}" if message else ""
        )
    retry_after = parse_retry_after(
        response.headers.get(C.RETRY_AFTER_HEADER), now, date=response.headers.get("date")
    )
    cls = error_class or error_class_for(status)
    if status == C.STATUS_RATE_LIMITED:
        message = "rate limited" if retry_after is not None else cls.default_message
    if retry_after is not None:
        message = f"{message or cls.default_message}; {retry_words(retry_after)}"
    request = response.request if _has_request(response) else None
    return cls(
        message,
        status=status,
        code=code,
        logref=logref,
        method=method or (request.method if request is not None else None),
        url=request.url if request is not None else None,
        retry_after=retry_after,
    )


def parse_retry_after(
    value: str | None, now: float | None = None, *, date: str | None = None
) -> float | None:
    """Seconds from a ``Retry-After`` header (``tui.api.headers.parse_retry_after``)."""
    return _parse_retry_after(value, now, date=date)


# -- helpers ----------------------------------------------------------------------------------------


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018
    except RuntimeError:
        return False
    return True


def _text(response: httpx.Response) -> str:
    try:
        return response.text
    except (UnicodeDecodeError, LookupError, httpx.ResponseNotRead):
        return ""


def _from_json_error(data: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    errors = data.get(C.ERRORS_FIELD)
    if isinstance(errors, list) and errors:
        messages, code, logref = [], None, None
        for item in errors:
            if not isinstance(item, dict):
                continue
            if item.get(C.ERROR_MESSAGE_FIELD):
                messages.append(str(item[C.ERROR_MESSAGE_FIELD]))
            code = code or _str(item.get(C.ERROR_CODE_FIELD) or item.get("errorcode"))
            logref = logref or _str(item.get(C.ERROR_LOGREF_FIELD))
        detail = one_line("; ".join(messages)) if messages else None
        sentence = code_sentence(code)
        if sentence and code:
            return _with_detail(sentence, code, detail), code, logref
        return detail, code, logref
    if C.OAUTH_ERROR_FIELD in data or C.OAUTH_ERROR_DESCRIPTION_FIELD in data:
        code = _str(data.get(C.OAUTH_ERROR_FIELD))
        desc = _str(data.get(C.OAUTH_ERROR_DESCRIPTION_FIELD))
        logref = None
        if desc:
            bracketed = _BRACKET_ID.match(desc)
            if bracketed:
                logref = bracketed.group(1)
                desc = bracketed.group(2).strip() or None
        if desc and logref is None:
            match = _CORRELATION.search(desc)
            if match:
                logref = match.group(1)
        logref = logref or _str(data.get(C.ERROR_ID_FIELD))
        detail = one_line(desc) if desc else None
        sentence = code_sentence(code)
        if sentence and code:
            return _with_detail(sentence, code, detail), code, logref
        return (detail or code), code, logref
    message = _str(data.get(C.ERROR_MESSAGE_FIELD))
    if message is not None or C.ERROR_ID_FIELD in data:
        code = _str(data.get(C.ERROR_CODE_FIELD))
        detail = one_line(message) if message else None
        sentence = code_sentence(code)
        if sentence and code:
            return _with_detail(sentence, code, detail), code, _str(data.get(C.ERROR_ID_FIELD))
        return detail, code, _str(data.get(C.ERROR_ID_FIELD))
    # Spring Boot default error: {"timestamp","status","error","message","path"} handled above via message.
    return None, None, None


def _from_html(text: str) -> str:
    for pattern in (_HTML_TITLE, _HTML_H1):
        match = pattern.search(text)
        if match:
            title = one_line(_TAG.sub(" ", match.group(1)), 120)
            if title:
                return f"the server returned an HTML page ({title}); a proxy or gateway may be in the way"
    return "the server returned an HTML page instead of JSON; a proxy or gateway may be in the way"


def _str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


# -- transport errors -------------------------------------------------------------------------------


def _hostport(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port else shown


def is_loopback_host(host: str) -> bool:
    """``localhost``, ``*.localhost`` (RFC 6761) or a loopback address."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_port_of(url: httpx.URL | str | None, exc: BaseException) -> tuple[str, int | None]:
    if url is None:
        request = getattr(exc, "_request", None)
        url = request.url if request is not None else None
    if url is None:
        return "the server", None
    try:
        u = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError):
        return "the server", None
    if not u.host:
        return "the server", None
    port = u.port or {"https": 443, "http": 80}.get(u.scheme)
    return u.host, port


def _timeouts(exc: BaseException) -> dict[str, float]:
    request = getattr(exc, "_request", None)
    if request is None:
        return {}
    timeout = request.extensions.get("timeout") if hasattr(request, "extensions") else None
    if not isinstance(timeout, dict):
        return {}
    return {k: float(v) for k, v in timeout.items() if isinstance(v, int | float)}


def _seconds(value: float | None) -> str:
    return f" within {value:g} s" if value else ""


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _is_dns_failure(chain: list[BaseException]) -> bool:
    for e in chain:
        text = str(e)
        if isinstance(e, socket.gaierror) or any(
            words in text
            for words in (
                "Name or service not known",
                "nodename nor servname",
                "getaddrinfo failed",
                "Temporary failure in name resolution",
                "No address associated with hostname",
            )
        ):
            return True
    return False


def _classify(
    exc: BaseException,
    host: str,
    port: int | None,
    trace: HopTrace | None,
    timeouts: dict[str, float],
) -> tuple[str, str, str]:
    """(kind, hop, message) for a transport failure, naming the hop that failed."""
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain)
    target = _hostport(host, port) if host != "the server" else host
    proxy = trace.proxy_for(host, port) if trace is not None else None
    phase = trace.phase if trace is not None else None
    tunnel = (trace.tunnel if trace is not None else None) or target
    via = f" through the proxy {proxy}" if proxy else ""

    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            detail = e.verify_message or str(e)
            return TransportError.TLS, "tls", f"TLS certificate verification failed for {host}{via}: {detail}"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        detail = text.split("certificate verify failed:", 1)[-1].split("(_ssl")[0].strip() or "untrusted"
        return TransportError.TLS, "tls", f"TLS certificate verification failed for {host}{via}: {detail}"
    if isinstance(exc, httpx.ProxyError):
        answer = one_line(str(exc), 120)
        where = proxy or "the proxy"
        if answer[:3].isdigit():
            return (
                TransportError.PROXY,
                "proxy",
                f"the proxy {where} refused the CONNECT to {tunnel} (HTTP {answer})",
            )
        return TransportError.PROXY, "proxy", f"the proxy {where} failed to connect to {tunnel}: {answer}"
    if phase == "proxy_connect" and proxy:
        if isinstance(exc, httpx.TimeoutException):
            return (
                TransportError.PROXY,
                "proxy",
                f"the proxy {proxy} accepted the connection but did not answer the CONNECT to {tunnel}"
                f"{_seconds(timeouts.get('read'))}",
            )
        return (
            TransportError.PROXY,
            "proxy",
            f"the proxy {proxy} closed the connection instead of answering the CONNECT to {tunnel}",
        )
    if isinstance(exc, httpx.PoolTimeout):
        return TransportError.POOL_TIMEOUT, "server", "timed out waiting for a free connection"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return TransportError.CONFIG, "config", f"unsupported URL: {one_line(str(exc), 120)}"
    tcp_target = _hostport(trace.tcp_host, trace.tcp_port) if trace is not None and trace.tcp_host else target
    if _is_dns_failure(chain):
        if proxy and trace is not None and trace.tcp_host:
            return TransportError.DNS, "dns", f"could not resolve the proxy host {trace.tcp_host} (DNS)"
        return TransportError.DNS, "dns", f"could not resolve host {host} (DNS)"
    if isinstance(exc, httpx.ConnectTimeout):
        if phase == "tls":
            return (
                TransportError.CONNECT_TIMEOUT,
                "tls",
                f"the TLS handshake with {host}{via} did not finish{_seconds(timeouts.get('connect'))}",
            )
        if proxy:
            return (
                TransportError.CONNECT_TIMEOUT,
                "proxy",
                f"the proxy {proxy} did not accept a connection{_seconds(timeouts.get('connect'))}",
            )
        return (
            TransportError.CONNECT_TIMEOUT,
            "tcp",
            f"no TCP connection to {tcp_target}{_seconds(timeouts.get('connect'))}: a firewall may drop the "
            "traffic, or a proxy is required",
        )
    for e in chain:
        if isinstance(e, ssl.SSLError):
            reason = one_line(str(e), 120)
            return TransportError.TLS, "tls", f"TLS handshake with {host}{via} failed: {reason}"
    if isinstance(exc, httpx.ConnectError):
        refused = any(isinstance(e, ConnectionRefusedError) or "Connection refused" in str(e) for e in chain)
        if refused:
            if proxy:
                return (
                    TransportError.PROXY,
                    "proxy",
                    f"the proxy {proxy} refused the connection: nothing is listening on {proxy}",
                )
            refused_host = trace.tcp_host if trace is not None and trace.tcp_host else host
            return TransportError.CONNECT, "tcp", _refused_words(tcp_target, refused_host)
        detail = _os_reason(chain) or one_line(str(exc), 120) or "error"
        if proxy:
            return TransportError.PROXY, "proxy", f"could not connect to the proxy {proxy}: {detail}"
        return TransportError.CONNECT, "tcp", f"could not connect to {tcp_target}: {detail}"
    if isinstance(exc, httpx.ReadTimeout):
        return (
            TransportError.READ_TIMEOUT,
            "server",
            f"{target}{via} accepted the request but did not answer{_seconds(timeouts.get('read'))}"
            if phase in ("request", "response")
            else f"timed out waiting for {target}{via} to answer{_seconds(timeouts.get('read'))}",
        )
    if isinstance(exc, httpx.WriteTimeout):
        return TransportError.WRITE_TIMEOUT, "server", f"timed out sending the request to {target}{via}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return (
            TransportError.DROPPED,
            "server",
            f"connection dropped by {target}{via} before the response was complete",
        )
    if isinstance(exc, httpx.TimeoutException):
        return TransportError.READ_TIMEOUT, "server", f"timed out talking to {target}{via}"
    if isinstance(exc, httpx.ProtocolError):
        return TransportError.PROTOCOL, "server", f"HTTP protocol error talking to {target}{via}"
    return TransportError.CONNECT, "tcp", f"network error talking to {target}{via}: {one_line(str(exc), 120)}"


def _refused_words(target: str, host: str | None) -> str:
    if host and is_loopback_host(host):
        return f"nothing is listening on {target} (connection refused)"
    return f"{target} refused the connection: nothing is listening on that port, or a firewall rejects it"


def _os_reason(chain: list[BaseException]) -> str | None:
    """The operating system's words for the innermost OSError with an errno (e.g. "No route to host")."""
    import os

    for e in reversed(chain):
        if isinstance(e, OSError) and isinstance(e.errno, int) and e.errno > 0:
            return os.strerror(e.errno)
    return None
