"""Simulator configuration: tenant, credentials, scale and faults. Plain data, no I/O."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Scopes the simulator hands out. Asset Management scope names are UNCONFIRMED in the reference
# (section 1.4); these are the simulator's pick. IoT Time Series scopes are documented. The Event
# Management and IoT File scopes (for the read-only listings `mc asset-info` needs) are the simulator's
# pick too, modelled on the roles mdsp:core:em.eventviewer and mdsp:core:iot.filUser.
READ_SCOPES: tuple[str, ...] = (
    "mdsp:core:assetmanagement.read",
    "iot.tim.r",
    "mdsp:core:iottsaggregates.read",
    "mdsp:core:mindconnectmqtt.read",
    "mdsp:core:em.read",
    "iot.fil.r",
)
WRITE_SCOPES: tuple[str, ...] = (
    "mdsp:core:assetmanagement.write",
    "iot.tim.w",
    "iot.tim.d",
    "mdsp:core:mindconnectmqtt.write",
)

DEMO_TENANT = "demo"
# 2025-06-16 08:00:00 UTC: the demo's reference instant (epoch seconds). The demo data exists for any
# time; screenshots freeze the clock here and `make mc-check` reads its time ranges around it.
DEMO_INSTANT = 1_750_060_800.0
# Obviously fake demo credentials: they open only the embedded simulator.
DEMO_CLIENT_ID = "demo-ihub-1.0.0-sim"
DEMO_CLIENT_SECRET = "FAKE-demo-secret-not-real"
DEMO_READONLY_CLIENT_ID = "demo-ihub-1.0.0-readonly"
DEMO_READONLY_CLIENT_SECRET = "FAKE-readonly-secret-not-real"


@dataclass(frozen=True)
class SimClient:
    """One set of credentials the simulator accepts (both for /oauth/token and the token manager)."""

    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = READ_SCOPES + WRITE_SCOPES

    @property
    def read_only(self) -> bool:
        return not any(s in WRITE_SCOPES for s in self.scopes)


def default_clients() -> list[SimClient]:
    return [
        SimClient(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, READ_SCOPES + WRITE_SCOPES),
        SimClient(DEMO_READONLY_CLIENT_ID, DEMO_READONLY_CLIENT_SECRET, READ_SCOPES),
    ]


@dataclass
class SimConfig:
    tenant: str = DEMO_TENANT
    seed: int = 42
    # Extra generated assets beyond the demo plant (0: the demo plant only, a few hundred assets).
    # Generated assets have both wide parts (thousands of siblings) and deep parts (long chains).
    assets: int = 0
    latency_ms: float = 0.0
    # Probability per API request (token endpoints excluded unless fault_tokens) of a fault.
    fault_rate: float = 0.0
    # Which faults to draw from: "429" (with Retry-After), "500", "503", "drop" (connection dropped).
    faults: tuple[str, ...] = ("429", "500", "503", "drop")
    fault_tokens: bool = False
    retry_after_s: int = 1
    # Send Retry-After as an HTTP-date (the simulator's clock + retry_after_s) instead of delay-seconds.
    retry_after_http_date: bool = False
    max_page_size: int = 2000
    ts_limit: int = 2000
    token_ttl: int = 1800
    clients: list[SimClient] = field(default_factory=default_clients)
    # The simulator's clock (epoch seconds). Tests pass a fixed or controllable clock.
    clock: Callable[[], float] = time.time
