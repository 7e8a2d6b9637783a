"""SVG snapshot of the Time series area (120x36, frozen clock, in-process simulator, zone Europe/Berlin):
two pumps over 7 days with their min/max bands, the cursor on the newest bucket. Review before updating."""

from __future__ import annotations

import asyncio

from tui.devtools.screenshots import build_demo_app, chart_two_pumps

SIZE = (120, 36)


async def _two_pumps(pilot) -> None:
    app = pilot.app
    app.animation_level = "none"
    async with asyncio.timeout(20):
        await app.workers.wait_for_complete()
        await pilot.pause()
        await chart_two_pumps(app, pilot, frozen_timing=True)
        await app.workers.wait_for_complete()
        await pilot.pause()


def test_two_pumps_over_seven_days_with_the_band(snap_compare) -> None:
    assert snap_compare(build_demo_app(), terminal_size=SIZE, run_before=_two_pumps)
