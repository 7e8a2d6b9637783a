"""The synthetic signal: deterministic, realistic, typed, with gaps, anomalies and quality codes."""

from __future__ import annotations

import math
import statistics

import pytest

from tui.sim.signals import (
    DAY_MS,
    AspectSignal,
    Series,
    TimeFormatError,
    VariableSpec,
    format_time,
    format_time_short,
    parse_time,
    quality_class,
)

NOW = parse_time("2024-05-01T12:00:00Z")
WEEK_MS = 7 * DAY_MS
ASSET_A = "0123456789abcdef0123456789abcdef"
ASSET_B = "fedcba9876543210fedcba9876543210"

PUMP = [
    VariableSpec("flow", "DOUBLE", "m3/h", True),
    VariableSpec("pressure", "DOUBLE", "bar", True),
    VariableSpec("running", "BOOLEAN"),
]
MIXED = [
    VariableSpec("speed", "DOUBLE", "rpm"),
    VariableSpec("batch", "INT"),
    VariableSpec("level", "INT", "%"),
    VariableSpec("itemCount", "LONG", "pcs"),
    VariableSpec("energy", "DOUBLE", "kWh"),
    VariableSpec("running", "BOOLEAN"),
    VariableSpec("state", "STRING", length=32),
    VariableSpec("changed", "TIMESTAMP"),
]


def pump(asset: str = ASSET_A, seed: int = 42, period: int = 60) -> AspectSignal:
    return AspectSignal(seed, asset, "PumpData", PUMP, period)


def test_same_inputs_give_the_same_series() -> None:
    a = list(pump().records(NOW - DAY_MS, NOW))
    b = list(pump().records(NOW - DAY_MS, NOW))
    assert a == b
    assert len(a) > 1000


def test_assets_and_seeds_differ() -> None:
    base = [r["flow"] for _t, r in pump().records(NOW - 3_600_000, NOW)]
    other_asset = [r["flow"] for _t, r in pump(ASSET_B).records(NOW - 3_600_000, NOW)]
    other_seed = [r["flow"] for _t, r in pump(seed=7).records(NOW - 3_600_000, NOW)]
    assert base != other_asset
    assert base != other_seed


def test_records_sit_on_the_sample_grid_with_exclusive_from_and_inclusive_to() -> None:
    sig = pump(period=60)
    start = NOW - 3_600_000
    times = [t for t, _r in sig.records(start, NOW)]
    assert all(t % 60_000 == 0 for t in times)
    assert all(start < t <= NOW for t in times)
    expected = [t for t in range(start + 60_000, NOW + 1, 60_000) if sig.record_at(t // 60_000) is not None]
    assert times == expected


def test_descending_is_the_reverse_of_ascending() -> None:
    sig = pump()
    asc = list(sig.records(NOW - DAY_MS, NOW))
    desc = list(sig.records(NOW - DAY_MS, NOW, descending=True))
    assert desc == asc[::-1]


def test_a_week_has_gaps() -> None:
    sig = pump()
    grid = WEEK_MS // 60_000
    records = list(sig.records(NOW - WEEK_MS, NOW))
    missing = grid - len(records)
    # A few short outages: some records missing, but not many (10 to 90 minutes each).
    assert 10 <= missing <= 0.05 * grid
    times = [t for t, _r in records]
    holes = [b - a for a, b in zip(times, times[1:], strict=False) if b - a > 60_000]
    assert holes and all(h >= 10 * 60_000 for h in holes)


def test_quality_codes_are_mostly_good_with_some_uncertain_and_bad() -> None:
    codes = [r["flow_qc"] for _t, r in pump().records(NOW - WEEK_MS, NOW)]
    classes = [quality_class(c) for c in codes]
    assert classes.count(0) / len(classes) > 0.95
    assert classes.count(1) > 0
    assert classes.count(2) > 0
    assert all(c == 0 or 0x40 <= c < 0x100 for c in codes)
    # A variable without qualityCode has no _qc sibling.
    assert all("running_qc" not in r for _t, r in pump().records(NOW - 3_600_000, NOW))


def test_quality_class_uses_the_top_bits() -> None:
    assert [quality_class(c) for c in (0, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0)] == [0, 0, 1, 1, 2, 2, 2]
    assert quality_class(0x80000000) == 2
    assert quality_class(0x40000000) == 1


def test_data_types_are_respected() -> None:
    sig = AspectSignal(42, ASSET_A, "Mixed", MIXED, 60)
    records = [r for _t, r in sig.records(NOW - 2 * DAY_MS, NOW)]
    assert records
    for r in records:
        assert isinstance(r["speed"], float)
        assert isinstance(r["batch"], int) and not isinstance(r["batch"], bool)
        assert -(2**31) <= r["level"] < 2**31 and isinstance(r["level"], int)
        assert isinstance(r["itemCount"], int)
        assert isinstance(r["energy"], float)
        assert isinstance(r["running"], bool)
        assert r["state"] in ("RUNNING", "IDLE", "MAINTENANCE", "FAULT")
        parse_time(r["changed"])
    # Meters and counters never go backwards.
    energy = [r["energy"] for r in records]
    items = [r["itemCount"] for r in records]
    assert energy == sorted(energy) and items == sorted(items) and items[-1] > items[0]
    # Machines are sometimes off, sometimes on; the state follows.
    assert {r["running"] for r in records} == {True, False}
    assert {"RUNNING", "IDLE"} <= {r["state"] for r in records}


def test_values_are_realistic_and_follow_a_daily_cycle() -> None:
    sig = pump()
    flows = [r["flow"] for _t, r in sig.records(NOW - WEEK_MS, NOW)]
    pressures = [r["pressure"] for _t, r in sig.records(NOW - WEEK_MS, NOW)]
    assert 50 < statistics.median(flows) < 200
    assert 3 < statistics.median(pressures) < 10
    assert min(pressures) >= 0
    # Daily cycle: hourly means swing by tens of m3/h; noise: values inside an hour are not constant.
    hourly = [statistics.fmean(flows[i : i + 60]) for i in range(0, 24 * 60, 60)]
    assert max(hourly) - min(hourly) > 20
    assert 0 < statistics.pstdev(flows[:60]) < 10


def test_occasional_spikes_exist() -> None:
    sig = pump()
    model = sig.models["flow"]
    clean_bound = 1.5 * model.amp + 2 * model.scale + 1e-9
    values = [r["flow"] for _t, r in sig.records(NOW - WEEK_MS, NOW)]
    outliers = [v for v in values if abs(v - model.mean) > clean_bound]
    assert 1 <= len(outliers) <= 50


def test_latest_record_at_or_before() -> None:
    sig = pump()
    t, rec = sig.latest(NOW)
    assert t <= NOW and rec == sig.record_at(t // 60_000)
    assert all(tt <= t for tt, _r in sig.records(t - 60_000, NOW)) or t == NOW


def test_stats_match_the_raw_records() -> None:
    sig = AspectSignal(42, ASSET_A, "MotorData", [VariableSpec("temp", "DOUBLE", "C", True)], 10)
    for start, end in [(NOW - DAY_MS, NOW), (NOW - 3 * DAY_MS - 12_345, NOW - 77_777)]:
        stats = sig.stats("temp", start, end)
        raw = list(sig.records(start - 1, end - 1))
        values = [r["temp"] for _t, r in raw]
        assert stats.n == len(raw)
        assert stats.min == min(values) and stats.max == max(values)
        assert stats.min_t == raw[values.index(min(values))][0]
        assert stats.max_t == raw[values.index(max(values))][0]
        assert (stats.first, stats.first_t) == (values[0], raw[0][0])
        assert (stats.last, stats.last_t) == (values[-1], raw[-1][0])
        assert stats.total == pytest.approx(math.fsum(values), rel=1e-12)
        assert math.sqrt(stats.m2 / stats.n) == pytest.approx(statistics.pstdev(values), rel=1e-9)
        classes = [quality_class(r["temp_qc"]) for _t, r in raw]
        assert (stats.good, stats.uncertain, stats.bad) == (
            classes.count(0),
            classes.count(1),
            classes.count(2),
        )


def test_series_overlays_writes_and_deletions() -> None:
    sig = pump()
    grid_t = NOW - 30 * 60_000
    off_grid = grid_t + 500
    writes = {grid_t: {"flow": 1.5, "flow_qc": 0x40}, off_grid: {"pressure": 2.0}}
    deleted = [(NOW - 20 * 60_000, NOW - 10 * 60_000)]
    series = Series(sig, writes, deleted, NOW)
    records = dict(series.records(NOW - 3_600_000, NOW))
    assert records[grid_t] == {"flow": 1.5, "flow_qc": 0x40}  # fully replaced, others NULL
    assert records[off_grid] == {"pressure": 2.0}
    assert not [t for t in records if NOW - 20 * 60_000 < t <= NOW - 10 * 60_000]
    assert NOW - 20 * 60_000 in records or sig.record_at((NOW - 20 * 60_000) // 60_000) is None
    times = list(records)
    assert times == sorted(times)
    desc = [t for t, _r in series.records(NOW - 3_600_000, NOW, descending=True)]
    assert desc == times[::-1]
    # Synthetic data ends at now; written data may lie in the future.
    future = Series(sig, {NOW + 60_000: {"flow": 3.0}}, [], NOW)
    assert [t for t, _r in future.records(NOW - 60_000, NOW + 3_600_000)][-1] == NOW + 60_000
    assert len(list(future.records(NOW, NOW + 3_600_000))) == 1


def test_series_stats_include_writes_and_deletions() -> None:
    sig = pump()
    start, end = NOW - 6 * 3_600_000, NOW - 3_600_000
    writes = {start + 90_500: {"flow": 10_000.0, "flow_qc": 0x80}}
    deleted = [(start + 3_600_000, start + 7_200_000)]
    series = Series(sig, writes, deleted, NOW)
    stats = series.stats("flow", start, end)
    raw = [(t, r) for t, r in series.records(start - 1, end - 1) if "flow" in r]
    assert stats.n == len(raw)
    assert stats.max == 10_000.0 and stats.max_t == start + 90_500
    assert stats.bad == sum(1 for _t, r in raw if quality_class(r.get("flow_qc", 0)) == 2)
    assert stats.total == pytest.approx(math.fsum(r["flow"] for _t, r in raw))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-02-20Z", "2020-02-20T00:00:00.000Z"),
        ("2020-02-20T10Z", "2020-02-20T10:00:00.000Z"),
        ("2020-02-20T10:30Z", "2020-02-20T10:30:00.000Z"),
        ("2020-02-20T10:30:00Z", "2020-02-20T10:30:00.000Z"),
        ("2020-02-20T10:30:00.123Z", "2020-02-20T10:30:00.123Z"),
        ("2020-02-20T10:30:00.000-05:00", "2020-02-20T15:30:00.000Z"),
        ("2020-02-20T10:30+01:00", "2020-02-20T09:30:00.000Z"),
        ("2020-02-20T10:30:00", "2020-02-20T10:30:00.000Z"),
        ("2020-02-20", "2020-02-20T00:00:00.000Z"),
    ],
)
def test_parse_time_forms(text: str, expected: str) -> None:
    assert format_time(parse_time(text)) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2020-13-01T00:00Z", "2020-02-20T25:00Z", "1700000000"])
def test_parse_time_rejects_garbage(text: str) -> None:
    with pytest.raises(TimeFormatError):
        parse_time(text)


def test_short_time_format() -> None:
    assert format_time_short(parse_time("2024-03-01T10:00:00Z")) == "2024-03-01T10:00:00Z"
    assert format_time_short(parse_time("2024-03-01T10:00:00.250Z")) == "2024-03-01T10:00:00.250Z"


VIBRATION = [
    VariableSpec("velocityRms", "DOUBLE", "mm/s", True),
    VariableSpec("zone", "STRING", length=1),
    VariableSpec("alarm", "BOOLEAN"),
    VariableSpec("message", "BIG_STRING", length=60),
]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize(
    ("start", "end"),
    [(NOW - DAY_MS, NOW), (NOW - 1, NOW), (NOW - 601_000, NOW - 599_500), (NOW - 3_000_123, NOW - 1_000_001)],
)
def test_chunked_records_equal_sample_by_sample_records(start: int, end: int, descending: bool) -> None:
    """``records`` builds chunk by chunk; it must give exactly what ``record_at`` gives per grid index."""
    sig = AspectSignal(42, ASSET_A, "Vibration", VIBRATION, 1)
    expected = []
    indices = sig.indices(start, end)
    for i in reversed(indices) if descending else indices:
        record = sig.record_at(i)
        if record is not None:
            expected.append((i * 1000, record))
    assert list(sig.records(start, end, descending)) == expected


def test_one_hertz_kinds() -> None:
    sig = AspectSignal(42, ASSET_A, "Vibration", VIBRATION, 1)
    records = [r for _t, r in sig.records(NOW - DAY_MS, NOW)]
    assert len(records) > 80_000
    assert {r["zone"] for r in records} == {"A", "B", "C", "D"}
    assert all(r["alarm"] == (r["zone"] == "D") for r in records)
    share_d = sum(r["alarm"] for r in records) / len(records)
    assert 0.0 < share_d < 0.08
    assert all(len(r["message"]) <= 60 for r in records)
    assert 0.5 < statistics.fmean(r["velocityRms"] for r in records) < 5


def test_time_format_matches_datetime_formatting() -> None:
    from datetime import UTC, datetime, timedelta

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for ms in (0, 1, 999, 59_999, 60_000, -1, -60_001, NOW + 123, 253_402_300_799_999, 951_782_400_000):
        dt = epoch + timedelta(milliseconds=ms)
        assert format_time(ms) == f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def test_warm_up_builds_the_patterns_ahead_and_stops_when_asked() -> None:
    from tui.sim.signals import PATTERNS, chunk_size, pattern, warm_up

    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 3

    before = pattern.cache_info().misses
    warm_up([1], stop, pause_s=0)
    assert len(asked) == 4 and pattern.cache_info().misses - before <= 3
    size = chunk_size(7)
    before = pattern.cache_info().misses
    warm_up([7], pause_s=0)
    assert pattern.cache_info().misses - before == PATTERNS
    hits = pattern.cache_info().hits
    pattern(size, PATTERNS - 1)
    assert pattern.cache_info().hits == hits + 1
