"""``PlotCanvas``: textual-hires-canvas's ``Canvas`` with the same pixels and lines, drawn and painted faster.

The Time series chart's panels (``tui.widgets.ts_chart.ChartPlot``) are textual-plot ``PlotWidget``s,
each painting four canvases; a terminal resize re-renders and repaints all of them. Three methods of the
library's ``Canvas`` do per-pixel work in Python that dominates that cost; this subclass does the same
work with less of it, and its results are the library's, cell for cell and segment for segment
(``tests/unit/test_plot_canvas.py`` compares them):

* ``draw_hires_lines``: the library clips each segment and walks it with Bresenham on the hi-res grid,
  turns every dot back into float cell coordinates, and ``set_hires_pixels`` turns those back into
  integers. Here the integer dots go straight to their cells (the same clipping and walk).
* ``set_hires_pixels``: a bit mask per cell and a 256-entry table instead of a NumPy array per cell.
* no ``Canvas.Resize`` message (nothing listens for it; each would bubble through every ancestor);
* ``render_line``: the widget's style is looked up once per paint (``render_lines``), not once per line
  (``rich_style`` walks the DOM), and runs of one style are sliced, not concatenated character by
  character.
"""

from __future__ import annotations

from itertools import groupby
from math import floor
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.strip import Strip
from textual_hires_canvas import Canvas
from textual_hires_canvas.hires import HiResMode, hires_sizes, pixels

_TABLES: dict[HiResMode, list[str | None]] = {}


def _glyphs(mode: HiResMode) -> list[str | None]:
    """Glyph of every dot mask of a cell (bit ``row * width + column``), as the library's table says."""
    table = _TABLES.get(mode)
    if table is None:
        size = hires_sizes[mode]
        count = size.width * size.height
        lookup = pixels[mode]
        table = [lookup[tuple((mask >> bit) & 1 for bit in range(count))] for mask in range(1 << count)]
        _TABLES[mode] = table
    return table


class PlotCanvas(Canvas):
    """A ``Canvas`` that draws hi-res lines and paints its lines faster, with the same result."""

    _base_style: Style | None = None

    def _on_resize(self, event: events.Resize) -> None:  # type: ignore[override]  # (the library's hint names its own message)
        # The library's handler posts a Canvas.Resize message that bubbles through every ancestor; nothing
        # listens for it here (PlotWidget sizes its canvases when it draws), and a resize of the chart
        # would dispatch a dozen of them per panel.
        event.prevent_default()

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._base_style = None

    def render_line(self, y: int) -> Strip:
        if not self._canvas_size.area or y >= self._canvas_size.height:
            return Strip.blank(cell_length=0)
        base_style = self._base_style or self.rich_style
        buffer_line = self._buffer[y]
        if buffer_line.count(" ") == len(buffer_line):
            return Strip.blank(cell_length=len(buffer_line), style=base_style)
        cache = self._style_cache
        segments: list[Segment] = []
        start = 0
        for style_str, run in groupby(self._styles[y]):
            end = start + sum(1 for _ in run)
            if style_str:
                style = cache.get(style_str)
                if style is None:
                    style = cache[style_str] = Style.parse(style_str)
                segments.append(Segment("".join(buffer_line[start:end]), base_style + style))
            else:
                segments.append(Segment("".join(buffer_line[start:end]), base_style + None))
            start = end
        return Strip(segments).simplify()

    def draw_hires_lines(
        self,
        coordinates: Any,
        hires_mode: HiResMode | None = None,
        style: str = "white",
    ) -> None:
        if not coordinates:
            return
        mode = hires_mode or self.default_hires_mode
        size = hires_sizes[mode]
        w, h = size.width, size.height
        dots: list[tuple[int, int]] = []
        clip = self._clip_line_cohen_sutherland
        walk = self._get_line_coordinates
        for x0, y0, x1, y1 in list(coordinates):
            clipped = clip(float(x0), float(y0), float(x1), float(y1))
            if clipped is None:
                continue
            cx0, cy0, cx1, cy1 = clipped
            dots.extend(walk(floor(cx0 * w), floor(cy0 * h), floor(cx1 * w), floor(cy1 * h)))
        if dots:
            self._set_dots(dots, mode, style)

    def set_hires_pixels(
        self,
        coordinates: Any,
        hires_mode: HiResMode | None = None,
        style: str = "white",
    ) -> None:
        mode = hires_mode or self.default_hires_mode
        size = hires_sizes[mode]
        w, h = size.width, size.height
        region = self._canvas_region
        dots = [(floor(x * w), floor(y * h)) for x, y in coordinates if region.contains(floor(x), floor(y))]
        if dots:
            self._set_dots(dots, mode, style)

    def _set_dots(self, dots: list[tuple[int, int]], mode: HiResMode, style: str) -> None:
        """Set the cells holding hi-res ``dots`` (integer dot coordinates) to their glyphs."""
        size = hires_sizes[mode]
        w, h = size.width, size.height
        width, height = self._canvas_region.width, self._canvas_region.height
        cells: dict[tuple[int, int], int] = {}
        for hx, hy in dots:
            cx, ox = divmod(hx, w)
            cy, oy = divmod(hy, h)
            if 0 <= cx < width and 0 <= cy < height:
                key = (cx, cy)
                cells[key] = cells.get(key, 0) | (1 << (oy * w + ox))
        glyphs = _glyphs(mode)
        buffer, styles = self._buffer, self._styles
        changed = False
        for (cx, cy), mask in cells.items():
            char = glyphs[mask]
            if char:
                buffer[cy][cx] = char
                styles[cy][cx] = style
                changed = True
        if changed:
            self.refresh()
