"""Step-by-step connection diagnosis for the Keys screen and ``ihub keys test``.

Steps, in order: name resolution, TCP connect and TLS for each host (gateway and token host), the proxy in
use (with a real ``CONNECT`` through it for each HTTPS host), the token endpoint, and one API call
(``GET /api/assetmanagement/v3/assets/root``). Each step is ``ok`` (True), failed (False) or
skipped/informational (None). ``Diagnosis.cause`` says in plain words what is most likely wrong and names
the hop that failed (proxy, DNS, TCP, TLS, token endpoint, gateway): a wrong secret, a wrong token URL, a
proxy that accepts connections but never answers the CONNECT, nothing listening on a port, ...

A skewed local clock is reported (``Diagnosis.clock_skew_s`` and a line of the report) but is never given
as the cause of a refused token: the client judges token lifetimes on the local clock from the receipt
time, and the token endpoint does not look at the client's clock. It does explain a certificate that is
"not yet valid" or "expired" by the local clock, which the TLS step says.

With an injected transport (the in-process simulator) the network steps are reported as skipped, not
faked. The resolver and the connector are injectable, so tests never leave loopback. The token itself is
never part of the result.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import ssl
import time
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import httpx

from tui.api import contract as C
from tui.api.auth import CLOCK_SKEW_NOTICE_S, Credentials, CredentialStyle, Token, skew_words
from tui.api.client import ApiClient, ConnectionConfig
from tui.api.errors import (
    ApiError,
    TokenError,
    TransportError,
    is_loopback_host,
    mask_secret,
    one_line,
    safe_url,
)
from tui.api.headers import parse_http_date
from tui.api.tls import ssl_context

STEP_DNS = "name resolution"
STEP_TCP = "TCP connect"
STEP_TLS = "TLS"
STEP_PROXY = "proxy"
STEP_TOKEN = "token endpoint"
STEP_API = "API call"

SKIPPED_IN_PROCESS = "skipped: in-process simulator"
CLOCK_SKEW_WARN_S = CLOCK_SKEW_NOTICE_S
_X509_CERT_NOT_YET_VALID = 9  # OpenSSL X509_V_ERR_CERT_NOT_YET_VALID
_X509_CERT_HAS_EXPIRED = 10  # OpenSSL X509_V_ERR_CERT_HAS_EXPIRED
PROXY_TLS_CAUSE = (
    "a proxy is intercepting TLS: certificate verification fails while a proxy is configured; "
    "set the profile's CA bundle to the proxy's CA certificate"
)

Resolver = Callable[[str, int], Awaitable[list[str]]]
Connector = Callable[..., Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


class ProfileLike(Protocol):
    gateway: str
    token_url: str
    client_id: str
    style: str
    tenant: str
    app_name: str
    app_version: str
    ca_bundle: str | None


@dataclass
class Step:
    name: str
    ok: bool | None
    detail: str
    host: str = ""

    @property
    def status(self) -> str:
        return {True: "ok", False: "FAIL", None: "-"}[self.ok]


@dataclass
class TokenInfo:
    """What the Keys screen shows about a fetched token (never the token itself)."""

    style: str
    tenant: str | None
    client_id: str | None
    scopes: tuple[str, ...]
    issued_at: float | None
    expires_at: float
    round_trip_ms: float
    clock_skew_s: float | None = None


@dataclass
class Diagnosis:
    steps: list[Step] = field(default_factory=list)
    cause: str | None = None
    token_info: TokenInfo | None = None
    # Server time minus local time (s), when measured; reported when at least CLOCK_SKEW_WARN_S.
    clock_skew_s: float | None = None

    @property
    def token_ok(self) -> bool:
        return self.token_info is not None

    @property
    def api_ok(self) -> bool:
        return any(s.name == STEP_API and s.ok for s in self.steps)

    @property
    def ok(self) -> bool:
        """A token was issued and one API call succeeded."""
        return self.token_ok and self.api_ok

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "cause": self.cause,
            "steps": [asdict(s) for s in self.steps],
            "token": asdict(self.token_info) if self.token_info else None,
            "clock_skew_s": self.clock_skew_s,
        }

    def lines(self) -> list[str]:
        """A plain-text report, one line per step."""
        out = []
        for s in self.steps:
            where = f" ({s.host})" if s.host else ""
            out.append(f"[{s.status:>4}] {s.name}{where}: {s.detail}")
        if self.token_info is not None:
            out.extend(describe_token(self.token_info))
        elif self.clock_skew_s is not None and abs(self.clock_skew_s) >= CLOCK_SKEW_WARN_S:
            out.append(f"clock skew: {_skew_words(self.clock_skew_s)}")
        if self.cause:
            out.append(f"cause: {self.cause}")
        return out


def _utc(epoch: float | None) -> str:
    if epoch is None:
        return "unknown"
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe_token(info: TokenInfo) -> list[str]:
    scopes = " ".join(info.scopes) if info.scopes else "(none)"
    lines = [
        f"credential style: {info.style}",
        f"tenant: {info.tenant or 'unknown'}",
        f"client id: {info.client_id or 'unknown'}",
        f"scopes: {scopes}",
        f"issued: {_utc(info.issued_at)}",
        f"expires: {_utc(info.expires_at)}",
        f"round trip: {info.round_trip_ms:.0f} ms",
    ]
    if info.clock_skew_s is not None and abs(info.clock_skew_s) >= CLOCK_SKEW_WARN_S:
        lines.append(
            f"clock skew: {_skew_words(info.clock_skew_s)} (token lifetimes are measured on this computer, "
            "so ihub is not affected; times shown and certificate checks are)"
        )
    return lines


def _skew_words(skew: float) -> str:
    """``skew`` = server time - local time."""
    return skew_words(skew)


# --------------------------------------------------------------------------------------------------
# Defaults for the injectable network pieces
# --------------------------------------------------------------------------------------------------
async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _credentials(profile: ProfileLike, secret: str) -> Credentials:
    parts = profile.client_id.split("-")
    tenant = (profile.tenant or (parts[0] if len(parts) >= 3 else "")) or None
    return Credentials(
        style=CredentialStyle(profile.style),
        token_url=profile.token_url,
        client_id=profile.client_id,
        client_secret=secret,
        app_name=profile.app_name or None,
        app_version=profile.app_version or None,
        host_tenant=tenant,
        user_tenant=tenant,
    )


def _proxy_for(url: httpx.URL, environ: Mapping[str, str]) -> str | None:
    """The proxy httpx would use for ``url`` (standard *_PROXY / NO_PROXY variables), without userinfo."""
    raw = _raw_proxy_for(url, environ)
    return safe_url(raw) if raw else None


def _raw_proxy_for(url: httpx.URL, environ: Mapping[str, str]) -> str | None:
    """The proxy URL for ``url`` as configured, userinfo included (never shown)."""
    lower = {k.lower(): v for k, v in environ.items() if k.lower().endswith("_proxy") and v}
    scheme = url.scheme
    proxy = lower.get(f"{scheme}_proxy") or lower.get("all_proxy")
    if not proxy:
        return None
    no_proxy = lower.get("no_proxy", "")
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # not in typeshed
    if no_proxy and bypass(url.host, {"no": no_proxy}):
        return None
    if no_proxy.strip() == "*":
        return None
    return proxy if "://" in proxy else "http://" + proxy


def _name(value: Any) -> str:
    """A readable X.509 name from ``ssl.getpeercert()`` or a cryptography Name."""
    if hasattr(value, "rfc4514_string"):
        return str(value.rfc4514_string())
    parts = []
    for rdn in value or ():
        for key, val in rdn:
            parts.append(f"{key}={val}")
    return ", ".join(parts) or "?"


def _describe_presented(der: bytes | None) -> str:
    """Describe the certificate the server presented (read without verification)."""
    if not der:
        return ""
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return ""
    subject, issuer = _name(cert.subject), _name(cert.issuer)
    text = f"the server presented {subject} issued by {issuer}"
    if cert.subject == cert.issuer:
        text += " (self-signed)"
    return text


# --------------------------------------------------------------------------------------------------
# The diagnosis
# --------------------------------------------------------------------------------------------------
@dataclass
class _HostCheck:
    host: str
    port: int
    scheme: str
    proxy: str | None
    proxy_raw: str | None = field(default=None, repr=False)
    resolved: bool = False
    connect_detail: str | None = None  # what the proxy answered to CONNECT
    connect_failed: bool = False
    connected: bool = False
    tls_failed: bool = False
    tls_verify_failed: bool = False
    failure: str | None = None


class _Diagnoser:
    def __init__(
        self,
        profile: ProfileLike,
        secret: str,
        transport: httpx.AsyncBaseTransport | None,
        resolver: Resolver,
        connector: Connector,
        environ: Mapping[str, str],
        timeout: float,
        clock: Callable[[], float],
    ) -> None:
        self.profile = profile
        self.secret = secret
        self.transport = transport
        self.resolver = resolver
        self.connector = connector
        self.environ = environ
        self.timeout = timeout
        self.clock = clock
        self.result = Diagnosis()
        self.checks: list[_HostCheck] = []

    def add(self, name: str, ok: bool | None, detail: str, host: str = "") -> Step:
        step = Step(name, ok, one_line(mask_secret(detail, self.secret)), host)
        self.result.steps.append(step)
        return step

    def set_cause(self, cause: str) -> None:
        if self.result.cause is None:
            self.result.cause = one_line(mask_secret(cause, self.secret))

    async def run(self) -> Diagnosis:
        try:
            gateway = httpx.URL(self.profile.gateway)
            token_url = httpx.URL(self.profile.token_url)
            if not gateway.host or not token_url.host:
                raise httpx.InvalidURL("no host")
        except (httpx.InvalidURL, TypeError):
            self.add(STEP_TOKEN, False, "the gateway or token URL is not a valid URL")
            self.set_cause("wrong gateway or token URL: not a valid URL")
            return self.result

        urls = [gateway] + (
            [token_url] if (token_url.host, token_url.port) != (gateway.host, gateway.port) else []
        )
        if self.transport is not None:
            for name in (STEP_DNS, STEP_TCP, STEP_TLS, STEP_PROXY):
                self.add(name, None, SKIPPED_IN_PROCESS)
        else:
            for url in urls:
                await self.check_host(url)
            self.proxy_step()

        # Network broken for the token host: the token request would only repeat the failure.
        token_check = self._check_for(token_url)
        if token_check is not None and token_check.failure is not None:
            self.add(STEP_TOKEN, None, f"skipped: {token_check.failure}", token_url.host)
            self.add(STEP_API, None, "skipped: no token", gateway.host)
            return self.result
        await self.token_and_api(gateway, token_url)
        return self.result

    def _check_for(self, url: httpx.URL) -> _HostCheck | None:
        port = url.port or (443 if url.scheme == "https" else 80)
        return next((c for c in self.checks if (c.host, c.port) == (url.host, port)), None)

    # -- network steps --------------------------------------------------------------------------------
    async def check_host(self, url: httpx.URL) -> None:
        port = url.port or (443 if url.scheme == "https" else 80)
        proxy_raw = _raw_proxy_for(url, self.environ)
        proxy = safe_url(proxy_raw) if proxy_raw else None
        check = _HostCheck(url.host, port, url.scheme, proxy, proxy_raw)
        self.checks.append(check)
        target_host, target_port = url.host, port
        via = ""
        if proxy:
            purl = httpx.URL(proxy)
            target_host, target_port = purl.host, purl.port or (443 if purl.scheme == "https" else 80)
            via = f"proxy {target_host}:{target_port}: "

        # Name resolution.
        try:
            addresses = await asyncio.wait_for(self.resolver(target_host, target_port), self.timeout)
            if not addresses:
                raise OSError("no address")
        except (OSError, TimeoutError) as exc:
            reason = (
                "timed out" if isinstance(exc, TimeoutError) else (getattr(exc, "strerror", None) or str(exc))
            )
            check.failure = f"{target_host} does not resolve"
            self.add(STEP_DNS, False, f"{via}{target_host} does not resolve ({reason})", url.host)
            self.add(STEP_TCP, None, "skipped: name not resolved", url.host)
            self.add(STEP_TLS, None, "skipped: name not resolved", url.host)
            what = (
                "proxy"
                if proxy
                else ("token URL" if url.host != httpx.URL(self.profile.gateway).host else "gateway")
            )
            self.set_cause(
                f"the {what} host {target_host} does not resolve: check its spelling, your DNS and network"
            )
            return
        check.resolved = True
        self.add(STEP_DNS, True, f"{via}{target_host} -> {', '.join(addresses[:4])}", url.host)

        # TCP connect (first address that answers).
        errors: list[str] = []
        refused: list[str] = []
        timed_out: list[str] = []
        connected_to = None
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        started = time.perf_counter()
        for address in addresses:
            try:
                stream = await asyncio.wait_for(self.connector(address, target_port), self.timeout)
            except (OSError, TimeoutError) as exc:
                if isinstance(exc, TimeoutError):
                    timed_out.append(address)
                elif isinstance(exc, ConnectionRefusedError):
                    refused.append(address)
                errors.append(f"{address}: {'timed out' if isinstance(exc, TimeoutError) else _oserror(exc)}")
                continue
            connected_to = address
            break
        if connected_to is None or stream is None:
            check.failure = f"cannot connect to {target_host}:{target_port}"
            self.add(
                STEP_TCP, False, f"{via}cannot connect to port {target_port}: {'; '.join(errors)}", url.host
            )
            self.add(STEP_TLS, None, "skipped: no TCP connection", url.host)
            self.set_cause(self._tcp_cause(target_host, target_port, bool(proxy), refused, timed_out))
            return
        check.connected = True
        ms = (time.perf_counter() - started) * 1000
        self.add(STEP_TCP, True, f"{via}connected to {connected_to}:{target_port} in {ms:.0f} ms", url.host)

        reader, writer = stream
        if proxy and url.scheme == "https":
            await self.check_connect(check, reader, writer, f"{target_host}:{target_port}")
        writer.close()
        await _closed(writer)

        # TLS.
        if url.scheme != "https":
            self.add(STEP_TLS, None, "skipped: plain HTTP, not encrypted", url.host)
            return
        if proxy:
            if check.connect_failed:
                self.add(STEP_TLS, None, "skipped: no tunnel through the proxy", url.host)
            else:
                self.add(STEP_TLS, None, "checked through the proxy by the requests below", url.host)
            return
        await self.check_tls(check, connected_to)

    def _tcp_cause(self, host: str, port: int, proxy: bool, refused: list[str], timed_out: list[str]) -> str:
        """Why no TCP connection could be made, naming the hop: the proxy, or the host itself."""
        if refused and not timed_out:
            address = refused[0]
            shown = f"[{address}]" if ":" in address else address
            if proxy:
                return f"the proxy {host}:{port} refuses connections: nothing is listening on {shown}:{port}"
            if is_loopback_host(address):
                return f"nothing is listening on {shown}:{port}"
            return (
                f"{host} ({shown}) refuses connections on port {port}: nothing is listening there, or a "
                "firewall rejects the connection"
            )
        if proxy:
            return f"the proxy {host}:{port} does not accept connections"
        if timed_out:
            return (
                f"no answer from {host}:{port} within {self.timeout:g} s: a firewall drops the traffic, or a "
                "proxy is required (set HTTPS_PROXY)"
            )
        return (
            f"cannot connect to {host}:{port}: a firewall blocks it, or a proxy is required (set HTTPS_PROXY)"
        )

    async def check_connect(
        self,
        check: _HostCheck,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        proxy_at: str,
    ) -> None:
        """Ask the proxy for a tunnel (``CONNECT host:port``) and read its answer, as httpx will."""
        target = f"{check.host}:{check.port}"
        headers = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
        if check.proxy_raw:
            purl = httpx.URL(check.proxy_raw)
            if purl.username or purl.password:
                import base64

                pair = f"{purl.username}:{purl.password}".encode()
                headers.append(f"Proxy-Authorization: Basic {base64.b64encode(pair).decode('ascii')}")
        request = ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1")
        try:
            writer.write(request)
            await asyncio.wait_for(writer.drain(), self.timeout)
            line = await asyncio.wait_for(reader.readline(), self.timeout)
        except TimeoutError:
            self._connect_failed(
                check,
                f"the proxy {proxy_at} accepted the connection but did not answer the CONNECT to {target} "
                f"within {self.timeout:g} s",
                f"no answer to CONNECT {target} within {self.timeout:g} s",
            )
            return
        except OSError as exc:
            self._connect_failed(
                check,
                f"the proxy {proxy_at} dropped the connection during the CONNECT to {target}: "
                f"{_oserror(exc)}",
                f"connection dropped during CONNECT {target}",
            )
            return
        status_line = line.decode("latin-1", "replace").strip()
        parts = status_line.split(" ", 2)
        if not status_line:
            self._connect_failed(
                check,
                f"the proxy {proxy_at} closed the connection instead of answering the CONNECT to {target}",
                f"connection closed instead of an answer to CONNECT {target}",
            )
            return
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            self._connect_failed(
                check,
                f"the proxy {proxy_at} answered the CONNECT to {target} with something that is not HTTP",
                f"no HTTP answer to CONNECT {target}",
            )
            return
        status = int(parts[1])
        answer = " ".join(parts[1:])
        if 200 <= status < 300:
            check.connect_detail = f"CONNECT {target}: {answer}"
            return
        if status == 407:
            self._connect_failed(
                check,
                f"the proxy {proxy_at} requires authentication for the CONNECT to {target} (HTTP {answer}): "
                "put the user and password in the proxy URL",
                f"CONNECT {target}: HTTP {answer}",
            )
            return
        self._connect_failed(
            check,
            f"the proxy {proxy_at} refused the CONNECT to {target} (HTTP {answer})",
            f"CONNECT {target}: HTTP {answer}",
        )

    def _connect_failed(self, check: _HostCheck, detail: str, note: str) -> None:
        check.connect_failed = True
        check.connect_detail = note
        check.failure = detail
        self.set_cause(detail)

    async def check_tls(self, check: _HostCheck, address: str) -> None:
        ca_bundle = self.profile.ca_bundle
        try:
            ctx = ssl_context(ca_bundle, trust_env=True)
        except TransportError as exc:
            check.failure = exc.message
            self.add(STEP_TLS, False, exc.message, check.host)
            self.set_cause(f"the custom CA bundle cannot be used: {exc.message}")
            return
        assert isinstance(ctx, ssl.SSLContext)
        bundle_words = f" (custom CA bundle {ca_bundle})" if ca_bundle else ""
        try:
            _, writer = await asyncio.wait_for(
                self.connector(address, check.port, ssl=ctx, server_hostname=check.host), self.timeout
            )
        except ssl.SSLCertVerificationError as exc:
            check.tls_failed = check.tls_verify_failed = True
            check.failure = "TLS certificate verification failed"
            presented = await self._presented_certificate(check, address)
            detail = f"certificate verification failed{bundle_words}: {exc.verify_message or exc.reason}"
            if presented:
                detail += f"; {presented}"
            self.add(STEP_TLS, False, detail, check.host)
            if exc.verify_code in (_X509_CERT_NOT_YET_VALID, _X509_CERT_HAS_EXPIRED):
                # Validity is judged on the local clock: a wrong date makes a good certificate fail.
                state = "not yet valid" if exc.verify_code == _X509_CERT_NOT_YET_VALID else "expired"
                self.set_cause(
                    f"the certificate of {check.host} is {state} by this computer's clock "
                    f"({_utc(self.clock())}): check the local date and time (NTP)"
                )
            self.set_cause(self._tls_cause(check, presented))
            return
        except (ssl.SSLError, OSError, TimeoutError) as exc:
            check.tls_failed = True
            check.failure = "TLS handshake failed"
            reason = "timed out" if isinstance(exc, TimeoutError) else _oserror(exc)
            self.add(STEP_TLS, False, f"handshake failed: {reason}", check.host)
            self.set_cause(f"the TLS handshake with {check.host} fails ({reason}): is this an HTTPS port?")
            return
        ssl_object = writer.get_extra_info("ssl_object")
        cert = writer.get_extra_info("peercert") or {}
        version = ssl_object.version() if ssl_object is not None else "TLS"
        writer.close()
        await _closed(writer)
        subject = _name(cert.get("subject"))
        issuer = _name(cert.get("issuer"))
        until = cert.get("notAfter", "?")
        self.add(
            STEP_TLS,
            True,
            f"{version}, certificate {subject} issued by {issuer}, valid until {until}{bundle_words}",
            check.host,
        )

    async def _presented_certificate(self, check: _HostCheck, address: str) -> str:
        """Read the server's certificate without verification, only to describe it."""
        insecure = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        try:
            _, writer = await asyncio.wait_for(
                self.connector(address, check.port, ssl=insecure, server_hostname=check.host), self.timeout
            )
        except (ssl.SSLError, OSError, TimeoutError):
            return ""
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        writer.close()
        await _closed(writer)
        return _describe_presented(der)

    def _tls_cause(self, check: _HostCheck, presented: str) -> str:
        if check.proxy or self._any_proxy():
            return PROXY_TLS_CAUSE
        if self.profile.ca_bundle:
            return (
                f"the certificate of {check.host} is not trusted, even with the custom CA bundle "
                f"{self.profile.ca_bundle}"
            )
        return (
            f"the certificate of {check.host} is not trusted: if a corporate proxy or firewall inspects TLS, "
            "set the profile's CA bundle to its CA certificate"
        )

    def _any_proxy(self) -> bool:
        return any(k.lower() in ("https_proxy", "all_proxy") and v for k, v in self.environ.items())

    def proxy_step(self) -> None:
        proxied = [c for c in self.checks if c.proxy]
        if proxied:
            text = "; ".join(
                f"{c.proxy} for {c.host}" + (f" ({c.connect_detail})" if c.connect_detail else "")
                for c in proxied
            )
            direct = [c.host for c in self.checks if not c.proxy]
            if direct:
                text += f"; direct to {', '.join(direct)} (NO_PROXY)"
            failed = any(c.connect_failed for c in proxied)
            reached = all(c.connected for c in proxied)
            self.add(STEP_PROXY, False if failed or not reached else True, text)
        elif self._any_proxy():
            self.add(
                STEP_PROXY, None, "a proxy is configured but NO_PROXY bypasses these hosts: direct connection"
            )
        else:
            self.add(STEP_PROXY, None, "none configured: direct connection")

    # -- token and API --------------------------------------------------------------------------------
    async def token_and_api(self, gateway: httpx.URL, token_url: httpx.URL) -> None:
        try:
            credentials = _credentials(self.profile, self.secret)
        except ValueError:
            self.add(STEP_TOKEN, False, f"unknown credential style {self.profile.style!r}")
            self.set_cause("the credential style is neither client_credentials nor app_credentials")
            return
        config = ConnectionConfig(
            gateway=str(gateway).rstrip("/"),
            credentials=credentials,
            ca_bundle=self.profile.ca_bundle,
            timeout=self.timeout,
            max_retries=0,
        )
        try:
            api = ApiClient(config, transport=self.transport, clock=self.clock)
        except ApiError as exc:
            self.add(STEP_TOKEN, False, str(exc), token_url.host)
            self.set_cause(str(exc))
            return
        async with api:
            token = await self.token_step(api, token_url)
            if token is None:
                self.add(STEP_API, None, "skipped: no token", gateway.host)
                return
            await self.api_step(api, gateway)

    async def token_step(self, api: ApiClient, token_url: httpx.URL) -> Token | None:
        started = time.perf_counter()
        try:
            token = await api.tokens.get(force=True)
        except TokenError as exc:
            self.add(STEP_TOKEN, False, str(exc), token_url.host)
            await self._token_cause(api, exc)
            return None
        except TransportError as exc:
            self.add(STEP_TOKEN, False, str(exc), token_url.host)
            self._transport_cause(exc, token_url)
            return None
        except ApiError as exc:
            self.add(STEP_TOKEN, False, str(exc), token_url.host)
            self.set_cause(f"the token endpoint failed: {exc}")
            return None
        rtt = (time.perf_counter() - started) * 1000
        # Server time (iat, or the Date header) minus the local receipt time, measured by the provider.
        skew = token.clock_skew
        self.result.clock_skew_s = skew
        self.result.token_info = TokenInfo(
            style=str(api.config.credentials.style),
            tenant=token.tenant or self.profile.tenant or None,
            client_id=token.client_id or self.profile.client_id,
            scopes=tuple(token.scopes),
            issued_at=token.issued_at,
            expires_at=token.expires_at,
            round_trip_ms=rtt,
            clock_skew_s=skew,
        )
        detail = f"token issued in {rtt:.0f} ms, valid until {_utc(token.expires_at)}"
        if skew is not None and abs(skew) >= CLOCK_SKEW_WARN_S:
            detail += f"; {_skew_words(skew)}"
        self.add(STEP_TOKEN, True, detail, token_url.host)
        return token

    async def _token_cause(self, api: ApiClient, exc: TokenError) -> None:
        status = exc.status
        if status == 401 or exc.code == C.OAUTH_INVALID_CLIENT:
            self.set_cause("wrong client secret (or client id): the token endpoint rejected the credentials")
        elif status in (404, 405):
            self.set_cause(
                f"wrong token URL: {safe_url(self.profile.token_url)} is not a token endpoint (HTTP {status})"
            )
        elif status == 403:
            self.set_cause(
                "the token endpoint refused these credentials: check the credential style, app name, "
                "app version and tenant"
            )
        elif status is not None and 300 <= status < 400:
            self.set_cause(f"wrong token URL: {safe_url(self.profile.token_url)} redirects elsewhere")
        elif status in (200, 201):
            self.set_cause("wrong token URL: the answer holds no access token")
        else:
            self.set_cause(f"the token endpoint failed: {exc}")
        # A skewed local clock cannot make the token endpoint refuse client credentials: it is measured
        # and reported, never given as the cause.
        if status in (400, 401, 403):
            self.result.clock_skew_s = await self._server_clock_skew(api)

    def _transport_cause(self, exc: TransportError, url: httpx.URL) -> None:
        """The cause of a failed request, naming the hop (the messages of TransportError already do)."""
        check = self._check_for(url)
        if exc.kind == TransportError.TLS:
            if check is not None:
                check.tls_failed = True
                tls = next((s for s in self.result.steps if s.name == STEP_TLS and s.host == url.host), None)
                if tls is not None and tls.ok is None and check.proxy:
                    tls.ok, tls.detail = False, exc.message
            if (check is not None and check.proxy) or self._any_proxy():
                self.set_cause(PROXY_TLS_CAUSE)
            else:
                self.set_cause(f"TLS fails for {url.host}: {exc.message}")
        elif exc.kind == TransportError.DNS:
            if exc.hop == "dns" and "proxy host" in exc.detail:
                self.set_cause(exc.detail)
            else:
                self.set_cause(
                    f"the host {url.host} does not resolve: check its spelling, your DNS and network"
                )
        elif exc.kind in (TransportError.PROXY, TransportError.CONFIG, TransportError.CONNECT):
            self.set_cause(exc.detail)
        else:
            role = exc.role or "server"
            self.set_cause(f"the {role} {url.host} failed: {exc.detail}")

    async def _server_clock_skew(self, api: ApiClient) -> float | None:
        """Server time (``Date`` header of any gateway answer) minus the local time at its receipt."""
        try:
            response = await api.http.get("/", timeout=self.timeout)
        except (httpx.HTTPError, httpx.InvalidURL):
            return None
        received = self.clock()
        server = parse_http_date(response.headers.get(C.DATE_HEADER))
        return None if server is None else server - received

    async def api_step(self, api: ApiClient, gateway: httpx.URL) -> None:
        started = time.perf_counter()
        try:
            root = await api.assets.root()
        except TransportError as exc:
            self.add(STEP_API, False, str(exc), gateway.host)
            self._transport_cause(exc, gateway)
            return
        except ApiError as exc:
            self.add(STEP_API, False, f"GET {C.AM_ASSET_ROOT}: {exc}", gateway.host)
            status = exc.status
            if status == 401:
                self.set_cause(
                    "the gateway rejects the token: the token URL may belong to another tenant or region "
                    "than the gateway"
                )
            elif status == 403:
                self.set_cause("the credentials lack the Asset Management read scope (HTTP 403)")
            elif status == 404:
                self.set_cause(f"wrong gateway URL: {gateway} has no Asset Management API (HTTP 404)")
            else:
                self.set_cause(f"the API call failed: {exc}")
            return
        ms = (time.perf_counter() - started) * 1000
        name = getattr(root, "name", "") or "root asset"
        self.add(STEP_API, True, f"GET {C.AM_ASSET_ROOT}: {name!s} in {ms:.0f} ms", gateway.host)


def _oserror(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc)
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or "unknown error"


async def _closed(writer: asyncio.StreamWriter) -> None:
    try:
        await asyncio.wait_for(writer.wait_closed(), 2.0)
    except (OSError, TimeoutError, ssl.SSLError):
        pass


async def diagnose(
    profile_like: ProfileLike,
    secret: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    resolver: Resolver | None = None,
    connector: Connector | None = None,
    environ: Mapping[str, str] | None = None,
    step_timeout: float = 10.0,
    clock: Callable[[], float] = time.time,
) -> Diagnosis:
    """Test a profile's connection step by step; never raises for network or API failures.

    ``transport``: an in-process transport (the simulator); network steps are then skipped.
    ``resolver(host, port) -> [addresses]`` and ``connector(address, port, ssl=..., server_hostname=...)``
    (``asyncio.open_connection``'s shape) default to the system's; tests inject their own.
    ``environ`` (default ``os.environ``) is read for the proxy variables; ``step_timeout`` bounds each
    network step and request.
    """
    runner = _Diagnoser(
        profile_like,
        secret,
        transport,
        resolver or system_resolver,
        connector or asyncio.open_connection,
        os.environ if environ is None else environ,
        step_timeout,
        clock,
    )
    return await runner.run()
