"""IoT TS Aggregates v4 (reference section 4): ``GET /api/iottsaggregates/v4/aggregates``.

Aggregates are computed from exactly the records the time series API serves (synthetic signal, written
records, deleted ranges) through ``Series.stats``, which uses O(1) per-chunk statistics and a per-day
cache, so a 90-day daily aggregate of a 10 s signal answers in a fraction of a second.

Project choices (UNCONFIRMED points of the reference):
- Time zone: intervals are aligned in UTC (the tenant time zone is not applied). Minute, hour and day
  intervals are multiples of their length since the Unix epoch, weeks start on Monday (multiples of the
  week count since 1970-01-05), months are calendar months (multiples of the month count since 1970-01).
- An interval is [starttime, endtime); ``from`` is widened down and ``to`` up to the interval grid.
- Only INT, LONG and DOUBLE variables are aggregated; ``select`` naming another type is a 400.
- Statistics cover all values whatever their quality; ``countgood``/``countuncertain``/``countbad`` are
  classified by the OPC UA top bits (0x00, 0x40, 0x80/0xC0); ``sd`` is the population standard deviation.
- ``count`` together with ``from``, ``to`` and an interval limits the answer to the first ``count``
  intervals. ``count`` with ``from`` and ``to`` but no interval picks the smallest allowed interval not
  shorter than the range divided by ``count`` whose range limit admits the range (rule 7).
- Without an interval the largest pre-computed interval (1 day, 1 hour, 2 minutes) not longer than the
  range is used (rule 5). Bounds derived by rules 1-3 are capped by the unit's range limit.
- Error codes: ``mdsp.core.iottsaggregates.invalidParameter`` (bad parameter),
  ``mdsp.core.iottsaggregates.invalidTimeRange`` (``from`` not before ``to``),
  ``mdsp.core.iottsaggregates.timeRangeTooLarge`` (range limit), ``mdsp.core.generic.notFound`` (404).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tui.sim.encoding import FastJSONResponse
from tui.sim.errors import ERRORS, SimHTTPError
from tui.sim.filters import query_parsed, query_text
from tui.sim.routes.timeseries import load_series
from tui.sim.security import require_token
from tui.sim.signals import DAY_MS, NUMERIC_TYPES, format_time_short, parse_time, to_datetime

PATH = "/api/iottsaggregates/v4/aggregates"
AGG_READ = "mdsp:core:iottsaggregates.read"
CODE_PARAM = "mdsp.core.iottsaggregates.invalidParameter"
CODE_RANGE = "mdsp.core.iottsaggregates.invalidTimeRange"
CODE_TOO_LARGE = "mdsp.core.iottsaggregates.timeRangeTooLarge"

UNIT_MS = {"minute": 60_000, "hour": 3_600_000, "day": DAY_MS, "week": 7 * DAY_MS, "month": 30 * DAY_MS}
ALLOWED_VALUES: dict[str, range] = {
    "minute": range(2, 61, 2),
    "hour": range(1, 25),
    "day": range(1, 91),
    "week": range(1, 13),
    "month": range(1, 4),
}
RANGE_LIMIT_MS = {
    "minute": DAY_MS,
    "hour": 7 * DAY_MS,
    "day": 90 * DAY_MS,
    "week": 90 * DAY_MS,
    "month": 90 * DAY_MS,
}
PRECOMPUTED = (("day", 1), ("hour", 1), ("minute", 2))
FIELDS = (
    "countgood", "countuncertain", "countbad", "sum", "average", "minvalue", "mintime", "maxvalue",
    "maxtime", "firstvalue", "firsttime", "lastvalue", "lasttime", "sd",
)  # fmt: skip
WEEK_ORIGIN_MS = 4 * DAY_MS  # 1970-01-05, a Monday


def _bad(message: str, code: str = CODE_PARAM) -> SimHTTPError:
    return SimHTTPError(400, message, code=code, shape=ERRORS)


# ------------------------------------------------------------------------------------------- the grid


def _month_index(ms: int) -> int:
    dt = to_datetime(ms)
    return (dt.year - 1970) * 12 + dt.month - 1


def _month_start(index: int) -> int:
    year, month = divmod(index, 12)
    dt = datetime(1970 + year, month + 1, 1, tzinfo=UTC)
    return int(dt.timestamp()) * 1000


def floor_grid(t: int, unit: str, value: int) -> int:
    """The interval boundary at or before ``t``."""
    if unit == "month":
        index = _month_index(t)
        return _month_start(index - index % value)
    length = UNIT_MS[unit] * value
    origin = WEEK_ORIGIN_MS if unit == "week" else 0
    return origin + (t - origin) // length * length


def next_boundary(b: int, unit: str, value: int) -> int:
    if unit == "month":
        return _month_start(_month_index(b) + value)
    return b + UNIT_MS[unit] * value


def prev_boundary(b: int, unit: str, value: int) -> int:
    if unit == "month":
        return _month_start(_month_index(b) - value)
    return b - UNIT_MS[unit] * value


def ceil_grid(t: int, unit: str, value: int) -> int:
    f = floor_grid(t, unit, value)
    return f if f == t else next_boundary(f, unit, value)


def interval_ms(unit: str, value: int) -> int:
    """Nominal length (a month counts 30 days)."""
    return UNIT_MS[unit] * value


# ------------------------------------------------------------------------------------------- parameters


def _query(request: Request, name: str) -> str | None:
    return query_text(request, name)


def _time(request: Request, name: str) -> int | None:
    return query_parsed(request, name, parse_time, _bad)


def _int(request: Request, name: str) -> int | None:
    value = _query(request, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise _bad(f"Parameter '{name}' must be an integer") from None


def _interval(request: Request) -> tuple[str | None, int | None]:
    unit = _query(request, "intervalUnit")
    value = _int(request, "intervalValue")
    if unit is None:
        if value is not None:
            raise _bad("Parameter 'intervalValue' requires 'intervalUnit'")
        return None, None
    unit = unit.lower()
    if unit not in ALLOWED_VALUES:
        raise _bad(f"Parameter 'intervalUnit' must be one of {', '.join(ALLOWED_VALUES)}; got '{unit}'")
    allowed = ALLOWED_VALUES[unit]
    if value is None:
        value = allowed[0]
    if value not in allowed:
        rule = "an even number from 2 to 60" if unit == "minute" else f"from {allowed[0]} to {allowed[-1]}"
        raise _bad(f"intervalValue for '{unit}' must be {rule}; got {value}")
    return unit, value


def _derive_interval(range_ms: int, count: int) -> tuple[str, int]:
    """Rule 7: the smallest allowed interval not shorter than range / count that the range admits."""
    wanted = range_ms / count
    candidates = sorted(
        ((interval_ms(u, v), u, v) for u, values in ALLOWED_VALUES.items() for v in values),
        key=lambda c: c[0],
    )
    for length, unit, value in candidates:
        if length >= wanted and range_ms <= RANGE_LIMIT_MS[unit]:
            return unit, value
    return "month", 3


def _largest_fitting(range_ms: int) -> tuple[str, int]:
    """Rule 5: the largest pre-computed interval not longer than the range."""
    for unit, value in PRECOMPUTED:
        if interval_ms(unit, value) <= range_ms:
            return unit, value
    return "minute", 2


def _truncate_to_date(ms: int) -> int:
    return ms - ms % DAY_MS


def resolve_window(
    now: int,
    from_ms: int | None,
    to_ms: int | None,
    unit: str | None,
    value: int | None,
    count: int | None,
) -> tuple[int, int, str, int]:
    """Apply the fill-in rules 1-7 of section 4 and the range limits; (from, to, unit, value)."""
    limit_unit = unit or "day"
    if from_ms is not None and to_ms is not None:
        pass
    elif unit is not None and value is not None and count is not None:
        # Rule 4: unit, value and count given: one bound is enough.
        if from_ms is not None:
            b = floor_grid(from_ms, unit, value)
            for _ in range(count):
                b = next_boundary(b, unit, value)
            to_ms = b
        else:
            b = ceil_grid(to_ms if to_ms is not None else now, unit, value)
            to_ms = b if to_ms is None else to_ms
            for _ in range(count):
                b = prev_boundary(b, unit, value)
            from_ms = b
    elif from_ms is not None:
        # Rule 2: only from: to = from (truncated to the date) + 90 days, capped at now.
        to_ms = min(_truncate_to_date(from_ms) + RANGE_LIMIT_MS[limit_unit], now)
    elif to_ms is not None:
        # Rule 3: only to: from = to - 90 days.
        from_ms = to_ms - RANGE_LIMIT_MS[limit_unit]
    else:
        # Rule 1: nothing given: the last 7 days.
        to_ms = now
        from_ms = now - min(7 * DAY_MS, RANGE_LIMIT_MS[limit_unit])
    assert from_ms is not None and to_ms is not None
    if from_ms >= to_ms:
        raise _bad(
            f"'from' ({format_time_short(from_ms)}) must be earlier than 'to' ({format_time_short(to_ms)})",
            CODE_RANGE,
        )
    range_ms = to_ms - from_ms
    if unit is None:
        unit, value = _derive_interval(range_ms, count) if count is not None else _largest_fitting(range_ms)
    assert value is not None
    limit = RANGE_LIMIT_MS[unit]
    if range_ms > limit:
        raise _bad(
            f"The time range {range_ms / DAY_MS:g} days exceeds the limit of {limit / DAY_MS:g} days "
            f"for '{unit}' intervals",
            CODE_TOO_LARGE,
        )
    return from_ms, to_ms, unit, value


def _parse_select(text: str | None, numeric: list[str], all_names: set[str]) -> dict[str, set[str] | None]:
    """``var`` and ``var.field`` forms -> {variable: fields or None for all}, in aspect order."""
    if text is None:
        return {name: None for name in numeric}
    wanted: dict[str, set[str] | None] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        name, _, field = item.partition(".")
        if name not in all_names:
            raise _bad(f"Unknown variable in select: '{name}'")
        if name not in numeric:
            raise _bad(f"Variable '{name}' is not numeric and has no aggregates")
        if field and field not in FIELDS:
            raise _bad(f"Unknown aggregate field in select: '{item}' (fields: {', '.join(FIELDS)})")
        if not field:
            wanted[name] = None
        elif name not in wanted:
            wanted[name] = {field}
        elif wanted[name] is not None:
            wanted[name].add(field)  # type: ignore[union-attr]
    if not wanted:
        raise _bad("Parameter 'select' names no variable")
    return {name: wanted[name] for name in numeric if name in wanted}


# ---------------------------------------------------------------------------------------------- route


async def get_aggregates(request: Request) -> JSONResponse:
    require_token(request, AGG_READ)
    asset_id = _query(request, "assetId")
    aspect_name = _query(request, "aspectName")
    if asset_id is None or aspect_name is None:
        raise _bad("Parameters 'assetId' and 'aspectName' are required")
    aspect_type, series = load_series(request, asset_id, aspect_name, shape=ERRORS)
    from_ms, to_ms = _time(request, "from"), _time(request, "to")
    unit, value = _interval(request)
    count = _int(request, "count")
    if count is not None and count < 1:
        raise _bad("Parameter 'count' must be at least 1")
    from_ms, to_ms, unit, value = resolve_window(series.now_ms, from_ms, to_ms, unit, value, count)
    numeric = [v.name for v in aspect_type.variables if v.dataType.upper() in NUMERIC_TYPES]
    selection = _parse_select(_query(request, "select"), numeric, {v.name for v in aspect_type.variables})

    start = floor_grid(from_ms, unit, value)
    end = ceil_grid(to_ms, unit, value)
    aggregates: list[dict[str, Any]] = []
    b = start
    produced = 0
    while b < end and (count is None or produced < count):
        nxt = next_boundary(b, unit, value)
        produced += 1
        item: dict[str, Any] = {}
        for name, fields in selection.items():
            stats = series.stats(name, b, nxt)
            if stats.n == 0:
                continue
            body = stats.as_dict()
            item[name] = body if fields is None else {f: body[f] for f in FIELDS if f in fields}
        if item:
            aggregates.append({"starttime": format_time_short(b), "endtime": format_time_short(nxt), **item})
        b = nxt
    return FastJSONResponse({"aggregates": aggregates})


def routes() -> list[Route]:
    return [Route(PATH, get_aggregates, methods=["GET"])]
