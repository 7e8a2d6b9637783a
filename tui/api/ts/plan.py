"""Which source and resolution to read for a chart: raw IoT Time Series v3 or Aggregates v4.

Pure functions, no I/O. The rule (issue 9, section 2):

* **raw** when the range holds few enough points for the chart: at most ``raw_points_per_column``
  (default 600) per column, so 24 h of a 1 Hz sensor (86 400 points) is raw on a 150-column chart and
  aggregated on an 80-column one; also raw when no aggregate interval could give two points per
  column (short ranges).
* otherwise **aggregates** with the coarsest interval of ``AUTO_LADDER`` that still gives at least
  ``points_per_column`` (2) buckets per column. The ladder is a subset of the allowed intervals
  (reference 4) with round lengths (2, 4, 6, 10, 12, 20, 30 min; 1, 2, 3, 4, 6, 8, 12 h; 1, 2, 3 d;
  1, 2 weeks; 1, 2, 3 months), so buckets fall on round local times and labels read well; the
  coarsest one allowed by the rule can give up to twice the buckets the chart needs, never fewer.
* ``force="raw"`` or a forced ``Interval`` skip the rule.

How the raw point count is estimated: the caller passes ``rate_hz``. The fetcher gets it from a probe,
one ordinary first page (2000 records) of the range, whose median spacing between records gives the
rate (the median ignores outages inside the page and the empty stretch before the first record, so the
estimate errs high, i.e. towards aggregates). The probe's records are the first page of a raw read, so
nothing is fetched twice; when the probe holds the whole range, it is the answer. The rate is kept per
asset and aspect for the session, so zooming does not probe again.

Long ranges are cut into requests: raw into concurrent sub-ranges (``raw_subranges``), aggregates by
the range limit per unit of reference 4 (``aggregate_chunks``), with seams on the interval grid.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from tui.api import contract as C
from tui.api.aggregates import validate_interval
from tui.api.ts.timerange import RangeError, TimeRange, describe_length

Source = Literal["raw", "aggregates"]

DEFAULT_WIDTH = 150  # chart columns assumed when there is no chart (``ihub ts get --agg auto``)
POINTS_PER_COLUMN = 2
RAW_POINTS_PER_COLUMN = 600
# A raw read beyond this many points is refused unless it is streamed (``ihub ts get``): in memory,
# one variable costs about 16 bytes per point, and the chart would show a few hundred of them anyway.
RAW_MEMORY_LIMIT = 5_000_000
# Sub-ranges are sized to hold about this many records, so that most are one page (2000) long.
SUBRANGE_TARGET = int(C.TS_MAX_LIMIT * 0.9)
MAX_SUBRANGES = 4096

_UNIT_WORDS = {
    "minute": "minute",
    "minutes": "minute",
    "min": "minute",
    "mins": "minute",
    "m": "minute",
    "hour": "hour",
    "hours": "hour",
    "h": "hour",
    "hr": "hour",
    "day": "day",
    "days": "day",
    "d": "day",
    "week": "week",
    "weeks": "week",
    "w": "week",
    "month": "month",
    "months": "month",
    "mo": "month",
    "mon": "month",
}
_SHORT = {"minute": "min", "hour": "h", "day": "d", "week": "w", "month": "mo"}


class PlanError(ValueError):
    """A forced source or interval that cannot be read; the message says why and what to do."""


@dataclass(frozen=True, order=True)
class Interval:
    """An aggregate interval (``intervalValue``, ``intervalUnit``); ``seconds`` is nominal."""

    seconds: int = field(init=False, repr=False)
    value: int
    unit: str

    def __init__(self, value: int, unit: str) -> None:
        checked_value, checked_unit = validate_interval(value, unit)
        assert checked_value is not None and checked_unit is not None
        object.__setattr__(self, "value", checked_value)
        object.__setattr__(self, "unit", checked_unit)
        object.__setattr__(self, "seconds", checked_value * C.AGG_UNIT_S[checked_unit])

    @property
    def ms(self) -> int:
        return self.seconds * 1000

    @property
    def label(self) -> str:
        """``2 min``, ``1 h``, ``1 d``, ``2 w``, ``3 mo``."""
        return f"{self.value} {_SHORT[self.unit]}"

    @property
    def spec(self) -> str:
        """``2min``, ``1h``: the form ``--agg`` accepts."""
        return f"{self.value}{_SHORT[self.unit]}"

    @property
    def range_limit_s(self) -> int:
        return C.AGG_RANGE_LIMIT_S[self.unit]

    def floor_ms(self, t_ms: int) -> int:
        """The interval boundary at or before ``t_ms`` on a UTC grid from the epoch (months: calendar)."""
        if self.unit == "month":
            return _month_floor(t_ms, self.value)
        origin = _WEEK_ORIGIN_MS if self.unit == "week" else 0
        return origin + (t_ms - origin) // self.ms * self.ms

    def next_ms(self, boundary_ms: int) -> int:
        """The boundary after ``boundary_ms`` (a boundary itself)."""
        if self.unit == "month":
            return _month_floor(boundary_ms + (31 * self.value + 1) * 86_400_000, self.value)
        return boundary_ms + self.ms


_WEEK_ORIGIN_MS = 4 * 86_400_000  # 1970-01-05, a Monday


def _month_floor(t_ms: int, value: int) -> int:
    from datetime import UTC, datetime

    dt = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
    index = (dt.year - 1970) * 12 + dt.month - 1
    index -= index % value
    year, month = divmod(index, 12)
    return int(datetime(1970 + year, month + 1, 1, tzinfo=UTC).timestamp()) * 1000


def _ladder() -> tuple[Interval, ...]:
    items = [Interval(v, "minute") for v in (2, 4, 6, 10, 12, 20, 30)]
    items += [Interval(v, "hour") for v in (1, 2, 3, 4, 6, 8, 12)]
    items += [Interval(v, "day") for v in (1, 2, 3)]
    items += [Interval(v, "week") for v in (1, 2)]
    items += [Interval(v, "month") for v in (1, 2, 3)]
    return tuple(sorted(items))


AUTO_LADDER: tuple[Interval, ...] = _ladder()
FINEST = AUTO_LADDER[0]


def parse_interval(text: str) -> Interval:
    """``1h``, ``2min``, ``15 minutes``, ``1d``, ``2w``, ``3mo``, ``hour`` (= 1 hour) -> ``Interval``.

    Raises ``PlanError`` for unknown units and for values the service does not allow (reference 4:
    minutes 2..60 even, hours 1..24, days 1..90, weeks 1..12, months 1..3), naming allowed neighbours.
    """
    raw = (text or "").strip().lower()
    match = re.fullmatch(r"(\d+)?\s*([a-z]+)", raw)
    if not match:
        raise PlanError(f"cannot read '{text}' as an interval: use e.g. 2min, 30min, 1h, 6h, 1d, 1w, 1mo")
    amount, word = match.groups()
    unit = _UNIT_WORDS.get(word)
    if unit is None:
        raise PlanError(f"'{text}': unknown interval unit '{word}' (use min, h, d, w or mo)")
    value = int(amount) if amount else 1
    allowed = sorted(C.AGG_INTERVALS[unit])
    if value not in allowed:
        lower = [v for v in allowed if v < value]
        higher = [v for v in allowed if v > value]
        near = [f"{v}{_SHORT[unit]}" for v in (lower[-1:] + higher[:1])]
        rule = (
            "an even number of minutes from 2 to 60"
            if unit == "minute"
            else (f"{allowed[0]} to {allowed[-1]} {unit}s")
        )
        hint = f"; nearest: {' or '.join(near)}" if near else ""
        raise PlanError(f"{value} {unit}s is not an aggregate interval the service allows ({rule}){hint}")
    return Interval(value, unit)


Force = Literal["auto", "raw"] | Interval


def parse_force(text: str | None) -> Force:
    """``--agg auto|raw|INTERVAL`` -> ``"auto"``, ``"raw"`` or an ``Interval``."""
    if text is None or text.strip().lower() in ("", "auto"):
        return "auto"
    if text.strip().lower() == "raw":
        return "raw"
    return parse_interval(text)


@dataclass(frozen=True)
class Plan:
    """What to read: ``source``, the ``interval`` (aggregates), and the expected ``estimate``.

    ``estimate`` is raw points (raw) or buckets (aggregates); ``reason`` says why in plain words.
    """

    source: Source
    range: TimeRange
    interval: Interval | None = None
    estimate: int = 0
    width: int = DEFAULT_WIDTH
    reason: str = ""
    forced: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """The resolution part of a cache key: ``("raw", "")`` or ``("aggregates", "1h")``."""
        return (self.source, self.interval.spec if self.interval else "")

    def requests(self) -> int:
        if self.source == "aggregates" and self.interval is not None:
            return sum(1 for _ in aggregate_chunks(self.range, self.interval))
        return max(1, math.ceil(self.estimate / C.TS_MAX_LIMIT))


def _buckets(rng: TimeRange, interval: Interval) -> int:
    return max(1, math.ceil(rng.seconds / interval.seconds))


def choose_source(
    rng: TimeRange,
    width: int = DEFAULT_WIDTH,
    *,
    rate_hz: float | None,
    force: Force = "auto",
    points_per_column: int = POINTS_PER_COLUMN,
    raw_points_per_column: int = RAW_POINTS_PER_COLUMN,
    streaming: bool = False,
    known_count: int | None = None,
) -> Plan:
    """The ``Plan`` for ``rng`` on a chart ``width`` columns wide (see the module doc for the rule).

    ``rate_hz``: records per second (None: unknown, then raw is chosen only for short ranges).
    ``known_count``: the exact number of records when already known (the probe held the whole range).
    ``streaming``: the records are written out as they arrive (``ihub ts get``), so the in-memory limit
    of forced raw reads does not apply. Raises ``PlanError`` for a forced raw read too large to hold.
    """
    width = max(1, int(width))
    needed = width * points_per_column
    if known_count is not None:
        estimate = known_count
    elif rate_hz is not None:
        estimate = math.ceil(rate_hz * rng.seconds)
    else:
        estimate = -1
    if force == "raw":
        if not streaming and estimate > RAW_MEMORY_LIMIT:
            raise PlanError(
                f"raw values over {describe_length(rng.duration)} are about {format_count(estimate)} points, "
                f"more than the {format_count(RAW_MEMORY_LIMIT)} a chart holds: "
                "choose an aggregate interval or a shorter range"
            )
        return Plan("raw", rng, None, max(estimate, 0), width, "raw values (forced)", forced=True)
    if isinstance(force, Interval):
        buckets = _buckets(rng, force)
        return Plan("aggregates", rng, force, buckets, width, f"aggregates {force.label} (forced)", True)
    if force != "auto":
        raise PlanError(f"unknown source {force!r}: use auto, raw or an interval such as 1h")
    budget = width * raw_points_per_column
    if 0 <= estimate <= budget:
        why = f"{format_count(estimate)} raw points fit {width} columns"
        return Plan("raw", rng, None, estimate, width, why)
    fitting = [i for i in AUTO_LADDER if rng.seconds / i.seconds >= needed]
    if not fitting:
        if estimate < 0 or streaming or estimate <= RAW_MEMORY_LIMIT:
            why = "the range is too short for aggregates to give two points per column"
            return Plan("raw", rng, None, max(estimate, 0), width, why)
        return Plan(
            "aggregates",
            rng,
            FINEST,
            _buckets(rng, FINEST),
            width,
            "finest aggregates: raw values would be too many",
        )
    interval = fitting[-1]
    return Plan(
        "aggregates",
        rng,
        interval,
        _buckets(rng, interval),
        width,
        f"about {format_count(estimate)} raw points: aggregated to {interval.label} for {width} columns",
    )


# ------------------------------------------------------------------------------------- splitting


def raw_subranges(start_ms: int, end_ms: int, estimate: int, *, target: int = SUBRANGE_TARGET) -> list[int]:
    """Boundaries ``[start, b1, ..., end]`` cutting ``(start, end]`` into sub-ranges of about ``target``
    records each (by an even spread of ``estimate`` over time), at most ``MAX_SUBRANGES``.

    Consecutive boundaries are strictly increasing whole milliseconds; reading ``(b[i], b[i+1]]`` for
    every i covers ``(start, end]`` exactly once (``from`` exclusive, ``to`` inclusive, reference 3.1).
    """
    if end_ms <= start_ms:
        return [start_ms, end_ms] if end_ms == start_ms else []
    count = max(1, min(MAX_SUBRANGES, math.ceil(max(estimate, 0) / max(1, target))))
    count = min(count, end_ms - start_ms)  # at least one millisecond each
    span = end_ms - start_ms
    return [start_ms + span * i // count for i in range(count + 1)]


def aggregate_chunks(rng: TimeRange, interval: Interval) -> Iterator[TimeRange]:
    """``rng`` cut into requests that respect the unit's range limit (reference 4), seams on the grid.

    The service widens a request's bounds outward to the interval grid; chunks are cut so that even
    the widened request stays within the limit: as many whole buckets as the limit holds (at least
    one; a 3-month bucket is 92 days at most, the one case that cannot fit 90 days). Interior seams
    fall on bucket boundaries (UTC grid from the epoch; weeks from a Monday; calendar months), so no
    bucket is cut in two. A bucket returned twice at a seam (a tenant zone that shifts the grid) is
    dropped when merging.
    """
    start, end = rng.start_ms, rng.end_ms
    limit_ms = interval.range_limit_s * 1000
    bucket = interval.floor_ms(start)
    while True:
        if interval.unit == "month":
            seam = interval.next_ms(bucket)
            while seam < end and interval.next_ms(seam) - bucket <= limit_ms:
                seam = interval.next_ms(seam)
        else:
            seam = bucket + max(1, limit_ms // interval.ms) * interval.ms
        lo, hi = max(start, bucket), min(end, seam)
        yield TimeRange.from_ms(lo, hi)
        if seam >= end:
            return
        bucket = seam


# -------------------------------------------------------------------------------------- summary


def format_count(count: int) -> str:
    """``86 400``: thousands separated by spaces."""
    return f"{max(count, 0):,}".replace(",", " ")


def summary(plan: Plan, count: int, elapsed_s: float | None = None, *, cached: bool = False) -> str:
    """The status line: ``raw, 86 400 points in 0.42 s`` or ``aggregates 1 h, 720 buckets in 0.12 s``."""
    if plan.source == "raw":
        text = f"raw, {format_count(count)} point{'s' if count != 1 else ''}"
    else:
        label = plan.interval.label if plan.interval else "?"
        text = f"aggregates {label}, {format_count(count)} bucket{'s' if count != 1 else ''}"
    if cached:
        return text + " (cached)"
    if elapsed_s is not None:
        text += f" in {elapsed_s:.2f} s" if elapsed_s < 10 else f" in {elapsed_s:.0f} s"
    return text


__all__ = [
    "AUTO_LADDER",
    "DEFAULT_WIDTH",
    "Force",
    "Interval",
    "Plan",
    "PlanError",
    "RangeError",
    "aggregate_chunks",
    "choose_source",
    "format_count",
    "parse_force",
    "parse_interval",
    "raw_subranges",
    "summary",
]
