"""Typed views of Insights Hub resources.

Every ``from_json`` tolerates missing and extra fields, and number-or-string etags (reference 2.4, 7).
A body that is not a JSON object raises ``ResponseFormatError``. Asset Management models are msgspec
structs that the services decode straight from response bytes (no intermediate dicts, no raw JSON kept
in listings); the other models are dataclasses built from parsed JSON and keep it in ``raw``.
Time-series records stay plain dicts; ``record_time`` parses their ``_time``.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

import msgspec

from tui.api import contract as C
from tui.api.decode import convert, to_builtins
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


# --------------------------------------------------------------------------------------------------
# Asset Management v3 (reference 2.4, 2.5): msgspec structs, decoded straight from response bytes.
#
# Field names follow the API (``rename="camel"``: ``asset_id`` <-> ``assetId``), so ``to_json()`` and
# ``tui.api.decode.encode`` give back objects with the API's field names. Missing fields take their
# defaults, unknown fields are ignored, numbers sent as strings are accepted; a field of the wrong type
# raises ``ResponseFormatError`` naming the field. Listings keep no raw JSON: ``raw`` is the dict given to
# ``from_json`` when there was one, otherwise the model re-encoded (``AssetManagement.get_raw`` fetches
# the full resource with ``_links`` and unknown fields for a detail view).
# --------------------------------------------------------------------------------------------------


def _set(obj: Any, name: str, value: Any) -> None:
    msgspec.structs.force_setattr(obj, name, value)


def _normal_etag(obj: Any) -> None:
    etag = obj.etag
    if etag is not None and type(etag) is not int:
        _set(obj, "etag", parse_etag(etag))


class _Model(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    """Base of the Asset Management models: ``from_json``, ``to_json`` and ``raw``.

    Instances decoded from responses are not tracked by the garbage collector (``gc=False``: JSON holds
    no cycles), which saves a third of the decoding time of a long listing. ``from_json`` returns an
    instance of a tracked subclass of the same name that also holds the given dict as ``raw``; it
    compares and hashes like the model itself.
    """

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """The model from parsed JSON; the dict is kept as ``raw``. Raises ``ResponseFormatError``."""
        what = _WHAT.get(cls.__name__, cls.__name__)
        data = _obj(data, what)
        model = convert(data, _with_raw(cls), what=what)
        model.__dict__[_RAW] = data
        return model

    def to_json(self) -> dict[str, Any]:
        """The model as a JSON object with the API's field names (``assetId``, ``typeId``, ...)."""
        return to_builtins(self)

    def __hash__(self) -> int:  # the same for the plain model and the one that holds ``raw``
        return hash(msgspec.structs.astuple(self))

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON object given to ``from_json``; for decoded responses, ``to_json()``."""
        kept = getattr(self, "__dict__", {}).get(_RAW)
        return kept if kept is not None else self.to_json()


def _attribute(cls: type[Any], api_field: str) -> str:
    """The model attribute that holds an API field (``tenantId`` -> ``tenant_id``)."""
    return cls.__struct_fields__[cls.__struct_encode_fields__.index(api_field)]


_RAW = "_raw"
_RAW_CLASSES: dict[type, type] = {}


def _with_raw(cls: type[Any]) -> type[Any]:
    """The subclass of a model that can hold its raw dict (tracked, with a ``__dict__``)."""
    sub = _RAW_CLASSES.get(cls)
    if sub is None:

        def __eq__(self: Any, other: Any) -> bool:  # noqa: N807 (equal to the plain model)
            if not isinstance(other, cls):
                return NotImplemented
            return msgspec.structs.astuple(self) == msgspec.structs.astuple(other)

        def __ne__(self: Any, other: Any) -> bool:  # noqa: N807
            equal = __eq__(self, other)
            return equal if equal is NotImplemented else not equal

        namespace = {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "__eq__": __eq__,
            "__ne__": __ne__,
            "__hash__": _Model.__hash__,
        }
        sub = types.new_class(
            cls.__name__, (cls,), {"gc": True, "dict": True}, lambda ns: ns.update(namespace)
        )
        _RAW_CLASSES[cls] = sub
    return sub


class _Part(msgspec.Struct, frozen=True, rename="camel", gc=False):
    """Base of nested parts: no ``raw``, not tracked by the garbage collector (they hold no cycles)."""


class Location(_Part, frozen=True, kw_only=True):
    """``location`` of an asset (reference 2.4); latitude and longitude in decimal degrees."""

    country: str | None = None
    region: str | None = None
    locality: str | None = None
    street_address: str | None = None
    postal_code: str | None = None
    longitude: float | None = None
    latitude: float | None = None

    @classmethod
    def from_json(cls, data: Any) -> Self | None:
        """None for anything but an object (the API sends ``null`` for no location)."""
        if not isinstance(data, dict):
            return None
        return convert(data, cls, what="location")

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in to_builtins(self).items() if v is not None}

    def summary(self) -> str:
        return ", ".join(p for p in (self.street_address, self.postal_code, self.locality, self.country) if p)

    @property
    def coordinates(self) -> tuple[float, float] | None:
        """``(latitude, longitude)`` when both are known."""
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude


class VariableValue(_Part, frozen=True):
    """A static variable value of an asset: ``{name, value}`` (reference 2.4)."""

    name: str = ""
    value: Any = None


class AspectValues(_Part, frozen=True):
    """A static aspect's values on an asset: ``{name, variables: [{name, value}]}`` (reference 2.4)."""

    name: str = ""
    variables: tuple[VariableValue, ...] = ()


class HierarchyEntry(_Part, frozen=True):
    """One ancestor in ``hierarchyPath``: ``{assetId, name}``, root first (reference 2.4)."""

    asset_id: str = ""
    name: str = ""


class Sharing(_Part, frozen=True):
    """``sharing``: ``modes`` is a subset of ``SHARER``, ``RECEIVER`` (reference 2.4)."""

    modes: tuple[str, ...] = ()


class Lock(_Part, frozen=True, kw_only=True):
    """An item of ``locks`` (reference 2.4)."""

    id: str | None = None
    service: str | None = None
    reason: str | None = None
    reason_code: str | None = None


class FileAssignment(_Part, frozen=True, kw_only=True):
    """An item of ``fileAssignments``: a file under a key (reference 2.4)."""

    key: str = ""
    file_id: str | None = None


class Href(_Part, frozen=True):
    href: str = ""


class OriginLinks(_Part, frozen=True):
    """``_links`` of a type's variable or aspect: ``origin`` is present only when inherited (2.5)."""

    origin: Href | None = None


class Asset(_Model, frozen=True):
    """An asset (``AssetResource``, reference 2.4).

    ``etag`` is an int when the service sends a whole number (or a numeric string), else the string;
    send it back with ``etag_header``. ``sub_tenant`` falls back to the deprecated ``t2Tenant``.
    ``hierarchy_path`` runs from the root to the parent; empty for the root asset.
    """

    asset_id: str
    name: str = ""
    tenant_id: str | None = None
    etag: Etag | float | None = None
    external_id: str | None = None
    t2_tenant: str | None = msgspec.field(default=None, name="t2Tenant")
    sub_tenant: str | None = None
    description: str | None = None
    timezone: str | None = None
    twin_type: str | None = None
    parent_id: str | None = None
    type_id: str | None = None
    location: Location | None = None
    file_assignments: tuple[FileAssignment, ...] = ()
    variables: tuple[VariableValue, ...] = ()
    aspects: tuple[AspectValues, ...] = ()
    locks: tuple[Lock, ...] = ()
    hierarchy_path: tuple[HierarchyEntry, ...] = ()
    deleted: str | None = None
    sharing: Sharing | None = None

    def __post_init__(self) -> None:
        if not self.asset_id:
            raise ValueError("an asset without assetId")
        _normal_etag(self)
        if self.sub_tenant is None and self.t2_tenant is not None:
            _set(self, "sub_tenant", self.t2_tenant)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        data = _obj(data, "an asset")
        if C.ASSET_ID not in data and data.get("id"):
            data = {**data, C.ASSET_ID: data["id"]}  # tolerated variant: ``id`` for ``assetId``
        elif not data.get(C.ASSET_ID):
            raise ResponseFormatError("an asset without assetId")
        return super().from_json(data)

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def sharing_modes(self) -> tuple[str, ...]:
        return self.sharing.modes if self.sharing is not None else ()

    @property
    def is_shared(self) -> bool:
        """Shared into this tenant by another one (mode ``RECEIVER``)."""
        return C.SHARING_RECEIVER in self.sharing_modes

    @property
    def is_sharer(self) -> bool:
        """This tenant shares the asset with others (mode ``SHARER``)."""
        return C.SHARING_SHARER in self.sharing_modes

    @property
    def owner_tenant(self) -> str | None:
        """The tenant that owns the asset: the field ``C.ASSET_OWNER_TENANT_FIELD`` (``tenantId``;
        UNCONFIRMED for assets shared into the tenant)."""
        return getattr(self, _attribute(type(self), C.ASSET_OWNER_TENANT_FIELD))

    @property
    def is_deleted(self) -> bool:
        """Soft-deleted (``deleted`` holds the time of deletion)."""
        return self.deleted is not None

    @property
    def path_names(self) -> tuple[str, ...]:
        """The breadcrumb: names from the root down to this asset."""
        return (*(entry.name for entry in self.hierarchy_path), self.name)

    @property
    def path_ids(self) -> tuple[str, ...]:
        """Asset ids from the root down to this asset (the nodes to open to reach it in a tree)."""
        return (*(entry.asset_id for entry in self.hierarchy_path), self.asset_id)

    def static_value(self, name: str, aspect: str | None = None) -> Any:
        """The value of an asset variable, or of a static aspect's variable; None when absent."""
        values = self.variables
        if aspect is not None:
            values = next((a.variables for a in self.aspects if a.name == aspect), ())
        return next((v.value for v in values if v.name == name), None)


# The fields of ``Asset`` that its ``__post_init__`` checks or rewrites: an ``AssetRecord`` decodes them as
# ``Asset`` does and runs the same ``__post_init__``, so it encodes to the same values.
_RECORD_TYPED = ("etag", "t2_tenant", "sub_tenant")


def _record_fields() -> list[tuple[str, Any, Any]]:
    fields: list[tuple[str, Any, Any]] = []
    for info in msgspec.structs.fields(Asset):
        if info.name == "asset_id":
            continue
        if info.name in _RECORD_TYPED:
            fields.append((info.name, info.type, msgspec.field(default=info.default, name=info.encode_name)))
            continue
        default = msgspec.Raw(msgspec.json.encode(info.default))
        fields.append((info.name, msgspec.Raw, msgspec.field(default=default, name=info.encode_name)))
    return fields


# An asset of a listing passed on as JSON (``ihub assets ls -o json``), not looked into: ``assetId`` is
# read (each asset once across pages), every other field of ``Asset`` stays the service's JSON text
# (``msgspec.Raw``), with ``Asset``'s default where the service left it out; other fields (``_links``)
# are dropped. The fields ``Asset.__post_init__`` normalizes (``etag`` as a number, ``subTenant`` from the
# deprecated ``t2Tenant``, no empty ``assetId``) are decoded and normalized the same way. Encoding it gives
# the object ``Asset`` encodes to, without building the nested models: ``ihub assets ls --all -o json``
# spends about a third less CPU on its 100 000 assets (make bench).
AssetRecord: type[msgspec.Struct] = msgspec.defstruct(
    "AssetRecord",
    [("asset_id", str, msgspec.field(name=C.ASSET_ID)), *_record_fields()],
    namespace={"__post_init__": Asset.__post_init__},
    kw_only=True,
    gc=False,
)


class VariableDefinition(_Model, frozen=True):
    """A variable of an aspect type, asset type or aspect (reference 2.5).

    ``data_type`` is one of ``BOOLEAN``, ``INT``, ``LONG``, ``DOUBLE``, ``STRING``, ``TIMESTAMP``,
    ``BIG_STRING``; ``unit`` is free text (often empty); ``quality_code`` says whether time series carry
    a quality code per value; ``inherited`` is true for variables that come from a parent type.
    """

    name: str = ""
    data_type: str | None = None
    unit: str | None = None
    searchable: bool | None = None
    length: int | None = None
    default_value: Any = None
    quality_code: bool | None = None
    links: OriginLinks | None = msgspec.field(default=None, name="_links")

    def __post_init__(self) -> None:
        default = self.default_value
        if default is not None and type(default) is not str:
            _set(self, "default_value", str(default).lower() if type(default) is bool else str(default))

    @property
    def inherited(self) -> bool:
        return self.links is not None and self.links.origin is not None

    @property
    def is_numeric(self) -> bool:
        return (self.data_type or "").upper() in C.NUMERIC_DATA_TYPES


class AspectType(_Model, frozen=True):
    """An aspect type (reference 2.5): ``category`` is ``static`` or ``dynamic``."""

    id: str = ""
    name: str = ""
    category: str | None = None
    scope: str | None = None
    description: str | None = None
    etag: Etag | float | None = None
    tenant_id: str | None = None
    variables: tuple[VariableDefinition, ...] = ()
    sharing: Sharing | None = None

    def __post_init__(self) -> None:
        _normal_etag(self)

    @property
    def is_dynamic(self) -> bool:
        return (self.category or "").lower() == "dynamic"


class AssetTypeAspect(_Part, frozen=True):
    """An aspect of an asset type: ``{name, aspectType: {...}}`` (or ``aspectTypeId`` in request bodies)."""

    name: str = ""
    aspect_type_id: str | None = None
    aspect_type: AspectType | None = None
    links: OriginLinks | None = msgspec.field(default=None, name="_links")

    def __post_init__(self) -> None:
        if self.aspect_type_id is None and self.aspect_type is not None and self.aspect_type.id:
            _set(self, "aspect_type_id", self.aspect_type.id)

    @property
    def inherited(self) -> bool:
        return self.links is not None and self.links.origin is not None


class AssetType(_Model, frozen=True):
    """An asset type (reference 2.5); ``parent_type_id`` links it into the type hierarchy."""

    id: str = ""
    name: str = ""
    parent_type_id: str | None = None
    instantiable: bool | None = None
    scope: str | None = None
    description: str | None = None
    etag: Etag | float | None = None
    tenant_id: str | None = None
    aspects: tuple[AssetTypeAspect, ...] = ()
    variables: tuple[VariableDefinition, ...] = ()
    file_assignments: tuple[FileAssignment, ...] = ()
    sharing: Sharing | None = None

    def __post_init__(self) -> None:
        _normal_etag(self)


class Aspect(_Model, frozen=True):
    """An aspect of an asset (``AspectResource`` from ``GET /assets/{id}/aspects``, reference 2.5)."""

    name: str = ""
    aspect_type_id: str | None = None
    holder_asset_id: str | None = None
    category: str | None = None
    description: str | None = None
    variables: tuple[VariableDefinition, ...] = ()

    @property
    def is_dynamic(self) -> bool:
        return (self.category or "").lower() == "dynamic"


AspectResource = Aspect

_WHAT = {
    "Asset": "an asset",
    "AssetType": "an asset type",
    "AspectType": "an aspect type",
    "Aspect": "an aspect",
    "VariableDefinition": "a variable",
}


def type_chain(types: Mapping[str, AssetType], type_id: str) -> list[AssetType]:
    """The type and its ancestors, the type first, from a mapping of id to type (stops at a loop or a
    type that is missing from ``types``)."""
    chain: list[AssetType] = []
    seen: set[str] = set()
    current: str | None = type_id
    while current is not None and current not in seen:
        seen.add(current)
        found = types.get(current)
        if found is None:
            break
        chain.append(found)
        current = found.parent_type_id
    return chain


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


class StaticValue(_Part, frozen=True, kw_only=True):
    """A static variable of an asset with its value and definition, for a details view.

    ``aspect`` is None for the asset's own variables, else the static aspect's name. ``unit`` and
    ``data_type`` come from the asset type's definition (None when the type does not define it).
    """

    aspect: str | None = None
    name: str
    value: Any = None
    unit: str | None = None
    data_type: str | None = None


def static_values(asset: Asset, asset_type: AssetType | None = None) -> list[StaticValue]:
    """The asset's static variables joined with their definitions in ``asset_type`` (best read with
    ``exploded=True`` so inherited variables and aspects are included): the type's variables first, in
    the type's order, then static aspects; values the type does not define come last, as received."""
    rows: list[StaticValue] = []
    used: set[tuple[str | None, str]] = set()

    def add(aspect: str | None, definition: VariableDefinition, values: tuple[VariableValue, ...]) -> None:
        value = next((v.value for v in values if v.name == definition.name), None)
        rows.append(
            StaticValue(
                aspect=aspect,
                name=definition.name,
                value=value,
                unit=definition.unit,
                data_type=definition.data_type,
            )
        )
        used.add((aspect, definition.name))

    if asset_type is not None:
        for definition in asset_type.variables:
            add(None, definition, asset.variables)
        for type_aspect in asset_type.aspects:
            aspect_type = type_aspect.aspect_type
            if aspect_type is None or aspect_type.is_dynamic:
                continue
            values = next((a.variables for a in asset.aspects if a.name == type_aspect.name), ())
            for definition in aspect_type.variables:
                add(type_aspect.name, definition, values)
    for variable in asset.variables:
        if (None, variable.name) not in used:
            rows.append(StaticValue(name=variable.name, value=variable.value))
    for aspect_values in asset.aspects:
        for variable in aspect_values.variables:
            if (aspect_values.name, variable.name) not in used:
                rows.append(StaticValue(aspect=aspect_values.name, name=variable.name, value=variable.value))
    return rows
