"""Start-up and area switching, measured as a user meets them: figures and ratios, no timed assertions.

* ``ihub --version``: the minimum of 10 runs, with ``python -c pass`` beside it as the floor (goal 0.2 s).
* ``ihub demo`` to its first drawn screen, in a real pseudo-terminal of 120x40 (goal 1 s), beside the floor
  of a bare Textual app drawing one line in the same terminal, and the CPU time the app's process used.
* Switching areas ``1``-``4`` in that terminal, from the key written to the new area's header drawn (goal
  100 ms): the first visit of each area (its screen is built then) and the later visits separately,
  beside the floor of a bare Textual app redrawing one line on a key.

The app runs as its own process in a pty (``pty.fork``); the time is read on the output stream, so it
includes Textual's drawing, not only Python work. The machine may be shared: every figure comes with its
median and its minimum, and the floors are measured in the same run. Byte code is cached as after an
install (``PYTHONDONTWRITEBYTECODE`` is dropped for the measured processes; the first demo start, which
may compile ihub's modules, is a warm-up and not counted).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tui.areas import AREAS

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[PX^_].*?\x1b\\|\x1b.")
RUNS = 3  # demo starts
ROUNDS = 3  # later visits of every area per start

# The floors: a bare Textual app that draws one line, and redraws it on the keys 1 and 2.
FLOOR_APP = """
from textual.app import App
from textual.widgets import Static

class Floor(App):
    BINDINGS = [("1", "show('ONE')"), ("2", "show('TWO')")]

    def compose(self):
        yield Static("FLOOR READY", id="line")

    def action_show(self, word):
        self.query_one("#line", Static).update("FLOOR " + word)

Floor().run()
"""


def _report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    for name, value in rows:
        print(f"   {name:<58} {value}")


def _env() -> dict[str, str]:
    """The measured processes' environment: byte code written and read as after an install."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def _min_time(argv: list[str], runs: int = 10) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, cwd=ROOT, env=_env())  # noqa: S603 (our interpreter)
        times.append(time.perf_counter() - t0)
    return min(times)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _spread(times: list[float], floor: list[float] | None = None) -> str:
    """``median (min ..., max ...)``, with the ratio of the medians to the floor's."""
    text = f"{_ms(statistics.median(times))}  (min {_ms(min(times))}, max {_ms(max(times))})"
    if floor:
        text += f"  {statistics.median(times) / statistics.median(floor):.1f}x floor"
    return text


def test_bench_version() -> None:
    floor = _min_time([sys.executable, "-c", "pass"])
    version = _min_time([sys.executable, "-m", "tui", "--version"])
    helps = _min_time([sys.executable, "-m", "tui", "--help"])
    _report(
        "ihub --version / --help (minimum of 10 runs; goal <= 0.2 s)",
        [
            ("python -c pass (floor)", f"{floor * 1000:.0f} ms"),
            ("ihub --version", f"{version * 1000:.0f} ms  (floor + {(version - floor) * 1000:.0f} ms)"),
            ("ihub --help", f"{helps * 1000:.0f} ms  (floor + {(helps - floor) * 1000:.0f} ms)"),
        ],
    )


class PtyApp:
    """``python -m tui ARGS`` in a pseudo-terminal; reads its output and finds text in it."""

    def __init__(
        self,
        *args: str,
        cols: int = 120,
        rows: int = 40,
        env: dict[str, str | None] | None = None,
        python: tuple[str, ...] | None = None,
    ) -> None:
        """``env``: variables to set (a value) or remove (None) over the test's environment, e.g.
        ``{"TERM": "dumb", "COLORTERM": None}``. ``python``: the interpreter's arguments instead of
        ``-m tui ARGS`` (e.g. ``("-c", code)``)."""
        self.start = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child: the app
            os.chdir(ROOT)
            child = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
            for name, value in (env or {}).items():
                if value is None:
                    child.pop(name, None)
                else:
                    child[name] = value
            argv = [sys.executable, *(python if python is not None else ("-m", "tui", *args))]
            os.execve(sys.executable, argv, child)  # noqa: S606
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.buffer = b""
        self.output = b""  # everything the app wrote, escape sequences included
        self.exit_code: int | None = None

    def wait_for(self, text: str, timeout: float = 30.0) -> float:
        """Read until ``text`` appears in the (escape-free) output written since the last call; returns the
        time it appeared (perf_counter)."""
        needle = text.encode()
        self.buffer = b""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            now = time.perf_counter()
            self.buffer += chunk
            self.output += chunk
            if needle in ANSI.sub(b"", self.buffer):
                return now
        raise TimeoutError(f"{text!r} did not appear within {timeout} s")

    def drain(self, quiet: float = 0.3) -> None:
        """Read until nothing has been written for ``quiet`` seconds."""
        while True:
            ready, _, _ = select.select([self.fd], [], [], quiet)
            if not ready:
                return
            try:
                self.output += os.read(self.fd, 65536)
            except OSError:
                return

    def cpu_seconds(self) -> float | None:
        """The CPU time (user + system) the app's process has used so far; None where /proc is missing."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def press(self, key: str) -> float:
        t = time.perf_counter()
        os.write(self.fd, key.encode())
        return t

    def close(self) -> None:
        try:
            os.write(self.fd, b"\x11")  # ctrl+q
            deadline = time.time() + 5
            while time.time() < deadline:
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    self.exit_code = os.waitstatus_to_exitcode(status)
                    break
                self.drain(0.1)
            else:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        finally:
            os.close(self.fd)


def _floor_app() -> tuple[float, list[float]]:
    """A bare Textual app in the same terminal: start to its first line drawn, and key to line redrawn."""
    app = PtyApp(python=("-c", FLOOR_APP), env={"PYTHONDONTWRITEBYTECODE": None})
    try:
        start = app.wait_for("FLOOR READY") - app.start
        app.drain(0.3)
        keys = []
        for _round in range(ROUNDS * 2):
            for key, word in (("1", "ONE"), ("2", "TWO")):
                pressed = app.press(key)
                keys.append(app.wait_for(f"FLOOR {word}") - pressed)
                app.drain(0.1)
        return start, keys
    finally:
        app.close()


def _add_cpu(into: list[float], before: float | None, after: float | None) -> None:
    """The CPU time between two readings (clock ticks of 10 ms: a figure for medians, not one switch)."""
    if before is not None and after is not None:
        into.append(after - before)


def test_bench_demo_start_and_area_switch() -> None:
    byte_code = {"PYTHONDONTWRITEBYTECODE": None}
    warm_up = PtyApp("demo", env=byte_code)  # compiles what is not compiled yet; not counted
    try:
        warm_up.wait_for(f"DEMO  {AREAS[1].title}")
    finally:
        warm_up.close()
    starts: list[float] = []
    cpu: list[float] = []
    floor_starts: list[float] = []
    floor_keys: list[float] = []
    first: dict[str, list[float]] = {area.title: [] for area in AREAS}
    later: dict[str, list[float]] = {area.title: [] for area in AREAS}
    first_cpu: list[float] = []
    later_cpu: list[float] = []
    start_area = AREAS[1]  # the demo opens on Assets
    others = [area for area in AREAS if area is not start_area]
    tour = [start_area, *others]  # later visits: every area, never the one shown
    for _run in range(RUNS):
        floor_start, keys = _floor_app()
        floor_starts.append(floor_start)
        floor_keys.extend(keys)
        app = PtyApp("demo", env=byte_code)
        try:
            drawn = app.wait_for(f"DEMO  {start_area.title}")
            starts.append(drawn - app.start)
            used = app.cpu_seconds()
            if used is not None:
                cpu.append(used)
            app.drain(1.0)  # the user reads the first screen: the connection and the first data settle
            for area in others:  # first visits: the area's screen is built
                before = app.cpu_seconds()
                pressed = app.press(area.key)
                first[area.title].append(app.wait_for(f"DEMO  {area.title}") - pressed)
                _add_cpu(first_cpu, before, app.cpu_seconds())
                app.drain(0.3)
            for _round in range(ROUNDS):
                for area in tour:
                    before = app.cpu_seconds()
                    pressed = app.press(area.key)
                    later[area.title].append(app.wait_for(f"DEMO  {area.title}") - pressed)
                    _add_cpu(later_cpu, before, app.cpu_seconds())
                    app.drain(0.3)
        finally:
            app.close()
    all_first = [t for times in first.values() for t in times]
    all_later = [t for times in later.values() for t in times]
    _report(
        f"ihub demo in a 120x40 pseudo-terminal ({RUNS} runs; median (min, max))",
        [
            ("floor: a bare Textual app, start to first line drawn", _spread(floor_starts)),
            ("start to first drawn screen (goal <= 1 s)", _spread(starts, floor_starts)),
            *([("  CPU time of the app's process by then", _spread(cpu))] if cpu else []),
            ("floor: a bare Textual app, key to line redrawn", _spread(floor_keys)),
            *(
                (f"first visit of {area.title} (key to header drawn)", _spread(first[area.title], floor_keys))
                for area in others
            ),
            *((f"later visits of {area.title}", _spread(later[area.title], floor_keys)) for area in tour),
            ("any first visit (goal <= 100 ms)", _spread(all_first, floor_keys)),
            *([("  CPU time of the app's process per first visit", _spread(first_cpu))] if first_cpu else []),
            ("any later visit (goal <= 100 ms)", _spread(all_later, floor_keys)),
            *([("  CPU time of the app's process per later visit", _spread(later_cpu))] if later_cpu else []),
        ],
    )
