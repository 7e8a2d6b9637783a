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
    # True for a type received from another tenant (its id carries that tenant's prefix): visible only
    # with includeShared=true, sharing mode RECEIVER, read-only.
    shared: bool = False
    # False: no synthetic signal; the time series hold only what was written (MQTT agents' aspects).
    synthetic: bool = True


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
    shared: bool = False  # received from another tenant (see AspectType.shared)


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
    # True for assets shared into this tenant (visible only with includeShared=true; sharing mode
    # RECEIVER; read-only). ``owner`` is then the tenant that owns and shares it (the asset's tenantId).
    shared: bool = False
    owner: str | None = None
    # Tenants this tenant shares the asset with (sharing mode SHARER when not empty).
    sharedWith: tuple[str, ...] = ()
    createdAt: float = 0.0

    def sharing_modes(self) -> list[str]:
        """``sharing.modes`` of the resource (reference 2.4): SHARER, RECEIVER, or none."""
        modes = []
        if self.sharedWith:
            modes.append("SHARER")
        if self.shared:
            modes.append("RECEIVER")
        return modes


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
    # MQTT agents by client id (``tui.sim.agents.MqttAgent``): created on a client id's first accepted
    # connection to the simulator's broker; each holds its agent asset and its data-point mapping table.
    mqtt_agents: dict[str, Any] = field(default_factory=dict)
    # The tenant's asset model lock (``PUT /model/lock``): while set, existing aspect and asset types
    # cannot be changed or deleted; new ones can still be created.
    model_locked: bool = False
    # Counters for tests: how many token requests, API requests and injected faults.
    counters: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Bumped on every change to assets (routes use it to keep cached sort orders fresh).
    version: int = 0
    # Derived data routes may cache, keyed by name; entries are checked against ``version``.
    cache: dict[str, Any] = field(default_factory=dict)

    def bump(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n


# --- Helpers shared by the simulator routes (added by SIM-CORE; pure reads of TenantState) ---


def type_chain(state: TenantState, type_id: str) -> list[AssetType]:
    """The asset type and its ancestors, the type itself first. Unknown ids end the chain."""
    chain: list[AssetType] = []
    seen: set[str] = set()
    current: str | None = type_id
    while current and current not in seen and current in state.asset_types:
        seen.add(current)
        asset_type = state.asset_types[current]
        chain.append(asset_type)
        current = asset_type.parentTypeId
    return chain


def aspects_of_type(state: TenantState, type_id: str) -> list[tuple[AssetTypeAspect, AspectType, str]]:
    """Aspects of an asset type including inherited ones: (aspect, aspect type, defining type id).

    Inherited aspects come first (root type first), then the type's own, as the exploded view shows them.
    """
    result: list[tuple[AssetTypeAspect, AspectType, str]] = []
    for asset_type in reversed(type_chain(state, type_id)):
        for aspect in asset_type.aspects:
            aspect_type = state.aspect_types.get(aspect.aspectTypeId)
            if aspect_type is not None:
                result.append((aspect, aspect_type, asset_type.id))
    return result


def aspects_of_asset(state: TenantState, asset_id: str) -> list[tuple[AssetTypeAspect, AspectType, str]]:
    """Aspects an asset carries through its type (empty for an unknown asset)."""
    asset = state.assets.get(asset_id)
    if asset is None:
        return []
    return aspects_of_type(state, asset.typeId)


def find_aspect(state: TenantState, asset_id: str, aspect_name: str) -> AspectType | None:
    """The aspect type behind ``aspect_name`` on an asset (the time series propertySetName)."""
    for aspect, aspect_type, _origin in aspects_of_asset(state, asset_id):
        if aspect.name == aspect_name:
            return aspect_type
    return None


def variables_of_type(state: TenantState, type_id: str) -> list[tuple[VariableDef, str]]:
    """Asset-type variables including inherited ones: (variable, defining type id)."""
    result: list[tuple[VariableDef, str]] = []
    for asset_type in reversed(type_chain(state, type_id)):
        for variable in asset_type.variables:
            result.append((variable, asset_type.id))
    return result
