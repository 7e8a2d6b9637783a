"""Typed views of Insights Hub resources.

Every ``from_json`` tolerates missing and extra fields, and number-or-string etags (reference 2.4, 7).
A body that is not a JSON object raises ``ResponseFormatError``. Unknown fields stay in ``raw``.
Time-series records stay plain dicts; ``record_time`` parses their ``_time``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from tui.api import contract as C
from tui.api.errors import ResponseFormatError

Etag = int | str


def _obj(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ResponseFormatError(f"expected a JSON object for {what}, got {type(data).__name__}")
    return data


def _s(data: dict[str, Any], key: str, default: str | None = None) -> str | None:
    value = data.get(key, default)
    if value is None:
        return default
    return str(value)


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    number = _num(value)
    return int(number) if number is not None else None


def parse_etag(value: Any) -> Etag | None:
    """An etag as received: an int when it is a whole number (or a numeric string), else the string."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().strip('"')
    if text.startswith('W/"'):
        text = text[3:].strip('"')
    return int(text) if text.isdigit() else text


def etag_header(etag: Etag) -> str:
    """The value for ``If-Match``: sent back unquoted (reference section 7)."""
    return str(etag).strip().strip('"')


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (``Z`` or an offset; date-only and hour forms too)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=UTC)
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """ISO 8601 with milliseconds and ``Z``; naive datetimes are refused (ambiguous)."""
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware datetimes")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def record_time(record: dict[str, Any]) -> datetime | None:
    """The ``_time`` of a time-series record as an aware datetime."""
    return parse_time(record.get(C.TS_TIME))


@dataclass(frozen=True)
class Location:
    country: str | None = None
    region: str | None = None
    locality: str | None = None
    street_address: str | None = None
    postal_code: str | None = None
    longitude: float | None = None
    latitude: float | None = None

    @classmethod
    def from_json(cls, data: Any) -> Self | None:
        if not isinstance(data, dict):
            return None
        return cls(
            country=_s(data, "country"),
            region=_s(data, "region"),
            locality=_s(data, "locality"),
            street_address=_s(data, "streetAddress"),
            postal_code=_s(data, "postalCode"),
            longitude=_num(data.get("longitude")),
            latitude=_num(data.get("latitude")),
        )

    def to_json(self) -> dict[str, Any]:
        out = {
            "country": self.country,
            "region": self.region,
            "locality": self.locality,
            "streetAddress": self.street_address,
            "postalCode": self.postal_code,
            "longitude": self.longitude,
            "latitude": self.latitude,
        }
        return {k: v for k, v in out.items() if v is not None}

    def summary(self) -> str:
        return ", ".join(p for p in (self.street_address, self.postal_code, self.locality, self.country) if p)


@dataclass(frozen=True)
class VariableValue:
    name: str
    value: Any = None


@dataclass(frozen=True)
class HierarchyEntry:
    asset_id: str
    name: str


@dataclass(frozen=True)
class VariableDefinition:
    name: str
    data_type: str | None = None
    unit: str | None = None
    searchable: bool | None = None
    length: int | None = None
    default_value: str | None = None
    quality_code: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        data = _obj(data, "a variable")
        quality = data.get("qualityCode")
        searchable = data.get("searchable")
        return cls(
            name=_s(data, "name", "") or "",
            data_type=_s(data, "dataType"),
            unit=_s(data, "unit"),
            searchable=searchable if isinstance(searchable, bool) else None,
            length=_int(data.get("length")),
            default_value=_s(data, "defaultValue"),
            quality_code=quality if isinstance(quality, bool) else None,
            raw=data,
        )


@dataclass(frozen=True)
class Asset:
    asset_id: str
    name: str
    type_id: str | None = None
    parent_id: str | None = None
    description: str | None = None
    external_id: str | None = None
    etag: Etag | None = None
    tenant_id: str | None = None
    sub_tenant: str | None = None
    location: Location | None = None
    variables: tuple[VariableValue, ...] = ()
    aspects: tuple[dict[str, Any], ...] = ()
    hierarchy_path: tuple[HierarchyEntry, ...] = ()
    deleted: str | None = None
    sharing_modes: tuple[str, ...] = ()
    timezone: str | None = None
    twin_type: str | None = None
    locks: tuple[dict[str, Any], ...] = ()
    file_assignments: tuple[dict[str, Any], ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        data = _obj(data, "an asset")
        asset_id = _s(data, C.ASSET_ID) or _s(data, "id")
        if not asset_id:
            raise ResponseFormatError("an asset without assetId")
        sharing = data.get("sharing")
        modes = sharing.get("modes") if isinstance(sharing, dict) else None
        variables = tuple(
            VariableValue(str(v.get("name", "")), v.get("value"))
            for v in _list(data, "variables")
            if isinstance(v, dict)
        )
        path = tuple(
            HierarchyEntry(str(h.get("assetId", "")), str(h.get("name", "")))
            for h in _list(data, "hierarchyPath")
            if isinstance(h, dict)
        )
        return cls(
            asset_id=asset_id,
            name=_s(data, "name", "") or "",
            type_id=_s(data, C.ASSET_TYPE_ID),
            parent_id=_s(data, C.ASSET_PARENT_ID),
            description=_s(data, "description"),
            external_id=_s(data, "externalId"),
            etag=parse_etag(data.get("etag")),
            tenant_id=_s(data, "tenantId"),
            sub_tenant=_s(data, "subTenant") or _s(data, "t2Tenant"),
            location=Location.from_json(data.get("location")),
            variables=variables,
            aspects=tuple(a for a in _list(data, "aspects") if isinstance(a, dict)),
            hierarchy_path=path,
            deleted=_s(data, "deleted"),
            sharing_modes=tuple(str(m) for m in modes) if isinstance(modes, list) else (),
            timezone=_s(data, "timezone"),
            twin_type=_s(data, "twinType"),
            locks=tuple(x for x in _list(data, "locks") if isinstance(x, dict)),
            file_assignments=tuple(x for x in _list(data, "fileAssignments") if isinstance(x, dict)),
            raw=data,
        )

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def is_shared(self) -> bool:
        return "RECEIVER" in self.sharing_modes


@dataclass(frozen=True)
class AspectType:
    id: str
    name: str
    category: str | None = None
    scope: str | None = None
    description: str | None = None
    etag: Etag | None = None
    tenant_id: str | None = None
    variables: tuple[VariableDefinition, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        data = _obj(data, "an aspect type")
        return cls(
            id=_s(data, "id", "") or "",
            name=_s(data, "name", "") or "",
            category=_s(data, "category"),
            scope=_s(data, "scope"),
            description=_s(data, "description"),
            etag=parse_etag(data.get("etag")),
            tenant_id=_s(data, "tenantId"),
            variables=tuple(
                VariableDefinition.from_json(v) for v in _list(data, "variables") if isinstance(v, dict)
            ),
            raw=data,
        )


@dataclass(frozen=True)
class AssetTypeAspect:
    name: str
    aspect_type_id: str | None = None
    aspect_type: AspectType | None = None


@dataclass(frozen=True)
class AssetType:
    id: str
    name: str
    parent_type_id: str | None = None
    instantiable: bool | None = None
    scope: str | None = None
    description: str | None = None
    etag: Etag | None = None
    tenant_id: str | None = None
    aspects: tuple[AssetTypeAspect, ...] = ()
    variables: tuple[VariableDefinition, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        data = _obj(data, "an asset type")
        aspects = []
        for item in _list(data, "aspects"):
            if not isinstance(item, dict):
                continue
            nested = item.get("aspectType")
            aspect_type = AspectType.from_json(nested) if isinstance(nested, dict) else None
            type_id = _s(item, "aspectTypeId") or (aspect_type.id if aspect_type else None)
            aspects.append(AssetTypeAspect(_s(item, "name", "") or "", type_id, aspect_type))
        instantiable = data.get("instantiable")
        return cls(
            id=_s(data, "id", "") or "",
            name=_s(data, "name", "") or "",
            parent_type_id=_s(data, "parentTypeId"),
            instantiable=instantiable if isinstance(instantiable, bool) else None,
            scope=_s(data, "scope"),
            description=_s(data, "description"),
            etag=parse_etag(data.get("etag")),
            tenant_id=_s(data, "tenantId"),
            aspects=tuple(aspects),
            variables=tuple(
                VariableDefinition.from_json(v) for v in _list(data, "variables") if isinstance(v, dict)
            ),
            raw=data,
        )


@dataclass(frozen=True)
class Aspect:
    """An aspect of an asset (``AspectResource`` from ``GET /assets/{id}/aspects``)."""

    name: str
    aspect_type_id: str | None = None
    holder_asset_id: str | None = None
    category: str | None = None
    description: str | None = None
    variables: tuple[VariableDefinition, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        data = _obj(data, "an aspect")
        return cls(
            name=_s(data, "name", "") or "",
            aspect_type_id=_s(data, "aspectTypeId"),
            holder_asset_id=_s(data, "holderAssetId"),
            category=_s(data, "category"),
            description=_s(data, "description"),
            variables=tuple(
                VariableDefinition.from_json(v) for v in _list(data, "variables") if isinstance(v, dict)
            ),
            raw=data,
        )

    @property
    def is_dynamic(self) -> bool:
        return (self.category or "").lower() == "dynamic"


AspectResource = Aspect


@dataclass(frozen=True)
class VariableStats:
    """Per-variable statistics of one aggregate interval (reference section 4)."""

    countgood: int = 0
    countuncertain: int = 0
    countbad: int = 0
    sum: float | None = None
    average: float | None = None
    minvalue: float | None = None
    mintime: datetime | None = None
    maxvalue: float | None = None
    maxtime: datetime | None = None
    firstvalue: float | None = None
    firsttime: datetime | None = None
    lastvalue: float | None = None
    lasttime: datetime | None = None
    sd: float | None = None

    @classmethod
    def from_json(cls, data: Any) -> Self:
        data = _obj(data, "aggregate statistics")
        return cls(
            countgood=_int(data.get("countgood")) or 0,
            countuncertain=_int(data.get("countuncertain")) or 0,
            countbad=_int(data.get("countbad")) or 0,
            sum=_num(data.get("sum")),
            average=_num(data.get("average")),
            minvalue=_num(data.get("minvalue")),
            mintime=parse_time(data.get("mintime")),
            maxvalue=_num(data.get("maxvalue")),
            maxtime=parse_time(data.get("maxtime")),
            firstvalue=_num(data.get("firstvalue")),
            firsttime=parse_time(data.get("firsttime")),
            lastvalue=_num(data.get("lastvalue")),
            lasttime=parse_time(data.get("lasttime")),
            sd=_num(data.get("sd")),
        )

    @property
    def count(self) -> int:
        return self.countgood + self.countuncertain + self.countbad


@dataclass(frozen=True)
class AggregateInterval:
    start: datetime | None
    end: datetime | None
    variables: dict[str, VariableStats] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        data = _obj(data, "an aggregate")
        variables = {
            key: VariableStats.from_json(value)
            for key, value in data.items()
            if key not in (C.AGG_START, C.AGG_END) and isinstance(value, dict)
        }
        return cls(parse_time(data.get(C.AGG_START)), parse_time(data.get(C.AGG_END)), variables)


def _validity(data: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    start, end = parse_time(data.get(C.CA_F_VALID_FROM)), parse_time(data.get(C.CA_F_VALID_TO))
    validity = data.get(C.CA_F_VALIDITY)
    if isinstance(validity, dict):  # UNCONFIRMED variant (5.3)
        start = start or parse_time(validity.get(C.CA_F_NOT_BEFORE))
        end = end or parse_time(validity.get(C.CA_F_NOT_AFTER))
    return start, end


@dataclass(frozen=True)
class CaCertificate:
    id: str
    name: str
    status: str | None = None
    description: str | None = None
    subject: str | None = None
    issuer: str | None = None
    serial_number: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    fingerprint_sha256: str | None = None
    certificate_pem: str | None = field(default=None, repr=False)
    etag: Etag | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        data = _obj(data, "a CA certificate")
        cert_id = _s(data, C.CA_F_ID)
        if not cert_id:
            raise ResponseFormatError("a CA certificate without id")
        valid_from, valid_to = _validity(data)
        return cls(
            id=cert_id,
            name=_s(data, C.CA_F_NAME, "") or "",
            status=_s(data, C.CA_F_STATUS),
            description=_s(data, C.CA_F_DESCRIPTION),
            subject=_s(data, C.CA_F_SUBJECT),
            issuer=_s(data, C.CA_F_ISSUER),
            serial_number=_s(data, C.CA_F_SERIAL),
            valid_from=valid_from,
            valid_to=valid_to,
            fingerprint_sha256=_s(data, C.CA_F_FINGERPRINT),
            certificate_pem=_s(data, C.CA_PEM),
            etag=parse_etag(data.get(C.CA_F_ETAG)),
            created_at=parse_time(data.get(C.CA_F_CREATED_AT)),
            raw=data,
        )

    @property
    def verified(self) -> bool:
        return (self.status or "").upper() in C.CA_STATUS_VERIFIED


def agent_credentials(data: Any) -> tuple[str | None, str | None]:
    """``(certificate PEM, private key PEM)`` of a create-agent-certificate response, from the flat shape
    (``publicKey``/``privateKey``, D:mqtt-agentcert) or ``credentials{certificatePem,privateKey}``
    (MQTT-sample-new); either may be None. Reads only: it never fails on an odd body (reference 5.3)."""
    if not isinstance(data, dict):
        return None, None
    nested = data.get(C.AGENT_F_CREDENTIALS)
    creds = nested if isinstance(nested, dict) else {}

    def pem(value: Any) -> str | None:
        return value if isinstance(value, str) and value.strip() else None

    cert = (
        pem(data.get(C.AGENT_F_PUBLIC_KEY))
        or pem(creds.get(C.AGENT_F_CERTIFICATE_PEM))
        or pem(data.get(C.AGENT_F_CERTIFICATE_PEM))
    )
    key = pem(data.get(C.AGENT_F_PRIVATE_KEY)) or pem(creds.get(C.AGENT_F_PRIVATE_KEY))
    return cert, key


@dataclass(frozen=True)
class AgentCertificate:
    id: str
    name: str
    client_id: str | None = None
    agent_name: str | None = None
    agent_id: str | None = None
    owner: str | None = None
    status: str | None = None
    certificate_pem: str | None = None
    private_key: str | None = field(default=None, repr=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """Accepts flat ``privateKey``/``publicKey`` and ``credentials{certificatePem,privateKey}``."""
        data = _obj(data, "an agent certificate")
        nested = data.get(C.AGENT_F_CREDENTIALS)
        creds = nested if isinstance(nested, dict) else {}
        cert_id = _s(data, C.AGENT_F_ID) or _s(data, C.AGENT_F_CLIENT_ID)
        if not cert_id:
            raise ResponseFormatError("an agent certificate without id")
        raw = {k: v for k, v in data.items() if k not in (C.AGENT_F_PRIVATE_KEY, C.AGENT_F_CREDENTIALS)}
        return cls(
            id=cert_id,
            name=_s(data, C.AGENT_F_NAME, "") or "",
            client_id=_s(data, C.AGENT_F_CLIENT_ID) or _s(data, C.AGENT_F_AGENT_NAME),
            agent_name=_s(data, C.AGENT_F_AGENT_NAME),
            agent_id=_s(data, C.AGENT_F_AGENT_ID) or _s(data, C.AGENT_F_AGENT_ID_VARIANT),
            owner=_s(data, C.AGENT_F_OWNER),
            status=_s(data, C.AGENT_F_STATUS),
            certificate_pem=_s(data, C.AGENT_F_PUBLIC_KEY)
            or _s(creds, C.AGENT_F_CERTIFICATE_PEM)
            or _s(data, C.AGENT_F_CERTIFICATE_PEM),
            private_key=_s(data, C.AGENT_F_PRIVATE_KEY) or _s(creds, C.AGENT_F_PRIVATE_KEY),
            raw=raw,
        )
