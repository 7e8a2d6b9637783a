"""``ihub ts``: time series from a shell or a script: get, latest, put, plot.

* ``get ASSET_ID ASPECT [--var NAME ...] [--from T] [--to T] [--agg auto|raw|INTERVAL]``: streams the
  records (or aggregate buckets) as they arrive, in time order: ``-o csv`` has the header
  ``_time,<var>,...`` (``<var>_qc`` after a variable with quality codes; aggregates ``_time,endtime,
  <var>.<field>...``) with ISO 8601 UTC times; ``-o json`` is the list of records with the API's field
  names; ``-o table`` aligned columns. ``--agg auto`` reads raw values when the range is short enough
  for a chart of ``DEFAULT_WIDTH`` columns, otherwise aggregates (the summary goes to standard error).
* ``latest ASSET_ID ASPECT``: the newest record (``--each``: the newest value of every variable).
* ``put ASSET_ID ASPECT FILE.csv``: checks every row against the aspect's variables, then writes; a bad
  row is reported by line number and nothing is written.
* ``plot ASSET_ID ASPECT --var NAME``: a chart on standard output in braille (or ``--block``) characters,
  one chart per unit (stacked on the same time range).

``T`` is ISO 8601, local ``YYYY-MM-DD HH:MM``, relative ``-24h``/``-7d``/``-15min`` or ``now``
(``tui.api.ts.timerange``). Exit codes are the shared ones (``tui/cli/common.py``): 2 for bad input
(a range, an interval, a file), 4 for an unknown asset, aspect or variable and for no data in the range,
5 for a write through a read-only profile.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sys
from collections.abc import Awaitable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from tui.cli.common import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    RowPrinter,
    add_api_arguments,
    fail,
    open_api,
    refuse_change,
    run_async,
)

if TYPE_CHECKING:
    from tui.api.client import ApiClient
    from tui.api.models import Aspect, VariableDefinition
    from tui.api.ts.fetch import PlannedRead
    from tui.api.ts.plan import Force
    from tui.api.ts.timerange import TimeRange
    from tui.cli.common import Session
    from tui.services import Services

PROG = "ihub ts"
TIME_HELP = "ISO 8601, local 'YYYY-MM-DD HH:MM', relative -24h/-7d/-15min, or now"
# Relative times such as -24h must be read as values, not options (argparse only knows -5 and -.5).
_VALUE_LIKE = re.compile(r"^-\d+(?:\.\d+)?\s*[a-z]*$")


# --------------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------------
def add_arguments(ts: argparse.ArgumentParser) -> None:
    """Add the ``ts`` subcommands to the group's parser."""
    sub = ts.add_subparsers(dest="ts_command", metavar="COMMAND")

    get = sub.add_parser(
        "get",
        help="read records or aggregates of an aspect (streamed)",
        description="Read an aspect's time series over a range and print the rows as they arrive.",
    )
    _target(get)
    get.add_argument(
        "--var", action="append", default=[], metavar="NAME", help="a variable (repeat; default: all)"
    )
    _range(get)
    get.add_argument(
        "--agg",
        default="auto",
        metavar="auto|raw|INTERVAL",
        help="source: auto (raw when few enough, else aggregates), raw, or an interval such as 2min, 1h, 1d "
        "(columns per variable: average, minvalue, maxvalue, countgood, ...)",
    )
    add_api_arguments(get)

    latest = sub.add_parser("latest", help="the newest record of an aspect")
    _target(latest)
    latest.add_argument("--var", action="append", default=[], metavar="NAME", help="a variable (repeat)")
    latest.add_argument(
        "--each",
        action="store_true",
        help="the newest value of every variable, from whatever time it has (latestValue; values younger "
        "than 5 minutes are not counted by the service)",
    )
    add_api_arguments(latest)

    put = sub.add_parser(
        "put",
        help="write records from a CSV file (checked first)",
        description="Write records from a CSV file with the header _time,<var>,... (optionally <var>_qc). "
        "Every row is checked against the aspect's variables first; a bad row is reported by line number "
        "and nothing is written. 'ihub ts get -o csv' writes files this reads back.",
    )
    _target(put)
    put.add_argument("file", metavar="FILE.csv")
    add_api_arguments(put, output=None)

    plot = sub.add_parser(
        "plot",
        help="print a chart (braille or block characters)",
        description="Print a chart of variables of an aspect to standard output, for SSH one-liners.",
    )
    _target(plot)
    plot.add_argument("--var", action="append", required=True, metavar="NAME", help="a variable (repeat)")
    _range(plot)
    plot.add_argument("--agg", default="auto", metavar="auto|raw|INTERVAL", help="source (as for get)")
    plot.add_argument("--width", type=int, default=None, help="columns (default: the terminal's)")
    plot.add_argument("--height", type=int, default=16, help="rows of the plot area (default: 16)")
    plot.add_argument(
        "--block", action="store_true", help="half blocks instead of braille (fonts without braille)"
    )
    plot.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour per series (auto: on a terminal, unless NO_COLOR is set)",
    )
    add_api_arguments(plot, output=None)

    for parser in (ts, get, latest, put, plot):
        parser._negative_number_matcher = _VALUE_LIKE
    ts.set_defaults(ts_parser=ts)


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("asset_id", metavar="ASSET_ID")
    parser.add_argument("aspect", metavar="ASPECT")


def _range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="start", metavar="T", help=f"start, exclusive (default: to - 24h); {TIME_HELP}"
    )
    parser.add_argument("--to", dest="end", metavar="T", help=f"end, inclusive (default: now); {TIME_HELP}")


# --------------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------------
def run(
    args: argparse.Namespace,
    services: Services | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one ``ihub ts`` command; returns the exit code. Never raises for expected failures."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    command = getattr(args, "ts_command", None)
    if command is None:
        parser = getattr(args, "ts_parser", None)
        if parser is not None:
            parser.print_help(out)
        return EXIT_USAGE
    from tui.cli.common import session_services

    services = session_services(args, services)
    runner = _Runner(services, args, out, err)
    try:
        return run_async(getattr(runner, command))
    except BrokenPipeError:  # `ihub ts get ... | head`: the reader has all it wanted
        _quiet_stdout()
        return EXIT_OK
    except CommandError as exc:
        print(f"{PROG}: {exc}", file=err)
        return exc.status
    except (Exception, KeyboardInterrupt) as exc:  # typed API errors and the rest: one plain line
        return fail(PROG, exc, err)


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _usage(error: Exception) -> CommandError:
    return CommandError(str(error), EXIT_USAGE)


class _Runner:
    def __init__(self, services: Services, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.services = services
        self.args = args
        self.out = out
        self.err = err

    # -- shared ------------------------------------------------------------------------------------
    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.services.clock(), UTC)

    def _range(self) -> TimeRange:
        from tui.api.ts.timerange import RangeError, parse_range

        try:
            return parse_range(self.args.start, self.args.end, now=self._now())
        except RangeError as exc:
            raise _usage(exc) from None

    async def _service_range(self, api: ApiClient, checked: TimeRange) -> TimeRange:
        """The range again with "now" on the service's clock (the local clock plus the skew measured on
        the token): a local clock half an hour fast must not ask for the future. ``checked`` was read on
        the local clock before anything was opened, so bad input fails first."""
        from tui.api.errors import ApiError
        from tui.api.ts.timerange import parse_range

        with contextlib.suppress(ApiError):  # the first call reports it
            await api.tokens.get()
        if not api.tokens.clock_skew:
            return checked
        return parse_range(self.args.start, self.args.end, now=datetime.fromtimestamp(api.server_time(), UTC))

    def _force(self) -> Force:
        from tui.api.ts.plan import PlanError, parse_force

        try:
            return parse_force(self.args.agg)
        except PlanError as exc:
            raise _usage(exc) from None

    def _note(self, text: str) -> None:
        print(f"{PROG}: {text}", file=self.err, flush=True)

    def _session(self) -> AbstractAsyncContextManager[Session]:
        return open_api(self.services, self.args.profile, dry_run=self.args.dry_run, out=self.out)

    async def _aspect(self, api: ApiClient, asset_id: str, name: str) -> Aspect:
        aspects = await api.assets.aspects(asset_id)
        for aspect in aspects:
            if aspect.name == name:
                return aspect
        known = ", ".join(a.name for a in aspects) or "none"
        raise CommandError(f"asset {asset_id} has no aspect '{name}' (aspects: {known})", EXIT_NOT_FOUND)

    def _variables(self, aspect: Aspect, asset_id: str, names: Sequence[str]) -> list[VariableDefinition]:
        by_name = {v.name: v for v in aspect.variables}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            known = ", ".join(by_name) or "none"
            listed = ", ".join(f"'{n}'" for n in unknown)
            raise CommandError(
                f"aspect {aspect.name} of {asset_id} has no variable {listed} (variables: {known})",
                EXIT_NOT_FOUND,
            )
        return [by_name[n] for n in names] if names else list(aspect.variables)

    def _dry_run_note(self) -> None:
        self._note("dry run: the first requests only (what follows depends on the answers); nothing was read")

    # -- get ---------------------------------------------------------------------------------------
    async def get(self) -> int:
        from tui.api.errors import ApiError
        from tui.api.ts.fetch import SeriesQuery, TimeSeriesReader
        from tui.api.ts.plan import DEFAULT_WIDTH, PlanError

        args = self.args
        rng = self._range()
        force = self._force()
        async with self._session() as session:
            api = session.api
            rng = await self._service_range(api, rng)
            reader = TimeSeriesReader(api)
            if session.dry_run:
                query = SeriesQuery(args.asset_id, args.aspect, tuple(args.var), rng)
                await _attempt(api.assets.aspects(args.asset_id))
                try:
                    planned = await reader.plan(query, DEFAULT_WIDTH, force, streaming=True)
                    async for _page in reader.pages(planned):
                        break
                except (ApiError, ValueError):
                    pass  # the dry-run transport answers {}: what would follow cannot be known
                self._dry_run_note()
                return EXIT_OK
            aspect = await self._aspect(api, args.asset_id, args.aspect)
            variables = self._variables(aspect, args.asset_id, args.var)
            query = SeriesQuery.for_aspect(args.asset_id, aspect, [v.name for v in variables], rng)
            try:
                planned = await reader.plan(query, DEFAULT_WIDTH, force, streaming=True)
            except PlanError as exc:
                raise _usage(exc) from None
            rows = await self._print_pages(reader, planned, variables)
        summary = _summary(planned, rows)
        if self.err.isatty():
            self._note(summary)
        if planned.omitted:
            self._note(
                f"no aggregates for {', '.join(planned.omitted)} (not numeric): read them with --agg raw"
            )
        if rows == 0:
            raise CommandError(
                f"no data for {args.aspect} of {args.asset_id} in {rng.describe()}", EXIT_NOT_FOUND
            )
        return EXIT_OK

    async def _print_pages(
        self, reader: Any, planned: PlannedRead, variables: Sequence[VariableDefinition]
    ) -> int:
        from tui.api import contract as C
        from tui.api.ts.export import AGG_FIELDS, aggregate_header, open_row_writer, raw_header

        aggregates = planned.plan.source == "aggregates"
        names = [v.name for v in variables if not aggregates or v.name not in planned.omitted]
        quality = [v.name for v in variables if v.quality_code]
        fmt = self.args.output
        if fmt in ("csv", "json"):
            writer = open_row_writer(fmt, self.out, names, quality=quality, aggregates=aggregates)
            async for page in reader.pages(planned):
                writer.write(page)
                self.out.flush()
            writer.close()
            return writer.rows
        if aggregates:
            fields = ("average", "minvalue", "maxvalue", "countgood", "countuncertain", "countbad")
            columns = aggregate_header(names, fields)
        else:
            columns = raw_header(names, quality)
        printer = RowPrinter("table", columns, self.out)
        async for page in reader.pages(planned):
            if aggregates:
                printer.add(_flat_aggregate(item, names, AGG_FIELDS) for item in page)
            else:
                printer.add({k: v for k, v in r.items() if k == C.TS_TIME or k in columns} for r in page)
        return printer.close()

    # -- latest ------------------------------------------------------------------------------------
    async def latest(self) -> int:
        from tui.api import contract as C
        from tui.api.ts.export import open_row_writer

        args = self.args
        async with self._session() as session:
            api = session.api
            if session.dry_run:
                await _attempt(api.assets.aspects(args.asset_id))
                await _attempt(
                    api.timeseries.read(
                        args.asset_id, args.aspect, select=args.var or None, latest_value=args.each
                    )
                )
                return EXIT_OK
            aspect = await self._aspect(api, args.asset_id, args.aspect)
            variables = self._variables(aspect, args.asset_id, args.var)
            records = await api.timeseries.read(
                args.asset_id, args.aspect, select=args.var or None, latest_value=args.each
            )
        if not records:
            raise CommandError(f"no values yet for {args.aspect} of {args.asset_id}", EXIT_NOT_FOUND)
        names = [v.name for v in variables]
        fmt = args.output
        if fmt in ("csv", "json"):
            quality = [v.name for v in variables if v.quality_code]
            writer = open_row_writer(fmt, self.out, names, quality=quality)
            writer.write(records)
            writer.close()
            return EXIT_OK
        rows: list[dict[str, Any]] = []
        for var in variables:
            found = [r for r in records if var.name in r]
            if not found:
                rows.append({"variable": var.name, "value": None, "unit": var.unit, "time": None})
                continue
            record = found[-1]
            qc = record.get(var.name + C.TS_QC_SUFFIX)
            rows.append(
                {
                    "variable": var.name,
                    "value": record[var.name],
                    "unit": var.unit or "",
                    "quality": _quality_word(qc),
                    "time": record.get(C.TS_TIME),
                }
            )
        printer = RowPrinter("table", ["variable", "value", "unit", "quality", "time"], self.out)
        printer.add(rows)
        printer.close()
        return EXIT_OK

    # -- put ---------------------------------------------------------------------------------------
    async def put(self) -> int:
        from tui.api.ts.put import PutValidationError, read_put_file

        args = self.args
        async with self._session() as session:
            api = session.api
            refuse_change(self.services, session.profile, "write time series")
            if session.dry_run:
                variables = _guess_variables(args.file)
                self._note("dry run: value types guessed from the file (the aspect's types are not read)")
            else:
                aspect = await self._aspect(api, args.asset_id, args.aspect)
                variables = list(aspect.variables)
            try:
                records = read_put_file(args.file, variables)
            except PutValidationError as exc:
                print(exc.report(), file=self.err)
                raise CommandError(f"{args.file}: nothing was written", EXIT_USAGE) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(
                    f"cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}", EXIT_USAGE
                ) from None
            written = await api.timeseries.write(args.asset_id, args.aspect, records)
        if not session.dry_run:
            first, last = records[0]["_time"], records[-1]["_time"]
            print(
                f"wrote {written} records to {args.aspect} of {args.asset_id} ({first} … {last})",
                file=self.out,
            )
        return EXIT_OK

    # -- plot --------------------------------------------------------------------------------------
    async def plot(self) -> int:
        from tui.api.ts.fetch import SeriesQuery, TimeSeriesReader
        from tui.api.ts.frame import AggregateFrame, RawFrame
        from tui.api.ts.plan import PlanError
        from tui.api.ts.textchart import ChartSeries, render_chart
        from tui.api.ts.timerange import local_zone
        from tui.api.ts.view import chart_data

        args = self.args
        rng = self._range()
        force = self._force()
        width = args.width or shutil.get_terminal_size((100, 24)).columns
        if width < 30 or args.height < 3:
            raise CommandError("the chart needs at least 30 columns and 3 rows", EXIT_USAGE)
        columns = max(10, width - 12)
        async with self._session() as session:
            api = session.api
            rng = await self._service_range(api, rng)
            reader = TimeSeriesReader(api)
            if session.dry_run:
                query = SeriesQuery(args.asset_id, args.aspect, tuple(args.var), rng)
                await _attempt(api.assets.get(args.asset_id))
                await _attempt(api.assets.aspects(args.asset_id))
                await _attempt(reader.load(query, columns, force))
                self._dry_run_note()
                return EXIT_OK
            asset = await api.assets.get(args.asset_id)
            aspect = await self._aspect(api, args.asset_id, args.aspect)
            variables = self._variables(aspect, args.asset_id, args.var)
            text = [v for v in variables if not (v.is_numeric or (v.data_type or "").upper() == "BOOLEAN")]
            if text:
                names = ", ".join(f"{v.name} ({v.data_type})" for v in text)
                raise CommandError(
                    f"{names}: only numbers and booleans can be plotted; print them with 'ihub ts get'",
                    EXIT_USAGE,
                )
            query = SeriesQuery.for_aspect(args.asset_id, aspect, [v.name for v in variables], rng)
            try:
                result = await reader.load(query, columns, force)
            except PlanError as exc:
                raise _usage(exc) from None
        frame = result.frame
        series: list[ChartSeries] = []
        for var in variables:
            has = var.name in (frame.stats if isinstance(frame, AggregateFrame) else frame.columns)
            if not has:
                continue
            data = chart_data(frame, var.name, columns=columns * 2, start_ms=rng.start_ms, end_ms=rng.end_ms)
            if isinstance(frame, RawFrame) and data.step:
                data.x, data.y = _steps(data.x, data.y)
            series.append(ChartSeries(var.name, data.x, data.y, var.unit or "", data.lo, data.hi))
        if not len(frame) or not series:
            raise CommandError(
                f"no data for {args.aspect} of {asset.name or args.asset_id} in {rng.describe()}",
                EXIT_NOT_FOUND,
            )
        color = args.color == "always" or (
            args.color == "auto" and self.out.isatty() and not os.environ.get("NO_COLOR")
        )
        title = f"{asset.name or args.asset_id} · {args.aspect} · {result.summary}"
        # One chart per unit, stacked on the same time range, as the app draws one panel per unit: values
        # in bar and in m3/h on one axis would flatten the smaller ones into a line at zero.
        by_unit: dict[str, list[ChartSeries]] = {}
        for one in series:
            by_unit.setdefault(one.unit, []).append(one)
        lines: list[str] = []
        for number, group in enumerate(by_unit.values()):
            lines += [""] if number else []
            lines += render_chart(
                group,
                width=width,
                height=args.height,
                tz=local_zone(),
                mode="block" if args.block else "braille",
                start=rng.start_ms / 1000,
                end=rng.end_ms / 1000,
                color=color,
                title=None if number else title,
            )
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        return EXIT_OK


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------
async def _attempt(call: Awaitable[Any]) -> None:
    """Send one request of a dry run: the dry-run transport answers ``200 {}``, which is no valid answer
    to most calls, so their errors are expected and ignored (the curl line is what counts)."""
    from tui.api.errors import ApiError

    try:
        await call
    except (ApiError, ValueError):
        return


def _summary(planned: PlannedRead, rows: int) -> str:
    from tui.api.ts.plan import summary

    return summary(planned.plan, rows)


def _flat_aggregate(item: Mapping[str, Any], names: Sequence[str], fields: Sequence[str]) -> dict[str, Any]:
    from tui.api import contract as C

    row: dict[str, Any] = {C.TS_TIME: item.get(C.AGG_START), C.AGG_END: item.get(C.AGG_END)}
    for name in names:
        body = item.get(name)
        if isinstance(body, Mapping):
            for f in fields:
                row[f"{name}.{f}"] = body.get(f)
    return row


def _quality_word(code: Any) -> str:
    if not isinstance(code, int) or isinstance(code, bool):
        return ""
    from tui.api.ts.frame import quality_class

    return ("good", "uncertain", "bad")[quality_class(code)]


def _steps(x: Any, y: Any) -> tuple[Any, Any]:
    import numpy as np

    if len(x) < 2:
        return x, y
    xs = np.repeat(x, 2)[1:]
    ys = np.repeat(y, 2)[:-1]
    return xs, ys


def _guess_variables(path: str) -> list[VariableDefinition]:
    """Variables named by the file's header, typed by their first value (dry runs only)."""
    import csv
    from pathlib import Path

    from tui.api import contract as C
    from tui.api.models import VariableDefinition

    try:
        with Path(path).expanduser().open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            first = next(reader, [])
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}", EXIT_USAGE) from None
    out: list[VariableDefinition] = []
    names = [h for h in header if h != C.TS_TIME and not h.endswith(C.TS_QC_SUFFIX)]
    for name in names:
        index = header.index(name)
        value = first[index].strip() if index < len(first) else ""
        dtype = "STRING"
        if re.fullmatch(r"[+-]?\d+", value):
            dtype = "LONG"
        elif re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", value):
            dtype = "DOUBLE"
        elif value.lower() in ("true", "false"):
            dtype = "BOOLEAN"
        out.append(
            VariableDefinition(name=name, data_type=dtype, quality_code=name + C.TS_QC_SUFFIX in header)
        )
    return out
