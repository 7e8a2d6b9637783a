"""``ihub log``: the activity log, one line per API call the app, the CLI or the proxy made.

Reads ``activity.jsonl`` and its rotated backups in the log folder (``tui.api.activity``), oldest first,
and prints the last ``--limit`` calls that match: ``--failed`` (no answer, or HTTP 400 and above; a call the
user or the app cancelled, such as a screen's calls when it is left, is listed with the status ``cancelled``
and is no failure),
``--since``/``--until`` (ISO 8601, local ``YYYY-MM-DD HH:MM``, or relative ``-1h``, ``-7d``, as
``tui.api.ts.timerange.parse_time`` reads them), and the root ``--profile``. ``-o json`` and ``-o csv``
give every field for scripts; ``--where`` prints the log file's path.

The demo logs to its session only, so its calls are not here. Exit codes: 0 (also when nothing matches),
1 the log cannot be read, 2 a bad option.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import unquote

from tui.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    RowPrinter,
    add_output_argument,
    fail,
)

if TYPE_CHECKING:
    from tui.api.activity import ActivityEntry
    from tui.services import Services

DEFAULT_LIMIT = 100
# Relative times such as -1h must be read as values, not options (argparse only knows -5 and -.5); the
# same rule as ``ihub ts``.
_VALUE_LIKE = re.compile(r"^-\d+(?:\.\d+)?\s*[a-z]*$")
TABLE_COLUMNS = ("time", "profile", "source", "method", "status", "ms", "bytes", "target", "logref")
FAILED_COLUMNS = (*TABLE_COLUMNS, "error")
HEADERS = {"target": "PATH", "source": "FROM"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "List the API calls ihub made (the app, the CLI and the proxy), oldest first: time, profile, "
        "method, path, status, duration and the service's logref. With the root --profile only that "
        "profile's calls. Nothing secret is in the log."
    )
    parser.add_argument(
        "--failed",
        action="store_true",
        help="only calls without an answer or with HTTP >= 400 (a cancelled call is no failure)",
    )
    parser.add_argument(
        "--since",
        metavar="T",
        help="only calls from T on: ISO 8601, 'YYYY-MM-DD HH:MM' (local), -1h, -7d, today",
    )
    parser.add_argument("--until", metavar="T", help="only calls up to T (same forms as --since)")
    parser.add_argument(
        "-n",
        "--limit",
        type=int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"the last N matching calls (default {DEFAULT_LIMIT}; 0 = all)",
    )
    parser.add_argument("--where", action="store_true", help="print the log file's path and exit")
    add_output_argument(parser)
    parser._negative_number_matcher = _VALUE_LIKE


def run(
    args: argparse.Namespace,
    services: Services | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``ihub log``; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _run(args, services, out, err)
    except (CommandError, OSError) as exc:
        return fail("ihub", exc, err)


def _run(args: argparse.Namespace, services: Services | None, out: TextIO, err: TextIO) -> int:
    from tui.api.activity import ReadStats, entry_epoch, read_entries
    from tui.api.ts.timerange import RangeError, parse_time
    from tui.cli.common import session_services

    services = session_services(args, services)
    path = services.paths.activity_file
    if args.where:
        print(path, file=out)
        return EXIT_OK
    if args.limit < 0:
        raise CommandError("--limit must be 0 (all) or more", EXIT_USAGE)
    bounds: dict[str, float | None] = {}
    for option in ("since", "until"):
        text = getattr(args, option)
        try:
            bounds[option] = parse_time(text).timestamp() if text else None
        except RangeError as exc:
            raise CommandError(f"--{option}: {exc}", EXIT_USAGE) from None
    since, until = bounds["since"], bounds["until"]
    profile = getattr(args, "profile", None)

    stats = ReadStats()
    kept: deque[ActivityEntry] = deque(maxlen=args.limit or None)
    for entry in read_entries(path, stats):
        if args.failed and not entry.failed:
            continue
        if profile and entry.profile != profile:
            continue
        if since is not None or until is not None:
            at = entry_epoch(entry)
            if at is None or (since is not None and at < since) or (until is not None and at > until):
                continue
        kept.append(entry)

    if stats.skipped:
        print(f"ihub: {stats.skipped} line(s) of the log could not be read and were skipped", file=err)
    if not kept and args.output == "table":
        what = "failed API calls" if args.failed else "API calls"
        print(f"ihub: no {what} in the activity log{_filters(args, profile)} ({path})", file=err)
        return EXIT_OK
    if args.output == "table":
        columns = FAILED_COLUMNS if args.failed else TABLE_COLUMNS
        printer = RowPrinter("table", columns, out, HEADERS)
        printer.add(_table_row(entry) for entry in kept)
    else:
        printer = RowPrinter(args.output, (), out)
        printer.add(entry.to_dict() for entry in kept)
    printer.close()
    return EXIT_OK


def _filters(args: argparse.Namespace, profile: str | None) -> str:
    parts = []
    if profile:
        parts.append(f"for profile {profile}")
    if args.since:
        parts.append(f"since {args.since}")
    if args.until:
        parts.append(f"until {args.until}")
    return (" " + " ".join(parts)) if parts else ""


def _table_row(entry: ActivityEntry) -> dict[str, Any]:
    return {
        "time": _local_time(entry.time),
        "profile": entry.profile,
        "source": entry.source,
        "method": entry.method + (" (token)" if entry.kind == "token" else ""),
        "status": entry.status if entry.status is not None else "cancelled" if entry.cancelled else "-",
        "ms": f"{entry.ms:.0f}",
        "bytes": entry.size,
        "target": unquote(entry.target),
        "logref": entry.logref or "",
        "error": entry.error or "",
    }


def _local_time(text: str) -> str:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return text
