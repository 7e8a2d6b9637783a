"""The Time series area's text views: the legend with the cursor readout, statistics, and the table view.

All three only show what the screen gives them: rows already computed from the frames
(``tui.api.ts.view.readout``, ``tui.api.ts.frame.series_stats``). Values keep their unit and quality
in words; times are local (the zone is shown in the range bar).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from rich.text import Text
from textual.widgets import DataTable, Static

from tui.api.ts.frame import SeriesStats
from tui.api.ts.view import Readout
from tui.widgets.ts_chart import BAD_MARK, BAD_STYLE, UNCERTAIN_MARK, UNCERTAIN_STYLE

QUALITY_STYLE = {"good": "green", "uncertain": UNCERTAIN_STYLE, "bad": BAD_STYLE}
SWATCH_WIDTH = 4  # "━●━ ": the series' colour and marker before its name


def swatch(color: str | None, marker: str = "") -> Text:
    """A series' line in its colour with its marker (``━●━``), as the chart draws it; blank when the series
    is not drawn. The marker is what tells series apart without colour (NO_COLOR)."""
    if color is None:
        return Text(" " * SWATCH_WIDTH)
    return Text(f"━{marker or '━'}━ ", style=f"bold {color}")


def format_number(value: Any, digits: int = 4) -> str:
    """A value for the legend and tables: ``3.217``, ``12 400``, ``true``, text as is, ``–`` for none."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if 1e7 <= abs(value) < 1e15:  # a counter (17 418 801.1 kWh): every digit, min and max read apart
            return f"{value:,.1f}".replace(",", " ")
        if value != 0 and (abs(value) >= 1e15 or abs(value) < 1e-3):
            return f"{value:.{digits - 1}e}"
        text = f"{value:.{digits}g}" if abs(value) >= 1 else f"{value:.{digits}f}".rstrip("0").rstrip(".")
        if "e" in text:
            text = f"{value:.0f}"
        return text
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def format_time(ms: int, tz: tzinfo, *, seconds: bool = True) -> str:
    return datetime.fromtimestamp(ms / 1000, tz).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def readout_text(reading: Readout | None, tz: tzinfo, unit: str = "") -> Text:
    """One series at the cursor: ``14:32:05  3.217 mm/s good`` or a bucket's min/mean/max/count."""
    if reading is None:
        return Text("no value here", style="dim italic")
    suffix = f" {unit}" if unit else ""
    text = Text()
    if reading.end_ms is not None:  # an aggregate bucket
        start = datetime.fromtimestamp(reading.time_ms / 1000, tz)
        end = datetime.fromtimestamp(reading.end_ms / 1000, tz)
        text.append(f"{start:%H:%M}–{end:%H:%M}  ", style="dim")
        text.append(f"min {format_number(reading.min)}  ")
        text.append(f"mean {format_number(reading.mean)}", style="bold")
        text.append(f"  max {format_number(reading.max)}{suffix}")
        text.append(f"  n={reading.count}", style="dim")
        if reading.good_share is not None and reading.good_share < 1:
            share = reading.good_share
            style = "green" if share >= 0.99 else UNCERTAIN_STYLE if share >= 0.9 else BAD_STYLE
            text.append(f"  {share:.0%} good", style=style)
        return text
    moment = datetime.fromtimestamp(reading.time_ms / 1000, tz)
    text.append(f"{moment:%H:%M:%S}  ", style="dim")
    text.append(format_number(reading.value) + suffix, style="bold")
    if reading.quality:
        text.append(f"  {reading.quality}", style=QUALITY_STYLE.get(reading.quality, ""))
    return text


@dataclass
class LegendRow:
    """A legend line: colour and marker, ``asset · variable``, unit, and the readout or a note."""

    color: str | None  # None: not drawn (text values, no data)
    label: str
    unit: str = ""
    detail: Text | None = None
    note: str = ""
    marker: str = ""  # the series' marker in the chart (ts_chart.MARKERS)


class SeriesLegend(Static):
    """One line per series: its colour and marker, name and unit, and what the cursor reads (or why it is
    not drawn)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.rows: list[LegendRow] = []
        self.header = Text()

    def show(self, rows: Sequence[LegendRow], header: Text | None = None) -> None:
        self.rows = list(rows)
        self.header = header or Text()
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.header.plain:
            text.append_text(self.header)
            text.append("\n")
        for i, row in enumerate(self.rows):
            if i:
                text.append("\n")
            text.append_text(swatch(row.color, row.marker))
            text.append(row.label)
            if row.unit:
                text.append(f" [{row.unit}]", style="dim")
            if row.detail is not None and row.detail.plain:
                text.append("   ")
                text.append_text(row.detail)
            if row.note:
                text.append(f"   {row.note}", style="italic yellow")
        self.update(text)
        self.display = bool(self.rows)

    @property
    def plain(self) -> str:
        lines = []
        for r in self.rows:
            parts = [r.label + (f" [{r.unit}]" if r.unit else "")]
            if r.detail is not None and r.detail.plain:
                parts.append(r.detail.plain)
            if r.note:
                parts.append(r.note)
            lines.append("   ".join(parts))
        return "\n".join(lines)


STATS_COLUMNS = (
    ("series", "Series"),
    ("unit", "Unit"),
    ("min", "Min"),
    ("max", "Max"),
    ("mean", "Mean"),
    ("last", "Last"),
    ("count", "Count"),
    ("good", "Good"),
)


class StatsTable(DataTable[Text | str]):
    """Statistics per series over the range shown: min, max, mean, last, count, share of good quality."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, show_cursor=False)
        self.border_title = "Statistics"

    def on_mount(self) -> None:
        for key, label in STATS_COLUMNS:
            self.add_column(label, key=key)

    def show(self, rows: Sequence[tuple[str | None, str, str, str, SeriesStats]]) -> None:
        """``rows``: (colour, marker, label, unit, statistics)."""
        self.clear()
        for color, marker, label, unit, stats in rows:
            name = swatch(color, marker)
            name.append(label)
            good = "–" if stats.good_share is None else f"{stats.good_share:.1%}"
            self.add_row(
                name,
                unit,
                format_number(stats.min),
                format_number(stats.max),
                format_number(stats.mean),
                format_number(stats.last),
                format_number(stats.count),
                good,
            )


class SeriesTable(DataTable[Text | str]):
    """The data of the chart as rows: local time, then one column per series (a bucket shows its mean
    and its min–max); uncertain and bad values carry their mark."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.border_title = "Table"
        self.columns_shown: list[str] = []

    def show(self, columns: Sequence[tuple[str, str | None]], rows: Sequence[Sequence[Text | str]]) -> None:
        """``columns``: (label, colour); ``rows``: the cells, the time first."""
        self.clear(columns=True)
        self.columns_shown = ["Time", *(label for label, _ in columns)]
        self.add_column("Time", key="_time")
        for index, (label, color) in enumerate(columns):
            self.add_column(Text(label, style=f"bold {color}" if color else "bold"), key=f"c{index}")
        self.add_rows(rows)


def quality_mark(quality: str | None) -> Text:
    if quality == "uncertain":
        return Text(f" {UNCERTAIN_MARK}", style=UNCERTAIN_STYLE)
    if quality == "bad":
        return Text(f" {BAD_MARK}", style=BAD_STYLE)
    return Text()
