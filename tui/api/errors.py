"""Typed API errors with one-line, secret-free messages.

``error_from_response`` reads the three Insights Hub error-body shapes (reference section 6):

1. ``{"errors":[{"code","logref","message"}]}`` (Asset Management, Aggregates v4, MQTT),
2. ``{"id","message"}`` (IoT Time Series v3),
3. ``{"id","error","error_description"}`` (token endpoints),

plus plain-text, HTML (a proxy's error page) and empty bodies. ``TransportError.from_exception`` turns
httpx's DNS, connect, TLS, timeout and dropped-connection errors into plain messages.
"""

from __future__ import annotations

import re
import socket
import ssl
from typing import Any

import httpx

from tui.api import contract as C

_MAX_MESSAGE = 300
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_AUTH_VALUE = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)
_SECRET_PARAM = re.compile(
    r"((?:access_token|client_secret|secret|password|passphrase|token|private_?key)=)[^&\s]+", re.IGNORECASE
)
_CORRELATION = re.compile(r"correlation[-_ ]?id[:=\s]+([A-Za-z0-9-]+)", re.IGNORECASE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def scrub(text: str) -> str:
    """Remove anything that looks like a token, an auth header value or a secret query parameter."""
    text = _JWT.sub("<token>", text)
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)} <redacted>", text)
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}<redacted>", text)


def one_line(text: str, limit: int = _MAX_MESSAGE) -> str:
    """Collapse whitespace to a single line and cut it to ``limit`` characters."""
    text = " ".join(scrub(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_url(url: httpx.URL | str | None) -> str | None:
    """The URL without userinfo and with secret-looking query values redacted."""
    if url is None:
        return None
    u = httpx.URL(str(url))
    if u.userinfo:
        u = u.copy_with(username=None, password=None)
    return scrub(str(u))


class ApiError(Exception):
    """Base of every error the API layer raises. ``str(err)`` is one human line without secrets."""

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
    ) -> None:
        self.message = one_line(message or self.default_message)
        self.status = status
        self.code = code
        self.logref = logref
        self.method = method
        self.url = safe_url(url)
        super().__init__(self.message)

    def __str__(self) -> str:
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.code:
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
    default_message = "too many requests; the service asked us to slow down"

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(ApiError):
    default_message = "the service had an internal error"


class TokenError(ApiError):
    """The token endpoint refused to issue a token (wrong id/secret, wrong URL, ...)."""

    default_message = "could not get an access token"


class TransportError(ApiError):
    """No HTTP answer: DNS, connect, TLS, timeout or a dropped connection. ``status`` is None."""

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

    def __init__(self, message: str | None = None, *, kind: str = "connect", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.kind = kind

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
        cls, exc: BaseException, *, method: str | None = None, url: httpx.URL | str | None = None
    ) -> TransportError:
        host = _host_of(url, exc)
        kind, message = _classify(exc, host)
        return cls(message, kind=kind, method=method, url=url)


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
    """(message, code, logref) from any of the three body shapes, plain text, HTML or empty."""
    content_type = response.headers.get("content-type", "").lower()
    text = _text(response)
    if not text.strip():
        return None, None, None
    data: Any = None
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            data = response.json()
        except ValueError:
            data = None
    if isinstance(data, dict):
        return _from_json_error(data)
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return _from_json_error({C.ERRORS_FIELD: data})
    if "html" in content_type or text.lstrip()[:1] == "<":
        return _from_html(text), None, None
    return one_line(text.splitlines()[0] if text.splitlines() else text), None, None


def error_from_response(
    response: httpx.Response, *, method: str | None = None, error_class: type[ApiError] | None = None
) -> ApiError:
    """Build the typed error for a non-success response (any of the body shapes of section 6)."""
    status = response.status_code
    message, code, logref = parse_error_body(response)
    logref = logref or response.headers.get(C.CORRELATION_HEADER)
    if message is None:
        reason = response.reason_phrase or ""
        message = f"{reason.lower() or 'error'} (empty response body)" if reason else None
    if 300 <= status < 400:
        location = response.headers.get("location")
        message = f"unexpected redirect{' to ' + safe_url(location) if location else ''}" + (
            f": {message}" if message else ""
        )
    request = response.request if _has_request(response) else None
    cls = error_class or error_class_for(status)
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "logref": logref,
        "method": method or (request.method if request is not None else None),
        "url": request.url if request is not None else None,
    }
    if cls is RateLimitedError:
        kwargs["retry_after"] = parse_retry_after(response.headers.get(C.RETRY_AFTER_HEADER))
    return cls(message, **kwargs)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date. None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    import time

    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


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
        return (one_line("; ".join(messages)) if messages else None), code, logref
    if C.OAUTH_ERROR_FIELD in data or C.OAUTH_ERROR_DESCRIPTION_FIELD in data:
        code = _str(data.get(C.OAUTH_ERROR_FIELD))
        desc = _str(data.get(C.OAUTH_ERROR_DESCRIPTION_FIELD))
        logref = None
        if desc:
            match = _CORRELATION.search(desc)
            if match:
                logref = match.group(1)
        logref = logref or _str(data.get(C.ERROR_ID_FIELD))
        return (one_line(desc) if desc else code), code, logref
    message = _str(data.get(C.ERROR_MESSAGE_FIELD))
    if message is not None or C.ERROR_ID_FIELD in data:
        code = _str(data.get(C.ERROR_CODE_FIELD))
        return (one_line(message) if message else None), code, _str(data.get(C.ERROR_ID_FIELD))
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


def _host_of(url: httpx.URL | str | None, exc: BaseException) -> str:
    if url is None:
        request = getattr(exc, "_request", None)
        url = request.url if request is not None else None
    if url is None:
        return "the server"
    try:
        u = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError):
        return "the server"
    if not u.host:
        return "the server"
    return f"{u.host}:{u.port}" if u.port else u.host


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _classify(exc: BaseException, host: str) -> tuple[str, str]:
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain)
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            detail = e.verify_message or str(e)
            return TransportError.TLS, f"TLS certificate verification failed for {host}: {detail}"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        detail = text.split("certificate verify failed:", 1)[-1].split("(_ssl")[0].strip() or "untrusted"
        return TransportError.TLS, f"TLS certificate verification failed for {host}: {detail}"
    if isinstance(exc, httpx.ProxyError):
        return TransportError.PROXY, f"the proxy refused the connection to {host}: {one_line(str(exc), 120)}"
    if isinstance(exc, httpx.ConnectTimeout):
        return TransportError.CONNECT_TIMEOUT, f"timed out connecting to {host}"
    if isinstance(exc, httpx.ReadTimeout):
        return TransportError.READ_TIMEOUT, f"timed out waiting for {host} to answer"
    if isinstance(exc, httpx.WriteTimeout):
        return TransportError.WRITE_TIMEOUT, f"timed out sending the request to {host}"
    if isinstance(exc, httpx.PoolTimeout):
        return TransportError.POOL_TIMEOUT, "timed out waiting for a free connection"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return TransportError.CONFIG, f"unsupported URL: {one_line(str(exc), 120)}"
    for e in chain:
        if isinstance(e, socket.gaierror) or "Name or service not known" in str(e):
            return TransportError.DNS, f"could not resolve host {host.split(':')[0]}"
        if "nodename nor servname" in str(e) or "getaddrinfo failed" in str(e):
            return TransportError.DNS, f"could not resolve host {host.split(':')[0]}"
        if "Temporary failure in name resolution" in str(e):
            return TransportError.DNS, f"could not resolve host {host.split(':')[0]}"
    for e in chain:
        if isinstance(e, ssl.SSLError):
            return TransportError.TLS, f"TLS handshake with {host} failed: {one_line(str(e), 120)}"
    if isinstance(exc, httpx.ConnectError):
        for e in chain:
            if isinstance(e, ConnectionRefusedError) or "Connection refused" in str(e):
                return TransportError.CONNECT, f"connection refused by {host}"
        return TransportError.CONNECT, f"could not connect to {host}: {one_line(str(exc), 120) or 'error'}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return TransportError.DROPPED, f"connection dropped by {host} before the response was complete"
    if isinstance(exc, httpx.TimeoutException):
        return TransportError.READ_TIMEOUT, f"timed out talking to {host}"
    if isinstance(exc, httpx.ProtocolError):
        return TransportError.PROTOCOL, f"HTTP protocol error talking to {host}"
    return TransportError.CONNECT, f"network error talking to {host}: {one_line(str(exc), 120)}"
