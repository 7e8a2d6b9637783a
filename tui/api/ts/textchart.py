"""A time series chart as lines of plain text, for ``ihub ts plot`` over SSH (no Textual).

``render_chart(series, width=80, height=16, tz=..., mode="braille")`` is a pure function from series to
lines: a y axis with round ticks and the unit, the plot in braille dots (2×4 per character) or half
blocks (1×2, ``mode="block"``, for fonts without braille), a time axis labelled in the local zone at
round local times, and a legend. Lines join consecutive points; a NaN is a gap (nothing drawn across
it). Each column holds the points that fall in it (min/max per pixel column first, so millions of
points cost the same as a few hundred), and a vertical stroke shows the column's range, so a spike is
never lost. Aggregates give ``lo``/``hi`` (``minvalue``/``maxvalue``): they are drawn as two thin lines
around the mean line. With ``color=True`` each series gets an ANSI colour (a cell takes the colour of
the last series drawn in it). With two series or more each one also carries its marker (``MARKERS``,
the app's chart uses the same) every ``MARKER_SPACING`` columns on its line, staggered, and in the
legend: the series are told apart without colour too (NO_COLOR, a pipe, a printout).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import numpy as np

from tui.api.ts.downsample import minmax_indices
from tui.api.ts.timerange import local_zone, zone_label

BRAILLE_BASE = 0x2800
# Braille dot bits by (column, row) within a cell (Unicode braille pattern layout).
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_BLOCKS = {0: " ", 1: "▀", 2: "▄", 3: "█"}  # top half bit 1, bottom half bit 2
COLORS = ("36", "33", "35", "32", "31", "34")  # cyan, yellow, magenta, green, red, blue
# A series' marker (the n-th series, the n-th marker; the Time series area's chart uses the same).
MARKERS = ("●", "■", "▲", "◆", "○", "□", "△", "◇")
MARKER_SPACING = 10  # columns between two markers of one series
TIME_STEPS = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400, 365 * 86400,
)  # fmt: skip


@dataclass
class ChartSeries:
    """One line: ``x`` epoch seconds (sorted), ``y`` values (NaN = gap); ``lo``/``hi`` an optional band."""

    label: str
    x: np.ndarray
    y: np.ndarray
    unit: str = ""
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None


class _Canvas:
    def __init__(self, cols: int, rows: int, mode: str) -> None:
        self.cols, self.rows, self.mode = cols, rows, mode
        self.sx, self.sy = (2, 4) if mode == "braille" else (1, 2)
        self.w, self.h = cols * self.sx, rows * self.sy
        self.bits = np.zeros((rows, cols), dtype=np.int32)
        self.owner = np.full((rows, cols), -1, dtype=np.int16)
        self.marks: dict[tuple[int, int], int] = {}  # (row, col) -> the series whose marker is there

    def dot(self, px: int, py: int, series: int) -> None:
        if not (0 <= px < self.w and 0 <= py < self.h):
            return
        row, col = py // self.sy, px // self.sx
        if self.mode == "braille":
            self.bits[row, col] |= _DOTS[px % 2][py % 4]
        else:
            self.bits[row, col] |= 1 if py % 2 == 0 else 2
        self.owner[row, col] = series

    def vline(self, px: int, py0: int, py1: int, series: int) -> None:
        for py in range(min(py0, py1), max(py0, py1) + 1):
            self.dot(px, py, series)

    def line(self, x0: int, y0: int, x1: int, y1: int, series: int) -> None:
        """A segment drawn as vertical runs per pixel column (no holes on steep slopes), clipped."""
        if x1 < x0:
            x0, y0, x1, y1 = x1, y1, x0, y0
        if x0 == x1:
            self.vline(x0, y0, y1, series)
            return
        first, last = max(x0, 0), min(x1, self.w - 1)
        prev: int | None = None
        for px in range(first, last + 1):
            py = round(y0 + (y1 - y0) * (px - x0) / (x1 - x0))
            self.vline(px, py if prev is None else prev, py, series)
            prev = py

    def text(self, row: int, color: bool) -> str:
        out: list[str] = []
        current = None
        for col in range(self.cols):
            bits = int(self.bits[row, col])
            ch = chr(BRAILLE_BASE + bits) if self.mode == "braille" else _BLOCKS[bits]
            if self.mode == "braille" and bits == 0:
                ch = " "
            marked = self.marks.get((row, col))
            if marked is not None:
                ch = MARKERS[marked % len(MARKERS)]
            if color:
                owner = int(self.owner[row, col]) if marked is None else marked
                bits = bits or int(marked is not None)
                want = COLORS[owner % len(COLORS)] if owner >= 0 and bits else None
                if want != current:
                    out.append(f"\x1b[{want}m" if want else "\x1b[0m")
                    current = want
            out.append(ch)
        if color and current:
            out.append("\x1b[0m")
        return "".join(out)


def nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Round tick values (1, 2, 5 × 10^k steps) covering ``[lo, hi]``, about ``count`` of them."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10)), key=lambda st: abs((hi - lo) / st - count))
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        value = round(first + k * step, 12)
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        k += 1
    return ticks


_LARGE = ((1e12, "T"), (1e9, "G"), (1e6, "M"))


def format_value(value: float, step: float) -> str:
    """A tick label with as many decimals as the step needs (``0.5``, ``120``, ``25k``, ``17.876M``).

    Millions and more are written in M, G or T with the decimals the step needs, so the ticks of a large
    value that changes little (an energy counter) still read apart (``17.8754M``, ``17.8756M``).
    """
    size = abs(value)
    if size >= 1e15:
        return f"{value:.3g}"
    for scale, suffix in _LARGE:
        if size >= scale:
            decimals = max(0, -math.floor(math.log10(step / scale))) if step > 0 else 0
            return f"{value / scale:.{min(decimals, 6)}f}{suffix}"
    if size >= 1e4 and step >= 1000:
        return f"{value / 1000:g}k"
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return f"{value:.{min(decimals, 6)}f}"


def time_ticks(x0: float, x1: float, max_ticks: int, tz: tzinfo) -> tuple[list[float], int]:
    """Tick times (epoch s) on round local times, and the step in seconds."""
    span = max(x1 - x0, 1e-9)
    step = next((s for s in TIME_STEPS if span / s <= max(1, max_ticks)), TIME_STEPS[-1])
    ticks: list[float] = []
    if step >= 86400:
        days = step // 86400
        local = datetime.fromtimestamp(x0, tz)
        day = datetime(local.year, local.month, 1 if days >= 28 else local.day, tzinfo=tz)
        while day.timestamp() <= x1 and len(ticks) < 400:
            if day.timestamp() >= x0:
                ticks.append(day.timestamp())
            if days >= 365:
                day = datetime(day.year + 1, 1, 1, tzinfo=tz)
            elif days >= 28:
                month = day.month - 1 + days // 30
                day = datetime(day.year + month // 12, month % 12 + 1, 1, tzinfo=tz)
            else:
                nxt = datetime(day.year, day.month, day.day) + timedelta(days=days)
                day = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
        return ticks, step
    offset = (datetime.fromtimestamp(x0, tz).utcoffset() or timedelta(0)).total_seconds()
    first = math.ceil((x0 + offset) / step) * step - offset
    t = first
    while t <= x1 + 1e-9:
        ticks.append(t)
        t += step
    return ticks, step


def time_label(t: float, step: int, tz: tzinfo, previous: datetime | None) -> str:
    local = datetime.fromtimestamp(t, tz)
    if step >= 28 * 86400:
        return local.strftime("%b %Y")
    if step >= 86400:
        return local.strftime("%d %b")
    clock = local.strftime("%H:%M:%S" if step < 60 else "%H:%M")
    if previous is None or previous.date() != local.date():
        return local.strftime("%d %b ") + clock
    return clock


def render_chart(
    series: Sequence[ChartSeries],
    *,
    width: int = 80,
    height: int = 16,
    tz: tzinfo | None = None,
    mode: str = "braille",
    start: float | None = None,
    end: float | None = None,
    color: bool = False,
    title: str | None = None,
) -> list[str]:
    """The chart as lines of text, each at most ``width`` characters (see the module doc).

    ``height`` is the number of plot rows; the axis, labels and legend add 3 or 4 lines. ``start`` and
    ``end`` (epoch s) fix the time window (default: the data's). No data at all gives a one-line note.
    """
    if mode not in ("braille", "block"):
        raise ValueError("mode must be 'braille' or 'block'")
    zone = tz or local_zone()
    width = max(30, int(width))
    height = max(3, int(height))
    xs = [np.asarray(s.x, dtype=np.float64) for s in series]
    values = [np.asarray(a, dtype=np.float64) for s in series for a in (s.y, s.lo, s.hi) if a is not None]
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.empty(0)
    lines: list[str] = [title] if title else []
    if not len(finite):
        lines.append("(no data in this range)")
        return lines
    x0 = start if start is not None else min(float(x[0]) for x in xs if len(x))
    x1 = end if end is not None else max(float(x[-1]) for x in xs if len(x))
    if x1 <= x0:
        x1 = x0 + 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    else:
        pad = (hi - lo) * 0.05
        lo, hi = lo - pad, hi + pad
    ticks = nice_ticks(lo, hi, max(2, height // 3))
    step = ticks[1] - ticks[0] if len(ticks) > 1 else (hi - lo)
    labels = [format_value(v, step) for v in ticks]
    label_w = max(len(s) for s in labels)
    cols = width - label_w - 2
    canvas = _Canvas(cols, height, mode)

    def px_of(x: np.ndarray) -> np.ndarray:
        return np.floor((x - x0) / (x1 - x0) * canvas.w).astype(np.int64)

    def py_of(y: np.ndarray) -> np.ndarray:
        safe = np.where(np.isfinite(y), y, lo)
        return np.round((safe - lo) / (hi - lo) * (canvas.h - 1)).astype(np.int64)

    for index, s in enumerate(series):
        x = np.asarray(s.x, dtype=np.float64)
        for arr in (s.lo, s.hi, s.y):
            if arr is None:
                continue
            y = np.asarray(arr, dtype=np.float64)
            keep = minmax_indices(x, y, canvas.w, x0, x1)
            _draw(canvas, px_of(x[keep]), py_of(y[keep]), np.isfinite(y[keep]), index)
    marked = len(series) >= 2
    if marked:
        for index, s in enumerate(series):
            _mark(canvas, px_of(np.asarray(s.x, dtype=np.float64)), s.y, py_of, index, len(series))

    unit = next((s.unit for s in series if s.unit), "")
    if unit:
        lines.append(" " * max(0, label_w - len(unit)) + unit)
    tick_rows = {
        canvas.rows - 1 - (int(py_of(np.array([v]))[0]) // canvas.sy): lab
        for v, lab in zip(ticks, labels, strict=True)
    }
    for row in range(canvas.rows):
        label = tick_rows.get(row, "")
        axis = "┤" if row in tick_rows else "│"
        body = canvas.text(canvas.rows - 1 - row, color)
        lines.append(f"{label:>{label_w}} {axis}{body}".rstrip())
    # Time axis.
    xt, xstep = time_ticks(x0, x1, max(2, cols // 14), zone)
    axis_chars = ["─"] * cols
    label_chars = [" "] * (cols + 24)
    previous: datetime | None = None
    next_free = 0
    for t in xt:
        col = int((t - x0) / (x1 - x0) * cols)
        if not 0 <= col < cols:
            continue
        axis_chars[col] = "┬"
        text = time_label(t, xstep, zone, previous)
        at = min(col, cols - len(text))  # a label near the right end shifts left to fit
        if at >= next_free:
            label_chars[at : at + len(text)] = list(text)
            next_free = at + len(text) + 2
            previous = datetime.fromtimestamp(t, zone)
    lines.append(" " * label_w + " └" + "".join(axis_chars))
    lines.append((" " * (label_w + 2) + "".join(label_chars)).rstrip())
    legend = []
    for index, s in enumerate(series):
        mark = MARKERS[index % len(MARKERS)] if marked else "⣿" if mode == "braille" else "█"
        if color:
            mark = f"\x1b[{COLORS[index % len(COLORS)]}m{mark}\x1b[0m"
        band = " (band: min–max)" if s.lo is not None or s.hi is not None else ""
        legend.append(f"{mark} {s.label}" + (f" [{s.unit}]" if s.unit else "") + band)
    legend.append(f"times in {zone_label(zone, datetime.fromtimestamp(x1, UTC))}")
    line = ""
    for item in legend:  # wrapped to the width (escape codes do not take columns)
        if line and _visible(line) + 3 + _visible(item) > width:
            lines.append(line)
            line = ""
        line = f"{line}   {item}" if line else item
    lines.append(line)
    return lines


def _visible(text: str) -> int:
    return len(re.sub(r"\x1b\[[0-9;]*m", "", text))


def _mark(canvas: _Canvas, px: np.ndarray, y: np.ndarray, py_of: Any, series: int, count: int) -> None:
    """The series' marker every ``MARKER_SPACING`` columns (or more when many series share the chart),
    staggered between series, in the cell its line passes through there (the mean of its points in that
    column; no marker where it has none: a gap)."""
    values = np.asarray(y, dtype=np.float64)
    spacing = max(MARKER_SPACING, 3 * count)
    columns = np.minimum(px, canvas.w - 1) // canvas.sx
    finite = np.isfinite(values)
    for col in range(2 + series * (spacing // count), canvas.cols, spacing):
        here = (columns == col) & finite
        if not here.any():
            continue
        py = int(py_of(np.array([float(values[here].mean())]))[0])
        canvas.marks[(py // canvas.sy, col)] = series


def _draw(canvas: _Canvas, px: np.ndarray, py: np.ndarray, ok: np.ndarray, series: int) -> None:
    prev: tuple[int, int] | None = None
    for x, y, good in zip(px.tolist(), py.tolist(), ok.tolist(), strict=True):
        if not good:
            prev = None
            continue
        x = canvas.w - 1 if x == canvas.w else x  # the window's end belongs to the last column
        if prev is None:
            canvas.dot(x, y, series)
        else:
            canvas.line(prev[0], prev[1], x, y, series)
        prev = (x, y)
