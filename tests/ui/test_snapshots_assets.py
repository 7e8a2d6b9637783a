"""SVG snapshot of the Assets area (120x36, frozen clock, in-process simulator); review before updating."""

from __future__ import annotations

import asyncio

from tui.devtools.screenshots import PREPARE, build_demo_app

SIZE = (120, 36)


def test_assets_with_a_pump_selected_and_its_latest_values(snap_compare) -> None:
    async def show_pump(pilot) -> None:
        app = pilot.app
        app.animation_level = "none"
        async with asyncio.timeout(20):
            await app.workers.wait_for_complete()
            await pilot.pause()
            await PREPARE["assets"](app, pilot)
            await app.workers.wait_for_complete()
            await pilot.pause()

    assert snap_compare(build_demo_app(), terminal_size=SIZE, run_before=show_pump)
