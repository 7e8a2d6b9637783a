"""The app shell against the in-process simulator: header, areas, palette, help, connection and errors."""

from __future__ import annotations

from tui.app import IhubApp
from tui.areas import AREAS
from tui.bindings import BINDING_PURPOSES, PURPOSES
from tui.config.paths import AppPaths
from tui.config.secrets import SecretStore, StoreKind
from tui.messages import ConnectionChanged, Phase
from tui.screens.dialogs import VaultPassphraseDialog
from tui.screens.help import HelpScreen
from tui.screens.placeholder import PlaceholderScreen
from tui.sim.config import DEMO_CLIENT_SECRET
from tui.widgets.key_bar import KeyBar
from tui.widgets.status_bar import StatusBar, describe_connection, format_countdown

SIZE = (120, 36)


def header(app: IhubApp) -> StatusBar:
    return app.screen.query_one(StatusBar)


async def test_starts_on_demo_profile_connected_in_assets(demo_app: IhubApp, settle, recorder) -> None:
    async with demo_app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(demo_app, pilot)
        assert demo_app.current_mode == "assets"
        assert demo_app.connection.phase is Phase.CONNECTED
        assert demo_app.api is not None
        assert demo_app.active_profile is not None and demo_app.active_profile.name == "demo"
        # The frozen clock makes the simulator's 30-minute token show exactly 30:00.
        assert header(demo_app).connection_text == "demo · tenant demo · connected · token 30:00"
        assert header(demo_app).area == "Assets"
        # The area screen heard about the connection (through the app's connection signal).
        phases = [m.state.phase for m in recorder.of(ConnectionChanged)]
        assert phases and phases[-1] is Phase.CONNECTED
        assert not recorder.notifications("error")


async def test_countdown_follows_the_clock_and_the_token_is_renewed(demo_app: IhubApp, settle, clock) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        first = demo_app.connection.expires_at
        clock.advance(12 * 60 + 30)
        assert header(demo_app).connection_text.endswith("token 17:30")
        # Past the refresh margin the app asks the client for a new token and shows its expiry.
        clock.advance(17 * 60)
        demo_app._check_token()
        await settle(demo_app, pilot)
        assert demo_app.connection.phase is Phase.CONNECTED
        assert demo_app.connection.expires_at is not None and first is not None
        assert demo_app.connection.expires_at > first
        assert header(demo_app).connection_text.endswith("token 30:00")


async def test_number_keys_switch_areas(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        assert [area.key for area in AREAS] == ["1", "2", "3", "4"]
        for area in AREAS:
            await pilot.press(area.key)
            await pilot.pause()
            assert demo_app.current_mode == area.mode
            await settle(demo_app, pilot)
            # Every area gets the shared header (with the live connection) and the key bar.
            bar = header(demo_app)
            assert bar.area == area.title
            assert "connected" in bar.connection_text
            assert demo_app.screen.query(KeyBar)


async def test_placeholder_areas_say_what_is_planned_and_show_the_connection(
    demo_app: IhubApp, settle
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        for key, mode in (("2", "assets"), ("3", "timeseries"), ("4", "certificates")):
            await pilot.press(key)
            await settle(demo_app, pilot)
            assert demo_app.current_mode == mode
            if isinstance(demo_app.screen, PlaceholderScreen):  # until the area's own issue lands
                plan = str(demo_app.screen.query_one("#placeholder-plan").render())
                assert "not built yet" in plan
                connection = str(demo_app.screen.query_one("#placeholder-connection").render())
                assert "Connected with profile demo to tenant demo" in connection


async def test_palette_switches_area_and_profile(make_services, settle) -> None:
    services = make_services({"alpha": DEMO_CLIENT_SECRET, "beta": DEMO_CLIENT_SECRET}, default="alpha")
    app = IhubApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.connection.profile == "alpha" and app.connection.phase is Phase.CONNECTED
        first_client = app.api
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"to certif")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_mode == "certificates"

        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"file: beta")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.connection.profile == "beta" and app.connection.phase is Phase.CONNECTED
        assert app.api is not None and app.api is not first_client
        # The previous profile's client was closed when switching.
        assert first_client is not None and first_client.http.is_closed


async def test_profile_key_opens_a_profile_picker(make_services, settle) -> None:
    services = make_services({"alpha": DEMO_CLIENT_SECRET, "beta": DEMO_CLIENT_SECRET}, default="alpha")
    app = IhubApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await pilot.pause()
        await pilot.press(*"beta")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.connection.profile == "beta" and app.connection.phase is Phase.CONNECTED


async def test_help_lists_every_app_key_from_the_bindings(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(demo_app.screen, HelpScreen)
        sections = demo_app.screen.sections
        # One section per purpose, in the order of PURPOSES; each key under its binding's purpose.
        titles = [section.title for section in sections]
        assert titles == [purpose for purpose in PURPOSES if purpose in titles]
        assert {"Navigate", "View", "Change", "Connection", "App"} <= set(titles)
        by_id = {
            binding_id: (section.title, keys, text)
            for section in sections
            for (keys, text), binding_id in zip(section.entries, section.ids, strict=True)
        }
        for binding in IhubApp.BINDINGS:
            purpose, keys, text = by_id[binding.id]
            assert purpose == BINDING_PURPOSES[binding.id] and text == binding.tooltip
            for key in binding.key.split(","):
                display = demo_app.get_key_display(binding.with_key(key))
                assert display in keys.split(" / "), (key, keys)
        assert by_id["assets.search"][0] == "Navigate" and by_id["assets.edit"][0] == "Change"
        # Within a purpose the area's keys come before the app's.
        navigate = sections[0].ids
        assert navigate.index("assets.search") < navigate.index("app.area.keys")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(demo_app.screen, HelpScreen)
        # On another area the help follows that screen: its own keys first, the app's keys last.
        await pilot.press("1")
        await settle(demo_app, pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(demo_app.screen, HelpScreen)
        ids = {binding_id for section in demo_app.screen.sections for binding_id in section.ids}
        assert {"keys.add", "keys.test", "app.quit"} <= ids and "assets.search" not in ids


async def test_wrong_secret_is_a_clean_error_and_the_app_keeps_running(
    make_services, settle, recorder
) -> None:
    services = make_services({"broken": "not-the-secret", "good": DEMO_CLIENT_SECRET}, default="broken")
    app = IhubApp(services)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(app, pilot)
        assert app.is_running
        assert app.connection.phase is Phase.ERROR
        assert app.api is None
        errors = recorder.notifications("error")
        assert len(errors) == 1
        message = errors[0].message
        assert "rejected the client id or secret" in message
        assert "\n" not in message and "Traceback" not in message and "not-the-secret" not in message
        assert header(app).connection_text.startswith("broken · tenant demo · error: ")
        # The app still works: switching to a good profile connects.
        assert await app.activate_profile("good")
        assert app.connection.phase is Phase.CONNECTED and app.api is not None
    assert app.return_code in (None, 0)


async def test_missing_secret_and_unknown_profile_are_clean_errors(make_services, settle, recorder) -> None:
    services = make_services({"nosecret": None}, default="nosecret")
    app = IhubApp(services, profile="nosecret")
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(app, pilot)
        assert app.connection.phase is Phase.ERROR
        assert "no client secret stored for profile nosecret" in app.connection.error
        assert not await app.activate_profile("ghost")
        assert app.connection.phase is Phase.ERROR
        assert "no profile named 'ghost'" in app.connection.error
        assert len(recorder.notifications("error")) == 2
        assert app.is_running


async def test_without_profiles_the_app_starts_in_keys(make_services, settle) -> None:
    app = IhubApp(make_services({}))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.current_mode == "keys"
        assert app.connection.phase is Phase.NONE
        assert app.api is None
        assert header(app).connection_text == "no profile · not connected"


async def test_exit_closes_the_client(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        client = demo_app.api
        assert client is not None and not client.http.is_closed
        await pilot.press("q")
        await pilot.pause()
    assert client.http.is_closed


async def test_locked_vault_asks_for_the_passphrase(make_services, settle, sim, clock) -> None:
    services = make_services({"vaulted": None}, default="vaulted")
    store = SecretStore(AppPaths.default(), environ={})
    store.unlock_vault("correct horse")
    store.set("vaulted", DEMO_CLIENT_SECRET, StoreKind.VAULT)
    store.lock_vault()
    services.secrets = store
    app = IhubApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(50):
            if isinstance(app.screen, VaultPassphraseDialog):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, VaultPassphraseDialog)
        await pilot.press(*"correct horse")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.connection.phase is Phase.CONNECTED


def test_header_text() -> None:
    from tui.messages import ConnectionState

    assert format_countdown(29 * 60 + 12) == "29:12"
    assert format_countdown(3723) == "1:02:03"
    assert format_countdown(-5) == "0:00"
    state = ConnectionState(Phase.CONNECTED, profile="demo", tenant="demo", expires_at=1000.0)
    assert describe_connection(state, 1000.0 - 1752) == "demo · tenant demo · connected · token 29:12"
    assert describe_connection(state, 1001.0).endswith("token renewing…")
    failed = ConnectionState(Phase.ERROR, profile="prod", error="token URL not found")
    assert describe_connection(failed, 0) == "prod · error: token URL not found"


async def test_dialogs_answer_and_destructive_questions_default_to_cancel(demo_app: IhubApp, settle) -> None:
    from tui.screens.dialogs import ConfirmDialog, ErrorDialog

    answers: list[object] = []
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        demo_app.push_screen(ConfirmDialog("Delete", "Delete profile demo?"), answers.append)
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        demo_app.push_screen(ConfirmDialog("Delete", "Delete profile demo?", danger=True), answers.append)
        await pilot.pause()
        await pilot.press("enter")  # focus starts on Cancel
        await pilot.pause()
        demo_app.push_screen(ErrorDialog("Upload failed", "the CA was refused [HTTP 409]"), answers.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert answers == [True, False, None]
