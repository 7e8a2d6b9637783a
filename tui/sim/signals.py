"""Synthetic time series: a pure, deterministic function of (seed, assetId, aspect, variable, time).

Every dynamic aspect variable has a value on the aspect's sample grid (multiples of ``sample_period_s``
since the Unix epoch), so any time range can be answered without storage.

Structure (all hash based, no stateful random generator):

- The grid is cut into *chunks* of ``C`` samples spanning about ten minutes (``C = 600 // period``).
- A numeric chunk is ``level(chunk) + scale * pattern[k]``: ``level`` carries the daily cycle and a slow
  multi-day trend (evaluated at the chunk's middle), ``pattern`` is one of a fixed set of bounded AR(1)
  noise shapes picked by hash. Because a chunk is an affine image of a pattern whose statistics are known,
  aggregates over whole chunks cost O(1) instead of O(samples).
- Occasional anomalies: about one chunk in 150 carries a spike (computed sample by sample).
- Gaps: a few outages per week per aspect (whole chunks without any record).
- Quality codes (variables with ``qualityCode``): mostly 0 (good), ~2 % uncertain (0x40..), ~0.6 % bad
  (0x80..), following the OPC UA top bits.
- Data types: DOUBLE (noise, or a cumulative meter for kWh), INT / LONG (rounded signal or counters),
  BOOLEAN (running flag, steady per hour, often off at night), STRING (RUNNING / IDLE / MAINTENANCE /
  FAULT, steady per hour), TIMESTAMP (ISO string), BIG_STRING (a diagnostic text line, steady per hour).
- Two name-based kinds that agree within an aspect: a STRING variable named ``zone`` is the ISO 10816
  vibration zone (``A`` 55 %, ``B`` 35 %, ``C`` 8 %, ``D`` 2 %, steady per chunk), and a BOOLEAN whose
  name contains ``alarm`` is true exactly while that zone is ``D``.

``Series`` overlays written records (a written record replaces the synthetic one at the same time) and
deleted ranges on the synthetic signal, and answers record ranges, the latest record, per-property latest
values and aggregate statistics from that one source.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

_M64 = (1 << 64) - 1
DAY_MS = 86_400_000
CHUNK_TARGET_S = 600
PATTERNS = 256
# Roughly one spike every 150 chunks (~1 per day per variable at a 10-minute chunk).
SPIKE_PER_MILLE = 7
# Outage blocks: per block of about a day, a 42 % chance of one outage lasting 1..9 chunks.
OUTAGE_PER_MILLE = 420

NUMERIC_TYPES = frozenset({"DOUBLE", "INT", "LONG"})
UNCERTAIN_CODES = (0x40, 0x44, 0x48, 0x50, 0x54, 0x58)
BAD_CODES = (0x80, 0x84, 0x88, 0x8C, 0x90, 0x98)
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


# --------------------------------------------------------------------------------------------- hashing


def mix(x: int) -> int:
    """splitmix64 finaliser: a fast, well-distributed 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def text_hash(*parts: object) -> int:
    data = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def unit_float(h: int) -> float:
    """A float in [0, 1) from the top 53 bits of a 64-bit hash."""
    return (h >> 11) / 9007199254740992.0


# ----------------------------------------------------------------------------------------------- time

_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


class TimeFormatError(ValueError):
    """A timestamp that is not ISO 8601."""


def parse_time(text: str) -> int:
    """ISO 8601 (date, hour, minute, second, fraction; ``Z`` or ``±hh:mm``; no zone = UTC) -> epoch ms.

    Accepts the forms of reference section 4: ``2020-02-20Z``, ``2020-02-20T10Z``, ``2020-02-20T10:30Z``,
    ``…:00Z``, ``…:00.000Z`` and the same with an offset such as ``-05:00``.
    """
    m = _TIME_RE.match(text.strip())
    if not m:
        raise TimeFormatError(f"'{text}' is not an ISO 8601 timestamp")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    try:
        dt = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC
        )
    except ValueError as exc:
        raise TimeFormatError(f"'{text}' is not a valid date or time: {exc}") from None
    ms = int((dt - _EPOCH).total_seconds()) * 1000
    if frac:
        ms += int((frac + "00")[:3])
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise TimeFormatError(f"'{text}' has an invalid UTC offset")
        ms -= sign * (hours * 3600 + minutes * 60) * 1000
    return ms


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_datetime(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


@lru_cache(maxsize=4096)
def _minute_text(minute: int) -> str:
    return f"{_EPOCH + timedelta(minutes=minute):%Y-%m-%dT%H:%M:}"


def format_time(ms: int) -> str:
    """Epoch ms -> ``2024-03-01T10:00:00.000Z`` (the IoT Time Series ``_time`` format)."""
    seconds, millis = divmod(ms, 1000)
    minute, second = divmod(seconds, 60)
    return f"{_minute_text(minute)}{second:02d}.{millis:03d}Z"


def format_time_short(ms: int) -> str:
    """Epoch ms -> ``2024-03-01T10:00:00Z``, with milliseconds only when they are not zero."""
    dt = to_datetime(ms)
    return f"{dt:%Y-%m-%dT%H:%M:%S}Z" if ms % 1000 == 0 else f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def quality_class(code: int) -> int:
    """0 good, 1 uncertain, 2 bad, by the OPC UA top bits (0xC0 counts as bad).

    Accepts the 8-bit QQSSSSLL codes and 32-bit OPC UA status codes (severity in bits 31..30).
    """
    top = (code >> 30) & 3 if code > 0xFF else (code >> 6) & 3
    return 0 if top == 0 else 1 if top == 1 else 2


# ------------------------------------------------------------------------------------------- patterns


@dataclass(frozen=True, slots=True)
class Pattern:
    """A bounded noise shape of C samples and its statistics (used for O(1) chunk aggregates)."""

    values: tuple[float, ...]
    qcs: tuple[int, ...]
    total: float
    m2: float  # sum of squared deviations from the mean
    min_k: int
    max_k: int
    uncertain: int
    bad: int


@lru_cache(maxsize=PATTERNS * 16)
def pattern(size: int, p: int) -> Pattern:
    """Pattern ``p`` (0 <= p < PATTERNS) of the fixed set for chunks of ``size`` samples.

    Computed on first use: a 1 Hz aspect has 600-sample chunks, and building all 256 patterns at once
    would stall its first request for half a second.
    """
    base = text_hash("ihub-pattern", size)
    values: list[float] = []
    qcs: list[int] = []
    prev = 0.0
    for k in range(size):
        h = mix(base ^ mix((p << 20) | k))
        # Sum of three uniforms in [-1, 1] / 3: bell shaped and bounded; AR(1) keeps |v| <= 2.
        e = (unit_float(h) + unit_float(mix(h)) + unit_float(mix(h ^ 0xABCDEF)) - 1.5) / 1.5
        prev = 0.5 * prev + e
        values.append(prev)
        r = mix(h ^ 0x5151) % 1000
        if r < 6:
            qcs.append(BAD_CODES[r % len(BAD_CODES)])
        elif r < 26:
            qcs.append(UNCERTAIN_CODES[r % len(UNCERTAIN_CODES)])
        else:
            qcs.append(0)
    total = math.fsum(values)
    mean = total / size
    m2 = math.fsum((v - mean) ** 2 for v in values)
    min_k = values.index(min(values))
    max_k = values.index(max(values))
    classes = [quality_class(q) for q in qcs]
    return Pattern(tuple(values), tuple(qcs), total, m2, min_k, max_k, classes.count(1), classes.count(2))


def patterns(size: int) -> tuple[Pattern, ...]:
    """The whole fixed pattern set for chunks of ``size`` samples (independent of the seed)."""
    return tuple(pattern(size, p) for p in range(PATTERNS))


def chunk_size(period_s: int) -> int:
    """Samples per chunk for a sample period (about ten minutes of samples)."""
    return max(1, CHUNK_TARGET_S // max(1, int(period_s)))


def warm_up(
    period_seconds: Sequence[int], stop: Callable[[], bool] = lambda: False, pause_s: float = 0.005
) -> None:
    """Build the patterns of these sample periods ahead of the first request (largest chunks first).

    A 1 Hz aspect's 256 patterns of 600 samples take about half a second of CPU; a server runs this in
    a background thread, pausing between patterns so that it never holds the interpreter for long, and
    ends early when ``stop()`` says so.
    """
    for size in sorted({chunk_size(p) for p in period_seconds}, reverse=True):
        for p in range(PATTERNS):
            if stop():
                return
            pattern(size, p)
            if pause_s:
                time.sleep(pause_s)


# ------------------------------------------------------------------------------------------ statistics


class Stats:
    """Running aggregate statistics of one variable; chunks and single values merge in time order."""

    __slots__ = (
        "n", "good", "uncertain", "bad", "total", "mean", "m2",
        "min", "min_t", "max", "max_t", "first", "first_t", "last", "last_t",
    )  # fmt: skip

    def __init__(self) -> None:
        self.n = 0
        self.good = self.uncertain = self.bad = 0
        self.total: float = 0.0
        self.mean = 0.0
        self.m2 = 0.0
        self.min: float = 0.0
        self.max: float = 0.0
        self.min_t = self.max_t = self.first_t = self.last_t = 0
        self.first: float = 0.0
        self.last: float = 0.0

    def add(self, t: int, value: float, qc: int | None) -> None:
        """Add one value at time ``t`` (later than every value added before)."""
        cls = quality_class(qc) if qc else 0
        if cls == 0:
            self.good += 1
        elif cls == 1:
            self.uncertain += 1
        else:
            self.bad += 1
        self.n += 1
        self.total += value
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)
        if self.n == 1:
            self.min = self.max = self.first = value
            self.min_t = self.max_t = self.first_t = t
        else:
            if value < self.min:
                self.min, self.min_t = value, t
            if value > self.max:
                self.max, self.max_t = value, t
        self.last, self.last_t = value, t

    def merge(self, o: Stats) -> None:
        """Append ``o`` (covering a later time span) to these statistics (Chan's parallel formula)."""
        if o.n == 0:
            return
        if self.n == 0:
            for name in Stats.__slots__:
                setattr(self, name, getattr(o, name))
            return
        n = self.n + o.n
        delta = o.mean - self.mean
        self.m2 += o.m2 + delta * delta * self.n * o.n / n
        self.mean += delta * o.n / n
        self.n = n
        self.total += o.total
        self.good += o.good
        self.uncertain += o.uncertain
        self.bad += o.bad
        if o.min < self.min:
            self.min, self.min_t = o.min, o.min_t
        if o.max > self.max:
            self.max, self.max_t = o.max, o.max_t
        self.last, self.last_t = o.last, o.last_t

    def as_dict(self) -> dict[str, Any]:
        """The Aggregates v4 variable object; ``sd`` (population) is None only when it overflows."""
        sd: float | None = math.sqrt(self.m2 / self.n) if self.n else 0.0
        if sd is not None and not math.isfinite(sd):
            sd = None
        avg = self.total / self.n if self.n else 0.0
        return {
            "countgood": self.good,
            "countuncertain": self.uncertain,
            "countbad": self.bad,
            "sum": self.total,
            "average": avg,
            "minvalue": self.min,
            "mintime": format_time_short(self.min_t),
            "maxvalue": self.max,
            "maxtime": format_time_short(self.max_t),
            "firstvalue": self.first,
            "firsttime": format_time_short(self.first_t),
            "lastvalue": self.last,
            "lasttime": format_time_short(self.last_t),
            "sd": sd,
        }


def stats_of(times: Sequence[int], values: Sequence[float], qcs: Sequence[int] | None) -> Stats:
    """Statistics of parallel lists (ascending times) computed with C-speed builtins where possible."""
    s = Stats()
    n = len(values)
    if n == 0:
        return s
    s.n = n
    s.total = sum(values)
    s.mean = s.total / n
    mean = s.mean
    s.m2 = math.fsum((v - mean) * (v - mean) for v in values)
    lo, hi = min(values), max(values)
    s.min, s.min_t = lo, times[values.index(lo)]
    s.max, s.max_t = hi, times[values.index(hi)]
    s.first, s.first_t = values[0], times[0]
    s.last, s.last_t = values[-1], times[-1]
    if qcs:
        classes = [quality_class(q) for q in qcs if q]
        s.uncertain = classes.count(1)
        s.bad = classes.count(2)
    s.good = n - s.uncertain - s.bad
    return s


# ------------------------------------------------------------------------------------------ variables

# name or unit -> (mean, daily amplitude, noise scale, lower bound, upper bound)
_PROFILES: dict[str, tuple[float, float, float, float, float]] = {
    "m3/h": (120.0, 25.0, 2.5, 0.0, 1e9),
    "bar": (6.0, 0.6, 0.06, 0.0, 1e9),
    "rpm": (1480.0, 40.0, 4.0, 0.0, 1e9),
    "A": (32.0, 8.0, 0.6, 0.0, 1e9),
    "C": (58.0, 6.0, 0.4, -50.0, 400.0),
    "°C": (58.0, 6.0, 0.4, -50.0, 400.0),
    "mm/s": (2.4, 0.5, 0.15, 0.0, 1e9),
    "%": (62.0, 18.0, 2.5, 0.0, 100.0),
    "m/s": (1.2, 0.1, 0.015, 0.0, 1e9),
    "Nm": (210.0, 30.0, 4.0, 0.0, 1e9),
    "kW": (45.0, 15.0, 1.5, 0.0, 1e9),
    "g": (0.9, 0.2, 0.08, 0.0, 1e9),
    "V": (400.0, 6.0, 1.2, 0.0, 1e9),
    "Hz": (50.0, 0.03, 0.01, 0.0, 1e9),
    "h": (900.0, 30.0, 2.0, 0.0, 1e9),
    "humidity": (45.0, 8.0, 1.0, 0.0, 100.0),
    "Environment.temperature": (22.0, 3.0, 0.15, -50.0, 80.0),
}
_NOMINAL_UNITS = frozenset({"V", "Hz"})
_COUNTER_UNITS = {"kWh": 38.0, "MWh": 0.04, "pcs": 900.0, "Wh": 38000.0}  # increase per hour


@dataclass(frozen=True, slots=True)
class VariableSpec:
    """What the generator needs to know about one variable."""

    name: str
    data_type: str
    unit: str = ""
    quality_code: bool = False
    length: int | None = None


@dataclass(frozen=True, slots=True)
class VarModel:
    """The derived, hashable parameters of one variable's series (the cache key of its chunks)."""

    spec: VariableSpec
    key: int
    aspect_key: int  # shared by the variables of one (asset, aspect): running flag and state agree
    period_ms: int
    chunk: int  # samples per chunk
    kind: str  # noise, counter, batch, bool, alarm, state, zone, text, timestamp
    mean: float
    amp: float
    scale: float
    lo: float
    hi: float
    peak_s: float
    trend_amp: float
    trend_period_s: float
    trend_phase: float
    rate_per_s: float


def _model(seed: int, asset_id: str, aspect: str, spec: VariableSpec, period_s: int) -> VarModel:
    key = text_hash(seed, asset_id, aspect, spec.name, spec.data_type)
    r = [unit_float(mix(key + i)) for i in range(8)]
    chunk = max(1, CHUNK_TARGET_S // period_s)
    dtype = spec.data_type.upper()
    profile = (
        _PROFILES.get(f"{aspect}.{spec.name}")
        or _PROFILES.get(spec.name)
        or _PROFILES.get(spec.unit)
        or (50.0 + 100.0 * r[0], 10.0, 1.0, -1e12, 1e12)
    )
    mean, amp, scale, lo, hi = profile
    # Every asset a little different (±15 %), but grid voltage and frequency stay near nominal (±0.5 %).
    factor = 0.995 + 0.01 * r[1] if spec.unit in _NOMINAL_UNITS else 0.85 + 0.3 * r[1]
    mean, amp, scale = mean * factor, amp * (0.7 + 0.6 * r[2]), scale * (0.8 + 0.4 * r[3])
    # Keep the clean signal inside the bounds: |pattern| <= 2, trend <= 0.5 * amp.
    span = amp * 1.5 + 2 * scale
    if mean - span < lo:
        mean = lo + span
    if mean + span > hi:
        mean = hi - span
    kind = "noise"
    rate = 0.0
    if dtype == "BOOLEAN":
        kind = "alarm" if "alarm" in spec.name.lower() else "bool"
    elif dtype == "STRING" and spec.name.lower() == "zone":
        kind = "zone"
    elif dtype == "BIG_STRING":
        kind = "text"
    elif dtype == "STRING":
        kind = "state"
    elif dtype == "TIMESTAMP":
        kind = "timestamp"
    elif spec.unit in _COUNTER_UNITS:
        kind = "counter"
        rate = _COUNTER_UNITS[spec.unit] * factor / 3600.0
    elif dtype == "INT" and "batch" in spec.name.lower():
        kind = "batch"
        rate = 1.0 / (3600.0 * (1.5 + r[4]))
    return VarModel(
        spec=spec,
        key=key,
        aspect_key=text_hash(seed, asset_id, aspect),
        period_ms=period_s * 1000,
        chunk=chunk,
        kind=kind,
        mean=mean,
        amp=amp,
        scale=scale,
        lo=lo,
        hi=hi,
        peak_s=43_200 + 14_400 * (r[5] - 0.5),
        trend_amp=0.5 * amp * r[6],
        trend_period_s=86_400 * (3.0 + 6.0 * r[7]),
        trend_phase=2 * math.pi * r[0],
        rate_per_s=rate,
    )


def _level(m: VarModel, t_s: float) -> float:
    day = math.cos(2 * math.pi * ((t_s - m.peak_s) % 86_400) / 86_400)
    trend = m.trend_amp * math.sin(2 * math.pi * t_s / m.trend_period_s + m.trend_phase)
    return m.mean + m.amp * day + trend


def _chunk_hash(m: VarModel, c: int) -> int:
    return mix(m.key ^ mix(c & _M64))


def _hour_hash(m: VarModel, hour: int) -> int:
    return mix(m.aspect_key ^ 0x7777 ^ mix(hour & _M64))


def _running(m: VarModel, t_s: int) -> bool:
    """Machine on/off, steady per hour: usually on in the daytime, often off at night (UTC)."""
    hour = t_s // 3600
    hod = hour % 24
    p_off = 0.55 if (hod >= 22 or hod < 5) else 0.04
    return unit_float(_hour_hash(m, hour)) >= p_off


def _state(m: VarModel, t_s: int) -> str:
    h = unit_float(mix(_hour_hash(m, t_s // 3600) ^ m.key))
    if h < 0.01:
        state = "FAULT"
    elif h < 0.03:
        state = "MAINTENANCE"
    else:
        state = "RUNNING" if _running(m, t_s) else "IDLE"
    return state[: m.spec.length] if m.spec.length else state


_ZONES = ((0.55, "A"), (0.90, "B"), (0.98, "C"), (1.01, "D"))


def _zone(m: VarModel, c: int) -> str:
    """ISO 10816 vibration zone of chunk ``c``, shared by the variables of one (asset, aspect)."""
    u = unit_float(mix(m.aspect_key ^ 0x2016 ^ mix(c & _M64)))
    return next(zone for bound, zone in _ZONES if u < bound)


_TEXT_PARTS = (
    "self-test passed",
    "filter differential pressure rising",
    "lubrication cycle completed",
    "seal temperature within limits",
    "firmware watchdog reset recovered",
    "operator acknowledged warning",
)


def _text(m: VarModel, t_s: int) -> str:
    """A diagnostic log line, steady per hour: state, a finding and a warning count."""
    h = _hour_hash(m, t_s // 3600) ^ m.key
    state = _state(m, t_s)
    finding = _TEXT_PARTS[mix(h) % len(_TEXT_PARTS)]
    warnings = (mix(h ^ 0x3131) >> 8) % 4
    text = (
        f"{format_time(t_s // 3600 * 3_600_000)} {state}: {finding}; "
        f"{warnings} warning(s) in the last hour; firmware 2.{(m.key >> 8) % 10}.{(m.key >> 16) % 20}"
    )
    return text[: m.spec.length] if m.spec.length else text


def _clamp_int(value: float, data_type: str) -> int:
    lo, hi = INT32 if data_type == "INT" else INT64
    return max(lo, min(hi, int(round(value))))


@lru_cache(maxsize=4096)
def chunk_values(m: VarModel, c: int) -> tuple[list[Any], tuple[int, ...] | None]:
    """All values of chunk ``c`` (samples ``c*C .. c*C+C-1``), gaps not applied, and its quality codes."""
    return _compute_chunk(m, c)


def _compute_chunk(m: VarModel, c: int) -> tuple[list[Any], tuple[int, ...] | None]:
    size = m.chunk
    h = _chunk_hash(m, c)
    pat = pattern(size, h % PATTERNS)
    qcs = pat.qcs if m.spec.quality_code else None
    first = c * size
    period_s = m.period_ms // 1000
    dtype = m.spec.data_type.upper()
    if m.kind == "noise":
        level = _level(m, (first + size / 2) * period_s)
        scale = m.scale
        values: list[Any] = [level + scale * p for p in pat.values]
        spike = _spike(m, h, size)
        if spike is not None:
            k, sign = spike
            values[k] = min(m.hi, max(m.lo, values[k] + sign * (3.0 * m.amp + 8.0 * m.scale)))
        if dtype != "DOUBLE":
            values = [_clamp_int(v, dtype) for v in values]
        return values, qcs
    times = [(first + k) * period_s for k in range(size)]
    if m.kind == "counter":
        base = 1000.0 + 10_000.0 * unit_float(m.key)
        if dtype == "DOUBLE":
            return [base + m.rate_per_s * t for t in times], qcs
        return [_clamp_int(math.floor(base + m.rate_per_s * t), dtype) for t in times], qcs
    if m.kind == "batch":
        return [_clamp_int(math.floor(1 + m.rate_per_s * t) % 1_000_000, dtype) for t in times], qcs
    if m.kind == "bool":
        return [_running(m, t) for t in times], qcs
    if m.kind == "alarm":
        return [_zone(m, c) == "D"] * size, qcs
    if m.kind == "zone":
        return [_zone(m, c)] * size, qcs
    if m.kind == "state":
        return [_state(m, t) for t in times], qcs
    if m.kind == "text":
        return [_text(m, t) for t in times], qcs
    # TIMESTAMP: when the current hour began (e.g. "last state change").
    return [format_time(t // 3600 * 3_600_000) for t in times], qcs


def _spike(m: VarModel, h: int, size: int) -> tuple[int, float] | None:
    r = mix(h ^ 0x5A5A)
    if r % 1000 >= SPIKE_PER_MILLE:
        return None
    return (r >> 12) % size, (1.0 if (r >> 40) & 1 else -1.0)


@lru_cache(maxsize=65536)
def chunk_stats(m: VarModel, c: int) -> Stats:
    """Statistics of a whole chunk (gaps not applied): O(1) for plain noise chunks."""
    size = m.chunk
    first_t = c * size * m.period_ms
    h = _chunk_hash(m, c)
    if m.kind == "noise" and m.spec.data_type.upper() == "DOUBLE" and _spike(m, h, size) is None:
        pat = pattern(size, h % PATTERNS)
        level = _level(m, (c * size + size / 2) * (m.period_ms // 1000))
        scale = m.scale
        s = Stats()
        s.n = size
        s.total = level * size + scale * pat.total
        s.mean = s.total / size
        s.m2 = scale * scale * pat.m2
        s.min, s.min_t = level + scale * pat.values[pat.min_k], first_t + pat.min_k * m.period_ms
        s.max, s.max_t = level + scale * pat.values[pat.max_k], first_t + pat.max_k * m.period_ms
        s.first, s.first_t = level + scale * pat.values[0], first_t
        s.last, s.last_t = level + scale * pat.values[-1], first_t + (size - 1) * m.period_ms
        if m.spec.quality_code:
            s.uncertain, s.bad = pat.uncertain, pat.bad
        s.good = size - s.uncertain - s.bad
        return s
    values, qcs = chunk_values(m, c)
    times = [first_t + k * m.period_ms for k in range(size)]
    return stats_of(times, values, qcs)


# -------------------------------------------------------------------------------------------- aspects


@dataclass(slots=True)
class Block:
    """Records as columns: ``times`` (epoch ms), ``values[name]`` and ``qcs[name]`` (variables with a
    quality code) parallel to it. Every record of a block carries every column (synthetic records)."""

    times: list[int]
    values: dict[str, list[Any]]
    qcs: dict[str, list[int]]


class AspectSignal:
    """The synthetic records of one (asset, aspect): all variables on one grid, with shared gaps."""

    def __init__(
        self, seed: int, asset_id: str, aspect: str, variables: Sequence[VariableSpec], period_s: int
    ) -> None:
        if period_s < 1:
            raise ValueError("sample period must be at least one second")
        self.period_s = int(period_s)
        self.period_ms = self.period_s * 1000
        self.chunk = max(1, CHUNK_TARGET_S // self.period_s)
        self.chunk_ms = self.chunk * self.period_ms
        self.variables = list(variables)
        self.models = {v.name: _model(seed, asset_id, aspect, v, self.period_s) for v in self.variables}
        self._gap_key = text_hash(seed, asset_id, aspect, "outage")
        # Chunks per outage block: about one day.
        self._block = max(1, 86_400 // (self.chunk * self.period_s))

    # -- gaps

    def in_gap(self, c: int) -> bool:
        """Whether chunk ``c`` lies in an outage (no records at all)."""
        return _chunk_in_gap(self._gap_key, self._block, c)

    # -- single samples

    def record_at(self, i: int) -> dict[str, Any] | None:
        """The record of grid index ``i`` (values and ``<var>_qc``), or None inside a gap."""
        c, k = divmod(i, self.chunk)
        if self.in_gap(c):
            return None
        rec: dict[str, Any] = {}
        for name, m in self.models.items():
            values, qcs = chunk_values(m, c)
            rec[name] = values[k]
            if qcs is not None:
                rec[name + "_qc"] = qcs[k]
        return rec

    def indices(self, from_ms: int, to_ms: int) -> range:
        """Grid indices with time in (from_ms, to_ms]."""
        lo = from_ms // self.period_ms + 1
        hi = to_ms // self.period_ms
        return range(lo, hi + 1)

    def records(self, from_ms: int, to_ms: int, descending: bool = False) -> Iterator[tuple[int, dict]]:
        """Lazily yield ``(epoch_ms, record)`` for grid times in (from_ms, to_ms], skipping gaps.

        The same records as ``record_at`` gives, built chunk by chunk (one cache look-up per variable
        and chunk, not per sample): a 1 Hz aspect serves 86 400 records a day.
        """
        idx = self.indices(from_ms, to_ms)
        if not idx:
            return
        chunk = self.chunk
        period_ms = self.period_ms
        first_i, last_i = idx[0], idx[-1]
        chunks = range(first_i // chunk, last_i // chunk + 1)
        names = [(name, name + "_qc", m) for name, m in self.models.items()]
        for c in reversed(chunks) if descending else chunks:
            if self.in_gap(c):
                continue
            start = c * chunk
            columns = [(name, qc_name, *chunk_values(m, c)) for name, qc_name, m in names]
            ks = range(max(first_i, start) - start, min(last_i, start + chunk - 1) - start + 1)
            for k in reversed(ks) if descending else ks:
                rec: dict[str, Any] = {}
                for name, qc_name, values, qcs in columns:
                    rec[name] = values[k]
                    if qcs is not None:
                        rec[qc_name] = qcs[k]
                yield (start + k) * period_ms, rec

    def columns(
        self, from_ms: int, to_ms: int, limit: int, descending: bool = False, names: Sequence[str] = ()
    ) -> Block:
        """Up to ``limit`` records of (from_ms, to_ms] as columns: the records ``records`` yields, first
        ones first (newest first when ``descending``), built by slicing whole chunks (no dict per record).

        ``names``: the variables wanted, in order (empty: all, in the aspect's order).
        """
        block = Block([], {}, {})
        wanted = [(n, self.models[n]) for n in names] if names else list(self.models.items())
        for name, m in wanted:
            block.values[name] = []
            if m.spec.quality_code:
                block.qcs[name] = []
        self._fill(block, from_ms, to_ms, limit, descending, wanted)
        return block

    def _fill(
        self,
        block: Block,
        from_ms: int,
        to_ms: int,
        limit: int,
        descending: bool,
        wanted: Sequence[tuple[str, VarModel]],
    ) -> None:
        """Append up to ``limit - len(block)`` records of (from_ms, to_ms] to ``block``."""
        idx = self.indices(from_ms, to_ms)
        if not idx or len(block.times) >= limit:
            return
        chunk = self.chunk
        period_ms = self.period_ms
        first_i, last_i = idx[0], idx[-1]
        chunks = range(first_i // chunk, last_i // chunk + 1)
        times = block.times
        for c in reversed(chunks) if descending else chunks:
            if self.in_gap(c):
                continue
            start = c * chunk
            a = max(first_i, start) - start
            b = min(last_i, start + chunk - 1) - start + 1
            room = limit - len(times)
            if b - a > room:
                if descending:
                    a = b - room
                else:
                    b = a + room
            if descending:
                times.extend(range((start + b - 1) * period_ms, (start + a - 1) * period_ms, -period_ms))
            else:
                times.extend(range((start + a) * period_ms, (start + b) * period_ms, period_ms))
            for name, m in wanted:
                values, qcs = chunk_values(m, c)
                if descending:
                    block.values[name].extend(reversed(values[a:b]))
                    if qcs is not None:
                        block.qcs[name].extend(reversed(qcs[a:b]))
                else:
                    block.values[name].extend(values[a:b])
                    if qcs is not None:
                        block.qcs[name].extend(qcs[a:b])
            if len(times) >= limit:
                return

    def latest(self, at_ms: int, floor_ms: int | None = None) -> tuple[int, dict] | None:
        """The newest record at or before ``at_ms`` (searching back to ``floor_ms``, default 30 days)."""
        floor = at_ms - 30 * DAY_MS if floor_ms is None else floor_ms
        return next(self.records(floor, at_ms, descending=True), None)

    # -- statistics

    def stats(self, name: str, start_ms: int, end_ms: int) -> Stats:
        """Statistics of variable ``name`` over grid times in [start_ms, end_ms), gaps applied."""
        m = self.models[name]
        out = Stats()
        if end_ms <= start_ms:
            return out
        first_i = -(-start_ms // self.period_ms)
        last_i = -(-end_ms // self.period_ms) - 1
        if last_i < first_i:
            return out
        chunk = self.chunk
        c0, c1 = first_i // chunk, last_i // chunk
        # Whole chunks [ca, cb); partial chunks at either end are computed sample by sample.
        ca = c0 if first_i == c0 * chunk else c0 + 1
        cb = c1 + 1 if last_i == c1 * chunk + chunk - 1 else c1
        if ca >= cb:
            for c in range(c0, c1 + 1):
                out.merge(self._partial(m, c, first_i, last_i))
            return out
        if ca > c0:
            out.merge(self._partial(m, c0, first_i, last_i))
        block = self._block
        c = ca
        while c < cb:
            if c % block == 0 and c + block <= cb:
                out.merge(_block_stats(m, self._gap_key, c // block, block))
                c += block
            else:
                stop = min(cb, (c // block + 1) * block)
                out.merge(_chunks_stats(m, self._gap_key, block, c, stop))
                c = stop
        if cb <= c1:
            out.merge(self._partial(m, c1, first_i, last_i))
        return out

    def _partial(self, m: VarModel, c: int, first_i: int, last_i: int) -> Stats:
        if self.in_gap(c):
            return Stats()
        chunk = self.chunk
        lo = max(first_i, c * chunk)
        hi = min(last_i, c * chunk + chunk - 1)
        values, qcs = chunk_values(m, c)
        a, b = lo - c * chunk, hi - c * chunk + 1
        times = [i * self.period_ms for i in range(lo, hi + 1)]
        return stats_of(times, values[a:b], qcs[a:b] if qcs is not None else None)


@lru_cache(maxsize=16384)
def _block_stats(m: VarModel, gap_key: int, block: int, block_len: int) -> Stats:
    """Statistics of one outage block (about a day) of whole chunks, gaps applied; cached."""
    return _chunks_stats(m, gap_key, block_len, block * block_len, (block + 1) * block_len)


def _chunks_stats(m: VarModel, gap_key: int, block_len: int, c_start: int, c_stop: int) -> Stats:
    """Statistics of whole chunks [c_start, c_stop), gaps applied, merged in a tight loop."""
    out = Stats()
    if c_start >= c_stop:
        return out
    size = m.chunk
    period_ms = m.period_ms
    fast = m.kind == "noise" and m.spec.data_type.upper() == "DOUBLE"
    if not fast:
        for c in range(c_start, c_stop):
            if not _chunk_in_gap(gap_key, block_len, c):
                out.merge(chunk_stats(m, c))
        return out
    with_qc = m.spec.quality_code
    scale = m.scale
    scale2 = scale * scale
    half = size / 2
    period_s = period_ms // 1000
    last_k = size - 1
    n = good = unc = bad = 0
    total = mean = m2 = 0.0
    vmin = vmax = first = last = 0.0
    tmin = tmax = tfirst = tlast = 0
    for c in range(c_start, c_stop):
        if _chunk_in_gap(gap_key, block_len, c):
            continue
        h = _chunk_hash(m, c)
        if _spike(m, h, size) is not None:
            s = chunk_stats(m, c)
            c_n, c_total, c_mean, c_m2 = s.n, s.total, s.mean, s.m2
            c_min, c_tmin, c_max, c_tmax = s.min, s.min_t, s.max, s.max_t
            c_first, c_last, c_unc, c_bad = s.first, s.last, s.uncertain, s.bad
        else:
            pat = pattern(size, h % PATTERNS)
            level = _level(m, (c * size + half) * period_s)
            pv = pat.values
            c_n = size
            c_total = level * size + scale * pat.total
            c_mean = c_total / size
            c_m2 = scale2 * pat.m2
            t0 = c * size * period_ms
            c_min, c_tmin = level + scale * pv[pat.min_k], t0 + pat.min_k * period_ms
            c_max, c_tmax = level + scale * pv[pat.max_k], t0 + pat.max_k * period_ms
            c_first, c_last = level + scale * pv[0], level + scale * pv[last_k]
            c_unc, c_bad = (pat.uncertain, pat.bad) if with_qc else (0, 0)
        t_first = c * size * period_ms
        if n == 0:
            n, total, mean, m2 = c_n, c_total, c_mean, c_m2
            vmin, tmin, vmax, tmax = c_min, c_tmin, c_max, c_tmax
            first, tfirst = c_first, t_first
        else:
            nn = n + c_n
            delta = c_mean - mean
            m2 += c_m2 + delta * delta * n * c_n / nn
            mean += delta * c_n / nn
            n = nn
            total += c_total
            if c_min < vmin:
                vmin, tmin = c_min, c_tmin
            if c_max > vmax:
                vmax, tmax = c_max, c_tmax
        last, tlast = c_last, t_first + last_k * period_ms
        unc += c_unc
        bad += c_bad
        good += c_n - c_unc - c_bad
    if n:
        out.n, out.total, out.mean, out.m2 = n, total, mean, m2
        out.good, out.uncertain, out.bad = good, unc, bad
        out.min, out.min_t, out.max, out.max_t = vmin, tmin, vmax, tmax
        out.first, out.first_t, out.last, out.last_t = first, tfirst, last, tlast
    return out


def _chunk_in_gap(gap_key: int, block_len: int, c: int) -> bool:
    block, pos = divmod(c, block_len)
    window = _outage(gap_key, block, block_len)
    return window is not None and window[0] <= pos < window[1]


@lru_cache(maxsize=8192)
def _outage(gap_key: int, block: int, block_len: int) -> tuple[int, int] | None:
    h = mix(gap_key ^ mix(block & _M64))
    if h % 1000 >= OUTAGE_PER_MILLE:
        return None
    length = 1 + (h >> 16) % 9
    if length >= block_len:
        length = max(1, block_len // 4)
    start = (h >> 32) % max(1, block_len - length)
    return start, start + length


# ------------------------------------------------------------------------------------------- overlay


class Series:
    """Synthetic signal + written records + deleted ranges, as one time-ordered source.

    ``writes`` maps epoch ms to a record (variables and ``<var>_qc`` keys, no ``_time``); a written record
    fully replaces the synthetic one at the same time. ``deleted`` holds ``(from_ms exclusive, to_ms
    inclusive)`` ranges in which synthetic records no longer exist (deleted writes are removed from
    ``writes`` by the caller). Synthetic records exist only up to ``now_ms``.
    """

    def __init__(
        self,
        signal: AspectSignal,
        writes: Mapping[int, dict[str, Any]] | None,
        deleted: Sequence[tuple[int, int]] | None,
        now_ms: int,
    ) -> None:
        self.signal = signal
        self.writes = dict(writes or {})
        self.write_times = sorted(self.writes)
        self.deleted = _merge_ranges(deleted or [])
        self.now_ms = now_ms

    def _windows(self, from_ms: int, to_ms: int) -> list[tuple[int, int]]:
        """(from, to] windows of the synthetic signal inside (from_ms, min(to_ms, now)] minus deletions."""
        to_ms = min(to_ms, self.now_ms)
        out: list[tuple[int, int]] = []
        cur = from_ms
        for a, b in self.deleted:
            if b <= cur:
                continue
            if a >= to_ms:
                break
            if a > cur:
                out.append((cur, a))
            cur = max(cur, b)
        if cur < to_ms:
            out.append((cur, to_ms))
        return out

    def _synthetic(self, from_ms: int, to_ms: int, descending: bool) -> Iterator[tuple[int, dict]]:
        windows = self._windows(from_ms, to_ms)
        if descending:
            windows.reverse()
        writes = self.writes
        for a, b in windows:
            for t, rec in self.signal.records(a, b, descending):
                if t not in writes:
                    yield t, rec

    def _written(self, from_ms: int, to_ms: int, descending: bool) -> Iterator[tuple[int, dict]]:
        lo = bisect.bisect_right(self.write_times, from_ms)
        hi = bisect.bisect_right(self.write_times, to_ms)
        times = self.write_times[lo:hi]
        if descending:
            times.reverse()
        for t in times:
            yield t, self.writes[t]

    def records(self, from_ms: int, to_ms: int, descending: bool = False) -> Iterator[tuple[int, dict]]:
        """Lazily yield ``(epoch_ms, record)`` for times in (from_ms, to_ms], ascending or descending."""
        if to_ms <= from_ms:
            return iter(())
        if not self.writes:
            return self._synthetic(from_ms, to_ms, descending)
        sign = -1 if descending else 1
        return heapq.merge(
            self._synthetic(from_ms, to_ms, descending),
            self._written(from_ms, to_ms, descending),
            key=lambda item: sign * item[0],
        )

    def columns(
        self, from_ms: int, to_ms: int, limit: int, descending: bool = False, names: Sequence[str] = ()
    ) -> Block | None:
        """The first ``limit`` records of ``records(from_ms, to_ms, descending)`` as columns of
        ``names`` (empty: all variables), or None when written records fall in the range (their
        records may lack variables: use ``records``)."""
        if bisect.bisect_right(self.write_times, to_ms) > bisect.bisect_right(self.write_times, from_ms):
            return None
        signal = self.signal
        wanted = [(n, signal.models[n]) for n in names] if names else list(signal.models.items())
        block = Block([], {}, {})
        for name, m in wanted:
            block.values[name] = []
            if m.spec.quality_code:
                block.qcs[name] = []
        if to_ms <= from_ms:
            return block
        windows = self._windows(from_ms, to_ms)
        if descending:
            windows.reverse()
        for a, b in windows:
            signal._fill(block, a, b, limit, descending, wanted)
            if len(block.times) >= limit:
                break
        return block

    def latest(self, at_ms: int, floor_ms: int | None = None) -> tuple[int, dict] | None:
        """The newest record at or before ``at_ms`` (searching back to ``floor_ms``, default 400 days)."""
        floor = at_ms - 400 * DAY_MS if floor_ms is None else floor_ms
        return next(self.records(floor, at_ms, descending=True), None)

    def latest_values(self, names: Sequence[str], newest_ms: int, oldest_ms: int) -> dict[str, tuple]:
        """Per property, the newest ``(epoch_ms, value, qc)`` with ``oldest_ms <= t <= newest_ms``."""
        found: dict[str, tuple] = {}
        wanted = list(names)
        for t, rec in self.records(oldest_ms - 1, newest_ms, descending=True):
            for name in wanted:
                if name not in found and rec.get(name) is not None:
                    found[name] = (t, rec[name], rec.get(name + "_qc"))
            if len(found) == len(wanted):
                break
        return found

    def _dirty_ranges(self, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
        """Chunk-aligned [a, b) ranges in [start_ms, end_ms) touched by writes, deletions or the future."""
        span = self.signal.chunk_ms
        out: list[tuple[int, int]] = []
        lo = bisect.bisect_left(self.write_times, start_ms)
        hi = bisect.bisect_left(self.write_times, end_ms)
        for t in self.write_times[lo:hi]:
            out.append((t // span * span, t // span * span + span))
        for ra, rb in self.deleted:
            if rb >= start_ms and ra < end_ms:
                out.append(((ra + 1) // span * span, -(-(rb + 1) // span) * span))
        if end_ms - 1 > self.now_ms:
            out.append(((self.now_ms + 1) // span * span, end_ms))
        clipped = [(max(a, start_ms), min(b, end_ms)) for a, b in out]
        return _merge_ranges([(a, b) for a, b in clipped if b > a])

    def stats(self, name: str, start_ms: int, end_ms: int) -> Stats:
        """Aggregate statistics of ``name`` over [start_ms, end_ms), from exactly the records served."""
        out = Stats()
        if end_ms <= start_ms:
            return out
        qc_name = name + "_qc"
        cur = start_ms
        for a, b in self._dirty_ranges(start_ms, end_ms) + [(end_ms, end_ms)]:
            if a > cur:
                out.merge(self.signal.stats(name, cur, a))
            if b > a:
                times: list[int] = []
                values: list[float] = []
                qcs: list[int] = []
                for t, rec in self.records(a - 1, b - 1):
                    v = rec.get(name)
                    if v is None or isinstance(v, bool) or not isinstance(v, int | float):
                        continue
                    times.append(t)
                    values.append(v)
                    qcs.append(int(rec.get(qc_name) or 0))
                out.merge(stats_of(times, values, qcs))
            cur = max(cur, b)
        return out


def _merge_ranges(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def merge_ranges(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort and merge overlapping or touching ``(from exclusive, to inclusive)`` ranges."""
    return _merge_ranges(ranges)
