"""Time ranges for the Time series area and ``ihub ts``: what ``--from``/``--to`` and the range box accept.

A time ``T`` is one of:

* ``now``, ``today`` (local midnight), ``yesterday`` (local midnight a day earlier);
* relative to now: ``-24h``, ``-7d``, ``-15min``, ``-90s``, ``-2w``, ``-1y`` (365 days), with an
  optional ``now`` in front (``now-6h``) and spaces allowed (``- 6 h``); ``+1h`` looks ahead;
* ISO 8601 with a zone: ``2024-03-01T10:00:00Z``, ``2024-03-01T10:00+01:00`` (taken as given);
* local wall-clock time without a zone: ``2024-03-01 10:00``, ``2024-03-01T10:00:30``, ``2024-03-01``
  (midnight). A local time that does not exist (skipped by a daylight-saving change) is an error; an
  ambiguous one (repeated hour in autumn) means its first occurrence;
* ``@1709287200`` (epoch seconds).

Everything is returned as aware UTC datetimes rounded down to the millisecond (the storage precision
of IoT Time Series, reference 3.1); the local zone only shapes what the user types and reads.

A range is ``(start, end]`` as IoT Time Series reads it (``from`` exclusive, ``to`` inclusive, 3.1).
Errors are ``RangeError`` (a ``ValueError``) with a message fit to show as is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tui.api import contract as C

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_TIME = EPOCH  # the services store nothing before 1970

# Presets of the range picker, in the order shown: (label, key, length).
PRESETS: tuple[tuple[str, str, timedelta], ...] = (
    ("15 min", "15min", timedelta(minutes=15)),
    ("1 h", "1h", timedelta(hours=1)),
    ("6 h", "6h", timedelta(hours=6)),
    ("24 h", "24h", timedelta(hours=24)),
    ("7 d", "7d", timedelta(days=7)),
    ("30 d", "30d", timedelta(days=30)),
    ("90 d", "90d", timedelta(days=90)),
    ("1 y", "1y", timedelta(days=365)),
)
DEFAULT_LENGTH = timedelta(hours=24)

HELP = (
    "use ISO 8601 (2024-03-01T10:00Z), local 'YYYY-MM-DD HH:MM', relative '-24h', '-7d', '-15min', or 'now'"
)

_UNITS: dict[str, int] = {}
for _names, _seconds in (
    (("s", "sec", "secs", "second", "seconds"), 1),
    (("m", "min", "mins", "minute", "minutes"), 60),
    (("h", "hr", "hrs", "hour", "hours"), 3600),
    (("d", "day", "days"), 86_400),
    (("w", "wk", "week", "weeks"), 7 * 86_400),
    (("y", "yr", "year", "years"), 365 * 86_400),
):
    for _name in _names:
        _UNITS[_name] = _seconds

_RELATIVE = re.compile(r"^(?:now\s*)?([+-])\s*(\d+(?:\.\d+)?)\s*([a-z]+)$")
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ]\s*(\d{1,2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?"
    r"\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)


class RangeError(ValueError):
    """A time or range the user typed that cannot be used; the message says why and what works."""


# ------------------------------------------------------------------------------------------ the zone


def local_zone() -> tzinfo:
    """The machine's zone: ``$TZ``, else ``/etc/localtime``'s IANA name, else the current fixed offset."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    zone = datetime.now().astimezone().tzinfo
    return zone if zone is not None else UTC


def zone_label(tz: tzinfo | None = None, at: datetime | None = None) -> str:
    """``Europe/Berlin (UTC+01:00)``: the zone name and its offset at ``at`` (default now)."""
    tz = tz or local_zone()
    moment = (at or datetime.now(UTC)).astimezone(tz)
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    name = getattr(tz, "key", None) or moment.tzname() or "local"
    return f"{name} (UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"


def to_local(value: datetime, tz: tzinfo | None = None) -> datetime:
    return value.astimezone(tz or local_zone())


def format_local(value: datetime, tz: tzinfo | None = None, *, seconds: bool = False) -> str:
    """``2024-03-01 11:00`` in the local zone (what the range box shows and accepts back)."""
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return to_local(value, tz).strftime(fmt)


def floor_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def to_ms(value: datetime) -> int:
    """Epoch milliseconds of an aware datetime (exact, no float rounding)."""
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=int(ms))


# ------------------------------------------------------------------------------------------ parsing


def _localize(naive: datetime, tz: tzinfo, text: str) -> datetime:
    aware = naive.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != naive:
        raise RangeError(
            f"'{text}' does not exist in {zone_label(tz, aware)}: the clocks skip that hour "
            "(daylight saving time); give a time outside the gap or add a UTC offset"
        )
    return aware.astimezone(UTC)


def parse_time(text: str, *, now: datetime | None = None, tz: tzinfo | None = None) -> datetime:
    """One time ``T`` (see the module doc) as an aware UTC datetime rounded down to the millisecond.

    ``now`` (aware; default the current time) anchors relative forms; ``tz`` (default the local zone)
    reads times without a zone. Raises ``RangeError`` for anything else.
    """
    if not isinstance(text, str) or not text.strip():
        raise RangeError(f"no time given: {HELP}")
    raw = text.strip()
    word = raw.lower()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    zone = tz or local_zone()
    if word == "now":
        return floor_ms(now)
    if word in ("today", "yesterday"):
        date = now.astimezone(zone).date() - timedelta(days=1 if word == "yesterday" else 0)
        return _localize(datetime(date.year, date.month, date.day), zone, raw)
    match = _RELATIVE.match(word)
    if match:
        sign, amount, unit = match.groups()
        if unit not in _UNITS:
            raise RangeError(f"'{raw}': unknown unit '{unit}' (use s, min, h, d, w or y); {HELP}")
        seconds = float(amount) * _UNITS[unit]
        if seconds > C.TS_MAX_RANGE_S * 2:
            raise RangeError(f"'{raw}' is too far from now")
        delta = timedelta(seconds=seconds)
        return floor_ms(now - delta if sign == "-" else now + delta)
    if word.startswith("@"):
        try:
            stamp = float(word[1:])
            return floor_ms(datetime.fromtimestamp(stamp, tz=UTC))
        except (ValueError, OverflowError, OSError):
            raise RangeError(f"'{raw}' is not a valid epoch time in seconds") from None
    match = _DATETIME.match(raw)
    if match:
        year, month, day, hour, minute, second, frac, zone_text = match.groups()
        try:
            naive = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                int((frac or "0").ljust(6, "0")[:6]),
            )
        except ValueError as exc:
            raise RangeError(f"'{raw}' is not a valid date or time ({exc})") from None
        if zone_text is None:
            return floor_ms(_localize(naive, zone, raw))
        if zone_text in ("Z", "z"):
            return floor_ms(naive.replace(tzinfo=UTC))
        digits = zone_text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise RangeError(f"'{raw}' has an invalid UTC offset")
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if zone_text[0] == "-" else 1)
        return floor_ms((naive - offset).replace(tzinfo=UTC))
    raise RangeError(f"cannot read '{raw}' as a time: {HELP}")


# ------------------------------------------------------------------------------------------- ranges


@dataclass(frozen=True)
class TimeRange:
    """``(start, end]`` in UTC, millisecond precision; build with ``parse_range``, ``preset`` or ``of``."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, start: datetime, end: datetime, *, tz: tzinfo | None = None) -> TimeRange:
        """A checked range from aware datetimes (``RangeError`` when empty, reversed or too long).

        ``tz`` only shapes the times quoted in an error message (default the local zone).
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise RangeError("times must carry a zone")
        rng = cls(floor_ms(start.astimezone(UTC)), floor_ms(end.astimezone(UTC)))
        rng.check(tz)
        return rng

    @classmethod
    def from_ms(cls, start_ms: int, end_ms: int) -> TimeRange:
        return cls.of(from_ms(start_ms), from_ms(end_ms))

    def check(self, tz: tzinfo | None = None) -> None:
        if self.start >= self.end:
            raise RangeError(
                f"'from' ({format_local(self.start, tz, seconds=True)}) must be before "
                f"'to' ({format_local(self.end, tz, seconds=True)})"
            )
        if self.start < MIN_TIME:
            raise RangeError("the range starts before 1970-01-01: Insights Hub stores nothing that old")
        if (self.end - self.start).total_seconds() > C.TS_MAX_RANGE_S:
            years = C.TS_MAX_RANGE_S / (365 * 86_400)
            raise RangeError(
                f"the range spans {describe_length(self.end - self.start)}, more than the "
                f"{years:.0f} years ihub reads at once: choose a shorter range"
            )

    @property
    def start_ms(self) -> int:
        return to_ms(self.start)

    @property
    def end_ms(self) -> int:
        return to_ms(self.end)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def contains(self, other: TimeRange) -> bool:
        return self.start <= other.start and other.end <= self.end

    def shifted(self, fraction: float) -> TimeRange:
        """Panned by ``fraction`` of its length (negative: earlier), for ``shift+←/→``."""
        step = timedelta(milliseconds=round(self.duration / timedelta(milliseconds=1) * fraction))
        return TimeRange.of(self.start + step, self.end + step)

    def zoomed(self, factor: float, center: datetime | None = None) -> TimeRange:
        """Scaled by ``factor`` (< 1 zooms in) around ``center`` (default the middle), at least 1 s long."""
        mid = center or self.start + self.duration / 2
        length_ms = max(1000, round(self.duration / timedelta(milliseconds=1) * factor))
        before = (mid - self.start) / self.duration if self.duration else 0.5
        start = mid - timedelta(milliseconds=length_ms * before)
        return TimeRange.of(start, start + timedelta(milliseconds=length_ms))

    def describe(self, tz: tzinfo | None = None) -> str:
        """``2024-03-01 10:00 → 2024-03-02 10:00 Europe/Berlin (UTC+01:00), 24 h``."""
        zone = tz or local_zone()
        return (
            f"{format_local(self.start, zone)} → {format_local(self.end, zone)} "
            f"{zone_label(zone, self.end)}, {describe_length(self.duration)}"
        )


def parse_range(
    from_text: str | None,
    to_text: str | None,
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    default: timedelta = DEFAULT_LENGTH,
) -> TimeRange:
    """``--from``/``--to`` as a checked ``TimeRange``; ``to`` defaults to now, ``from`` to ``to - default``.

    Relative forms are relative to now (``--from -7d --to -1d`` is the week up to yesterday).
    """
    now = floor_ms((now or datetime.now(UTC)).astimezone(UTC))
    end = parse_time(to_text, now=now, tz=tz) if to_text not in (None, "") else now
    start = parse_time(from_text, now=now, tz=tz) if from_text not in (None, "") else end - default
    return TimeRange.of(start, end, tz=tz)


def preset(key: str, *, now: datetime | None = None) -> TimeRange:
    """A preset range ending now: ``15min``, ``1h``, ``6h``, ``24h``, ``7d``, ``30d``, ``90d``, ``1y``."""
    wanted = key.replace(" ", "").lower()
    for label, name, length in PRESETS:
        if wanted in (name, label.replace(" ", "").lower()):
            end = floor_ms((now or datetime.now(UTC)).astimezone(UTC))
            return TimeRange.of(end - length, end)
    names = ", ".join(name for _, name, _ in PRESETS)
    raise RangeError(f"unknown preset '{key}' (presets: {names})")


def describe_length(length: timedelta) -> str:
    """``90 s``, ``15 min``, ``6 h``, ``7 d``, ``1 y 30 d``: compact and exact to the largest units."""
    seconds = int(length.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    if seconds < 2 * 86_400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours} h" + (f" {rest // 60} min" if rest >= 60 else "")
    days, rest = divmod(seconds, 86_400)
    if days >= 365:
        years, days = divmod(days, 365)
        return f"{years} y" + (f" {days} d" if days else "")
    return f"{days} d" + (f" {rest // 3600} h" if rest >= 3600 else "")
