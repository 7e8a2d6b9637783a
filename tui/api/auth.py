"""Access tokens: OAuth2 client credentials and app credentials (technical token manager).

Reference section 1. Claims are decoded without verification and only for display.

Token freshness is judged on the local clock only, from the moment the token was received: its lifetime is
``expires_in`` or ``exp - iat`` (both relative, so a local clock that is wrong by any amount does not
matter), applied to the local receipt time. Server times (``iat``, ``exp``, the ``Date`` header) are never
compared with the local clock for freshness; their difference is measured as the clock skew, offered once
to the UI through ``TokenProvider.on_clock_skew``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

from tui.api import contract as C
from tui.api.errors import (
    ApiError,
    HopTrace,
    TokenError,
    TransportError,
    code_sentence,
    error_from_response,
    is_loopback_host,
    parse_error_body,
    retry_words,
    safe_url,
    wait_words,
)
from tui.api.headers import parse_http_date

log = logging.getLogger("ihub.api")


class CredentialStyle(StrEnum):
    CLIENT_CREDENTIALS = "client_credentials"
    APP_CREDENTIALS = "app_credentials"


def detect_style(token_url: str) -> CredentialStyle:
    """App credentials when the token URL is the technical token manager, else client credentials."""
    path = httpx.URL(token_url).path.lower() if token_url else ""
    if C.TECH_TOKEN_MARKER in path:
        return CredentialStyle.APP_CREDENTIALS
    return CredentialStyle.CLIENT_CREDENTIALS


@dataclass(frozen=True)
class Credentials:
    style: CredentialStyle
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    app_name: str | None = None
    app_version: str | None = None
    host_tenant: str | None = None
    user_tenant: str | None = None

    def basic(self) -> str:
        """``base64(client_id:client_secret)`` for HTTP Basic and ``X-SPACE-AUTH-KEY``."""
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return base64.b64encode(raw).decode("ascii")


def decode_claims(access_token: str) -> dict[str, Any]:
    """The JWT payload, decoded WITHOUT verifying the signature (display only). {} if not a JWT."""
    parts = access_token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _scopes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(s for s in value.split() if s)
    if isinstance(value, list | tuple):
        return tuple(str(s) for s in value)
    return ()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


CLOCK_SKEW_NOTICE_S = 60.0  # a skew at least this large is reported (once) to on_clock_skew


@dataclass(frozen=True)
class Token:
    """An access token. ``expires_at`` and ``issued_at`` are on the LOCAL clock (epoch seconds):
    ``issued_at`` is when the token was received, ``expires_at`` that plus its lifetime, so countdowns
    computed with the local clock are right whatever the clock's error. ``server_issued_at`` and
    ``server_expires_at`` are the ``iat``/``exp`` claims (server clock, for display); ``clock_skew`` is
    server time minus local time in seconds, when the server's time was known (``iat`` or ``Date``)."""

    access_token: str = field(repr=False)
    expires_at: float
    issued_at: float | None = None
    claims: dict[str, Any] = field(default_factory=dict, repr=False)
    scopes: tuple[str, ...] = ()
    client_id: str | None = None
    tenant: str | None = None
    server_issued_at: float | None = None
    server_expires_at: float | None = None
    clock_skew: float | None = None

    @classmethod
    def from_response(cls, body: dict[str, Any], now: float, *, server_date: float | None = None) -> Token:
        """Build the token from the token endpoint's JSON; ``now`` is the local receipt time and
        ``server_date`` the response's ``Date`` header (epoch seconds), when present.

        Lifetime: the shortest of ``expires_in`` and ``exp - iat``; without either, ``exp - Date``; as a
        last resort ``exp - now`` (the only case where a skewed clock matters) or the default 1800 s.
        """
        access = body.get(C.TOKEN_FIELD)
        if not isinstance(access, str) or not access:
            raise ValueError("no access_token")
        claims = decode_claims(access)
        exp = _number(claims.get(C.CLAIM_EXP))
        iat = _number(claims.get(C.CLAIM_IAT))
        expires_in = _number(body.get(C.EXPIRES_IN_FIELD))
        relative = [
            value
            for value in (expires_in, (exp - iat) if exp is not None and iat is not None else None)
            if value is not None and value > 0
        ]
        if relative:
            lifetime = min(relative)
        elif exp is not None and server_date is not None:
            lifetime = exp - server_date
        elif exp is not None:
            lifetime = exp - now
        else:
            lifetime = C.DEFAULT_TOKEN_LIFETIME_S
        server_now = iat if iat is not None else server_date
        scopes = _scopes(claims.get(C.CLAIM_SCOPE)) or _scopes(body.get(C.TOKEN_SCOPE_FIELD))
        client_id = claims.get(C.CLAIM_CLIENT_ID)
        for name in C.CLAIM_CLIENT_ID_FALLBACKS:
            client_id = client_id or claims.get(name)
        tenant = claims.get(C.CLAIM_TENANT) or claims.get(C.CLAIM_TENANT_FALLBACK)
        return cls(
            access_token=access,
            expires_at=now + lifetime,
            issued_at=now,
            claims=claims,
            scopes=scopes,
            client_id=str(client_id) if client_id else None,
            tenant=str(tenant) if tenant else None,
            server_issued_at=iat,
            server_expires_at=exp,
            clock_skew=(server_now - now) if server_now is not None else None,
        )

    def lifetime(self) -> float | None:
        return None if self.issued_at is None else self.expires_at - self.issued_at


class TokenProvider:
    """Fetches, caches and refreshes the access token; single-flight under concurrency.

    Every caller that arrives while a token request is in flight shares its outcome (the token or the
    error): one request, however many callers. ``clock`` is the local clock; freshness is judged on it
    from the receipt time (see ``Token``). ``on_clock_skew(skew_s)`` is called once, the first time a
    token shows a skew of at least ``CLOCK_SKEW_NOTICE_S``; ``clock_skew`` holds the latest measure.
    ``retry_budget``: the most seconds spent waiting between attempts; a ``Retry-After`` longer than
    what is left is not waited for: the error is raised at once, with the requested wait in words.
    ``require_tls``: refuse to send the secret over plain HTTP except to a loopback host.
    """

    def __init__(
        self,
        credentials: Credentials,
        http: httpx.AsyncClient,
        *,
        refresh_margin: float = C.REFRESH_MARGIN_S,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_retries: int = 2,
        backoff_base: float = 0.5,
        retry_budget: float = 60.0,
        require_tls: bool = False,
        on_clock_skew: Callable[[float], Any] | None = None,
    ) -> None:
        self.credentials = credentials
        self._http = http
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._sleep = sleep
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._retry_budget = retry_budget
        self._require_tls = require_tls
        self._token: Token | None = None
        self._inflight: asyncio.Future[Token] | None = None
        self.requests = 0
        self.clock_skew: float | None = None
        self.on_clock_skew = on_clock_skew
        self.skew_reported = False

    @property
    def token(self) -> Token | None:
        """The cached token, if any (may be expired)."""
        return self._token

    def is_fresh(self, token: Token | None) -> bool:
        """True while the token is usable, judged on the local clock from its receipt time."""
        if token is None:
            return False
        margin = self.refresh_margin
        lifetime = token.lifetime()
        if lifetime is not None and lifetime > 0:
            margin = min(margin, lifetime / 2)  # a very short-lived token must still be usable
        return self._clock() < token.expires_at - margin

    def invalidate(self, stale: Token | None = None) -> None:
        """Drop the cached token (only if it is still ``stale``, so concurrent 401s refresh once)."""
        if stale is None or self._token is stale:
            self._token = None

    async def get(self, force: bool = False) -> Token:
        """A valid token. At most one token request runs at a time; callers that arrive while it runs
        (``force`` or not) get its result instead of sending their own."""
        token = self._token
        if not force and self.is_fresh(token):
            assert token is not None
            return token
        inflight = self._inflight
        if inflight is None:
            inflight = asyncio.ensure_future(self._refresh())
            inflight.add_done_callback(_retrieve_exception)
            self._inflight = inflight
        return await asyncio.shield(inflight)

    async def _refresh(self) -> Token:
        try:
            token = await self._fetch_with_retry()
            self._token = token
            self._note_skew(token)
            return token
        finally:
            self._inflight = None

    def _note_skew(self, token: Token) -> None:
        if token.clock_skew is None:
            return
        self.clock_skew = token.clock_skew
        if abs(token.clock_skew) < CLOCK_SKEW_NOTICE_S or self.skew_reported:
            return
        self.skew_reported = True
        log.warning("clock skew: %s", skew_words(token.clock_skew))
        if self.on_clock_skew is not None:
            try:
                self.on_clock_skew(token.clock_skew)
            except Exception:  # noqa: BLE001 - a UI callback must never break the token request
                log.exception("clock-skew callback failed")

    # -- token request ------------------------------------------------------------------------------

    async def _fetch_with_retry(self) -> Token:
        attempt = 0
        waited = 0.0
        while True:
            try:
                return await self._fetch()
            except _Retry as retry:
                if attempt >= self._max_retries:
                    raise retry.error from None
                attempt += 1
                delay = retry.delay
                if delay is None:
                    delay = self._backoff_base * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)
                if waited + delay > self._retry_budget:
                    raise retry.error from None  # the service asks for longer than we are willing to wait
                waited += delay
                await self._sleep(delay)

    def _request_args(self) -> dict[str, Any]:
        cred = self.credentials
        if cred.style == CredentialStyle.APP_CREDENTIALS:
            missing = [
                label
                for label, value in (("app name", cred.app_name), ("app version", cred.app_version))
                if not value
            ]
            host_tenant = cred.host_tenant or cred.user_tenant
            if not host_tenant:
                missing.append("host tenant")
            if missing:
                raise TokenError(
                    "app credentials need " + ", ".join(missing), method="POST", url=cred.token_url
                )
            body = {
                "appName": cred.app_name,
                "appVersion": cred.app_version,
                "hostTenant": host_tenant,
                "userTenant": cred.user_tenant or host_tenant,
            }
            headers = {
                C.SPACE_AUTH_HEADER: f"{C.SPACE_AUTH_PREFIX} {cred.basic()}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
            return {"json": body, "headers": headers}
        headers = {"Authorization": f"Basic {cred.basic()}", "Accept": "application/json"}
        return {"data": {"grant_type": C.GRANT_TYPE}, "headers": headers}

    def _check_scheme(self, url: str) -> None:
        if not self._require_tls:
            return
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            return  # reported as an invalid token URL below
        if target.scheme == "http" and not is_loopback_host(target.host):
            raise TokenError(
                f"refusing to send the client secret over plain HTTP to {target.host}: use an https:// "
                "token URL (plain HTTP is only for a simulator on this machine)",
                method="POST",
                url=url,
            )

    async def _fetch(self) -> Token:
        cred = self.credentials
        if not cred.client_id or not cred.client_secret:
            raise TokenError("no client id or secret configured", method="POST", url=cred.token_url)
        args = self._request_args()
        url = cred.token_url
        self._check_scheme(url)
        started = time.perf_counter()
        self.requests += 1
        trace = HopTrace()
        try:
            response = await self._http.post(url, extensions={"trace": trace}, **args)
        except httpx.HTTPError as exc:
            err = TransportError.from_exception(
                exc, method="POST", url=url, trace=trace, role="token endpoint"
            )
            if err.transient:
                raise _Retry(err, None) from None
            raise err from None
        except httpx.InvalidURL:
            raise TokenError(f"the token URL {safe_url(url)!r} is not a valid URL", method="POST") from None
        received = self._clock()
        elapsed = (time.perf_counter() - started) * 1000
        log.debug("POST %s -> %s (%.0f ms) [token]", httpx.URL(url).path, response.status_code, elapsed)
        status = response.status_code
        if status == 200 or status == 201:
            try:
                body = response.json()
                if not isinstance(body, dict):
                    raise ValueError("not an object")
                server_date = parse_http_date(response.headers.get(C.DATE_HEADER))
                return Token.from_response(body, received, server_date=server_date)
            except ValueError:
                raise TokenError(
                    "the token endpoint answered without an access_token; check the token URL",
                    status=status,
                    method="POST",
                    url=url,
                ) from None
        refusal = self._token_error(response)
        if status == 429 or status in (500, 502, 503, 504):
            raise _Retry(refusal, refusal.retry_after)
        raise refusal

    def _token_error(self, response: httpx.Response) -> ApiError:
        status = response.status_code
        detail, code, _ = parse_error_body(response)
        base = error_from_response(response, method="POST", error_class=TokenError, now=self._clock())
        url = safe_url(self.credentials.token_url)
        if code_sentence(code) and detail:
            message = detail  # "<plain sentence> (<code>)[: <server words>]"
            if status == 403 and self.credentials.style == CredentialStyle.APP_CREDENTIALS:
                message += " (check app name, app version and tenants)"
            detail = None
        elif status == 401:
            message = "the token endpoint rejected the client id or secret"
        elif status == 403:
            message = "the token endpoint refused these credentials"
            if self.credentials.style == CredentialStyle.APP_CREDENTIALS:
                message += " (check app name, app version and tenants)"
        elif status in (404, 405):
            message = f"token URL not found: check the token URL ({url})"
        elif status == 400:
            message = "the token endpoint refused the request"
        elif status == 429:
            message = "the token endpoint is rate limiting requests"
        elif status >= 500:
            message = "the token endpoint had a server error"
        elif 300 <= status < 400:
            message = f"the token endpoint redirected; check the token URL ({url})"
        else:
            message = "the token endpoint refused to issue a token"
        if detail and status not in (404, 405) and "HTML page" not in detail:
            message = f"{message}: {detail}"
        if base.retry_after is not None:
            message = f"{message}; {retry_words(base.retry_after)}"
        base.set_message(message)
        return base


def skew_words(skew: float) -> str:
    """``skew`` = server time - local time, in words."""
    side = "behind" if skew > 0 else "ahead of"
    amount = abs(skew)
    if amount >= 120:  # round to whole minutes (or hours); a skew is not a wait to round up
        amount = round(amount / 60) * 60
    return f"the local clock is {wait_words(amount)} {side} the server's"


def _retrieve_exception(future: asyncio.Future[Any]) -> None:
    """Mark a failed shared token request as retrieved (its waiters may all have gone)."""
    if not future.cancelled():
        future.exception()


class _Retry(Exception):
    def __init__(self, error: Exception, delay: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay
