"""Read-only and production in the app (issue 12 §2): one mechanism for every area.

``ihub --read-only`` (``Services.session_read_only``) and a read-only profile take every change away from
the key bar, the help and the palette, and refuse it in plain words when it is run anyway; the header
says READ-ONLY. A production profile (its flag, or its tenant matching the settings' patterns) gets its
own header colour and mark, and its destructive actions ask for the name typed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.worker import WorkerCancelled

from tui.app import IhubApp
from tui.config.paths import AppPaths
from tui.config.settings import Settings
from tui.context import ChartRequest
from tui.screens.assets import AssetsScreen
from tui.screens.base import AreaScreen
from tui.screens.certificates import CertificatesScreen
from tui.screens.dialogs import ConfirmDialog
from tui.screens.keys import KeysScreen
from tui.screens.timeseries import TimeSeriesScreen
from tui.services import Services
from tui.sim.transport import sim_transport
from tui.widgets.key_bar import KeyBar
from tui.widgets.status_bar import StatusBar

SIZE = (120, 36)
PUMP = "ff0d65e90c1000b7343ac254a953c927"  # Pump ER-1104
AREA_KEYS = {"keys": "1", "assets": "2", "timeseries": "3", "certificates": "4"}
# Each area's changes and the keys that start them.
CHANGE_KEYS = {
    "keys": {
        "add": "n",
        "edit": "e",
        "duplicate": "d",
        "delete": "delete",
        "set_default": "m",
        "choose_store": "b",
    },
    "assets": {"create": "n", "edit": "e", "delete": "delete"},
    "certificates": {"register": "r", "verify": "v", "new_agent": "a", "delete": "x", "send_test_data": "t"},
}


async def settled(app: IhubApp, pilot, limit: float = 20.0) -> None:
    async with asyncio.timeout(limit):
        for _ in range(3):
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:
                continue
            await pilot.pause()


async def open_area(app: IhubApp, pilot, mode: str) -> AreaScreen:
    await pilot.press(AREA_KEYS[mode])
    await settled(app, pilot)
    screen = app.screen
    assert isinstance(screen, AreaScreen) and screen.area.mode == mode
    return screen


def demo(sim, clock, *, read_only: bool = False, production: bool = False, paths=None) -> Services:
    services = Services.for_demo(
        transport_factory=lambda: sim_transport(sim), clock=clock, production=production, paths=paths
    )
    services.session_read_only = read_only
    return services


def write(path: Path, text: str) -> None:
    path.write_text(text)


def read(path: Path) -> str:
    return path.read_text()


def change_commands(app: IhubApp, screen: AreaScreen) -> list[str]:
    return [c.title for c in screen.palette_commands() if screen.is_change_command(c)]


def palette_titles(app: IhubApp) -> list[str]:
    return [c.title for c in app.palette_commands()]


async def test_read_only_session_hides_and_refuses_every_change_in_every_area(sim, clock, recorder) -> None:
    # First a writable session, so that the same checks below could fail.
    app = IhubApp(demo(sim, clock), profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        screen = await open_area(app, pilot, "assets")
        assert isinstance(screen, AssetsScreen)
        screen.jump_to(await app.api.assets.get(PUMP))
        await settled(app, pilot)
        assert all(screen.check_action(a, ()) for a in CHANGE_KEYS["assets"])
        certs = await open_area(app, pilot, "certificates")
        writable_palette = palette_titles(app)
        assert change_commands(app, certs) and set(change_commands(app, certs)) <= set(writable_palette)

    app = IhubApp(demo(sim, clock, read_only=True), profile="demo")
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settled(app, pilot)
        bar = app.screen.query_one(StatusBar)
        assert "READ-ONLY" in bar.marks and app.safety.session_read_only
        for mode, actions in CHANGE_KEYS.items():
            screen = await open_area(app, pilot, mode)
            if isinstance(screen, AssetsScreen):
                screen.jump_to(await app.api.assets.get(PUMP))
                await settled(app, pilot)
            keys = screen.query_one(KeyBar).plain
            assert set(actions) == set(screen.CHANGES), mode  # every change of the area is tried
            for action, key in actions.items():
                assert screen.check_action(action, ()) is False, (mode, action)
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is screen, (mode, action)  # no form, no dialog
            for word in ("Add", "New", "Delete", "Register"):
                assert f" {word}" not in keys, (mode, keys)
            # Nothing that changes is in the palette.
            assert not set(change_commands(app, screen)) & set(palette_titles(app)), mode
            # Run anyway (a stale palette, a script): refused in plain words, nothing sent.
            action = next(iter(actions))
            getattr(screen, f"action_{action}")()
            await pilot.pause()
            refusal = [n for n in recorder.notifications("warning") if n.title == "Read-only"][-1]
            assert refusal.message.startswith("Cannot ") and ": the session is read-only (--read-only)" in (
                refusal.message
            )
        assert not sim.state.tenant.ca_certificates and not sim.state.tenant.agent_certificates
        # The Time series area changes nothing in the tenant: exporting to a file stays.
        ts = await open_area(app, pilot, "timeseries")
        assert isinstance(ts, TimeSeriesScreen) and ts.check_action("export", ()) is True
        assert ts.CHANGES == {}


async def test_a_read_only_profile_keeps_its_profile_editable(sim, clock, recorder) -> None:
    services = demo(sim, clock)
    services.profiles.update("demo", services.profiles.get("demo").replace(read_only=True))
    app = IhubApp(services, profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert "READ-ONLY" in app.screen.query_one(StatusBar).marks
        assets = app.screen
        assert isinstance(assets, AssetsScreen)
        assert assets.check_action("create", ()) is False
        keys = await open_area(app, pilot, "keys")
        assert isinstance(keys, KeysScreen)
        # This is where the flag is turned off: the Keys area stays editable.
        assert keys.check_action("edit", ()) is True and keys.check_action("add", ()) is True


async def test_production_profile_marks_the_header_and_asks_for_names(
    sim, clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = IhubApp(demo(sim, clock, production=True), profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        bar = app.screen.query_one(StatusBar)
        assert bar.has_class("-production") and "▲ PRODUCTION" in bar.marks
        assert "▲ PRODUCTION" in bar.render().plain  # a symbol and a word: readable without colour
        # Replacing a file asks for its name (elsewhere a plain yes): the Time series export.
        app.open_area("timeseries", ChartRequest(PUMP, "PumpData", ("pressure",), "Pump ER-1104"))
        await settled(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimeSeriesScreen)
        await pilot.press("e")
        await settled(app, pilot)
        target = Path(app.screen.query_one("#export-path").value)
        write(target, "keep me")
        await pilot.press("enter")
        await settled(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.typed == target.name
        assert "Production: profile demo is marked production" in dialog.message
        await pilot.press("y", "enter")
        await pilot.pause()
        assert app.screen is dialog and read(target) == "keep me"
        await pilot.press("escape")
        await settled(app, pilot)
        assert read(target) == "keep me"
        # Deleting a profile asks for its name too.
        keys = await open_area(app, pilot, "keys")
        await pilot.press("delete")
        await settled(app, pilot)
        assert isinstance(app.screen, ConfirmDialog) and app.screen.typed == "demo"
        await pilot.press("escape")
        await settled(app, pilot)
        assert app.screen is keys and "demo" in app.services.profiles


async def test_without_production_replacing_a_file_is_a_plain_yes(
    sim, clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = IhubApp(demo(sim, clock), profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert not app.screen.query_one(StatusBar).has_class("-production")
        app.open_area("timeseries", ChartRequest(PUMP, "PumpData", ("pressure",), "Pump ER-1104"))
        await settled(app, pilot)
        await pilot.press("e")
        await settled(app, pilot)
        target = Path(app.screen.query_one("#export-path").value)
        write(target, "old")
        await pilot.press("enter")
        await settled(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.typed is None
        await pilot.press("y")
        await settled(app, pilot)
        assert read(target).startswith("_time")  # replaced by the export


async def test_a_tenant_matching_the_settings_patterns_is_production(sim, clock, tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "l", tmp_path / "x")
    Settings(paths.settings_file).set("safety", "production_tenants", ["de*"])
    app = IhubApp(demo(sim, clock, paths=paths), profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert app.safety.production and "matches the production pattern 'de*'" in app.safety.production_why
        assert "▲ PRODUCTION" in app.screen.query_one(StatusBar).marks
        certs = await open_area(app, pilot, "certificates")
        assert isinstance(certs, CertificatesScreen)
