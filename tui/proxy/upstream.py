"""The proxy's side towards the gateway: one httpx client and the shared token provider.

``Upstream.send`` adds ``Authorization: Bearer <token>`` from the ``TokenProvider`` (cached, refreshed
``refresh_margin`` seconds before expiry, one token request at a time however many requests wait) and,
on a 401, drops that token, fetches a new one and sends the request once more (request bodies up to the
replay limit are kept for that; larger ones stream and their 401 goes to the client). An idempotent
request whose pooled connection turns out to be closed by the gateway is sent once more. Responses are
returned unread (``stream=True``): the caller streams them and must close them.
"""

from __future__ import annotations

import http.cookiejar
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable

import httpx

from tui.api.auth import Credentials, TokenProvider
from tui.api.errors import HopTrace, TransportError
from tui.api.tls import ssl_context
from tui.proxy.config import ProxyConfig

Body = bytes | AsyncIterator[bytes]
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# What a keep-alive connection closed by the gateway looks like when it is reused.
STALE_CONNECTION = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
log = logging.getLogger("ihub.proxy")


class GatewayUnreachable(Exception):
    """No answer from the gateway: ``error`` names the hop that failed (a proxy between, DNS, TCP, TLS or
    the gateway itself); ``timeout`` when it was a time-out (504 rather than 502)."""

    def __init__(self, error: TransportError, *, timeout: bool) -> None:
        super().__init__(error.detail)
        self.error = error
        self.timeout = timeout


class Upstream:
    """Forwards requests to the gateway. Create and use it in the event loop that serves the proxy.

    Give either ``credentials`` (the proxy makes its own ``TokenProvider``) or ``tokens`` (a provider
    shared with an ``ApiClient`` running in the same event loop, e.g. the app's).
    """

    def __init__(
        self,
        config: ProxyConfig,
        *,
        credentials: Credentials | None = None,
        tokens: TokenProvider | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (credentials is None) == (tokens is None):
            raise ValueError("give either credentials or a token provider")
        self.config = config
        self.gateway = httpx.URL(config.gateway)
        self._base_path = self.gateway.raw_path.split(b"?", 1)[0].rstrip(b"/")
        if verify is None:
            verify = (
                True
                if transport is not None
                else ssl_context(config.ca_bundle, verify=config.verify, trust_env=config.trust_env)
            )
        self.client = httpx.AsyncClient(
            transport=transport,
            verify=verify,
            trust_env=config.trust_env,
            follow_redirects=False,
            # Gateway cookies are neither passed to clients nor kept here (each call carries the token).
            cookies=http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
            timeout=httpx.Timeout(config.timeout, connect=min(config.connect_timeout, config.timeout)),
            limits=httpx.Limits(
                max_connections=config.max_connections, max_keepalive_connections=config.max_connections
            ),
        )
        self.owns_tokens = tokens is None
        self.tokens = tokens or TokenProvider(credentials, self.client, clock=clock)  # type: ignore[arg-type]
        self.retries_after_401 = 0
        self.resent_after_drop = 0

    def url(self, raw_path: bytes, query: bytes) -> httpx.URL:
        """The gateway URL for a proxy path (bytes as received, so encodings pass unchanged)."""
        raw = self._base_path + raw_path
        if query:
            raw += b"?" + query
        return self.gateway.copy_with(raw_path=raw)

    async def send(
        self,
        method: str,
        url: httpx.URL,
        headers: list[tuple[bytes, bytes]],
        body: Body,
        *,
        replayable: bool,
    ) -> httpx.Response:
        """The gateway's response, headers read and body unread. Raises ``ApiError`` for token
        failures and ``GatewayUnreachable`` (naming the hop) when the gateway cannot be reached."""
        token = await self.tokens.get()
        retried = False
        resent = False
        while True:
            auth = (b"authorization", b"Bearer " + token.access_token.encode("ascii"))
            trace = HopTrace()
            request = httpx.Request(
                method, url, headers=[*headers, auth], content=body, extensions={"trace": trace}
            )
            try:
                response = await self.client.send(request, stream=True)
            except httpx.HTTPError as exc:
                # A pooled keep-alive connection the gateway closed just as it was reused: send once
                # more on a fresh one (idempotent methods with a kept body only).
                stale = isinstance(exc, STALE_CONNECTION)
                if resent or not stale or not replayable or method not in IDEMPOTENT:
                    error = TransportError.from_exception(
                        exc, method=method, url=url.copy_with(query=None), trace=trace, role="gateway"
                    )
                    raise GatewayUnreachable(error, timeout=isinstance(exc, httpx.TimeoutException)) from None
                resent = True
                self.resent_after_drop += 1
                log.debug(
                    "%s %s: %s on a reused connection; sending again", method, url.path, type(exc).__name__
                )
                continue
            if response.status_code == 401 and not retried and replayable:
                retried = True
                self.retries_after_401 += 1
                await response.aclose()
                self.tokens.invalidate(token)
                token = await self.tokens.get()
                continue
            return response

    async def aclose(self) -> None:
        await self.client.aclose()
