"""The Time series chart read as the user reads it, from the rendered screen: every time label whole at
any width, and several series in one panel told apart without colour (NO_COLOR).

The demo clock starts at 2025-06-16 08:00 UTC; every pump has the 1 Hz ``Vibration`` aspect.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import numpy as np
import pytest
from rich.console import Console
from textual_hires_canvas import Canvas
from textual_plot.plot_widget import LinePlot, ScatterPlot

from tests.conftest import Clock
from tui.app import IhubApp
from tui.context import ChartRequest
from tui.screens.timeseries import TimeSeriesScreen
from tui.services import Services
from tui.widgets.colours import wants_no_colour
from tui.widgets.ts_chart import MARKERS, ChartPlot, TimeAxis, label_start

PUMP = "ff0d65e90c1000b7343ac254a953c927"  # Pump ER-1104
PUMP_B = "04fe02527205719c9e72772be7d94347"  # Pump ER-1203
HEIGHT = 30


def screen_lines(app: IhubApp) -> list[str]:
    """The screen as painted (every widget, after the app's filters), one string per row."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, color_system=None)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text().split("\n")


def x_axis(app: IhubApp, plot: ChartPlot) -> tuple[str, str]:
    """The painted bottom edge of ``plot``'s axes (with its tick marks) and the time labels below it."""
    region = app.screen.find_widget(plot.query_one("#margin-bottom", Canvas)).region
    lines = screen_lines(app)
    return (lines[region.y - 1][region.x : region.right], lines[region.y][region.x : region.right])


async def settle_chart(app: IhubApp, pilot, settle) -> None:
    await pilot.pause()
    await settle(app, pilot)
    await pilot.pause(0.25)  # the resize/redraw debounce, when one is pending
    await settle(app, pilot)


@pytest.mark.parametrize("width", [80, 97, 120, 143])
async def test_every_time_label_is_drawn_whole_at_any_width(
    demo_services: Services, clock: Clock, settle, width: int
) -> None:
    # Five minutes after midnight UTC: the newest tick of both ranges (00:00, 17 Jun) falls in the last
    # column, where a centred label runs past the chart's right edge ("00:0", "17 J").
    clock.advance(16 * 3600 + 300)
    app = IhubApp(demo_services, profile="demo")
    async with app.run_test(size=(width, HEIGHT)) as pilot:
        await settle(app, pilot)
        app.open_area("timeseries", ChartRequest(PUMP, "Vibration", ("velocityRms",), ""))
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimeSeriesScreen)
        screen.zone = screen.chart.tz = UTC
        for preset, formats in (("24h", ("%d %b %H:%M", "%H:%M")), ("7d", ("%d %b",))):
            screen.apply_preset(preset)
            await settle_chart(app, pilot, settle)
            plot = screen.chart.plots[-1]
            edge, row = x_axis(app, plot)
            labels = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", row)]
            ticks = [column for column, char in enumerate(edge) if char == "┳"]
            formatter = plot._x_formatter
            assert isinstance(formatter, TimeAxis)
            expected = formatter.get_ticks(screen.range.start.timestamp(), screen.range.end.timestamp())
            assert len(ticks) == len(expected) >= 2, (width, preset, edge)
            # Every label is whole (it parses as a time or date of the range's format), one under each tick
            # (none left out here: there is room for all), covering its tick's column.
            assert len(labels) == len(ticks), (width, preset, row)
            for (start, label), tick in zip(labels, ticks, strict=True):
                assert any(_parses(label, f) for f in formats), (width, preset, label, row)
                assert start <= tick < start + len(label), (width, preset, label, row, edge)
            # The newest tick's label is there too, whole (at 00:00, 5 min before the end, when the ticks are
            # hours or days apart; two days apart below about 110 columns).
            newest = datetime.fromtimestamp(expected[-1], UTC)
            assert labels[-1][1] == newest.strftime(formats[0]), (width, preset, row)


def _parses(label: str, fmt: str) -> bool:
    try:
        datetime.strptime(label, fmt)
    except ValueError:
        return False
    return True


def test_a_label_moves_into_the_row_and_still_covers_its_tick() -> None:
    assert label_start(40, 5, 80) == 38  # centred where it fits: 38..42 under column 40
    assert label_start(78, 5, 80) == 75  # at the right edge: 75..79, not 76..80 (cut to "12:0")
    assert label_start(79, 6, 80, at_end=True) == 74  # a tick at the axis' end: the label ends there
    assert label_start(1, 12, 80) == 0  # at the left edge
    assert label_start(3, 12, 10) is None  # wider than the row: not drawn at all


@pytest.mark.parametrize("width", [66, 124])
async def test_a_dated_label_without_room_for_its_date_shows_the_clock_alone(width: int) -> None:
    from textual.app import App, ComposeResult

    from tui.widgets.ts_chart import DrawSeries, Panel, TimeSeriesChart

    class ChartApp(App[None]):
        def compose(self) -> ComposeResult:
            yield TimeSeriesChart(tz=UTC)

    end = datetime(2025, 6, 17, 0, 5, tzinfo=UTC).timestamp()
    start = end - 86400
    x = np.linspace(start, end, 200)
    app = ChartApp()
    async with app.run_test(size=(width, 14)) as pilot:
        chart = app.query_one(TimeSeriesChart)
        await chart.draw([Panel("mm/s", [DrawSeries("#4fc3f7", x, np.sin(x / 3000))])], start, end, None)
        await pilot.pause()
        [plot] = chart.plots
        edge, row = x_axis(app, plot)
        labels = re.findall(r"\S+(?: \S+)*", row)
        # "17 Jun 00:00" shifted left to fit would touch "18:00" (or "21:00"): the clock alone fits.
        assert len(labels) == edge.count("┳") and labels[0].startswith("16 Jun "), row
        assert labels[-1] == "00:00", row
        assert all(_parses(label, "%H:%M") for label in labels[1:]), row


async def test_without_colour_series_in_one_panel_have_their_own_marker_in_chart_and_legend(
    demo_services: Services, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = IhubApp(demo_services, profile="demo")
    async with app.run_test(size=(120, 36)) as pilot:
        assert wants_no_colour(app)
        await settle(app, pilot)
        app.open_area("timeseries", ChartRequest(PUMP, "Vibration", ("velocityRms",), "Pump ER-1104"))
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimeSeriesScreen)
        screen.add_request(ChartRequest(PUMP_B, "Vibration", ("velocityRms",), "Pump ER-1203"))
        await settle_chart(app, pilot, settle)
        [panel] = screen.chart.panels  # both in mm/s: one panel
        first, second = panel.series
        assert first.glyph != second.glyph and {first.glyph, second.glyph} <= set(MARKERS)
        [plot] = screen.chart.plots
        region = app.screen.find_widget(plot.query_one("#plot", Canvas)).region
        lines = screen_lines(app)
        drawn = "".join(line[region.x : region.right] for line in lines[region.y : region.bottom])
        # Each series' glyph along its line, several times, as text: no colour needed to tell them apart.
        assert drawn.count(first.glyph) >= 5 and drawn.count(second.glyph) >= 5, drawn
        for s in (first, second):
            [markers] = [d for d in plot._datasets if isinstance(d, ScatterPlot) and d.marker == s.glyph]
            x, y = s.x, s.y
            on_line = np.interp(markers.x, x, y)
            assert np.allclose(markers.y, on_line)  # on its own line, not the other's
        # Without colour a band would look like its mean line: it is dim.
        bands = [d for d in plot._datasets if isinstance(d, LinePlot) and d.line_style.endswith(" dim")]
        assert bands
        # The legend shows each series' glyph beside its name.
        legend = {line.strip() for line in lines}
        for name, s in (("Pump ER-1104", first), ("Pump ER-1203", second)):
            assert any(line.startswith(f"━{s.glyph}━ {name} · velocityRms") for line in legend), lines
