"""Export files and streamed rows, put-file checks, and the text chart (issue 9, sections 3-4)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tui.api.models import VariableDefinition
from tui.api.ts.export import (
    ExportError,
    atomic_text_file,
    default_name,
    frame_text,
    open_row_writer,
    write_frame,
    write_pages,
)
from tui.api.ts.fetch import SeriesQuery, TimeSeriesReader
from tui.api.ts.frame import AggregateFrame, RawFrame, format_ms
from tui.api.ts.plan import Interval
from tui.api.ts.put import PutValidationError, read_put_csv
from tui.api.ts.textchart import ChartSeries, format_value, nice_ticks, render_chart
from tui.api.ts.timerange import TimeRange
from tui.sim.config import SimConfig

T0 = 1_709_287_200_000  # 2024-03-01T10:00:00Z
RECORDS = [
    {"_time": "2024-03-01T10:00:00.000Z", "flow": 12.5, "flow_qc": 0, "running": True, "note": "a,b"},
    {"_time": "2024-03-01T10:00:01.000Z", "flow": 12.0, "flow_qc": 64, "running": False},
    {"_time": "2024-03-01T10:00:02.500Z", "running": True, "note": 'say "hi"'},
]
VARIABLES = [
    VariableDefinition("flow", "DOUBLE", "m3/h", quality_code=True),
    VariableDefinition("running", "BOOLEAN"),
    VariableDefinition("note", "STRING", length=10),
    VariableDefinition("count", "INT"),
    VariableDefinition("big", "LONG"),
    VariableDefinition("at", "TIMESTAMP"),
]


# ----------------------------------------------------------------------------------------- export


def test_raw_csv_header_rows_and_quality_columns() -> None:
    frame = RawFrame.from_records(RECORDS)
    rows = list(csv.reader(io.StringIO(frame_text(frame, "csv"))))
    assert rows[0] == ["_time", "flow", "flow_qc", "running", "note"]
    assert rows[1] == ["2024-03-01T10:00:00.000Z", "12.5", "0", "true", "a,b"]
    assert rows[2] == ["2024-03-01T10:00:01.000Z", "12.0", "64", "false", ""]
    assert rows[3] == ["2024-03-01T10:00:02.500Z", "", "", "true", 'say "hi"']
    assert len(rows) == 4  # one row per timestamp


def test_raw_json_is_the_list_of_api_records() -> None:
    frame = RawFrame.from_records(RECORDS)
    assert json.loads(frame_text(frame, "json")) == RECORDS


def test_aggregate_csv_and_json_use_the_reference_names() -> None:
    items = [
        {
            "starttime": "2024-03-01T10:00:00Z",
            "endtime": "2024-03-01T11:00:00Z",
            "flow": {"countgood": 60, "countuncertain": 0, "countbad": 0, "sum": 600.0, "average": 10.0,
                     "minvalue": 9.0, "mintime": "2024-03-01T10:10:00Z", "maxvalue": 11.0,
                     "maxtime": "2024-03-01T10:20:00Z", "firstvalue": 9.5,
                     "firsttime": "2024-03-01T10:00:00Z", "lastvalue": 10.5,
                     "lasttime": "2024-03-01T10:59:00Z", "sd": None},
        }
    ]  # fmt: skip
    frame = AggregateFrame.from_items(items)
    rows = list(csv.reader(io.StringIO(frame_text(frame, "csv"))))
    header = rows[0]
    assert header[:2] == ["_time", "endtime"]
    for name in ("flow.average", "flow.minvalue", "flow.maxvalue", "flow.countgood", "flow.sd"):
        assert name in header
    row = dict(zip(header, rows[1], strict=True))
    assert row["_time"] == "2024-03-01T10:00:00.000Z" and row["flow.average"] == "10.0"
    assert row["flow.countgood"] == "60" and row["flow.mintime"] == "2024-03-01T10:10:00.000Z"
    assert row["flow.sd"] == ""
    back = json.loads(frame_text(frame, "json"))
    assert back[0]["flow"]["maxvalue"] == 11.0 and back[0]["starttime"] == "2024-03-01T10:00:00.000Z"


def test_streamed_writers_emit_rows_as_they_come() -> None:
    out = io.StringIO()
    writer = open_row_writer("csv", out, ["flow", "running", "note"], quality=["flow"])
    writer.write(RECORDS[:1])
    assert out.getvalue().splitlines() == [
        "_time,flow,flow_qc,running,note",
        '2024-03-01T10:00:00.000Z,12.5,0,true,"a,b"',
    ]
    writer.write(RECORDS[1:])
    writer.close()
    assert writer.rows == 3
    out = io.StringIO()
    writer = open_row_writer("json", out, [])
    writer.write(RECORDS[:2])
    assert out.getvalue().startswith("[\n{")
    writer.write(RECORDS[2:])
    writer.close()
    assert json.loads(out.getvalue()) == RECORDS
    empty = io.StringIO()
    w = open_row_writer("json", empty, [])
    w.close()
    assert json.loads(empty.getvalue()) == []
    empty = io.StringIO()
    w = open_row_writer("csv", empty, ["flow"])
    w.close()
    assert empty.getvalue() == "_time,flow\n"
    with pytest.raises(ValueError, match="unknown format"):
        open_row_writer("xml", io.StringIO(), [])


def test_files_are_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old content\n")
    frame = RawFrame.from_records(RECORDS)
    path = write_frame(target, frame)
    assert path == target.resolve() and target.read_text().startswith("_time,flow,flow_qc")
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    # A failure while writing leaves the old file and no temporary file behind.
    target.write_text("old content\n")
    with pytest.raises(RuntimeError), atomic_text_file(target) as handle:
        handle.write("partial")
        raise RuntimeError("disk full in the middle")
    assert target.read_text() == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    with pytest.raises(ExportError, match="does not exist"):
        write_frame(tmp_path / "missing" / "x.csv", frame)
    with pytest.raises(ExportError, match=r"name it \.csv or \.json"):
        write_frame(tmp_path / "x.txt", frame)
    json_path = write_frame(tmp_path / "x.json", frame)
    assert json.loads(json_path.read_text()) == RECORDS
    assert default_name("Pump P/101", "PumpData", T0, "csv") == "Pump-P-101_PumpData_20240301T1000Z.csv"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


async def test_full_resolution_export_streams_pages_from_the_simulator(sim, tmp_path: Path) -> None:
    now = datetime(2024, 3, 1, 12, tzinfo=UTC)
    api, _ = sim(SimConfig(clock=lambda: now.timestamp()))
    asset = None
    async for a in api.assets.list({"typeId": "demo.Pump"}):
        asset = a.asset_id
        break
    reader = TimeSeriesReader(api)
    types = {"flow": "DOUBLE", "pressure": "DOUBLE", "running": "BOOLEAN"}
    query = SeriesQuery(
        asset, "PumpData", ("flow", "running"), TimeRange.of(now - timedelta(days=3), now), types
    )
    planned = await reader.plan(query, force="raw", streaming=True)
    path, rows = await write_pages(
        tmp_path / "pump.csv",
        reader.pages(planned),
        lambda s: open_row_writer("csv", s, ["flow", "running"], quality=["flow"]),
    )
    lines = path.read_text().splitlines()
    assert lines[0] == "_time,flow,flow_qc,running" and len(lines) == rows + 1 > 4000
    direct = await api.timeseries.read(
        asset, "PumpData", query.range.start, query.range.end, select="flow,running"
    )
    assert rows == len(direct)
    agg = await reader.plan(query, force=Interval(1, "hour"), streaming=True)
    path, rows = await write_pages(
        tmp_path / "pump.json", reader.pages(agg), lambda s: open_row_writer("json", s, [])
    )
    items = json.loads(path.read_text())
    assert len(items) == rows == 72 and set(items[0]) == {"starttime", "endtime", "flow"}


# -------------------------------------------------------------------------------------------- put


def test_good_file_gives_typed_records_sorted_by_time() -> None:
    text = (
        "_time,flow,flow_qc,running,note,count,big,at\n"
        "2024-03-01T10:00:01Z,12.5,0,true,ok,3,9007199254740993,2024-03-01T09:00:00+01:00\n"
        "2024-03-01T11:00:00+01:00,7,,FALSE,,,,\n"
    )
    records = read_put_csv(text, VARIABLES)
    assert records == [
        {"_time": "2024-03-01T10:00:00.000Z", "flow": 7, "running": False},
        {
            "_time": "2024-03-01T10:00:01.000Z",
            "flow": 12.5,
            "flow_qc": 0,
            "running": True,
            "note": "ok",
            "count": 3,
            "big": 9007199254740993,
            "at": "2024-03-01T08:00:00.000Z",
        },
    ]


def test_bad_rows_are_reported_by_line_number() -> None:
    text = (
        "_time,flow,running,count,note\n"  # line 1
        "2024-03-01T10:00:00Z,1.5,true,1,x\n"  # 2 good
        "2024-03-01T10:00:01Z,abc,true,1,x\n"  # 3 flow not a number
        "2024-03-01T10:00:02Z,1.0,maybe,1,x\n"  # 4 boolean
        "2024-03-01T10:00:03Z,1.0,true,2147483648,x\n"  # 5 INT overflow
        "2024-03-01 10:00:04,1.0,true,1,x\n"  # 6 no zone
        "2024-03-01T10:00:05Z,1.0,true,1,much too long text\n"  # 7 STRING length
        "2024-03-01T10:00:00.0004Z,1.0,true,1,x\n"  # 8 same millisecond as line 2
        "2024-03-01T10:00:06Z,1.0,true\n"  # 9 too few cells
        "2024-03-01T10:00:07Z,nan,true,1,x\n"  # 10 not finite
    )
    with pytest.raises(PutValidationError) as err:
        read_put_csv(text, VARIABLES)
    problems = {(p.line, p.column) for p in err.value.problems}
    assert problems == {
        (3, "flow"),
        (4, "running"),
        (5, "count"),
        (6, "_time"),
        (7, "note"),
        (8, "_time"),
        (9, None),
        (10, "flow"),
    }
    assert str(err.value).startswith("line 3, column 'flow': 'abc' is not a number (DOUBLE) (and 7 more")
    assert "line 8, column '_time': the same time as line 2" in err.value.report()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("_time,flow\n", "no records"),
        ("time,flow\n2024-03-01T10:00Z,1\n", "'time' is not a variable"),
        (
            "_time,speed\n2024-03-01T10:00Z,1\n",
            "'speed' is not a variable of this aspect (variables: at, big,",
        ),
        ("_time,running_qc,running\n2024-03-01T10:00Z,0,true\n", "'running' has no quality code"),
        ("_time,flow,flow\n2024-03-01T10:00Z,1,1\n", "appears twice"),
        ("flow\n1\n", "no '_time' column"),
        ("_time,flow,flow_qc\n2024-03-01T10:00Z,,0\n", "a quality code without its value"),
        ("_time,flow,flow_qc\n2024-03-01T10:00Z,1,-1\n", "not a quality code"),
    ],
)
def test_put_file_problems(text: str, message: str) -> None:
    with pytest.raises(PutValidationError, match=message.replace("(", r"\(")):
        read_put_csv(text, VARIABLES)


def test_an_exported_csv_reads_back_for_put() -> None:
    frame = RawFrame.from_records(RECORDS)
    text = "\ufeff" + frame_text(frame, "csv")
    assert read_put_csv(text, VARIABLES) == RECORDS


# ------------------------------------------------------------------------------------- text chart

BERLIN = ZoneInfo("Europe/Berlin")


def _series(n: int = 8640, step: float = 10.0) -> ChartSeries:
    x = T0 / 1000 + np.arange(n) * step
    y = np.sin(np.arange(n) / 500.0) * 5 + 20
    return ChartSeries("vibration", x, y, "mm/s")


def test_chart_fits_the_width_and_shows_unit_axis_and_legend() -> None:
    lines = render_chart([_series()], width=80, height=10, tz=BERLIN)
    assert all(len(line) <= 80 for line in lines)
    assert lines[0].strip() == "mm/s"
    assert len(lines) == 1 + 10 + 2 + 1
    plot_rows = lines[1:11]
    assert all("│" in row or "┤" in row for row in plot_rows)
    assert any(ch != " " and 0x2800 <= ord(ch) <= 0x28FF for row in plot_rows for ch in row)
    assert "└" in lines[11] and "┬" in lines[11]
    assert "vibration [mm/s]" in lines[-1] and "Europe/Berlin (UTC+01:00)" in lines[-1]


@pytest.mark.parametrize("mode", ["braille", "block"])
def test_two_series_are_told_apart_without_colour(mode: str) -> None:
    """Without colour (a pipe, NO_COLOR) each series carries its marker on its own line and in the legend;
    one series alone keeps the plain dots."""
    from tui.api.ts.textchart import MARKERS

    high = _series()
    low = ChartSeries("pressure", high.x, high.y - 15, "mm/s")  # 0..10 below the other's 15..25
    lines = render_chart([high, low], width=100, height=12, tz=BERLIN, mode=mode)
    plot = lines[1:13]
    first, second = MARKERS[:2]
    rows_of = {m: [i for i, row in enumerate(plot) if m in row] for m in (first, second)}
    assert sum(row.count(first) for row in plot) >= 5 and sum(row.count(second) for row in plot) >= 5
    assert max(rows_of[first]) < min(rows_of[second])  # each marker on its own series' line
    assert f"{first} vibration [mm/s]" in lines[-1] and f"{second} pressure [mm/s]" in lines[-1]
    assert all(len(line) <= 100 for line in lines)
    alone = render_chart([high], width=100, height=12, tz=BERLIN, mode=mode)
    assert not any(m in line for line in alone for m in MARKERS)


def test_time_labels_are_local() -> None:
    series = _series()
    berlin = render_chart([series], width=100, height=6, tz=BERLIN)
    utc = render_chart([series], width=100, height=6, tz=ZoneInfo("UTC"))
    # 12:00 in Berlin is 11:00 UTC: its tick comes one hour (about 4 columns) earlier.
    assert berlin[-2].index("12:00") < utc[-2].index("12:00")
    assert berlin[-3].index("┬") < utc[-3].index("┬")
    assert "UTC+01:00" in berlin[-1] and "UTC (UTC+00:00)" in utc[-1]


def _columns(line: str, start: int) -> str:
    return line[start:]


def test_a_spike_is_drawn_and_a_gap_stays_empty() -> None:
    series = _series()
    series.y = series.y.copy()
    series.y[6000] = 100.0
    series.y[2000:3000] = np.nan
    lines = render_chart([series], width=80, height=12, tz=BERLIN)
    plot = lines[1:13]
    axis_at = plot[0].index("┤") if "┤" in plot[0] else plot[0].index("│")
    top = plot[0][axis_at + 1 :]
    assert top.strip(), "the spike reaches the top row"
    width = len(lines[13]) - axis_at - 1
    spike_col = int((6000 / 8640) * width)
    assert any(top[c] != " " for c in range(max(0, spike_col - 1), min(len(top), spike_col + 2)))
    gap_cols = range(int(2100 / 8640 * width), int(2900 / 8640 * width))  # the neighbours' columns aside
    for row in plot:
        body = row[axis_at + 1 :].ljust(width)
        assert all(body[c] == " " for c in gap_cols), "nothing drawn across the gap"


def test_block_mode_band_and_empty_chart() -> None:
    s = _series(720, 3600.0)
    s.lo, s.hi = s.y - 1, s.y + 1
    lines = render_chart([s], width=60, height=5, tz=BERLIN, mode="block")
    assert any(ch in "▀▄█" for line in lines for ch in line)
    assert "(band: min–max)" in lines[-2] and "times in Europe/Berlin" in lines[-1]  # wrapped legend
    assert all(len(line) <= 60 for line in lines)
    assert render_chart([ChartSeries("x", np.array([1.0]), np.array([np.nan]))], width=60) == [
        "(no data in this range)"
    ]
    flat = render_chart([ChartSeries("x", np.arange(10.0), np.full(10, 42.0))], width=60, height=5, tz=BERLIN)
    labels = [float(line.split("┤")[0]) for line in flat if "┤" in line]
    assert min(labels) < 42 < max(labels)  # a flat line gets a padded range, not a ±1e-6 one
    coloured = render_chart([_series(), _series()], width=80, height=5, tz=BERLIN, color=True)
    assert "\x1b[36m" in "".join(coloured) and "\x1b[0m" in "".join(coloured)
    with pytest.raises(ValueError):
        render_chart([_series()], mode="dots")


def test_nice_ticks() -> None:
    assert nice_ticks(0.3, 9.7, 4) == [2.0, 4.0, 6.0, 8.0]
    assert nice_ticks(-1.2, 1.2, 4) == [-1.0, -0.5, 0.0, 0.5, 1.0]


@pytest.mark.parametrize(
    ("lo", "hi", "labels"),
    [
        (0.3, 9.7, ["2", "4", "6", "8"]),
        (-1.2, 1.2, ["-1.0", "-0.5", "0.0", "0.5", "1.0"]),
        (20_000, 30_000, ["20k", "22k", "24k", "26k", "28k", "30k"]),
        (0, 2e6, ["0", "500k", "1.0M", "1.5M", "2.0M"]),
        # An energy counter over a day: a large value that changes little still has ticks that read apart.
        (17_870_000, 17_890_000, ["17.870M", "17.875M", "17.880M", "17.885M", "17.890M"]),
        (1.2e9, 1.9e9, ["1.2G", "1.4G", "1.6G", "1.8G"]),
    ],
)
def test_value_labels_read_apart_and_fit_the_margin(lo: float, hi: float, labels: list[str]) -> None:
    ticks = nice_ticks(lo, hi, 4)
    got = [format_value(v, ticks[1] - ticks[0]) for v in ticks]
    assert got == labels
    assert max(map(len, got)) <= 7  # the chart's tick margin (tui.widgets.ts_chart.MARGIN_LEFT - 1)


def test_render_is_fast_enough_for_millions_of_points() -> None:
    n = 2_600_000
    x = T0 / 1000 + np.arange(n, dtype=np.float64)
    y = np.sin(np.arange(n) / 10_000.0)
    lines = asyncio.run(_render_in_thread(ChartSeries("v", x, y)))
    assert len(lines) == 16 + 3  # no unit line


async def _render_in_thread(series: ChartSeries) -> list[str]:
    return await asyncio.to_thread(render_chart, [series], width=120, height=16, tz=BERLIN)


def test_records_time_format() -> None:
    assert format_ms(T0 + 5) == "2024-03-01T10:00:00.005Z"
