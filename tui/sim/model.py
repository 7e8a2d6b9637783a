"""The simulator's in-memory tenant: plain dataclasses shared by all simulator routes.

Field names follow the Insights Hub JSON (camelCase) so routes can serialise them directly.
Owned by the simulator only; the client never imports this module.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from tui.sim.config import SimConfig


@dataclass(slots=True)
class VariableDef:
    """A variable of an aspect type or of an asset type."""

    name: str
    dataType: str  # BOOLEAN, INT, LONG, DOUBLE, STRING, TIMESTAMP, BIG_STRING
    unit: str = ""
    searchable: bool = False
    length: int | None = None
    defaultValue: str | None = None
    qualityCode: bool = False


@dataclass(slots=True)
class AspectType:
    id: str  # "<tenant>.<Name>"
    name: str
    category: str  # "dynamic" or "static"
    variables: list[VariableDef]
    description: str = ""
    scope: str = "private"
    etag: int = 0
    # Seconds between samples of the synthetic time series for dynamic aspects.
    sample_period_s: int = 60


@dataclass(slots=True)
class AssetTypeAspect:
    name: str
    aspectTypeId: str


@dataclass(slots=True)
class AssetType:
    id: str
    name: str
    parentTypeId: str | None
    instantiable: bool = True
    description: str = ""
    aspects: list[AssetTypeAspect] = field(default_factory=list)
    variables: list[VariableDef] = field(default_factory=list)
    scope: str = "private"
    etag: int = 0


@dataclass(slots=True)
class Asset:
    assetId: str  # 32 lowercase hex characters
    name: str
    typeId: str
    parentId: str | None
    description: str = ""
    externalId: str | None = None
    timezone: str = "Europe/Berlin"
    twinType: str = "performance"
    location: dict[str, Any] | None = None
    # Asset-level variable values [{"name", "value"}] and static aspect values
    # [{"name": aspectName, "variables": [{"name", "value"}]}].
    variables: list[dict[str, Any]] = field(default_factory=list)
    aspects: list[dict[str, Any]] = field(default_factory=list)
    etag: int = 0
    deleted: str | None = None
    # True for assets shared into this tenant (visible only with includeShared=true).
    shared: bool = False
    createdAt: float = 0.0


@dataclass
class TenantState:
    """Everything the simulator knows. Routes mutate it under ``lock``."""

    config: SimConfig
    tenant: str
    root_id: str
    assets: dict[str, Asset] = field(default_factory=dict)
    # parentId -> ordered child ids (insertion order); kept in step with ``assets``.
    children: dict[str, list[str]] = field(default_factory=dict)
    asset_types: dict[str, AssetType] = field(default_factory=dict)
    aspect_types: dict[str, AspectType] = field(default_factory=dict)
    # Written time series, overlaid on the synthetic signal: (assetId, aspectName) -> {epoch_ms: record}
    ts_writes: dict[tuple[str, str], dict[int, dict[str, Any]]] = field(default_factory=dict)
    # Deleted ranges per (assetId, aspectName): list of (from_ms exclusive, to_ms inclusive).
    ts_deleted: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=dict)
    # MindConnect MQTT certificates: id -> resource dict (without any private key).
    ca_certificates: dict[str, dict[str, Any]] = field(default_factory=dict)
    agent_certificates: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Counters for tests: how many token requests, API requests and injected faults.
    counters: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def bump(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n
