"""Write README screenshots of every area: ``python -m tui.devtools.screenshots OUTDIR`` (make screenshots).

The app runs headless around the in-process simulator (``Services.for_demo`` with ``sim_transport``) at
120x36 with a frozen clock, so the pictures are the same on every run (but for the Certificates area's new
CA fingerprints). Each area is saved as ``<area>.svg`` (Textual's screenshot) and ``<area>.png`` (the SVG
drawn by cairosvg: no browser). They are taken in presentation mode (``tui/present.py``, with a fixed key
so the masks are the same on every run too): no tenant name, client id, full id, e-mail address, home
folder or secret reaches a picture.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from tui.app import IhubApp
from tui.areas import AREAS
from tui.services import Services
from tui.sim.app import create_app
from tui.sim.config import DEMO_INSTANT, SimConfig
from tui.sim.transport import sim_transport

# 2025-06-16 08:00:00 UTC: a fixed instant so the token countdown and the data are reproducible.
FROZEN_TIME = DEMO_INSTANT
SIZE = (120, 36)
# The masker's key for the pictures: the same masks on every run (a live session draws a random key).
PRESENTATION_KEY = b"ihub-screenshots"


def frozen_clock(at: float = FROZEN_TIME) -> Callable[[], float]:
    return lambda: at


def build_demo_app(
    sim_config: SimConfig | None = None, *, clock: Callable[[], float] | None = None, present: bool = False
) -> IhubApp:
    """The app on the demo profile, served by the simulator in-process (no socket, no saved state);
    ``present``: in presentation mode, with the pictures' fixed key."""
    clock = clock or frozen_clock()
    config = sim_config or SimConfig()
    config.clock = clock
    sim = create_app(config)
    services = Services.for_demo(transport_factory=lambda: sim_transport(sim), clock=clock)
    if present:
        from tui.present import Masker

        services.start_presenting(Masker(PRESENTATION_KEY))
    return IhubApp(services, profile="demo")


async def settle(app: IhubApp, limit: float = 15.0) -> None:
    """Wait until the app's workers are done (at most ``limit`` seconds) and animations have ended."""
    try:
        async with asyncio.timeout(limit):
            await app.workers.wait_for_complete()
    except TimeoutError:
        pass  # a polling worker may run forever; the screen is as settled as it gets
    await app.animator.wait_until_complete()


async def _prepare_keys(app: IhubApp, pilot: Pilot[None]) -> None:
    """Show a connection test: the Keys screen's main job."""
    await pilot.press("t")
    await pilot.pause()
    await settle(app)


# The pump the Assets picture shows (the demo plant's Pump ER-1104, with its 1 Hz Vibration aspect).
DEMO_PUMP = "ER-1104"


async def _prepare_assets(app: IhubApp, pilot: Pilot[None]) -> None:
    """Find a pump by name, jump to it, and show its latest values and 24 h trends."""
    await pilot.press("slash", *DEMO_PUMP, "enter")
    await settle(app)
    await pilot.press("enter")  # the first hit: the tree opens its path and shows its details
    await pilot.pause()
    await settle(app)
    await pilot.press("tab")  # into the aspects table, which scrolls the latest values into view
    await pilot.pause()
    await settle(app)


async def _prepare_certificates(app: IhubApp, pilot: Pilot[None]) -> None:
    """One verified CA (its key kept here), one uploaded but not verified (its key elsewhere) and two agent
    certificates, made through the simulator's API as an admin would; the verified CA's details shown."""
    import datetime as dt

    from tui.flows.certificates import create_agent_certificate, register_new_ca
    from tui.pki import SubjectFields, create_ca

    api = app.api
    if api is None:
        return
    now = dt.datetime.fromtimestamp(app.services.clock(), dt.UTC)
    subject = SubjectFields("Plant 7 MQTT CA", organization="ACME Industries", country="DE")
    await register_new_ca(
        api, subject, key_store=app.services.ca_key_store("demo"), key_type="ec256", now=now
    )
    elsewhere = create_ca(SubjectFields("Field Service CA", organization="ACME Industries"), "ec256", now=now)
    await api.mqtt.upload_ca("Field Service CA", elsewhere.certificate_pem)
    folder = app.services.paths.data_dir / "certificates"
    for name, owner in (("press-line-4", "ops@acme.example"), ("paint-robot-2", None)):
        await create_agent_certificate(api, name, out_dir=folder, owner=owner, now=now)
    screen = app.screen
    reload = getattr(screen, "reload", None)
    if reload is not None:
        reload()
    await settle(app)
    await pilot.pause()


# Each area's own steps before its picture (after switching to it); an area without one is shown as is.
async def wait_idle(app: IhubApp, limit: float = 20.0) -> None:
    """Wait until no worker of the app runs, also those started by the workers waited for (a request that
    starts a read); a worker cancelled by a newer one of its group is not an error here."""
    from textual.worker import WorkerCancelled

    async with asyncio.timeout(limit):
        while True:
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:
                continue
            if all(worker.is_finished for worker in app.workers):
                return


async def _prepare_timeseries(app: IhubApp, pilot: Pilot[None]) -> None:
    """Two pumps over 7 days: aggregates with their min/max bands, in the plant's zone."""
    await chart_two_pumps(app, pilot)
    await settle(app)
    await pilot.pause(0.3)


async def chart_two_pumps(
    app: IhubApp, pilot: Pilot[None], zone: str = "Europe/Berlin", *, frozen_timing: bool = False
) -> None:
    """Chart ``velocityRms`` of Pump ER-1104 against Pump ER-1203 over the last 7 days (screenshots, the
    snapshot test; ``frozen_timing``: the status line says 0.00 s, so the picture is the same every run)."""
    from zoneinfo import ZoneInfo

    from tui.api.assets import name_filter
    from tui.context import ChartRequest
    from tui.screens.timeseries import TimeSeriesScreen

    api = app.api
    if api is None:
        return
    pumps = {}
    for name in ("Pump ER-1104", "Pump ER-1203"):
        found, _total = await api.assets.page(0, 1, name_filter(name))
        pumps[name] = found[0].asset_id
    app.switch_area("timeseries")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, TimeSeriesScreen)
    screen.zone = screen.chart.tz = ZoneInfo(zone)
    if frozen_timing:
        from tui.api.ts.fetch import TimeSeriesReader

        screen._reader, screen._reader_api = TimeSeriesReader(api, clock=lambda: 0.0), api
    screen.apply_preset("7d")
    await wait_idle(app)
    screen.handle_request(ChartRequest(pumps["Pump ER-1104"], "Vibration", ("velocityRms",), "Pump ER-1104"))
    await wait_idle(app)
    screen.add_request(ChartRequest(pumps["Pump ER-1203"], "Vibration", ("velocityRms",), "Pump ER-1203"))
    await wait_idle(app)
    await pilot.pause()
    # Pump A's first read may have been at another chart width (the layout settles as series arrive): read
    # once more at the settled width, then a last time, which both series answer from the session cache,
    # so the status line is the same on every run.
    for _ in range(2):
        screen.reload()
        await wait_idle(app)
        await pilot.pause()
    screen.action_cursor(1)
    await pilot.pause()


# Each area's own steps before its picture (after switching to it); an area without one is shown as is.
PREPARE: dict[str, Callable[[IhubApp, Pilot[None]], Awaitable[None]]] = {
    "keys": _prepare_keys,
    "assets": _prepare_assets,
    "timeseries": _prepare_timeseries,
    "certificates": _prepare_certificates,
}


async def capture(outdir: Path, size: tuple[int, int] = SIZE) -> list[Path]:
    """Visit every area and save one SVG per area into ``outdir`` (presentation mode); returns the files."""
    app = build_demo_app(present=True)
    written: list[Path] = []
    async with app.run_test(size=size) as pilot:
        await settle(app)
        await pilot.pause()
        for area in AREAS:
            mode = area.mode
            app.switch_area(mode)
            await pilot.pause()
            await settle(app)
            prepare = PREPARE.get(mode)
            if prepare is not None:
                await prepare(app, pilot)
            await pilot.pause(0.2)
            path = Path(app.save_screenshot(f"{mode}.svg", str(outdir)))
            written.append(path)
            written.append(svg_to_png(path))
    return written


def svg_to_png(svg: Path, scale: float = 1.0) -> Path:
    """``<name>.png`` beside ``svg``, drawn by cairosvg (a dev dependency; fonts from the system)."""
    import cairosvg

    png = svg.with_suffix(".png")
    cairosvg.svg2png(url=str(svg), write_to=str(png), scale=scale)
    return png


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m tui.devtools.screenshots OUTDIR", file=sys.stderr)
        return 2
    outdir = Path(args[0])
    outdir.mkdir(parents=True, exist_ok=True)
    # The pictures show the true-colour look, whatever terminal runs this (16 colours would pick ihub-16).
    os.environ["COLORTERM"] = "truecolor"
    os.environ.pop("NO_COLOR", None)
    for path in asyncio.run(capture(outdir)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
