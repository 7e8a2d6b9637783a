"""The Time series area (issue 9 sections 1, 3, 6 and 8) driven with Pilot against the in-process simulator.

The demo clock is frozen at 2025-06-16 08:00 UTC; every pump has the 1 Hz ``Vibration`` aspect
(``velocityRms`` mm/s and ``accelerationPeak`` g with quality codes, ``bearingTemperature`` C, ``zone``
STRING, ``alarm`` BOOLEAN).
"""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from textual_hires_canvas import Canvas

from tui.api.models import Aspect
from tui.api.ts.frame import AggregateFrame, RawFrame, series_stats
from tui.api.ts.plan import parse_force
from tui.api.ts.timerange import TimeRange
from tui.api.ts.view import chart_data, readout
from tui.app import IhubApp
from tui.context import ChartRequest
from tui.devtools.screenshots import FROZEN_TIME
from tui.screens.help import HelpScreen
from tui.screens.timeseries import TimeSeriesScreen
from tui.screens.ts_dialogs import ExportDialog, RangeDialog
from tui.widgets.key_bar import KeyBar
from tui.widgets.ts_chart import ChartPlot
from tui.widgets.ts_picker import Stage

SIZE = (120, 40)
PUMP = "ff0d65e90c1000b7343ac254a953c927"  # Pump ER-1104
PUMP_B = "04fe02527205719c9e72772be7d94347"  # Pump ER-1203
NOW = datetime.fromtimestamp(FROZEN_TIME, UTC)


def request(*variables: str, asset: str = PUMP, aspect: str = "Vibration", name: str = "") -> ChartRequest:
    return ChartRequest(asset, aspect, tuple(variables), name)


async def open_chart(app: IhubApp, pilot, settle, req: ChartRequest) -> TimeSeriesScreen:
    app.open_area("timeseries", req)
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, TimeSeriesScreen)
    return screen


async def type_text(pilot, text: str) -> None:
    names = {"-": "minus", " ": "space", ".": "full_stop"}
    await pilot.press(*(names.get(ch, ch) for ch in text))


async def reread(app: IhubApp, pilot, settle) -> None:
    await pilot.pause()
    await settle(app, pilot)
    await pilot.pause(0.25)  # the resize/redraw debounce, when one is pending
    await settle(app, pilot)


def drawn(screen: TimeSeriesScreen) -> dict[str, list]:
    """Panel label -> its series, as drawn."""
    return {panel.label: panel.series for panel in screen.chart.panels}


# -- section 1: choosing what to chart ---------------------------------------------------------------


async def test_a_chart_request_from_assets_opens_the_aspect_with_one_panel_per_unit(
    demo_app: IhubApp, settle
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(
            demo_app, pilot, settle, request("velocityRms", "accelerationPeak", "bearingTemperature")
        )
        assert demo_app.current_mode == "timeseries"
        assert [s.variable for s in screen.series] == [
            "velocityRms",
            "accelerationPeak",
            "bearingTemperature",
        ]
        # Each series its own colour; each unit its own panel with its own y axis (the second y axis).
        assert len({s.color for s in screen.series}) == 3
        assert list(drawn(screen)) == ["mm/s", "g", "C"]
        plots = screen.chart.query(ChartPlot)
        assert [p._y_label for p in plots] == ["mm/s", "g", "C"]
        # The shared time axis: every panel shows the same window.
        assert {(p._x_min, p._x_max) for p in plots} == {
            (screen.range.start_ms / 1000, screen.range.end_ms / 1000)
        }
        # The source is chosen and shown with the count and the time it took.
        result = next(iter(screen.results.values()))
        assert result.plan.source == "aggregates"
        assert screen.status.startswith(f"aggregates {result.plan.interval.label}, ")  # type: ignore[union-attr]
        assert " buckets in " in screen.status
        # The legend names each series with its unit; the range bar shows the local zone.
        legend = screen.legend.plain
        assert "Pump ER-1104 · velocityRms [mm/s]" in legend and "bearingTemperature [C]" in legend
        assert "UTC" in str(screen.query_one("#ts-range").render())


async def test_a_chart_request_for_a_whole_aspect_charts_its_numeric_variables(
    demo_app: IhubApp, settle
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request())  # `c` on the aspect's row in Assets
        # Vibration also has zone (STRING) and alarm (BOOLEAN): left to the picker and the table view.
        assert [s.variable for s in screen.series] == [
            "velocityRms",
            "accelerationPeak",
            "bearingTemperature",
        ]
        assert list(drawn(screen)) == ["mm/s", "g", "C"]
        assert screen.message_text == ""


async def test_a_later_chart_request_reads_a_relative_preset_up_to_now(demo_services, clock, settle) -> None:
    app = IhubApp(demo_services, profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = await open_chart(app, pilot, settle, request("velocityRms"))
        assert screen.preset_key is not None and screen.range.end_ms == int(clock() * 1000)
        length = screen.range.duration
        clock.advance(2 * 3600)  # two hours later, from Assets again
        screen = await open_chart(app, pilot, settle, request("bearingTemperature", asset=PUMP_B))
        assert screen.range.end_ms == int(clock() * 1000)
        assert screen.range.duration == length and screen.home == screen.range
        # A zoomed window is the user's choice and stays where it is.
        screen.action_zoom(0.5)
        await reread(app, pilot, settle)
        zoomed = screen.range
        clock.advance(3600)
        screen = await open_chart(app, pilot, settle, request("velocityRms", asset=PUMP_B))
        assert screen.range == zoomed


async def test_the_unfocused_search_box_says_which_key_reaches_it(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        await pilot.press("3")
        await settle(demo_app, pilot)
        screen = demo_app.screen
        assert isinstance(screen, TimeSeriesScreen)
        box = screen.picker.box
        assert screen.picker.display and not box.has_focus
        assert box.placeholder == "a: Search assets…"
        await pilot.press("a")
        assert box.has_focus and box.placeholder == "Search assets…"


async def test_pick_asset_aspect_and_variables_with_type_to_filter_from_two_assets(
    demo_app: IhubApp, settle
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        await pilot.press("3")
        await settle(demo_app, pilot)
        screen = demo_app.screen
        assert isinstance(screen, TimeSeriesScreen)
        picker = screen.picker
        await pilot.press("a")
        assert picker.box.has_focus
        # The asset search runs on the server (name contains), debounced.
        await type_text(pilot, "ER-1203")
        await pilot.pause(0.4)
        await settle(demo_app, pilot)
        assert [a.name for a in picker.assets] == ["Pump ER-1203"]
        await pilot.press("enter")
        await settle(demo_app, pilot)
        assert picker.stage is Stage.ASPECT
        # Aspects and variables are filtered as typed.
        await type_text(pilot, "vib")
        assert picker.options.option_count == 1
        await pilot.press("enter")
        assert picker.stage is Stage.VARIABLE
        await type_text(pilot, "rms")
        await pilot.press("enter")
        await settle(demo_app, pilot)
        assert [s.label for s in screen.series] == ["Pump ER-1203 · velocityRms"]
        # Back to the asset stage and a second pump: pump A against pump B.
        await pilot.press("escape", "escape")
        await type_text(pilot, "er-1104")  # any case, as the Assets search and `ihub assets ls --name`
        await pilot.pause(0.4)
        await settle(demo_app, pilot)
        assert [a.name for a in picker.assets] == ["Pump ER-1104"]
        await pilot.press("enter")
        await settle(demo_app, pilot)
        await type_text(pilot, "vib")
        await pilot.press("enter")
        await type_text(pilot, "rms")
        await pilot.press("enter")
        await settle(demo_app, pilot)
        assert [s.asset_name for s in screen.series] == ["Pump ER-1203", "Pump ER-1104"]
        assert screen.series[0].color != screen.series[1].color
        assert list(drawn(screen)) == ["mm/s"] and len(drawn(screen)["mm/s"]) == 2
        assert len(screen.results) == 2  # one read per asset and aspect
        # A variable already charted is marked, and enter takes it off again.
        assert ("04fe02527205719c9e72772be7d94347", "Vibration", "velocityRms") in picker.charted
        await pilot.press("enter")
        await settle(demo_app, pilot)
        assert [s.asset_name for s in screen.series] == ["Pump ER-1203"]


# -- section 3: zoom, pan, cursor --------------------------------------------------------------------


async def test_zoom_and_pan_reread_at_the_new_resolution_and_zero_resets(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms"))
        home = screen.range
        assert home.duration == timedelta(hours=24)
        assert next(iter(screen.results.values())).plan.source == "aggregates"
        screen.chart.focus()
        # Zooming in re-reads the smaller window: 12 h of 1 Hz now fit the chart as raw values.
        await pilot.press("plus")
        await reread(demo_app, pilot, settle)
        assert screen.range.duration == timedelta(hours=12)
        result = next(iter(screen.results.values()))
        assert result.plan.source == "raw" and isinstance(result.frame, RawFrame)
        assert screen.status.startswith("raw, 43 200 points in ")
        # Pan: a quarter of the window earlier, read again.
        before = screen.range
        await pilot.press("shift+left")
        await reread(demo_app, pilot, settle)
        assert screen.range.end == before.end - timedelta(hours=3)
        frame = next(iter(screen.results.values())).frame
        assert isinstance(frame, RawFrame) and int(frame.times[-1]) <= screen.range.end_ms
        # Zoom out past the start: aggregates again.
        await pilot.press("minus")
        await reread(demo_app, pilot, settle)
        assert screen.range.duration == timedelta(hours=24)
        assert next(iter(screen.results.values())).plan.source == "aggregates"
        # 0: back to the chosen range, answered by the session cache (no new read).
        await pilot.press("0")
        await reread(demo_app, pilot, settle)
        assert screen.range == home
        assert next(iter(screen.results.values())).cached
        assert screen.status.endswith("(cached)")


async def test_cursor_reads_a_bucket_then_a_raw_value_with_its_quality(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms"))
        screen.chart.focus()
        await pilot.press("right")
        await pilot.pause()
        frame = next(iter(screen.results.values())).frame
        assert isinstance(frame, AggregateFrame)
        assert screen.cursor_ms == int(frame.starts[-1])
        # The cursor line is drawn in the panel, and the legend reads the bucket.
        plot = screen.chart.query_one(ChartPlot)
        assert [v.x for v in plot._v_lines] == [screen.cursor_ms / 1000]
        reading = readout(frame, "velocityRms", screen.cursor_ms)
        assert reading is not None and reading.count
        legend = screen.legend.plain
        assert f"n={reading.count}" in legend and "min " in legend and "mean " in legend and "max " in legend
        # One step left moves by one column of the chart.
        at = screen.cursor_ms
        await pilot.press("left")
        step = (screen.range.end_ms - screen.range.start_ms) // screen.chart.columns
        assert screen.cursor_ms == at - step
        # Zoomed in around the cursor far enough, the cursor reads raw values and their quality.
        for _ in range(4):
            await pilot.press("plus")
            await reread(demo_app, pilot, settle)
        frame = next(iter(screen.results.values())).frame
        assert isinstance(frame, RawFrame)
        assert screen.range.start_ms < screen.cursor_ms <= screen.range.end_ms
        await pilot.press("right")
        reading = readout(frame, "velocityRms", screen.cursor_ms)
        assert reading is not None and reading.quality in ("good", "uncertain", "bad")
        assert reading.quality in screen.legend.plain
        assert screen.legend.plain.startswith("Pump ER-1104 · velocityRms [mm/s]")
        await pilot.press("escape")
        assert screen.cursor_ms is None and plot._v_lines == []


# -- section 3: the chart's drawing --------------------------------------------------------------------


async def test_aggregates_draw_a_min_max_band_and_the_mean_gaps_stay_gaps(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms"))
        screen.apply_preset("7d")
        await reread(demo_app, pilot, settle)
        series = drawn(screen)["mm/s"][0]
        frame = next(iter(screen.results.values())).frame
        assert isinstance(frame, AggregateFrame)
        # The band is min/max of the buckets, the line their mean, and the band encloses the line.
        assert series.lo is not None and series.hi is not None
        ok = np.isfinite(series.y)
        assert np.all(series.lo[ok] <= series.y[ok]) and np.all(series.y[ok] <= series.hi[ok])
        assert np.nanmax(series.hi) == pytest.approx(np.nanmax(frame.stats["velocityRms"]["maxvalue"]))
        # The simulator has outages every week: the buckets miss some intervals, and the line breaks there.
        holes = int(np.count_nonzero(frame.starts[1:] > frame.ends[:-1]))
        assert holes >= 1
        breaks = int(np.count_nonzero(np.isnan(series.y)))
        assert breaks >= 1
        plot = screen.chart.query_one(ChartPlot)
        lines = [d for d in plot._datasets if getattr(d, "line_style", None) == series.color]
        assert len(lines) == breaks + 1  # one line per stretch between gaps: nothing drawn across a gap


async def test_tick_labels_of_a_large_value_that_changes_little_read_apart(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        # An energy counter near 17.9 MWh that grows by less than 0.1 % a day, and a power in kW below it.
        screen = await open_chart(demo_app, pilot, settle, request("energy", "power", aspect="Energy"))
        kwh, kw = screen.chart.plots
        assert kwh.margin_left == kw.margin_left  # the time axes stay aligned
        ticks = kwh._y_formatter.get_ticks(kwh._y_min, kwh._y_max)
        labels = kwh._y_formatter.get_labels_for_ticks(ticks)
        assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
        assert all(label.endswith("M") for label in labels)
        margin = "\n".join("".join(row) for row in kwh.query_one("#margin-left", Canvas)._buffer)
        for label in labels:
            assert label in margin  # drawn whole, not cut to the margin


async def test_bad_and_uncertain_quality_is_marked(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms"))
        screen.apply_preset("15min")
        await reread(demo_app, pilot, settle)
        frame = next(iter(screen.results.values())).frame
        assert isinstance(frame, RawFrame)
        col = frame.columns["velocityRms"]
        assert col.quality is not None and (col.quality > 0).any()
        series = drawn(screen)["mm/s"][0]
        assert series.bad_x is not None and series.uncertain_x is not None
        assert len(series.bad_x) and len(series.uncertain_x)
        # Every mark is at a record of that quality.
        times = set((frame.times / 1000.0).tolist())
        assert set(series.bad_x.tolist()) <= times
        plot = screen.chart.query_one(ChartPlot)
        markers = {getattr(d, "marker", None) for d in plot._datasets}
        assert {"▴", "✕"} <= markers
        assert "▴ uncertain  ✕ bad quality" in str(screen.legend.render())
        # Over 6 h a column holds about 200 records: the few bad ones spread evenly (0.6 %) mark nothing,
        # so the marks stand for columns where quality is really poor, not for every column.
        screen.apply_preset("6h")
        await reread(demo_app, pilot, settle)
        series = drawn(screen)["mm/s"][0]
        assert series.bad_x is not None and len(series.bad_x) < screen.chart.columns // 4


async def test_text_and_boolean_variables_table_view_and_steps_never_a_crash(
    demo_app: IhubApp, settle
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms", "zone", "alarm"))
        # Over 24 h the service aggregates numbers only: booleans and text say how to see them.
        legend = screen.legend.plain
        assert "Pump ER-1104 · zone   string: values in the table view (t)" in legend
        assert "Pump ER-1104 · alarm   no aggregates for this type: zoom in for raw values" in legend
        assert "no aggregates for zone, alarm: zoom in for raw values" in screen.status
        # A raw window: the boolean is a step line in a state panel, the text goes to the table.
        screen.apply_preset("15min")
        await reread(demo_app, pilot, settle)
        panels = drawn(screen)
        assert set(panels) == {"mm/s", "state"}
        alarm = panels["state"][0]
        assert alarm.step and set(np.unique(alarm.y[np.isfinite(alarm.y)])) <= {0.0, 1.0}
        await pilot.press("t")
        await pilot.pause()
        table = screen.table
        assert table.display and not screen.chart.display
        assert table.columns_shown == [
            "Time",
            "Pump ER-1104 · velocityRms [mm/s]",
            "Pump ER-1104 · zone",
            "Pump ER-1104 · alarm",
        ]
        frame = next(iter(screen.results.values())).frame
        assert isinstance(frame, RawFrame)
        assert table.row_count == len(frame)
        last = [str(c) for c in table.get_row_at(table.row_count - 1)]
        assert last[2] == frame.columns["zone"].value_at(len(frame) - 1)
        assert last[3] == str(frame.columns["alarm"].value_at(len(frame) - 1)).lower()
        await pilot.press("t")
        assert screen.chart.display and not table.display


async def test_statistics_per_series(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms", "bearingTemperature"))
        screen.apply_preset("1h")
        await reread(demo_app, pilot, settle)
        await pilot.press("s")
        await pilot.pause()
        table = screen.stats
        assert table.display and table.row_count == 2
        frame = next(iter(screen.results.values())).frame
        stats = series_stats(frame, "velocityRms")
        row = [str(c) for c in table.get_row_at(0)]
        assert row[0].endswith("Pump ER-1104 · velocityRms") and row[1] == "mm/s"
        assert row[6] == f"{stats.count:,}".replace(",", " ")
        assert stats.good_share is not None and row[7] == f"{stats.good_share:.1%}"
        assert float(row[2]) == pytest.approx(stats.min, rel=1e-3)
        assert float(row[3]) == pytest.approx(stats.max, rel=1e-3)
        # Against the values read: min, max, mean and the last value of the hour.
        assert isinstance(frame, RawFrame)
        values = frame.columns["velocityRms"].values
        assert [float(x) for x in row[2:6]] == pytest.approx(
            [values.min(), values.max(), values.mean(), values[-1]], rel=1e-3
        )
        # No quality codes on bearingTemperature: no share of good quality.
        assert [str(c) for c in table.get_row_at(1)][7] == "–"


# -- section 3: live mode ------------------------------------------------------------------------------


async def test_live_mode_appends_slides_and_pauses_while_hidden_or_suspended(
    demo_services, clock, settle, monkeypatch
) -> None:
    monkeypatch.setattr(TimeSeriesScreen, "live_interval", 0.1)
    app = IhubApp(demo_services, profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = await open_chart(app, pilot, settle, request("velocityRms"))
        screen.apply_preset("15min")
        await reread(app, pilot, settle)
        await pilot.press("l")
        assert screen.live and "● live" in str(screen.query_one("#ts-range").render())
        clock.advance(30)
        await pilot.pause(0.5)
        await settle(app, pilot)
        assert screen.polls >= 1
        frame = next(iter(screen.results.values())).frame
        assert isinstance(frame, RawFrame)
        # The newest records were appended and the window slid: still 15 minutes, ending now.
        assert int(frame.times[-1]) == int(clock() * 1000)
        assert screen.range.end_ms == int(clock() * 1000)
        assert screen.range.duration == timedelta(minutes=15)
        assert int(frame.times[0]) > screen.range.start_ms
        assert len(frame) == 900
        # Another area: live mode stays on but stops polling.
        await pilot.press("1")
        await settle(app, pilot)
        assert screen.live and screen.live_paused
        polls = screen.polls
        clock.advance(30)
        await pilot.pause(0.5)
        assert screen.polls == polls
        # Back: it polls again at once.
        await pilot.press("3")
        await pilot.pause(0.3)
        await settle(app, pilot)
        assert not screen.live_paused and screen.polls > polls
        assert screen.range.end_ms == int(clock() * 1000)
        # The app suspended (ctrl+z): no polling until it resumes.
        app.app_suspend_signal.publish(app)
        await settle(app, pilot)
        polls = screen.polls
        await pilot.pause(0.5)
        assert screen.live_paused and screen.polls == polls
        app.app_resume_signal.publish(app)
        await pilot.pause(0.5)
        assert screen.polls > polls
        await pilot.press("l")
        assert not screen.live


# -- section 3: export -----------------------------------------------------------------------------------


async def _export(app: IhubApp, pilot, settle, screen: TimeSeriesScreen, path, *, full: bool) -> None:
    await pilot.press("e")
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, ExportDialog)
    box = dialog.query_one("#export-path")
    box.value = str(path)  # type: ignore[attr-defined]

    def drawn(choice: str) -> str:  # the choice as drawn, without colour (NO_COLOR, TERM=dumb)
        return str(dialog.query_one(f"#export-{choice}").render())

    assert drawn("shown").startswith("▐●▌") and drawn("full").startswith("▐○▌")
    if full:
        dialog.query_one("#export-full").value = True  # type: ignore[attr-defined]
        await pilot.pause()
        assert drawn("shown").startswith("▐○▌") and drawn("full").startswith("▐●▌")
    await pilot.press("enter")
    await settle(app, pilot)
    assert app.screen is screen


async def test_export_what_is_shown_and_the_full_resolution_atomically(
    demo_app: IhubApp, settle, tmp_path
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms"))
        screen.force = parse_force("10min")
        screen.apply_preset("1h")
        await reread(demo_app, pilot, settle)
        frame = next(iter(screen.results.values())).frame
        assert isinstance(frame, AggregateFrame) and len(frame) == 6
        # What is shown: the six 10-minute buckets, with the API's field names.
        shown = tmp_path / "shown.csv"
        await _export(demo_app, pilot, settle, screen, shown, full=False)
        rows = list(csv.reader(shown.open()))
        assert rows[0][:4] == ["_time", "endtime", "velocityRms.countgood", "velocityRms.countuncertain"]
        assert len(rows) == 1 + 6
        assert rows[1][0] == "2025-06-16T07:00:00.000Z" and rows[-1][1] == "2025-06-16T08:00:00.000Z"
        assert screen.last_export == [shown.resolve()]
        assert str(shown.resolve()) in screen.status
        # Full resolution: every raw record of the hour, read while writing, as JSON records.
        full = tmp_path / "full.json"
        await _export(demo_app, pilot, settle, screen, full, full=True)
        records = json.loads(full.read_text())
        expected = await demo_app.api.timeseries.read(  # type: ignore[union-attr]
            PUMP, "Vibration", screen.range.start, screen.range.end, select=["velocityRms"]
        )
        assert records == expected and len(records) == 3600
        assert set(records[0]) == {"_time", "velocityRms", "velocityRms_qc"}
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # nothing half-written left


async def test_export_into_a_missing_folder_is_refused_in_place(demo_app: IhubApp, settle, tmp_path) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms"))
        await pilot.press("e")
        await pilot.pause()
        dialog = demo_app.screen
        assert isinstance(dialog, ExportDialog)
        dialog.query_one("#export-path").value = str(tmp_path / "nope" / "x.csv")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert demo_app.screen is dialog
        assert "does not exist" in str(dialog.query_one("#export-error").render())
        dialog.query_one("#export-path").value = str(tmp_path / "x.txt")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert "name it .csv or .json" in str(dialog.query_one("#export-error").render())
        dialog.query_one("#export-path").value = str(tmp_path / "x\u200b.csv")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert "the file name contains an invisible character, U+200B" in str(
            dialog.query_one("#export-error").render()
        )
        await pilot.press("escape")
        assert demo_app.screen is screen and not list(tmp_path.iterdir())


# -- section 6: bad input ----------------------------------------------------------------------------------


async def _range_dialog(app: IhubApp, pilot, start: str, end: str, source: str = "auto") -> RangeDialog:
    await pilot.press("r")
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, RangeDialog)
    dialog.query_one("#range-from").value = start  # type: ignore[attr-defined]
    dialog.query_one("#range-to").value = end  # type: ignore[attr-defined]
    dialog.query_one("#range-source").value = source  # type: ignore[attr-defined]
    dialog.query_one("#range-from").focus()
    await pilot.press("enter")
    await pilot.pause()
    return dialog


async def test_range_dialog_refuses_bad_ranges_and_intervals_in_place(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms"))
        screen.zone = ZoneInfo("Europe/Berlin")  # the local zone (UTC+02:00 in June)
        before = screen.range
        dialog = await _range_dialog(demo_app, pilot, "now", "-1h")
        error = str(dialog.query_one("#range-error").render())
        assert demo_app.screen is dialog and "must be before 'to'" in error
        for start, end, source, words in [
            ("-20y", "now", "auto", "more than the 10 years"),
            ("yesterday at noon", "now", "auto", "cannot read 'yesterday at noon' as a time"),
            ("-1h", "now", "15min", "nearest: 14min or 16min"),
            # issue 7 section 5: a time pasted with an invisible character is named, not echoed
            ("2025-06-16 06:00\u200b", "now", "auto", "the start contains an invisible character, U+200B"),
        ]:
            dialog.query_one("#range-from").value = start  # type: ignore[attr-defined]
            dialog.query_one("#range-to").value = end  # type: ignore[attr-defined]
            dialog.query_one("#range-source").value = source  # type: ignore[attr-defined]
            dialog.query_one("#range-from").focus()
            await pilot.press("enter")
            await pilot.pause()
            assert demo_app.screen is dialog
            assert words in str(dialog.query_one("#range-error").render())
        # A good custom range in local time closes the dialog and is read; the zone is shown, UTC is sent
        # (a pasted BOM is dropped).
        dialog.query_one("#range-source").value = "raw"  # type: ignore[attr-defined]
        dialog.query_one("#range-from").value = "\ufeff2025-06-16 06:00"  # type: ignore[attr-defined]
        dialog.query_one("#range-to").value = "2025-06-16 06:30"  # type: ignore[attr-defined]
        dialog.query_one("#range-from").focus()
        await pilot.press("enter")
        await reread(demo_app, pilot, settle)
        assert demo_app.screen is screen and screen.range != before
        assert screen.range == TimeRange.of(
            datetime(2025, 6, 16, 4, tzinfo=UTC), datetime(2025, 6, 16, 4, 30, tzinfo=UTC)
        )
        assert "Europe/Berlin (UTC+02:00)" in str(screen.query_one("#ts-range").render())
        frame = next(iter(screen.results.values())).frame
        assert isinstance(frame, RawFrame) and len(frame) == 1800  # (04:00, 04:30] UTC at 1 Hz
        assert int(frame.times[0]) == screen.range.start_ms + 1000
        assert int(frame.times[-1]) == screen.range.end_ms
        assert screen.preset_key is None and screen.force == "raw"
        assert next(iter(screen.results.values())).plan.forced


@pytest.mark.parametrize(
    ("req", "words"),
    [
        (request("velocityRms", asset="0" * 32), "not found"),
        (request("velocityRms", aspect="Nope"), "has no aspect 'Nope'"),
        (request("nope"), "has no variable 'nope'"),
    ],
)
async def test_unknown_asset_aspect_or_variable_is_a_plain_message(
    demo_app: IhubApp, settle, recorder, req: ChartRequest, words: str
) -> None:
    async with demo_app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, req)
        assert words in screen.message_text and screen.query_one("#ts-message").has_class("-error")
        assert "Traceback" not in screen.message_text and demo_app.is_running
        assert recorder.notifications("error") == []


async def test_no_data_in_the_range_is_said_in_place(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms"))
        screen.set_range(TimeRange.of(NOW + timedelta(days=1), NOW + timedelta(days=2)), home=True)
        await reread(demo_app, pilot, settle)
        assert screen.message_text.startswith("No data between 2025-06-17")
        assert "choose another range (r) or zoom out (-)" in screen.message_text
        assert "no values in this range" in screen.legend.plain


async def test_values_of_another_type_than_the_aspect_says_are_not_drawn_and_explained(
    demo_app: IhubApp, settle
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms"))
        # The aspect's definition claims zone is a DOUBLE; the service sends text.
        aspects = screen.aspects[PUMP]
        vibration = next(a for a in aspects if a.name == "Vibration")
        wrong = [
            v if v.name != "zone" else type(v)(name="zone", data_type="DOUBLE") for v in vibration.variables
        ]
        screen.aspects[PUMP] = [
            a
            if a.name != "Vibration"
            else Aspect(name="Vibration", variables=tuple(wrong), category="dynamic")
            for a in aspects
        ]
        screen.apply_preset("15min")
        await reread(demo_app, pilot, settle)
        screen.add_request(request("zone"))
        await reread(demo_app, pilot, settle)
        assert [s.variable for s in screen.series] == ["velocityRms", "zone"]
        assert "values are not numbers (the aspect says DOUBLE)" in screen.legend.plain
        assert list(drawn(screen)) == ["mm/s"]
        assert demo_app.is_running


async def test_not_connected_says_so(make_services, settle) -> None:
    app = IhubApp(make_services({"plant": None}, default="plant"), profile="plant")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_area("timeseries", request("velocityRms"))
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimeSeriesScreen)
        assert "Waiting for the connection" in screen.message_text
        assert app.is_running


# -- keys and resize -----------------------------------------------------------------------------------------


async def test_keys_are_in_the_key_bar_and_the_help(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        await open_chart(demo_app, pilot, settle, request("velocityRms"))
        bar = demo_app.screen.query_one(KeyBar).plain
        for item in (
            "a Series",
            "r Range",
            "+ Zoom in",
            "- Zoom out",
            "0 Reset",
            "t Table",
            "s Stats",
            "l Live",
        ):
            assert item in bar, bar
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = demo_app.screen
        assert isinstance(help_screen, HelpScreen)
        # Every section (the keys are grouped by purpose: zoom and pan under Navigate, export under Copy).
        entries = dict(entry for section in help_screen.sections for entry in section.entries)
        by_purpose = {s.title: dict(s.entries) for s in help_screen.sections}
        assert "+" in by_purpose["Navigate"] and "e" in by_purpose["Copy and export"]
        assert entries["+"].startswith("Zoom in: the narrower window is read at a finer resolution")
        assert entries["⇧←→"] == "Pan a quarter window earlier (⇧←) or later (⇧→)"
        assert entries["←"] == "Cursor one column left" and entries["→"] == "Cursor one column right"
        assert entries["e"] == "Export to CSV or JSON"
        assert "Live mode: poll the newest values and slide" in entries.values()


async def test_a_resize_redraws_for_the_new_width_and_a_large_one_reads_again(
    demo_app: IhubApp, settle
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms", "bearingTemperature"))
        await reread(demo_app, pilot, settle)
        wide = screen.chart.columns
        assert screen._drawn_columns == wide
        points = len(drawn(screen)["mm/s"][0].x)
        result = next(iter(screen.results.values()))
        draws = screen.chart.draws
        # A little narrower: the points are derived again from what was read.
        await pilot.resize_terminal(100, 36)
        await reread(demo_app, pilot, settle)
        assert wide * 0.75 < screen.chart.columns < wide
        assert screen.chart.draws > draws
        assert next(iter(screen.results.values())) is result  # redrawn from memory, not read again
        series = drawn(screen)["mm/s"][0]
        # Derived again for the new width (what chart_data gives for that many columns).
        expected = chart_data(
            result.frame, "velocityRms", columns=screen.chart.columns, start_ms=screen.range.start_ms,
            end_ms=screen.range.end_ms,
        )  # fmt: skip
        assert screen._drawn_columns == screen.chart.columns and len(series.x) == len(expected.x)
        assert points == len(
            chart_data(result.frame, "velocityRms", columns=wide, start_ms=screen.range.start_ms,
                       end_ms=screen.range.end_ms).x
        )  # fmt: skip
        # Much narrower: planned again for the new width, a coarser interval.
        await pilot.resize_terminal(70, 24)
        await reread(demo_app, pilot, settle)
        narrow = next(iter(screen.results.values()))
        assert narrow is not result
        assert narrow.plan.interval is not None and result.plan.interval is not None
        assert narrow.plan.interval.seconds > result.plan.interval.seconds
        assert narrow.plan.width == screen.chart.columns


async def test_asset_search_failure_and_escape_keep_the_app_up(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        await pilot.press("3")
        await settle(demo_app, pilot)
        screen = demo_app.screen
        assert isinstance(screen, TimeSeriesScreen)
        await pilot.press("a")
        await type_text(pilot, "no such pump")
        await pilot.pause(0.4)
        await settle(demo_app, pilot)
        assert screen.picker.assets == []
        await pilot.press("escape")
        assert screen.chart.has_focus
        # Keys on an empty chart do nothing harmful.
        await pilot.press("right", "plus", "t", "s", "l", "e")
        await asyncio.sleep(0.1)
        await pilot.press("escape")
        assert demo_app.is_running


async def test_an_asset_search_with_an_invisible_character_says_which(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        await pilot.press("3")
        await settle(demo_app, pilot)
        screen = demo_app.screen
        assert isinstance(screen, TimeSeriesScreen)
        screen._search("Pump\u200b")
        await settle(demo_app, pilot)
        shown = [str(o.prompt) for o in screen.picker.options._options]
        assert shown == ["the search contains an invisible character, U+200B, at position 5"]


async def test_ranges_end_at_the_services_now_on_a_fast_local_clock(sim, settle) -> None:
    """Issue 7 section 1: a local clock 30 min fast asked for the service's future (half a chart empty)."""
    from tui.services import Services
    from tui.sim.transport import sim_transport

    services = Services.for_demo(
        transport_factory=lambda: sim_transport(sim), clock=lambda: FROZEN_TIME + 1800
    )
    app = IhubApp(services, profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = await open_chart(app, pilot, settle, request("velocityRms"))
        screen.apply_preset("1h")
        await reread(app, pilot, settle)
        assert abs(screen.range.end.timestamp() - FROZEN_TIME) < 60
        frame = next(iter(screen.results.values())).frame
        assert len(frame) >= 3500  # the whole hour of the 1 Hz aspect


async def test_a_mouse_zoom_in_one_panel_moves_every_panel_and_reads_the_window(
    demo_app: IhubApp, settle
) -> None:
    from textual_plot import PlotWidget

    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        screen = await open_chart(demo_app, pilot, settle, request("velocityRms", "bearingTemperature"))
        first, second = screen.chart.query(ChartPlot)
        end = screen.range.end_ms / 1000
        start = end - 3 * 3600
        # What textual-plot posts after a wheel notch over the first panel (several in a row while scrolling).
        for step in (3, 2, 1):
            first.post_message(PlotWidget.ScaleChanged(first, start - step * 60, end, 0.0, 10.0))
        first.post_message(PlotWidget.ScaleChanged(first, start, end, 0.0, 10.0))
        await pilot.pause()
        assert (second._x_min, second._x_max) == (start, end)  # the other panel follows at once
        await pilot.pause(0.5)  # one read after the notches settle
        await settle(demo_app, pilot)
        assert screen.range.start_ms == int(start * 1000) and screen.range.end_ms == int(end * 1000)
        assert next(iter(screen.results.values())).plan.source == "raw"
        assert screen.preset_key is None
