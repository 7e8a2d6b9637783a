"""The Certificates area (key 4) against the in-process simulator (issue 10 §3, §5, §8): the full
registration by keys, the no-key path with the registration code and the hand-over of verification.pem,
resuming with v, the third CA, a wrong key, delete with typed confirmation and If-Match, agent and device
certificates with their files and connection facts, expiry warnings, read-only refusal, and API errors
that leave the screen up. Private keys never show on screen."""

from __future__ import annotations

import datetime as dt
import html
import stat
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from textual.widgets import Input, TabbedContent

from tests.ui.conftest import sim_profile
from tui.app import IhubApp
from tui.config.paths import AppPaths
from tui.config.profiles import ProfileStore
from tui.devtools.screenshots import FROZEN_TIME
from tui.flows.certificates import Step, StepEvent, StepState, register_new_ca
from tui.pki import create_ca, load_certificate, load_private_key, make_verification_certificate
from tui.screens.certificate_dialogs import (
    AgentDialog,
    DeviceDialog,
    ExportKeyDialog,
    RegisterCaDialog,
    SavePemDialog,
    VerifyCaDialog,
)
from tui.screens.certificates import CertificatesScreen
from tui.screens.dialogs import ConfirmDialog
from tui.services import Services, SessionSecretStore
from tui.sim.config import DEMO_READONLY_CLIENT_ID, DEMO_READONLY_CLIENT_SECRET, SimConfig
from tui.sim.transport import sim_transport
from tui.widgets.certificates import RegisterFlow
from tui.widgets.key_bar import KeyBar
from tui.widgets.path_input import PathInput, complete_path

SIZE = (120, 36)
NOW = dt.datetime.fromtimestamp(FROZEN_TIME, dt.UTC)


# -- helpers ------------------------------------------------------------------------------------------


async def wait_until(pilot, condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"never happened: {what}")


async def open_certs(app: IhubApp, pilot, settle) -> CertificatesScreen:
    await settle(app, pilot)
    await pilot.press("4")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, CertificatesScreen)
    await wait_until(pilot, lambda: screen.loaded or screen.load_error is not None, "the lists loaded")
    return screen


async def dialog(app: IhubApp, pilot, kind: type):
    await wait_until(pilot, lambda: isinstance(app.screen, kind), kind.__name__)
    await pilot.pause()
    return app.screen


async def type_text(pilot, text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


def screen_text(app: IhubApp) -> str:
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def files_in(folder: Path) -> list[Path]:
    return list(folder.iterdir())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sim_cas(sim) -> dict:
    return sim.state.tenant.ca_certificates


def write_ca(folder: Path, cn: str = "File CA") -> tuple[Path, Path]:
    material = create_ca(cn, "ec256", now=NOW)
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "ca.pem", folder / "ca.key"
    cert.write_text(material.certificate_pem)
    key.write_bytes(
        material.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert, key


async def register_by_api(app: IhubApp, cn: str, days: int = 365) -> str:
    """Register a verified CA through the app's own client (as another admin would), key kept here."""
    assert app.api is not None
    result = await register_new_ca(
        app.api, cn, key_store=app.services.ca_key_store("demo"), key_type="ec256", days=days, now=NOW
    )
    assert result.ok, result.message
    return result.ca.id


async def reload(screen: CertificatesScreen, app: IhubApp, pilot, settle) -> None:
    screen.reload()
    await settle(app, pilot)


def ca_key(screen: CertificatesScreen, ca_id: str) -> str:
    return f"ca:{ca_id}"


async def select(screen: CertificatesScreen, pilot, key: str) -> None:
    table = screen.ca_table if key.startswith("ca:") else screen.agent_table
    table.focus()
    await pilot.pause()
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()
    assert screen.selected == key


# -- the full flow ------------------------------------------------------------------------------------


async def test_register_a_new_ca_by_keys_end_to_end(demo_app: IhubApp, sim, settle, monkeypatch) -> None:
    seen: list[tuple[Step, StepState]] = []
    original = RegisterFlow.update

    def record(self: RegisterFlow, event: StepEvent) -> None:
        seen.append((event.step, event.state))
        # Each step is on screen as it happens: the pane shows it before the next one starts.
        original(self, event)
        assert event.title in self.text

    monkeypatch.setattr(RegisterFlow, "update", record)
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        assert "no CA certificate yet" in screen.status_line
        for key in ("end", "up", "tab", "end", "up", "pagedown", "home", "tab", "tab"):  # empty lists
            await pilot.press(key)
            await pilot.pause()
        assert demo_app.screen is screen and screen.selected is None and demo_app.is_running
        screen.ca_table.focus()
        assert screen.ca_table.border_title == "CA certificates · 0 of 2 used"
        await pilot.press("r")
        form = await dialog(demo_app, pilot, RegisterCaDialog)
        await type_text(pilot, "Plant 7 CA")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.flow.result is not None, "the registration ended")
        await settle(demo_app, pilot)
        assert not form.is_attached

        text = screen.flow.text
        assert "✓ Verified" in text and "Done: devices with certificates from this CA can connect" in text
        for title in (
            "Create the CA key",
            "Check the platform rules",
            "Keep the CA key on this machine",
            "Upload the CA certificate",
            "Get the registration code",
            "Verify (proof of possession)",
        ):
            assert f"✓ {title}" in text, title
        order = [
            Step.CREATE,
            Step.READ,
            Step.LINT,
            Step.SAVE_KEY,
            Step.UPLOAD,
            Step.REGISTRATION_CODE,
            Step.VERIFICATION_CERT,
            Step.VERIFY,
        ]
        assert seen == [pair for step in order for pair in ((step, StepState.RUNNING), (step, StepState.OK))]

        (resource,) = sim_cas(sim).values()
        assert resource["status"] == "VERIFIED" and resource["name"] == "Plant 7 CA"
        # The key is kept encrypted in the demo's throw-away data folder, 0600 in 0700.
        folder = demo_app.services.paths.pki_dir / "demo"
        (key_file,) = folder.glob("*.key")
        assert mode(key_file) == 0o600 and mode(folder) == 0o700
        assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
        assert str(AppPaths.default().data_dir) not in str(folder)  # not the real data folder

        # The list: status, expiry, key here, "1 of 2 used"; escape shows the details.
        assert screen.ca_table.border_title == "CA certificates · 1 of 2 used"
        row = screen.ca_table.get_row(f"ca:{resource['id']}")
        assert [getattr(c, "plain", c) for c in row][1:2] == ["✓ verified"] and row[-1].plain == "here"
        await pilot.press("escape")
        await pilot.pause()
        details = screen.details.text
        for text in (
            "Plant 7 CA",
            "✓ verified",
            "1 of 2 used",
            "on this machine, encrypted",
            "basicConstraints (critical): CA: yes, path length 0",
            "-----BEGIN CERTIFICATE-----",
        ):
            assert text in details, text
        assert "PRIVATE KEY" not in screen_text(demo_app)


async def test_register_from_files_without_the_key_then_hand_over_verification_pem(
    demo_app: IhubApp, sim, settle, tmp_path: Path
) -> None:
    cert_file, key_file = write_ca(tmp_path)
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        await pilot.press("r")
        form = await dialog(demo_app, pilot, RegisterCaDialog)
        form.query_one(TabbedContent).active = "from-files"
        await pilot.pause()
        form.query_one("#file-cert", PathInput).value = str(cert_file)
        form.query_one("#file-key", PathInput).value = ""
        await pilot.press("ctrl+s")
        verify = await dialog(demo_app, pilot, VerifyCaDialog)
        await settle(demo_app, pilot)

        ((ca_id, resource),) = sim_cas(sim).items()
        code = resource["_registrationCode"]
        assert resource["status"] == "NOT_VERIFIED"
        text = screen.flow.text
        assert "– Keep the CA key on this machine" in text and "Uploaded, waiting" in text
        assert code in text and f"-subj /CN={code}" in text and "openssl x509 -req" in text
        assert verify.code == code and str(cert_file) in "\n".join(verify.recipe)
        await pilot.click("#copy-recipe")
        assert demo_app.clipboard.startswith("openssl req")

        # The commands run where the key is; the resulting PEM is handed over.
        verification = make_verification_certificate(
            code, load_certificate(cert_file.read_bytes()), load_private_key(key_file.read_bytes()), now=NOW
        )
        (tmp_path / "verification.pem").write_bytes(verification.public_bytes(serialization.Encoding.PEM))
        verify.query_one("#verify-file", PathInput).value = str(tmp_path / "verification.pem")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: sim_cas(sim)[ca_id]["status"] == "VERIFIED", "verified")
        await settle(demo_app, pilot)
        assert "✓ Verified" in screen.flow.text
        assert "verified" in screen.ca_table.get_row(f"ca:{ca_id}")[1].plain


async def test_an_unfinished_registration_is_resumed_with_v(
    demo_app: IhubApp, sim, settle, tmp_path: Path
) -> None:
    cert_file, key_file = write_ca(tmp_path)
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        await pilot.press("r")
        form = await dialog(demo_app, pilot, RegisterCaDialog)
        form.query_one(TabbedContent).active = "from-files"
        await pilot.pause()
        form.query_one("#file-cert", PathInput).value = str(cert_file)
        await pilot.press("ctrl+s")
        await dialog(demo_app, pilot, VerifyCaDialog)
        await pilot.press("escape")  # later...
        await settle(demo_app, pilot)
        (ca_id,) = sim_cas(sim)
        key = f"ca:{ca_id}"
        assert screen.ca_table.get_row(key)[1].plain == "! not verified"
        assert "v verifies it" in screen.details.text or screen.selected == key

        await select(screen, pilot, key)
        await pilot.press("v")
        verify = await dialog(demo_app, pilot, VerifyCaDialog)
        # The CA key after all, as a file: checked, kept, used.
        verify.query_one("#verify-key", PathInput).value = str(key_file)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: sim_cas(sim)[ca_id]["status"] == "VERIFIED", "verified")
        await settle(demo_app, pilot)
        assert "✓ Verified" in screen.flow.text
        assert screen.ca_table.get_row(key)[-1].plain == "here"
        # Verifying again just says so.
        await pilot.press("v")
        await pilot.pause()
        assert not isinstance(demo_app.screen, VerifyCaDialog)


# -- refusals -----------------------------------------------------------------------------------------


async def test_the_third_ca_is_refused_from_the_list_and_when_the_service_says_so(
    demo_app: IhubApp, sim, settle, recorder, monkeypatch
) -> None:
    async with demo_app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        await register_by_api(demo_app, "CA one")
        await register_by_api(demo_app, "CA two")
        await reload(screen, demo_app, pilot, settle)
        assert screen.ca_table.border_title == "CA certificates · 2 of 2 used"
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(demo_app.screen, RegisterCaDialog)
        (warning,) = [n for n in recorder.notifications("warning") if "Register a CA" in n.title]
        assert "At most 2 CA certificates" in warning.message and "2 of 2 used" in warning.message

        # The list was read as empty (another admin, a stale view): the service refuses the upload.
        assert demo_app.api is not None
        monkeypatch.setattr(type(demo_app.api.mqtt), "list_ca", _empty_list)
        await reload(screen, demo_app, pilot, settle)
        await pilot.press("r")
        await dialog(demo_app, pilot, RegisterCaDialog)
        await type_text(pilot, "CA three")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.flow.result is not None, "the registration ended")
        text = screen.flow.text
        assert "✗ Upload the CA certificate" in text and "at most 2 CA certificates" in text
        assert "✗ Refused" in text and len(sim_cas(sim)) == 2
        assert isinstance(demo_app.screen, CertificatesScreen)


async def _empty_list(self) -> list:
    return []


async def test_a_wrong_key_is_refused_in_the_form_and_nothing_is_uploaded(
    demo_app: IhubApp, sim, settle, tmp_path: Path
) -> None:
    cert_file, _key = write_ca(tmp_path / "a", "CA A")
    _cert, other_key = write_ca(tmp_path / "b", "CA B")
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_certs(demo_app, pilot, settle)
        await pilot.press("r")
        form = await dialog(demo_app, pilot, RegisterCaDialog)
        form.query_one(TabbedContent).active = "from-files"
        await pilot.pause()
        form.query_one("#file-cert", PathInput).value = str(cert_file)
        form.query_one("#file-key", PathInput).value = str(other_key)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(form.error_text), "the form shows the error")
        assert "does not belong to this CA certificate" in form.error_text
        assert demo_app.screen is form and not sim_cas(sim)
        # A missing file and an empty common name: said in the form too.
        form.query_one("#file-cert", PathInput).value = str(tmp_path / "missing.pem")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "is not a file" in form.error_text, "missing file")
        form.query_one(TabbedContent).active = "new-ca"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "common name (CN) is required" in form.error_text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(demo_app.screen, CertificatesScreen) and not sim_cas(sim)


async def test_a_read_only_profile_hides_and_refuses_every_change(sim, clock, settle, recorder) -> None:
    store = ProfileStore(None)
    store.add(sim_profile("viewer").replace(read_only=True))
    store.set_default("viewer")
    secrets = SessionSecretStore()
    secrets.set("viewer", "FAKE-demo-secret-not-real")
    services = Services(
        paths=AppPaths.default(),
        profiles=store,
        secrets=secrets,
        environ={},
        transport_factory=lambda: sim_transport(sim),
        clock=clock,
    )
    app = IhubApp(services)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_certs(app, pilot, settle)
        assert "Read-only: profile viewer is read-only." in screen.status_line
        bar = screen.query_one(KeyBar).plain
        for hidden in ("Register CA", "Verify", "New agent", "Delete"):
            assert hidden not in bar, bar
        assert "Copy PEM" in bar and "Save PEM" in bar
        for key in ("r", "a", "v", "x"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen  # no form opened
        # Run anyway (a stale palette, a script): refused in plain words.
        screen.action_register()
        await pilot.pause()
        (refusal,) = [n for n in recorder.notifications("warning") if n.title == "Read-only"]
        assert "Cannot register a CA certificate: profile viewer is read-only" in refusal.message
        titles = [c.title for c in app.palette_commands()]
        assert "Certificates: register a CA" not in titles and "Certificates: reload" in titles
        assert not sim_cas(sim)


async def test_api_errors_keep_the_screen_up(clock, settle, recorder) -> None:
    from tui.sim.app import create_app

    broken = create_app(SimConfig(clock=clock, fault_rate=1.0, faults=("500",)))
    services = Services.for_demo(transport_factory=lambda: sim_transport(broken), clock=clock)
    app = IhubApp(services, profile="demo")
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_certs(app, pilot, settle)
        assert "could not be loaded" in screen.status_line
        assert any("Certificates not loaded" in n.title for n in recorder.notifications("error"))
        await pilot.press("r")
        await dialog(app, pilot, RegisterCaDialog)
        await type_text(pilot, "Broken CA")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.flow.result is not None, "the registration ended")
        assert "✗ Check the platform rules" in screen.flow.text and "cannot be listed" in screen.flow.text
        await pilot.press("a")
        form = await dialog(app, pilot, AgentDialog)
        form.query_one("#agent-name", Input).value = "pump"
        form.query_one("#agent-folder", PathInput).value = str(services.paths.data_dir / "agents")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert any("No agent certificate" in n.title for n in recorder.notifications("error"))
        assert app.screen is screen and app.is_running


async def test_a_403_from_the_service_is_a_clean_error(sim, clock, settle, recorder, tmp_path: Path) -> None:
    store = ProfileStore(None)
    store.add(sim_profile("ro-client", client_id=DEMO_READONLY_CLIENT_ID))
    store.set_default("ro-client")
    secrets = SessionSecretStore()
    secrets.set("ro-client", DEMO_READONLY_CLIENT_SECRET)
    services = Services(
        paths=AppPaths.default(),
        profiles=store,
        secrets=secrets,
        environ={},
        transport_factory=lambda: sim_transport(sim),
        clock=clock,
    )
    app = IhubApp(services)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_certs(app, pilot, settle)
        await pilot.press("a")
        form = await dialog(app, pilot, AgentDialog)
        form.query_one("#agent-name", Input).value = "pump"
        form.query_one("#agent-folder", PathInput).value = str(tmp_path)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        (error,) = [n for n in recorder.notifications("error") if n.title == "No agent certificate"]
        assert "403" in error.message or "permission" in error.message.lower()
        assert app.screen is screen and not files_in(tmp_path)


# -- delete -------------------------------------------------------------------------------------------


async def test_delete_a_ca_with_typed_confirmation_and_if_match(
    demo_app: IhubApp, sim, settle, recorder
) -> None:
    async with demo_app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        ca_id = await register_by_api(demo_app, "Old CA")
        await reload(screen, demo_app, pilot, settle)
        await select(screen, pilot, f"ca:{ca_id}")
        await pilot.press("x")
        form = await dialog(demo_app, pilot, ConfirmDialog)
        assert "can no longer connect" in form.message and form.typed == "Old CA"
        await type_text(pilot, "Old")
        await pilot.press("enter")
        await pilot.pause()
        assert "Type Old CA exactly" in form.error_text and ca_id in sim_cas(sim)
        assert form.query_one("#confirm").disabled
        # Someone changed it meanwhile: the stale etag is refused (412) and the list is read again.
        sim_cas(sim)[ca_id]["etag"] += 1
        await type_text(pilot, " CA")
        await pilot.press("enter")
        await settle(demo_app, pilot)
        assert ca_id in sim_cas(sim)
        assert any("changed since the list was read" in n.message for n in recorder.notifications("error"))
        await select(screen, pilot, f"ca:{ca_id}")
        await pilot.press("x")
        await dialog(demo_app, pilot, ConfirmDialog)
        await type_text(pilot, "Old CA")
        await pilot.press("enter")
        await settle(demo_app, pilot)
        assert ca_id not in sim_cas(sim) and screen.ca_table.row_count == 0


async def test_invisible_characters_in_certificate_forms_are_named(
    demo_app: IhubApp, sim, settle, tmp_path: Path
) -> None:
    """Issue 7 section 5 in the certificate forms and the typed confirmation: a pasted name carrying a
    zero-width space is refused by name, not registered under a name that merely looks right."""
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        await pilot.press("r")
        form = await dialog(demo_app, pilot, RegisterCaDialog)
        form.query_one("#ca-cn", Input).value = "Plant\u200b CA"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert demo_app.screen is form
        assert form.error_text == "the common name contains an invisible character, U+200B, at position 6"
        assert demo_app.focused is form.query_one("#ca-cn")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("a")
        form = await dialog(demo_app, pilot, AgentDialog)
        form.query_one("#agent-name", Input).value = "\ufeffpress-4 "  # a BOM and a space: dropped
        form.query_one("#agent-owner", Input).value = "ops\u00a0team"
        form.query_one("#agent-folder", PathInput).value = str(tmp_path)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert form.error_text == "the owner contains an invisible character, U+00A0, at position 4"
        form.query_one("#agent-owner", Input).value = "ops team"
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        assert (tmp_path / "press-4.pem").exists()
        ca_id = await register_by_api(demo_app, "Old CA")
        await reload(screen, demo_app, pilot, settle)
        await select(screen, pilot, f"ca:{ca_id}")
        await pilot.press("x")
        confirm = await dialog(demo_app, pilot, ConfirmDialog)
        confirm.query_one("#typed", Input).value = "Old\u200b CA"
        await pilot.press("enter")
        await pilot.pause()
        assert confirm.error_text == (
            "The name you typed contains an invisible character, U+200B, at position 4: nothing was done."
        )
        confirm.query_one("#typed", Input).value = "\ufeffOld CA"
        await pilot.press("enter")
        await settle(demo_app, pilot)
        assert ca_id not in sim_cas(sim)


# -- agent and device certificates --------------------------------------------------------------------


async def test_agent_certificate_files_facts_and_delete(
    demo_app: IhubApp, sim, settle, tmp_path: Path
) -> None:
    folder = tmp_path / "agents"
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        await pilot.press("a")
        form = await dialog(demo_app, pilot, AgentDialog)
        await type_text(pilot, "press-4")
        form.query_one("#agent-folder", PathInput).value = str(folder)
        await pilot.pause()
        assert "Client id demo_press-4" in str(form.query_one("#agent-preview").content)
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        (agent_id,) = sim.state.tenant.agent_certificates
        key_file, cert_file = folder / "press-4.key", folder / "press-4.pem"
        assert mode(key_file) == 0o600 and mode(cert_file) == 0o644
        key = f"agent:{agent_id}"
        assert screen.selected == key
        row = screen.agent_table.get_row(key)
        assert row[1] == "demo_press-4" and row[-1].plain == "saved"
        details = screen.details.text
        for text in (
            "Client id    demo_press-4",
            "tc/demo/demo_press-4/o/mc_v3/",
            str(key_file),
            "(key 0600)",
            "Certificate PEM",
            "mindconnectmqtt.eu1.mindsphere.io:8883",
        ):
            assert text in details, text
        assert "PRIVATE KEY" not in screen_text(demo_app)
        await pilot.press("m")
        await pilot.pause()
        line = demo_app.clipboard
        assert line.startswith("mosquitto_pub -h mindconnectmqtt.eu1.mindsphere.io -p 8883")
        assert f"--cert {cert_file}" in line and f"--key {key_file}" in line and "-i demo_press-4" in line

        await pilot.press("x")
        confirm = await dialog(demo_app, pilot, ConfirmDialog)
        assert confirm.typed == "press-4"  # a deletion in the tenant: the name is typed
        await pilot.press("y", "enter")  # no single key confirms: "y" is just text here
        await pilot.pause()
        assert demo_app.screen is confirm and sim.state.tenant.agent_certificates
        await pilot.press("backspace")
        await type_text(pilot, "press-4")
        await pilot.press("enter")
        await settle(demo_app, pilot)
        assert not sim.state.tenant.agent_certificates and screen.agent_table.row_count == 0
        assert key_file.exists()  # its files stay


async def test_device_certificate_from_a_verified_local_ca(
    demo_app: IhubApp, sim, settle, tmp_path: Path
) -> None:
    folder = tmp_path / "devices"
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        ca_id = await register_by_api(demo_app, "Device CA")
        await reload(screen, demo_app, pilot, settle)
        await select(screen, pilot, f"ca:{ca_id}")
        await pilot.press("i")
        form = await dialog(demo_app, pilot, DeviceDialog)
        await type_text(pilot, "sensor-17")
        form.query_one("#device-folder", PathInput).value = str(folder)
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        files = {p.name: mode(p) for p in folder.iterdir()}
        assert files == {"sensor-17.key": 0o600, "sensor-17.pem": 0o644, "sensor-17-chain.pem": 0o644}
        device = load_certificate((folder / "sensor-17.pem").read_bytes())
        ca = load_certificate(sim_cas(sim)[ca_id]["caCertificate"])
        device.verify_directly_issued_by(ca)
        assert screen.selected and screen.selected.startswith("device:")
        details = screen.details.text
        assert "demo_sensor-17" in details and "tc/demo/demo_sensor-17/o/mc_v3/" in details
        assert "sensor-17-chain.pem" in details and "issued here by Device CA" in details
        # The device connects with the chain file and its key.
        await pilot.press("m")
        await pilot.pause()
        assert f"--cert {folder / 'sensor-17-chain.pem'}" in demo_app.clipboard
        assert "-t tc/demo/demo_sensor-17/o/mc_v3/ts" in demo_app.clipboard


async def test_device_certificates_only_from_a_verified_ca_with_its_key_here(
    demo_app: IhubApp, sim, settle, recorder, tmp_path: Path
) -> None:
    cert_file, _key = write_ca(tmp_path)
    async with demo_app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        assert demo_app.api is not None
        uploaded = await demo_app.api.mqtt.upload_ca("Pending CA", cert_file.read_text())
        await reload(screen, demo_app, pilot, settle)
        await select(screen, pilot, f"ca:{uploaded.id}")
        await pilot.press("i")
        await pilot.pause()
        assert app_is(demo_app, CertificatesScreen)
        assert any("is not verified" in n.message for n in recorder.notifications("warning"))


def app_is(app: IhubApp, kind: type) -> bool:
    return isinstance(app.screen, kind)


# -- expiry, copy and save ----------------------------------------------------------------------------


async def test_expiry_warnings_in_the_lists_and_the_header(
    demo_app: IhubApp, sim, settle, tmp_path: Path
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        assert screen.header_notice == ""
        soon = await register_by_api(demo_app, "Soon CA", days=20)
        await reload(screen, demo_app, pilot, settle)
        cell = screen.ca_table.get_row(f"ca:{soon}")[3]
        assert "(19 d)" in cell.plain and any("yellow" in str(span.style) for span in cell.spans)
        assert screen.header_notice.startswith("⚠ 19 days left: CA Soon CA")
        urgent = await register_by_api(demo_app, "Urgent CA", days=5)
        await reload(screen, demo_app, pilot, settle)
        cell = screen.ca_table.get_row(f"ca:{urgent}")[3]
        assert "(4 d)" in cell.plain and any("red" in str(span.style) for span in cell.spans)
        assert screen.header_notice == "⚠ 4 days left: CA Urgent CA (+1 more within 30 days)"
        assert "4 days left" in screen_text(demo_app)
        # The second list too: a device certificate issued here for 3 days is red and leads the header.
        await select(screen, pilot, f"ca:{soon}")
        await pilot.press("i")
        form = await dialog(demo_app, pilot, DeviceDialog)
        await type_text(pilot, "sensor-3d")
        form.query_one("#device-days", Input).value = "3"
        form.query_one("#device-folder", PathInput).value = str(tmp_path / "devices")
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        device = screen.selected
        assert device is not None and device.startswith("device:")
        cell = screen.agent_table.get_row(device)[4]
        assert "(2 d)" in cell.plain and any("red" in str(span.style) for span in cell.spans)
        assert screen.header_notice == "⚠ 2 days left: device sensor-3d (+2 more within 30 days)"


async def test_copy_and_save_the_pem(demo_app: IhubApp, sim, settle, tmp_path: Path) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        ca_id = await register_by_api(demo_app, "Copy CA")
        await reload(screen, demo_app, pilot, settle)
        await select(screen, pilot, f"ca:{ca_id}")
        await pilot.press("c")
        pem = sim_cas(sim)[ca_id]["caCertificate"]
        assert demo_app.clipboard == pem
        await pilot.press("s")
        form = await dialog(demo_app, pilot, SavePemDialog)
        target = tmp_path / "new" / "folder" / "copy.pem"  # a folder not there yet is created
        form.query_one("#save-path", PathInput).value = str(target)
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        assert target.read_text() == pem and mode(target) == 0o644
        # Again: asks before replacing.
        await pilot.press("s")
        form = await dialog(demo_app, pilot, SavePemDialog)
        form.query_one("#save-path", PathInput).value = str(target)
        await pilot.press("ctrl+s")
        await dialog(demo_app, pilot, ConfirmDialog)
        await pilot.press("y")
        await settle(demo_app, pilot)
        assert target.read_text() == pem


async def test_export_the_ca_key_encrypted_never_on_screen(
    demo_app: IhubApp, sim, settle, recorder, tmp_path: Path
) -> None:
    """Issue 10 §2: the CA key kept here is exported on request as encrypted PEM (0600), under a passphrase
    typed twice; the key itself never appears on screen."""
    async with demo_app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        ca_id = await register_by_api(demo_app, "Backup CA")
        await reload(screen, demo_app, pilot, settle)
        await select(screen, pilot, f"ca:{ca_id}")
        await pilot.press("e")
        form = await dialog(demo_app, pilot, ExportKeyDialog)
        target = tmp_path / "backup" / "ca.key"
        form.query_one("#export-path", PathInput).value = str(target)
        form.query_one("#export-pass", Input).value = "FAKE-backup-pass"
        form.query_one("#export-pass2", Input).value = "FAKE-backup-typo"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "differ" in form.error_text and not target.exists()
        form.query_one("#export-pass2", Input).value = "FAKE-backup-pass"
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        data = target.read_bytes()
        assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") and mode(target) == 0o600
        key = load_private_key(data, "FAKE-backup-pass")
        assert key.public_key() == load_certificate(sim_cas(sim)[ca_id]["caCertificate"]).public_key()
        assert any("exported, encrypted" in n.message for n in recorder.notifications())
        assert "PRIVATE KEY" not in screen_text(demo_app)


def test_path_completion(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "ca.key").write_text("x")
    (tmp_path / ".hidden").write_text("x")
    base = str(tmp_path)
    assert complete_path(base + "/ce") == base + "/certs/"
    assert complete_path(base + "/ca.p") == base + "/ca.pem"
    assert complete_path(base + "/ca") == base + "/ca.key"  # the first in name order
    assert complete_path(base + "/c", folders_only=True) == base + "/certs/"
    assert complete_path(base + "/") == base + "/ca.key"
    assert complete_path(base + "/.h") == base + "/.hidden"
    assert complete_path(base + "/zz") is None and complete_path("") is None


async def test_the_header_notice_keeps_its_news_at_80_columns() -> None:
    from textual.app import App

    from tui.messages import ConnectionState, Phase
    from tui.widgets.status_bar import StatusBar

    state = ConnectionState(Phase.CONNECTED, profile="plant", tenant="acme", expires_at=2e9)

    class Bar(App[None]):
        def compose(self):
            yield StatusBar("Certificates", state=state, demo=True, clock=lambda: 2e9 - 600)

    for width in (120, 80, 60):
        app = Bar()
        async with app.run_test(size=(width, 3)) as pilot:
            bar = app.query_one(StatusBar)
            plain = bar.render().plain
            assert "plant · tenant acme · connected" in plain and "⚠" not in plain
            bar.set_notice("⚠ 4 days left: CA Urgent CA", "critical")
            await pilot.pause()
            plain = bar.render().plain
            assert len(plain) <= width and "⚠ 4 days left" in plain, (width, plain)
            assert plain.rstrip().endswith(("10:00", "…")), plain  # the connection keeps the right end
            bar.set_notice(None)
            await pilot.pause()
            assert "⚠" not in bar.render().plain
