"""Settings of the local API proxy and the safety rules they must satisfy (issue 13, section 2).

Plain data and validation only: no sockets, no event loop. ``ProxyConfig.resolved(environ)`` is the one
place where the rules are enforced, so the CLI, the app and the tests share them:

* the access key is generated (``secrets.token_urlsafe``), or taken from ``IHUB_PROXY_KEY``, or switched
  off on loopback only;
* a non-loopback bind needs ``allow_remote`` and then the access key;
* ``cors_origin`` is one named origin (``scheme://host[:port]``), never a wildcard.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import urlsplit

ENV_PROXY_KEY = "IHUB_PROXY_KEY"
KEY_HEADER = "X-Ihub-Proxy-Key"
KEY_PARAM = "ihub_proxy_key"
# Sits next to `ihub sim`'s 8765; 0 picks a free port.
DEFAULT_PORT = 8766
# Request bodies up to this size are kept so that the one retry after a 401 can resend them; larger
# bodies stream straight through and a 401 on them is passed to the client.
DEFAULT_REPLAY_LIMIT = 1 << 20
MIN_KEY_LENGTH = 16
_KEY_CHARS = re.compile(r"^[A-Za-z0-9._~-]+$")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


class ProxyError(Exception):
    """A proxy that cannot start or run; the message is one plain line without secrets."""


class ProxyConfigError(ProxyError):
    """Settings refused before anything is bound (e.g. a non-loopback address without allow_remote)."""


class PortInUseError(ProxyError):
    """The address is taken by another program (``host``, ``port``); the message names a way out."""

    def __init__(self, message: str, *, host: str, port: int) -> None:
        super().__init__(message)
        self.host = host
        self.port = port


class KeySource(StrEnum):
    GENERATED = "generated"
    ENV = "env"
    GIVEN = "given"
    NONE = "none"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def generate_access_key() -> str:
    """A fresh random access key (192 bits, URL-safe characters)."""
    return secrets.token_urlsafe(24)


def check_access_key(key: str, origin: str) -> str:
    """``key`` without a leading byte-order mark and surrounding whitespace, or ``ProxyConfigError`` when
    too short or with characters unsafe in a URL (an invisible one, pasted with the key, is named)."""
    key = key.strip().removeprefix("\ufeff").strip()
    for index, ch in enumerate(key, start=1):
        if not _KEY_CHARS.match(ch):
            raise ProxyConfigError(
                f"the access key from {origin} contains {_character_words(ch)} at position {index}: it may "
                "only use letters, digits and . _ ~ - (it travels in URLs)"
            )
    if len(key) < MIN_KEY_LENGTH:
        raise ProxyConfigError(
            f"the access key from {origin} is too short (at least {MIN_KEY_LENGTH} characters)"
        )
    return key


def _character_words(ch: str) -> str:
    """A refused character in words (as ``tui.config.inputs`` names them; the key itself is never shown)."""
    category = unicodedata.category(ch)
    if ch == " ":
        return "a space"
    if ch == "\t":
        return "a tab"
    if category == "Cc":
        return f"a control character, U+{ord(ch):04X},"
    if category[0] in "CZ":
        return f"an invisible character, U+{ord(ch):04X},"
    return f"the character {ch!r}"


def check_origin(origin: str) -> str:
    """A CORS origin ``scheme://host[:port]`` normalised to lower case; no wildcard, path or ``null``."""
    value = origin.strip().rstrip("/")
    if not value or "*" in value:
        raise ProxyConfigError("--cors takes one named origin such as http://localhost:3000, not a wildcard")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProxyConfigError(f"--cors {origin!r} is not an origin like http://localhost:3000")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ProxyConfigError(f"--cors {origin!r}: an origin has no path, query or user (http://host:port)")
    try:
        port = parts.port
    except ValueError:
        raise ProxyConfigError(f"--cors {origin!r} has an invalid port") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def check_gateway(gateway: str) -> str:
    value = gateway.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ProxyConfigError(f"the profile's gateway {gateway!r} is not an http(s) URL")
    return value


@dataclass(frozen=True)
class ProxyConfig:
    """What the proxy serves and how. Build it, then ``resolved()`` (``ProxyServer`` does that).

    ``access_key``: None = generate one (or read ``IHUB_PROXY_KEY``); ignored when ``require_key`` is
    False. ``read_only``: only GET and HEAD are forwarded (set it for a read-only profile too).
    ``timeout``: seconds for connect/read/write towards the gateway (reads of large time series included).
    """

    gateway: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    profile: str = ""
    access_key: str | None = None
    require_key: bool = True
    allow_remote: bool = False
    read_only: bool = False
    cors_origin: str | None = None
    ca_bundle: str | None = None
    verify: bool = True
    trust_env: bool = True
    timeout: float = 300.0
    connect_timeout: float = 10.0
    max_connections: int = 100
    replay_limit: int = DEFAULT_REPLAY_LIMIT
    key_source: KeySource | None = None  # set by resolved()

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def resolved(self, environ: Mapping[str, str] | None = None) -> ProxyConfig:
        """This config with its access key settled, after checking the safety rules.

        Raises ``ProxyConfigError`` with a plain message (the CLI exits non-zero with it).
        """
        if self.key_source is not None:
            return self
        environ = environ if environ is not None else {}
        host = self.host.strip().strip("[]") or "127.0.0.1"
        if not is_loopback(host):
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise ProxyConfigError(
                    f"--host {self.host!r}: give an IP address to listen on (127.0.0.1 by default)"
                ) from None
            if not self.allow_remote:
                raise ProxyConfigError(
                    f"refusing to listen on {host}: only loopback (127.0.0.1, ::1) is served unless "
                    "--allow-remote is given (anyone who can reach the port would use your token)"
                )
            if not self.require_key:
                raise ProxyConfigError(
                    "--no-access-key is for loopback only: --allow-remote needs the access key"
                )
        if not 0 <= self.port <= 65535:
            raise ProxyConfigError(f"--port {self.port} is not a port number (0 picks a free one)")
        gateway = check_gateway(self.gateway)
        cors = check_origin(self.cors_origin) if self.cors_origin else None
        if self.require_key:
            if self.access_key:
                key, source = check_access_key(self.access_key, "the caller"), KeySource.GIVEN
            elif environ.get(ENV_PROXY_KEY, "").strip():
                key, source = check_access_key(environ[ENV_PROXY_KEY], ENV_PROXY_KEY), KeySource.ENV
            else:
                key, source = generate_access_key(), KeySource.GENERATED
        else:
            key, source = None, KeySource.NONE
        return replace(self, host=host, gateway=gateway, cors_origin=cors, access_key=key, key_source=source)

    def __repr__(self) -> str:  # the access key never reaches a repr or a log line
        key = "***" if self.access_key else None
        return (
            f"ProxyConfig(gateway={self.gateway!r}, host={self.host!r}, port={self.port}, "
            f"profile={self.profile!r}, access_key={key}, read_only={self.read_only}, "
            f"allow_remote={self.allow_remote}, cors_origin={self.cors_origin!r})"
        )
