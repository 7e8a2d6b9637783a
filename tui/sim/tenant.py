"""The demo tenant: core and demo types, a demo plant, and ``config.assets`` generated assets.

Everything is a deterministic function of ``config.seed`` (and ``config.tenant``), so two builds with
the same config give the same ids, names and structure.

Demo plant: root ``<tenant>`` (``core.tenant``) -> sites (Erlangen, Chicago, Chengdu, with locations)
-> halls -> production lines -> machines (pumps, motors, compressors, conveyors, mixers), plus two
decommissioned (soft-deleted) machines and a few assets shared into the tenant by a supplier.

Generated area (only when ``config.assets > 0``): root -> "Generated" -> three folders holding exactly
``config.assets`` sensors between them: "Wide" (up to 5000 direct children), "Deep" (a chain up to 64
levels deep) and "Tree" (the rest, a balanced tree with fan-out 10).
"""

from __future__ import annotations

import random

from tui.sim.config import SimConfig
from tui.sim.model import (
    AspectType,
    Asset,
    AssetType,
    AssetTypeAspect,
    TenantState,
    VariableDef,
)

WIDE_MAX = 5000
DEEP_MAX = 64
TREE_FANOUT = 10
# 2024-01-01T00:00:00Z: when the demo plant "was created" (deterministic, independent of the clock).
PLANT_CREATED = 1704067200.0


def _v(name: str, data_type: str, unit: str = "", *, qc: bool = False, **kw: object) -> VariableDef:
    return VariableDef(name=name, dataType=data_type, unit=unit, qualityCode=qc, **kw)  # type: ignore[arg-type]


def _aspect_types(t: str) -> list[AspectType]:
    return [
        AspectType(
            f"{t}.PumpData",
            "PumpData",
            "dynamic",
            [
                _v("flow", "DOUBLE", "m3/h", qc=True),
                _v("pressure", "DOUBLE", "bar", qc=True),
                _v("running", "BOOLEAN"),
            ],
            description="Pump process values",
            sample_period_s=60,
        ),
        AspectType(
            f"{t}.MotorData",
            "MotorData",
            "dynamic",
            [
                _v("speed", "DOUBLE", "rpm"),
                _v("current", "DOUBLE", "A"),
                _v("temperature", "DOUBLE", "C", qc=True),
                _v("vibration", "DOUBLE", "mm/s"),
            ],
            description="Motor drive values",
            sample_period_s=10,
        ),
        AspectType(
            f"{t}.CompressorData",
            "CompressorData",
            "dynamic",
            [
                _v("outletPressure", "DOUBLE", "bar", qc=True),
                _v("temperature", "DOUBLE", "C", qc=True),
                _v("load", "DOUBLE", "%"),
                _v("state", "STRING", length=32),
            ],
            description="Compressor values",
            sample_period_s=30,
        ),
        AspectType(
            f"{t}.ConveyorData",
            "ConveyorData",
            "dynamic",
            [
                _v("beltSpeed", "DOUBLE", "m/s"),
                _v("itemCount", "LONG", "pcs"),
                _v("running", "BOOLEAN"),
            ],
            description="Conveyor values",
            sample_period_s=60,
        ),
        AspectType(
            f"{t}.MixerData",
            "MixerData",
            "dynamic",
            [
                _v("speed", "DOUBLE", "rpm"),
                _v("torque", "DOUBLE", "Nm", qc=True),
                _v("batch", "INT"),
            ],
            description="Mixer values",
            sample_period_s=60,
        ),
        AspectType(
            f"{t}.Energy",
            "Energy",
            "dynamic",
            [_v("energy", "DOUBLE", "kWh"), _v("power", "DOUBLE", "kW")],
            description="Energy metering",
            sample_period_s=900,
        ),
        AspectType(
            f"{t}.Environment",
            "Environment",
            "dynamic",
            [_v("temperature", "DOUBLE", "C", qc=True), _v("humidity", "DOUBLE", "%")],
            description="Ambient conditions",
            sample_period_s=300,
        ),
        AspectType(
            f"{t}.Nameplate",
            "Nameplate",
            "static",
            [
                _v("manufacturer", "STRING", length=64, searchable=True),
                _v("serial", "STRING", length=32, searchable=True),
                _v("year", "INT"),
            ],
            description="Manufacturer data",
        ),
    ]


def _asset_types(t: str) -> list[AssetType]:
    def a(name: str) -> AssetTypeAspect:
        return AssetTypeAspect(name, f"{t}.{name}")

    core = [
        AssetType("core.basicasset", "BasicAsset", None, False, "Base of all asset types", scope="public"),
        AssetType("core.basicarea", "BasicArea", "core.basicasset", True, "An area", scope="public"),
        AssetType("core.basicsite", "BasicSite", "core.basicasset", True, "A site", scope="public"),
        AssetType("core.basicdevice", "BasicDevice", "core.basicasset", True, "A device", scope="public"),
        AssetType("core.tenant", "Tenant", "core.basicasset", False, "The tenant's root", scope="public"),
    ]
    demo = [
        AssetType(f"{t}.Site", "Site", "core.basicsite", description="A production site"),
        AssetType(f"{t}.Hall", "Hall", "core.basicarea", aspects=[a("Environment")], description="A hall"),
        AssetType(
            f"{t}.Line",
            "Line",
            "core.basicasset",
            aspects=[a("Energy")],
            description="A production line",
            variables=[_v("shiftModel", "STRING", length=16, defaultValue="3-shift")],
        ),
        AssetType(
            f"{t}.Machine",
            "Machine",
            "core.basicdevice",
            False,
            "Any machine (abstract)",
            aspects=[a("Nameplate"), a("Energy")],
            variables=[_v("criticality", "STRING", length=16, defaultValue="normal")],
        ),
        AssetType(f"{t}.Pump", "Pump", f"{t}.Machine", aspects=[a("PumpData")], description="A pump"),
        AssetType(f"{t}.Motor", "Motor", f"{t}.Machine", aspects=[a("MotorData")], description="A motor"),
        AssetType(
            f"{t}.Compressor",
            "Compressor",
            f"{t}.Machine",
            aspects=[a("CompressorData")],
            description="An air compressor",
        ),
        AssetType(
            f"{t}.Conveyor", "Conveyor", f"{t}.Machine", aspects=[a("ConveyorData")], description="A conveyor"
        ),
        AssetType(f"{t}.Mixer", "Mixer", f"{t}.Machine", aspects=[a("MixerData")], description="A mixer"),
        AssetType(f"{t}.Folder", "Folder", "core.basicarea", description="A folder of assets"),
        AssetType(
            f"{t}.Sensor", "Sensor", "core.basicdevice", aspects=[a("Environment")], description="A sensor"
        ),
    ]
    return core + demo


_SITES = [
    (
        "Erlangen",
        "ER",
        "Europe/Berlin",
        {
            "country": "Germany",
            "region": "Bavaria",
            "locality": "Erlangen",
            "streetAddress": "Demo Str. 1",
            "postalCode": "91052",
            "longitude": 11.0045,
            "latitude": 49.5897,
        },
    ),
    (
        "Chicago",
        "CH",
        "America/Chicago",
        {
            "country": "USA",
            "region": "Illinois",
            "locality": "Chicago",
            "streetAddress": "1 Demo Ave",
            "postalCode": "60601",
            "longitude": -87.6298,
            "latitude": 41.8781,
        },
    ),
    (
        "Chengdu",
        "CD",
        "Asia/Shanghai",
        {
            "country": "China",
            "region": "Sichuan",
            "locality": "Chengdu",
            "streetAddress": "1 Demo Road",
            "postalCode": "610000",
            "longitude": 104.0665,
            "latitude": 30.5728,
        },
    ),
]
_MACHINE_KINDS = ["Pump", "Motor", "Compressor", "Conveyor", "Mixer"]
_MANUFACTURERS = ["Acme Fluid", "Voltix", "AirWorks", "BeltCo", "StirMaster"]


class _Builder:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.t = config.tenant
        self.rng = random.Random(f"{config.seed}:{config.tenant}")
        self.used: set[str] = set()
        self.state = TenantState(config=config, tenant=config.tenant, root_id="")

    def new_id(self) -> str:
        while True:
            asset_id = f"{self.rng.getrandbits(128):032x}"
            if asset_id not in self.used:
                self.used.add(asset_id)
                return asset_id

    def add(self, asset: Asset) -> Asset:
        state = self.state
        state.assets[asset.assetId] = asset
        if asset.parentId is not None:
            state.children.setdefault(asset.parentId, []).append(asset.assetId)
        return asset

    def defaults_for(self, type_id: str) -> list[dict[str, str]]:
        from tui.sim.model import variables_of_type

        return [
            {"name": var.name, "value": var.defaultValue}
            for var, _origin in variables_of_type(self.state, type_id)
            if var.defaultValue is not None
        ]

    def asset(self, name: str, type_id: str, parent: str | None, tz: str, **kw: object) -> Asset:
        return self.add(
            Asset(
                assetId=self.new_id(),
                name=name,
                typeId=type_id,
                parentId=parent,
                timezone=tz,
                variables=self.defaults_for(type_id),
                createdAt=PLANT_CREATED,
                **kw,  # type: ignore[arg-type]
            )
        )


def build_tenant(config: SimConfig) -> TenantState:
    """A fresh tenant: types, the demo plant and ``config.assets`` generated assets."""
    b = _Builder(config)
    state = b.state
    t = b.t
    for aspect_type in _aspect_types(t):
        state.aspect_types[aspect_type.id] = aspect_type
    for asset_type in _asset_types(t):
        state.asset_types[asset_type.id] = asset_type

    root = b.asset(t, "core.tenant", None, "Europe/Berlin", description=f"Root asset of tenant {t}")
    state.root_id = root.assetId
    _build_plant(b, root.assetId)
    _build_shared(b, root.assetId)
    if config.assets > 0:
        _build_generated(b, root.assetId, config.assets)
    state.version = 1
    return state


def _build_plant(b: _Builder, root_id: str) -> None:
    t = b.t
    rng = b.rng
    serial = 1000
    for site_name, code, tz, location in _SITES:
        site = b.asset(
            site_name,
            f"{t}.Site",
            root_id,
            tz,
            externalId=f"SITE-{code}",
            location=dict(location),
            description=f"Production site {site_name}",
        )
        for h in range(1, 4):
            hall = b.asset(
                f"Hall {code}{h}",
                f"{t}.Hall",
                site.assetId,
                tz,
                externalId=f"{code}-H{h}",
                description=f"Hall {h} in {site_name}",
            )
            for line_no in range(1, 4):
                line = b.asset(
                    f"Line {code}{h}{line_no}",
                    f"{t}.Line",
                    hall.assetId,
                    tz,
                    externalId=f"{code}-H{h}-L{line_no}",
                )
                count = 6 + rng.randrange(5)
                for m in range(1, count + 1):
                    kind_idx = (m - 1 + h + line_no) % len(_MACHINE_KINDS)
                    kind = _MACHINE_KINDS[kind_idx]
                    serial += 1
                    b.asset(
                        f"{kind} {code}-{h}{line_no}{m:02d}",
                        f"{t}.{kind}",
                        line.assetId,
                        tz,
                        externalId=f"SN-{serial}",
                        description=f"{kind} {m} on line {line_no}, hall {h}, {site_name}",
                        aspects=[_nameplate(_MANUFACTURERS[kind_idx], serial, 2010 + rng.randrange(15))],
                    )
        # One decommissioned machine per site but the last: soft-deleted, visible only through filters.
        if code != "CD":
            serial += 1
            b.asset(
                f"Retired Pump {code}-0",
                f"{t}.Pump",
                site.assetId,
                tz,
                externalId=f"SN-{serial}",
                description="Decommissioned",
                deleted="2024-03-15T08:00:00.000Z" if code == "ER" else "2024-06-30T12:00:00.000Z",
                aspects=[_nameplate(_MANUFACTURERS[0], serial, 2001)],
            )


def _nameplate(manufacturer: str, serial: int, year: int) -> dict[str, object]:
    return {
        "name": "Nameplate",
        "variables": [
            {"name": "manufacturer", "value": manufacturer},
            {"name": "serial", "value": f"S{serial:06d}"},
            {"name": "year", "value": str(year)},
        ],
    }


def _build_shared(b: _Builder, root_id: str) -> None:
    """Assets shared into the tenant by a supplier: hidden unless ``includeShared=true``."""
    t = b.t
    area = b.asset(
        "Supplier Equipment",
        f"{t}.Folder",
        root_id,
        "Europe/Berlin",
        shared=True,
        description="Shared by supplier tenant",
    )
    for i, kind in enumerate(("Compressor", "Pump", "Motor"), start=1):
        b.asset(
            f"Leased {kind} {i}",
            f"{t}.{kind}",
            area.assetId,
            "Europe/Berlin",
            shared=True,
            externalId=f"LEASE-{i}",
            aspects=[_nameplate("Supplier GmbH", 9000 + i, 2022)],
        )


def _build_generated(b: _Builder, root_id: str, total: int) -> None:
    t = b.t
    sensor = f"{t}.Sensor"
    folder = f"{t}.Folder"
    tz = "Europe/Berlin"
    defaults = b.defaults_for(sensor)
    area = b.asset("Generated", folder, root_id, tz, description=f"{total} generated assets")

    wide_n = min(total // 2, WIDE_MAX)
    deep_n = min(total - wide_n, DEEP_MAX)
    tree_n = total - wide_n - deep_n

    state = b.state
    assets = state.assets
    children = state.children

    def sensor_asset(name: str, parent: str) -> str:
        asset_id = b.new_id()
        assets[asset_id] = Asset(
            assetId=asset_id,
            name=name,
            typeId=sensor,
            parentId=parent,
            timezone=tz,
            variables=[dict(d) for d in defaults],
            createdAt=PLANT_CREATED,
        )
        siblings = children.get(parent)
        if siblings is None:
            children[parent] = [asset_id]
        else:
            siblings.append(asset_id)
        return asset_id

    if wide_n:
        wide = b.asset("Wide", folder, area.assetId, tz, description=f"{wide_n} direct children")
        for i in range(wide_n):
            sensor_asset(f"Sensor W{i:05d}", wide.assetId)
    if deep_n:
        deep = b.asset("Deep", folder, area.assetId, tz, description=f"A chain {deep_n} levels deep")
        parent = deep.assetId
        for level in range(1, deep_n + 1):
            parent = sensor_asset(f"Level {level:02d}", parent)
    if tree_n:
        tree = b.asset(
            "Tree", folder, area.assetId, tz, description=f"{tree_n} assets, fan-out {TREE_FANOUT}"
        )
        ids: list[str] = []
        for i in range(tree_n):
            parent_id = tree.assetId if i < TREE_FANOUT else ids[(i - TREE_FANOUT) // TREE_FANOUT]
            ids.append(sensor_asset(f"Node T{i:06d}", parent_id))
