"""The Time series area: charts of aspect variables, from any number of assets, at the right resolution.

The screen is the controller. Widgets post what the user wants (``SeriesPicker``: an asset search, a
variable to chart; ``TimeSeriesChart``: a mouse zoom) and the screen reads through the time series
core (``tui.api.ts``: ``TimeSeriesReader`` plans raw or aggregates for the chart's width, reads
concurrently and caches), turns frames into points per column (``chart_data``) and hands them back.
Network calls run in exclusive async workers, so a newer request cancels an older one.

Series are grouped by (asset, aspect): one read per group for all its charted variables. Each unit gets
its own panel (its own y axis), booleans a step panel, text variables the table view. Zoom and pan
re-read the new window (semantic zoom: far enough in, the source becomes raw values); the cache
answers a window already read. Live mode polls the newest records every ``LIVE_INTERVAL_S`` and
slides the window; it pauses while the area is hidden or the app is suspended.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, ClassVar, TextIO

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Static

from tui.api import contract as C
from tui.api.models import Aspect, Asset
from tui.api.ts.export import RowWriter, default_name, open_row_writer, write_frame, write_pages
from tui.api.ts.fetch import LoadResult, SeriesQuery, TimeSeriesReader
from tui.api.ts.frame import AggregateFrame, RawFrame, format_ms, series_stats
from tui.api.ts.plan import Force, format_count
from tui.api.ts.timerange import (
    RangeError,
    TimeRange,
    describe_length,
    format_local,
    local_zone,
    preset,
    zone_label,
)
from tui.api.ts.view import chart_data, readout
from tui.areas import Area
from tui.config.inputs import InputError, clean_text
from tui.config.safety import Destruction
from tui.context import ChartRequest, PaletteCommand
from tui.errors import error_text
from tui.flows.assets import name_contains
from tui.messages import ConnectionChanged
from tui.screens.base import AreaScreen
from tui.screens.ts_dialogs import ExportChoice, ExportDialog, RangeChoice, RangeDialog, force_text
from tui.widgets.ts_chart import (
    MARGIN_LEFT,
    PALETTE,
    STATE_LABEL,
    DrawSeries,
    Panel,
    TimeSeriesChart,
    series_marker,
)
from tui.widgets.ts_picker import CHARTABLE, SeriesPicker
from tui.widgets.ts_views import (
    LegendRow,
    SeriesLegend,
    SeriesTable,
    StatsTable,
    format_number,
    quality_mark,
    readout_text,
)

DEFAULT_PRESET = "24h"
LIVE_INTERVAL_S = 5.0
MAX_PANELS = 3
TABLE_ROWS = 1000
SEARCH_PAGE = 50
ZOOM_FACTOR = 0.5
PAN_FRACTION = 0.25
REDRAW_DEBOUNCE_S = 0.15
# An aggregate bucket is marked uncertain or bad when at least this share of its values is: a sensor with
# 1 % bad values spread evenly would otherwise mark every bucket (the readout and statistics give shares).
MARK_SHARE = 0.05
PICKER_WIDTH = 34  # tui/tcss/timeseries.tcss #ts-picker
REPLAN_CHANGE = 0.25  # a chart this much wider or narrower than planned for is read again
# A chart at most this much wider or narrower than its points were made for keeps them: the min and max of
# every old column are still drawn, only a little closer together or further apart.
KEEP_POINTS_CHANGE = 0.1

Group = tuple[str, str]  # (asset id, aspect name)


@dataclass
class Series:
    """One charted variable of one asset's aspect, with its colour (and the marker that goes with it)."""

    asset_id: str
    asset_name: str
    aspect: str
    variable: str
    unit: str
    data_type: str
    color: str

    @property
    def group(self) -> Group:
        return (self.asset_id, self.aspect)

    @property
    def marker(self) -> str:
        return series_marker(self.color)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.asset_id, self.aspect, self.variable)

    @property
    def label(self) -> str:
        return f"{self.asset_name} · {self.variable}"

    @property
    def chartable(self) -> bool:
        return self.data_type in CHARTABLE or self.data_type == ""

    @property
    def is_bool(self) -> bool:
        return self.data_type == "BOOLEAN"

    @property
    def numeric(self) -> bool:
        return self.data_type in C.AGG_NUMERIC_TYPES


class TimeSeriesScreen(AreaScreen):
    """Charts of aspect variables (see the module doc)."""

    BINDING_GROUP_TITLE = "Time series"
    live_interval: ClassVar[float] = LIVE_INTERVAL_S

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "pick", "Series", id="ts.pick", tooltip="Pick an asset, aspect and variables to chart"),
        Binding("r", "range", "Range", id="ts.range", tooltip="Time range: presets or from/to, and source"),
        Binding(
            "plus,equals_sign",
            "zoom(0.5)",
            "Zoom in",
            id="ts.zoom_in",
            key_display="+",
            tooltip="Zoom in: the narrower window is read at a finer resolution (raw when it fits)",
        ),
        Binding(
            "minus",
            "zoom(2.0)",
            "Zoom out",
            id="ts.zoom_out",
            key_display="-",
            tooltip="Zoom out: twice the window",
        ),
        Binding(
            "shift+left",
            "pan(-1)",
            "Pan",
            id="ts.pan_left",
            key_display="⇧←→",
            tooltip="Pan a quarter window earlier (⇧←) or later (⇧→)",
        ),
        Binding("shift+right", "pan(1)", "Pan later", id="ts.pan_right", show=False),
        Binding(
            "left", "cursor(-1)", "Cursor", id="ts.cursor_left", show=False, tooltip="Cursor one column left"
        ),
        Binding(
            "right",
            "cursor(1)",
            "Cursor",
            id="ts.cursor_right",
            show=False,
            tooltip="Cursor one column right",
        ),
        Binding("0", "reset", "Reset", id="ts.reset", tooltip="Back to the chosen range"),
        Binding("t", "table", "Table", id="ts.table", tooltip="Table view of the same data"),
        Binding("s", "stats", "Stats", id="ts.stats", tooltip="Statistics per series"),
        Binding("l", "live", "Live", id="ts.live", tooltip="Live mode: poll the newest values and slide"),
        Binding("e", "export", "Export", id="ts.export", tooltip="Export to CSV or JSON"),
        Binding(
            "f", "source", "Source", id="ts.source", show=False, tooltip="Source: auto, raw or an interval"
        ),
        Binding("c", "clear", "Clear", id="ts.clear", show=False, tooltip="Take every series off the chart"),
        Binding(
            "f5,ctrl+r", "refresh", "Refresh", id="ts.refresh", show=False, tooltip="Read again (no cache)"
        ),
        Binding("escape", "hide_cursor", "Hide cursor", id="ts.hide_cursor", show=False),
    ]

    def __init__(self, area: Area) -> None:
        super().__init__(area)
        self.zone: tzinfo = local_zone()
        self.series: list[Series] = []
        self.preset_key: str | None = DEFAULT_PRESET
        self.force: Force = "auto"
        self.range: TimeRange = preset(DEFAULT_PRESET, now=datetime.now(UTC))
        self.home: TimeRange = self.range
        self.results: dict[Group, LoadResult] = {}
        self.errors: dict[Group, str] = {}
        self.aspects: dict[str, list[Aspect]] = {}
        self.cursor_ms: int | None = None
        self.live = False
        self.polls = 0
        self.show_table = False
        self.show_stats = False
        self.last_export: list[Path] = []
        self.status = ""
        self._reader: TimeSeriesReader | None = None
        self._reader_api: object = None
        self._pending: ChartRequest | None = None
        self._live_timer: Timer | None = None
        self._redraw_timer: Timer | None = None
        self._drawn_columns = 0
        self._planned_columns = 0
        self._polling = False
        self._asked = False  # opened with a ChartRequest: the picker's asset list waits until it is used

    # -- layout --------------------------------------------------------------------------------------
    def compose_area(self) -> ComposeResult:
        yield Static("", id="ts-range", markup=False)
        with Horizontal(id="ts-body"):
            yield SeriesPicker(id="ts-picker")
            with Vertical(id="ts-main"):
                yield Static("", id="ts-message", markup=False)
                yield TimeSeriesChart(tz=self.zone, id="ts-chart")
                yield SeriesTable(id="ts-table")
                yield StatsTable(id="ts-stats")
                yield SeriesLegend(id="ts-legend")
        yield Static("", id="ts-status", markup=False)

    @property
    def chart(self) -> TimeSeriesChart:
        return self.query_one("#ts-chart", TimeSeriesChart)

    @property
    def picker(self) -> SeriesPicker:
        return self.query_one("#ts-picker", SeriesPicker)

    @property
    def legend(self) -> SeriesLegend:
        return self.query_one("#ts-legend", SeriesLegend)

    @property
    def table(self) -> SeriesTable:
        return self.query_one("#ts-table", SeriesTable)

    @property
    def stats(self) -> StatsTable:
        return self.query_one("#ts-stats", StatsTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.chart.tz = self.zone
        self.chart.derive = self._panels_for_resize
        self.range = self.home = preset(DEFAULT_PRESET, now=self._now())
        self.table.display = False
        self.stats.display = False
        self.legend.display = False
        self._live_timer = self.set_interval(self.live_interval, self._live_tick, pause=True, name="ts-live")
        self.app.app_suspend_signal.subscribe(self, self._app_suspended)
        self.app.app_resume_signal.subscribe(self, self._app_resumed)
        self._show_range()
        self._message(
            f"Press {self.key_of('ts.pick')} to pick an asset, an aspect and variables "
            "(or c on an aspect in Assets)."
        )
        self.picker.display = True  # the asset list is filled once connected (on_connection_changed)
        self.chart.focus()

    # -- time ----------------------------------------------------------------------------------------
    def _now(self) -> datetime:
        """ "Now" for the ranges: the service's time as the connection knows it (the local clock plus the
        skew measured on the token), so a local clock half an hour off does not ask for the future."""
        api = self.ctx.api
        if api is not None:
            return datetime.fromtimestamp(api.server_time(), UTC)
        return datetime.fromtimestamp(self.ctx.services.clock(), UTC)

    # -- the connection ------------------------------------------------------------------------------
    def on_connection_changed(self, message: ConnectionChanged) -> None:
        api = self.ctx.api
        if api is None or api is self._reader_api:
            return
        self._reader = TimeSeriesReader(api)
        self._reader_api = api
        self.aspects.clear()
        self.results.clear()
        if self._pending is not None:
            request, self._pending = self._pending, None
            self._open_request(request)
        elif self.series:
            self.reload()
        if (
            self.picker.display
            and self.picker.stage == "asset"
            and not self.picker.assets
            and not self._asked
        ):
            self._search("")  # fill the picker of an empty area (not when it was opened to chart something)

    @property
    def reader(self) -> TimeSeriesReader | None:
        api = self.ctx.api
        if api is None:
            return None
        if self._reader is None or self._reader_api is not api:
            self._reader = TimeSeriesReader(api)
            self._reader_api = api
        return self._reader

    # -- requests from other areas -------------------------------------------------------------------
    def handle_request(self, request: object) -> None:
        """``ChartRequest`` from Assets (``c``) or the palette: chart those variables (empty: every numeric
        variable of the aspect) in place of what was charted."""
        if not isinstance(request, ChartRequest):
            super().handle_request(request)
            return
        self._asked = True
        if self.ctx.api is None:
            self._pending = request
            self._message(f"Waiting for the connection to chart {request.aspect}…")
            return
        self._open_request(request)

    def add_request(self, request: ChartRequest) -> None:
        """Add the variables of ``request`` to what is charted (pump A against pump B)."""
        self._open_request(request, replace=False)

    @work(exclusive=True, group="ts-request", exit_on_error=False, description="open chart")
    async def _open_request(self, request: ChartRequest, replace: bool = True) -> None:
        api = self.ctx.api
        if api is None:
            self._pending = request
            return
        what = request.asset_name or request.asset_id
        try:  # both at once: one round trip, not two
            asset, aspects = await asyncio.gather(
                api.assets.get(request.asset_id), self._aspects_of(request.asset_id)
            )
        except Exception as exc:
            self._message(f"Cannot chart {what}: {error_text(exc)}", error=True)
            return
        name = asset.name or request.asset_name or request.asset_id
        aspect = next((a for a in aspects if a.name == request.aspect), None)
        if aspect is None:
            known = ", ".join(a.name for a in aspects) or "none"
            self._message(f"{name} has no aspect '{request.aspect}' (aspects: {known}).", error=True)
            return
        by_name = {v.name: v for v in aspect.variables}
        names = list(request.variables) or [v.name for v in aspect.variables if v.is_numeric]
        unknown = [n for n in names if n not in by_name]
        if unknown:
            known = ", ".join(by_name) or "none"
            self._message(
                f"{aspect.name} of {name} has no variable {', '.join(repr(u) for u in unknown)} "
                f"(variables: {known}).",
                error=True,
            )
            return
        if not names:
            self._message(f"{aspect.name} of {name} has no numeric variables: pick some with a.", error=True)
            return
        if replace:
            self.series = []
            self.results.clear()
            self.errors.clear()
            self.cursor_ms = None
        charted = {s.key for s in self.series}
        for var_name in names:
            if (asset.asset_id, aspect.name, var_name) not in charted:
                self._add_series(asset.asset_id, name, aspect, var_name)
        self.picker.asset = asset
        self.picker.aspect = aspect
        self.picker.aspects = aspects
        self._close_picker()
        self._sync_picker()
        self._reanchor()
        self.reload()

    def _reanchor(self) -> None:
        """A relative preset ("last 24 h") that the user has not zoomed or panned ends now, not when the
        area first charted: new series read up to the present."""
        if self.preset_key is None or self.range != self.home or self.live:
            return
        self.range = self.home = preset(self.preset_key, now=self._now())
        self._show_range()

    # -- series --------------------------------------------------------------------------------------
    async def _aspects_of(self, asset_id: str) -> list[Aspect]:
        if asset_id not in self.aspects:
            api = self.ctx.api
            if api is None:
                raise RuntimeError("not connected")
            self.aspects[asset_id] = await api.assets.aspects(asset_id)
        return self.aspects[asset_id]

    def _next_color(self) -> str:
        used = {s.color for s in self.series}
        return next((c for c in PALETTE if c not in used), PALETTE[len(self.series) % len(PALETTE)])

    def _add_series(self, asset_id: str, asset_name: str, aspect: Aspect, variable: str) -> Series:
        var = next(v for v in aspect.variables if v.name == variable)
        series = Series(
            asset_id,
            asset_name,
            aspect.name,
            variable,
            var.unit or "",
            (var.data_type or "").upper(),
            self._next_color(),
        )
        self.series.append(series)
        return series

    def _groups(self) -> dict[Group, list[Series]]:
        groups: dict[Group, list[Series]] = {}
        for s in self.series:
            groups.setdefault(s.group, []).append(s)
        return groups

    def _sync_picker(self) -> None:
        self.picker.set_charted({s.key for s in self.series})

    # -- the picker ----------------------------------------------------------------------------------
    def _open_picker(self, focus: bool = True) -> None:
        picker = self.picker
        picker.display = True
        if focus:
            picker.focus_box()
        if picker.stage == "asset" and not picker.assets and self.ctx.api is not None and self.is_mounted:
            self._search(picker.box.value.strip())

    def _close_picker(self) -> None:
        self.picker.display = False
        self.chart.focus()

    def action_pick(self) -> None:
        if self.picker.display and self.picker.has_focus_within:
            self._close_picker()
        else:
            self._open_picker()

    @on(SeriesPicker.Closed)
    def _picker_closed(self, message: SeriesPicker.Closed) -> None:
        message.stop()
        if self.series:
            self._close_picker()
        else:
            self.chart.focus()

    @on(SeriesPicker.SearchAssets)
    def _picker_search(self, message: SeriesPicker.SearchAssets) -> None:
        message.stop()
        self._search(message.text)

    @work(exclusive=True, group="ts-search", exit_on_error=False, description="asset search")
    async def _search(self, text: str) -> None:
        api = self.ctx.api
        if api is None:
            self.picker.show_message("not connected")
            return
        try:
            text = clean_text(text, "search")
        except InputError as err:  # a name pasted with a zero-width space would match nothing
            self.picker.show_message(str(err))
            return
        try:
            assets, total = await api.assets.page(0, SEARCH_PAGE, name_contains(text) if text else None)
        except Exception as exc:
            self.picker.show_message(error_text(exc))
            return
        note = f"{SEARCH_PAGE} of {total} shown: type to narrow" if total > len(assets) else ""
        self.picker.show_assets(assets, note)

    @on(SeriesPicker.AssetChosen)
    def _picker_asset(self, message: SeriesPicker.AssetChosen) -> None:
        message.stop()
        self._load_aspects(message.asset_id)

    @work(exclusive=True, group="ts-aspects", exit_on_error=False, description="aspects")
    async def _load_aspects(self, asset_id: str) -> None:
        picker = self.picker
        try:
            aspects = await self._aspects_of(asset_id)
        except Exception as exc:
            picker.show_message(error_text(exc))
            return
        asset = (
            picker.asset if picker.asset and picker.asset.asset_id == asset_id else Asset(asset_id=asset_id)
        )
        picker.show_aspects(asset, aspects)

    @on(SeriesPicker.VariableToggled)
    def _picker_variable(self, message: SeriesPicker.VariableToggled) -> None:
        message.stop()
        key = (message.asset_id, message.aspect.name, message.variable)
        existing = next((s for s in self.series if s.key == key), None)
        if existing is not None:
            self.series.remove(existing)
        else:
            self._add_series(message.asset_id, message.asset_name, message.aspect, message.variable)
        self._sync_picker()
        if not self.series:
            self.results.clear()
            self._after_clear()
            return
        self.reload()

    # -- reading -------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read every group for the current range (cache first) and redraw."""
        self._load()

    @work(exclusive=True, group="ts-load", exit_on_error=False, description="read time series")
    async def _load(self) -> None:
        reader = self.reader
        self._show_range()
        if reader is None:
            self._message("Not connected: choose a profile (p) or check the Keys area (1).", error=True)
            return
        if not self.series:
            return
        groups = self._groups()
        width = self.plan_columns()
        self._planned_columns = width
        rng = self.range
        self._set_status(f"reading {rng.describe(self.zone)}…")
        outcomes = await asyncio.gather(
            *(self._load_group(reader, group, series, rng, width) for group, series in groups.items()),
            return_exceptions=True,
        )
        if rng != self.range:
            return  # the window moved meanwhile; a newer read follows
        self.results = {}
        self.errors = {}
        for group, outcome in zip(groups, outcomes, strict=True):
            if isinstance(outcome, LoadResult):
                self.results[group] = outcome
            elif isinstance(outcome, asyncio.CancelledError):
                raise outcome
            else:
                self.errors[group] = error_text(outcome)
        await self._redraw()
        self._set_status(self._summary())

    async def _load_group(
        self, reader: TimeSeriesReader, group: Group, series: list[Series], rng: TimeRange, width: int
    ) -> LoadResult:
        asset_id, aspect_name = group
        aspects = await self._aspects_of(asset_id)
        aspect = next((a for a in aspects if a.name == aspect_name), None)
        if aspect is None:
            raise LookupError(f"the asset has no aspect '{aspect_name}' any more")
        query = SeriesQuery.for_aspect(asset_id, aspect, [s.variable for s in series], rng)
        return await reader.load(query, width, self.force)

    def _summary(self) -> str:
        parts: list[str] = []
        groups = self._groups()
        one_aspect = len({aspect for _asset, aspect in groups}) == 1
        for group, series in groups.items():
            name = series[0].asset_name if one_aspect else f"{series[0].asset_name} · {group[1]}"
            name = f"{name}: " if len(groups) > 1 else ""
            if group in self.results:
                parts.append(name + self.results[group].summary)
            elif group in self.errors:
                parts.append(name + "failed")
        return " │ ".join(parts)

    # -- drawing -------------------------------------------------------------------------------------
    def _panels(self, width: int) -> tuple[list[Panel], int, list[str]]:
        """The chart's panels for ``width`` data columns, how many series have points, and problems."""
        start_ms, end_ms = self.range.start_ms, self.range.end_ms
        panels: dict[str, Panel] = {}
        problems: list[str] = []
        drawn = 0
        for s in self.series:
            result = self.results.get(s.group)
            if result is None or not s.chartable:
                continue
            frame = result.frame
            if not self._has(frame, s.variable):
                continue
            data = chart_data(
                frame, s.variable, columns=width, start_ms=start_ms, end_ms=end_ms, mark_share=MARK_SHARE
            )
            if s.numeric and isinstance(frame, RawFrame) and not frame.columns[s.variable].numeric:
                continue  # values of another type than the aspect says: see the legend note
            if len(data) and np.isfinite(data.y).any():
                drawn += 1
            key = STATE_LABEL if s.is_bool else (s.unit or "no unit")
            panel = panels.setdefault(key, Panel(label=key, state=s.is_bool))
            panel.series.append(
                DrawSeries(
                    s.color,
                    data.x,
                    data.y,
                    data.lo,
                    data.hi,
                    data.step or s.is_bool,
                    data.uncertain_x,
                    data.bad_x,
                    s.marker,
                )
            )
        chosen = list(panels.values())
        if len(chosen) > MAX_PANELS:
            merged = Panel(", ".join(p.label for p in chosen[MAX_PANELS - 1 :]))
            for extra in chosen[MAX_PANELS - 1 :]:
                merged.series.extend(extra.series)
            chosen = [*chosen[: MAX_PANELS - 1], merged]
            problems.append("more units than panels: the last panel mixes units")
        return chosen, drawn, problems

    def _panels_for_resize(self, columns: int) -> list[Panel] | None:
        """Panels for a chart now ``columns`` wide, asked by the chart while a resize is laid out (so the
        one repaint shows points made for the new width); None when a new read is due instead."""
        if not self.results or not self.is_current or self._keeps_points(columns):
            return None
        planned = max(1, self._planned_columns)
        if abs(columns - planned) / planned > REPLAN_CHANGE:
            return None  # much wider or narrower: _resized reads again
        self._drawn_columns = columns
        return self._panels(columns)[0]

    def _keeps_points(self, columns: int) -> bool:
        drawn = max(1, self._drawn_columns)
        return abs(columns - drawn) / drawn <= KEEP_POINTS_CHANGE

    async def _redraw(self) -> None:
        """Turn the frames into points for the chart's width, and refresh legend, table and statistics."""
        chart = self.chart
        plots = chart.plots
        width = plots[0].columns if plots and plots[0].size.width else self.plan_columns()
        self._drawn_columns = width
        chosen, drawn, problems = self._panels(width)
        start_ms, end_ms = self.range.start_ms, self.range.end_ms
        cursor = self.cursor_ms / 1000 if self.cursor_ms is not None else None
        await chart.draw(chosen, start_ms / 1000, end_ms / 1000, cursor, width)
        chart.display = bool(chosen) and not self.show_table
        self._update_legend()
        if self.show_stats:
            self._fill_stats()
        if self.show_table:
            self._fill_table()
        errors = [f"{self._group_name(g)}: {text}" for g, text in self.errors.items()]
        if errors:
            self._message(" · ".join(errors), error=True)
        elif self.series and not drawn and self.results:
            chartable = [s for s in self.series if s.chartable]
            if chartable:
                self._message(
                    f"No data between {format_local(self.range.start, self.zone)} and "
                    f"{format_local(self.range.end, self.zone)} for "
                    f"{', '.join(s.variable for s in chartable)}: choose another range (r) or zoom out (-).",
                    error=False,
                )
            else:
                self._message("Text variables are shown in the table view (t).")
        else:
            self._message(" · ".join(problems))

    def _group_name(self, group: Group) -> str:
        series = self._groups().get(group)
        return f"{series[0].asset_name} · {group[1]}" if series else group[1]

    @staticmethod
    def _has(frame: RawFrame | AggregateFrame, variable: str) -> bool:
        return variable in (frame.stats if isinstance(frame, AggregateFrame) else frame.columns)

    def _note(self, s: Series) -> str:
        """Why a series is not drawn (or drawn partly), in words; empty when it is drawn."""
        result = self.results.get(s.group)
        if s.group in self.errors:
            return "not read: see the message above"
        if result is None:
            return "reading…"
        frame = result.frame
        if not s.chartable:
            return f"{s.data_type.lower()}: values in the table view (t)"
        if not self._has(frame, s.variable):
            if isinstance(frame, AggregateFrame):
                return "no aggregates for this type: zoom in for raw values"
            return "no values in this range"
        if s.numeric and isinstance(frame, RawFrame) and not frame.columns[s.variable].numeric:
            return f"values are not numbers (the aspect says {s.data_type}): see the table view (t)"
        if not len(frame):
            return "no values in this range"
        return ""

    def _update_legend(self) -> None:
        rows: list[LegendRow] = []
        for s in self.series:
            note = self._note(s)
            detail = None
            result = self.results.get(s.group)
            if self.cursor_ms is not None and result is not None and self._has(result.frame, s.variable):
                detail = readout_text(readout(result.frame, s.variable, self.cursor_ms), self.zone, s.unit)
            drawn = s.chartable and not note
            rows.append(LegendRow(s.color if drawn else None, s.label, s.unit, detail, note, s.marker))
        header = None
        if self.cursor_ms is not None:
            header = Text.assemble(
                ("Cursor ", "bold"),
                datetime.fromtimestamp(self.cursor_ms / 1000, self.zone).strftime("%Y-%m-%d %H:%M:%S"),
            )
        if any(
            isinstance(r.frame, RawFrame)
            and any(c.quality is not None for c in r.frame.columns.values())
            or isinstance(r.frame, AggregateFrame)
            for r in self.results.values()
        ):
            marks = Text("   ▴ uncertain  ✕ bad quality", style="dim")
            header = (header or Text()).append_text(marks) if header else marks
        self.legend.show(rows, header)

    # -- the range -----------------------------------------------------------------------------------
    def _show_range(self) -> None:
        rng = self.range
        name = next((label for label, key, _ in _presets() if key == self.preset_key), None)
        text = Text()
        text.append(f" {name or 'Custom'} ", style="bold reverse")
        start = format_local(rng.start, self.zone, seconds=True)
        text.append(f"  {start} → {format_local(rng.end, self.zone, seconds=True)}")
        text.append(f"  {describe_length(rng.duration)}", style="bold")
        text.append(f"  {zone_label(self.zone, rng.end)}", style="dim")
        text.append(f"  source: {force_text(self.force)}", style="dim")
        if self.live:
            text.append("  ● live", style="bold green")
        self.query_one("#ts-range", Static).update(text)

    def set_range(self, rng: TimeRange, preset_key: str | None = None, *, home: bool = False) -> None:
        """Show ``rng`` (read at the chart's resolution); ``home`` makes it what ``0`` returns to."""
        self.range = rng
        self.preset_key = preset_key
        if home:
            self.home = rng
        if self.cursor_ms is not None and not rng.start_ms < self.cursor_ms <= rng.end_ms:
            self.cursor_ms = None
        self._show_range()
        self.reload()

    def action_range(self, focus: str = "presets") -> None:
        dialog = RangeDialog(
            self.range, self.preset_key, self.force, now=self._now(), tz=self.zone, focus=focus
        )
        self.app.push_screen(dialog, self._range_chosen)

    def action_source(self) -> None:
        self.action_range(focus="source")

    def _range_chosen(self, choice: RangeChoice | None) -> None:
        if choice is None:
            return
        self.force = choice.force
        if choice.preset is None and self.live:
            self._stop_live("the range is fixed")
        self.set_range(choice.range, choice.preset, home=True)

    def apply_preset(self, key: str) -> None:
        self.set_range(preset(key, now=self._now()), key, home=True)

    def action_zoom(self, factor: float) -> None:
        center = None
        if self.cursor_ms is not None:
            center = datetime.fromtimestamp(self.cursor_ms / 1000, UTC)
        elif self.live:
            center = self.range.end  # live: keep the newest values in view
        self._move(lambda r: r.zoomed(factor, center))

    def action_pan(self, direction: int) -> None:
        if self.live:
            self._stop_live("the window was moved")
        self._move(lambda r: r.shifted(PAN_FRACTION * direction))

    def _move(self, change: Any) -> None:
        try:
            rng = change(self.range)
        except RangeError as exc:
            self._message(str(exc), error=True)
            return
        self.set_range(rng, None)

    def action_reset(self) -> None:
        self.cursor_ms = None
        key = self.preset_key if self.home == self.range else None
        rng = preset(key, now=self._now()) if key else self.home
        self.set_range(rng, self._home_preset(), home=False)

    def _home_preset(self) -> str | None:
        for _label, key, length in _presets():
            if self.home.duration == length and self.home.end >= self._now() - timedelta(minutes=1):
                return key
        return None

    @on(TimeSeriesChart.WindowChanged)
    def _mouse_window(self, message: TimeSeriesChart.WindowChanged) -> None:
        message.stop()
        start = int(message.start_s * 1000)
        end = int(message.end_s * 1000)
        self._move(lambda _r: TimeRange.from_ms(start, max(end, start + 1000)))

    def action_refresh(self) -> None:
        reader = self.reader
        if reader is not None:
            for asset_id, aspect in self._groups():
                reader.cache.invalidate(asset_id, aspect)
        self.reload()

    def action_clear(self) -> None:
        self.series = []
        self.results.clear()
        self.errors.clear()
        self._sync_picker()
        self._after_clear()

    def _after_clear(self) -> None:
        if self.live:
            self._stop_live("nothing is charted")
        self.cursor_ms = None
        self.chart.clear()
        self.chart.display = False
        self.legend.show([])
        self.table.clear(columns=True)
        self.stats.clear()
        self._set_status("")
        self._message(f"Nothing charted. Press {self.key_of('ts.pick')} to pick variables.")

    # -- cursor --------------------------------------------------------------------------------------
    def action_cursor(self, direction: int) -> None:
        if not self.series:
            return
        start, end = self.range.start_ms, self.range.end_ms
        step = max(1, (end - start) // max(1, self.chart.columns))
        if self.cursor_ms is None:
            self.cursor_ms = self._latest_ms() if direction > 0 else start + (end - start) // 2
        else:
            self.cursor_ms = min(end, max(start + 1, self.cursor_ms + direction * step))
        self.chart.set_cursor(self.cursor_ms / 1000)
        self._update_legend()
        if self.show_table:
            self._fill_table()

    def _latest_ms(self) -> int:
        latest = [
            int(r.frame.times[-1]) if isinstance(r.frame, RawFrame) else int(r.frame.starts[-1])
            for r in self.results.values()
            if len(r.frame)
        ]
        return max(latest) if latest else self.range.end_ms

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape hides the cursor only when there is one; otherwise it goes on to the app (dismissing
        the notifications shown)."""
        if action == "hide_cursor":
            return self.cursor_ms is not None
        return super().check_action(action, parameters)

    def action_hide_cursor(self) -> None:
        if self.cursor_ms is not None:
            self.cursor_ms = None
            self.chart.set_cursor(None)
            self._update_legend()

    # -- table and statistics ------------------------------------------------------------------------
    def action_table(self) -> None:
        self.show_table = not self.show_table
        self.table.display = self.show_table
        self.chart.display = not self.show_table and bool(self.chart.panels)
        if self.show_table:
            self._fill_table()
            self.table.focus()
        else:
            self.chart.focus()

    def action_stats(self) -> None:
        self.show_stats = not self.show_stats
        self.stats.display = self.show_stats
        if self.show_stats:
            self._fill_stats()

    def _fill_stats(self) -> None:
        rows = []
        for s in self.series:
            result = self.results.get(s.group)
            if result is None or not self._has(result.frame, s.variable):
                continue
            stats = series_stats(result.frame, s.variable)
            rows.append((s.color if s.chartable else None, s.marker, s.label, s.unit, stats))
        self.stats.show(rows)

    def _fill_table(self) -> None:
        """The rows of every series over the range: times merged, ``TABLE_ROWS`` around the cursor (or the
        newest), a bucket as mean (min–max)."""
        columns: list[tuple[str, str | None]] = []
        sources: list[tuple[Series, RawFrame | AggregateFrame, np.ndarray]] = []
        for s in self.series:
            result = self.results.get(s.group)
            if result is None or not self._has(result.frame, s.variable):
                continue
            frame = result.frame
            times = frame.times if isinstance(frame, RawFrame) else frame.starts
            columns.append((f"{s.label}" + (f" [{s.unit}]" if s.unit else ""), s.color))
            sources.append((s, frame, times))
        if not sources:
            self.table.show([("no data", None)], [])
            return
        all_times = np.unique(np.concatenate([t for _s, _f, t in sources]))
        around = self.cursor_ms if self.cursor_ms is not None else int(all_times[-1]) if len(all_times) else 0
        center = int(np.searchsorted(all_times, around))
        lo = max(0, min(center - TABLE_ROWS // 2, len(all_times) - TABLE_ROWS))
        window = all_times[lo : lo + TABLE_ROWS]
        rows: list[list[Text | str]] = []
        index = [np.searchsorted(t, window) for _s, _f, t in sources]
        for r, t in enumerate(window.tolist()):
            row: list[Text | str] = [
                datetime.fromtimestamp(t / 1000, self.zone).strftime("%Y-%m-%d %H:%M:%S")
            ]
            for (s, frame, times), idx in zip(sources, index, strict=True):
                i = int(idx[r])
                if i >= len(times) or int(times[i]) != t:
                    row.append("")
                    continue
                row.append(_cell(frame, s.variable, i))
            rows.append(row)
        self.table.show(columns, rows)
        self.table.border_subtitle = (
            f"{len(window):,} of {len(all_times):,} rows".replace(",", " ")
            + (" around the cursor" if self.cursor_ms is not None else " (the newest)")
            if len(all_times) > len(window)
            else f"{len(window):,} rows".replace(",", " ")
        )
        if self.cursor_ms is not None and len(window):
            at = int(np.searchsorted(window, self.cursor_ms))
            self.table.move_cursor(row=min(len(window) - 1, at))

    # -- live mode -----------------------------------------------------------------------------------
    def action_live(self) -> None:
        if self.live:
            self._stop_live()
            return
        if not self.series:
            self.notify("Chart something first (a).", title="Live mode", severity="warning")
            return
        self.live = True
        length = self.range.duration
        now = self._now()
        if self.range.end < now - timedelta(seconds=self.live_interval * 2):
            self.set_range(TimeRange.of(now - length, now), self._home_preset())
        self._show_range()
        if self.is_current:
            self._timer(True)
        self._set_status(self._summary())

    def _stop_live(self, why: str = "") -> None:
        self.live = False
        self._timer(False)
        self._show_range()
        if why:
            self.notify(f"Live mode off: {why}.", title="Time series")
        self._set_status(self._summary())

    def on_screen_suspend(self) -> None:
        self._timer(False)

    def on_screen_resume(self) -> None:
        if self.live:
            self._timer(True)
            self._live_tick()

    def _app_suspended(self, _app: object) -> None:
        self._timer(False)

    def _app_resumed(self, _app: object) -> None:
        if self.live and self.is_current:
            self._timer(True)

    @property
    def live_paused(self) -> bool:
        """True while live mode is on but not polling (area hidden, app suspended)."""
        return self.live and not self._polling

    def _timer(self, on: bool) -> None:
        if self._live_timer is None:
            return
        if on:
            self._live_timer.resume()
        else:
            self._live_timer.pause()
        self._polling = on

    def _live_tick(self) -> None:
        if self.live and self._polling:
            self._poll()

    @work(exclusive=True, group="ts-live", exit_on_error=False, description="live update")
    async def _poll(self) -> None:
        api = self.ctx.api
        if api is None or not self.live:
            return
        self.polls += 1
        now = self._now()
        length = self.range.duration
        new_range = TimeRange.of(now - length, now)
        updated: dict[Group, LoadResult] = {}
        for group, series in self._groups().items():
            result = self.results.get(group)
            if result is None:
                continue
            try:
                frame = await self._poll_group(api, group, series, result, now)
            except Exception as exc:
                self.errors[group] = error_text(exc)
                continue
            frame = (
                frame.slice_ms(new_range.start_ms, new_range.end_ms)
                if isinstance(frame, RawFrame)
                else frame.slice_ms(new_range.start_ms, new_range.end_ms)
            )
            updated[group] = dataclasses.replace(
                result, frame=frame, query=result.query.with_range(new_range)
            )
        if not self.live:
            return
        self.results.update(updated)
        self.range = new_range
        if self.cursor_ms is not None and self.cursor_ms <= new_range.start_ms:
            self.cursor_ms = None
        self._show_range()
        await self._redraw()
        self._set_status(self._summary())

    async def _poll_group(
        self, api: Any, group: Group, series: list[Series], result: LoadResult, now: datetime
    ) -> RawFrame | AggregateFrame:
        asset_id, aspect = group
        frame = result.frame
        now_ms = int(now.timestamp() * 1000)
        names = [s.variable for s in series]
        if isinstance(frame, RawFrame):
            last = int(frame.times[-1]) if len(frame) else result.query.range.start_ms
            if last >= now_ms:
                return frame
            records = await api.timeseries.read(
                asset_id, aspect, format_ms(last), format_ms(now_ms), select=names
            )
            return frame.extended(records)
        interval = result.plan.interval
        if interval is None:
            return frame
        first = int(frame.starts[-1]) if len(frame) else interval.floor_ms(result.query.range.start_ms)
        if first >= now_ms:
            return frame
        numeric = [s.variable for s in series if s.numeric] or names
        items = await api.aggregates.get_items(
            asset_id,
            aspect,
            datetime.fromtimestamp(first / 1000, UTC),
            now,
            interval.value,
            interval.unit,
            select=numeric,
        )
        newer = AggregateFrame.from_items(items, frame.variables or None)
        return _merge_aggregates(frame, newer)

    # -- export --------------------------------------------------------------------------------------
    def action_export(self) -> None:
        groups = self._groups()
        if not groups or not self.results:
            self.notify(
                "Nothing to export yet: chart something first (a).", title="Export", severity="warning"
            )
            return
        first = self.series[0]
        name = default_name(first.asset_name, first.aspect, self.range.start_ms, "csv")
        counts = []
        for result in self.results.values():
            unit = "points" if result.plan.source == "raw" else f"{result.plan.interval.label} buckets"  # type: ignore[union-attr]
            counts.append(f"{format_count(len(result.frame))} {unit}")
        dialog = ExportDialog(Path.cwd() / name, ", ".join(counts), len(groups))
        self.app.push_screen(dialog, self._export_chosen)

    def _export_chosen(self, choice: ExportChoice | None) -> None:
        if choice is None:
            return
        existing = [path for path in self._export_paths(choice) if path.exists()]
        if not existing:
            self._export(choice)
            return
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        self.confirm_destructive(
            Destruction.FILE_OVERWRITE,
            "Replace the file?",
            f"{existing[0]}{more} already exists. Replace it with the export?",
            existing[0].name,
            lambda yes: self._export(choice) if yes else self.notify("Nothing was exported.", title="Export"),
            confirm_label="Replace",
        )

    def _export_paths(self, choice: ExportChoice) -> list[Path]:
        """The files an export writes: the chosen path, or one per asset and aspect beside it."""
        groups = self._groups()
        if len(groups) == 1:
            return [choice.path]
        return [_group_path(choice.path, series[0].asset_name, group[1]) for group, series in groups.items()]

    @work(exclusive=True, group="ts-export", exit_on_error=False, description="export")
    async def _export(self, choice: ExportChoice) -> None:
        groups = self._groups()
        written: list[tuple[Path, int]] = []
        reader = self.reader
        try:
            for group, series in groups.items():
                path = (
                    choice.path
                    if len(groups) == 1
                    else _group_path(choice.path, series[0].asset_name, group[1])
                )
                names = [s.variable for s in series]
                if choice.full:
                    if reader is None:
                        raise RuntimeError("not connected")
                    aspect = next(a for a in await self._aspects_of(group[0]) if a.name == group[1])
                    query = SeriesQuery.for_aspect(group[0], aspect, names, self.range)
                    planned = await reader.plan(query, force="raw", streaming=True)
                    quality = [v.name for v in aspect.variables if v.name in names and v.quality_code]
                    self._set_status(f"exporting every raw record to {path}…")
                    written.append(
                        await write_pages(
                            path, reader.pages(planned), _writer_for(choice.fmt, names, quality)
                        )
                    )
                else:
                    result = self.results.get(group)
                    if result is None:
                        continue
                    frame = result.frame.project(names)
                    target = await self.in_thread(write_frame, path, frame, choice.fmt, description="export")
                    written.append((target, len(frame)))
        except Exception as exc:
            self.ctx.show_error(exc, title="Export failed")
            self._set_status(self._summary())
            return
        self.last_export = [p for p, _n in written]
        lines = [f"{format_count(n)} rows → {p}" for p, n in written]
        self.notify("\n".join(lines), title="Exported", timeout=12, markup=False)
        self._set_status("exported " + "; ".join(lines))

    # -- messages and status ---------------------------------------------------------------------------
    def _message(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#ts-message", Static)
        message.update(text)
        message.set_class(error, "-error")
        message.display = bool(text)

    @property
    def message_text(self) -> str:
        return str(self.query_one("#ts-message", Static).render())

    def _set_status(self, text: str) -> None:
        self.status = text
        live = f"● live, every {self.live_interval:g} s · " if self.live else ""
        self.query_one("#ts-status", Static).update(f" {live}{text}" if live or text else "")

    # -- resize ----------------------------------------------------------------------------------------
    def plan_columns(self) -> int:
        """The chart's data columns once the layout settles (the picker open or closed), for the plan."""
        width = self.size.width or self.app.size.width
        if self.picker.display:
            width -= PICKER_WIDTH
        return max(20, width - MARGIN_LEFT - 2)

    @on(TimeSeriesChart.Resized)
    def _chart_resized(self, message: TimeSeriesChart.Resized) -> None:
        message.stop()
        if self.results and self.is_current:
            if self._redraw_timer is not None:
                self._redraw_timer.stop()
            self._redraw_timer = self.set_timer(REDRAW_DEBOUNCE_S, self._resized)

    async def _resized(self) -> None:
        columns = self.chart.columns
        if not self.results or self._keeps_points(columns):
            return
        planned = max(1, self._planned_columns)
        if abs(columns - planned) / planned > REPLAN_CHANGE:
            self.reload()  # much wider or narrower: another resolution may fit (the cache may answer)
        else:
            await self._redraw()

    # -- palette ---------------------------------------------------------------------------------------
    def palette_commands(self) -> Iterable[PaletteCommand]:
        for label, key, _length in _presets():
            yield PaletteCommand(
                f"Time range: last {label}",
                f"Chart the last {label}",
                lambda k=key: self.apply_preset(k),
                False,
            )
        yield PaletteCommand("Time range…", "Presets, a custom from/to, and the source", self.action_range)
        yield PaletteCommand("Pick series", "Choose an asset, an aspect and variables", self.action_pick)
        yield PaletteCommand("Toggle table view", "The charted data as rows", self.action_table)
        yield PaletteCommand(
            "Toggle statistics", "Min, max, mean, last, count, good share", self.action_stats
        )
        yield PaletteCommand(
            "Toggle live mode", "Poll the newest values and slide the window", self.action_live
        )
        yield PaletteCommand(
            "Export…", "What is shown or every raw record, to CSV or JSON", self.action_export
        )
        yield PaletteCommand("Clear chart", "Take every series off the chart", self.action_clear, False)


def _presets() -> tuple[tuple[str, str, timedelta], ...]:
    from tui.api.ts.timerange import PRESETS

    return PRESETS


def _cell(frame: RawFrame | AggregateFrame, variable: str, i: int) -> Text | str:
    if isinstance(frame, AggregateFrame):
        f = frame.stats[variable]
        mean, lo, hi = f["average"][i], f["minvalue"][i], f["maxvalue"][i]
        if math.isnan(mean):
            return ""
        text = Text(format_number(float(mean)))
        text.append(f" ({format_number(float(lo))}–{format_number(float(hi))})", style="dim")
        bad, uncertain = f["countbad"][i], f["countuncertain"][i]
        total = max(1.0, float(np.nansum([f["countgood"][i], uncertain, bad])))
        worst = "bad" if bad >= MARK_SHARE * total and bad > 0 else None
        worst = worst or ("uncertain" if uncertain >= MARK_SHARE * total and uncertain > 0 else None)
        text.append_text(quality_mark(worst))
        return text
    col = frame.columns[variable]
    value = col.value_at(i)
    if value is None:
        return ""
    text = Text(format_number(value))
    if col.quality is not None and col.quality[i] >= 0:
        from tui.api.ts.frame import quality_class

        cls = quality_class(int(col.quality[i]))
        text.append_text(quality_mark({1: "uncertain", 2: "bad"}.get(cls)))
    return text


def _merge_aggregates(old: AggregateFrame, newer: AggregateFrame) -> AggregateFrame:
    """``old`` with its buckets from ``newer``'s first start on replaced by ``newer`` (live mode)."""
    if not len(newer):
        return old
    keep = int(np.searchsorted(old.starts, newer.starts[0], side="left"))
    head = old.take(slice(0, keep))
    names = list(dict.fromkeys(old.variables + newer.variables))
    stats: dict[str, dict[str, np.ndarray]] = {}
    for name in names:
        a = head.stats.get(name, {})
        b = newer.stats.get(name, {})
        fields = dict.fromkeys(list(a) + list(b))
        stats[name] = {
            f: np.concatenate([a.get(f, np.full(len(head), np.nan)), b.get(f, np.full(len(newer), np.nan))])
            for f in fields
        }
    return AggregateFrame(
        np.concatenate([head.starts, newer.starts]), np.concatenate([head.ends, newer.ends]), stats
    )


def _writer_for(fmt: str, names: list[str], quality: list[str]) -> Callable[[TextIO], RowWriter]:
    def make(stream: TextIO) -> RowWriter:
        return open_row_writer(fmt, stream, names, quality=quality)

    return make


def _group_path(path: Path, asset_name: str, aspect: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in f"{asset_name}-{aspect}")
    return path.with_name(f"{path.stem}-{safe}{path.suffix}")


__all__ = ["Series", "TimeSeriesScreen"]
