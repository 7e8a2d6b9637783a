"""``ihub log``: filters (--failed, --since, --until, --profile), formats, rotated files, bad input."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from tui.api.activity import ActivityEntry, ActivityLog, iso_time
from tui.cli import main
from tui.config.paths import AppPaths


def _write(paths: AppPaths, rows: list[tuple[float, str, str, int | None]], **log_options: int) -> None:
    """Entries ``(seconds ago, profile, path, status)`` in the user's log, oldest first; a status of None
    is a call without an answer (a ``ConnectError``), ``CANCELLED`` one cancelled before its answer."""
    log = ActivityLog(paths.activity_file, **log_options)
    now = time.time()
    for ago, profile, path, status in rows:
        log.record(
            ActivityEntry(
                time=iso_time(now - ago),
                profile=profile,
                source="app",
                kind="api",
                method="GET",
                host="gateway.eu1.mindsphere.io",
                path=path,
                query="size=5" if path.endswith("assets") else "",
                status=None if status == CANCELLED else status,
                ms=12.25,
                size=345,
                logref="lr-1" if status == 404 else None,
                error="cancelled" if status == CANCELLED else None if status else "ConnectError: refused",
            )
        )
    log.close()


CANCELLED = -1  # a status in ``_write``'s rows: cancelled by the user or the app
ROWS = [
    (3 * 3600, "plant", "/api/old", 200),
    (1800, "plant", "/api/assetmanagement/v3/assets", 200),
    (1200, "lab", "/api/assetmanagement/v3/assets/x", 404),
    (600, "plant", "/api/down", None),
    (60, "lab", "/api/recent", 200),
]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_table_lists_every_call_oldest_first(paths: AppPaths, capsys: pytest.CaptureFixture[str]) -> None:
    _write(paths, ROWS)
    code, out, err = _run(capsys, "log")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == [
        "TIME",
        "PROFILE",
        "FROM",
        "METHOD",
        "STATUS",
        "MS",
        "BYTES",
        "PATH",
        "LOGREF",
    ]
    paths_shown = [line.split()[8] for line in lines[1:]]  # the time is date and clock
    assert paths_shown == [
        "/api/old",
        "/api/assetmanagement/v3/assets?size=5",
        "/api/assetmanagement/v3/assets/x",
        "/api/down",
        "/api/recent",
    ]
    assert " 404 " in lines[3] and lines[3].rstrip().endswith("lr-1")
    assert " - " in lines[4]  # no answer: no status


def test_failed_since_and_profile_filters(paths: AppPaths, capsys: pytest.CaptureFixture[str]) -> None:
    _write(paths, ROWS)
    code, out, _ = _run(capsys, "log", "--failed", "-o", "json")
    assert code == 0
    assert [(e["path"], e["status"]) for e in json.loads(out)] == [
        ("/api/assetmanagement/v3/assets/x", 404),
        ("/api/down", None),
    ]
    # Relative times work as values (-1h is not an option).
    _, out, _ = _run(capsys, "log", "--since", "-1h", "-o", "json")
    assert [e["path"] for e in json.loads(out)][0] == "/api/assetmanagement/v3/assets"
    _, out, _ = _run(capsys, "log", "--since", "-25min", "--until", "-5min", "-o", "json")
    assert [e["path"] for e in json.loads(out)] == ["/api/assetmanagement/v3/assets/x", "/api/down"]
    # The root --profile picks one profile's calls.
    _, out, _ = _run(capsys, "--profile", "lab", "log", "-o", "json")
    assert {e["profile"] for e in json.loads(out)} == {"lab"}
    # --failed in a table adds the error column.
    _, out, _ = _run(capsys, "log", "--failed")
    assert out.splitlines()[0].split()[-1] == "ERROR" and "ConnectError: refused" in out
    # --limit keeps the last N.
    _, out, _ = _run(capsys, "log", "-n", "2", "-o", "json")
    assert [e["path"] for e in json.loads(out)] == ["/api/down", "/api/recent"]


def test_a_cancelled_call_is_listed_as_cancelled_and_is_not_failed(
    paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    """Leaving a screen cancels its calls: they happened (listed), but nothing failed (not in --failed)."""
    _write(paths, [*ROWS, (30, "plant", "/api/assetmanagement/v3/assets/left", CANCELLED)])
    code, out, _ = _run(capsys, "log")
    assert code == 0
    last = out.splitlines()[-1]
    assert "/api/assetmanagement/v3/assets/left" in last and " cancelled " in last
    assert " - " in out.splitlines()[4]  # a call without an answer still shows no status
    _, out, _ = _run(capsys, "log", "--failed", "-o", "json")
    assert [e["path"] for e in json.loads(out)] == ["/api/assetmanagement/v3/assets/x", "/api/down"]
    _, out, _ = _run(capsys, "log", "--failed")
    assert "/left" not in out and "cancelled" not in out
    # Scripts see what the file holds: no status, the error "cancelled".
    _, out, _ = _run(capsys, "log", "-o", "json")
    assert (json.loads(out)[-1]["status"], json.loads(out)[-1]["error"]) == (None, "cancelled")
    # Only cancelled calls: --failed finds nothing, and says so.
    paths.activity_file.unlink()
    _write(paths, [(30, "plant", "/api/left", CANCELLED)])
    code, out, err = _run(capsys, "log", "--failed")
    assert code == 0 and out == "" and err.startswith("ihub: no failed API calls")


def test_json_and_csv_carry_every_field(paths: AppPaths, capsys: pytest.CaptureFixture[str]) -> None:
    _write(paths, ROWS[:2])
    _, out, _ = _run(capsys, "log", "-o", "json")
    first = json.loads(out)[0]
    assert list(first) == [
        "time", "profile", "source", "kind", "method", "host", "path", "query", "status", "ms", "bytes",
        "logref", "error",
    ]  # fmt: skip
    assert first["ms"] == 12.2 or first["ms"] == 12.25
    _, out, _ = _run(capsys, "log", "-o", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["path"] for r in rows] == ["/api/old", "/api/assetmanagement/v3/assets"]
    assert rows[1]["query"] == "size=5" and rows[1]["bytes"] == "345" and rows[1]["logref"] == ""


def test_rotated_files_are_read_in_order(paths: AppPaths, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(1000 - n, "plant", f"/api/n{n}", 200) for n in range(60)]
    _write(paths, rows, max_bytes=1500, backups=9)
    assert paths.activity_file.with_name("activity.jsonl.3").exists()
    _, out, _ = _run(capsys, "log", "-n", "0", "-o", "json")
    assert [e["path"] for e in json.loads(out)] == [f"/api/n{n}" for n in range(60)]


def test_empty_log_bad_times_and_where(paths: AppPaths, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "log")
    assert code == 0 and out == ""
    assert err.startswith("ihub: no API calls in the activity log") and str(paths.activity_file) in err
    code, out, _ = _run(capsys, "log", "-o", "json")
    assert code == 0 and json.loads(out) == []
    code, _, err = _run(capsys, "log", "--since", "last tuesday")
    assert code == 2 and err.startswith("ihub: --since: ") and err.count("\n") == 1
    code, out, _ = _run(capsys, "log", "--where")
    assert code == 0 and out.strip() == str(paths.activity_file)


def test_damaged_lines_are_skipped_with_a_note(paths: AppPaths, capsys: pytest.CaptureFixture[str]) -> None:
    _write(paths, ROWS[:1])
    with paths.activity_file.open("a") as handle:
        handle.write('{"time": "torn\n')
    code, out, err = _run(capsys, "log", "-o", "json")
    assert code == 0 and len(json.loads(out)) == 1
    assert "1 line(s) of the log could not be read" in err
