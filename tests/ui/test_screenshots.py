"""``make screenshots``: one SVG and one PNG per area from the demo, no secret in any of them."""

from __future__ import annotations

import struct

from tui.areas import AREAS
from tui.devtools.screenshots import capture
from tui.sim.config import DEMO_CLIENT_SECRET

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def test_screenshots_are_an_svg_and_a_png_per_area(tmp_path) -> None:
    written = await capture(tmp_path)
    assert sorted(p.name for p in written) == sorted(
        name for area in AREAS for name in (f"{area.mode}.svg", f"{area.mode}.png")
    )
    for area in AREAS:
        svg = (tmp_path / f"{area.mode}.svg").read_text(encoding="utf-8")
        assert area.title.replace(" ", "&#160;") in svg or area.title in svg
        assert DEMO_CLIENT_SECRET not in svg
        png = (tmp_path / f"{area.mode}.png").read_bytes()
        assert png.startswith(PNG_SIGNATURE)
        width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
        assert width > 1000 and height > 500  # 120x36 cells drawn, not an empty page
