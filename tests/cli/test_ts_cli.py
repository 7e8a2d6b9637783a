"""``ihub ts`` (issue 9 sections 4 and 6): every command and format against the in-process simulator.

The simulator's clock is frozen at 2025-06-16 08:00 UTC; Pump ER-1104 has the 1 Hz ``Vibration`` aspect.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from tui.cli import build_parser, main
from tui.cli import ts as ts_cli
from tui.cli.common import EXIT_NOT_FOUND, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from tui.config.profiles import Profile
from tui.devtools.screenshots import FROZEN_TIME
from tui.services import Services
from tui.sim.app import create_app
from tui.sim.config import SimConfig
from tui.sim.transport import sim_transport

PUMP = "ff0d65e90c1000b7343ac254a953c927"  # Pump ER-1104
ASPECT = "Vibration"


@pytest.fixture
def sim():
    return create_app(SimConfig(clock=lambda: FROZEN_TIME))


@pytest.fixture
def services(sim) -> Services:
    return Services.for_demo(transport_factory=lambda: sim_transport(sim), clock=lambda: FROZEN_TIME)


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def csv(self) -> list[list[str]]:
        return list(csv.reader(io.StringIO(self.out)))


def ihub(services: Services, *argv: str) -> Result:
    args = build_parser(list(argv)).parse_args(list(argv))
    out, err = io.StringIO(), io.StringIO()
    code = ts_cli.run(args, services, stdout=out, stderr=err)
    return Result(code, out.getvalue(), err.getvalue())


# -- get ---------------------------------------------------------------------------------------------


def test_get_raw_csv_has_the_header_and_one_iso_utc_row_per_timestamp(services: Services) -> None:
    r = ihub(
        services,
        "ts",
        "get",
        PUMP,
        ASPECT,
        "--var",
        "velocityRms",
        "--var",
        "zone",
        "--from",
        "-10min",
        "-o",
        "csv",
    )
    assert r.code == EXIT_OK, r.err
    rows = r.csv()
    assert rows[0] == ["_time", "velocityRms", "velocityRms_qc", "zone"]
    assert len(rows) == 1 + 600
    assert rows[1][0] == "2025-06-16T07:50:01.000Z" and rows[-1][0] == "2025-06-16T08:00:00.000Z"
    times = [row[0] for row in rows[1:]]
    assert times == sorted(set(times))
    assert all(row[3] in "ABCD" for row in rows[1:])


@pytest.mark.parametrize("offset", [1800, -1800])
def test_relative_ranges_end_at_the_services_now_on_a_skewed_clock(sim, offset: float) -> None:
    """Issue 7 section 1: "-10min" on a local clock 30 min fast asked for the service's future (nothing);
    30 min slow, for data half an hour old."""
    skewed = Services.for_demo(
        transport_factory=lambda: sim_transport(sim), clock=lambda: FROZEN_TIME + offset
    )
    r = ihub(skewed, "ts", "get", PUMP, ASPECT, "--var", "velocityRms", "--from", "-10min", "-o", "csv")
    assert r.code == EXIT_OK, r.err
    rows = r.csv()
    assert len(rows) == 1 + 600
    assert rows[1][0] == "2025-06-16T07:50:01.000Z" and rows[-1][0] == "2025-06-16T08:00:00.000Z"


def test_get_across_many_pages_streams_every_record_once(services: Services) -> None:
    # 3 hours of 1 Hz: 10 800 records, more than five pages of 2000, read as concurrent sub-ranges.
    r = ihub(
        services,
        "ts",
        "get",
        PUMP,
        ASPECT,
        "--var",
        "velocityRms",
        "--from",
        "-3h",
        "--agg",
        "raw",
        "-o",
        "csv",
    )
    assert r.code == EXIT_OK, r.err
    times = [row[0] for row in r.csv()[1:]]
    assert len(times) == len(set(times)) == 10_800 - _missing(services, "-3h")
    assert times == sorted(times)


def _missing(services: Services, start: str) -> int:
    """Records the simulator leaves out (outages) in the range, from one sequential read."""
    r = ihub(
        services,
        "ts",
        "get",
        PUMP,
        ASPECT,
        "--var",
        "velocityRms",
        "--from",
        start,
        "--agg",
        "raw",
        "-o",
        "json",
    )
    return 10_800 - len(json.loads(r.out))


def test_get_json_is_the_list_of_records_with_the_api_field_names(services: Services) -> None:
    r = ihub(
        services, "ts", "get", PUMP, ASPECT, "--from", "2025-06-16T07:59:57Z", "--to", "now", "-o", "json"
    )
    assert r.code == EXIT_OK, r.err
    records = json.loads(r.out)
    assert [rec["_time"] for rec in records] == [
        "2025-06-16T07:59:58.000Z",
        "2025-06-16T07:59:59.000Z",
        "2025-06-16T08:00:00.000Z",
    ]
    assert set(records[0]) == {
        "_time", "velocityRms", "velocityRms_qc", "accelerationPeak", "accelerationPeak_qc",
        "bearingTemperature", "zone", "alarm",
    }  # fmt: skip
    assert isinstance(records[0]["alarm"], bool)


def test_get_aggregates_by_interval_as_csv_and_table(services: Services) -> None:
    r = ihub(
        services,
        "ts",
        "get",
        PUMP,
        ASPECT,
        "--var",
        "velocityRms",
        "--from",
        "-6h",
        "--agg",
        "1h",
        "-o",
        "csv",
    )
    assert r.code == EXIT_OK, r.err
    rows = r.csv()
    assert rows[0][:2] == ["_time", "endtime"]
    assert {
        "velocityRms.average",
        "velocityRms.minvalue",
        "velocityRms.maxvalue",
        "velocityRms.countgood",
    } <= set(rows[0])
    assert [row[0] for row in rows[1:]] == [f"2025-06-16T0{h}:00:00.000Z" for h in range(2, 8)]
    header = rows[0]
    for row in rows[1:]:
        lo, avg, hi = (
            float(row[header.index(f"velocityRms.{f}")]) for f in ("minvalue", "average", "maxvalue")
        )
        assert lo <= avg <= hi
    table = ihub(services, "ts", "get", PUMP, ASPECT, "--var", "velocityRms", "--from", "-6h", "--agg", "1h")
    assert table.code == EXIT_OK
    lines = table.out.splitlines()
    assert lines[0].split()[:4] == ["_TIME", "ENDTIME", "VELOCITYRMS.AVERAGE", "VELOCITYRMS.MINVALUE"]
    assert len(lines) == 1 + 6


def test_get_auto_chooses_aggregates_for_a_long_range_and_leaves_text_out(services: Services) -> None:
    r = ihub(services, "ts", "get", PUMP, ASPECT, "--from", "-30d", "-o", "csv")
    assert r.code == EXIT_OK, r.err
    header = r.csv()[0]
    assert header[:2] == ["_time", "endtime"] and "velocityRms.average" in header
    assert not any(h.startswith(("zone.", "alarm.")) for h in header)
    assert "no aggregates for zone, alarm (not numeric): read them with --agg raw" in r.err


def test_get_raw_table_with_relative_times_without_an_equals_sign(services: Services) -> None:
    r = ihub(
        services, "ts", "get", PUMP, ASPECT, "--var", "bearingTemperature", "--from", "-3s", "--to", "now"
    )
    assert r.code == EXIT_OK, r.err
    lines = r.out.splitlines()
    assert lines[0].split() == ["_TIME", "BEARINGTEMPERATURE"]
    assert [line.split()[0] for line in lines[1:]] == [
        "2025-06-16T07:59:58.000Z",
        "2025-06-16T07:59:59.000Z",
        "2025-06-16T08:00:00.000Z",
    ]


# -- latest --------------------------------------------------------------------------------------------


def test_latest_in_every_format(services: Services) -> None:
    table = ihub(services, "ts", "latest", PUMP, ASPECT)
    assert table.code == EXIT_OK, table.err
    lines = table.out.splitlines()
    assert lines[0].split() == ["VARIABLE", "VALUE", "UNIT", "QUALITY", "TIME"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {"velocityRms", "accelerationPeak", "bearingTemperature", "zone", "alarm"}
    assert rows["velocityRms"][2] == "mm/s" and rows["velocityRms"][-1] == "2025-06-16T08:00:00.000Z"
    records = json.loads(ihub(services, "ts", "latest", PUMP, ASPECT, "-o", "json").out)
    assert len(records) == 1 and records[0]["_time"] == "2025-06-16T08:00:00.000Z"
    rows_csv = list(csv.reader(io.StringIO(ihub(services, "ts", "latest", PUMP, ASPECT, "-o", "csv").out)))
    assert rows_csv[0][:3] == ["_time", "velocityRms", "velocityRms_qc"] and len(rows_csv) == 2
    each = json.loads(
        ihub(services, "ts", "latest", PUMP, ASPECT, "--each", "--var", "zone", "-o", "json").out
    )
    assert len(each) == 1 and set(each[0]) == {"_time", "zone"}


# -- put -----------------------------------------------------------------------------------------------


def test_put_writes_checked_records_that_read_back(services: Services, tmp_path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "_time,velocityRms,velocityRms_qc,zone,alarm\n"
        "2025-06-16T09:00:00Z,1.5,0,B,true\n"
        "2025-06-16T09:00:01.500+02:00,1.75,64,C,false\n"
    )
    r = ihub(services, "ts", "put", PUMP, ASPECT, str(path))
    assert r.code == EXIT_OK, r.err
    assert r.out.startswith(f"wrote 2 records to Vibration of {PUMP}")
    window = ["--from", "2025-06-16T06:59:59Z", "--to", "2025-06-16T09:00:00Z"]
    picked = ["--var", "velocityRms", "--var", "zone", "--agg", "raw", "-o", "json"]
    back = ihub(services, "ts", "get", PUMP, ASPECT, *window, *picked)
    records = json.loads(back.out)
    written = [
        rec for rec in records if rec["_time"] in ("2025-06-16T07:00:01.500Z", "2025-06-16T09:00:00.000Z")
    ]
    assert written == [
        {"_time": "2025-06-16T07:00:01.500Z", "velocityRms": 1.75, "velocityRms_qc": 64, "zone": "C"},
        {"_time": "2025-06-16T09:00:00.000Z", "velocityRms": 1.5, "velocityRms_qc": 0, "zone": "B"},
    ]
    # What `get -o csv` writes, `put` reads back unchanged.
    exported = tmp_path / "export.csv"
    exported.write_text(ihub(services, "ts", "get", PUMP, ASPECT, "--from", "-1min", "-o", "csv").out)
    assert ihub(services, "ts", "put", PUMP, ASPECT, str(exported)).code == EXIT_OK


def test_put_reports_bad_rows_by_line_and_writes_nothing(services: Services, tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "_time,velocityRms,zone,alarm\n"
        "2025-06-16T10:00:00Z,1.5,B,true\n"
        "2025-06-16T10:00:01Z,abc,B,true\n"
        "2025-06-16 10:00,1.6,CC,maybe\n"
    )
    r = ihub(services, "ts", "put", PUMP, ASPECT, str(path))
    assert r.code == EXIT_USAGE
    assert "line 3, column 'velocityRms': 'abc' is not a number (DOUBLE)" in r.err
    assert "line 4, column '_time': '2025-06-16 10:00' is not an ISO 8601 time with a zone" in r.err
    assert "line 4, column 'alarm': 'maybe' is not true or false (BOOLEAN)" in r.err
    assert r.err.rstrip().endswith("nothing was written")
    # The good row before the bad ones was not written either.
    window = ["--from", "2025-06-16T09:59:59Z", "--to", "2025-06-16T10:00:02Z"]
    back = ihub(services, "ts", "get", PUMP, ASPECT, *window, "-o", "json")
    assert json.loads(back.out) == [] and back.code == EXIT_NOT_FOUND
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("_time,speed\n2025-06-16T10:00:00Z,1\n")
    r = ihub(services, "ts", "put", PUMP, ASPECT, str(unknown))
    assert r.code == EXIT_USAGE and "'speed' is not a variable of this aspect" in r.err
    missing = ihub(services, "ts", "put", PUMP, ASPECT, str(tmp_path / "none.csv"))
    assert missing.code == EXIT_USAGE and "cannot read" in missing.err and "No such file" in missing.err


def test_put_through_a_read_only_profile_is_refused(services: Services, tmp_path) -> None:
    profile = services.profiles.get("demo")
    services.profiles.update("demo", Profile(**{**profile.__dict__, "read_only": True}))
    path = tmp_path / "in.csv"
    path.write_text("_time,velocityRms\n2025-06-16T09:00:00Z,1.5\n")
    r = ihub(services, "ts", "put", PUMP, ASPECT, str(path))
    assert r.code == EXIT_REFUSED and "read-only" in r.err


# -- plot ----------------------------------------------------------------------------------------------


def test_plot_prints_a_braille_chart_with_axes_and_legend(services: Services) -> None:
    r = ihub(services, "ts", "plot", PUMP, ASPECT, "--var", "velocityRms", "--from", "-6h", "--width", "80",
             "--height", "10", "--color", "never")  # fmt: skip
    assert r.code == EXIT_OK, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith("Pump ER-1104 · Vibration · raw, ")
    assert all(len(line) <= 80 for line in lines)
    braille = sum(1 for ch in r.out if 0x2800 < ord(ch) <= 0x28FF)
    assert braille > 100
    assert any("└" in line for line in lines) and "02:00" in r.out
    assert lines[-1].startswith("⣿ velocityRms [mm/s]") and "times in" in lines[-1]
    assert "\x1b[" not in r.out


def test_plot_blocks_colour_aggregates_band_and_booleans(services: Services) -> None:
    r = ihub(services, "ts", "plot", PUMP, ASPECT, "--var", "velocityRms", "--var", "alarm", "--from", "-1h",
             "--width", "70", "--block", "--color", "always")  # fmt: skip
    assert r.code == EXIT_OK, r.err
    assert any(ch in r.out for ch in "▀▄█") and not any(0x2800 < ord(ch) <= 0x28FF for ch in r.out)
    assert "\x1b[36m" in r.out and "alarm" in r.out
    band = ihub(
        services, "ts", "plot", PUMP, ASPECT, "--var", "velocityRms", "--from", "-7d", "--width", "90"
    )
    assert band.code == EXIT_OK and "aggregates" in band.out.splitlines()[0]
    assert "(band: min–max)" in band.out


def test_plot_draws_one_chart_per_unit(services: Services) -> None:
    """Variables in different units get a chart each (stacked, the same time axis), as in the app: on one
    axis the smaller values would be flattened to a line at zero."""
    r = ihub(services, "ts", "plot", PUMP, ASPECT, "--var", "velocityRms", "--var", "bearingTemperature",
             "--from", "-6h", "--width", "80", "--height", "6", "--color", "never")  # fmt: skip
    assert r.code == EXIT_OK, r.err
    lines = r.out.splitlines()
    assert sum("└" in line for line in lines) == 2
    legends = [line for line in lines if line.startswith("⣿ ")]
    assert [legend.split(" [")[0] for legend in legends] == ["⣿ velocityRms", "⣿ bearingTemperature"]
    assert lines[0].startswith("Pump ER-1104 · Vibration") and sum("Vibration" in line for line in lines) == 1


def test_plot_refuses_text_variables(services: Services) -> None:
    r = ihub(services, "ts", "plot", PUMP, ASPECT, "--var", "zone")
    assert r.code == EXIT_USAGE
    assert r.err.strip() == (
        "ihub ts: zone (STRING): only numbers and booleans can be plotted; print them with 'ihub ts get'"
    )


# -- bad input (section 6) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--from", "now", "--to", "-1h"], EXIT_USAGE, "'from' (2025-06-16 08:00:00) must be before 'to'"),
        (["--from", "-20y"], EXIT_USAGE, "more than the 10 years ihub reads at once"),
        (["--from", "last tuesday"], EXIT_USAGE, "cannot read 'last tuesday' as a time"),
        (["--agg", "15min"], EXIT_USAGE, "15 minutes is not an aggregate interval the service allows"),
        (["--agg", "fortnight"], EXIT_USAGE, "unknown interval unit 'fortnight'"),
        (
            ["--var", "speed"],
            EXIT_NOT_FOUND,
            "has no variable 'speed' (variables: velocityRms, accelerationPeak",
        ),
        (
            ["--from", "2025-06-17T00:00Z", "--to", "2025-06-18T00:00Z"],
            EXIT_NOT_FOUND,
            "no data for Vibration",
        ),
    ],
)
def test_bad_input_is_one_plain_line_and_a_non_zero_exit(
    services: Services, argv: list[str], code: int, message: str
) -> None:
    r = ihub(services, "ts", "get", PUMP, ASPECT, *argv, "-o", "csv")
    assert r.code == code, r.err
    assert message in r.err
    errors = [line for line in r.err.splitlines() if line.startswith("ihub ts: ")]
    assert len(errors) == 1 and "Traceback" not in r.err and "unexpected" not in r.err


def test_unknown_asset_or_aspect_exits_not_found(services: Services) -> None:
    r = ihub(services, "ts", "latest", "0" * 32, ASPECT)
    assert r.code == EXIT_NOT_FOUND and "not found" in r.err
    r = ihub(services, "ts", "get", PUMP, "Nope")
    assert r.code == EXIT_NOT_FOUND
    assert (
        "has no aspect 'Nope' (aspects: Nameplate, Energy, Maintenance, Diagnostics, PumpData, Vibration)"
        in r.err
    )
    r = ihub(services, "ts", "plot", PUMP, "Nope", "--var", "x")
    assert r.code == EXIT_NOT_FOUND


# -- dry run -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "path"),
    [
        (["get", PUMP, ASPECT, "--from", "-1h"], "/api/iottimeseries/v3/timeseries/"),
        (["get", PUMP, ASPECT, "--agg", "1h"], "/api/iottsaggregates/v4/aggregates?"),
        (["latest", PUMP, ASPECT], "/api/iottimeseries/v3/timeseries/"),
        (["plot", PUMP, ASPECT, "--var", "velocityRms"], "/api/iottimeseries/v3/timeseries/"),
    ],
)
def test_dry_run_prints_curl_lines_and_no_results(services: Services, argv: list[str], path: str) -> None:
    r = ihub(services, "ts", *argv, "--dry-run")
    assert r.code == EXIT_OK, r.err
    lines = r.out.splitlines()
    assert lines and all(line.startswith("curl ") for line in lines)
    assert any(path in line for line in lines)
    assert all('-H "Authorization: Bearer $TOKEN"' in line for line in lines)


def test_dry_run_put_shows_the_body_it_would_send(services: Services, tmp_path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("_time,velocityRms,zone\n2025-06-16T09:00:00Z,1.5,B\n")
    r = ihub(services, "ts", "put", PUMP, ASPECT, str(path), "--dry-run")
    assert r.code == EXIT_OK, r.err
    (line,) = r.out.splitlines()
    assert line.startswith("curl -X PUT ") and '"velocityRms":1.5' in line and '"zone":"B"' in line
    # Nothing was written.
    back = ihub(
        services, "ts", "get", PUMP, ASPECT, "--from", "2025-06-16T08:59:59Z", "--to", "2025-06-16T09:00:00Z"
    )
    assert back.code == EXIT_NOT_FOUND


def test_the_group_is_listed_and_needs_a_command(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "ts" in capsys.readouterr().out
    assert main(["ts"]) == EXIT_USAGE
    assert "get" in capsys.readouterr().out
