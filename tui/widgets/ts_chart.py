"""The Time series chart: one or more stacked ``textual-plot`` panels sharing one time axis.

``TimeSeriesChart`` draws what the screen hands it (``Panel`` of ``DrawSeries``, already reduced to a
few points per column by ``tui.api.ts.view.chart_data``); it never reads data itself. Each distinct unit
gets its own panel with its own y axis, stacked with the same time window (textual-plot has one y axis
per plot and no second one: stacked panels keep every series on a scale with its own unit and ticks,
where a normalised second scale would hide the values). Within a panel:

* aggregate buckets are drawn as a filled min/max band (a dim zig-zag through every bucket's min and
  max, so each braille dot column gets a vertical stroke) with the mean line on top;
* a NaN in ``y`` is a gap: each finite stretch is its own line, so nothing is drawn across it;
* booleans are drawn as steps between ``false`` and ``true``;
* several series in a panel carry their marker (``MARKERS``: ``●``, ``■``, ``▲``…) every few columns,
  the glyph the legend shows beside the name, so they read apart without colour (NO_COLOR); without
  colour the bands are drawn dim;
* uncertain (``▴``, yellow) and bad (``✕``, red) quality is marked along the bottom of the panel;
* the cursor is a vertical line through every panel.

The time axis is labelled at round local times of the zone given (``TimeAxis``). Mouse wheel zoom and
drag pan are textual-plot's; the chart syncs the other panels and posts ``WindowChanged`` (debounced)
so the screen can fetch the new window at the right resolution. Keys are the screen's: the panels have
no bindings of their own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

import numpy as np
from rich.color import Color
from textual.app import ComposeResult, RenderResult
from textual.containers import Grid, Vertical
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual_hires_canvas import Canvas, TextAlign
from textual_plot import HiResMode, PlotWidget
from textual_plot.axis_formatter import AxisFormatter
from textual_plot.plot_widget import Legend, LinePlot, VLinePlot

from tui.api.ts.downsample import runs
from tui.api.ts.textchart import MARKER_SPACING, MARKERS, format_value, nice_ticks, time_label, time_ticks
from tui.widgets.colours import wants_no_colour
from tui.widgets.plot_canvas import PlotCanvas

# Series colours, in the order new series get them: distinct on dark and light themes.
PALETTE = (
    "#4fc3f7",  # sky blue
    "#ffb74d",  # orange
    "#ba68c8",  # violet
    "#81c784",  # green
    "#e57373",  # red
    "#fff176",  # yellow
    "#4db6ac",  # teal
    "#f06292",  # pink
)
# Series markers (tui.api.ts.textchart.MARKERS, as `ihub ts plot` draws them), one per palette colour (the
# same order): drawn along the lines of a panel holding several series and shown in the legend, they tell
# the series apart without colour (NO_COLOR, a monochrome terminal, colour blindness). Not ▴ or ✕: those
# mark quality.
UNCERTAIN_STYLE = "bold #ffd54f"
BAD_STYLE = "bold #ef5350"
CURSOR_STYLE = "#b0bec5"
UNCERTAIN_MARK = "▴"
BAD_MARK = "✕"
STATE_LABEL = "state"  # the panel of boolean series
WINDOW_DEBOUNCE_S = 0.35
MARGIN_LEFT = 8  # columns for the y tick labels (more when a label needs them, up to MAX_MARGIN_LEFT)
MAX_MARGIN_LEFT = 14
LABEL_GAP = 2  # blank columns at least between two time labels


def series_marker(color: str) -> str:
    """The marker of the series drawn in ``color`` (``MARKERS``, in the order of ``PALETTE``)."""
    return MARKERS[PALETTE.index(color) % len(MARKERS)] if color in PALETTE else MARKERS[0]


def marker_xy(
    x: np.ndarray, y: np.ndarray, start: float, end: float, columns: int, phase: int, spacing: int
) -> tuple[np.ndarray, np.ndarray]:
    """Where a series' markers go: the middle of every ``spacing``-th data column of ``[start, end]``
    (``columns`` wide) from column ``phase``, on the line drawn through ``(x, y)`` (linear between its
    points; none outside the points or in a gap, where ``y`` is NaN)."""
    if columns < 1 or end <= start or len(x) < 2:
        return np.empty(0), np.empty(0)
    cols = np.arange(phase, columns, max(1, spacing))
    mx = start + (cols + 0.5) * (end - start) / columns
    my = np.interp(mx, x, y, left=np.nan, right=np.nan)
    keep = np.isfinite(my)
    return mx[keep], my[keep]


def dim(color: str, amount: float = 0.45, background: str = "#1e1e1e") -> str:
    """``color`` mixed with ``background`` (the band under a mean line)."""
    a = Color.parse(color).get_truecolor()
    b = Color.parse(background).get_truecolor()
    mix = [round(x * amount + y * (1 - amount)) for x, y in zip(a, b, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def step_xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A step line: each value holds until the next point (a NaN still breaks the line)."""
    if len(x) < 2:
        return x, y
    xs = np.empty(2 * len(x) - 1)
    ys = np.empty(2 * len(y) - 1)
    xs[0::2], ys[0::2] = x, y
    xs[1::2], ys[1::2] = x[1:], y[:-1]
    # A step into or out of a gap is not drawn: the held value ends where the gap starts.
    ys[1::2][np.isnan(y[1:])] = np.nan
    return xs, ys


def band_xy(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One zig-zag path through every point's min and max: drawn as a line it fills the band with
    vertical strokes (lo->hi at even points, hi->lo at odd ones), broken where either is NaN."""
    n = len(x)
    xs = np.repeat(np.asarray(x, dtype=np.float64), 2)
    ys = np.empty(2 * n)
    even = (np.arange(n) % 2) == 0
    first = np.where(even, lo, hi)
    second = np.where(even, hi, lo)
    ys[0::2], ys[1::2] = first, second
    bad = np.isnan(lo) | np.isnan(hi)
    ys[0::2][bad] = np.nan
    ys[1::2][bad] = np.nan
    return xs, ys


def fill_band(
    x: np.ndarray, lo: np.ndarray, hi: np.ndarray, start: float, end: float, dots: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The band resampled to one point per braille dot column of ``[start, end]``: each dot column takes
    the nearest bucket's min and max, or NaN when no bucket is within half the usual spacing (a gap)."""
    if len(x) < 2 or dots < 2 or end <= start:
        return x, lo, hi
    grid = start + (np.arange(dots) + 0.5) * (end - start) / dots
    right = np.clip(np.searchsorted(x, grid), 1, len(x) - 1)
    left = right - 1
    nearest = np.where(np.abs(x[left] - grid) <= np.abs(x[right] - grid), left, right)
    spacing = float(np.median(np.diff(x)))
    far = np.abs(x[nearest] - grid) > max(spacing * 0.75, (end - start) / dots)
    glo = np.where(far, np.nan, lo[nearest])
    ghi = np.where(far, np.nan, hi[nearest])
    return grid, glo, ghi


@dataclass
class DrawSeries:
    """One series as the chart draws it: x epoch seconds, y with NaN gaps, an optional band."""

    color: str
    x: np.ndarray
    y: np.ndarray
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    step: bool = False
    uncertain_x: np.ndarray | None = None
    bad_x: np.ndarray | None = None
    marker: str = ""  # drawn along the line when the panel has several series (default: by colour)

    @property
    def glyph(self) -> str:
        return self.marker or series_marker(self.color)


@dataclass
class Panel:
    """A stacked plot: its y label (the unit) and its series; ``state`` panels show false/true."""

    label: str
    series: list[DrawSeries] = field(default_factory=list)
    state: bool = False


class TimeAxis(AxisFormatter):
    """Ticks at round local times (``tui.api.ts.textchart.time_ticks``), at most ``max_ticks``."""

    def __init__(self, tz: tzinfo, max_ticks: int = 6) -> None:
        self.tz = tz
        self.max_ticks = max_ticks
        self._step = 3600

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        ticks, step = time_ticks(min_, max_, max(2, self.max_ticks), self.tz)
        self._step = step
        return ticks

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        labels: list[str] = []
        previous: float | None = None
        for t in ticks:
            labels.append(self.label(float(t), previous))
            previous = float(t)
        return labels

    def label(self, t: float, previous: float | None, *, short: bool = False) -> str:
        """The label of tick ``t`` after the label of tick ``previous``: with the date when it changed,
        unless ``short`` (the clock alone, where the dated label has no room)."""
        before = datetime.fromtimestamp(t if short else previous, self.tz) if previous is not None else None
        return time_label(t, self._step, self.tz, before)


def label_start(anchor: int, length: int, width: int, *, at_end: bool = False) -> int | None:
    """The first column of a tick label ``length`` long for a tick at column ``anchor`` of a row ``width``
    wide: centred under the tick as textual-plot centres it (ending at the tick at the axis' right end),
    then moved left or right just enough to lie whole in the row, so it still covers its tick. None when
    the row is narrower than the label."""
    if length > width:
        return None
    start = anchor - length + 1 if at_end else anchor - length // 2 + (1 - length % 2)
    return max(0, min(start, width - length))


class ValueAxis(AxisFormatter):
    """Round value ticks with labels short enough for the margin (``25k``, ``0.5``)."""

    def __init__(self, max_ticks: int = 5) -> None:
        self.max_ticks = max_ticks
        self._step = 1.0

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        ticks = nice_ticks(min_, max_, max(2, self.max_ticks))
        self._step = ticks[1] - ticks[0] if len(ticks) > 1 else max(abs(max_ - min_), 1e-9)
        return [t for t in ticks if min_ <= t <= max_]

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return [format_value(float(t), self._step) for t in ticks]


class StateAxis(AxisFormatter):
    """Two ticks for booleans: ``false`` at 0 and ``true`` at 1."""

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        return [0.0, 1.0]

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return ["true" if t >= 0.5 else "false" for t in ticks]


class ChartPlot(PlotWidget, inherit_bindings=False, can_focus=False):
    """One panel: a ``PlotWidget`` without keys of its own, slim margins, and a cursor line."""

    BINDINGS = []
    margin_top = reactive(1)
    margin_bottom = reactive(1)
    margin_left = reactive(MARGIN_LEFT)

    def compose(self) -> ComposeResult:
        # PlotWidget's own layout, with canvases that draw and paint faster (tui.widgets.plot_canvas).
        with Grid():
            yield PlotCanvas(1, 1, id="margin-top")
            yield PlotCanvas(1, 1, id="margin-left")
            yield PlotCanvas(1, 1, id="plot")
            yield PlotCanvas(1, 1, id="margin-bottom")
        yield Legend(id="legend")

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # Textual lays out, then paints the children before their parent. PlotWidget resizes its canvases
        # and draws in its own render(), so after a resize the canvases are painted stale, then drawn,
        # then painted again. Here the canvases take the sizes the grid gives them (textual-plot's
        # layout: the margins around the plot) and are drawn while the layout settles, before the one
        # paint; render() falls back to the library's way if a canvas ends up another size.
        changed = super()._size_updated(size, virtual_size, container_size, layout)
        if changed and self.is_mounted:
            chart = self.parent
            if isinstance(chart, TimeSeriesChart):
                chart.fit_columns(max(1, self.content_size.width - self.margin_left - 2))
            self._draw_at(self.content_size)
        return changed

    def _draw_at(self, size: Size) -> None:
        width, height = size.width, size.height
        top, bottom, left = self.margin_top, self.margin_bottom, self.margin_left
        middle = max(0, height - top - bottom)
        sizes = {
            "margin-top": Size(width, top),
            "margin-left": Size(left, middle),
            "plot": Size(max(0, width - left), middle),
            "margin-bottom": Size(width, bottom),
        }
        canvases = {canvas.id: canvas for canvas in self.query(Canvas)}
        if set(canvases) != set(sizes) or not all(sizes.values()):
            return
        for name, canvas in canvases.items():
            wanted = sizes[name or ""]
            if canvas._canvas_size != wanted:
                canvas.reset(size=wanted, refresh=False)
        plot = sizes["plot"]
        if isinstance(self._y_formatter, ValueAxis):  # as many value ticks as the new height holds
            self._y_formatter.max_ticks = max(3, (height - 2) // 3)
        scale_rectangle = Region(1, 1, plot.width - 2, plot.height - 2)
        if self._scale_rectangle != scale_rectangle:
            self._scale_rectangle = scale_rectangle
            self._position_legend()
        self._render_plot()
        self._needs_rerender = False
        self._needs_canvas_resize = False
        self.early_draws += 1

    early_draws = 0  # draws done while the layout settled (benchmarks)

    def render(self) -> RenderResult:
        for canvas in self.query(Canvas):
            if canvas.size and canvas.size != canvas._canvas_size:
                self._needs_rerender = self._needs_canvas_resize = True
        return super().render()

    def _render_plot(self) -> None:
        # textual-hires-canvas refreshes its widget on every pixel written (box, ticks, markers): one
        # refresh per canvas for the whole render instead (about 1 000 refreshes per panel otherwise).
        with ExitStack() as stack:
            for canvas in self.query(Canvas):
                stack.enter_context(canvas.batch_refresh())
            super()._render_plot()

    def _render_x_ticks(self) -> None:
        # textual-plot centres each label under its tick and the margin canvas cuts what runs past its
        # right edge: a tick in the last columns lost its label's end ("12:0" for 12:00). Here a label is
        # moved left (or right) to lie whole in the row; where it would then touch the label before it, a
        # dated time label gives up its date ("00:00"), and a label that still has no room is left out
        # (its tick mark stays). A label after one left out says the date if it changed.
        plot = self.query_one("#plot", Canvas)
        bottom = self.query_one("#margin-bottom", Canvas)
        bottom.reset()
        formatter = self._x_formatter
        found = formatter.get_ticks(self._x_min, self._x_max) if self._x_ticks is None else self._x_ticks
        ticks = [float(t) for t in found if self._x_min <= t <= self._x_max]
        if not ticks:
            return
        time_axis = formatter if isinstance(formatter, TimeAxis) else None
        labels = [] if time_axis else formatter.get_labels_for_ticks(ticks)
        axis_style = str(self.get_component_rich_style("plot--axis"))
        tick_style = self.get_component_rich_style("plot--tick")
        width = bottom._canvas_size.width
        free = 0  # the first column the next label may take
        shown: float | None = None  # the last tick labelled
        for index, tick in enumerate(ticks):
            x, _ = self.get_pixel_from_coordinate(tick, 0.0)
            if tick == self._x_min:
                x -= 1  # on the axis' left corner, as textual-plot puts it
            for y, quad in ((0, (2, 0, 0, 0)), (self._scale_rectangle.bottom, (0, 0, 2, 0))):
                plot.set_pixel(x, y, self.combine_quad_with_pixel(quad, plot, x, y), style=axis_style)
            at_end = tick == self._x_max
            label = time_axis.label(tick, shown) if time_axis else labels[index]
            start = label_start(x + self.margin_left, len(label), width, at_end=at_end)
            if (start is None or start < free) and time_axis and shown is not None:
                label = time_axis.label(tick, shown, short=True)  # "00:00" where "17 Jun 00:00" has no room
                start = label_start(x + self.margin_left, len(label), width, at_end=at_end)
            if start is None or start < free:
                continue
            bottom.write_text(start, 0, f"[{tick_style}]{label}", TextAlign.LEFT)
            free = start + len(label) + LABEL_GAP
            shown = tick

    def _render_y_label(self) -> None:
        # textual-plot clears the left and bottom margins before writing their ticks, but writes the y
        # label (the unit) over whatever the top margin holds: when the tick margin changed (wider labels
        # after a zoom), the old label stayed beside the new one (``kkWh``, ``kWhh``) until a resize. The
        # top margin holds nothing else, so it is cleared first.
        self.query_one("#margin-top", Canvas).reset()
        super()._render_y_label()

    def _render_line_plot(self, dataset: LinePlot) -> None:
        # The library maps point by point (get_hires_pixel_from_coordinate); the same arithmetic on
        # whole arrays gives the same floats, so the same segments are drawn.
        if not dataset.hires_mode:
            super()._render_line_plot(dataset)
            return
        area = self._scale_rectangle
        xs = _mapped(dataset.x, self._x_min, self._x_max, area.x, area.right)
        ys = _mapped(dataset.y, self._y_min, self._y_max, area.bottom, area.y)
        points = list(zip(xs.tolist(), ys.tolist(), strict=True))
        self.query_one("#plot", Canvas).draw_hires_lines(
            [(*a, *b) for a, b in zip(points, points[1:], strict=False)],
            style=dataset.line_style,
            hires_mode=dataset.hires_mode,
        )

    def set_cursor(self, x: float | None) -> None:
        """Show the cursor at ``x`` (epoch s), or hide it."""
        self._v_lines = [VLinePlot(x=x, line_style=CURSOR_STYLE)] if x is not None else []
        self._v_lines_labels = [None] * len(self._v_lines)
        self._rerender()

    @property
    def columns(self) -> int:
        """Character columns inside the axes (where data is drawn)."""
        return max(1, self.size.width - self.margin_left - 2)


def _mapped(values: np.ndarray, a: float, b: float, a_prime: float, b_prime: float) -> np.ndarray:
    """textual-plot's ``linear_mapper`` on a whole array: the same operations in the same order."""
    return a_prime + (np.asarray(values, dtype=np.float64) - a) * (b_prime - a_prime) / (b - a)


def y_limits(panel: Panel) -> tuple[float, float]:
    """The y range of a panel with 5 % room above and below (a flat series gets a readable range)."""
    if panel.state:
        return -0.15, 1.15
    parts = [a for s in panel.series for a in (s.y, s.lo, s.hi) if a is not None and len(a)]
    finite = np.concatenate([a[np.isfinite(a)] for a in parts]) if parts else np.empty(0)
    if not len(finite):
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < 1e-9 * max(1.0, abs(hi)):
        pad = abs(hi) * 0.1 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.06
    return lo - pad, hi + pad


def label_margin(panels: Sequence[Panel]) -> int:
    """Columns left of the panels for their y tick labels: ``MARGIN_LEFT``, or more when a label is
    longer (a large value that changes little, ``17.8754M``), up to ``MAX_MARGIN_LEFT``. The labels are
    taken for every tick count a panel's height may give, so a resize does not cut them."""
    widest = MARGIN_LEFT - 1
    for panel in panels:
        if panel.state:
            continue
        ylo, yhi = y_limits(panel)
        for count in (3, 5, 8, 12):
            axis = ValueAxis(count)
            labels = axis.get_labels_for_ticks(axis.get_ticks(ylo, yhi))
            widest = max([widest, *map(len, labels)])
    return min(widest + 1, MAX_MARGIN_LEFT)


class TimeSeriesChart(Vertical, can_focus=True):
    """Stacked panels sharing one time window (see the module doc); focusable so the screen's keys reach
    it, and it posts ``WindowChanged`` after a mouse zoom or pan."""

    DEFAULT_CSS = """
    TimeSeriesChart {
        height: 1fr;
    }
    TimeSeriesChart > ChartPlot {
        height: 1fr;
        min-height: 5;
    }
    """

    class Resized(Message):
        """The chart's size changed: points per column may need drawing again."""

    @dataclass
    class WindowChanged(Message):
        """The user zoomed or panned with the mouse: the new window, epoch seconds."""

        start_s: float
        end_s: float

    def __init__(self, *, tz: tzinfo = UTC, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.tz = tz
        self.panels: list[Panel] = []
        self.window: tuple[float, float] = (0.0, 1.0)
        self.cursor: float | None = None
        self._pending: tuple[float, float] | None = None
        self._debounce: Timer | None = None
        self.draws = 0  # how many times data was drawn (tests, benchmarks)
        self.drawn_columns = 0  # the data columns the drawn points were made for
        # Set by the screen: the panels for a new number of data columns (None: keep what is drawn).
        # Asked while a resize is laid out, so the one repaint after it shows points for the new width.
        self.derive: Callable[[int], list[Panel] | None] | None = None

    def compose(self) -> ComposeResult:
        yield from ()

    def on_resize(self) -> None:
        self.post_message(self.Resized())

    @property
    def plots(self) -> list[ChartPlot]:
        return list(self.query_children(ChartPlot))

    @property
    def columns(self) -> int:
        """Data columns of a panel (an estimate from the chart's width before the first panel exists)."""
        plots = self.plots
        if plots and plots[0].size.width:
            return plots[0].columns
        return max(20, self.size.width - MARGIN_LEFT - 2)

    async def draw(
        self,
        panels: list[Panel],
        start_s: float,
        end_s: float,
        cursor: float | None,
        columns: int | None = None,
    ) -> None:
        """Replace what is drawn: ``panels`` over ``[start_s, end_s]`` with the cursor at ``cursor``;
        ``columns``: the data columns the points were made for (default: the panels' current width)."""
        self.panels = panels
        self.window = (start_s, end_s)
        self.cursor = cursor
        plots = self.plots
        if len(plots) > len(panels):
            await self.remove_children(plots[len(panels) :])
            plots = plots[: len(panels)]
        while len(plots) < len(panels):
            plot = ChartPlot(allow_pan_and_zoom=True)
            await self.mount(plot)
            plots.append(plot)
        for plot in plots:
            # A draw that overtook a cancelled one (a newer read) can find the panel it mounted not
            # mounted yet; PlotWidget.on_mount clears the plot, so wait for it before drawing.
            if not plot.is_mounted:
                await plot._mounted_event.wait()
        width = columns or (plots[0].columns if plots and plots[0].size.width else self.columns)
        margin = label_margin(panels)
        for index, (plot, panel) in enumerate(zip(plots, panels, strict=True)):
            if plot.margin_left != margin:
                plot.margin_left = margin  # every panel the same: the time axes stay aligned
            self._draw_panel(plot, panel, width, last=index == len(panels) - 1)
        self.drawn_columns = width
        self.draws += 1

    def fit_columns(self, columns: int) -> None:
        """The panels are now ``columns`` wide (called by a panel while a resize is laid out): draw the
        points ``derive`` gives for that width, when it gives the same panels."""
        if self.derive is None or not self.panels or columns == self.drawn_columns:
            return
        panels = self.derive(columns)
        plots = self.plots
        if panels is None or len(panels) != len(plots):
            return  # the screen reads again or redraws after the resize
        self.panels = panels
        for index, (plot, panel) in enumerate(zip(plots, panels, strict=True)):
            self._draw_panel(plot, panel, columns, last=index == len(panels) - 1)
        self.drawn_columns = columns
        self.draws += 1

    def _draw_panel(self, plot: ChartPlot, panel: Panel, width: int, *, last: bool) -> None:
        start_s, end_s = self.window
        plot.clear()
        plot.set_ylabel(panel.label)
        plot.set_x_formatter(TimeAxis(self.tz, max_ticks=max(2, width // 14)))
        rows = plot.size.height or max(6, self.size.height // max(1, len(self.panels)))
        plot.set_y_formatter(StateAxis() if panel.state else ValueAxis(max(3, (rows - 2) // 3)))
        plot.set_xticks(None if last else [])
        ylo, yhi = y_limits(panel)
        plot.set_xlimits(start_s, end_s if end_s > start_s else start_s + 1)
        plot.set_ylimits(ylo, yhi)
        # Without colour a band would look like its mean line: it is drawn dim (an attribute, not a colour).
        faint = " dim" if self.is_attached and wants_no_colour(self.app) else ""
        for s in panel.series:  # bands first: the lines are drawn over them
            if s.lo is not None and s.hi is not None and len(s.x):
                gx, glo, ghi = fill_band(s.x, s.lo, s.hi, start_s, end_s, 2 * width)
                bx, by = band_xy(gx, glo, ghi)
                for xs, ys in runs(bx, by):
                    plot.plot(xs, ys, line_style=dim(s.color) + faint, hires_mode=HiResMode.BRAILLE)
        lines = []
        for s in panel.series:
            x, y = (step_xy(s.x, s.y) if s.step else (s.x, s.y)) if len(s.x) else (s.x, s.y)
            lines.append((x, y))
            for xs, ys in runs(x, y):
                if len(xs) == 1:
                    plot.scatter(xs, ys, marker_style=s.color, hires_mode=HiResMode.BRAILLE)
                else:
                    plot.plot(xs, ys, line_style=s.color, hires_mode=HiResMode.BRAILLE)
        count = len(panel.series)
        if count > 1:  # each series' marker along its line, the series' columns staggered
            spacing = max(MARKER_SPACING, 3 * count)
            for index, (s, (x, y)) in enumerate(zip(panel.series, lines, strict=True)):
                phase = (index * spacing) // count + spacing // (2 * count)
                mx, my = marker_xy(x, y, start_s, end_s, width, phase, spacing)
                if len(mx):
                    plot.scatter(mx, my, marker=s.glyph, marker_style=f"bold {s.color}")
        bottom = ylo + (yhi - ylo) * 0.02
        for s in panel.series:
            for marks, glyph, style in (
                (s.uncertain_x, UNCERTAIN_MARK, UNCERTAIN_STYLE),
                (s.bad_x, BAD_MARK, BAD_STYLE),
            ):
                if marks is not None and len(marks):
                    plot.scatter(marks, np.full(len(marks), bottom), marker=glyph, marker_style=style)
        plot.set_cursor(self.cursor)

    def set_cursor(self, x: float | None) -> None:
        self.cursor = x
        for plot in self.plots:
            plot.set_cursor(x)

    def clear(self) -> None:
        """Nothing drawn (the panels stay, empty)."""
        self.panels = []
        for plot in self.plots:
            plot.clear()

    # -- mouse zoom and pan --------------------------------------------------------------------------
    def on_plot_widget_scale_changed(self, message: PlotWidget.ScaleChanged) -> None:
        message.stop()
        if not math.isfinite(message.x_min) or not math.isfinite(message.x_max):
            return
        for plot in self.plots:
            if plot is not message.plot:
                plot.set_xlimits(message.x_min, message.x_max)
        self._pending = (message.x_min, message.x_max)
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(WINDOW_DEBOUNCE_S, self._window_settled)

    def _window_settled(self) -> None:
        if self._pending is not None:
            start, end = self._pending
            self._pending = None
            self.post_message(self.WindowChanged(start, end))
