"""Reading a chart's data fast: probe, plan, concurrent raw sub-ranges, split aggregates, cache.

The screen calls ``TimeSeriesReader.load(query, width, force)`` and draws ``LoadResult.frame``; the CLI
calls ``plan(query, force=..., streaming=True)`` and then iterates ``pages(planned)`` to print API-shaped
records (or aggregate objects) as they arrive, in time order, with bounded memory.

Raw reads (IoT Time Series v3, reference 3.1). The server pages one range sequentially (``Link`` with
``from`` = the last ``_time``), so a long range is cut into sub-ranges that are read concurrently, at
most ``concurrency`` requests in flight, and the results are yielded in sub-range order. Sub-ranges are
sized from the rate to hold just under one page (2000 records), so most are one request; one that
holds more (the rate changed, or the server pages smaller) goes on through ``TimeSeries.iter`` from its
last ``_time``, the same rule the ``Link`` header follows.

Seams: ``from`` is exclusive and ``to`` inclusive, so the sub-ranges ``(b0, b1], (b1, b2], ...``
partition the range. To stay exact even against a server that reads either bound the other way,
every sub-range after the first starts one millisecond early (its ``from`` is ``b[i] - 1 ms``), so a
record at a seam is read by both neighbours, and the merge keeps only
records later than the last one kept: every record exactly once, in order.

Aggregates (v4, reference 4): the range is cut by the range limit of the interval's unit with seams on
the interval grid (``plan.aggregate_chunks``), chunks are read concurrently, and a bucket returned by
two chunks (same ``starttime``) is kept once.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from tui.api import contract as C
from tui.api.client import parse_json
from tui.api.errors import ResponseFormatError
from tui.api.headers import link_target
from tui.api.ts.cache import RangeCache
from tui.api.ts.frame import AggregateFrame, RawBuilder, RawFrame, format_ms, parse_ms, times_to_ms
from tui.api.ts.plan import (
    DEFAULT_WIDTH,
    RAW_MEMORY_LIMIT,
    SUBRANGE_TARGET,
    Force,
    Interval,
    Plan,
    PlanError,
    aggregate_chunks,
    choose_source,
    format_count,
    raw_subranges,
    summary,
)
from tui.api.ts.timerange import TimeRange, from_ms

if TYPE_CHECKING:
    from tui.api.client import ApiClient
    from tui.api.models import Aspect

DEFAULT_CONCURRENCY = 10  # the connection pool of ApiClient holds 10 by default
_T = TypeVar("_T")
Page = list[dict[str, Any]]


@dataclass(frozen=True)
class SeriesQuery:
    """What to read: an aspect of an asset, some of its variables (empty: all), over a range.

    ``types`` maps variable names to their ``dataType`` (from the aspect's definition); with it, text
    and boolean variables are left out of aggregate reads (the service aggregates numbers only).
    """

    asset_id: str
    aspect: str
    variables: tuple[str, ...]
    range: TimeRange
    types: Mapping[str, str] | None = field(default=None, compare=False, hash=False)

    def numeric(self) -> tuple[str, ...] | None:
        """The numeric variables asked for (None when the types are unknown)."""
        if self.types is None:
            return None
        names = self.variables or tuple(self.types)
        return tuple(n for n in names if str(self.types.get(n, "")).upper() in C.AGG_NUMERIC_TYPES)

    @classmethod
    def for_aspect(
        cls, asset_id: str, aspect: Aspect, variables: Sequence[str], rng: TimeRange
    ) -> SeriesQuery:
        """A query with the data types taken from the aspect's variable definitions (Assets API)."""
        types = {v.name: (v.data_type or "") for v in aspect.variables}
        return cls(asset_id, aspect.name, tuple(variables), rng, types)

    def with_range(self, rng: TimeRange) -> SeriesQuery:
        return replace(self, range=rng)


@dataclass
class Probe:
    """The first page of a raw range: its records, whether it was the whole range, the rate it shows."""

    records: Page
    complete: bool
    rate_hz: float | None


@dataclass
class PlannedRead:
    """A plan with what was learnt making it (the probe's first page, reused by ``pages``)."""

    query: SeriesQuery
    plan: Plan
    probe: Probe | None = None
    omitted: tuple[str, ...] = ()  # variables left out (text or boolean in an aggregate read)
    started: float = 0.0


@dataclass
class LoadResult:
    """A loaded range: ``frame`` to draw, ``plan`` it follows, ``summary`` for the status line."""

    query: SeriesQuery
    plan: Plan
    frame: RawFrame | AggregateFrame
    elapsed_s: float
    cached: bool = False
    requests: int = 0
    omitted: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.frame)

    @property
    def summary(self) -> str:
        text = summary(self.plan, self.count, self.elapsed_s, cached=self.cached)
        if self.omitted:
            text += f"; no aggregates for {', '.join(self.omitted)}: zoom in for raw values"
        return text


def rate_of(times_ms: np.ndarray | Sequence[int]) -> float | None:
    """Records per second from the median spacing of sorted times (robust to gaps and a late start)."""
    times = np.asarray(times_ms, dtype=np.int64)
    if len(times) < 2:
        return None
    diffs = np.diff(times)
    diffs = diffs[diffs > 0]
    if not len(diffs):
        return None
    median = float(np.median(diffs))
    return 1000.0 / median if median > 0 else None


class TimeSeriesReader:
    """One per session and connection: plans, reads and caches ranges (see the module doc).

    ``concurrency``: requests in flight for one read (sub-ranges or aggregate chunks).
    ``subrange_target``: records a raw sub-range should hold (default just under one page).
    """

    def __init__(
        self,
        api: ApiClient,
        *,
        cache: RangeCache | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        subrange_target: int = SUBRANGE_TARGET,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.api = api
        # Whether cached data is recent (and may still change) compares data times with "now": the
        # service's now (issue 7 section 1), not a local clock that may be off by hours.
        self.cache = cache if cache is not None else RangeCache(clock=api.server_time)
        self.concurrency = max(1, concurrency)
        self.subrange_target = max(1, subrange_target)
        self._clock = clock
        self.rates: dict[tuple[str, str], float] = {}
        self.requests = 0  # time series and aggregate requests sent by this reader

    # ------------------------------------------------------------------------------------ planning

    async def probe(self, query: SeriesQuery) -> Probe:
        """The first page (up to 2000 records) of the raw range, and the rate it shows."""
        rng = query.range
        records = await self.api.timeseries.read(
            query.asset_id,
            query.aspect,
            format_ms(rng.start_ms),
            format_ms(rng.end_ms),
            limit=C.TS_MAX_LIMIT,
            select=query.variables or None,
        )
        self.requests += 1
        complete = len(records) < C.TS_MAX_LIMIT
        times = [t for t in (parse_ms(r.get(C.TS_TIME)) for r in records) if t is not None]
        rate = rate_of(times)
        if rate is not None:
            self.rates[(query.asset_id, query.aspect)] = rate
        return Probe(records, complete, rate)

    async def plan(
        self,
        query: SeriesQuery,
        width: int = DEFAULT_WIDTH,
        force: Force = "auto",
        *,
        streaming: bool = False,
    ) -> PlannedRead:
        """Choose source and interval; probes the range when the rate is not known yet.

        Raises ``PlanError`` (plain message) for a forced read that cannot be done, and ``ApiError``
        from the probe (unknown asset or aspect, unknown variable, ...).
        """
        started = self._clock()
        probe: Probe | None = None
        rate = self.rates.get((query.asset_id, query.aspect))
        if not isinstance(force, Interval) and rate is None:
            probe = await self.probe(query)
            rate = probe.rate_hz
        known = len(probe.records) if probe is not None and probe.complete else None
        plan = choose_source(
            query.range, width, rate_hz=rate, force=force, streaming=streaming, known_count=known
        )
        plan, omitted = self._fit_types(query, plan, rate, streaming)
        return PlannedRead(query, plan, probe, omitted, started)

    def _fit_types(
        self, query: SeriesQuery, plan: Plan, rate: float | None, streaming: bool
    ) -> tuple[Plan, tuple[str, ...]]:
        numeric = query.numeric()
        if plan.source != "aggregates" or numeric is None:
            return plan, ()
        names = query.variables or tuple(query.types or ())
        omitted = tuple(n for n in names if n not in numeric)
        if numeric:
            return plan, omitted
        listed = ", ".join(names)
        if plan.forced:
            raise PlanError(f"{listed}: not numeric, so no aggregates; read raw values instead")
        estimate = math.ceil((rate or 0) * query.range.seconds)
        if not streaming and estimate > RAW_MEMORY_LIMIT:
            raise PlanError(
                f"{listed}: not numeric, so no aggregates, and "
                f"about {format_count(estimate)} raw values in this range: choose a shorter range"
            )
        return Plan(
            "raw", query.range, None, estimate, plan.width, "text and boolean values are read raw"
        ), ()

    # ------------------------------------------------------------------------------------- reading

    async def load(self, query: SeriesQuery, width: int = DEFAULT_WIDTH, force: Force = "auto") -> LoadResult:
        """Plan, then read the range (or take it from the cache) into a frame for the chart."""
        started = self._clock()
        cached = self._cached_raw(query, width, force)
        if cached is not None:
            return cached
        planned = await self.plan(query, width, force)
        hit = self._lookup(planned)
        if hit is not None:
            return LoadResult(query, planned.plan, hit, self._clock() - started, True, 0, planned.omitted)
        planned.started = started
        before = self.requests
        frame = await self.read(planned)
        elapsed = self._clock() - started
        if planned.plan.source == "raw" and len(frame) > 1:
            rate = rate_of(frame.times)  # type: ignore[union-attr]
            if rate is not None:
                self.rates[(query.asset_id, query.aspect)] = rate
        self.cache.put(
            self._key(planned), query.range.start_ms, query.range.end_ms, self._variables(planned), frame
        )
        return LoadResult(
            query,
            planned.plan,
            frame,
            elapsed,
            False,
            self.requests - before + (1 if planned.probe else 0),
            planned.omitted,
        )

    def _cached_raw(self, query: SeriesQuery, width: int, force: Force) -> LoadResult | None:
        """Raw data already in memory for this range decides the plan with an exact count."""
        if isinstance(force, Interval):
            return None
        started = self._clock()
        key = (query.asset_id, query.aspect, "raw", "")
        frame = self.cache.get(key, query.range.start_ms, query.range.end_ms, query.variables)
        if frame is None:
            return None
        plan = choose_source(query.range, width, rate_hz=None, force=force, known_count=len(frame))
        if plan.source != "raw":
            self.cache.hits -= 1  # not used after all
            return None
        return LoadResult(query, plan, frame, self._clock() - started, True, 0)

    def _key(self, planned: PlannedRead) -> tuple[str, str, str, str]:
        source, spec = planned.plan.key
        return (planned.query.asset_id, planned.query.aspect, source, spec)

    def _variables(self, planned: PlannedRead) -> tuple[str, ...]:
        if planned.plan.source == "aggregates":
            numeric = planned.query.numeric()
            if numeric is not None:
                return numeric
        return planned.query.variables

    def _lookup(self, planned: PlannedRead) -> RawFrame | AggregateFrame | None:
        rng = planned.query.range
        return self.cache.get(self._key(planned), rng.start_ms, rng.end_ms, self._variables(planned))

    async def read(self, planned: PlannedRead) -> RawFrame | AggregateFrame:
        """Read the planned range into a frame (no cache)."""
        variables = self._variables(planned)
        if planned.plan.source == "raw":
            builder = RawBuilder(variables or None)
            async for page, times in self._raw_chunks(planned):
                builder.add(page, times)
            return builder.build()
        items: list[dict[str, Any]] = []
        async for page in self.pages(planned):
            items.extend(page)
        return AggregateFrame.from_items(items, variables or None)

    async def pages(self, planned: PlannedRead) -> AsyncIterator[Page]:
        """API-shaped pages in time order: raw records, or aggregate objects; each record once."""
        if planned.plan.source == "raw":
            async for page, _times in self._raw_chunks(planned):
                yield page
        else:
            async for page in self._aggregate_pages(planned):
                yield page

    async def _read_window(self, query: SeriesQuery, lo: int, hi: int) -> Page:
        """Records in ``(lo, hi]``: one request for the first page, then the rest by ``Link`` rules.

        Most sub-ranges fit one page. When the server says there is more (a ``Link`` header), the rest
        is read from the last ``_time`` on (the reference's paging rule, 3.1) with ``TimeSeries.iter``.
        """
        params: dict[str, Any] = {
            C.TS_PARAM_FROM: format_ms(lo),
            C.TS_PARAM_TO: format_ms(hi),
            C.TS_PARAM_LIMIT: C.TS_MAX_LIMIT,
        }
        if query.variables:
            params[C.TS_PARAM_SELECT] = ",".join(query.variables)
        path = C.TS_PATH.format(entity=query.asset_id, aspect=query.aspect)
        response = await self.api.request("GET", path, params=params, expected=(200,))
        self.requests += 1
        body = parse_json(response) if response.content.strip() else []
        if not isinstance(body, list):
            raise ResponseFormatError(
                f"expected a JSON array, got {type(body).__name__}", status=200, method="GET", url=path
            )
        page: Page = [r for r in body if isinstance(r, dict)]
        more = any(link_target(v, C.LINK_NEXT_REL) for v in response.headers.get_list(C.LINK_HEADER))
        if page and more:  # a next link (RFC 8288), not any Link header (rel="self", "prev", ...)
            last = parse_ms(page[-1].get(C.TS_TIME))
            if last is None:
                raise ResponseFormatError("a record without a readable _time", method="GET", url=path)
            async for record in self.api.timeseries.iter(
                query.asset_id, query.aspect, format_ms(last), format_ms(hi), select=query.variables or None
            ):
                page.append(record)
            self.requests += 1 + (len(page) - len(body)) // C.TS_MAX_LIMIT
        return page

    async def _raw_chunks(self, planned: PlannedRead) -> AsyncIterator[tuple[Page, np.ndarray]]:
        """Pages of records in ``(start, end]`` in time order, each ``_time`` once, with their times."""
        query = planned.query
        start, end = query.range.start_ms, query.range.end_ms
        last = start  # records at or before this are already out (from is exclusive)
        probe = planned.probe
        if probe is not None:
            page, times = _after(probe.records, last, end)
            if page:
                last = int(times[-1])
                yield page, times
            if probe.complete:
                return
        rate = self.rates.get((query.asset_id, query.aspect)) or (probe.rate_hz if probe else None)
        estimate = math.ceil(rate * (end - last) / 1000) if rate else planned.plan.estimate
        bounds = raw_subranges(last, end, estimate, target=self.subrange_target)
        # Every sub-range after the first starts 1 ms early: a record on a seam is read twice, kept once.
        windows = ((bounds[i] - 1 if i > 0 else bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1))

        async def read(window: tuple[int, int]) -> Page:
            return await self._read_window(query, *window)

        async for page in _ordered(windows, read, self.concurrency):
            kept, times = _after(page, last, end)
            if kept:
                last = int(times[-1])
                yield kept, times

    async def _aggregate_pages(self, planned: PlannedRead) -> AsyncIterator[Page]:
        query = planned.query
        interval = planned.plan.interval
        assert interval is not None
        select = self._variables(planned) or None
        last = -(2**62)

        async def read(chunk: TimeRange) -> Page:
            items = await self.api.aggregates.get_items(
                query.asset_id,
                query.aspect,
                chunk.start,
                chunk.end,
                interval.value,
                interval.unit,
                select=select,
            )
            self.requests += 1
            return items

        async for page in _ordered(aggregate_chunks(query.range, interval), read, self.concurrency):
            kept: Page = []
            for item in page:
                t = parse_ms(item.get(C.AGG_START))
                if t is not None and t > last:
                    kept.append(item)
                    last = t
            if kept:
                yield kept


def _after(page: Page, last: int, end: int) -> tuple[Page, np.ndarray]:
    """The records of ``page`` later than ``last`` and not after ``end``, strictly increasing in time."""
    if not page:
        return [], np.empty(0, dtype=np.int64)
    times = times_to_ms([r.get(C.TS_TIME) for r in page])
    if len(times) > 1 and not bool(np.all(times[1:] > times[:-1])):
        keep: list[int] = []
        previous = last
        for i, t in enumerate(times.tolist()):
            if previous < t <= end:
                keep.append(i)
                previous = t
        return [page[i] for i in keep], times[keep]
    mask = (times > last) & (times <= end)
    if bool(mask.all()):
        return page, times
    index = np.flatnonzero(mask)
    return [page[i] for i in index], times[index]


async def _ordered(
    items: Iterator[_T], read: Callable[[_T], Awaitable[Page]], concurrency: int
) -> AsyncIterator[Page]:
    """``read(item)`` for every item with at most ``concurrency`` in flight, results in item order."""
    pending: deque[asyncio.Task[Page]] = deque()
    iterator = iter(items)
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < concurrency:
                try:
                    item = next(iterator)
                except StopIteration:
                    exhausted = True
                    break
                pending.append(asyncio.ensure_future(read(item)))
            if not pending:
                return
            yield await pending.popleft()
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def describe_request(planned: PlannedRead) -> str:
    """``raw 2024-03-01T10:00:00.000Z → ...`` (for logs and ``--dry-run`` style notes)."""
    rng = planned.query.range
    what = "raw" if planned.plan.source == "raw" else f"aggregates {planned.plan.interval.label}"  # type: ignore[union-attr]
    return f"{what} {format_ms(rng.start_ms)} → {format_ms(rng.end_ms)}"


__all__ = [
    "DEFAULT_CONCURRENCY",
    "LoadResult",
    "PlannedRead",
    "Probe",
    "SeriesQuery",
    "TimeSeriesReader",
    "from_ms",
    "rate_of",
]
