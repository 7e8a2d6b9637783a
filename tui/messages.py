"""App-wide messages and the connection state they carry."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from textual.message import Message


class Phase(StrEnum):
    NONE = "none"  # no profile active
    CONNECTING = "connecting"
    CONNECTED = "connected"
    ERROR = "error"


@dataclass(frozen=True)
class ConnectionState:
    """What the header shows and screens react to. Holds no secret and no token value."""

    phase: Phase = Phase.NONE
    profile: str | None = None
    tenant: str | None = None
    # Epoch seconds at which the current access token expires (None until a token is held).
    expires_at: float | None = None
    scopes: tuple[str, ...] = ()
    client_id: str | None = None
    # No change to the tenant (the session's --read-only or the profile's flag; tui.config.safety).
    read_only: bool = False
    # A production tenant: the header says so in its own colour and destructive actions ask for the name.
    production: bool = False
    error: str | None = None

    @property
    def connected(self) -> bool:
        return self.phase is Phase.CONNECTED


@dataclass
class ConnectionChanged(Message):
    """Posted to every mode screen when the active profile or the connection state changes."""

    state: ConnectionState


@dataclass
class AreaRequested(Message):
    """Posted to an area screen by ``IhubContext.open_area``: something to show (e.g. a ``ChartRequest``)."""

    request: object


@dataclass(frozen=True)
class ProxyStatus:
    """The local API proxy started from the app, as the header and its dialog show it (``tui/app_proxy.py``).

    ``url`` e.g. ``http://127.0.0.1:8766``; the counters are the proxy's (``tui.proxy.ProxyStats``):
    ``forwarded`` requests sent to the gateway, ``refused`` by a check (access key, read-only, ...),
    ``failed`` (gateway unreachable, token refused). Never holds the access key.
    """

    profile: str
    url: str
    port: int
    gateway: str
    read_only: bool = False
    forwarded: int = 0
    refused: int = 0
    failed: int = 0
    in_flight: int = 0
