"""Checking records before ``ihub ts put`` writes them (IoT Time Series v3 ``PUT``, reference 3.2).

``read_put_csv(text, variables)`` reads a CSV whose header is ``_time`` and variable names of the
aspect (optionally ``<var>_qc`` for variables with quality codes; the files ``ihub ts get -o csv`` writes
are accepted as they are), checks every cell against the variable's data type and returns the records
ready for ``TimeSeries.write``. When anything is wrong it raises ``PutValidationError`` listing the bad
rows by line number (the header is line 1), so nothing is written unless the whole file is good.

Per data type (reference 3.2): DOUBLE a finite number; INT a whole number in 32 bits, LONG in 64 bits;
BOOLEAN ``true``/``false`` (also ``1``/``0``, any case); STRING up to the variable's length or 255
characters, BIG_STRING up to 100 000; TIMESTAMP an ISO 8601 time with a zone. An empty cell means no
value (the service stores NULL). ``_time`` must be ISO 8601 with a zone (``Z`` or an offset), since a
data file does not say which local zone it was written in; times are stored to the millisecond, so two
rows in the same millisecond are an error, not a silent overwrite. Quality codes are whole numbers from
0 to 4294967295 (OPC UA).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.api import contract as C
from tui.api.models import VariableDefinition
from tui.api.ts.frame import format_ms, parse_ms

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
QC_MAX = 0xFFFFFFFF
MAX_PROBLEMS = 20
_ZONED = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[Tt ][0-9:.,]+)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$")
_INT = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column '{self.column}'" if self.column else "")
        return f"{where}: {self.message}"


class PutValidationError(ValueError):
    """The file has bad rows; ``problems`` lists them by line (at most ``MAX_PROBLEMS``)."""

    def __init__(self, problems: Sequence[RowProblem], total: int | None = None) -> None:
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        first = str(self.problems[0]) if self.problems else "no problems"
        more = self.total - 1
        super().__init__(
            first + (f" (and {more} more problem{'s' if more != 1 else ''})" if more > 0 else "")
        )

    def report(self) -> str:
        """Every listed problem on its own line, then how many more there were."""
        lines = [str(p) for p in self.problems]
        if self.total > len(self.problems):
            lines.append(f"... and {self.total - len(self.problems)} more")
        return "\n".join(lines)


def check_value(var: VariableDefinition, text: str) -> Any:
    """The typed value of one CSV cell for ``var``, or ``ValueError`` with a plain reason."""
    dtype = (var.data_type or "").upper()
    if dtype == "DOUBLE":
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"'{_short(text)}' is not a number (DOUBLE)") from None
        if not math.isfinite(value):
            raise ValueError(f"'{_short(text)}' is not a finite number (DOUBLE)")
        return int(text) if _INT.match(text) and abs(int(text)) < 2**53 else value
    if dtype in ("INT", "LONG"):
        if not _INT.match(text):
            raise ValueError(f"'{_short(text)}' is not a whole number ({dtype})")
        value = int(text)
        lo, hi = INT32 if dtype == "INT" else INT64
        if not lo <= value <= hi:
            raise ValueError(f"{value} is out of range for {dtype} ({lo} to {hi})")
        return value
    if dtype == "BOOLEAN":
        word = text.lower()
        if word in ("true", "1"):
            return True
        if word in ("false", "0"):
            return False
        raise ValueError(f"'{_short(text)}' is not true or false (BOOLEAN)")
    if dtype in ("STRING", "BIG_STRING"):
        limit = var.length or (C.TS_BIG_STRING_MAX if dtype == "BIG_STRING" else C.TS_STRING_MAX)
        if len(text) > limit:
            raise ValueError(f"text of {len(text)} characters is longer than {limit} ({dtype})")
        return text
    if dtype == "TIMESTAMP":
        ms = parse_ms(text) if _ZONED.match(text) else None
        if ms is None:
            raise ValueError(f"'{_short(text)}' is not an ISO 8601 time with a zone (TIMESTAMP)")
        return format_ms(ms)
    return text  # a type this client does not know: sent as text, the service decides


def _short(text: str, size: int = 30) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def read_put_csv(
    text: str, variables: Sequence[VariableDefinition], *, max_problems: int = MAX_PROBLEMS
) -> list[dict[str, Any]]:
    """Records from CSV ``text`` checked against the aspect's ``variables`` (see the module doc).

    Raises ``PutValidationError`` when any row is bad; returns records sorted by time otherwise.
    """
    by_name = {v.name: v for v in variables}
    problems: list[RowProblem] = []
    total = 0

    def problem(line: int, column: str | None, message: str) -> None:
        nonlocal total
        total += 1
        if len(problems) < max_problems:
            problems.append(RowProblem(line, column, message))

    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise PutValidationError([RowProblem(1, None, "the file is empty: expected a header row")]) from None
    except csv.Error as exc:
        raise PutValidationError([RowProblem(1, None, f"not a CSV file ({exc})")]) from None
    header = [h.strip() for h in header]
    columns: list[tuple[str, VariableDefinition | None, bool]] = []  # (name, variable, is_qc)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problem(1, name, "the column appears twice")
        seen.add(name)
        if name == C.TS_TIME:
            columns.append((name, None, False))
        elif name in by_name:
            columns.append((name, by_name[name], False))
        elif name.endswith(C.TS_QC_SUFFIX) and name[: -len(C.TS_QC_SUFFIX)] in by_name:
            owner = by_name[name[: -len(C.TS_QC_SUFFIX)]]
            if not owner.quality_code:
                problem(1, name, f"'{owner.name}' has no quality code in this aspect")
            columns.append((name, owner, True))
        else:
            known = ", ".join(sorted(by_name)) or "none"
            problem(1, name or None, f"'{name}' is not a variable of this aspect (variables: {known})")
            columns.append((name, None, False))
    if C.TS_TIME not in seen:
        problem(1, None, "the header has no '_time' column")
    if problems:
        raise PutValidationError(problems, total)
    records: dict[int, dict[str, Any]] = {}
    lines_of: dict[int, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(columns):
                problem(line, None, f"{len(row)} cells for {len(columns)} columns")
                continue
            record: dict[str, Any] = {}
            t_ms: int | None = None
            bad = False
            for (name, var, is_qc), raw in zip(columns, row, strict=True):
                value = raw.strip()
                if name == C.TS_TIME:
                    t_ms = parse_ms(value) if _ZONED.match(value) else None
                    if t_ms is None:
                        problem(
                            line,
                            name,
                            f"'{_short(value)}' is not an ISO 8601 time with a zone (add Z for UTC)",
                        )
                        bad = True
                    continue
                if value == "" or var is None:
                    continue
                if is_qc:
                    if not _INT.match(value) or not 0 <= int(value) <= QC_MAX:
                        problem(line, name, f"'{_short(value)}' is not a quality code (0 to {QC_MAX})")
                        bad = True
                    else:
                        record[name] = int(value)
                    continue
                try:
                    record[name] = check_value(var, value)
                except ValueError as exc:
                    problem(line, name, str(exc))
                    bad = True
            if bad or t_ms is None:
                continue
            for key in [k for k in record if k.endswith(C.TS_QC_SUFFIX)]:
                if key[: -len(C.TS_QC_SUFFIX)] not in record:
                    problem(line, key, "a quality code without its value")
                    bad = True
            if bad:
                continue
            if t_ms in records:
                problem(line, C.TS_TIME, f"the same time as line {lines_of[t_ms]} ({format_ms(t_ms)})")
                continue
            records[t_ms] = {C.TS_TIME: format_ms(t_ms), **record}
            lines_of[t_ms] = line
    except csv.Error as exc:
        problem(reader.line_num, None, f"unreadable CSV ({exc})")
    if problems:
        raise PutValidationError(problems, total)
    if not records:
        raise PutValidationError([RowProblem(2, None, "no records: the file has a header only")])
    return [records[t] for t in sorted(records)]


def read_put_file(path: str | Path, variables: Sequence[VariableDefinition]) -> list[dict[str, Any]]:
    """``read_put_csv`` of a file (UTF-8, with or without BOM). ``OSError`` if it cannot be read."""
    text = Path(path).expanduser().read_text(encoding="utf-8-sig")
    return read_put_csv(text, variables)


def variables_from_types(types: Iterable[tuple[str, str]]) -> list[VariableDefinition]:
    """``[("flow", "DOUBLE"), ...]`` -> definitions (for callers that only know names and types)."""
    return [VariableDefinition(name=name, data_type=dtype) for name, dtype in types]
