"""Start-up and area switching, measured as a user meets them: figures and ratios, no timed assertions.

* ``ihub --version``: the minimum of 10 runs, with ``python -c pass`` beside it as the floor (goal 0.2 s).
* ``ihub demo`` to its first drawn screen, in a real pseudo-terminal of 120x40 (goal 1 s).
* Switching areas ``1``-``4`` in that terminal: from the key written to the new area's header drawn
  (goal 100 ms).

The app runs as its own process in a pty (``pty.fork``); the time is read on the output stream, so it
includes Textual's drawing, not only Python work.
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


def _report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    for name, value in rows:
        print(f"   {name:<52} {value}")


def _min_time(argv: list[str], runs: int = 10) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, cwd=ROOT)  # noqa: S603 (our interpreter)
        times.append(time.perf_counter() - t0)
    return min(times)


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
        self, *args: str, cols: int = 120, rows: int = 40, env: dict[str, str | None] | None = None
    ) -> None:
        """``env``: variables to set (a value) or remove (None) over the test's environment, e.g.
        ``{"TERM": "dumb", "COLORTERM": None}``."""
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
            os.execve(sys.executable, [sys.executable, "-m", "tui", *args], child)  # noqa: S606
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


def test_bench_demo_start_and_area_switch() -> None:
    starts: list[float] = []
    switches: dict[str, list[float]] = {area.title: [] for area in AREAS}
    for _run in range(3):
        app = PtyApp("demo")
        try:
            drawn = app.wait_for("DEMO  Assets")
            starts.append(drawn - app.start)
            app.drain(1.0)  # let the connection and the first data settle
            for _round in range(3):
                for area in (*AREAS[1:], AREAS[0]):
                    pressed = app.press(area.key)
                    shown = app.wait_for(f"DEMO  {area.title}")
                    switches[area.title].append(shown - pressed)
                    app.drain(0.3)
        finally:
            app.close()
    all_switches = [t for times in switches.values() for t in times]
    _report(
        "ihub demo in a 120x40 pseudo-terminal (3 runs)",
        [
            ("start to first drawn screen, median (goal <= 1 s)", f"{statistics.median(starts):.2f} s"),
            ("start to first drawn screen, best", f"{min(starts):.2f} s"),
            *(
                (f"switch to {title} (key to header drawn), median", f"{statistics.median(t) * 1000:.0f} ms")
                for title, t in switches.items()
            ),
            ("any area switch, median (goal <= 100 ms)", f"{statistics.median(all_switches) * 1000:.0f} ms"),
            ("any area switch, slowest", f"{max(all_switches) * 1000:.0f} ms"),
        ],
    )
