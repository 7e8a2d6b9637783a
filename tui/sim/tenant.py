"""The demo tenant: core and demo types, a demo plant, shared assets and ``config.assets`` generated ones.

Everything is a deterministic function of ``config.seed`` (and ``config.tenant``), so two builds with
the same config give the same ids, names, values and structure.

Demo plant: root ``<tenant>`` (``core.tenant``) -> sites (Erlangen, Chicago, Chengdu: time zones
Europe/Berlin, America/Chicago, Asia/Shanghai) -> halls -> production lines -> machines (pumps, motors,
compressors, conveyors, mixers, and one dosing pump per site on line X11). Sites, halls and machines carry
a location (address, latitude/longitude). Machines carry static values (Nameplate and Maintenance
aspects, asset-type variables) and dynamic aspects; every pump has the 1 Hz ``Vibration`` aspect
(``<tenant>.PumpVibration``: 86 400 records a day). Two decommissioned (soft-deleted) pumps. Hall CH1 is
shared by the demo tenant with tenant ``supplier`` (sharing mode SHARER).

Shared into the tenant (visible only with ``includeShared=true``, sharing mode RECEIVER, ``tenantId`` =
the owner, types of the owner): "Supplier Equipment" with three leased machines (tenant ``supplier``,
Europe/Vienna) and "Grid Connection ER" (tenant ``utility``).

Generated area (only when ``config.assets > 0``): root -> "Generated" -> three folders holding exactly
``config.assets`` sensors between them: "Wide" (``min(N // 2, 10 000)`` direct children, so any
``--assets N`` with N >= 20 000 has a node with exactly 10 000 children), "Deep" (a chain of
``min(N - wide, 64)`` levels) and "Tree" (the rest, a balanced tree with fan-out 10).
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
    variables_of_type,
)

WIDE_MAX = 10_000
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
        AspectType(
            f"{t}.PumpVibration",
            "PumpVibration",
            "dynamic",
            [
                _v("velocityRms", "DOUBLE", "mm/s", qc=True),
                _v("accelerationPeak", "DOUBLE", "g", qc=True),
                _v("bearingTemperature", "DOUBLE", "C"),
                _v("zone", "STRING", length=1),
                _v("alarm", "BOOLEAN"),
            ],
            description="Bearing vibration, sampled once a second (ISO 10816 zone A-D)",
            sample_period_s=1,
        ),
        AspectType(
            f"{t}.Maintenance",
            "Maintenance",
            "static",
            [
                _v("commissioned", "TIMESTAMP", searchable=True),
                _v("lastService", "TIMESTAMP"),
                _v("serviceIntervalHours", "INT", "h", defaultValue="4000"),
                _v("operatingHours", "LONG", "h"),
                _v("ratedPower", "DOUBLE", "kW"),
                _v("underWarranty", "BOOLEAN", defaultValue="false"),
            ],
            description="Service and rating data",
        ),
        AspectType(
            f"{t}.Diagnostics",
            "Diagnostics",
            "dynamic",
            [
                _v("lastStateChange", "TIMESTAMP"),
                _v("message", "BIG_STRING", length=2000),
            ],
            description="Controller diagnostics: one log line every 15 minutes",
            sample_period_s=900,
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
            aspects=[a("Nameplate"), a("Energy"), a("Maintenance"), a("Diagnostics")],
            variables=[_v("criticality", "STRING", length=16, defaultValue="normal")],
        ),
        AssetType(
            f"{t}.Pump",
            "Pump",
            f"{t}.Machine",
            aspects=[a("PumpData"), AssetTypeAspect("Vibration", f"{t}.PumpVibration")],
            description="A pump",
            variables=[_v("ratedFlow", "DOUBLE", "m3/h", defaultValue="120")],
        ),
        AssetType(
            f"{t}.DosingPump",
            "DosingPump",
            f"{t}.Pump",
            description="A dosing pump (a pump with a stroke drive)",
            variables=[
                _v("maxStrokeRate", "DOUBLE", "1/min", defaultValue="100"),
                _v("medium", "STRING", length=32, defaultValue="NaOH"),
            ],
        ),
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
# Rated power in kW per machine kind (the Maintenance aspect's ratedPower picks one).
_RATED_POWER = {
    "Pump": (15.0, 22.0, 30.0),
    "Motor": (55.0, 75.0, 90.0),
    "Compressor": (90.0, 110.0, 132.0),
    "Conveyor": (4.0, 5.5, 7.5),
    "Mixer": (18.5, 22.0),
}

# Tenants that share assets INTO the demo tenant (their assets carry sharing mode RECEIVER), and the
# tenant the demo tenant shares a hall with (sharing mode SHARER on that hall).
SUPPLIER_TENANT = "supplier"
UTILITY_TENANT = "utility"
SHARED_OUT_TO = ("supplier",)
_SUPPLIER_LOCATION = {
    "country": "Austria",
    "region": "Vienna",
    "locality": "Vienna",
    "streetAddress": "Lieferantenweg 7",
    "postalCode": "1100",
    "longitude": 16.3738,
    "latitude": 48.2082,
}
_UTILITY_LOCATION = {
    "country": "Germany",
    "region": "Bavaria",
    "locality": "Erlangen",
    "streetAddress": "Substation Nord",
    "postalCode": "91056",
    "longitude": 10.9871,
    "latitude": 49.6085,
}


def _shared_types() -> tuple[list[AspectType], list[AssetType]]:
    """Types owned by the tenants that share assets into the demo tenant (received along with them)."""
    s, u = SUPPLIER_TENANT, UTILITY_TENANT
    aspect_types = [
        AspectType(
            f"{s}.ServiceStatus",
            "ServiceStatus",
            "dynamic",
            [
                _v("hoursToService", "DOUBLE", "h", qc=True),
                _v("healthy", "BOOLEAN"),
                _v("state", "STRING", length=16),
            ],
            description="Remote service status reported by the supplier",
            sample_period_s=300,
            shared=True,
        ),
        AspectType(
            f"{s}.Lease",
            "Lease",
            "static",
            [
                _v("contractId", "STRING", length=32, searchable=True),
                _v("leaseEnd", "TIMESTAMP"),
                _v("monthlyRate", "DOUBLE", "EUR"),
            ],
            description="Lease contract",
            shared=True,
        ),
        AspectType(
            f"{u}.GridPower",
            "GridPower",
            "dynamic",
            [
                _v("activePower", "DOUBLE", "kW", qc=True),
                _v("voltage", "DOUBLE", "V", qc=True),
                _v("frequency", "DOUBLE", "Hz"),
            ],
            description="Grid connection metering by the utility",
            sample_period_s=60,
            shared=True,
        ),
    ]
    asset_types = [
        AssetType(
            f"{s}.Fleet", "Fleet", "core.basicarea", True, "Equipment leased to a customer", shared=True
        ),
        AssetType(
            f"{s}.LeasedMachine",
            "LeasedMachine",
            "core.basicdevice",
            False,
            "A leased machine (abstract)",
            aspects=[
                AssetTypeAspect("Lease", f"{s}.Lease"),
                AssetTypeAspect("Service", f"{s}.ServiceStatus"),
            ],
            variables=[_v("serviceLevel", "STRING", length=16, defaultValue="standard")],
            shared=True,
        ),
        AssetType(f"{s}.LeasedCompressor", "LeasedCompressor", f"{s}.LeasedMachine", shared=True),
        AssetType(f"{s}.LeasedPump", "LeasedPump", f"{s}.LeasedMachine", shared=True),
        AssetType(f"{s}.LeasedMotor", "LeasedMotor", f"{s}.LeasedMachine", shared=True),
        AssetType(
            f"{u}.GridMeter",
            "GridMeter",
            "core.basicdevice",
            True,
            "A utility's grid connection meter",
            aspects=[AssetTypeAspect("Grid", f"{u}.GridPower")],
            shared=True,
        ),
    ]
    return aspect_types, asset_types


class _Builder:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.t = config.tenant
        # Ids and machine counts come from this generator; its sequence must stay as it is so that ids
        # stay stable. Details added later (locations, static values) draw from ``details``.
        self.rng = random.Random(f"{config.seed}:{config.tenant}")
        self.details = random.Random(f"{config.seed}:{config.tenant}:details")
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
    """A fresh tenant: types, the demo plant, shared assets and ``config.assets`` generated assets."""
    b = _Builder(config)
    state = b.state
    t = b.t
    shared_aspect_types, shared_asset_types = _shared_types()
    for aspect_type in _aspect_types(t) + shared_aspect_types:
        state.aspect_types[aspect_type.id] = aspect_type
    for asset_type in _asset_types(t) + shared_asset_types:
        state.asset_types[asset_type.id] = asset_type

    root = b.asset(t, "core.tenant", None, "Europe/Berlin", description=f"Root asset of tenant {t}")
    state.root_id = root.assetId
    _build_plant(b, root.assetId)
    _build_shared(b, root.assetId)
    _build_dosing_pumps(b)
    if config.assets > 0:
        _build_generated(b, root.assetId, config.assets)
    state.version = 1
    return state


def _offset(location: dict[str, object], north: float, east: float, street: str) -> dict[str, object]:
    """A copy of ``location`` moved ``north``/``east`` degrees, with another street address."""
    moved = dict(location)
    moved["latitude"] = round(float(location["latitude"]) + north, 6)  # type: ignore[arg-type]
    moved["longitude"] = round(float(location["longitude"]) + east, 6)  # type: ignore[arg-type]
    moved["streetAddress"] = street
    return moved


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
            hall_location = _offset(location, 0.001 * h, 0.0, f"{location['streetAddress']}, Building {h}")
            hall = b.asset(
                f"Hall {code}{h}",
                f"{t}.Hall",
                site.assetId,
                tz,
                externalId=f"{code}-H{h}",
                description=f"Hall {h} in {site_name}",
                location=hall_location,
            )
            if code == "CH" and h == 1:
                # The demo tenant shares this hall with its supplier (sharing mode SHARER).
                hall.sharedWith = SHARED_OUT_TO
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
                    year = 2010 + rng.randrange(15)
                    machine = b.asset(
                        f"{kind} {code}-{h}{line_no}{m:02d}",
                        f"{t}.{kind}",
                        line.assetId,
                        tz,
                        externalId=f"SN-{serial}",
                        description=f"{kind} {m} on line {line_no}, hall {h}, {site_name}",
                        aspects=[_nameplate(_MANUFACTURERS[kind_idx], serial, year)],
                        location=_offset(
                            hall_location,
                            0.0001 * line_no,
                            0.0001 * m,
                            f"{hall_location['streetAddress']}, Line {line_no}, Bay {m}",
                        ),
                    )
                    _machine_details(b, machine, kind, year)
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


def _machine_details(b: _Builder, machine: Asset, kind: str, year: int) -> None:
    """Static values beyond the nameplate: the Maintenance aspect and, for pumps, the rated flow."""
    rng = b.details
    month, day = 1 + rng.randrange(12), 1 + rng.randrange(28)
    service_month, service_day = 1 + rng.randrange(12), 1 + rng.randrange(28)
    hours = max(200, (2024 - year) * 6500 + rng.randrange(3000))
    machine.aspects.append(
        {
            "name": "Maintenance",
            "variables": [
                {"name": "commissioned", "value": f"{year}-{month:02d}-{day:02d}T08:00:00.000Z"},
                {"name": "lastService", "value": f"2023-{service_month:02d}-{service_day:02d}T06:30:00.000Z"},
                {"name": "serviceIntervalHours", "value": "4000"},
                {"name": "operatingHours", "value": str(hours)},
                {"name": "ratedPower", "value": str(rng.choice(_RATED_POWER[kind]))},
                {"name": "underWarranty", "value": "true" if year >= 2022 else "false"},
            ],
        }
    )
    if kind == "Pump":
        for variable in machine.variables:
            if variable["name"] == "ratedFlow":
                variable["value"] = str(rng.choice((80, 100, 120, 150, 200)))


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
    """Assets shared INTO the demo tenant by two other tenants: hidden unless ``includeShared=true``.

    They hang below the demo root so that a tree can show them; their ``tenantId`` is the owner, their
    types belong to the owner too (received along with them), and their sharing mode is RECEIVER.
    """
    s = SUPPLIER_TENANT
    fleet = b.asset(
        "Supplier Equipment",
        f"{s}.Fleet",
        root_id,
        "Europe/Vienna",
        shared=True,
        owner=s,
        description="Equipment leased from Supplier GmbH, shared by tenant 'supplier'",
        location=dict(_SUPPLIER_LOCATION),
    )
    for i, kind in enumerate(("Compressor", "Pump", "Motor"), start=1):
        b.asset(
            f"Leased {kind} {i}",
            f"{s}.Leased{kind}",
            fleet.assetId,
            "Europe/Vienna",
            shared=True,
            owner=s,
            externalId=f"LEASE-{i}",
            description=f"Leased {kind.lower()}, serviced remotely by the supplier",
            location=_offset(_SUPPLIER_LOCATION, 0.0, 0.0001 * i, f"Lieferantenweg 7, Unit {i}"),
            aspects=[
                {
                    "name": "Lease",
                    "variables": [
                        {"name": "contractId", "value": f"L-2022-{100 + i}"},
                        {"name": "leaseEnd", "value": f"202{6 + i % 2}-12-31T23:59:59.000Z"},
                        {"name": "monthlyRate", "value": str(450.0 + 125.0 * i)},
                    ],
                }
            ],
        )
    b.asset(
        "Grid Connection ER",
        f"{UTILITY_TENANT}.GridMeter",
        root_id,
        "Europe/Berlin",
        shared=True,
        owner=UTILITY_TENANT,
        externalId="MELO-DE0001",
        description="Grid connection meter of the Erlangen site, shared by tenant 'utility'",
        location=dict(_UTILITY_LOCATION),
    )


def _build_dosing_pumps(b: _Builder) -> None:
    """One dosing pump (DosingPump -> Pump -> Machine -> core.basicdevice -> core.basicasset) per site,
    on the site's first line, next to that line's last machine."""
    t = b.t
    state = b.state
    lines = {a.name: a for a in state.assets.values() if a.typeId == f"{t}.Line"}
    for index, (_site_name, code, tz, _location) in enumerate(_SITES):
        line = lines[f"Line {code}11"]
        neighbour = state.assets[state.children[line.assetId][-1]].location or {}
        pump = b.asset(
            f"Pump {code}-11D",
            f"{t}.DosingPump",
            line.assetId,
            tz,
            externalId=f"SN-D{index + 1:03d}",
            description=f"Dosing pump on line 1, hall 1, {_site_name}",
            aspects=[_nameplate(_MANUFACTURERS[0], 8001 + index, 2023)],
            location=_offset(neighbour, 0.0, 0.0001, f"{neighbour.get('streetAddress')}, dosing skid"),
        )
        _machine_details(b, pump, "Pump", 2023)


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
