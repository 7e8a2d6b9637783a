"""Access tokens: OAuth2 client credentials and app credentials (technical token manager).

Reference section 1. Claims are decoded without verification and only for display: the client relies on
nothing but ``exp`` (or ``expires_in`` when a token has no readable ``exp``).
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
    TokenError,
    TransportError,
    error_from_response,
    one_line,
    parse_error_body,
    parse_retry_after,
    safe_url,
)

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


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    expires_at: float
    issued_at: float | None = None
    claims: dict[str, Any] = field(default_factory=dict, repr=False)
    scopes: tuple[str, ...] = ()
    client_id: str | None = None
    tenant: str | None = None

    @classmethod
    def from_response(cls, body: dict[str, Any], now: float) -> Token:
        access = body.get(C.TOKEN_FIELD)
        if not isinstance(access, str) or not access:
            raise ValueError("no access_token")
        claims = decode_claims(access)
        exp = _number(claims.get(C.CLAIM_EXP))
        if exp is None:
            expires_in = _number(body.get(C.EXPIRES_IN_FIELD))
            exp = now + (expires_in if expires_in is not None else C.DEFAULT_TOKEN_LIFETIME_S)
        iat = _number(claims.get(C.CLAIM_IAT))
        scopes = _scopes(claims.get(C.CLAIM_SCOPE)) or _scopes(body.get(C.TOKEN_SCOPE_FIELD))
        client_id = claims.get(C.CLAIM_CLIENT_ID)
        for name in C.CLAIM_CLIENT_ID_FALLBACKS:
            client_id = client_id or claims.get(name)
        tenant = claims.get(C.CLAIM_TENANT) or claims.get(C.CLAIM_TENANT_FALLBACK)
        return cls(
            access_token=access,
            expires_at=exp,
            issued_at=iat if iat is not None else now,
            claims=claims,
            scopes=scopes,
            client_id=str(client_id) if client_id else None,
            tenant=str(tenant) if tenant else None,
        )

    def lifetime(self) -> float | None:
        return None if self.issued_at is None else self.expires_at - self.issued_at


class TokenProvider:
    """Fetches, caches and refreshes the access token; single-flight under concurrency."""

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
    ) -> None:
        self.credentials = credentials
        self._http = http
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._sleep = sleep
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self._generation = 0
        self.requests = 0

    @property
    def token(self) -> Token | None:
        """The cached token, if any (may be expired)."""
        return self._token

    def is_fresh(self, token: Token | None) -> bool:
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
        """A valid token; at most one token request runs at a time, and waiters reuse its result."""
        token = self._token
        if not force and self.is_fresh(token):
            assert token is not None
            return token
        generation = self._generation
        async with self._lock:
            token = self._token
            refreshed_meanwhile = self._generation != generation
            if self.is_fresh(token) and (not force or refreshed_meanwhile):
                assert token is not None
                return token
            token = await self._fetch_with_retry()
            self._token = token
            self._generation += 1
            return token

    # -- token request ------------------------------------------------------------------------------

    async def _fetch_with_retry(self) -> Token:
        attempt = 0
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
                await self._sleep(min(delay, 30.0))

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

    async def _fetch(self) -> Token:
        cred = self.credentials
        if not cred.client_id or not cred.client_secret:
            raise TokenError("no client id or secret configured", method="POST", url=cred.token_url)
        args = self._request_args()
        url = cred.token_url
        started = time.perf_counter()
        self.requests += 1
        try:
            response = await self._http.post(url, **args)
        except httpx.HTTPError as exc:
            err = TransportError.from_exception(exc, method="POST", url=url)
            err.message = one_line(f"token request failed: {err.message}")
            err.args = (err.message,)
            if err.transient:
                raise _Retry(err, None) from None
            raise err from None
        except httpx.InvalidURL:
            raise TokenError(f"invalid token URL {safe_url(url)!r}", method="POST") from None
        elapsed = (time.perf_counter() - started) * 1000
        log.debug("POST %s -> %s (%.0f ms) [token]", httpx.URL(url).path, response.status_code, elapsed)
        status = response.status_code
        if status == 200 or status == 201:
            try:
                body = response.json()
                if not isinstance(body, dict):
                    raise ValueError("not an object")
                return Token.from_response(body, self._clock())
            except ValueError:
                raise TokenError(
                    "the token endpoint answered without an access_token; check the token URL",
                    status=status,
                    method="POST",
                    url=url,
                ) from None
        err = self._token_error(response)
        if status == 429 or status in (500, 502, 503, 504):
            retry_after = parse_retry_after(response.headers.get(C.RETRY_AFTER_HEADER))
            raise _Retry(err, retry_after)
        raise err

    def _token_error(self, response: httpx.Response) -> TokenError:
        status = response.status_code
        detail, code, _ = parse_error_body(response)
        base = error_from_response(response, method="POST", error_class=TokenError)
        url = safe_url(self.credentials.token_url)
        if status == 401 or code == C.OAUTH_INVALID_CLIENT:
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
        base.message = one_line(message)
        base.args = (base.message,)
        return base


class _Retry(Exception):
    def __init__(self, error: Exception, delay: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay
