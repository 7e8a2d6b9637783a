"""SVG snapshot of the Certificates area (120x36, frozen clock, in-process simulator); review before updating.

Two agent certificates made through the simulator's API and no CA yet: the lists, the expiry column, the
status line and the hint shown while nothing is selected. (A CA's fingerprint and an agent's id are random,
so the pictured state shows neither.)
"""

from __future__ import annotations

import asyncio
import datetime as dt

from tui.app import IhubApp
from tui.devtools.screenshots import build_demo_app
from tui.flows.certificates import create_agent_certificate

SIZE = (120, 36)


async def _settled(pilot) -> None:
    app = pilot.app
    app.animation_level = "none"
    async with asyncio.timeout(10):
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()


def test_certificates_area_with_two_agent_certificates(snap_compare) -> None:
    app: IhubApp = build_demo_app()

    async def prepare(pilot) -> None:
        await _settled(pilot)
        await pilot.press("4")
        await _settled(pilot)
        assert app.api is not None
        now = dt.datetime.fromtimestamp(app.services.clock(), dt.UTC)
        folder = app.services.paths.data_dir / "agents"
        for name in ("press-line-4", "paint-robot-2"):
            await create_agent_certificate(app.api, name, out_dir=folder, owner="ops@acme.example", now=now)
        app.screen.reload()  # type: ignore[attr-defined]
        await _settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=prepare)
