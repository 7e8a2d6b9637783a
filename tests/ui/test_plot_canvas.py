"""``PlotCanvas`` draws and paints exactly what textual-hires-canvas's ``Canvas`` does, only faster.

Random hi-res lines (inside, across and far outside the canvas), single hi-res pixels, box drawing and
text in several styles: the cell buffers, the styles and the painted strips must be equal.
"""

from __future__ import annotations

import random

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region, Size
from textual_hires_canvas import Canvas
from textual_hires_canvas.hires import HiResMode

from tui.widgets.plot_canvas import PlotCanvas

WIDTH, HEIGHT = 37, 11


class Pair(App[None]):
    def compose(self) -> ComposeResult:
        yield Canvas(WIDTH, HEIGHT, id="library")
        yield PlotCanvas(WIDTH, HEIGHT, id="ours")


def _draw(canvas: Canvas, seed: int, mode: HiResMode) -> None:
    rng = random.Random(seed)
    styles = ["red", "bold #4fc3f7", "", "dim white on black"]
    lines = [
        (
            rng.uniform(-10, WIDTH + 10),
            rng.uniform(-5, HEIGHT + 5),
            rng.uniform(-10, WIDTH + 10),
            rng.uniform(-5, HEIGHT + 5),
        )
        for _ in range(60)
    ]
    lines += [
        (0.0, 0.0, WIDTH - 0.01, HEIGHT - 0.01),
        (3.3, 2.0, 3.3, 9.7),
        (1.0, 5.5, 30.2, 5.5),
        (4.0, 4.0, 4.0, 4.0),
    ]
    for i in range(0, len(lines), 8):
        canvas.draw_hires_lines(lines[i : i + 8], hires_mode=mode, style=styles[i // 8 % len(styles)])
    canvas.set_hires_pixels(
        [(rng.uniform(-2, WIDTH + 2), rng.uniform(-2, HEIGHT + 2)) for _ in range(40)],
        hires_mode=mode,
        style="green",
    )
    canvas.draw_rectangle_box(0, 0, WIDTH - 1, HEIGHT - 1, thickness=2, style="yellow")
    canvas.write_text(2, 1, "[b cyan]mm/s[/] 12.5")


@pytest.mark.parametrize("mode", [HiResMode.BRAILLE, HiResMode.QUADRANT, HiResMode.HALFBLOCK])
async def test_the_same_cells_and_strips_as_the_library(mode: HiResMode) -> None:
    app = Pair()
    async with app.run_test(size=(WIDTH + 4, 2 * HEIGHT + 4)) as pilot:
        library = app.query_one("#library", Canvas)
        ours = app.query_one("#ours", PlotCanvas)
        for seed in range(6):
            for canvas in (library, ours):
                canvas.reset(size=Size(WIDTH, HEIGHT))
                _draw(canvas, seed, mode)
            assert ours._buffer == library._buffer
            assert ours._styles == library._styles
            assert any(c != " " for row in ours._buffer for c in row)
            await pilot.pause()
            region = Region(0, 0, WIDTH, HEIGHT)
            assert ours.render_lines(region) == library.render_lines(region)
            assert [ours.render_line(y) for y in range(HEIGHT + 1)] == [
                library.render_line(y) for y in range(HEIGHT + 1)
            ]
