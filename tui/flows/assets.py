"""Assets (issue 8): what the Assets screen and ``ihub assets`` share, free of Textual.

* **Search** (``search_filter``): one line of text becomes an Asset Management filter (reference 2.3):
  plain text is a name search (``contains``; the filter syntax has no case-insensitive operator, so the
  typed text, its lower-case, upper-case and capitalised forms are combined with a field ``or``),
  ``type:<typeId>`` finds assets of a type and of every type derived from it (``hasType``), and a JSON
  object is sent as the raw filter.
* **Values**: static values arrive as strings (reference 2.4); ``typed_value`` converts one with its
  variable's ``dataType`` (``INT``/``LONG`` -> int, ``DOUBLE`` -> float, ``BOOLEAN`` -> bool,
  ``TIMESTAMP`` -> aware datetime, anything else or anything unparsable stays as received);
  ``format_value`` writes one for a person.
* **Latest values** (``read_latest``): the newest record of a dynamic aspect (IoT Time Series v3 read
  without a range, reference 3.1); variables missing from it are asked once more with
  ``latestValue=true``. Each value comes with its time and quality code (``<variable>_qc``).
* **24 h trend** (``read_trend``): hourly averages of every numeric variable from Aggregates v4
  (reference 4), one value per hour, None where the service left an hour out; ``spark`` draws them.
* **Facts** (``fact_rows``) of an asset, in the order the details pane and ``ihub assets show`` print.
* **Errors in place** (``section_error``): a 403 says "no permission to read time series", a 404 and any
  other failure one plain line, so a section can fail on its own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tui.api import contract as C
from tui.api.errors import ApiError, ForbiddenError, NotFoundError
from tui.api.models import Aspect, Asset, AssetType, parse_time
from tui.config.inputs import InputError, clean_text
from tui.errors import error_text

if TYPE_CHECKING:
    from tui.api.client import ApiClient

# How a search line is read (the screen's placeholder and `ihub assets ls --help` say the same).
SEARCH_HELP = "name text · type:<typeId> (with subtypes) · {raw filter JSON}"
TYPE_PREFIX = "type:"
# The 24 h trend: hourly aggregates (a pre-computed interval of Aggregates v4, reference 4).
TREND_HOURS = 24
SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
# Matches soft-deleted assets as well as live ones: a filter that names ``deleted`` (reference 2.3).
WITH_DECOMMISSIONED = {"or": [{"eq": None}, {"after": "1970-01-01T00:00:00.00Z"}]}


class SearchError(ValueError):
    """A search line that cannot become a filter (bad JSON); the message says why in plain words."""


# --------------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------------
MAX_CASE_VARIANTS = 32


def case_variants(text: str) -> list[str]:
    """The typed text in the cases names are usually written in, each once, the typed form first.

    Every word may be lower-case, upper-case or capitalised on its own ("pump er-11" also finds
    "Pump ER-1104"), as long as that gives at most ``MAX_CASE_VARIANTS`` forms; a longer text gets the
    whole-text forms only (as typed, lower, upper, capitalised, title)."""
    seen: list[str] = []

    def add(variant: str) -> None:
        if variant and variant not in seen:
            seen.append(variant)

    add(text)
    parts = text.split(" ")
    forms = [list(dict.fromkeys((w, w.lower(), w.upper(), w[:1].upper() + w[1:].lower()))) for w in parts]
    count = 1
    for options in forms:
        count *= len(options)
    if count <= MAX_CASE_VARIANTS:
        combos: list[str] = [""]
        for index, options in enumerate(forms):
            combos = [c + (" " if index else "") + o for c in combos for o in options]
        for variant in combos:
            add(variant)
    for variant in (text.lower(), text.upper(), text[:1].upper() + text[1:], text.title()):
        add(variant)
    return seen


def name_contains(text: str) -> dict[str, Any]:
    """``{"name": ...}``: the name contains ``text`` in any of its usual cases (the filter syntax has no
    case-insensitive operator; a field ``or`` of ``contains`` conditions is the closest it allows)."""
    variants = case_variants(text)
    if len(variants) == 1:
        return {"name": {"contains": variants[0]}}
    return {"name": {"or": [{"contains": v} for v in variants]}}


def parse_filter_json(text: str) -> dict[str, Any]:
    """A raw filter typed by an expert: it must be a JSON object (reference 2.3)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise SearchError(f"the filter is not valid JSON: {err.msg} at position {err.pos}") from None
    if not isinstance(value, dict) or not value:
        raise SearchError('a filter must be a JSON object such as {"name": {"contains": "Pump"}}')
    return value


@dataclass(frozen=True)
class Search:
    """A search line read: the filter to send and what it means in words."""

    filter: dict[str, Any] | None
    words: str


def search_filter(text: str) -> Search:
    """Read one search line (see ``SEARCH_HELP``). Raises ``SearchError`` for a malformed raw filter, or for
    an invisible or control character in the line (a name pasted with a zero-width space would match
    nothing), named by ``tui.config.inputs.clean_text``."""
    try:
        text = clean_text(text, "search")
    except InputError as err:
        raise SearchError(str(err)) from None
    if not text:
        return Search(None, "every asset")
    if text.startswith("{"):
        return Search(parse_filter_json(text), f"filter {text}")
    if text.lower().startswith(TYPE_PREFIX):
        type_id = text[len(TYPE_PREFIX) :].strip()
        if not type_id:
            raise SearchError("give a type id after type:, e.g. type:demo.Pump")
        return Search({C.FILTER_HAS_TYPE: type_id}, f"type {type_id} and its subtypes")
    return Search(name_contains(text), f"name contains “{text}”")


def combine(*parts: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Several filters that must all hold (an explicit ``and`` when two name the same field)."""
    present = [dict(p) for p in parts if p]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    merged: dict[str, Any] = {}
    for part in present:
        if any(key in merged for key in part):
            return {"and": present}
        merged.update(part)
    return merged


def children_filter(parent_id: str, *, decommissioned: bool = False) -> dict[str, Any]:
    """The children of an asset; with ``decommissioned`` also its soft-deleted children."""
    found: dict[str, Any] = {C.ASSET_PARENT_ID: parent_id}
    if decommissioned:
        found["deleted"] = WITH_DECOMMISSIONED
    return found


# --------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------
def typed_value(value: Any, data_type: str | None) -> Any:
    """A value as received (static values are strings) converted by its ``dataType``; what does not
    parse stays as received, so nothing is lost."""
    if value is None or not isinstance(value, str):
        return value
    kind = (data_type or "").upper()
    text = value.strip()
    try:
        if kind in ("INT", "LONG"):
            return int(text)
        if kind == "DOUBLE":
            return float(text)
    except ValueError:
        return value
    if kind == "BOOLEAN":
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return value
    if kind == "TIMESTAMP":
        parsed = parse_time(text)
        return parsed if parsed is not None else value
    return value


def format_number(number: float) -> str:
    """A number for a person: whole numbers without decimals, others with up to 4 significant decimals."""
    if math.isnan(number) or math.isinf(number):
        return str(number)
    if float(number).is_integer() and abs(number) < 1e15:
        return f"{int(number):d}"
    magnitude = abs(number)
    if magnitude >= 1000:
        return f"{number:.1f}"
    if magnitude >= 1:
        return f"{number:.3g}" if magnitude < 10 else f"{number:.2f}".rstrip("0").rstrip(".")
    return f"{number:.4g}"


def format_time_short(value: datetime) -> str:
    """``2025-06-16 08:00Z`` (UTC; seconds and milliseconds only when there are any)."""
    utc = value.astimezone(UTC)
    text = utc.strftime("%Y-%m-%d %H:%M")
    if utc.second or utc.microsecond:
        text += f":{utc.second:02d}"
    if utc.microsecond:
        text += f".{utc.microsecond // 1000:03d}"
    return text + "Z"


def format_clock(value: datetime, now: datetime | None = None) -> str:
    """A time for a narrow column: ``08:00:00Z`` on the day of ``now`` (UTC), else ``06-15 08:00Z``."""
    utc = value.astimezone(UTC)
    if now is not None and utc.date() == now.astimezone(UTC).date():
        return utc.strftime("%H:%M:%S") + "Z"
    return utc.strftime("%m-%d %H:%M") + "Z"


def format_value(value: Any, data_type: str | None = None, unit: str | None = None) -> str:
    """A value (typed or as received) for a person, with its unit: ``22 kW``, ``yes``, ``-`` for none."""
    typed = typed_value(value, data_type)
    if typed is None or typed == "":
        return "-"
    if isinstance(typed, bool):
        text = "true" if typed else "false"
    elif isinstance(typed, int | float):
        text = format_number(float(typed)) if isinstance(typed, float) else str(typed)
    elif isinstance(typed, datetime):
        text = format_time_short(typed)
    else:
        text = str(typed)
    return f"{text} {unit}" if unit and text != "-" else text


def quality_word(code: int | None) -> str:
    """``good``, ``uncertain`` or ``bad`` by the OPC UA top bits (reference 3.1); empty without a code."""
    if code is None:
        return ""
    top = (code >> 30) & 3 if code > 0xFF else (code >> 6) & 3
    return "good" if top == 0 else "uncertain" if top == 1 else "bad"


def squeeze(values: Sequence[float | None], width: int) -> list[float | None]:
    """``values`` averaged into ``width`` buckets (a gap only where a whole bucket is empty)."""
    if width <= 0 or len(values) <= width:
        return list(values)
    out: list[float | None] = []
    for i in range(width):
        bucket = values[i * len(values) // width : (i + 1) * len(values) // width]
        numbers = [v for v in bucket if v is not None and not math.isnan(v)]
        out.append(sum(numbers) / len(numbers) if numbers else None)
    return out


def spark(values: Sequence[float | None], width: int = 0) -> str:
    """A one-line sparkline of block characters (at most ``width`` of them when given); a gap
    (None/NaN) is a space, a flat line sits low."""
    if width:
        values = squeeze(values, width)
    numbers = [v for v in values if v is not None and not math.isnan(v)]
    if not numbers:
        return ""
    low, high = min(numbers), max(numbers)
    span = high - low
    out = []
    for v in values:
        if v is None or math.isnan(v):
            out.append(" ")
        elif span <= 0:
            out.append(SPARK_BLOCKS[1])
        else:
            out.append(SPARK_BLOCKS[min(7, int((v - low) / span * 7 + 0.5))])
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Latest values and the 24 h trend
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LatestValue:
    """The newest value of one variable: value as received, its time, and its quality code (if any)."""

    name: str
    value: Any
    time: datetime | None
    quality: int | None = None


@dataclass(frozen=True)
class AspectLatest:
    """The newest values of a dynamic aspect's variables (a variable without data is absent)."""

    aspect: str
    values: dict[str, LatestValue] = field(default_factory=dict)

    @property
    def time(self) -> datetime | None:
        """The newest time of any value."""
        times = [v.time for v in self.values.values() if v.time is not None]
        return max(times) if times else None


def _take(record: Mapping[str, Any], names: Iterable[str], found: dict[str, LatestValue]) -> None:
    when = parse_time(record.get(C.TS_TIME))
    for name in names:
        if name in record and name not in found and record[name] is not None:
            qc = record.get(name + C.TS_QC_SUFFIX)
            quality = int(qc) if isinstance(qc, int | float) and not isinstance(qc, bool) else None
            found[name] = LatestValue(name, record[name], when, quality)


async def read_latest(api: ApiClient, asset_id: str, aspect: Aspect) -> AspectLatest:
    """The newest value of every variable of a dynamic aspect (IoT Time Series v3, reference 3.1).

    One read without a range gives the newest record; variables it lacks are asked once more with
    ``latestValue=true``. Raises ``ApiError`` (403 without ``iot.tim.r``, 404 for an unknown aspect).
    """
    names = [v.name for v in aspect.variables]
    found: dict[str, LatestValue] = {}
    for record in await api.timeseries.read(asset_id, aspect.name, limit=1):
        _take(record, names, found)
    missing = [n for n in names if n not in found]
    if missing and found:  # a record with only some variables (reference 3.1): ask for the rest
        try:
            records = await api.timeseries.read(asset_id, aspect.name, select=missing, latest_value=True)
        except ApiError:
            records = []  # the newest record is what there is; the rest has no recent value
        for record in records:
            _take(record, missing, found)
    return AspectLatest(aspect.name, found)


def trend_window(now: datetime, hours: int = TREND_HOURS) -> tuple[datetime, datetime]:
    """``(from, to)`` of the trend: the last ``hours`` whole hours up to the end of the current hour."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return end - timedelta(hours=hours), end


async def read_trend(
    api: ApiClient, asset_id: str, aspect: Aspect, now: datetime, hours: int = TREND_HOURS
) -> dict[str, list[float | None]]:
    """Hourly averages of the aspect's numeric variables over the last ``hours`` hours (Aggregates v4,
    reference 4): one value per hour, oldest first, None for an hour without data. Empty when the aspect
    has no numeric variable. Raises ``ApiError``."""
    numeric = [v.name for v in aspect.variables if (v.data_type or "").upper() in C.AGG_NUMERIC_TYPES]
    if not numeric:
        return {}
    start, end = trend_window(now, hours)
    intervals = await api.aggregates.get(
        asset_id, aspect.name, start, end, interval_value=1, interval_unit="hour", select=numeric
    )
    series: dict[str, list[float | None]] = {name: [None] * hours for name in numeric}
    for interval in intervals:
        if interval.start is None:
            continue
        slot = int((interval.start - start).total_seconds() // 3600)
        if not 0 <= slot < hours:
            continue
        for name, stats in interval.variables.items():
            if name in series:
                series[name][slot] = stats.average
    return series


def section_error(error: BaseException, what: str) -> str:
    """One line for a details section that could not load: ``what`` is e.g. ``time series``."""
    if isinstance(error, ForbiddenError):
        return f"no permission to read {what}"
    if isinstance(error, NotFoundError):
        return f"no {what} found ({error_text(error)})"
    return f"could not read {what}: {error_text(error)}"


# --------------------------------------------------------------------------------------------------
# Facts of an asset
# --------------------------------------------------------------------------------------------------
def short_type(type_id: str | None, tenant: str | None) -> str:
    """A type id without the tenant's own prefix (``demo.Pump`` -> ``Pump``); others stay whole."""
    if not type_id:
        return "?"
    if tenant and type_id.startswith(tenant + "."):
        return type_id[len(tenant) + 1 :]
    return type_id


def sharing_words(asset: Asset) -> str:
    """Who owns the asset and how it is shared, in words."""
    if asset.is_shared:
        return f"shared into this tenant by tenant {asset.owner_tenant or '?'} (RECEIVER): read-only here"
    if asset.is_sharer:
        return "shared by this tenant with other tenants (SHARER)"
    return "not shared"


def location_words(asset: Asset) -> tuple[str, str]:
    """``(address, "lat, lon")`` of the asset's location; empty strings when unknown."""
    location = asset.location
    if location is None:
        return "", ""
    address = ", ".join(
        p
        for p in (
            location.street_address,
            " ".join(p for p in (location.postal_code, location.locality) if p),
            location.region,
            location.country,
        )
        if p
    )
    coordinates = location.coordinates
    where = f"{coordinates[0]:.5f}, {coordinates[1]:.5f}" if coordinates else ""
    return address, where


def chain_words(asset: Asset, chain: Sequence[AssetType], tenant: str | None = None) -> str:
    """``Pump ← Machine ← core.basicdevice ← core.basicasset`` (the type first)."""
    if not chain:
        return short_type(asset.type_id, tenant)
    return " ← ".join(short_type(t.id, tenant) for t in chain)


def fact_rows(
    asset: Asset, chain: Sequence[AssetType] = (), tenant: str | None = None
) -> list[tuple[str, str]]:
    """The facts of an asset as ``(label, text)`` rows, in the order the details pane shows them."""
    address, where = location_words(asset)
    rows = [
        ("Name", asset.name),
        ("Path", " › ".join(asset.path_names)),
        ("Asset id", asset.asset_id),
        ("External id", asset.external_id or ""),
        ("Description", asset.description or ""),
        ("Type", chain_words(asset, chain, tenant) + (f"  ({asset.type_id})" if chain else "")),
        ("Twin type", asset.twin_type or ""),
        ("Location", f"{address} ({where})" if address and where else address or where),
        ("Time zone", asset.timezone or ""),
        ("Etag", "" if asset.etag is None else str(asset.etag)),
        ("Sharing", sharing_words(asset)),
    ]
    if asset.is_shared and asset.owner_tenant:
        rows.append(("Owner tenant", asset.owner_tenant))
    if asset.deleted:
        rows.append(("Decommissioned", asset.deleted))
    return rows


def asset_row(asset: Asset) -> dict[str, Any]:
    """An asset as a flat row with the API's field names, for tables and CSV (nested values as JSON)."""
    return {
        "assetId": asset.asset_id,
        "name": asset.name,
        "typeId": asset.type_id,
        "parentId": asset.parent_id,
        "externalId": asset.external_id,
        "description": asset.description,
        "timezone": asset.timezone,
        "twinType": asset.twin_type,
        "tenantId": asset.tenant_id,
        "etag": asset.etag,
        "deleted": asset.deleted,
        "sharing": ",".join(asset.sharing_modes),
        "path": "/".join(asset.path_names[:-1]),
        "location": asset.location.to_json() if asset.location is not None else None,
    }


def now_utc(clock: Any = None) -> datetime:
    """Now as an aware UTC datetime from an epoch-seconds clock (``Services.clock``) or the system."""
    import time

    return datetime.fromtimestamp((clock or time.time)(), tz=UTC)
