"""The Keys screen against the in-process simulator: profiles, secrets, stores, tests, and no secret leaks.

Every app here is the real ``IhubApp`` around real ``ProfileStore`` / ``SecretStore`` objects on the temp
folders of ``tests/conftest.py`` (whose in-memory keyring stands in for the OS keyring).
"""

from __future__ import annotations

import html
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from textual import events
from textual.widgets import DataTable, Input, Select, TextArea

from tui.app import IhubApp
from tui.config.paths import AppPaths
from tui.config.profiles import STYLE_APP, Profile, ProfileStore
from tui.config.secrets import SecretStore, StoreKind
from tui.screens.dialogs import ConfirmDialog, VaultPassphraseDialog
from tui.screens.keys import KeysScreen
from tui.screens.profile_form import ProfileFormScreen
from tui.screens.secret_store_dialog import SecretStoreDialog
from tui.services import DEMO_LOCAL_URL, Services
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tui.sim.transport import sim_transport
from tui.widgets.connection_report import ConnectionReport, TokenDialog
from tui.widgets.secret_field import MASK, SecretField

SIZE = (120, 36)
TOKEN_URL = f"{DEMO_LOCAL_URL}/oauth/token"
BINDING_KEYS = f"TokenURL: {TOKEN_URL}\nclientID: {DEMO_CLIENT_ID}\nclientSecret: {DEMO_CLIENT_SECRET}\n"
PASSPHRASE = "FAKE-pass"


def sim_profile(name: str, **changes: object) -> Profile:
    profile = Profile(
        name=name, gateway=DEMO_LOCAL_URL, token_url=TOKEN_URL, client_id=DEMO_CLIENT_ID, tenant="demo"
    )
    return profile.replace(**changes)


# -- fixtures (the shell's conftest provides clock, sim and settle) -----------------------------------------


@pytest.fixture
def paths() -> AppPaths:
    return AppPaths.default()


@pytest.fixture
def make_app(sim, clock, paths: AppPaths) -> Callable[..., IhubApp]:
    """``make_app({name: secret or None}, default=..., environ=...)``: the app on saved profiles."""

    def make(
        profiles: Mapping[str, str | None] | None = None,
        *,
        default: str | None = None,
        environ: Mapping[str, str] | None = None,
        profile: str | None = None,
    ) -> IhubApp:
        env = dict(environ or {})
        store = ProfileStore(paths.profiles_file)
        secrets = SecretStore(paths, environ=env, keyring_timeout=2.0)
        for name, secret in (profiles or {}).items():
            store.add(sim_profile(name))
            if secret is not None:
                secrets.set(name, secret)
        if default is not None:
            store.set_default(default)
        elif profiles:
            store.set_default(None)
        services = Services(
            paths=paths,
            profiles=store,
            secrets=secrets,
            environ=env,
            transport_factory=lambda: sim_transport(sim),
            clock=clock,
        )
        return IhubApp(services, profile=profile)

    return make


async def open_keys(app: IhubApp, pilot, settle) -> KeysScreen:
    await settle(app, pilot)
    if app.current_mode != "keys":
        await pilot.press("1")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, KeysScreen)
    return screen


async def wait_until(pilot, condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition`` holds (a worker waiting on a dialog never "completes")."""
    for _ in range(500):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"never happened: {what}")


async def wait_for_screen(app: IhubApp, pilot, kind: type) -> None:
    await wait_until(pilot, lambda: isinstance(app.screen, kind), kind.__name__)


def table_names(screen: KeysScreen) -> list[str]:
    table = screen.query_one("#profiles", DataTable)
    return [str(row.key.value) for row in table.ordered_rows]


def cell(screen: KeysScreen, name: str, column: str) -> str:
    value = screen.query_one("#profiles", DataTable).get_cell(name, column)
    return getattr(value, "plain", str(value))


async def select(screen: KeysScreen, pilot, name: str) -> None:
    table = screen.query_one("#profiles", DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(name))
    await pilot.pause()


def saved_toml(paths: AppPaths) -> dict:
    return tomllib.loads(paths.profiles_file.read_text())


def files_containing(roots: list[Path], needle: str) -> list[Path]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and needle.encode() in path.read_bytes():
                found.append(path)
    return found


def screen_text(app: IhubApp) -> str:
    """The captured screen (the SVG a screenshot would save), entities decoded."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


async def paste(app: IhubApp, pilot, text: str) -> None:
    assert app.focused is not None
    app.focused.post_message(events.Paste(text))
    await pilot.pause()


# -- adding, editing, duplicating, deleting ----------------------------------------------------------------


async def test_add_profile_by_keys_pasting_binding_keys(make_app, paths, memory_keyring, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert table_names(screen) == []
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ProfileFormScreen)
        # Type the name, then paste the binding-keys pop-up into the name field: the form fills itself.
        await pilot.press("tab")
        assert app.focused is form.query_one("#name")
        await pilot.press(*"plant")
        await paste(app, pilot, BINDING_KEYS)
        assert form.query_one("#name", Input).value == "plant"
        assert form.query_one("#token_url", Input).value == TOKEN_URL
        assert form.query_one("#client_id", Input).value == DEMO_CLIENT_ID
        assert form.query_one("#secret", Input).value == DEMO_CLIENT_SECRET
        assert form.query_one("#secret", Input).password  # masked
        assert form.query_one("#gateway", Input).value == DEMO_LOCAL_URL
        # Derived from the client id <tenant>-<app>-<version>-<suffix>, and marked as derived.
        assert form.query_one("#tenant", Input).value == "demo"
        assert form.query_one("#app_name", Input).value == "ihub"
        assert form.query_one("#app_version", Input).value == "1.0.0"
        assert "derived" in str(form.query_one("#hint-tenant").render())
        assert DEMO_CLIENT_SECRET not in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, KeysScreen)
        assert table_names(screen) == ["plant"]
        assert cell(screen, "plant", "secret") == "keyring"
        data = saved_toml(paths)
        assert data["profiles"]["plant"]["client_id"] == DEMO_CLIENT_ID
        assert data["default"] == "plant"  # the first profile becomes the default
        assert DEMO_CLIENT_SECRET not in paths.profiles_file.read_text()
        assert memory_keyring.store[("ihub:plant", "client_secret")] == DEMO_CLIENT_SECRET


async def test_binding_keys_typed_into_the_paste_area_fill_the_form(make_app, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        area = form.query_one("#binding-keys", TextArea)
        assert app.focused is area
        # Text being typed is not parsed before it is complete...
        area.insert(BINDING_KEYS.rstrip("\n"))
        await pilot.pause()
        assert form.query_one("#client_id", Input).value == ""
        assert "waiting" in str(form.query_one("#hint-binding").render())
        # ...the new line after the last line completes it.
        await pilot.press("enter")
        await pilot.pause()
        assert form.query_one("#client_id", Input).value == DEMO_CLIENT_ID
        assert form.query_one("#secret", Input).value == DEMO_CLIENT_SECRET
        # The pasted secret does not stay readable in the paste area.
        assert area.text == ""
        assert "filled" in str(form.query_one("#hint-binding").render())


async def test_form_shows_errors_inline_and_stays_open(make_app, settle) -> None:
    app = make_app({"plant": DEMO_CLIENT_SECRET})
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        await pilot.press("tab", *"plant", "tab", *"no url!")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # still open
        assert "already exists" in str(form.query_one("#hint-name").render())
        assert form.query_one("#row-gateway").has_class("-invalid")
        assert "client id is empty" in str(form.query_one("#hint-client_id").render())
        assert "secret is empty" in str(form.query_one("#hint-secret").render())
        assert form.query_one("#form-error").display
        # The eu1 shortcut expands and shows the URL it means.
        gateway = form.query_one("#gateway", Input)
        gateway.value = "eu1"
        await pilot.pause()
        assert "https://gateway.eu1.mindsphere.io" in str(form.query_one("#hint-gateway").render())
        # A technical token manager URL switches the style to app credentials.
        form.query_one(
            "#token_url", Input
        ).value = "https://gateway.eu1.mindsphere.io/api/technicaltokenmanager/v3/oauth/token"
        await pilot.pause()
        assert form.query_one("#style", Select).value == STYLE_APP
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, KeysScreen)


async def test_edit_renames_and_moves_the_secret(make_app, paths, memory_keyring, settle) -> None:
    app = make_app({"plant": DEMO_CLIENT_SECRET})
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        await select(screen, pilot, "plant")
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ProfileFormScreen)
        assert form.query_one("#secret", Input).value == ""  # the stored secret is never put in the form
        name = form.query_one("#name", Input)
        name.value = "plant-eu"
        form.query_one("#read_only").value = True
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert table_names(screen) == ["plant-eu"]
        assert cell(screen, "plant-eu", "read_only") == "RO"
        data = saved_toml(paths)
        assert list(data["profiles"]) == ["plant-eu"] and data["profiles"]["plant-eu"]["read_only"] is True
        assert ("ihub:plant", "client_secret") not in memory_keyring.store
        assert memory_keyring.store[("ihub:plant-eu", "client_secret")] == DEMO_CLIENT_SECRET


async def test_duplicate_copies_profile_and_secret(make_app, paths, memory_keyring, settle) -> None:
    app = make_app({"plant": DEMO_CLIENT_SECRET})
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        await select(screen, pilot, "plant")
        await pilot.press("d")
        await pilot.pause()
        form = app.screen
        assert form.query_one("#name", Input).value == "plant-copy"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert table_names(screen) == ["plant", "plant-copy"]
        assert set(saved_toml(paths)["profiles"]) == {"plant", "plant-copy"}
        assert memory_keyring.store[("ihub:plant-copy", "client_secret")] == DEMO_CLIENT_SECRET


async def test_delete_asks_and_removes_the_secret(make_app, paths, memory_keyring, settle) -> None:
    app = make_app({"plant": DEMO_CLIENT_SECRET, "spare": DEMO_CLIENT_SECRET})
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        await select(screen, pilot, "spare")
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")  # cancelled: nothing happens
        await settle(app, pilot)
        assert table_names(screen) == ["plant", "spare"]
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert table_names(screen) == ["plant"]
        assert set(saved_toml(paths)["profiles"]) == {"plant"}
        assert ("ihub:spare", "client_secret") not in memory_keyring.store
        assert ("ihub:plant", "client_secret") in memory_keyring.store


async def test_set_default_and_activate(make_app, paths, settle) -> None:
    app = make_app({"plant": DEMO_CLIENT_SECRET, "spare": DEMO_CLIENT_SECRET})
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert app.active_profile is None
        await select(screen, pilot, "spare")
        await pilot.press("m")
        await settle(app, pilot)
        assert saved_toml(paths)["default"] == "spare"
        assert cell(screen, "spare", "default") == "★" and cell(screen, "plant", "default") == ""
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.active_profile is not None and app.active_profile.name == "spare"
        assert app.api is not None
        assert cell(screen, "spare", "name").startswith("● ")


# -- secret stores -----------------------------------------------------------------------------------------


async def test_backend_state_is_shown(make_app, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert screen.backend_text.plain == "Secrets: OS keyring: InMemoryKeyring"


async def test_headless_save_offers_the_vault_and_stores_encrypted(make_app, paths, settle) -> None:
    keyring.set_keyring(fail.Keyring())
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert "No secure keyring on this machine: no D-Bus session" in screen.backend_text.plain
        await pilot.press("n", "tab", *"plant")
        await paste(app, pilot, BINDING_KEYS)
        await pilot.press("ctrl+s")
        await wait_for_screen(app, pilot, SecretStoreDialog)
        reason = str(app.screen.query_one("#store-reason").render())
        assert reason.startswith("No secure keyring on this machine: no D-Bus session")
        await pilot.press("v")
        await wait_for_screen(app, pilot, VaultPassphraseDialog)
        assert app.screen.new
        # Two different passphrases are refused in place.
        await pilot.press(*PASSPHRASE, "enter", *"FAKE-else", "enter")
        await pilot.pause()
        assert isinstance(app.screen, VaultPassphraseDialog)
        assert "differ" in app.screen.error_text
        await pilot.press(*PASSPHRASE, "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, KeysScreen)
        assert cell(screen, "plant", "secret") == "vault"
        assert paths.vault_file.exists()
        assert DEMO_CLIENT_SECRET.encode() not in paths.vault_file.read_bytes()
        assert PASSPHRASE.encode() not in paths.vault_file.read_bytes()
        settings = tomllib.loads(paths.settings_file.read_text())
        assert settings["secrets"]["store"] == "vault"  # remembered for this machine
        roots = [paths.config_dir, paths.data_dir, paths.log_dir]
        assert files_containing(roots, DEMO_CLIENT_SECRET) == []
        # The secret really is in the vault: a fresh store opens it with the passphrase.
        fresh = SecretStore(paths, environ={})
        fresh.unlock_vault(PASSPHRASE)
        secret = fresh.get("plant")
        assert secret is not None and secret.kind is StoreKind.VAULT and secret.value == DEMO_CLIENT_SECRET


async def test_headless_session_choice_keeps_nothing_on_disk(make_app, paths, settle) -> None:
    keyring.set_keyring(fail.Keyring())
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        await pilot.press("n", "tab", *"plant")
        await paste(app, pilot, BINDING_KEYS)
        await pilot.press("ctrl+s")
        await wait_for_screen(app, pilot, SecretStoreDialog)
        await pilot.press("s")
        await settle(app, pilot)
        assert cell(screen, "plant", "secret") == "session"
        assert not paths.vault_file.exists()
        assert files_containing([paths.config_dir, paths.data_dir, paths.log_dir], DEMO_CLIENT_SECRET) == []


async def test_locked_vault_wrong_passphrase_changes_nothing(make_app, paths, settle) -> None:
    keyring.set_keyring(fail.Keyring())
    setup = SecretStore(paths, environ={})
    setup.set_choice(StoreKind.VAULT)
    setup.unlock_vault(PASSPHRASE)
    store = ProfileStore(paths.profiles_file)
    store.add(sim_profile("plant"))
    store.add(sim_profile("spare"))  # two profiles and no default: the app connects none at start
    store.set_default(None)
    setup.set("plant", DEMO_CLIENT_SECRET, StoreKind.VAULT)
    before = paths.vault_file.read_bytes()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        await select(screen, pilot, "plant")
        await pilot.press("r")
        await wait_for_screen(app, pilot, VaultPassphraseDialog)
        dialog = app.screen
        assert isinstance(dialog, VaultPassphraseDialog) and not dialog.new
        await pilot.press(*"FAKE-bad", "enter")
        await wait_until(pilot, lambda: bool(dialog.error_text), "the passphrase error")
        assert app.screen is dialog  # stays open with a clear error
        assert "wrong vault passphrase" in dialog.error_text
        assert paths.vault_file.read_bytes() == before
        await pilot.press(*PASSPHRASE, "enter")
        await settle(app, pilot)
        field = screen.query_one("#secret", SecretField)
        assert field.revealed and DEMO_CLIENT_SECRET in field.shown_text
        assert paths.vault_file.read_bytes() == before


async def test_environment_values_are_marked(make_app, settle) -> None:
    env = {"IHUB_GATEWAY": DEMO_LOCAL_URL, "IHUB_CLIENT_SECRET": DEMO_CLIENT_SECRET, "IHUB_PROFILE": "plant"}
    app = make_app({"plant": None, "spare": None}, environ=env)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert cell(screen, "plant", "gateway").endswith("⚑")
        assert cell(screen, "plant", "secret") == "env"
        assert cell(screen, "plant", "env") == "gw secret"
        # IHUB_GATEWAY overrides whichever profile is used; IHUB_CLIENT_SECRET only IHUB_PROFILE's.
        assert cell(screen, "spare", "gateway").endswith("⚑")
        assert not cell(screen, "spare", "client_id").endswith("⚑")
        assert cell(screen, "spare", "secret") == "none"
        await select(screen, pilot, "plant")
        assert "from IHUB_GATEWAY" in str(screen.query_one("#profile-detail").render())
        assert "IHUB_CLIENT_SECRET" in screen.query_one("#secret", SecretField).shown_text


# -- reveal, copy, connection test, token ------------------------------------------------------------------


async def test_reveal_rehides_and_copy_does_not_echo(make_app, settle, recorder, monkeypatch) -> None:
    monkeypatch.setattr(KeysScreen, "reveal_seconds", 0.2)
    app = make_app({"plant": DEMO_CLIENT_SECRET})
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_keys(app, pilot, settle)
        field = screen.query_one("#secret", SecretField)
        assert MASK in field.shown_text and DEMO_CLIENT_SECRET not in screen_text(app)
        await pilot.press("r")
        await settle(app, pilot)
        assert field.revealed and DEMO_CLIENT_SECRET in field.shown_text
        await pilot.pause(0.5)
        assert not field.revealed
        assert DEMO_CLIENT_SECRET not in field.shown_text and MASK in field.shown_text
        await pilot.press("c")
        await settle(app, pilot)
        assert app.clipboard == DEMO_CLIENT_SECRET
        copied = [n for n in recorder.notifications() if n.title == "Copied"]
        assert copied and all(DEMO_CLIENT_SECRET not in n.message for n in recorder.notifications())
        assert DEMO_CLIENT_SECRET not in screen_text(app)


async def test_connection_test_shows_token_facts_not_the_token(make_app, settle) -> None:
    app = make_app({"plant": DEMO_CLIENT_SECRET})
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        await pilot.press("t")
        await settle(app, pilot)
        report = screen.query_one("#report", ConnectionReport)
        text = "\n".join(report.lines)
        assert report.report is not None and report.report.ok
        assert "Tenant" in text and "demo" in text
        assert DEMO_CLIENT_ID in text
        assert "mdsp:core:assetmanagement.read" in text
        assert "Expires" in text and "in 30:00" in text
        shot = screen_text(app)
        assert "eyJ" not in shot and DEMO_CLIENT_SECRET not in shot
        # "See the token": decoded claims, never the encoded token; y copies it without showing it.
        await pilot.press("k")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, TokenDialog)
        assert dialog.claims["client_id"] == DEMO_CLIENT_ID and dialog.header.get("alg")
        assert "eyJ" not in screen_text(app)
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard.startswith("eyJ")
        assert "eyJ" not in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_connection_test_with_wrong_secret_shows_the_diagnosis(make_app, settle) -> None:
    app = make_app({"plant": "FAKE-wrong-secret"})
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        await pilot.press("t")
        await settle(app, pilot)
        report = screen.query_one("#report", ConnectionReport).report
        assert report is not None and not report.ok
        assert report.cause is not None and "secret" in report.cause.lower()
        token_step = next(s for s in report.steps if s.name == "token endpoint")
        assert token_step.ok is False
        text = "\n".join(screen.query_one("#report", ConnectionReport).lines)
        assert "Connection failed" in text and "✘ failed" in text
        assert "FAKE-wrong-secret" not in screen_text(app)


async def test_no_secret_reaches_files_or_screens(make_app, paths, settle) -> None:
    """A whole session: add through the form, test, use, reveal and copy; the secret stays in the keyring."""
    app = make_app()
    shots: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        await pilot.press("n", "tab", *"plant")
        await paste(app, pilot, BINDING_KEYS)
        shots.append(screen_text(app))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        shots.append(screen_text(app))
        await pilot.press("t")
        await settle(app, pilot)
        shots.append(screen_text(app))
        await pilot.press("a")
        await settle(app, pilot)
        assert app.active_profile is not None and app.active_profile.name == "plant"
        shots.append(screen_text(app))
        await pilot.press("c")
        await settle(app, pilot)
        shots.append(screen_text(app))
        await pilot.press("2")
        await settle(app, pilot)
        shots.append(screen_text(app))
        assert screen.rows["plant"].location is StoreKind.KEYRING
    roots = [paths.config_dir, paths.data_dir, paths.log_dir]
    assert files_containing(roots, DEMO_CLIENT_SECRET) == []
    assert all(DEMO_CLIENT_SECRET not in shot for shot in shots)
