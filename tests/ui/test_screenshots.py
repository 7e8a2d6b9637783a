"""``make screenshots``: one SVG and one PNG per area from the demo, in presentation mode: no secret and
none of the demo tenant's real identifiers in any of them, nor in the pictures committed for the README."""

from __future__ import annotations

import html
import re
import struct
from pathlib import Path

from tui.areas import AREAS
from tui.devtools.screenshots import capture
from tui.sim.config import SimConfig
from tui.sim.tenant import build_tenant

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COMMITTED = Path(__file__).resolve().parents[2] / "screenshots"


def real_identifiers() -> dict[str, set[str]]:
    """The demo tenant's names, client ids, asset ids and secrets (what the pictures are made from)."""
    config = SimConfig()
    state = build_tenant(config)
    tenants = {state.tenant}
    for asset in state.assets.values():
        if asset.owner:
            tenants.add(asset.owner)
        tenants.update(asset.sharedWith)
    return {
        "tenant": tenants,
        "client id": {client.client_id for client in config.clients},
        "asset id": set(state.assets),
        "secret": {client.client_secret for client in config.clients},
    }


def text_of(svg: str) -> str:
    """The SVG's characters as drawn (Rich writes spaces as no-break spaces)."""
    return html.unescape(svg).replace("\xa0", " ")


def leaks(svg: str) -> list[str]:
    text = text_of(svg)
    found = []
    for kind, values in real_identifiers().items():
        for value in values:
            if kind in ("tenant", "client id"):
                hit = re.search(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", text)
            else:
                hit = value in text
            if hit:
                found.append(f"{kind} {value!r}")
    return found


async def test_screenshots_are_an_svg_and_a_png_per_area_with_nothing_real(tmp_path) -> None:
    written = await capture(tmp_path)
    assert sorted(p.name for p in written) == sorted(
        name for area in AREAS for name in (f"{area.mode}.svg", f"{area.mode}.png")
    )
    for area in AREAS:
        svg = (tmp_path / f"{area.mode}.svg").read_text(encoding="utf-8")
        assert area.title in text_of(svg)
        assert "MASKED" in svg  # the header's presentation-mode badge
        assert leaks(svg) == [], area.mode
        png = (tmp_path / f"{area.mode}.png").read_bytes()
        assert png.startswith(PNG_SIGNATURE)
        width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
        assert width > 1000 and height > 500  # 120x36 cells drawn, not an empty page


def test_the_committed_screenshots_are_masked() -> None:
    """The README's pictures were made by ``make screenshots`` as it is now (presentation mode)."""
    for area in AREAS:
        svg = (COMMITTED / f"{area.mode}.svg").read_text(encoding="utf-8")
        assert (COMMITTED / f"{area.mode}.png").read_bytes().startswith(PNG_SIGNATURE)
        assert "MASKED" in svg, area.mode
        assert leaks(svg) == [], area.mode
