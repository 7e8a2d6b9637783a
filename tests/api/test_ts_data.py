"""Downsampling exactness, gaps, frames, statistics and the range cache (issue 9, sections 2-3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import Clock
from tui.api.ts.cache import RangeCache
from tui.api.ts.downsample import bucket_gaps, gap_step, mark_gaps, minmax_indices, runs
from tui.api.ts.frame import AggregateFrame, RawBuilder, RawFrame, format_ms, series_stats


def brute_buckets(t: np.ndarray, start: float, end: float, buckets: int) -> list[list[int]]:
    """Bucket membership recomputed independently: index lists per bucket of [start, end)."""
    out: list[list[int]] = [[] for _ in range(buckets)]
    for i, ti in enumerate(t.tolist()):
        if start <= ti < end:
            k = min(buckets - 1, int((ti - start) * buckets // (end - start)))
            out[k].append(i)
    return out


@pytest.mark.parametrize("seed", range(12))
def test_min_and_max_of_every_bucket_survive(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(500, 5000))
    t = np.cumsum(rng.integers(1, 2000, size=n)).astype(np.int64)  # irregular epoch ms
    y = np.cumsum(rng.normal(size=n))
    y[rng.integers(0, n, size=n // 50)] = np.nan  # scattered missing values
    if seed % 3 == 0:
        y[n // 3 : n // 3 + 200] = np.nan  # a long gap
    if seed % 4 == 0:
        y[rng.integers(0, n, size=30)] = 1e6  # ties at the maximum
    buckets = int(rng.integers(3, 200))
    start = float(t[int(rng.integers(0, n // 4))])
    end = float(t[int(rng.integers(3 * n // 4, n))])
    idx = minmax_indices(t, y, buckets, start, end, edges=False)
    assert np.all(np.diff(idx) > 0)  # ascending, unique: drawable in time order
    kept = set(idx.tolist())
    in_window = [i for i in range(n) if start <= t[i] < end]
    if len(in_window) <= 2 * buckets:
        assert kept == set(in_window)
        return
    assert kept <= set(in_window) and len(idx) <= 3 * buckets
    for members in brute_buckets(t, start, end, buckets):
        finite = [i for i in members if not math.isnan(y[i])]
        if finite:
            first_min = min(finite, key=lambda i: (y[i], i))
            first_max = min(finite, key=lambda i: (-y[i], i))
            assert first_min in kept, "the minimum of a bucket was lost"
            assert first_max in kept, "the maximum of a bucket was lost"
        if len(finite) < len(members):
            assert any(math.isnan(y[i]) for i in members if i in kept), "a gap in a bucket was lost"


def test_small_inputs_are_kept_whole_and_edges_added() -> None:
    t = np.arange(10, dtype=np.int64) * 1000
    y = np.arange(10.0)
    assert minmax_indices(t, y, 100).tolist() == list(range(10))
    idx = minmax_indices(t, y, 2, start=2500, end=6500)
    assert idx.tolist() == [2, 3, 4, 5, 6, 7]  # window 3..6 plus the neighbours outside it
    assert minmax_indices(t[:0], y[:0], 10).tolist() == []
    with pytest.raises(ValueError):
        minmax_indices(t, y[:3], 4)


def test_two_point_six_million_points_to_a_few_hundred() -> None:
    n = 2_600_000
    t = np.arange(n, dtype=np.int64) * 1000
    y = np.sin(np.arange(n) / 5000.0)
    y[123_456] = 50.0  # one spike
    y[2_000_000:2_010_000] = np.nan
    idx = minmax_indices(t, y, 300)
    assert len(idx) <= 900 and 123_456 in idx.tolist()
    assert np.isnan(y[idx]).any()


def test_gap_marking_for_raw_and_aggregates() -> None:
    t = np.array([0, 10, 20, 30, 500, 510, 520], dtype=np.int64)
    y = np.arange(7.0)
    assert gap_step(t) == pytest.approx(50.0)
    t2, y2 = mark_gaps(t, y, gap_step(t))
    assert t2.tolist() == [0, 10, 20, 30, 265, 500, 510, 520]
    assert np.isnan(y2[4]) and np.nansum(y2) == y.sum()
    assert [len(xs) for xs, _ in runs(t2, y2)] == [4, 3]
    starts = np.array([0, 100, 300], dtype=np.int64)
    ends = np.array([100, 200, 400], dtype=np.int64)
    mids, vals = bucket_gaps(starts, ends, np.array([1.0, 2.0, 3.0]))
    assert mids.tolist()[:2] == [50, 150] and np.isnan(vals[2]) and vals[3] == 3.0


def _records(n: int, start: int = 1_709_000_000_000, step: int = 1000) -> list[dict]:
    out = []
    for i in range(n):
        rec = {"_time": format_ms(start + i * step), "flow": 10.0 + i, "flow_qc": 0 if i % 4 else 0x40}
        if i % 5 == 0:
            rec["state"] = "RUNNING" if i % 2 else "IDLE"
        if i % 7 == 3:
            del rec["flow"], rec["flow_qc"]
        out.append(rec)
    return out


def test_raw_builder_round_trips_records_and_drops_seam_repeats() -> None:
    records = _records(50)
    builder = RawBuilder()
    builder.add(records[:20])
    builder.add(records[19:])  # the seam record again
    frame = builder.build()
    assert builder.dropped == 1 and len(frame) == 50
    assert frame.variables == ["flow", "state"]
    assert list(frame.records()) == records
    assert frame.columns["flow"].numeric and not frame.columns["state"].numeric
    window = frame.slice_ms(1_709_000_000_000 + 10_000, 1_709_000_000_000 + 20_000)
    assert len(window) == 10 and window.times[0] == 1_709_000_011_000  # (from, to]


def test_raw_statistics() -> None:
    frame = RawFrame.from_records(_records(40))
    stats = series_stats(frame, "flow")
    values = [10.0 + i for i in range(40) if i % 7 != 3]
    assert stats.count == len(values) and stats.min == 10.0 and stats.max == 49.0
    assert stats.mean == pytest.approx(sum(values) / len(values)) and stats.last == 49.0
    good = sum(1 for i in range(40) if i % 7 != 3 and i % 4)
    assert stats.good_share == pytest.approx(good / len(values))
    text = series_stats(frame, "state")
    assert text.count == 8 and text.min is None and text.last == "RUNNING" and text.good_share is None
    assert series_stats(frame, "missing").count == 0


def test_aggregate_frame_statistics_and_seam_repeats() -> None:
    def item(start: int, **stats) -> dict:
        return {"starttime": format_ms(start), "endtime": format_ms(start + 3_600_000), "flow": stats}

    h = 3_600_000
    items = [
        item(
            0,
            countgood=10,
            countuncertain=2,
            countbad=0,
            sum=120.0,
            average=10.0,
            minvalue=1.0,
            maxvalue=20.0,
            lastvalue=5.0,
            lasttime="1970-01-01T00:59:00Z",
        ),
        item(
            h,
            countgood=5,
            countuncertain=0,
            countbad=1,
            sum=60.0,
            average=10.0,
            minvalue=-3.0,
            maxvalue=15.0,
            lastvalue=7.0,
            lasttime="1970-01-01T01:58:00Z",
        ),
    ]
    frame = AggregateFrame.from_items(items + items[1:])  # the second bucket repeated at a seam
    assert len(frame) == 2
    stats = series_stats(frame, "flow")
    assert (stats.count, stats.min, stats.max, stats.last) == (18, -3.0, 20.0, 7.0)
    assert stats.mean == pytest.approx(180.0 / 18) and stats.good_share == pytest.approx(15 / 18)
    assert stats.last_time == h + 58 * 60_000
    back = list(frame.items())
    assert back[0]["flow"]["countgood"] == 10 and back[0]["flow"]["minvalue"] == 1.0
    assert back[1]["flow"]["lasttime"] == "1970-01-01T01:58:00.000Z"


# ------------------------------------------------------------------------------------------ cache


def _frame(start: int, n: int, step: int = 1000) -> RawFrame:
    return RawFrame.from_records(
        [{"_time": format_ms(start + (i + 1) * step), "a": float(i), "b": 1.0} for i in range(n)]
    )


def test_cache_answers_contained_ranges_and_variable_subsets() -> None:
    cache = RangeCache(clock=Clock(1_709_100_000.0))
    key = ("asset", "Aspect", "raw", "")
    cache.put(key, 0, 100_000, ("a", "b"), _frame(0, 100))
    part = cache.get(key, 10_000, 20_000, ("a",))
    assert part is not None and part.variables == ["a"] and len(part) == 10
    assert part.times[0] == 11_000 and part.times[-1] == 20_000
    assert cache.get(key, 10_000, 200_000, ("a",)) is None  # not contained
    assert cache.get(key, 10_000, 20_000, ("c",)) is None  # variable not held
    assert cache.get(("asset", "Aspect", "aggregates", "1h"), 10_000, 20_000, ("a",)) is None
    assert (cache.hits, cache.misses) == (1, 3)


def test_cache_is_bounded_lru_and_drops_redundant_entries() -> None:
    one = _frame(0, 1000)
    cache = RangeCache(max_bytes=int(one.nbytes * 3.5), clock=Clock(1_709_100_000.0))
    for i in range(5):
        cache.put(("x", "A", "raw", ""), i * 10**7, i * 10**7 + 10**6, ("a", "b"), _frame(i * 10**7, 1000))
    assert len(cache) == 3 and cache.nbytes <= cache.max_bytes
    assert cache.get(("x", "A", "raw", ""), 0, 10**6, ("a",)) is None  # oldest evicted
    assert cache.get(("x", "A", "raw", ""), 4 * 10**7, 4 * 10**7 + 10**6, ("a",)) is not None
    cache.put(("x", "A", "raw", ""), 0, 10**9, ("a", "b"), _frame(0, 10))  # covers the others
    assert len(cache) == 1
    assert cache.invalidate("x", "A") == 1 and len(cache) == 0 and cache.nbytes == 0
    huge = RangeCache(max_bytes=100)
    huge.put(("x", "A", "raw", ""), 0, 1, (), one)
    assert len(huge) == 0


def test_recent_ranges_expire_old_ranges_stay() -> None:
    clock = Clock(1_709_100_000.0)
    cache = RangeCache(clock=clock, recent_s=600, recent_ttl_s=60)
    now_ms = int(clock.now * 1000)
    key = ("x", "A", "raw", "")
    cache.put(key, now_ms - 3_600_000, now_ms, ("a",), _frame(now_ms - 3_600_000, 100))
    cache.put(key, now_ms - 90_000_000, now_ms - 86_400_000, ("a",), _frame(now_ms - 90_000_000, 100))
    clock.advance(30)
    assert cache.get(key, now_ms - 3_600_000, now_ms, ("a",)) is not None
    clock.advance(60)
    assert cache.get(key, now_ms - 3_600_000, now_ms, ("a",)) is None  # may have grown since
    assert cache.get(key, now_ms - 90_000_000, now_ms - 86_400_000, ("a",)) is not None


# ------------------------------------------------------------------------------- chart data, readout


def test_chart_data_for_raw_frames_breaks_lines_at_outages_and_marks_quality() -> None:
    from tui.api.ts.view import chart_data

    start = 1_709_000_000_000
    recs = []
    for i in range(20_000):
        if 5000 <= i < 6000:
            continue  # an outage: no records at all
        rec = {"_time": format_ms(start + 1000 * i), "flow": float(i % 100), "flow_qc": 0}
        if i == 7000:
            rec["flow_qc"] = 0x80
        if i in (7100, 7101):
            rec["flow_qc"] = 0x40
        recs.append(rec)
    frame = RawFrame.from_records(recs)
    data = chart_data(frame, "flow", columns=100)
    assert len(data) <= 2 * 100 + 3
    assert np.isnan(data.y).sum() == 1  # the outage, once
    gap_at = data.x[np.isnan(data.y)][0]
    assert (start / 1000 + 5000) < gap_at < (start / 1000 + 6000)
    assert np.nanmax(data.y) == 99.0 and np.nanmin(data.y) == 0.0
    assert data.bad_x.tolist() == [(start + 7_000_000) / 1000]
    assert data.uncertain_x.tolist() == [(start + 7_100_000) / 1000]  # one mark per column
    window = chart_data(frame, "flow", columns=10, start_ms=start + 1_000_000, end_ms=start + 2_000_000)
    assert window.x.min() >= (start + 999_000) / 1000 and window.x.max() <= (start + 2_000_000) / 1000


def test_chart_data_marks_only_columns_where_the_share_of_bad_quality_is_reached() -> None:
    from tui.api.ts.view import chart_data

    start = 1_709_000_000_000
    recs = []
    for i in range(10_000):  # 100 records per column of a 100-column chart
        qc = 0
        if i % 200 == 7:  # 0.5 % bad everywhere: half the columns hold one
            qc = 0x80
        if 3000 <= i < 3010:  # column 30: a burst of 10 % bad
            qc = 0x80
        recs.append({"_time": format_ms(start + 1000 * (i + 1)), "flow": 1.0, "flow_qc": qc})
    frame = RawFrame.from_records(recs)
    every = chart_data(frame, "flow", columns=100, start_ms=start, end_ms=start + 10_000_000)
    assert len(every.bad_x) == 50  # share 0: any bad record marks its column (every other one)
    share = chart_data(frame, "flow", columns=100, start_ms=start, end_ms=start + 10_000_000, mark_share=0.05)
    assert share.bad_x.tolist() == [(start + 3_001_000) / 1000]  # only the burst


def test_chart_data_for_aggregates_keeps_band_and_holes() -> None:
    from tui.api.ts.view import chart_data, readout

    h = 3_600_000
    items = []
    for k in range(1000):
        if 400 <= k < 410:
            continue  # intervals without data are left out by the service
        dip = 50 if k == 777 else 0
        stats = {
            "countgood": 10,
            "countuncertain": 1 if k == 500 else 0,
            "countbad": 2 if k == 600 else 0,
            "average": float(k % 50),
            "minvalue": float(k % 50) - 1 - dip,
            "maxvalue": float(k % 50) + 1,
        }
        items.append({"starttime": format_ms(k * h), "endtime": format_ms((k + 1) * h), "flow": stats})
    frame = AggregateFrame.from_items(items)
    data = chart_data(frame, "flow", columns=50)
    assert data.lo is not None and data.hi is not None
    assert np.nanmin(data.lo) == 27 - 1 - 50  # the deepest minimum survives the thinning
    assert np.nanmax(data.hi) == 50.0
    assert np.isnan(data.y).any()  # the hole of 10 missing hours
    assert data.bad_x.tolist() == [(600 * h + h / 2) / 1000] and len(data.uncertain_x) == 1
    r = readout(frame, "flow", 600 * h + 123)
    assert (r.time_ms, r.end_ms, r.count, r.quality, r.mean) == (600 * h, 601 * h, 12, "bad", 0.0)
    assert readout(frame, "flow", 405 * h).time_ms in (399 * h, 410 * h)  # nearest bucket with data


def test_readout_and_live_extension_of_raw_frames() -> None:
    from tui.api.ts.view import readout

    frame = RawFrame.from_records(_records(10))
    r = readout(frame, "flow", 1_709_000_000_000 + 3_400)  # record 3 has no flow: nearest with flow
    assert r.time_ms in (1_709_000_002_000, 1_709_000_004_000) and r.value in (12.0, 14.0)
    assert readout(frame, "flow", 1_709_000_000_000).quality == "uncertain"  # code 0x40
    more = _records(14)[8:]  # overlaps the last two records held
    grown = frame.extended(more)
    assert len(grown) == 14 and list(grown.records()) == _records(14)
    assert frame.extended(_records(10)[:3]) is frame  # nothing newer


# -- fast paths of the frame builder (issue 9 §7: a day of 1 Hz records decoded page by page) ----------


def test_api_times_parse_as_a_byte_matrix_exactly_as_numpy_does() -> None:
    import random

    from tui.api.ts.frame import _api_times_to_ms, format_ms, times_to_ms

    rng = random.Random(7)
    ms = [rng.randrange(-30_610_224_000_000, 253_402_300_799_999) for _ in range(5000)] + [
        0,
        -1,
        951_782_400_000,
    ]
    text = [format_ms(m) for m in ms]
    fast = _api_times_to_ms(text)
    assert fast is not None and fast.tolist() == ms
    assert times_to_ms(text).tolist() == ms
    reference = np.array([t[:-1] for t in text], dtype="datetime64[ms]").astype(np.int64)
    assert fast.tolist() == reference.tolist()
    # Anything else goes the general way (and an invalid time is still an error there).
    odd_forms = ["2024-02-30T00:00:00.000Z", "2023-02-29T00:00:00.000Z", "2024-13-01T00:00:00.000Z"]
    odd_forms += ["2024-01-01T24:00:00.000Z", "2024-01-01 00:00:00.000Z", "2024-01-01T00:00:00Z", None]
    for odd in odd_forms:
        assert _api_times_to_ms([text[0], odd]) is None
    assert times_to_ms(["2024-05-01T12:00:00Z", "2024-05-01T12:00:01.5Z"]).tolist() == [
        1714564800000,
        1714564801500,
    ]
    with pytest.raises(ValueError):
        times_to_ms(["2024-02-30T00:00:00.000Z"])


@pytest.mark.parametrize(
    "values",
    [
        [1.5, None, 2, -0.0],
        [1, 2, None, 3],
        [None, None],
        [2**53 - 1, -(2**53) + 1],
        [2**53, 1],
        [2**70, None],
        [True, 1.0],
        ["a", None, 1],
        [{"x": 1}, [1]],
        [],
    ],
)
def test_columns_are_typed_as_record_by_record(values: list) -> None:
    from tui.api.ts import frame as F

    def slow(name, values, quality):  # the loop the fast path replaces
        numeric, integral = True, True
        for v in values:
            if v is None:
                continue
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or (isinstance(v, int) and abs(v) >= F._EXACT_INT)
            ):
                numeric = False
                break
            if isinstance(v, float):
                integral = False
        if numeric:
            arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            return F.Column(name, arr, quality, integral and not np.isnan(arr).all())
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return F.Column(name, arr, quality, False)

    got, want = F._column("v", values, None), slow("v", values, None)
    assert got.values.dtype == want.values.dtype and got.integral == want.integral
    assert [repr(v) for v in got.values.tolist()] == [repr(v) for v in want.values.tolist()]
