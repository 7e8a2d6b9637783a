"""Reading ranges: concurrent raw sub-ranges (each record once across the seams), split aggregates,
the probe, the automatic choice, the cache (issue 9, section 2). Against the simulator and mock servers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest

from tui.api.errors import BadRequestError, NotFoundError
from tui.api.ts.fetch import SeriesQuery, TimeSeriesReader, rate_of
from tui.api.ts.frame import AggregateFrame, RawFrame, format_ms, parse_ms
from tui.api.ts.plan import Interval, PlanError, format_count
from tui.api.ts.timerange import TimeRange
from tui.sim.config import SimConfig

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def fixed_sim(sim):
    return sim(SimConfig(clock=lambda: NOW.timestamp()))


async def motor(api) -> str:
    async for asset in api.assets.list({"typeId": "demo.Motor"}):
        return asset.asset_id
    raise AssertionError("the demo plant has no motor")


async def sequential(api, asset: str, aspect: str, rng: TimeRange, select=None) -> list[dict]:
    """The way `mc timeseries` reads: one range, Link pages of 2000 in sequence."""
    return [
        r
        async for r in api.timeseries.iter(
            asset, aspect, format_ms(rng.start_ms), format_ms(rng.end_ms), select=select
        )
    ]


async def collect(reader: TimeSeriesReader, query: SeriesQuery, **kw) -> list[dict]:
    planned = await reader.plan(query, **kw)
    return [r async for page in reader.pages(planned) for r in page]


# ------------------------------------------------------------------------------- raw sub-ranges


@pytest.mark.parametrize("target", [97, 360, 1800])
async def test_concurrent_subranges_equal_one_sequential_read(sim, target: int) -> None:
    """Seams on record times (24 sub-ranges of exactly 1 h on a 10 s grid) and off them."""
    api, _ = fixed_sim(sim)
    asset = await motor(api)
    rng = TimeRange.of(NOW - timedelta(days=1), NOW)
    expected = await sequential(api, asset, "MotorData", rng)
    assert len(expected) > 4000
    reader = TimeSeriesReader(api, concurrency=4, subrange_target=target)
    reader.rates[(asset, "MotorData")] = 0.1  # known rate: no probe, sub-ranges from the start
    got = await collect(reader, SeriesQuery(asset, "MotorData", (), rng), force="raw")
    assert got == expected  # same records, same order: none lost, none doubled
    times = [parse_ms(r["_time"]) for r in got]
    assert times == sorted(set(times))


async def test_probe_first_page_is_reused_and_the_rest_read_concurrently(sim) -> None:
    api, _ = fixed_sim(sim)
    asset = await motor(api)
    rng = TimeRange.of(NOW - timedelta(days=2), NOW)
    expected = await sequential(api, asset, "MotorData", rng, select="vibration")
    reader = TimeSeriesReader(api, concurrency=4)
    before = api.requests
    got = await collect(reader, SeriesQuery(asset, "MotorData", ("vibration",), rng), force="raw")
    assert got == expected
    # One probe page, then ceil(rest / 1800) sub-ranges of one page each: no record read twice
    # except the one at each seam.
    rest = len(expected) - 2000
    assert api.requests - before <= 1 + -(-rest // 1800) + 1
    assert reader.rates[(asset, "MotorData")] == pytest.approx(0.1)


def _series_server(
    times: list[int],
    *,
    from_inclusive: bool = False,
    to_inclusive: bool = True,
    delay: float = 0.0,
    page_limit: int = 2000,
    self_link: bool = False,
):
    """A mock IoT TS endpoint over ``times`` (epoch ms) with a choice of bound semantics; ``self_link``: every
    answer also links to itself, in the same ``Link`` header as the next link."""
    state = {"in_flight": 0, "max_in_flight": 0, "requests": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        state["requests"] += 1
        state["in_flight"] += 1
        state["max_in_flight"] = max(state["max_in_flight"], state["in_flight"])
        try:
            if delay:
                await asyncio.sleep(delay)
            q = request.url.params
            lo, hi = parse_ms(q["from"]), parse_ms(q["to"])
            limit = min(int(q.get("limit", "2000")), page_limit)
            chosen = [
                i
                for i, t in enumerate(times)
                if (t >= lo if from_inclusive else t > lo) and (t <= hi if to_inclusive else t < hi)
            ]
            page = chosen[:limit]
            links = [f'<{request.url}>; rel="self"'] if self_link else []
            if len(chosen) > limit:
                nxt = request.url.copy_merge_params({"from": format_ms(times[page[-1]])})
                links.append(f'<{nxt}>; rel="next"')
            headers = {"Link": ", ".join(links)} if links else {}
            body = [{"_time": format_ms(times[i]), "v": i} for i in page]
            return httpx.Response(200, json=body, headers=headers)
        finally:
            state["in_flight"] -= 1

    return handler, state


@pytest.mark.parametrize(
    ("from_inclusive", "to_inclusive"),
    [(False, True), (True, True), (False, False), (True, False)],
    ids=["reference", "from-inclusive", "to-exclusive", "both-other-way"],
)
async def test_seams_are_exact_whatever_the_server_does_with_the_bounds(
    mock_api, from_inclusive: bool, to_inclusive: bool
) -> None:
    start = 1_709_000_000_000
    rng = np.random.default_rng(7)
    # Irregular times, many exactly on the sub-range seams (whole seconds) and a 3 h outage.
    steps = rng.choice([1000, 1000, 1000, 500, 250, 3000], size=20_000)
    times = (start + np.cumsum(steps)).tolist()
    times = [t for t in times if not start + 7_200_000 < t < start + 18_000_000]
    handler, state = _series_server(
        times, from_inclusive=from_inclusive, to_inclusive=to_inclusive, delay=0.002
    )
    api, _ = mock_api(handler)
    reader = TimeSeriesReader(api, concurrency=6, subrange_target=700)
    end = times[-1] + 1
    query = SeriesQuery("a" * 32, "Aspect", (), TimeRange.from_ms(start, end))
    got = await collect(reader, query, force="raw")
    values = [r["v"] for r in got]
    assert values == list(range(len(times)))  # each record exactly once, in order
    assert state["max_in_flight"] > 1


@pytest.mark.parametrize(
    ("page_limit", "rate_hint", "from_inclusive"),
    [(2000, 0.01, False), (300, None, False), (2000, 0.01, True)],
    ids=["rate-underestimated", "server-pages-of-300", "underestimated-from-inclusive"],
)
async def test_subranges_longer_than_a_page_follow_the_paging_rule(
    mock_api, page_limit: int, rate_hint: float | None, from_inclusive: bool
) -> None:
    start = 1_709_000_000_000
    times = [start + 1000 * i for i in range(1, 12_001)]
    handler, state = _series_server(times, page_limit=page_limit, from_inclusive=from_inclusive, delay=0.001)
    api, _ = mock_api(handler)
    reader = TimeSeriesReader(api, concurrency=3)
    query = SeriesQuery("a" * 32, "A", (), TimeRange.from_ms(start, times[-1]))
    if rate_hint is not None:
        reader.rates[("a" * 32, "A")] = rate_hint  # wrong on purpose: 100x too low, 1 sub-range
    got = await collect(reader, query, force="raw")
    assert [r["v"] for r in got] == list(range(len(times)))
    assert state["requests"] >= len(times) // page_limit


async def test_only_a_next_link_means_more_pages(mock_api) -> None:
    """Issue 7 section 4: any Link header (a rel="self" on every page) was read as "there is more"."""
    start = 1_709_000_000_000
    times = [start + 1000 * i for i in range(1, 6_001)]
    query = SeriesQuery("a" * 32, "A", (), TimeRange.from_ms(start, times[-1]))
    counts = []
    for page_limit in (2000, 300):  # sub-ranges that fit a page; pages shorter than the sub-ranges
        for self_link in (False, True):
            handler, state = _series_server(times, page_limit=page_limit, self_link=self_link)
            api, _ = mock_api(handler)
            got = await collect(
                TimeSeriesReader(api, concurrency=1, subrange_target=1000), query, force="raw"
            )
            assert [r["v"] for r in got] == list(range(len(times))), (page_limit, self_link)
            counts.append(state["requests"])
    assert counts[0] == counts[1] and counts[2] == counts[3]


async def test_subranges_run_concurrently_within_the_limit(mock_api) -> None:
    start = 1_709_000_000_000
    times = [start + 1000 * i for i in range(1, 20_001)]
    handler, state = _series_server(times, delay=0.02)
    api, _ = mock_api(handler)
    reader = TimeSeriesReader(api, concurrency=5)
    result = await reader.load(SeriesQuery("a" * 32, "A", (), TimeRange.from_ms(start, times[-1])), 200)
    assert result.plan.source == "raw" and len(result.frame) == 20_000
    assert state["max_in_flight"] == 5
    assert state["requests"] <= 1 + 10 + 2  # the probe, then about 18 000 / 1800 sub-ranges


async def test_a_failing_subrange_fails_the_read_and_cancels_the_rest(mock_api) -> None:
    start = 1_709_000_000_000
    times = [start + 1000 * i for i in range(1, 20_001)]
    good, _ = _series_server(times, delay=0.01)

    async def handler(request: httpx.Request) -> httpx.Response:
        if parse_ms(request.url.params["from"]) > start + 9_000_000:
            return httpx.Response(404, json={"id": "x", "message": "Asset gone"})
        return await good(request)

    api, _ = mock_api(handler)
    reader = TimeSeriesReader(api, concurrency=4)
    with pytest.raises(NotFoundError, match="Asset gone"):
        await reader.load(SeriesQuery("a" * 32, "A", (), TimeRange.from_ms(start, times[-1])), 200)


# ----------------------------------------------------------------------------------- aggregates


async def test_long_aggregate_ranges_are_split_and_merged(sim) -> None:
    api, _ = fixed_sim(sim)
    asset = await motor(api)
    rng = TimeRange.of(NOW - timedelta(days=3, hours=5, minutes=3), NOW)
    reader = TimeSeriesReader(api, concurrency=3)
    before = api.requests
    result = await reader.load(
        SeriesQuery(asset, "MotorData", ("vibration", "speed"), rng), 150, Interval(2, "minute")
    )
    assert api.requests - before == 4  # 24 h per request for 2-minute intervals (reference 4)
    frame = result.frame
    assert isinstance(frame, AggregateFrame)
    assert frame.variables == ["vibration", "speed"]
    starts = frame.starts
    assert np.all(np.diff(starts) > 0) and np.all(starts % 120_000 == 0)
    assert starts[0] >= rng.start_ms - 120_000 and starts[-1] < rng.end_ms
    # Every bucket of the range once: the same as one request per day-aligned piece.
    total = 0
    for day in range(4):
        lo = max(rng.start, NOW - timedelta(days=day + 1))
        hi = NOW - timedelta(days=day)
        if lo < hi:
            total += len(await api.aggregates.get_items(asset, "MotorData", lo, hi, 2, "minute", "vibration"))
    assert len(frame) == total
    assert result.summary.startswith(f"aggregates 2 min, {format_count(len(frame))} buckets in")


async def test_automatic_choice_raw_then_aggregates_and_cache(sim) -> None:
    api, _ = fixed_sim(sim)
    asset = await motor(api)
    reader = TimeSeriesReader(api)
    day = SeriesQuery(asset, "MotorData", ("vibration",), TimeRange.of(NOW - timedelta(days=1), NOW))
    first = await reader.load(day, 150)
    assert first.plan.source == "raw" and not first.cached
    assert isinstance(first.frame, RawFrame)
    expected = await sequential(api, asset, "MotorData", day.range, select="vibration")
    assert [r["vibration"] for r in expected] == first.frame.columns["vibration"].values.tolist()
    assert first.summary.startswith(f"raw, {format_count(len(expected))} points in ")

    month = day.with_range(TimeRange.of(NOW - timedelta(days=30), NOW))
    agg = await reader.load(month, 150)
    assert agg.plan.source == "aggregates" and agg.plan.interval == Interval(2, "hour")  # 259 200 points

    # Zooming back out and in again: from the cache, no request.
    before = api.requests
    again = await reader.load(day, 150)
    inner = await reader.load(
        day.with_range(TimeRange.of(NOW - timedelta(hours=6), NOW - timedelta(hours=2))), 150
    )
    back = await reader.load(month, 150)
    assert api.requests == before
    assert again.cached and inner.cached and back.cached and back.summary.endswith("(cached)")
    direct = await sequential(api, asset, "MotorData", inner.query.range, select="vibration")
    assert inner.frame.times.tolist() == [parse_ms(r["_time"]) for r in direct]


@pytest.mark.parametrize("skew_s", [0.0, 1800.0, -3 * 3600.0])
async def test_recent_data_expires_from_the_cache_on_the_services_clock(sim, skew_s: float) -> None:
    """The newest minutes may still change: a read ending at the service's now is answered from the cache
    for a minute only, whatever the local clock says (a local clock 30 min fast or 3 h slow)."""
    now = [NOW.timestamp()]
    api, _ = sim(SimConfig(clock=lambda: now[0]), clock=lambda: now[0] + skew_s)
    asset = await motor(api)
    reader = TimeSeriesReader(api)
    await api.assets.get(asset)  # a token: the skew is measured
    recent = SeriesQuery(asset, "MotorData", ("vibration",), TimeRange.of(NOW - timedelta(hours=1), NOW))
    assert not (await reader.load(recent, 150)).cached
    assert (await reader.load(recent, 150)).cached
    now[0] += 61
    assert not (await reader.load(recent, 150)).cached  # expired: read again


async def test_text_and_boolean_variables_are_left_out_of_aggregates(sim) -> None:
    api, _ = fixed_sim(sim)
    pump = None
    async for asset in api.assets.list({"typeId": "demo.Pump"}):
        pump = asset.asset_id
        break
    assert pump
    types = {"flow": "DOUBLE", "pressure": "DOUBLE", "running": "BOOLEAN"}
    reader = TimeSeriesReader(api)
    rng = TimeRange.of(NOW - timedelta(days=90), NOW)  # 129 600 points at 1/min: aggregated
    mixed = await reader.load(SeriesQuery(pump, "PumpData", ("flow", "running"), rng, types), 150)
    assert mixed.plan.source == "aggregates" and mixed.omitted == ("running",)
    assert mixed.frame.variables == ["flow"] and "no aggregates for running" in mixed.summary
    only_bool = await reader.load(SeriesQuery(pump, "PumpData", ("running",), rng, types), 150)
    assert only_bool.plan.source == "raw" and only_bool.frame.columns["running"].values[0] in (True, False)
    with pytest.raises(PlanError, match="not numeric"):
        await reader.load(SeriesQuery(pump, "PumpData", ("running",), rng, types), 150, Interval(1, "day"))


async def test_bad_input_gives_the_services_errors(sim) -> None:
    api, _ = fixed_sim(sim)
    asset = await motor(api)
    reader = TimeSeriesReader(api)
    rng = TimeRange.of(NOW - timedelta(hours=1), NOW)
    with pytest.raises(NotFoundError):
        await reader.load(SeriesQuery(asset, "NoSuchAspect", (), rng), 150)
    with pytest.raises(NotFoundError):
        await reader.load(SeriesQuery("0" * 32, "MotorData", (), rng), 150)
    with pytest.raises(BadRequestError, match="nosuchvar"):
        await reader.load(SeriesQuery(asset, "MotorData", ("nosuchvar",), rng), 150)
    empty = await reader.load(
        SeriesQuery(asset, "MotorData", (), TimeRange.of(NOW + timedelta(days=1), NOW + timedelta(days=2))),
        150,
    )
    assert len(empty.frame) == 0 and empty.summary.startswith("raw, 0 points")


def test_rate_of_uses_the_median_spacing() -> None:
    times = [0, 1000, 2000, 3000, 3_600_000, 3_601_000, 3_602_000]  # an hour-long outage inside
    assert rate_of(times) == pytest.approx(1.0)
    assert rate_of([5]) is None and rate_of([5, 5]) is None
