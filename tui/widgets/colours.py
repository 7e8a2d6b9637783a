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
from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from rich.terminal_theme import TerminalTheme
from textual.filter import LineFilter, Monochrome, NoColor

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


# -- no colour at all: NO_COLOR and TERM=dumb ---------------------------------------------------------------
#
# Textual 8.2.8 answers NO_COLOR with its Monochrome filter (every colour turned grey, still sent as 24-bit
# colour codes) and ignores TERM=dumb: rich finds no colour system there, and Textual's Strip.render then
# falls back to true colour. ``Colourless`` sends no colour at all; what colour told apart is drawn with
# attributes instead: a background that stands out from the screen (the cursor row, a selected item, the
# DEMO badge, a notice) becomes reverse video, and bold, dim, italic and underline stay.

# A background at least this far (relative luminance) from the screen's own stands for a highlight.
HIGHLIGHT_CONTRAST = 0.2


def _luminance(color: Any) -> float:
    red, green, blue = color.get_truecolor()
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


class Colourless(LineFilter):
    """Remove every colour; a highlighted background becomes reverse video (see above)."""

    _PLAIN = Style.from_color(RichColor.parse("default"), RichColor.parse("default"))

    def apply(self, segments: list[Segment], background: Any) -> list[Segment]:
        base = _luminance(background.rich_color) if background is not None else 0.0
        plain = self._PLAIN
        result = []
        for text, style, control in segments:
            if style is None or control:
                result.append(Segment(text, style, control))
                continue
            bg = style.bgcolor
            highlight = (
                bg is not None and not bg.is_default and abs(_luminance(bg) - base) >= HIGHLIGHT_CONTRAST
            )
            if highlight:  # flipped: text already reverse on a light background comes out plain
                flipped = Style(reverse=not style.reverse)
                result.append(Segment(text, style + plain + flipped, control))
            else:
                result.append(Segment(text, style + plain, control))
        return result


def wants_no_colour(app: Any) -> bool:
    """NO_COLOR is set (Textual's ``app.no_color``) or the terminal has no colours (``TERM=dumb``)."""
    console = getattr(app, "console", None)
    return bool(getattr(app, "no_color", False)) or getattr(console, "color_system", "truecolor") is None


def use_colourless(app: Any) -> None:
    """Put ``Colourless`` in place of Textual's Monochrome/NoColor filter when there must be no colour."""
    if not wants_no_colour(app):
        return
    filters = [f for f in app._filters if not isinstance(f, (Monochrome, NoColor))]
    filters.append(Colourless())
    app._filters = filters


# -- 16 colours: a theme made of the 16 colours themselves ---------------------------------------------------
#
# With only the 16 ANSI colours, Textual's default theme rounds its orange accent and warnings to bright red,
# the colour of errors. "ihub-16" takes each colour from the palette the console rounds to (rich's standard
# palette), so every role keeps its own hue: accent bright yellow, warning yellow, error bright red,
# success bright green, primary cyan. The app uses it on such a terminal unless the user chose a theme.
SIXTEEN_THEME_NAME = "ihub-16"


def sixteen_colour_theme() -> Any:
    from textual.theme import Theme

    def vga(index: int) -> str:
        red, green, blue = STANDARD_PALETTE[index]
        return f"#{red:02x}{green:02x}{blue:02x}"

    return Theme(
        name=SIXTEEN_THEME_NAME,
        primary=vga(6),  # cyan
        secondary=vga(4),  # blue
        accent=vga(11),  # bright yellow
        warning=vga(3),  # yellow
        error=vga(9),  # bright red
        success=vga(10),  # bright green
        foreground=vga(7),  # white (light grey)
        background=vga(0),
        surface=vga(0),
        panel=vga(8),  # bright black: header, key bar and table headers stand out in grey
        dark=True,
        variables={
            "footer-key-foreground": vga(11),
            "block-cursor-background": vga(6),
            "block-cursor-foreground": vga(0),
            "block-cursor-blurred-background": vga(8),
            "input-selection-background": vga(4),
            "border": vga(6),
            "border-blurred": vga(8),
        },
    )
