"""A terminal resize redraws the Time series chart once, at the new size, before it is painted.

Textual paints a widget's children before the widget; textual-plot sizes and draws its canvases in the
PlotWidget's own render, so its canvases would be painted stale and then painted again. ``ChartPlot``
sizes and draws them while the layout settles; the chart re-derives its points there too when the width
changed by more than ``KEEP_POINTS_CHANGE`` (a smaller change keeps them: every old column's min and max
are still drawn).
"""

from __future__ import annotations

import pytest
from textual_hires_canvas import Canvas

import tui.screens.timeseries as ts_screen
from tests.ui.test_timeseries_area import SIZE, drawn, open_chart, request, reread
from tui.api.ts.view import chart_data
from tui.app import IhubApp
from tui.widgets.ts_chart import ChartPlot


def _count_renders(monkeypatch: pytest.MonkeyPatch) -> list[ChartPlot]:
    rendered: list[ChartPlot] = []
    original = ChartPlot._render_plot

    def counted(self: ChartPlot) -> None:
        rendered.append(self)
        original(self)

    monkeypatch.setattr(ChartPlot, "_render_plot", counted)
    return rendered


def _sized_and_complete(plot: ChartPlot) -> None:
    """Every canvas has the size Textual gave it, and drawing again changes no cell."""
    canvases = list(plot.query(Canvas))
    assert len(canvases) == 4
    for canvas in canvases:
        assert canvas._canvas_size == canvas.size
    before = [[row[:] for row in c._buffer] for c in canvases]
    plot._render_plot()
    assert [c._buffer for c in canvases] == before


async def test_a_resize_draws_each_panel_once_while_laid_out(
    demo_app: IhubApp, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms", "bearingTemperature"))
        await reread(demo_app, pilot, settle)
        chart = screen.chart
        plots = chart.plots
        assert len(plots) == 2
        wide = chart.columns
        points = [s.x.copy() for s in drawn(screen)["mm/s"]]
        draws, early = chart.draws, [p.early_draws for p in plots]
        rendered = _count_renders(monkeypatch)

        # A little narrower (within KEEP_POINTS_CHANGE): the same points, drawn once per panel at the
        # new size, while the layout settled.
        await pilot.resize_terminal(SIZE[0] - 6, SIZE[1] - 3)
        await reread(demo_app, pilot, settle)
        narrower = chart.columns
        assert 0 < (wide - narrower) / wide <= ts_screen.KEEP_POINTS_CHANGE
        assert chart.draws == draws
        assert [s.x.tolist() for s in drawn(screen)["mm/s"]] == [p.tolist() for p in points]
        assert sorted(map(id, rendered)) == sorted(map(id, plots))
        assert [p.early_draws for p in plots] == [e + 1 for e in early]
        for plot in plots:
            _sized_and_complete(plot)

        # Narrower still (beyond it, within REPLAN_CHANGE): the points are made for the new width within
        # the same layout pass, and still one drawing per panel.
        rendered.clear()
        await pilot.resize_terminal(SIZE[0] - 20, SIZE[1])
        await reread(demo_app, pilot, settle)
        columns = chart.columns
        assert ts_screen.KEEP_POINTS_CHANGE < (wide - columns) / wide <= ts_screen.REPLAN_CHANGE
        assert chart.draws == draws + 1
        assert screen._drawn_columns == chart.drawn_columns == columns
        assert sorted(map(id, rendered)) == sorted(map(id, plots))
        result = next(iter(screen.results.values()))
        expected = chart_data(
            result.frame, "velocityRms", columns=columns, start_ms=screen.range.start_ms,
            end_ms=screen.range.end_ms, mark_share=ts_screen.MARK_SHARE,
        )  # fmt: skip
        assert drawn(screen)["mm/s"][0].x.tolist() == expected.x.tolist()
        for plot in plots:
            _sized_and_complete(plot)


async def test_a_draw_that_overtakes_a_cancelled_one_keeps_its_data() -> None:
    """A newer read cancels the worker of the older one while its panel is being mounted; the newer draw
    must not be wiped by PlotWidget.on_mount (the chart showed an empty panel with only the cursor)."""
    import asyncio

    import numpy as np
    from textual.app import App, ComposeResult

    from tui.widgets.ts_chart import DrawSeries, Panel, TimeSeriesChart

    class ChartApp(App[None]):
        def compose(self) -> ComposeResult:
            yield TimeSeriesChart(id="chart")

    def panels() -> list[Panel]:
        x = np.arange(0.0, 100.0)
        return [Panel("mm/s", [DrawSeries("#4fc3f7", x, np.sin(x))])]

    app = ChartApp()
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(TimeSeriesChart)
        first = asyncio.create_task(chart.draw(panels(), 0.0, 99.0, None))
        await asyncio.sleep(0)  # the panel is mounting
        first.cancel()
        await chart.draw(panels(), 0.0, 99.0, 50.0)
        await pilot.pause()
        await pilot.pause()
        [plot] = chart.plots
        assert plot.is_mounted and len(plot._datasets) == 1 and plot._v_lines


async def test_the_unit_above_the_y_axis_is_repainted_whole_when_the_tick_margin_changes() -> None:
    """The unit label sits in the top margin, centred on the tick margin's right edge; textual-plot
    never clears that canvas, so when the margin widened (a zoom into an energy counter: ``17.8754M``)
    or narrowed again the old label stayed beside the new one (``kkWh``, ``kWhh``). Each draw now
    shows the unit once, and nothing else on that line."""
    import numpy as np
    from textual.app import App, ComposeResult

    from tui.widgets.ts_chart import MARGIN_LEFT, DrawSeries, Panel, TimeSeriesChart

    class ChartApp(App[None]):
        def compose(self) -> ComposeResult:
            yield TimeSeriesChart(id="chart")

    x = np.arange(0.0, 100.0)

    def panels(y: np.ndarray) -> list[Panel]:
        return [Panel("kWh", [DrawSeries("#4fc3f7", x, y)])]

    def label_line(plot: ChartPlot) -> str:
        top = plot.query_one("#margin-top", Canvas)
        painted = "".join(segment.text for segment in top.render_line(0))
        assert painted == "".join(top._buffer[0])
        return painted

    small = 50 + 10 * np.sin(x / 10)  # ticks like 45, 50: the narrow margin
    large = 17_870_000 + 40 * np.sin(x / 10)  # ticks like 17.87M with four decimals: a wider one
    app = ChartApp()
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(TimeSeriesChart)
        margins = []
        for y in (small, large, small, large):
            await chart.draw(panels(y), 0.0, 99.0, None)
            await pilot.pause()
            await pilot.pause()
            [plot] = chart.plots
            margins.append(plot.margin_left)
            line = label_line(plot)
            assert line.split() == ["kWh"], repr(line)
        assert margins[0] == margins[2] == MARGIN_LEFT < margins[1] == margins[3]
