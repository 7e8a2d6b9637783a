"""CSV and JSON output of time series: files written atomically, and rows streamed as they arrive.

Formats (issue 9, section 4):

* raw CSV: header ``_time,<var>,...`` with ISO 8601 UTC times (``2024-03-01T10:00:00.000Z``), one row
  per timestamp; a variable with quality codes is followed by its ``<var>_qc`` column (the API's field
  name), so ``ihub ts put`` can read the file back unchanged. Empty cell = no value; booleans
  ``true``/``false``; numbers as read (shortest exact form).
* aggregate CSV: ``_time`` (the bucket's ``starttime``), ``endtime``, then per variable one column per
  statistic named ``<var>.<field>`` with the field names of reference 4 (``flow.average``,
  ``flow.minvalue``, ``flow.maxvalue``, ``flow.countgood``, ...; the ``var.field`` form is the API's
  own ``select`` syntax).
* JSON: the list of records (raw) or of aggregate objects, with the API's field names, exactly as an
  API page holds them.

``RowWriter`` (``open_row_writer``) writes pages to a text stream as they come, the CLI's ``-o csv`` and
``-o json`` (a streamed JSON list is valid once ``close()`` wrote the closing bracket). ``write_frame``
and ``write_pages`` write a file atomically: a temporary file in the same folder, flushed to disk, then
renamed over the target, so a crash or an error leaves either the old file or the complete new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import math
import os
import tempfile
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from tui.api import contract as C
from tui.api.ts.frame import AggregateFrame, RawFrame, format_ms, parse_ms

FORMATS = ("csv", "json")
AGG_FIELDS: tuple[str, ...] = C.AGG_STAT_FIELDS


class ExportError(Exception):
    """The file could not be written; the message names the path and the reason."""


def _time_text(value: Any) -> str:
    if isinstance(value, str) and len(value) == 24 and value.endswith("Z") and value[19] == ".":
        return value
    ms = parse_ms(value)
    return format_ms(ms) if ms is not None else ("" if value is None else str(value))


def cell(value: Any) -> str:
    """One CSV cell: empty for no value, ``true``/``false``, exact numbers, text as is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, int | str):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def raw_header(variables: Sequence[str], quality: Iterable[str] = ()) -> list[str]:
    """``["_time", "flow", "flow_qc", "pressure", ...]``: ``<var>_qc`` after each variable in ``quality``."""
    with_qc = set(quality)
    header = [C.TS_TIME]
    for name in variables:
        header.append(name)
        if name in with_qc:
            header.append(name + C.TS_QC_SUFFIX)
    return header


def aggregate_header(variables: Sequence[str], fields: Sequence[str] = AGG_FIELDS) -> list[str]:
    """``["_time", "endtime", "flow.countgood", ..., "flow.average", ...]``."""
    return [C.TS_TIME, C.AGG_END] + [f"{name}.{f}" for name in variables for f in fields]


class RowWriter:
    """Writes pages of API-shaped records (or aggregate objects) to ``stream`` as they arrive."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.rows = 0

    def write(self, page: Iterable[Mapping[str, Any]]) -> int:
        raise NotImplementedError

    def close(self) -> None:
        self.stream.flush()


class CsvRowWriter(RowWriter):
    """CSV rows; the header is written before the first row (or by ``close`` when there is none)."""

    def __init__(
        self,
        stream: TextIO,
        variables: Sequence[str],
        *,
        quality: Iterable[str] = (),
        aggregates: bool = False,
        fields: Sequence[str] = AGG_FIELDS,
    ) -> None:
        super().__init__(stream)
        self.variables = list(variables)
        self.aggregates = aggregates
        self.fields = list(fields)
        self.header = (
            aggregate_header(self.variables, self.fields)
            if aggregates
            else raw_header(self.variables, quality)
        )
        self._csv = csv.writer(stream, lineterminator="\n")
        self._started = False

    def _start(self) -> None:
        if not self._started:
            self._csv.writerow(self.header)
            self._started = True

    def write(self, page: Iterable[Mapping[str, Any]]) -> int:
        self._start()
        count = 0
        if self.aggregates:
            for item in page:
                row = [_time_text(item.get(C.AGG_START)), _time_text(item.get(C.AGG_END))]
                for name in self.variables:
                    body = item.get(name)
                    body = body if isinstance(body, Mapping) else {}
                    for f in self.fields:
                        value = body.get(f)
                        row.append(
                            _time_text(value) if f.endswith("time") and value is not None else cell(value)
                        )
                self._csv.writerow(row)
                count += 1
        else:
            columns = self.header[1:]
            for record in page:
                self._csv.writerow(
                    [_time_text(record.get(C.TS_TIME))] + [cell(record.get(c)) for c in columns]
                )
                count += 1
        self.rows += count
        return count

    def close(self) -> None:
        self._start()
        super().close()


class JsonRowWriter(RowWriter):
    """A JSON list written element by element: ``[`` first, ``]`` on ``close``; one element per line."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._started = False

    def write(self, page: Iterable[Mapping[str, Any]]) -> int:
        count = 0
        for item in page:
            self.stream.write(",\n" if self._started else "[\n")
            self._started = True
            self.stream.write(json.dumps(item, separators=(",", ":"), ensure_ascii=False))
            count += 1
        self.rows += count
        return count

    def close(self) -> None:
        self.stream.write("\n]\n" if self._started else "[]\n")
        super().close()


def open_row_writer(
    fmt: str,
    stream: TextIO,
    variables: Sequence[str],
    *,
    quality: Iterable[str] = (),
    aggregates: bool = False,
    fields: Sequence[str] = AGG_FIELDS,
) -> RowWriter:
    """A ``CsvRowWriter`` or ``JsonRowWriter`` for ``fmt`` (``csv`` or ``json``)."""
    if fmt == "csv":
        return CsvRowWriter(stream, variables, quality=quality, aggregates=aggregates, fields=fields)
    if fmt == "json":
        return JsonRowWriter(stream)
    raise ValueError(f"unknown format '{fmt}' (use {' or '.join(FORMATS)})")


# ------------------------------------------------------------------------------------------- files


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_text_file(path: str | os.PathLike[str]):
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path`` atomically."""
    target = Path(path).expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"cannot write {target}: the folder {folder} does not exist")
    if target.is_dir():
        raise ExportError(f"cannot write {target}: it is a folder")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _frame_writer(
    fmt: str, stream: TextIO, frame: RawFrame | AggregateFrame
) -> tuple[RowWriter, Iterable[Any]]:
    if isinstance(frame, AggregateFrame):
        writer = open_row_writer(fmt, stream, frame.variables, aggregates=True)
        return writer, frame.items()
    quality = [c.name for c in frame.columns.values() if c.quality is not None]
    return open_row_writer(fmt, stream, frame.variables, quality=quality), frame.records()


def write_frame(
    path: str | os.PathLike[str], frame: RawFrame | AggregateFrame, fmt: str | None = None
) -> Path:
    """Write ``frame`` to ``path`` as CSV or JSON (from ``fmt`` or the suffix), atomically; returns the
    absolute path. Raises ``ExportError``."""
    target = Path(path).expanduser()
    kind = fmt or format_for(target)
    with atomic_text_file(target) as handle:
        writer, rows = _frame_writer(kind, handle, frame)
        for chunk in _chunked(rows, 5000):
            writer.write(chunk)
        writer.close()
    return target.resolve()


async def write_pages(
    path: str | os.PathLike[str],
    pages: AsyncIterable[Sequence[Mapping[str, Any]]],
    make_writer: Callable[[TextIO], RowWriter],
) -> tuple[Path, int]:
    """Stream ``pages`` (e.g. ``TimeSeriesReader.pages``) into ``path`` atomically; (path, rows).

    For full-resolution exports of ranges too long to hold in memory. ``make_writer(stream)`` builds
    the row writer, e.g. ``lambda s: open_row_writer("csv", s, variables, quality=...)``.
    """
    target = Path(path).expanduser()  # noqa: ASYNC240 (no I/O: the file is opened below)
    with atomic_text_file(target) as handle:
        writer = make_writer(handle)
        async for page in pages:
            await asyncio.to_thread(writer.write, page)
        await asyncio.to_thread(writer.close)
    return target.resolve(), writer.rows


def format_for(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise ExportError(f"cannot tell the format of {path.name}: name it .csv or .json")


def frame_text(frame: RawFrame | AggregateFrame, fmt: str) -> str:
    """The export of ``frame`` as a string (small frames, tests, clipboard)."""
    buffer = io.StringIO()
    writer, rows = _frame_writer(fmt, buffer, frame)
    writer.write(rows)
    writer.close()
    return buffer.getvalue()


def _chunked(rows: Iterable[Any], size: int) -> Iterable[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def default_name(asset_name: str, aspect: str, start_ms: int, fmt: str) -> str:
    """``Pump-P-101_PumpData_20240301T1000Z.csv``: a file name safe on every platform."""
    stamp = format_ms(start_ms)[:16].replace("-", "").replace(":", "")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in f"{asset_name}_{aspect}")
    return f"{safe}_{stamp}Z.{fmt}"


__all__ = [
    "CsvRowWriter",
    "ExportError",
    "JsonRowWriter",
    "RowWriter",
    "aggregate_header",
    "atomic_text_file",
    "default_name",
    "frame_text",
    "open_row_writer",
    "raw_header",
    "write_frame",
    "write_pages",
]
