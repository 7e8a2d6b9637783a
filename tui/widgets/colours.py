"""How many colours the terminal shows, for the few styles that must change on a 16-colour terminal.

Textual draws with the theme's true colours and the console rounds each to the nearest colour the
terminal has. With 16 colours (``TERM=xterm`` without ``COLORTERM``, the Linux console, some serial and
SSH setups) that rounding turns the theme's orange accent into bright red, the colour of errors, and
makes the slightly lighter field backgrounds the same black as the surface around them. Widgets that
depend on those shades ask ``few_colours(app)`` and set a ``-few-colours`` class that their styles use.

ANSI colours in styles ("yellow", ``ansi_yellow``) take a detour too: Textual turns them into the true
colours of its ANSI palette, which the console rounds again, so yellow came out bright red and red
magenta. ``fit_ansi_palette(app)`` gives the app, on such a terminal only, a palette the console rounds
back to the same hue, so yellow stays yellow and red stays red.
"""

from __future__ import annotations

from typing import Any

from rich._palettes import STANDARD_PALETTE
from rich.terminal_theme import TerminalTheme

# Rich's names for a console limited to the 16 ANSI colours (Windows' legacy console has the same 16).
FEW_COLOUR_SYSTEMS = frozenset({"standard", "windows"})


def few_colours(app: Any) -> bool:
    """True when ``app``'s console shows only the 16 ANSI colours."""
    console = getattr(app, "console", None)
    return getattr(console, "color_system", None) in FEW_COLOUR_SYSTEMS


# Colours the console rounds back to an ANSI colour of the same hue (the VGA palette rich rounds to); red,
# green, yellow, blue, magenta and cyan as their bright forms, readable on the dark surfaces, as Textual's
# own palette already showed green, blue and cyan.
_BRIGHT = [tuple(STANDARD_PALETTE[i]) for i in range(8, 16)]
SIXTEEN_COLOURS = TerminalTheme(
    (0, 0, 0),
    (170, 170, 170),
    [tuple(STANDARD_PALETTE[0]), *_BRIGHT[1:7], tuple(STANDARD_PALETTE[7])],  # type: ignore[list-item]
    _BRIGHT,  # type: ignore[arg-type]
)


def fit_ansi_palette(app: Any) -> None:
    """On a 16-colour terminal, let ANSI colours through unchanged (see the module docstring)."""
    if few_colours(app):
        app.ansi_theme_dark = SIXTEEN_COLOURS
        app.ansi_theme_light = SIXTEEN_COLOURS
