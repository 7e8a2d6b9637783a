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
from textual.binding import Binding
from textual.widgets import DataTable, Input, Select, TextArea

from tui.app import IhubApp
from tui.config.paths import AppPaths
from tui.config.profiles import STYLE_APP, Profile, ProfileStore
from tui.config.secrets import SecretStore, StoreKind
from tui.messages import Phase
from tui.screens.dialogs import ConfirmDialog, VaultPassphraseDialog
from tui.screens.keys import KeysScreen
from tui.screens.profile_form import ProfileFormScreen
from tui.screens.secret_store_dialog import SecretStoreDialog
from tui.services import DEMO_LOCAL_URL, Services
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tui.sim.transport import sim_transport
from tui.widgets.connection_report import ConnectionReport, TokenDialog
from tui.widgets.secret_field import MASK, SecretField
from tui.widgets.status_bar import StatusBar

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


async def test_back_on_keys_the_profiles_are_read_again_only_when_their_file_changed(
    make_app, paths, settle, monkeypatch
) -> None:
    app = make_app({"alpha": DEMO_CLIENT_SECRET}, default="alpha")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert table_names(screen) == ["alpha"]
        builds: list[object] = []
        show = screen.table.show

        def counted_show(*args: object, **kwargs: object) -> None:
            builds.append(args)
            show(*args, **kwargs)

        monkeypatch.setattr(screen.table, "show", counted_show)
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("1")
        await settle(app, pilot)
        assert builds == []  # nothing changed: the table is not built again (issue 6 "Speed")
        await pilot.press("2")
        await settle(app, pilot)
        ProfileStore(paths.profiles_file).add(sim_profile("beta"))  # another ihub, meanwhile
        await pilot.press("1")
        await settle(app, pilot)
        assert table_names(screen) == ["alpha", "beta"]


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


# -- issues 7 and 14: binding-key labels, invisible characters, warnings, focus, bursts, colours -----------

EU1_TOKEN_URL = "https://demo.piam.eu1.mindsphere.io/oauth/token"
# Every label set the seeds and the pop-ups use, in both orders, with ':' and with tabs (issue 14).
LABELLED_PASTES = {
    "pop-up, colons": (
        f"TokenURL: {TOKEN_URL}\nclientID: {DEMO_CLIENT_ID}\nclientSecret: {DEMO_CLIENT_SECRET}"
    ),
    "pop-up, reversed, tabs": (
        f"clientSecret\t{DEMO_CLIENT_SECRET}\nclientID\t{DEMO_CLIENT_ID}\nTokenURL\t{TOKEN_URL}"
    ),
    "e-mail words, tabs": (
        f"Token URL:\t{TOKEN_URL}\nClient ID:\t{DEMO_CLIENT_ID}\nClient Secret:\t{DEMO_CLIENT_SECRET}"
    ),
    "e-mail words, reversed, '='": (
        f"client secret = {DEMO_CLIENT_SECRET}\nCLIENT ID = {DEMO_CLIENT_ID}\ntoken url = {TOKEN_URL}"
    ),
    "App Service keys and the token URL, tabs": (
        f"Access Key:\t{DEMO_CLIENT_ID}\nSecret Key:\t{DEMO_CLIENT_SECRET}\nToken URL:\t{TOKEN_URL}"
    ),
    "App Service keys, reversed, labels on their own lines": (
        f"Token URL\n{TOKEN_URL}\nSecret Key\n{DEMO_CLIENT_SECRET}\nAccess Key\n{DEMO_CLIENT_ID}"
    ),
    "welcome e-mail with prose": (
        "Dear customer,\n\nyour tenant demo is ready. Use these credentials for your application:\n\n"
        f"Token URL: {TOKEN_URL}\nClient ID: {DEMO_CLIENT_ID}\nClient Secret: {DEMO_CLIENT_SECRET}\n\n"
        "Keep the client secret safe. Kind regards,\nthe Insights Hub team"
    ),
    "byte-order mark first": f"\ufeffTokenURL: {TOKEN_URL}\nclientID: {DEMO_CLIENT_ID}\nclientSecret: "
    f"{DEMO_CLIENT_SECRET}",
}


def form_of(app: IhubApp) -> ProfileFormScreen:
    form = app.screen
    assert isinstance(form, ProfileFormScreen)
    return form


def value(form: ProfileFormScreen, key: str) -> str:
    return form.query_one(f"#{key}", Input).value


def hint(form: ProfileFormScreen, key: str) -> str:
    return str(form.query_one(f"#hint-{key}").render())


async def open_form(app: IhubApp, pilot) -> ProfileFormScreen:
    await pilot.press("n")
    await wait_for_screen(app, pilot, ProfileFormScreen)
    await pilot.pause()
    return form_of(app)


async def burst(app: IhubApp, keys: list[str], gap: float) -> None:
    """Send keys as a terminal does, ``gap`` seconds apart, without waiting for the app between them
    (``pilot.press`` waits until the app is idle after each key, which hides ordering faults)."""
    import asyncio

    for key in keys:
        event = events.Key(
            key, {"tab": "\t", "enter": "\r", "space": " "}.get(key, key if len(key) == 1 else None)
        )
        event.set_sender(app)
        assert app._driver is not None
        app._driver.send_message(event)
        if gap:  # gap 0: every key queued at once, as from one read of the terminal
            await asyncio.sleep(gap)


@pytest.mark.parametrize("text", list(LABELLED_PASTES.values()), ids=list(LABELLED_PASTES))
async def test_every_binding_key_label_set_fills_the_form(make_app, settle, text: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        await paste(app, pilot, text)
        assert value(form, "token_url") == TOKEN_URL
        assert value(form, "client_id") == DEMO_CLIENT_ID
        assert value(form, "secret") == DEMO_CLIENT_SECRET
        assert value(form, "gateway") == DEMO_LOCAL_URL
        assert form.query_one("#binding-keys", TextArea).text == ""  # the secret is not left readable
        assert "✔ filled" in hint(form, "binding")
        assert form.derived_token_url is None


async def test_app_service_two_keys_derive_the_token_url_for_the_gateway(make_app, paths, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        # The form says which App Service key is which field.
        assert "Access Key" in hint(form, "client_id") and "Secret Key" in hint(form, "secret")
        # Two keys, no gateway yet: the client id and secret are filled, the token URL waits for a region.
        await paste(app, pilot, f"Access Key: {DEMO_CLIENT_ID}\nSecret Key: {DEMO_CLIENT_SECRET}")
        assert value(form, "client_id") == DEMO_CLIENT_ID and value(form, "secret") == DEMO_CLIENT_SECRET
        assert value(form, "token_url") == ""
        assert "Gateway" in hint(form, "token_url")
        # Focus went to the first field that needs the user: the name was suggested, the gateway is empty.
        assert value(form, "name") == "demo" and app.focused is form.query_one("#gateway")
        assert "still needed" in hint(form, "binding")
        await pilot.press(*"eu1")
        assert value(form, "token_url") == EU1_TOKEN_URL
        assert "still needed" not in hint(form, "binding") and "derived" in hint(form, "binding")
        assert form.derived_token_url == EU1_TOKEN_URL
        assert "derived for region eu1" in hint(form, "token_url")
        assert "welcome e-mail" in hint(form, "token_url")
        # The derived URL follows the gateway's region until the user types a token URL of their own.
        gateway = form.query_one("#gateway", Input)
        gateway.value = "eu2"
        await pilot.pause()
        assert value(form, "token_url") == "https://demo.piam.eu2.mindsphere.io/oauth/token"
        form.query_one("#token_url").focus()
        await pilot.press("end", "backspace", *"n")
        assert form.derived_token_url is None and "derived" not in hint(form, "token_url")
        gateway.value = "eu1"
        await pilot.pause()
        assert value(form, "token_url") == "https://demo.piam.eu2.mindsphere.io/oauth/token"  # the user's now


async def test_binding_keys_pasted_into_any_field_fill_the_form(make_app, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        form.query_one("#secret").focus()
        await paste(app, pilot, LABELLED_PASTES["App Service keys and the token URL, tabs"])
        assert value(form, "client_id") == DEMO_CLIENT_ID and value(form, "secret") == DEMO_CLIENT_SECRET
        assert value(form, "token_url") == TOKEN_URL and form.derived_token_url is None
        assert app.focused is form.query_one("#save")


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        (f"Secret Key: {DEMO_CLIENT_SECRET}", "secret", DEMO_CLIENT_SECRET),
        (f"Access Key\t{DEMO_CLIENT_ID}", "client_id", DEMO_CLIENT_ID),
        (f"\ufeffclientSecret = {DEMO_CLIENT_SECRET}", "secret", DEMO_CLIENT_SECRET),
        (f"Token URL:\t{TOKEN_URL}", "token_url", TOKEN_URL),
    ],
)
async def test_one_labelled_line_pasted_into_any_field_fills_the_field_it_names(
    make_app, settle, line: str, field: str, expected: str
) -> None:
    """Issue 14: a label pasted with its value was taken as part of the value ("the client id contains a
    space"); the value goes to the field the label names, whichever field had the focus."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        form.query_one("#client_id").focus()
        await pilot.pause()
        await paste(app, pilot, line)
        assert value(form, field) == expected
        assert app.focused is form.query_one(f"#{field}")
        if field != "client_id":
            assert value(form, "client_id") == ""
        assert "✔ the pasted line filled" in hint(form, "binding")


async def test_two_keys_pasted_after_the_gateway_are_derived_at_once(make_app, paths, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        form.query_one("#gateway", Input).value = "eu1"
        form.query_one("#binding-keys").focus()
        await paste(app, pilot, f"Secret Key\t{DEMO_CLIENT_SECRET}\nAccess Key\t{DEMO_CLIENT_ID}")
        assert value(form, "token_url") == EU1_TOKEN_URL and form.derived_token_url == EU1_TOKEN_URL
        assert "derived" in hint(form, "binding")
        # Everything needed is there: focus is on Save, and enter saves.
        assert app.focused is form.query_one("#save")
        await pilot.press("enter")
        await settle(app, pilot)
        profile = saved_toml(paths)["profiles"]["demo"]
        assert profile["token_url"] == EU1_TOKEN_URL and profile["client_id"] == DEMO_CLIENT_ID


async def test_suggested_name_never_collides_and_focus_moves_on(make_app, settle) -> None:
    app = make_app({"demo": DEMO_CLIENT_SECRET, "demo-2": DEMO_CLIENT_SECRET})
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        await paste(app, pilot, BINDING_KEYS)
        assert value(form, "name") == "demo-3"
        assert "suggested" in hint(form, "name")
        # Nothing else needs the user: focus left the emptied paste box for Save; typing goes nowhere wrong.
        assert app.focused is form.query_one("#save")
        assert form.query_one("#binding-keys", TextArea).text == ""


async def test_paste_with_a_bad_value_focuses_that_field(make_app, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        await paste(app, pilot, f"Access Key: {DEMO_CLIENT_ID}\nSecret Key: {DEMO_CLIENT_SECRET}")
        form.query_one("#name", Input).value = ""
        form.query_one("#binding-keys").focus()
        await paste(app, pilot, BINDING_KEYS)
        assert app.focused is not form.query_one("#binding-keys")
        assert value(form, "name") == "demo"


async def test_a_duplicate_gets_a_free_name(make_app, settle) -> None:
    app = make_app({"plant": DEMO_CLIENT_SECRET, "plant-copy": DEMO_CLIENT_SECRET})
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        await select(screen, pilot, "plant")
        await pilot.press("d")
        await wait_for_screen(app, pilot, ProfileFormScreen)
        assert value(form_of(app), "name") == "plant-copy-2"


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        (
            "secret",
            "FAKE-secret-0123456789abc\u200b",
            "the client secret contains an invisible character, U+200B, at position 26",
        ),
        ("client_id", "demo-ihub-1.0.0\u200b-sim", "the client id contains an invisible character, U+200B"),
        ("gateway", "eu\u00a01", "the gateway URL contains an invisible character, U+00A0, at position 3"),
        ("token_url", f"{TOKEN_URL}\u2060", "the token URL contains an invisible character, U+2060"),
        ("tenant", "de\u200dmo", "the tenant contains an invisible character, U+200D, at position 3"),
        ("name", "plant\u200b", "the profile name contains an invisible character, U+200B, at position 6"),
        ("secret", "s", "the client secret is too short to be real"),  # and could not be masked in text
    ],
)
async def test_an_invisible_character_in_a_field_is_refused_beside_it(
    make_app, paths, memory_keyring, settle, field: str, text: str, message: str
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        await paste(app, pilot, BINDING_KEYS)
        form.query_one(f"#{field}").focus()
        form.query_one(f"#{field}", Input).value = ""
        await paste(app, pilot, text)  # a one-line paste goes into the field as it is
        if "invisible" in message:  # said at once, beside the field (a length only when saving)
            assert message in hint(form, field)
            assert form.query_one(f"#row-{field}").has_class("-invalid")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and message in hint(form, field)
        assert app.focused is form.query_one(f"#{field}")
        await pilot.press("escape")
        await settle(app, pilot)
    assert not paths.profiles_file.exists() and memory_keyring.store == {}


async def test_an_invisible_character_in_the_paste_is_named_and_nothing_is_filled(make_app, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        await paste(app, pilot, BINDING_KEYS.replace(DEMO_CLIENT_SECRET, DEMO_CLIENT_SECRET + "\u200b"))
        assert "the client secret contains an invisible character, U+200B, at position 26" in hint(
            form, "binding"
        )
        assert form.query_one("#hint-binding").has_class("-error")
        assert value(form, "secret") == "" and value(form, "client_id") == ""


JUNK = "€€€ clientSecret\nfoo\x01bar baz\n\n???"


@pytest.mark.parametrize("where", ["binding-keys", "name", "gateway", "token_url", "client_id", "secret"])
async def test_a_refused_paste_fills_no_field_and_keeps_what_was_typed(make_app, settle, where: str) -> None:
    """Junk lines pasted (bracketed, as a terminal sends them: to the app, which hands them to the focused
    widget) are refused with the reason, and no field takes a part of them; what the user typed stays."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        form.query_one("#name").focus()
        await pilot.press(*"plant")
        form.query_one("#gateway").focus()
        await pilot.press(*"eu1")
        typed = {"name": "plant", "gateway": "eu1", "token_url": "", "client_id": "", "secret": ""}
        form.query_one(f"#{where}").focus()
        await pilot.pause()
        app.post_message(events.Paste(JUNK))
        await settle(app, pilot)
        assert "expected the three binding keys" in hint(form, "binding") and "got 1 value line" in hint(
            form, "binding"
        )
        assert form.query_one("#hint-binding").has_class("-error")
        assert {key: value(form, key) for key in typed} == typed
        area = form.query_one("#binding-keys", TextArea).text
        assert area == (JUNK if where == "binding-keys" else "")  # shown where it was pasted, once
        await pilot.press("tab")  # leaving the paste area reads it again: still nothing filled
        await settle(app, pilot)
        assert {key: value(form, key) for key in typed} == typed


async def test_a_refused_pasted_value_names_the_position_the_user_counts(make_app, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        # "MüllerMü" with decomposed umlauts (copied from a macOS file name), then U+0001: the 9th character.
        app.post_message(
            events.Paste(f"clientID: {DEMO_CLIENT_ID}\nclientSecret\nMu\u0308llerMu\u0308\x01bar")
        )
        await settle(app, pilot)
        assert "the client secret contains a control character, U+0001, at position 9" in hint(
            form, "binding"
        )
        assert value(form, "client_id") == "" and value(form, "secret") == ""


async def test_a_bom_and_spaces_around_a_typed_secret_are_dropped(make_app, memory_keyring, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        await paste(app, pilot, BINDING_KEYS)
        form.query_one("#secret", Input).value = f"\ufeff {DEMO_CLIENT_SECRET} "
        await pilot.pause()
        assert "secret" not in form.errors
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert memory_keyring.store[("ihub:demo", "client_secret")] == DEMO_CLIENT_SECRET


async def test_a_ca_bundle_path_may_contain_spaces(make_app, paths, settle, tmp_path: Path) -> None:
    bundle = tmp_path / "my certs" / "ca bundle.pem"
    bundle.parent.mkdir()
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        await paste(app, pilot, BINDING_KEYS)
        form.query_one("#ca_bundle", Input).value = f"  {bundle}\t"
        await pilot.pause()
        assert "ca_bundle" not in form.errors
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert saved_toml(paths)["profiles"]["demo"]["ca_bundle"] == str(bundle)


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("gateway", "http://10.0.0.5:8080", "plain HTTP"),
        ("token_url", "http://10.0.0.5:8080/oauth/token", "plain HTTP"),
        ("token_url", "ht!tp://::not a url", "not a valid URL"),
    ],
)
async def test_refused_urls_say_why_in_plain_words(
    make_app, paths, settle, field: str, text: str, message: str
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        await paste(app, pilot, BINDING_KEYS)
        form.query_one(f"#{field}", Input).value = text
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        shown = hint(form, field)
        assert message in shown and "Error" not in shown and "://)" not in shown
        await pilot.press("escape")
        await settle(app, pilot)
    assert not paths.profiles_file.exists()


@pytest.mark.parametrize(
    ("gateway", "warning"),
    [("eu9", "'eu9' is not a known Insights Hub region"), ("notaurl", "has no dot")],
)
async def test_gateway_warnings_show_beside_the_field_and_after_saving(
    make_app, paths, settle, recorder, gateway: str, warning: str
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        await paste(app, pilot, f"Access Key: {DEMO_CLIENT_ID}\nSecret Key: {DEMO_CLIENT_SECRET}")
        form.query_one("#gateway", Input).value = gateway
        await pilot.pause()
        assert warning in hint(form, "gateway")
        assert form.query_one("#hint-gateway").has_class("-warning")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, KeysScreen)  # a warning does not stop the save
        warnings = [n for n in recorder.notifications("warning") if n.title == "Check profile demo"]
        assert warnings and warning in warnings[0].message
    assert "demo" in saved_toml(paths)["profiles"]


@pytest.mark.parametrize("gap", [0.0, 0.02])
async def test_a_burst_of_keys_lands_in_the_fields_it_was_typed_for(make_app, settle, gap: float) -> None:
    """n, m, Tab, g, w typed 20 ms apart (or faster than the app handles them): nothing lost or misplaced."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        await pilot.press("tab")
        assert app.focused is form.query_one("#name")
        await burst(
            app,
            [
                "n",
                "m",
                "tab",
                "g",
                "w",
                "enter",
                "x",
                "shift+tab",
                "shift+tab",
                "end",
                "y",
                "z",
                "backspace",
                "q",
            ],
            gap,
        )
        await settle(app, pilot)
        assert value(form, "name") == "nmyq"
        assert value(form, "gateway") == "gw"
        assert value(form, "token_url") == "x"


def as_keys(text: str) -> list[str]:
    """``text`` as the keys a terminal without bracketed paste (or ``tmux send-keys``) sends."""
    return [{"\t": "tab", "\n": "enter", " ": "space"}.get(ch, ch) for ch in text]


@pytest.mark.parametrize(
    "text",
    [
        # issue 14: the App Service keys with a tab after each label, then the e-mail's Token URL line
        f"Access Key:\t{DEMO_CLIENT_ID}\nSecret Key:\t{DEMO_CLIENT_SECRET}\nToken URL:\t{TOKEN_URL}\n",
        # the e-mail's order, labels without a colon
        f"Token URL\t{TOKEN_URL}\nClient ID\t{DEMO_CLIENT_ID}\nClient Secret\t{DEMO_CLIENT_SECRET}\n",
    ],
    ids=["app-service-then-token-url", "e-mail-order"],
)
async def test_binding_keys_arriving_as_keys_stay_in_the_paste_area(make_app, settle, text: str) -> None:
    """Typed, or pasted by a terminal without bracketed paste: the tab after a label is its separator, and
    two keys are not read before the Token URL line that follows them."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        assert app.focused is form.query_one("#binding-keys")
        await burst(app, as_keys(text), 0.0)
        await settle(app, pilot)
        assert value(form, "token_url") == TOKEN_URL and form.derived_token_url is None
        assert value(form, "client_id") == DEMO_CLIENT_ID and value(form, "secret") == DEMO_CLIENT_SECRET
        assert value(form, "gateway") == DEMO_LOCAL_URL and value(form, "name") == "demo"
        assert form.query_one("#binding-keys", TextArea).text == ""
        assert app.focused is form.query_one("#save")


async def test_two_typed_keys_are_read_when_typing_pauses(make_app, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        await burst(app, as_keys(f"Access Key:\t{DEMO_CLIENT_ID}\nSecret Key:\t{DEMO_CLIENT_SECRET}\n"), 0.0)
        await pilot.pause(0.1)
        assert value(form, "client_id") == ""  # a Token URL line may still follow
        assert "waiting" in hint(form, "binding")
        await wait_until(pilot, lambda: value(form, "client_id") == DEMO_CLIENT_ID, "the keys read")
        assert value(form, "secret") == DEMO_CLIENT_SECRET
        assert form.query_one("#binding-keys", TextArea).text == ""
        assert app.focused is form.query_one("#gateway")  # the first field that needs the user
        # Tab after a complete line (or in an empty area) still moves on.
        form.query_one("#binding-keys").focus()
        await pilot.press("tab")
        assert app.focused is form.query_one("#name")


async def test_enter_still_works_on_buttons_and_in_the_paste_area(make_app, settle) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        area = form.query_one("#binding-keys", TextArea)
        await pilot.press(*"TokenURL: x", "enter")
        assert area.text.startswith("TokenURL: x\n")  # a new line in the paste area
        form.query_one("#cancel").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, KeysScreen)


async def test_deleting_the_active_profile_returns_to_the_default(make_app, settle) -> None:
    app = make_app({"plant": DEMO_CLIENT_SECRET, "spare": DEMO_CLIENT_SECRET}, default="plant")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert app.connection.profile == "plant"
        await select(screen, pilot, "spare")
        await pilot.press("a")
        await settle(app, pilot)
        assert app.connection.profile == "spare" and app.connection.connected
        await pilot.press("delete")
        await wait_for_screen(app, pilot, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.active_profile is not None and app.active_profile.name == "plant"
        assert app.connection.profile == "plant" and app.connection.connected
        header = screen.query_one(StatusBar).connection_text
        assert header.startswith("plant") and "spare" not in header


async def test_deleting_the_only_profile_leaves_no_profile(make_app, settle) -> None:
    app = make_app({"plant": DEMO_CLIENT_SECRET}, default="plant")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert app.connection.connected
        await pilot.press("delete")
        await wait_for_screen(app, pilot, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.active_profile is None and app.api is None
        assert app.connection.phase is Phase.NONE
        assert screen.query_one(StatusBar).connection_text == "no profile · not connected"
        assert "plant" not in str(screen.query_one(StatusBar).render())


async def test_deleting_a_failed_active_profile_clears_its_error(make_app, settle) -> None:
    app = make_app({"plant": None, "spare": DEMO_CLIENT_SECRET}, default="plant")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert app.connection.phase is Phase.ERROR and app.connection.profile == "plant"
        await select(screen, pilot, "plant")
        await pilot.press("delete")
        await wait_for_screen(app, pilot, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        # The default is gone and one profile is left: it is the one to use (the same rule as at start).
        assert app.connection.profile == "spare" and app.connection.error is None


async def test_the_demo_offers_only_the_session_store(demo_services, settle, recorder) -> None:
    app = IhubApp(demo_services, profile="demo")
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await open_keys(app, pilot, settle)
        await pilot.press("b")
        await settle(app, pilot)
        assert not isinstance(app.screen, SecretStoreDialog)  # nothing to choose
        said = [n.message for n in recorder.notifications() if n.title == "Secret store"]
        assert said and "for this session only" in said[-1] and "vault" not in said[-1]


async def test_the_store_dialog_offers_only_the_given_choices(make_app, settle) -> None:
    from tui.config.secrets import KeyringStatus

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        chosen: list[StoreKind | None] = []
        status = KeyringStatus(False, "fail", "no D-Bus session")
        app.push_screen(SecretStoreDialog(status, kinds=(StoreKind.SESSION,)), chosen.append)
        await pilot.pause()
        dialog = app.screen
        assert [b.id for b in dialog.query(".store-choice")] == ["session"]
        assert "vault" not in screen_text(app).lower()
        await pilot.press("v")  # not offered: nothing happens
        await pilot.pause()
        assert app.screen is dialog and chosen == []
        await pilot.press("s")
        await pilot.pause()
        assert chosen == [StoreKind.SESSION]


async def test_a_choice_is_confirmed_by_what_will_really_happen(make_app, paths, settle, recorder) -> None:
    keyring.set_keyring(fail.Keyring())
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await open_keys(app, pilot, settle)
        await pilot.press("b")
        await wait_for_screen(app, pilot, SecretStoreDialog)
        assert {b.id for b in app.screen.query(".store-choice")} == {"vault", "session", "env"}
        await pilot.press("e")
        await settle(app, pilot)
        said = [n.message for n in recorder.notifications() if n.title == "Secret store"]
        assert said == ["New client secrets are not stored: ihub reads them from IHUB_CLIENT_SECRET."]


async def test_vault_errors_are_plain_words(make_app, paths, settle) -> None:
    keyring.set_keyring(fail.Keyring())
    setup = SecretStore(paths, environ={})
    setup.set_choice(StoreKind.VAULT)
    setup.unlock_vault(PASSPHRASE)
    store = ProfileStore(paths.profiles_file)
    store.add(sim_profile("plant"))
    store.add(sim_profile("spare"))
    store.set_default(None)
    setup.set("plant", DEMO_CLIENT_SECRET, StoreKind.VAULT)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        await select(screen, pilot, "plant")
        await pilot.press("r")
        await wait_for_screen(app, pilot, VaultPassphraseDialog)
        dialog = app.screen
        await pilot.press(*"FAKE-bad", "enter")
        await wait_until(pilot, lambda: bool(dialog.error_text), "the passphrase error")
        assert dialog.error_text.startswith("wrong vault passphrase")
        assert "Error" not in dialog.error_text and "Error" not in screen_text(app)


async def test_a_skewed_clock_is_told_once(sim, clock, paths, settle, recorder) -> None:
    store = ProfileStore(paths.profiles_file)
    store.add(sim_profile("plant"))
    store.add(sim_profile("spare"))
    store.set_default("plant")
    secrets = SecretStore(paths, environ={})
    secrets.set("plant", DEMO_CLIENT_SECRET)
    secrets.set("spare", DEMO_CLIENT_SECRET)
    services = Services(
        paths=paths,
        profiles=store,
        secrets=secrets,
        environ={},
        transport_factory=lambda: sim_transport(sim),
        clock=lambda: clock() + 1800,  # this laptop's clock is 30 minutes fast
    )
    app = IhubApp(services)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert app.connection.connected
        await select(screen, pilot, "spare")
        await pilot.press("a")
        await settle(app, pilot)
        await select(screen, pilot, "plant")
        await pilot.press("a")
        await settle(app, pilot)
        told = [n for n in recorder.notifications("warning") if n.title == "Clock skew"]
        assert len(told) == 1
        assert told[0].message.startswith("the local clock is 30 min ahead of the server's")
        assert app.api is not None and app.api.tokens.requests == 1


async def test_a_skew_seen_before_the_app_started_is_told_when_it_starts(demo_services, recorder) -> None:
    demo_services._clock_skew_seen(-1800.0)  # e.g. a token fetched before the UI was up
    app = IhubApp(demo_services, profile="demo")
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await pilot.pause()
        told = [n for n in recorder.notifications("warning") if n.title == "Clock skew"]
        assert len(told) == 1 and "30 min ahead of" in told[0].message
        assert demo_services.pop_clock_skew_notice() is None


async def test_with_16_colours_keys_are_not_red_and_fields_have_a_box(make_app, settle, monkeypatch) -> None:
    from rich.color import ColorSystem

    from tui.widgets.key_bar import KeyBar

    def standard(color) -> int | None:
        return color.rich_color.downgrade(ColorSystem.STANDARD).number

    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("COLORTERM")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert app.console.color_system == "standard"
        bar = screen.query_one(KeyBar)
        key_colour = bar.get_component_rich_style("keybar--key").color
        assert key_colour is not None
        red = {1, 9}
        assert key_colour.downgrade(ColorSystem.STANDARD).number not in red
        assert standard(bar.styles.background) != key_colour.downgrade(ColorSystem.STANDARD).number
        # ANSI colours in styles (the DEMO badge's yellow, "connecting…", the ★ of the default profile, an
        # error's red) keep their hue: Textual's palette turned yellow into bright red and red into magenta.
        from rich.color import Color

        for number, name in enumerate(["red", "green", "yellow", "blue", "magenta", "cyan"], start=1):
            rgb = app.ansi_theme.ansi_colors[number]
            assert Color.from_rgb(*rgb).downgrade(ColorSystem.STANDARD).number in (number, number + 8), name
        form = await open_form(app, pilot)
        surface = standard(form.query_one("#form-box").styles.background)
        for key in ("name", "gateway", "token_url", "client_id", "secret", "ca_bundle"):
            field = form.query_one(f"#{key}", Input)
            assert standard(field.styles.background) != surface, key
        area = form.query_one("#binding-keys", TextArea)
        assert standard(area.styles.background) != surface


async def test_with_true_colour_the_theme_is_untouched(make_app, settle) -> None:
    from textual.app import App

    from tui.widgets.colours import SIXTEEN_COLOURS
    from tui.widgets.key_bar import KeyBar

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_keys(app, pilot, settle)
        assert not screen.query_one(KeyBar).has_class("-few-colours")
        assert app.ansi_theme is not SIXTEEN_COLOURS and app.ansi_theme is App().ansi_theme
        form = await open_form(app, pilot)
        assert not form.has_class("-few-colours")


async def test_at_80_columns_hints_go_under_their_fields_and_save_stays_visible(make_app, settle) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        assert form.has_class("-narrow")
        await paste(app, pilot, f"Access Key: {DEMO_CLIENT_ID}\nSecret Key: {DEMO_CLIENT_SECRET}")
        hint_region = form.query_one("#hint-client_id").region
        field_region = form.query_one("#client_id").region
        assert hint_region.y > field_region.y and hint_region.width > 40
        for button in ("#save", "#cancel"):
            region = form.query_one(button).region
            assert region.height and region.bottom <= 24


# -- the README's Keys instructions are the app's and the CLI's (issue 7 §7, issue 14) ---------------------


def test_readme_tells_the_real_keys_and_options() -> None:
    import re
    import shlex

    from tui.areas import AREA_BY_MODE
    from tui.cli import build_parser

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Pointing ihub at a real tenant", 1)[1].split("\n## ", 1)[0]
    # "press `1` (Keys), then `n` (Add)": both keys do that in the app.
    found = re.search(r"press `(\w)` \(Keys\), then `(\w)` \(Add\)", section)
    assert found, "the README no longer says which keys add a profile"
    assert AREA_BY_MODE["keys"].key == found.group(1)
    bound = {key: b.action for b in KeysScreen.BINDINGS if isinstance(b, Binding) for key in b.key.split(",")}
    assert bound[found.group(2)] == "add"
    # Every ihub keys command shown parses with the real parser.
    block = section.split("```sh", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    commands = [line.split("#")[0] for line in block.splitlines() if line.strip().startswith("ihub keys")]
    assert len(commands) >= 4
    parser = build_parser(["keys"])
    for command in commands:
        words = shlex.split(command)[1:]
        parser.parse_args(words[: words.index("<")] if "<" in words else words)
    for words in (
        "--secret-stdin",
        "--binding-keys-stdin",
        "TokenURL",
        "clientID",
        "clientSecret",
        "Access Key",
        "Secret Key",
        "welcome e-mail",
        "loopback",
    ):
        assert words in section, words


@pytest.mark.parametrize("where", ["binding-keys", "token_url", "secret"])
async def test_ctrl_v_pastes_like_the_terminal_does(make_app, settle, where: str) -> None:
    """ctrl+v pastes the app's own clipboard (text copied in the app with ctrl+c): it goes the way of a
    terminal's paste, so junk lines are refused and fill no field (Input's own ctrl+v put all the lines
    into the focused field), and binding keys fill the form."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_keys(app, pilot, settle)
        form = await open_form(app, pilot)
        form.query_one(f"#{where}").focus()
        await pilot.pause()
        app.copy_to_clipboard(JUNK)
        await pilot.press("ctrl+v")
        await settle(app, pilot)
        assert "expected the three binding keys" in hint(form, "binding")
        assert form.query_one("#hint-binding").has_class("-error")
        for key in ("name", "gateway", "token_url", "client_id", "secret"):
            assert value(form, key) == "", key
        form.query_one("#binding-keys", TextArea).text = ""
        form.query_one(f"#{where}").focus()
        app.copy_to_clipboard(BINDING_KEYS)
        await pilot.press("ctrl+v")
        await settle(app, pilot)
        assert value(form, "client_id") == DEMO_CLIENT_ID and value(form, "secret") == DEMO_CLIENT_SECRET
        assert form.query_one("#binding-keys", TextArea).text == ""
