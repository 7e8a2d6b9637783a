"""Columnar time series in memory: raw records and aggregate buckets as numpy arrays.

``RawFrame``: ``times`` (int64 epoch ms, strictly increasing) and one ``Column`` per variable: numbers
as float64 with NaN for "no value" (INT values are exact; LONG beyond 2**53 and every other type stay
Python objects, ``None`` for no value), quality codes as int64 with -1 for "none". Built page by page
from API records (``RawBuilder``) and turned back into API records (``records``) for JSON export.

``AggregateFrame``: bucket ``starts``/``ends`` (int64 epoch ms) and, per variable, one float64 array per
statistic of reference 4 (``average``, ``minvalue``, ..., times such as ``mintime`` as epoch ms), NaN
where the service gave none. Intervals without data are absent, as the service leaves them out.

Statistics per series (``series_stats``): min, max, mean, last, count and share of good quality.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tui.api import contract as C
from tui.api.models import parse_time

QC_NONE = -1
_EXACT_INT = 2**53
AGG_TIME_FIELDS = ("mintime", "maxtime", "firsttime", "lasttime")
AGG_COUNT_FIELDS = ("countgood", "countuncertain", "countbad")


def quality_class(code: int) -> int:
    """0 good, 1 uncertain, 2 bad by the OPC UA top bits (8-bit QQSSSSLL or 32-bit status codes)."""
    top = (code >> 30) & 3 if code > 0xFF else (code >> 6) & 3
    return C.TS_QC_GOOD if top == 0 else C.TS_QC_UNCERTAIN if top == 1 else C.TS_QC_BAD


def quality_classes(codes: np.ndarray) -> np.ndarray:
    """Vectorised ``quality_class``; -1 where there is no code."""
    codes = codes.astype(np.int64, copy=False)
    top = np.where(codes > 0xFF, (codes >> 30) & 3, (codes >> 6) & 3)
    out = np.where(top == 0, C.TS_QC_GOOD, np.where(top == 1, C.TS_QC_UNCERTAIN, C.TS_QC_BAD))
    return np.where(codes < 0, -1, out)


def format_ms(ms: int) -> str:
    """Epoch ms -> ``2024-03-01T10:00:00.000Z`` (the ``_time`` form of reference 3.1)."""
    seconds, millis = divmod(int(ms), 1000)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"


def parse_ms(value: Any) -> int | None:
    """ISO 8601 text -> epoch ms (rounded down), or None."""
    if isinstance(value, str) and len(value) == 24 and value[-1] == "Z" and value[19] == ".":
        try:  # the common API form, fast path
            dt = datetime.fromisoformat(value[:23] + "+00:00")
            return int(dt.timestamp()) * 1000 + dt.microsecond // 1000
        except ValueError:
            pass
    parsed = parse_time(value)
    if parsed is None:
        return None
    return math.floor(parsed.timestamp()) * 1000 + parsed.microsecond // 1000


_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22])  # YYYY-MM-DDTHH:MM:SS.mmmZ
_SEPARATORS = {4: ord("-"), 7: ord("-"), 10: ord("T"), 13: ord(":"), 16: ord(":"), 19: ord("."), 23: ord("Z")}
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _api_times_to_ms(values: Sequence[Any]) -> np.ndarray | None:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` strings (every record of the API has this form) -> epoch ms, parsed
    as a byte matrix; None when any value has another form or is not a valid time."""
    n = len(values)
    try:
        text = "".join(values).encode("ascii")
    except (TypeError, UnicodeEncodeError):
        return None
    if len(text) != 24 * n:
        return None
    cells = np.frombuffer(text, dtype=np.uint8).reshape(n, 24)
    for at, char in _SEPARATORS.items():
        if not bool((cells[:, at] == char).all()):
            return None
    digits = cells[:, _DIGITS].astype(np.int64) - ord("0")
    if bool(((digits < 0) | (digits > 9)).any()):
        return None
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month = digits[:, 4] * 10 + digits[:, 5]
    day = digits[:, 6] * 10 + digits[:, 7]
    hour = digits[:, 8] * 10 + digits[:, 9]
    minute = digits[:, 10] * 10 + digits[:, 11]
    second = digits[:, 12] * 10 + digits[:, 13]
    millis = digits[:, 14] * 100 + digits[:, 15] * 10 + digits[:, 16]
    if bool(((month < 1) | (month > 12) | (hour > 23) | (minute > 59) | (second > 59) | (day < 1)).any()):
        return None
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if bool((day > _MONTH_DAYS[month] + (leap & (month == 2))).any()):
        return None
    # Days since 1970-01-01 (H. Hinnant's days_from_civil).
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis


def times_to_ms(values: Sequence[Any]) -> np.ndarray:
    """Many ``_time`` strings -> int64 epoch ms; vectorised when they are all ``...Z`` (the API's form)."""
    if not values:
        return np.empty(0, dtype=np.int64)
    fast = _api_times_to_ms(values)
    if fast is not None:
        return fast
    if all(isinstance(v, str) and v.endswith("Z") for v in values):
        try:
            return np.array([v[:-1] for v in values], dtype="datetime64[ms]").astype(np.int64)
        except ValueError:
            pass
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        ms = parse_ms(value)
        if ms is None:
            raise ValueError(f"a record has an unreadable _time: {str(value)[:40]!r}")
        out[i] = ms
    return out


# ------------------------------------------------------------------------------------------ raw


@dataclass
class Column:
    """One variable: ``values`` float64 (NaN = none) if ``numeric`` else object (None = none)."""

    name: str
    values: np.ndarray
    quality: np.ndarray | None = None  # int64, -1 = none; None when the variable never had a code
    integral: bool = False  # every value was a JSON integer (written back without ".0")

    @property
    def numeric(self) -> bool:
        return self.values.dtype == np.float64

    def value_at(self, i: int) -> Any:
        v = self.values[i]
        if self.numeric:
            if math.isnan(v):
                return None
            return int(v) if self.integral else float(v)
        return v

    def as_float(self) -> np.ndarray:
        """Values as float64 for charts and statistics (booleans 0/1; text NaN)."""
        if self.numeric:
            return self.values
        out = np.full(len(self.values), np.nan)
        for i, v in enumerate(self.values):
            if isinstance(v, bool):
                out[i] = 1.0 if v else 0.0
            elif isinstance(v, int | float):
                out[i] = float(v)
        return out

    def take(self, index: slice | np.ndarray) -> Column:
        quality = self.quality[index] if self.quality is not None else None
        return Column(self.name, self.values[index], quality, self.integral)

    @property
    def nbytes(self) -> int:
        size = self.values.nbytes + (self.quality.nbytes if self.quality is not None else 0)
        if not self.numeric:
            size += 48 * len(self.values)
        return size


@dataclass
class RawFrame:
    """Raw records of one aspect in time order, each ``_time`` once (see the module doc)."""

    times: np.ndarray  # int64 epoch ms
    columns: dict[str, Column] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.times)

    @property
    def variables(self) -> list[str]:
        return list(self.columns)

    @property
    def nbytes(self) -> int:
        return self.times.nbytes + sum(c.nbytes for c in self.columns.values())

    def seconds(self) -> np.ndarray:
        """Times as float epoch seconds (what chart widgets take)."""
        return self.times / 1000.0

    def slice_ms(self, start_ms: int, end_ms: int) -> RawFrame:
        """Records in ``(start_ms, end_ms]`` (the IoT Time Series bounds)."""
        lo = int(np.searchsorted(self.times, start_ms, side="right"))
        hi = int(np.searchsorted(self.times, end_ms, side="right"))
        return self.take(slice(lo, hi))

    def take(self, index: slice | np.ndarray, variables: Iterable[str] | None = None) -> RawFrame:
        names = list(variables) if variables is not None else list(self.columns)
        return RawFrame(
            self.times[index], {n: self.columns[n].take(index) for n in names if n in self.columns}
        )

    def project(self, variables: Iterable[str]) -> RawFrame:
        """Only ``variables``; records left without any of their values are dropped."""
        names = [n for n in variables if n in self.columns]
        if not names:
            return RawFrame(np.empty(0, dtype=np.int64), {})
        keep = np.zeros(len(self.times), dtype=bool)
        for name in names:
            col = self.columns[name]
            keep |= ~np.isnan(col.values) if col.numeric else np.array([v is not None for v in col.values])
        if keep.all():
            return self.take(slice(None), names)
        return self.take(np.flatnonzero(keep), names)

    def records(self) -> Iterator[dict[str, Any]]:
        """API-shaped records (``_time``, values, ``<var>_qc``); missing values are left out."""
        cols = list(self.columns.values())
        for i, t in enumerate(self.times.tolist()):
            rec: dict[str, Any] = {C.TS_TIME: format_ms(t)}
            for col in cols:
                value = col.value_at(i)
                if value is None:
                    continue
                rec[col.name] = value
                if col.quality is not None and col.quality[i] >= 0:
                    rec[col.name + C.TS_QC_SUFFIX] = int(col.quality[i])
            yield rec

    def extended(self, records: Sequence[Mapping[str, Any]]) -> RawFrame:
        """This frame with newer ``records`` appended (live mode); records not later than the last
        ``_time`` held are dropped, so polling overlapping windows adds each record once."""
        last = int(self.times[-1]) if len(self.times) else -(2**62)
        builder = RawBuilder(self.variables or None)
        builder._last = last  # only records after what is held
        builder.add(list(records))
        if not len(builder):
            return self
        newer = builder.build()
        if not len(self.times):
            return newer
        columns: dict[str, Column] = {}
        for name in dict.fromkeys(self.variables + newer.variables):
            a = self.columns.get(name) or _empty_column(name, len(self.times))
            b = newer.columns.get(name) or _empty_column(name, len(newer.times))
            if a.numeric and b.numeric:
                values = np.concatenate([a.values, b.values])
            else:
                values = np.empty(len(a.values) + len(b.values), dtype=object)
                values[:] = [a.value_at(i) for i in range(len(a.values))] + [
                    b.value_at(i) for i in range(len(b.values))
                ]
            quality = None
            if a.quality is not None or b.quality is not None:
                qa = a.quality if a.quality is not None else np.full(len(a.values), QC_NONE, dtype=np.int64)
                qb = b.quality if b.quality is not None else np.full(len(b.values), QC_NONE, dtype=np.int64)
                quality = np.concatenate([qa, qb])
            integral = (a.integral or _all_missing(a)) and (b.integral or _all_missing(b))
            columns[name] = Column(name, values, quality, integral and values.dtype == np.float64)
        return RawFrame(np.concatenate([self.times, newer.times]), columns)

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], variables: Sequence[str] | None = None
    ) -> RawFrame:
        builder = RawBuilder(variables)
        builder.add(list(records))
        return builder.build()


class RawBuilder:
    """Collects pages of API records into a ``RawFrame``; pages must come in time order.

    A record whose ``_time`` is not later than the last one kept is dropped (a record read twice at a
    sub-range seam). ``variables`` fixes the columns; without it they are taken from the records.
    """

    def __init__(self, variables: Sequence[str] | None = None) -> None:
        self._fixed = list(variables) if variables is not None else None
        self._names: list[str] = list(self._fixed or [])
        self._times: list[np.ndarray] = []
        self._values: dict[str, list[list[Any]]] = {}
        self._quality: dict[str, list[list[int]]] = {}
        self._has_qc: set[str] = set()
        self._rows = 0
        self._last = -(2**62)
        self.dropped = 0

    @property
    def last_ms(self) -> int:
        return self._last

    def __len__(self) -> int:
        return self._rows

    def add(self, page: Sequence[Mapping[str, Any]], times: np.ndarray | None = None) -> int:
        """Add one page (``times``: its ``_time`` values as epoch ms, when already parsed); returns how
        many records were kept."""
        if not page:
            return 0
        if times is None or len(times) != len(page):
            times = times_to_ms([r.get(C.TS_TIME) for r in page])
        keep_idx: list[int] | None = None
        if len(times) > 1 and not bool(np.all(times[1:] > times[:-1])) or times[0] <= self._last:
            keep_idx = []
            last = self._last
            for i, t in enumerate(times.tolist()):
                if t > last:
                    keep_idx.append(i)
                    last = t
            self.dropped += len(times) - len(keep_idx)
            times = times[keep_idx]
            page = [page[i] for i in keep_idx]
        if not len(times):
            return 0
        if self._fixed is None:
            for rec in [*page[:1], *page[-1:]]:
                for key in rec:
                    if key != C.TS_TIME and not key.endswith(C.TS_QC_SUFFIX) and key not in self._names:
                        self._names.append(key)
            if len(page) > 2:
                seen = set(self._names)
                for rec in page:
                    if len(rec) > 1:
                        for key in rec:
                            if key not in seen and key != C.TS_TIME and not key.endswith(C.TS_QC_SUFFIX):
                                self._names.append(key)
                                seen.add(key)
        n = len(page)
        for name in self._names:
            qc_key = name + C.TS_QC_SUFFIX
            values = [r.get(name) for r in page]
            self._values.setdefault(name, [[None] * self._rows] if self._rows else []).append(values)
            codes = [r.get(qc_key) for r in page]
            if name in self._has_qc or any(c is not None for c in codes):
                if name not in self._has_qc:
                    self._has_qc.add(name)
                    self._quality[name] = [[QC_NONE] * self._rows] if self._rows else []
                self._quality[name].append(
                    [c if isinstance(c, int) and not isinstance(c, bool) else QC_NONE for c in codes]
                )
        self._times.append(times)
        self._rows += n
        self._last = int(times[-1])
        return n

    def build(self) -> RawFrame:
        times = np.concatenate(self._times) if self._times else np.empty(0, dtype=np.int64)
        columns: dict[str, Column] = {}
        for name in self._names:
            flat = [v for part in self._values.get(name, []) for v in part]
            if len(flat) < len(times):
                flat = [None] * (len(times) - len(flat)) + flat
            quality = None
            if name in self._has_qc:
                q = [c for part in self._quality[name] for c in part]
                quality = np.array(q, dtype=np.int64)
            columns[name] = _column(name, flat, quality)
        return RawFrame(times, columns)


def _empty_column(name: str, n: int) -> Column:
    return Column(name, np.full(n, np.nan), None, False)


def _all_missing(col: Column) -> bool:
    return bool(np.isnan(col.values).all()) if col.numeric else all(v is None for v in col.values)


def _column(name: str, values: list[Any], quality: np.ndarray | None) -> Column:
    kinds = set(map(type, values))
    if kinds <= {float, int, type(None)}:  # JSON numbers (and no value): decided without a loop
        integral = float not in kinds
        present = [v for v in values if v is not None] if type(None) in kinds else values
        if int in kinds:
            try:
                exact = np.array([v for v in present if type(v) is int], dtype=np.int64)
            except OverflowError:
                exact = None
            if exact is None or (len(exact) and int(np.abs(exact).max()) >= _EXACT_INT):
                arr = np.empty(len(values), dtype=object)
                arr[:] = values
                return Column(name, arr, quality, False)
        if type(None) in kinds:
            arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        else:
            arr = np.array(values, dtype=np.float64)
        return Column(name, arr, quality, integral and not np.isnan(arr).all())
    numeric = True
    integral = True
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            numeric = False
            break
        if isinstance(v, int):
            if abs(v) >= _EXACT_INT:
                numeric = False
                break
        else:
            integral = False
    if numeric:
        arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        return Column(name, arr, quality, integral and not np.isnan(arr).all())
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return Column(name, arr, quality, False)


# ------------------------------------------------------------------------------------ aggregates


@dataclass
class AggregateFrame:
    """Aggregate buckets in time order, each ``starttime`` once (see the module doc)."""

    starts: np.ndarray  # int64 epoch ms
    ends: np.ndarray
    stats: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # var -> field -> float64

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def variables(self) -> list[str]:
        return list(self.stats)

    @property
    def nbytes(self) -> int:
        return (
            self.starts.nbytes
            + self.ends.nbytes
            + sum(a.nbytes for f in self.stats.values() for a in f.values())
        )

    def field(self, variable: str, name: str) -> np.ndarray:
        return self.stats[variable][name]

    def mids(self) -> np.ndarray:
        """Bucket middles as float epoch seconds (where a chart draws a bucket)."""
        return (self.starts + self.ends) / 2000.0

    def slice_ms(self, start_ms: int, end_ms: int) -> AggregateFrame:
        """Buckets overlapping ``(start_ms, end_ms]``."""
        lo = int(np.searchsorted(self.ends, start_ms, side="right"))
        hi = int(np.searchsorted(self.starts, end_ms, side="left"))
        return self.take(slice(lo, max(lo, hi)))

    def take(self, index: slice | np.ndarray, variables: Iterable[str] | None = None) -> AggregateFrame:
        names = list(variables) if variables is not None else list(self.stats)
        return AggregateFrame(
            self.starts[index],
            self.ends[index],
            {n: {f: a[index] for f, a in self.stats[n].items()} for n in names if n in self.stats},
        )

    def project(self, variables: Iterable[str]) -> AggregateFrame:
        names = [n for n in variables if n in self.stats]
        counts = [self.count(n) for n in names]
        keep = np.zeros(len(self.starts), dtype=bool)
        for c in counts:
            keep |= c > 0
        return self.take(np.flatnonzero(keep), names)

    def count(self, variable: str) -> np.ndarray:
        f = self.stats[variable]
        return np.nansum(np.vstack([f[k] for k in AGG_COUNT_FIELDS]), axis=0)

    def items(self) -> Iterator[dict[str, Any]]:
        """API-shaped aggregate objects (``starttime``, ``endtime``, one object per variable)."""
        for i in range(len(self.starts)):
            item: dict[str, Any] = {
                C.AGG_START: format_ms(self.starts[i]),
                C.AGG_END: format_ms(self.ends[i]),
            }
            for name, fields in self.stats.items():
                if self._n(name, i) == 0:
                    continue
                body: dict[str, Any] = {}
                for key in C.AGG_STAT_FIELDS:
                    if key not in fields:
                        continue
                    v = fields[key][i]
                    if key in AGG_TIME_FIELDS:
                        body[key] = None if math.isnan(v) else format_ms(int(v))
                    elif key in AGG_COUNT_FIELDS:
                        body[key] = 0 if math.isnan(v) else int(v)
                    else:
                        body[key] = None if math.isnan(v) else float(v)
                item[name] = body
            yield item

    def _n(self, name: str, i: int) -> float:
        f = self.stats[name]
        total = 0.0
        for key in AGG_COUNT_FIELDS:
            if key in f and not math.isnan(f[key][i]):
                total += f[key][i]
        return total

    @classmethod
    def from_items(
        cls, items: Iterable[Mapping[str, Any]], variables: Sequence[str] | None = None
    ) -> AggregateFrame:
        """From API aggregate objects in time order; a repeated ``starttime`` (a seam) is kept once."""
        starts: list[int] = []
        ends: list[int] = []
        rows: list[Mapping[str, Any]] = []
        last = -(2**62)
        names: list[str] = list(variables) if variables is not None else []
        for item in items:
            start = parse_ms(item.get(C.AGG_START))
            end = parse_ms(item.get(C.AGG_END))
            if start is None or start <= last:
                continue
            last = start
            starts.append(start)
            ends.append(end if end is not None else start)
            rows.append(item)
            if variables is None:
                for key, value in item.items():
                    if isinstance(value, Mapping) and key not in names:
                        names.append(key)
        stats: dict[str, dict[str, np.ndarray]] = {}
        for name in names:
            fields: dict[str, np.ndarray] = {}
            for key in C.AGG_STAT_FIELDS:
                out = np.full(len(rows), np.nan)
                for i, row in enumerate(rows):
                    body = row.get(name)
                    if not isinstance(body, Mapping):
                        continue
                    value = body.get(key)
                    if key in AGG_TIME_FIELDS:
                        ms = parse_ms(value)
                        if ms is not None:
                            out[i] = ms
                    elif isinstance(value, int | float) and not isinstance(value, bool):
                        out[i] = value
                fields[key] = out
            stats[name] = fields
        return cls(np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64), stats)


# ------------------------------------------------------------------------------------ statistics


@dataclass(frozen=True)
class SeriesStats:
    """Statistics of one variable over what was read; ``good_share`` None when it has no quality codes."""

    variable: str
    count: int
    min: float | None
    max: float | None
    mean: float | None
    last: Any
    last_time: int | None  # epoch ms
    good_share: float | None


def series_stats(frame: RawFrame | AggregateFrame, variable: str) -> SeriesStats:
    """min, max, mean, last value, count and share of good quality of ``variable`` (reference 3.1, 4).

    Raw: over the values present (text variables count values; min/max/mean only for numbers and
    booleans as 0/1). Aggregates: min of ``minvalue``, max of ``maxvalue``, ``sum`` over all counts,
    last = ``lastvalue`` of the last bucket, good share = ``countgood`` over all counts.
    """
    if isinstance(frame, AggregateFrame):
        return _aggregate_stats(frame, variable)
    col = frame.columns.get(variable)
    if col is None or not len(frame):
        return SeriesStats(variable, 0, None, None, None, None, None, None)
    if col.numeric:
        present = ~np.isnan(col.values)
    else:
        present = np.array([v is not None for v in col.values], dtype=bool)
    count = int(present.sum())
    if count == 0:
        return SeriesStats(variable, 0, None, None, None, None, None, None)
    idx = np.flatnonzero(present)
    last_i = int(idx[-1])
    numbers = col.as_float()[present]
    finite = numbers[~np.isnan(numbers)]
    lo = float(finite.min()) if len(finite) else None
    hi = float(finite.max()) if len(finite) else None
    mean = float(finite.mean()) if len(finite) else None
    good = None
    if col.quality is not None:
        codes = col.quality[present]
        # A value without a code counts as good (quality codes are optional per record).
        classes = quality_classes(codes)
        good = float(np.count_nonzero(classes <= C.TS_QC_GOOD)) / count
    return SeriesStats(variable, count, lo, hi, mean, col.value_at(last_i), int(frame.times[last_i]), good)


def _aggregate_stats(frame: AggregateFrame, variable: str) -> SeriesStats:
    f = frame.stats.get(variable)
    if f is None or not len(frame):
        return SeriesStats(variable, 0, None, None, None, None, None, None)
    counts = frame.count(variable)
    total = int(np.nansum(counts))
    if total == 0:
        return SeriesStats(variable, 0, None, None, None, None, None, None)
    lo = float(np.nanmin(f["minvalue"])) if not np.isnan(f["minvalue"]).all() else None
    hi = float(np.nanmax(f["maxvalue"])) if not np.isnan(f["maxvalue"]).all() else None
    sums = f["sum"]
    mean: float | None
    if not np.isnan(sums[counts > 0]).any():
        mean = float(np.nansum(sums) / total)
    else:
        ok = ~np.isnan(f["average"]) & (counts > 0)
        mean = float(np.sum(f["average"][ok] * counts[ok]) / np.sum(counts[ok])) if ok.any() else None
    with_data = np.flatnonzero(counts > 0)
    last_i = int(with_data[-1])
    last_value = f["lastvalue"][last_i]
    last_time = f["lasttime"][last_i]
    good = float(np.nansum(f["countgood"])) / total
    return SeriesStats(
        variable,
        total,
        lo,
        hi,
        mean,
        None if math.isnan(last_value) else float(last_value),
        None if math.isnan(last_time) else int(last_time),
        good,
    )
