"""ihub in real terminals (a pseudo-terminal, the app as its own process): no colour where there must be
none, only the 16 ANSI colours where that is all there is, a clean start and exit on a TERM nobody knows,
and mouse reporting switched off and on at run time (F3, ``--no-mouse``)."""

from __future__ import annotations

import os
import re
import select
import time

import pytest

from tests.bench.test_bench_startup import PtyApp

# Every SGR parameter that sets a colour: 30-37/90-97 (16 colours), 38;5 / 38;2 (256 / true colour), and
# the same for backgrounds. 39/49 (the terminal's default colours) are not a colour.
SGR = re.compile(rb"\x1b\[([0-9;]*)m")
MOUSE_ON = b"\x1b[?1000h"
MOUSE_OFF = b"\x1b[?1000l"
F3 = "\x1bOR"


def read_for(app: PtyApp, seconds: float) -> None:
    """Collect what the app writes for ``seconds`` (the header's countdown writes every second)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([app.fd], [], [], 0.05)
        if ready:
            try:
                app.output += os.read(app.fd, 65536)
            except OSError:
                return


def colour_codes(output: bytes) -> set[str]:
    """The colour parameters of every SGR sequence in ``output`` ("31", "38;2", "48;5", ...)."""
    found: set[str] = set()
    for match in SGR.finditer(output):
        params = match.group(1).decode().split(";")
        i = 0
        while i < len(params):
            p = params[i]
            if p in ("38", "48") and i + 1 < len(params):
                found.add(f"{p};{params[i + 1]}")
                i += 5 if params[i + 1] == "2" else 3
                continue
            if p.isdigit() and (30 <= int(p) <= 37 or 40 <= int(p) <= 47 or 90 <= int(p) <= 107):
                found.add(p)
            i += 1
    return found


def run_demo(env: dict[str, str | None], *args: str, keys: tuple[str, ...] = ()) -> PtyApp:
    app = PtyApp(*args, "demo", cols=80, rows=24, env=env)
    try:
        app.wait_for("Assets", timeout=60)
        read_for(app, 1.0)
        for key in keys:
            app.press(key)
            read_for(app, 0.5)
    finally:
        app.close()
    return app


@pytest.mark.parametrize(
    "env",
    [{"TERM": "dumb", "COLORTERM": None}, {"NO_COLOR": "1", "COLORTERM": "truecolor"}],
    ids=["TERM=dumb", "NO_COLOR"],
)
def test_no_colour_at_all_but_highlights_in_reverse_and_bold(env) -> None:
    app = run_demo(env)
    assert app.exit_code == 0
    text = app.output
    assert b"connected" in text and b"DEMO" in text
    assert colour_codes(text) == set(), colour_codes(text)
    params = {p for m in SGR.finditer(text) for p in m.group(1).decode().split(";")}
    assert {"1", "7"} <= params  # bold (status, headings) and reverse (the cursor row, the DEMO badge)


@pytest.mark.parametrize("term", ["xterm", "linux"])
def test_sixteen_colour_terminal_gets_only_the_16_colours(term: str) -> None:
    app = run_demo({"TERM": term, "COLORTERM": None})
    assert app.exit_code == 0
    codes = colour_codes(app.output)
    assert codes, "no colour at all"
    assert not any(";" in code for code in codes), codes  # no 256-colour or true-colour codes
    # The ihub-16 theme: success bright green (connected), accent bright yellow (the DEMO badge), primary
    # cyan (borders): each role keeps its own hue, none is the bright red of errors.
    assert {"92", "103"} <= codes and ({"36", "46"} & codes), codes
    assert "91" not in codes and "101" not in codes, codes


def test_an_unknown_term_starts_and_quits_cleanly() -> None:
    app = run_demo({"TERM": "vt-nobody-knows", "COLORTERM": None})
    assert app.exit_code == 0
    assert b"Traceback" not in app.output and b"Error" not in app.output
    assert not any(";" in code for code in colour_codes(app.output))  # falls back to 16 colours


def test_f3_switches_mouse_reporting_off_and_on_at_run_time() -> None:
    app = run_demo({}, keys=(F3,))
    assert app.exit_code == 0
    on = app.output.index(MOUSE_ON)
    off = app.output.index(MOUSE_OFF)
    assert on < off  # reported from the start, then switched off by F3 while the app runs
    assert b"Mouse off" in app.output


def test_no_mouse_starts_without_mouse_reporting_and_f3_turns_it_on() -> None:
    app = run_demo({}, "--no-mouse")
    assert app.exit_code == 0
    assert MOUSE_ON not in app.output
    app = run_demo({}, "--no-mouse", keys=(F3,))
    assert MOUSE_ON in app.output and b"Mouse on" in app.output
