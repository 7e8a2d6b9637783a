"""What a chart draws from a frame: points per column, gaps, the min/max band, quality marks, readouts.

``chart_data(frame, variable, columns=..., start_ms=..., end_ms=...)`` turns a ``RawFrame`` or an
``AggregateFrame`` into arrays ready to plot (x in epoch seconds, NaN where a line must break):

* raw: the values, a NaN inserted across every outage (``mark_gaps``: a spacing over five times the
  median), then min/max per column (``minmax_indices``), so 2.6 million points become a few hundred
  and no spike is lost; booleans as 0/1 (draw them as steps);
* aggregates: the bucket averages as the line and ``minvalue``/``maxvalue`` as the band, a NaN between
  buckets that do not touch (the service leaves out intervals without data);
* ``uncertain_x`` / ``bad_x``: where records (or buckets) have uncertain or bad quality codes, at most
  one mark per column, for markers under the line.

``readout(frame, variable, t_ms)``: the record nearest to ``t_ms`` (raw) or the bucket holding it
(aggregates), for the cursor line: time, value or min/mean/max/count, quality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tui.api import contract as C
from tui.api.ts.downsample import bucket_gaps, gap_step, mark_gaps, minmax_indices
from tui.api.ts.frame import AggregateFrame, RawFrame, quality_classes


@dataclass
class ChartData:
    """Arrays to plot for one variable (see the module doc); ``x`` in epoch seconds."""

    x: np.ndarray
    y: np.ndarray
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    uncertain_x: np.ndarray | None = None
    bad_x: np.ndarray | None = None
    step: bool = False  # booleans: draw as a step line

    def __len__(self) -> int:
        return len(self.x)


def _thin(x: np.ndarray, start: float, end: float, columns: int) -> np.ndarray:
    """At most one of ``x`` (sorted) per column of ``[start, end)``."""
    if not len(x) or end <= start:
        return x
    col = np.floor((x - start) * columns / (end - start)).astype(np.int64)
    keep = np.r_[True, col[1:] != col[:-1]]
    return x[keep]


def _marks(
    t: np.ndarray, window: np.ndarray, hit: np.ndarray, lo: float, hi: float, columns: int, share: float
) -> np.ndarray:
    """Epoch s of one mark per column holding ``hit`` records, where at least ``share`` of the column's
    records (in ``window``) are hits; ``share`` 0 marks every column with one."""
    marked = t[window & hit]
    if not len(marked) or share <= 0 or hi <= lo:
        return _thin(marked / 1000.0, lo / 1000, hi / 1000, columns)
    col_of = np.clip(np.floor((t[window] - lo) * columns / (hi - lo)).astype(np.int64), 0, columns - 1)
    hits = np.bincount(col_of, weights=hit[window].astype(np.float64), minlength=columns)
    total = np.bincount(col_of, minlength=columns)
    keep = (hits > 0) & (hits >= share * np.maximum(total, 1))
    marked_col = np.clip(np.floor((marked - lo) * columns / (hi - lo)).astype(np.int64), 0, columns - 1)
    return _thin(marked[keep[marked_col]] / 1000.0, lo / 1000, hi / 1000, columns)


def chart_data(
    frame: RawFrame | AggregateFrame,
    variable: str,
    *,
    columns: int,
    start_ms: int | None = None,
    end_ms: int | None = None,
    mark_share: float = 0.0,
) -> ChartData:
    """Points for ``variable`` over ``(start_ms, end_ms]`` (default: the frame's span), for a chart
    ``columns`` wide: two points per column at most for raw data, one bucket each for aggregates
    (min/max of the band kept per column when there are more buckets than columns).

    ``mark_share``: a chart column (raw) or an aggregate bucket is marked uncertain (bad) when at least
    this share of its values is uncertain (bad); 0 marks every column or bucket holding one.
    """
    columns = max(1, int(columns))
    if isinstance(frame, AggregateFrame):
        return _aggregate_data(frame, variable, columns, start_ms, end_ms, mark_share)
    col = frame.columns.get(variable)
    if col is None or not len(frame):
        return ChartData(np.empty(0), np.empty(0))
    t = frame.times
    y = col.as_float()
    lo = float(t[0]) if start_ms is None else float(start_ms)
    hi = float(t[-1]) if end_ms is None else float(end_ms)
    is_bool = not col.numeric and any(isinstance(v, bool) for v in col.values[:50])
    present = ~np.isnan(y)
    tp, yp = t[present], y[present]  # missing values of this variable are not gaps by themselves
    tg, yg = mark_gaps(tp, yp, gap_step(tp))
    idx = minmax_indices(tg, yg, columns, lo, hi if end_ms is not None else None)
    x = tg[idx] / 1000.0
    uncertain_x = bad_x = None
    if col.quality is not None:
        classes = quality_classes(col.quality)
        window = (t >= lo) & (t <= hi) & present
        uncertain_x = _marks(t, window, classes == C.TS_QC_UNCERTAIN, lo, hi, columns, mark_share)
        bad_x = _marks(t, window, classes == C.TS_QC_BAD, lo, hi, columns, mark_share)
    return ChartData(x, yg[idx], None, None, uncertain_x, bad_x, step=is_bool)


def _aggregate_data(
    frame: AggregateFrame,
    variable: str,
    columns: int,
    start_ms: int | None,
    end_ms: int | None,
    mark_share: float = 0.0,
) -> ChartData:
    if variable not in frame.stats or not len(frame):
        return ChartData(np.empty(0), np.empty(0))
    view = frame.slice_ms(start_ms, end_ms) if start_ms is not None and end_ms is not None else frame
    f = view.stats[variable]
    mids, y = bucket_gaps(view.starts, view.ends, f["average"])
    _, lo = bucket_gaps(view.starts, view.ends, f["minvalue"])
    _, hi = bucket_gaps(view.starts, view.ends, f["maxvalue"])
    if len(mids) > 2 * columns:
        first = float(mids[0]) if start_ms is None else float(start_ms)
        last = float(mids[-1]) if end_ms is None else float(end_ms)
        keep = np.union1d(
            minmax_indices(mids, lo, columns, first, last), minmax_indices(mids, hi, columns, first, last)
        )
        mids, y, lo, hi = mids[keep], y[keep], lo[keep], hi[keep]
    bucket_mid = (view.starts + view.ends) / 2000.0
    span = (
        (float(view.starts[0]) if start_ms is None else start_ms) / 1000.0,
        (float(view.ends[-1]) if end_ms is None else end_ms) / 1000.0,
    )
    total = np.maximum(view.count(variable), 1)
    uncertain_n, bad_n = np.nan_to_num(f["countuncertain"]), np.nan_to_num(f["countbad"])
    uncertain = bucket_mid[(uncertain_n > 0) & (uncertain_n >= mark_share * total)]
    bad = bucket_mid[(bad_n > 0) & (bad_n >= mark_share * total)]
    return ChartData(
        mids / 1000.0,
        y,
        lo,
        hi,
        _thin(uncertain, span[0], span[1], columns),
        _thin(bad, span[0], span[1], columns),
    )


@dataclass(frozen=True)
class Readout:
    """The cursor's reading: ``time_ms`` of the record (or bucket start), and either ``value`` (raw) or
    ``min``/``mean``/``max``/``count`` (a bucket); ``quality`` is ``good``/``uncertain``/``bad`` or None.
    """

    variable: str
    time_ms: int
    value: Any = None
    min: float | None = None
    mean: float | None = None
    max: float | None = None
    count: int | None = None
    end_ms: int | None = None
    quality: str | None = None
    good_share: float | None = None


_QUALITY_WORDS = {C.TS_QC_GOOD: "good", C.TS_QC_UNCERTAIN: "uncertain", C.TS_QC_BAD: "bad"}


def readout(frame: RawFrame | AggregateFrame, variable: str, t_ms: int) -> Readout | None:
    """The record nearest ``t_ms`` that has ``variable`` (raw), or the bucket holding ``t_ms`` (or the
    nearest one); None when there is nothing to read."""
    if isinstance(frame, AggregateFrame):
        if variable not in frame.stats or not len(frame):
            return None
        counts = frame.count(variable)
        ok = np.flatnonzero(counts > 0)
        if not len(ok):
            return None
        inside = ok[(frame.starts[ok] <= t_ms) & (t_ms < frame.ends[ok])]
        i = (
            int(inside[0])
            if len(inside)
            else int(ok[np.argmin(np.abs((frame.starts[ok] + frame.ends[ok]) / 2 - t_ms))])
        )
        f = frame.stats[variable]
        total = int(counts[i])
        bad = f["countbad"][i]
        uncertain = f["countuncertain"][i]
        word = "bad" if bad > 0 else "uncertain" if uncertain > 0 else "good"
        return Readout(
            variable,
            int(frame.starts[i]),
            min=_num(f["minvalue"][i]),
            mean=_num(f["average"][i]),
            max=_num(f["maxvalue"][i]),
            count=total,
            end_ms=int(frame.ends[i]),
            quality=word,
            good_share=float(f["countgood"][i]) / total if total else None,
        )
    col = frame.columns.get(variable)
    if col is None or not len(frame):
        return None
    present = (
        np.flatnonzero(~np.isnan(col.values))
        if col.numeric
        else np.flatnonzero([v is not None for v in col.values])
    )
    if not len(present):
        return None
    times = frame.times[present]
    k = int(np.searchsorted(times, t_ms))
    candidates = [c for c in (k - 1, k) if 0 <= c < len(times)]
    best = min(candidates, key=lambda c: abs(int(times[c]) - t_ms))
    i = int(present[best])
    quality: str | None = None
    if col.quality is not None and col.quality[i] >= 0:
        quality = _QUALITY_WORDS[int(quality_classes(col.quality[i : i + 1])[0])]
    return Readout(variable, int(frame.times[i]), value=col.value_at(i), quality=quality)


def _num(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
