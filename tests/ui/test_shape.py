"""The shape every area is written in: the typed context, the area table, AreaScreen, the connection
signal, the key bar and the style sheets."""

from __future__ import annotations

import re
from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Static

from tui.app import STYLE_SHEETS, IhubApp
from tui.areas import AREAS, Area
from tui.context import IhubContext
from tui.messages import ConnectionChanged, ConnectionState, Phase
from tui.screens.base import AreaScreen
from tui.widgets.key_bar import KeyBar
from tui.widgets.status_bar import StatusBar

SIZE = (120, 36)
TCSS = Path(__file__).resolve().parents[2] / "tui" / "tcss"


def test_the_app_provides_the_screen_context(demo_app: IhubApp) -> None:
    assert isinstance(demo_app, IhubContext)


def test_modes_and_area_keys_come_from_the_area_table() -> None:
    assert list(IhubApp.MODES) == [area.mode for area in AREAS]
    keys = {b.key: b.action for b in IhubApp.BINDINGS if hasattr(b, "key")}  # type: ignore[union-attr]
    for area in AREAS:
        assert keys[area.key] == f"switch_area('{area.mode}')"
    # An area without a screen yet says what is planned.
    for area in AREAS:
        assert area.screen is not None or area.planned


def test_every_style_sheet_is_loaded_by_the_app_and_area_rules_are_nested() -> None:
    files = sorted(f"tcss/{path.name}" for path in TCSS.glob("*.tcss"))
    assert sorted(str(p) for p in STYLE_SHEETS) == files
    screens = {"Screen", "PlaceholderScreen", "HelpScreen"}
    for path in TCSS.glob("*.tcss"):
        text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
        top_level = [
            line.split("{")[0].strip() for line in text.splitlines() if re.match(r"^[^\s}].*\{", line)
        ]
        if path.name == "dialogs.tcss":
            assert all(sel.startswith(".dialog") for sel in top_level), top_level
        elif path.name != "app.tcss":
            # An area's rules live under its screen (or one of its own dialog screens), never at top level.
            assert all(re.fullmatch(r"[A-Z]\w*(Screen|Dialog)", sel) for sel in top_level), (path, top_level)
        else:
            assert set(top_level) <= screens, top_level


class ProbeScreen(AreaScreen):
    """A minimal area for the tests: records connection changes and runs work in a thread."""

    def __init__(self) -> None:
        super().__init__(Area("probe", "9", "Probe", "a test area", None, "nothing"))
        self.states: list[ConnectionState] = []

    def compose_area(self) -> ComposeResult:
        yield Static("probe body", id="probe-body")

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.states.append(message.state)


async def test_area_screen_wraps_content_and_follows_the_connection_signal(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        probe = ProbeScreen()
        await demo_app.push_screen(probe)
        await pilot.pause()
        # Header, content and key bar, in that order; the header shows the live connection at once.
        assert [type(w) for w in probe.children] == [StatusBar, Static, KeyBar]
        assert "connected" in probe.query_one(StatusBar).connection_text
        assert probe.states and probe.states[-1].phase is Phase.CONNECTED
        # A change published by the app reaches the screen and its header, without the app touching them.
        demo_app._set_state(ConnectionState(Phase.ERROR, profile="demo", error="gone"))
        await pilot.pause()
        assert probe.states[-1].phase is Phase.ERROR
        assert "error: gone" in probe.query_one(StatusBar).connection_text


async def test_in_thread_returns_results_and_reraises_errors_without_a_notification(
    demo_app: IhubApp, settle, recorder
) -> None:
    import threading

    async with demo_app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(demo_app, pilot)
        probe = ProbeScreen()
        await demo_app.push_screen(probe)
        await pilot.pause()
        main = threading.get_ident()
        assert await probe.in_thread(threading.get_ident) != main

        def boom() -> None:
            raise ValueError("the keyring said no")

        try:
            await probe.in_thread(boom)
        except ValueError as exc:
            assert str(exc) == "the keyring said no"
        else:  # pragma: no cover
            raise AssertionError("in_thread swallowed the error")
        await pilot.pause()
        assert recorder.notifications("error") == []


async def test_an_unhandled_worker_failure_is_one_plain_notification(
    demo_app: IhubApp, settle, recorder
) -> None:
    async with demo_app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(demo_app, pilot)
        probe = ProbeScreen()
        await demo_app.push_screen(probe)
        await pilot.pause()

        async def broken() -> None:
            raise RuntimeError("surprise")

        worker = probe.run_worker(broken, exit_on_error=False, description="load things")
        for _ in range(100):
            if worker.is_finished and recorder.notifications("error"):
                break
            await pilot.pause(0.02)
        errors = recorder.notifications("error")
        assert len(errors) == 1
        assert errors[0].title == "Probe: load things"
        # A bug: its traceback went to the error log, which the notification names.
        assert errors[0].message.startswith("unexpected error: surprise (details in ")
        assert errors[0].message.endswith("ihub.log)")
        assert demo_app.is_running


async def test_key_bar_keeps_help_and_quit_visible_when_narrow(demo_app: IhubApp, settle) -> None:
    for width in (120, 80, 60):
        async with demo_app.run_test(size=(width, 30)) as pilot:
            await settle(demo_app, pilot)
            await pilot.press("1")
            await settle(demo_app, pilot)
            bar = demo_app.screen.query_one(KeyBar).plain
            assert bar.endswith("q Quit"), (width, bar)
            assert "? Help" in bar and "^p Palette" in bar, (width, bar)
            assert len(bar) <= width
        demo_app = IhubApp(demo_app.services, profile="demo")


async def test_key_bar_click_runs_the_action(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        bar = demo_app.screen.query_one(KeyBar)
        bar.render()
        start = next(s for s, _e, item in bar._spans if item.action == "help")
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await pilot.pause()
        from tui.screens.help import HelpScreen

        assert isinstance(demo_app.screen, HelpScreen)


async def test_open_area_hands_a_request_to_the_area_screen(demo_app: IhubApp, settle, recorder) -> None:
    from tui.context import ChartRequest

    seen: list[object] = []
    async with demo_app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(demo_app, pilot)
        await pilot.press("1")
        await settle(demo_app, pilot)
        # An area that has not been shown yet receives the request once its screen is up.
        request = ChartRequest("a1", "Vibration", ("rms",), asset_name="Pump 1")
        original = AreaScreen.handle_request

        def record(self: AreaScreen, req: object) -> None:
            seen.append((self.area.mode, req))
            original(self, req)

        AreaScreen.handle_request = record  # type: ignore[method-assign]
        try:
            demo_app.open_area("certificates", request)
            await settle(demo_app, pilot)
        finally:
            AreaScreen.handle_request = original  # type: ignore[method-assign]
        assert demo_app.current_mode == "certificates"
        assert seen == [("certificates", request)]
        # An area that takes no requests says so plainly.
        assert any("cannot open that" in n.message for n in recorder.notifications("warning"))


async def test_the_keys_screen_is_a_controller_of_widgets_that_post_messages(
    make_services, settle, recorder
) -> None:
    """The profile table and the profile detail are widgets (tui/widgets/profiles.py); the table says what
    happened in its own messages (a highlighted row, a chosen one) and the screen answers them."""
    from tui.screens.keys import KeysScreen
    from tui.widgets.profiles import ProfileDetail, ProfileTable

    app = IhubApp(
        make_services({"alpha": "FAKE-secret-alpha-1", "beta": "FAKE-secret-beta-22"}), profile="alpha"
    )
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(app, pilot)
        await pilot.press("1")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, KeysScreen)
        table = screen.query_one(ProfileTable)
        detail = screen.query_one(ProfileDetail)
        assert type(table).__module__ == type(detail).__module__ == "tui.widgets.profiles"
        table.focus()
        table.move_cursor(row=table.get_row_index("beta"))
        await settle(app, pilot)
        assert recorder.of(ProfileTable.Highlighted)[-1].name == "beta"
        shown = str(detail.query_one("#profile-detail", Static).render())
        assert shown.startswith("Name         beta"), shown
        await pilot.press("enter")
        await settle(app, pilot)
        assert {m.name for m in recorder.of(ProfileTable.Chosen)} == {"beta"}
        assert app.active_profile is not None and app.active_profile.name == "beta"
