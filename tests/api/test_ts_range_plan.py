"""Time ranges (what ``T`` accepts) and the choice of source, interval and splits (issue 9, 1-2)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tui.api import contract as C
from tui.api.ts.plan import (
    AUTO_LADDER,
    Interval,
    PlanError,
    aggregate_chunks,
    choose_source,
    parse_force,
    parse_interval,
    raw_subranges,
    summary,
)
from tui.api.ts.timerange import (
    PRESETS,
    RangeError,
    TimeRange,
    describe_length,
    parse_range,
    parse_time,
    preset,
    zone_label,
)

NOW = datetime(2024, 3, 31, 12, 0, 0, 123456, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def t(text: str, tz=BERLIN) -> datetime:
    return parse_time(text, now=NOW, tz=tz)


# ------------------------------------------------------------------------------------ parsing T


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", datetime(2024, 3, 31, 12, 0, 0, 123000, tzinfo=UTC)),
        ("NOW", datetime(2024, 3, 31, 12, 0, 0, 123000, tzinfo=UTC)),
        ("-24h", datetime(2024, 3, 30, 12, 0, 0, 123000, tzinfo=UTC)),
        ("-7d", datetime(2024, 3, 24, 12, 0, 0, 123000, tzinfo=UTC)),
        ("-15min", datetime(2024, 3, 31, 11, 45, 0, 123000, tzinfo=UTC)),
        ("- 6 h", datetime(2024, 3, 31, 6, 0, 0, 123000, tzinfo=UTC)),
        ("now-90s", datetime(2024, 3, 31, 11, 58, 30, 123000, tzinfo=UTC)),
        ("-2w", datetime(2024, 3, 17, 12, 0, 0, 123000, tzinfo=UTC)),
        ("+1h", datetime(2024, 3, 31, 13, 0, 0, 123000, tzinfo=UTC)),
        # ISO 8601 with a zone: as given.
        ("2024-03-01T10:00:00Z", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("2024-03-01T10:00:00.5Z", datetime(2024, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2024-03-01T10:00:00.123456Z", datetime(2024, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2024-03-01T10:00+01:00", datetime(2024, 3, 1, 9, tzinfo=UTC)),
        ("2024-03-01T10:00-0500", datetime(2024, 3, 1, 15, tzinfo=UTC)),
        ("2024-03-01Z", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-03-01T10Z", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("@1709287200", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        # Local wall-clock time (Berlin: UTC+1 in winter, UTC+2 in summer).
        ("2024-03-01 10:00", datetime(2024, 3, 1, 9, tzinfo=UTC)),
        ("2024-07-01 10:00", datetime(2024, 7, 1, 8, tzinfo=UTC)),
        ("2024-07-01T10:00:30", datetime(2024, 7, 1, 8, 0, 30, tzinfo=UTC)),
        ("2024-03-01", datetime(2024, 2, 29, 23, tzinfo=UTC)),
        ("today", datetime(2024, 3, 30, 23, tzinfo=UTC)),  # local midnight, still winter time (UTC+1)
        ("yesterday", datetime(2024, 3, 29, 23, tzinfo=UTC)),
    ],
)
def test_parse_time_forms(text: str, expected: datetime) -> None:
    assert t(text) == expected
    assert t(text).tzinfo is UTC


def test_local_time_follows_the_given_zone() -> None:
    assert t("2024-03-01 10:00", NEW_YORK) == datetime(2024, 3, 1, 15, tzinfo=UTC)
    assert t("2024-03-01T10:00Z", NEW_YORK) == t("2024-03-01T10:00Z", BERLIN)  # zoned: zone-independent


def test_ambiguous_autumn_hour_means_the_first() -> None:
    assert t("2024-10-27 02:30") == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no time given"),
        ("yesterday noon", "cannot read"),
        ("-3x", "unknown unit 'x'"),
        ("2024-13-01", "not a valid date"),
        ("2024-02-30 10:00", "not a valid date"),
        ("2024-03-01T10:00+25:00", "invalid UTC offset"),
        ("2024-03-31 02:30", "does not exist"),  # skipped by the spring change in Berlin
        ("@abc", "epoch"),
        ("-100000y", "too far"),
    ],
)
def test_malformed_times_are_clear_errors(text: str, words: str) -> None:
    with pytest.raises(RangeError) as err:
        t(text)
    assert words in str(err.value)
    if words == "cannot read":
        assert "ISO 8601" in str(err.value) and "-24h" in str(err.value)


def test_parse_range_defaults_and_errors() -> None:
    rng = parse_range(None, None, now=NOW, tz=BERLIN)
    assert rng.end == datetime(2024, 3, 31, 12, 0, 0, 123000, tzinfo=UTC)
    assert rng.duration == timedelta(hours=24)
    rng = parse_range("-7d", "-1d", now=NOW, tz=BERLIN)
    assert rng.duration == timedelta(days=6)
    with pytest.raises(RangeError, match="must be before"):
        parse_range("2024-03-02 10:00", "2024-03-01 10:00", now=NOW, tz=BERLIN)
    with pytest.raises(RangeError, match="must be before") as err:
        parse_range("now", "now", now=NOW, tz=BERLIN)
    assert "2024-03-31 14:00:00" in str(err.value)  # quoted in the user's zone
    with pytest.raises(RangeError, match="more than the 10 years"):
        parse_range("1990-01-01Z", "2024-01-01Z", now=NOW, tz=BERLIN)
    with pytest.raises(RangeError, match="before 1970"):
        parse_range("1969-12-01Z", "1970-02-01Z", now=NOW, tz=BERLIN)


def test_presets_cover_the_issue_list() -> None:
    assert [key for _, key, _ in PRESETS] == ["15min", "1h", "6h", "24h", "7d", "30d", "90d", "1y"]
    for _label, key, length in PRESETS:
        rng = preset(key, now=NOW)
        assert rng.duration == length and rng.end == parse_time("now", now=NOW)
    assert preset("15 min", now=NOW).duration == timedelta(minutes=15)
    with pytest.raises(RangeError, match="unknown preset"):
        preset("2h", now=NOW)


def test_zone_label_and_lengths() -> None:
    assert zone_label(BERLIN, datetime(2024, 1, 1, tzinfo=UTC)) == "Europe/Berlin (UTC+01:00)"
    assert zone_label(BERLIN, datetime(2024, 7, 1, tzinfo=UTC)) == "Europe/Berlin (UTC+02:00)"
    assert zone_label(NEW_YORK, datetime(2024, 1, 1, tzinfo=UTC)) == "America/New_York (UTC-05:00)"
    rng = preset("24h", now=NOW)
    assert rng.describe(BERLIN) == "2024-03-30 13:00 → 2024-03-31 14:00 Europe/Berlin (UTC+02:00), 24 h"
    assert [describe_length(timedelta(seconds=s)) for s in (90, 900, 6 * 3600, 7 * 86400, 400 * 86400)] == [
        "90 s",
        "15 min",
        "6 h",
        "7 d",
        "1 y 35 d",
    ]


def test_zoom_and_pan_keep_the_range_valid() -> None:
    rng = preset("24h", now=NOW)
    inner = rng.zoomed(0.5)
    assert inner.duration == timedelta(hours=12) and rng.contains(inner)
    assert inner.start - rng.start == rng.end - inner.end
    assert rng.zoomed(2).duration == timedelta(hours=48)
    assert rng.shifted(-0.25).end == rng.end - timedelta(hours=6)
    assert rng.zoomed(1e-9).duration == timedelta(seconds=1)


# ------------------------------------------------------------------------------------- intervals


def test_parse_interval_allowed_and_refused() -> None:
    assert parse_interval("1h") == Interval(1, "hour")
    assert parse_interval("2min") == Interval(2, "minute")
    assert parse_interval("30 minutes") == Interval(30, "minute")
    assert parse_interval("1d") == Interval(1, "day")
    assert parse_interval("hour") == Interval(1, "hour")
    assert parse_interval("3mo") == Interval(3, "month")
    assert parse_interval("2w").label == "2 w" and parse_interval("6h").spec == "6h"
    with pytest.raises(PlanError, match=r"even number of minutes.*nearest: 14min or 16min"):
        parse_interval("15min")  # not a multiple of the pre-computed 2 minutes (reference 4)
    with pytest.raises(PlanError, match="1 to 24 hours"):
        parse_interval("25h")
    with pytest.raises(PlanError, match="unknown interval unit"):
        parse_interval("5 fortnights")
    with pytest.raises(PlanError, match="cannot read"):
        parse_interval("1.5h")
    assert parse_force(None) == "auto" and parse_force("auto") == "auto" and parse_force("RAW") == "raw"
    assert parse_force("1h") == Interval(1, "hour")


def test_auto_ladder_is_allowed_and_sorted() -> None:
    for interval in AUTO_LADDER:
        assert interval.value in C.AGG_INTERVALS[interval.unit]
    assert [i.seconds for i in AUTO_LADDER] == sorted({i.seconds for i in AUTO_LADDER})


# ------------------------------------------------------------------------------------- the choice


def test_24h_of_1hz_is_raw_on_a_wide_chart_and_aggregated_on_a_narrow_one() -> None:
    rng = preset("24h", now=NOW)
    wide = choose_source(rng, 150, rate_hz=1.0)
    assert (wide.source, wide.estimate) == ("raw", 86_400)
    assert summary(wide, 86_400, 0.4231) == "raw, 86 400 points in 0.42 s"
    narrow = choose_source(rng, 80, rate_hz=1.0)
    assert narrow.source == "aggregates" and narrow.interval == Interval(6, "minute")
    assert narrow.estimate == 240


def test_30_days_hourly_summary() -> None:
    plan = choose_source(preset("30d", now=NOW), 180, rate_hz=1.0)
    assert plan.interval == Interval(2, "hour") and plan.estimate == 360
    plan = choose_source(preset("30d", now=NOW), 360, rate_hz=1.0)
    assert plan.interval == Interval(1, "hour")
    assert summary(plan, 720, 0.12) == "aggregates 1 h, 720 buckets in 0.12 s"
    assert summary(plan, 720, cached=True) == "aggregates 1 h, 720 buckets (cached)"


@pytest.mark.parametrize("width", [40, 80, 150, 237])
@pytest.mark.parametrize("days", [0.5, 1, 3, 7, 30, 90, 365, 1000])
def test_aggregates_use_the_coarsest_interval_with_two_points_per_column(width: int, days: float) -> None:
    rng = TimeRange.of(NOW - timedelta(days=days), NOW)
    plan = choose_source(rng, width, rate_hz=10.0)
    needed = 2 * width
    if plan.source == "raw":
        assert rng.seconds * 10 <= width * 600 or rng.seconds / AUTO_LADDER[0].seconds < needed
        return
    assert plan.interval is not None
    assert rng.seconds / plan.interval.seconds >= needed  # at least two buckets per column
    coarser = [i for i in AUTO_LADDER if i.seconds > plan.interval.seconds]
    if coarser:
        assert rng.seconds / coarser[0].seconds < needed  # the next coarser one would give fewer


def test_short_ranges_and_unknown_rates_are_raw() -> None:
    rng = preset("1h", now=NOW)
    assert choose_source(rng, 150, rate_hz=None).source == "raw"
    assert choose_source(rng, 150, rate_hz=100.0).source == "raw"  # 360 000 points but no interval fits
    assert choose_source(rng, 150, rate_hz=2000.0).source == "aggregates"  # 7.2 M: more than memory holds
    assert choose_source(rng, 150, rate_hz=2000.0, streaming=True).source == "raw"  # streamed: fine
    long = preset("90d", now=NOW)
    assert choose_source(long, 150, rate_hz=None).source == "aggregates"
    assert choose_source(long, 150, rate_hz=0.001, known_count=100).source == "raw"


def test_forced_source_and_interval() -> None:
    rng = preset("30d", now=NOW)
    forced = choose_source(rng, 150, rate_hz=1.0, force=Interval(1, "day"))
    assert (forced.source, forced.estimate, forced.forced) == ("aggregates", 30, True)
    raw = choose_source(preset("24h", now=NOW), 80, rate_hz=1.0, force="raw")
    assert raw.source == "raw" and raw.forced
    with pytest.raises(PlanError, match="more than the 5 000 000 a chart holds"):
        choose_source(preset("90d", now=NOW), 150, rate_hz=1.0, force="raw")
    streamed = choose_source(preset("90d", now=NOW), 150, rate_hz=1.0, force="raw", streaming=True)
    assert streamed.source == "raw" and streamed.estimate == 7_776_000


# ----------------------------------------------------------------------------------------- splits


@pytest.mark.parametrize("estimate", [0, 1, 1799, 1800, 86_400, 10**9])
def test_raw_subranges_partition_the_range(estimate: int) -> None:
    start, end = 1_709_000_000_000, 1_709_086_400_000
    bounds = raw_subranges(start, end, estimate)
    assert bounds[0] == start and bounds[-1] == end
    assert all(b < c for b, c in zip(bounds, bounds[1:], strict=False))
    assert len(bounds) - 1 == max(1, min(4096, math.ceil(estimate / 1800)))
    assert raw_subranges(0, 3, 10**6) == [0, 1, 2, 3]  # never below one millisecond


@pytest.mark.parametrize(
    ("interval", "days"),
    [
        (Interval(2, "minute"), 3.5),
        (Interval(6, "minute"), 1),
        (Interval(1, "hour"), 30),
        (Interval(3, "hour"), 20),
        (Interval(1, "day"), 365),
        (Interval(1, "week"), 400),
        (Interval(1, "month"), 365),
    ],
)
def test_aggregate_chunks_respect_the_range_limits(interval: Interval, days: float) -> None:
    rng = TimeRange.of(
        datetime(2023, 5, 17, 13, 7, tzinfo=UTC) - timedelta(days=days),
        datetime(2023, 5, 17, 13, 7, tzinfo=UTC),
    )
    chunks = list(aggregate_chunks(rng, interval))
    assert chunks[0].start == rng.start and chunks[-1].end == rng.end
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.end == b.start  # contiguous, no overlap
        if interval.unit != "month":
            assert b.start_ms % interval.ms == (
                0 if interval.unit != "week" else 4 * 86_400_000 % interval.ms
            )
    limit = C.AGG_RANGE_LIMIT_S[interval.unit] * 1000
    for chunk in chunks:
        widened = _ceil(interval, chunk.end_ms) - interval.floor_ms(chunk.start_ms)
        assert widened <= (limit if interval.unit != "month" else 92 * 86_400_000)
    assert len(chunks) <= math.ceil(rng.seconds * 1000 / limit) + 1


def _ceil(interval: Interval, t_ms: int) -> int:
    floor = interval.floor_ms(t_ms)
    return floor if floor == t_ms else interval.next_ms(floor)


def test_month_boundaries_are_calendar_months() -> None:
    month = Interval(1, "month")
    start = month.floor_ms(datetime(2024, 2, 17, tzinfo=UTC).timestamp() * 1000 // 1)
    assert start == datetime(2024, 2, 1, tzinfo=UTC).timestamp() * 1000
    assert month.next_ms(int(start)) == datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000
    quarter = Interval(3, "month")
    assert (
        quarter.next_ms(quarter.floor_ms(int(start))) == datetime(2024, 4, 1, tzinfo=UTC).timestamp() * 1000
    )
