"""SVG snapshots of the shell (120x36, frozen clock, in-process simulator); review before updating."""

from __future__ import annotations

import asyncio

from tui.app import IhubApp
from tui.devtools.screenshots import build_demo_app

SIZE = (120, 36)


async def _settled(pilot) -> None:
    app = pilot.app
    app.animation_level = "none"
    async with asyncio.timeout(10):
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()


def test_connected_header_in_assets(snap_compare) -> None:
    app: IhubApp = build_demo_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=_settled)


def test_help_screen(snap_compare) -> None:
    async def open_help(pilot) -> None:
        await _settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(build_demo_app(), terminal_size=SIZE, run_before=open_help)


def test_connection_error_notification(snap_compare) -> None:
    # The demo profile without its secret: the header and a notification say so (no traceback).
    app = build_demo_app()
    app.services.secrets.delete("demo")

    assert snap_compare(app, terminal_size=SIZE, run_before=_settled)
