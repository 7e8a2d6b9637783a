"""Every area at 80x24 (an SSH session's default) and at 120x40: SVG snapshots (frozen clock, in-process
simulator, nothing random or timed on screen). Review the pictures before ``--snapshot-update``.

At 80x24 the side-by-side panes of Keys and Assets fold (``AreaScreen.FOLDED_PANES``): Keys shows its
connection test after ``t``, Assets the chosen pump's details after ``o``; Time series and Certificates
stack their panes. At 120x40 everything is side by side.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from types import SimpleNamespace

import pytest

from tui.api import diagnose
from tui.devtools.screenshots import PREPARE, build_demo_app, chart_two_pumps
from tui.flows.certificates import create_agent_certificate

SIZES = [(80, 24), (120, 40)]


async def _settled(pilot) -> None:
    app = pilot.app
    async with asyncio.timeout(20):
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()


async def _keys(pilot) -> None:
    pilot.app.switch_area("keys")
    await _settled(pilot)
    await PREPARE["keys"](pilot.app, pilot)  # t: the connection test of the demo profile


async def _assets(pilot) -> None:
    await PREPARE["assets"](pilot.app, pilot)  # Pump ER-1104 found, its latest values and trends
    if pilot.app.size.width < 100:
        await pilot.press("o")  # narrow: from the tree to the details


async def _timeseries(pilot) -> None:
    await chart_two_pumps(pilot.app, pilot, frozen_timing=True)


async def _certificates(pilot) -> None:
    # Two agent certificates and no CA: a CA's fingerprint and an agent's id are random.
    app = pilot.app
    app.switch_area("certificates")
    await _settled(pilot)
    now = dt.datetime.fromtimestamp(app.services.clock(), dt.UTC)
    folder = app.services.paths.data_dir / "agents"
    for name in ("press-line-4", "paint-robot-2"):
        await create_agent_certificate(app.api, name, out_dir=folder, owner="ops@acme.example", now=now)
    app.screen.reload()


STATES = {"keys": _keys, "assets": _assets, "timeseries": _timeseries, "certificates": _certificates}


@pytest.fixture(autouse=True)
def _frozen_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection test's timings (perf_counter) read 0 ms, so the Keys picture is the same every run."""
    monkeypatch.setattr(diagnose, "time", SimpleNamespace(perf_counter=lambda: 0.0, time=time.time))


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("area", list(STATES))
def test_area_at_size(snap_compare, area: str, size: tuple[int, int]) -> None:
    async def prepare(pilot) -> None:
        pilot.app.animation_level = "none"
        await _settled(pilot)
        await STATES[area](pilot)
        await _settled(pilot)
        await pilot.pause(0.1)

    assert snap_compare(build_demo_app(), terminal_size=size, run_before=prepare)
