"""The Certificates area (key 4): MindConnect MQTT CA certificates with proof of possession, agent
certificates, device certificates from a local CA, and the facts to connect with them (issue 10 §3).

The screen is the controller: the lists, the details pane and the registration pane are widgets
(``tui/widgets/certificates.py``) that show what it hands them; the forms are in
``tui/screens/certificate_dialogs.py``. Every workflow is ``tui.flows.certificates``: API calls run in
async workers, key generation, key files and key store work in threads (the flows do it with
``asyncio.to_thread``, the screen with ``in_thread``). A failure of any kind is a notification and a line
on the screen; the screen stays up. Private keys never reach the screen: the rows and requests hold none,
and forms clear their passphrase fields when they close.

A read-only profile hides every change to the tenant (register, verify, new agent, delete) from the keys
and the palette, says so on the screen, and refuses such an action in plain words if it is run anyway.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import ClassVar

from cryptography import x509
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import ContentSwitcher, Static

from tui.api.client import ApiClient
from tui.api.contract import MQTT_SIM_AGENT_ASPECT
from tui.api.errors import PreconditionFailedError
from tui.api.models import AgentCertificate
from tui.areas import Area
from tui.config.safety import Destruction
from tui.context import PaletteCommand
from tui.errors import error_text
from tui.flows.certificates import (
    REGISTER_STEPS,
    CaOverview,
    CaRow,
    CertificateFlowError,
    ConnectionFacts,
    Outcome,
    RegistrationResult,
    Step,
    ca_overview,
    connection_facts,
    create_agent_certificate,
    expiry_level,
    issue_device_certificate,
    openssl_recipe,
    register_ca,
    register_new_ca,
    registered_ca,
    submit_verification,
    tenant_of,
    verify_ca,
)
from tui.flows.mqtt import (
    CHECK_STEPS,
    DEFAULT_BROKER,
    BrokerAddress,
    CheckFailed,
    PublishedMessage,
    PublishSession,
    check_connection,
    parse_data_points,
    publish_timeseries,
)
from tui.messages import ConnectionChanged
from tui.pki.errors import FileWriteError, PkiError
from tui.pki.files import PUBLIC_FILE, ensure_dir, write_file
from tui.pki.inspection import inspect_certificate
from tui.pki.keystore import CaKeyStore
from tui.pki.load import load_certificate
from tui.screens.base import AreaScreen
from tui.screens.certificate_dialogs import (
    AgentDialog,
    AgentRequest,
    DeviceDialog,
    DeviceRequest,
    ExportKeyDialog,
    ExportRequest,
    FilesCaRequest,
    NewCaRequest,
    RegisterCaDialog,
    RegisterRequest,
    SavePemDialog,
    VerifyCaDialog,
    VerifyRequest,
)
from tui.widgets.certificates import (
    AgentFiles,
    AgentRow,
    AgentTable,
    CaTable,
    CertificateDetails,
    CertificateTable,
    DeviceRow,
    RegisterFlow,
    agent_details,
    ca_details,
    device_details,
    expiry_words,
)
from tui.widgets.mqtt_check import MqttCheckPane
from tui.widgets.status_bar import StatusBar

# Actions that change the tenant: hidden and refused with a read-only profile.
CHANGES: dict[str, str] = {
    "register": "register a CA certificate",
    "verify": "verify a CA certificate",
    "new_agent": "create an agent certificate",
    "delete": "delete a certificate",
    "send_test_data": "send test data to the tenant",
}
# What `t` publishes as the selected agent, every TEST_DATA_EVERY seconds, TEST_DATA_COUNT times.
TEST_DATA = ("temperature=18..24", "pressure=1.2..1.8", "running=true")
TEST_DATA_EVERY = 2.0
TEST_DATA_COUNT = 30
VERIFY_STEPS = (Step.READ, Step.SAVE_KEY, Step.REGISTRATION_CODE, Step.VERIFICATION_CERT, Step.VERIFY)
HAND_OVER_STEPS = (Step.READ, Step.REGISTRATION_CODE, Step.VERIFICATION_CERT, Step.VERIFY)


class CertificatesScreen(AreaScreen):
    """CA, agent and device certificates for MindConnect MQTT."""

    BINDING_GROUP_TITLE = "Certificates"
    CHANGES: ClassVar[dict[str, str]] = CHANGES

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "register",
            "Register CA",
            id="certs.register",
            tooltip="Register a CA (new here, or from files): upload, registration code, verification",
        ),
        Binding(
            "v",
            "verify",
            "Verify",
            id="certs.verify",
            tooltip="Finish the registration of the selected CA (proof of possession)",
        ),
        Binding(
            "a",
            "new_agent",
            "New agent",
            id="certs.new_agent",
            tooltip="Create an agent certificate; its certificate and key are saved at once",
        ),
        Binding(
            "i",
            "issue_device",
            "Device cert",
            id="certs.issue_device",
            tooltip="Issue a device certificate from the selected verified CA whose key is here",
        ),
        Binding(
            "delete,x",
            "delete",
            "Delete",
            id="certs.delete",
            key_display="del",
            tooltip="Delete the selected CA (typed confirmation) or agent certificate",
        ),
        Binding(
            "k",
            "check",
            "Check MQTT",
            id="certs.check",
            tooltip="Connect to the MQTT broker with the selected agent or device certificate, step by step",
        ),
        Binding(
            "t",
            "send_test_data",
            "Test data",
            id="certs.send_test_data",
            show=False,
            tooltip="Publish test values as the selected agent for a minute (t again stops); see them in 3",
        ),
        Binding(
            "c", "copy_pem", "Copy PEM", id="certs.copy_pem", tooltip="Copy the certificate PEM (OSC 52)"
        ),
        Binding(
            "s", "save_pem", "Save PEM", id="certs.save_pem", tooltip="Save the certificate PEM to a file"
        ),
        Binding(
            "m",
            "copy_mosquitto",
            "Copy mosquitto_pub",
            id="certs.copy_mosquitto",
            show=False,
            tooltip="Copy the mosquitto_pub line of the selected agent or device certificate",
        ),
        Binding(
            "e",
            "export_key",
            "Export CA key",
            id="certs.export_key",
            show=False,
            tooltip="Export the selected CA's key, encrypted with a passphrase you choose",
        ),
        Binding(
            "escape",
            "show_details",
            "Details",
            id="certs.details",
            show=False,
            tooltip="Back to the details of the selected certificate",
        ),
        Binding(
            "f5,ctrl+r", "reload", "Reload", id="certs.reload", show=False, tooltip="Read the lists again"
        ),
    ]

    def __init__(self, area: Area) -> None:
        super().__init__(area)
        self.overview: CaOverview | None = None
        self.ca_rows: dict[str, CaRow] = {}
        self.agent_rows: dict[str, AgentRow] = {}
        self.device_rows: dict[str, DeviceRow] = {}
        # Files saved in this session, by agent certificate id (they survive reloads).
        self.agent_files: dict[str, AgentFiles] = {}
        self.selected: str | None = None
        self.tenant: str | None = None
        self.key_store: CaKeyStore | None = None
        self.loaded = False
        self.load_error: str | None = None
        self._connected_profile: str | None = None
        self._under_modal = False

    # -- layout ----------------------------------------------------------------------------------------
    def compose_area(self) -> ComposeResult:
        with Vertical(id="certs-body"):
            yield Static("Certificates: not connected", id="certs-status", markup=False)
            yield CaTable("CA certificates", id="ca-table")
            yield AgentTable("Agent and device certificates", id="agent-table")
            with ContentSwitcher(initial="certs-details", id="certs-right"):
                yield CertificateDetails(id="certs-details")
                yield RegisterFlow(id="certs-flow")
                yield MqttCheckPane(id="certs-check")

    def on_mount(self) -> None:
        super().on_mount()
        self.ca_table.focus()
        self._show_selection()

    @property
    def ca_table(self) -> CaTable:
        return self.query_one("#ca-table", CaTable)

    @property
    def agent_table(self) -> AgentTable:
        return self.query_one("#agent-table", AgentTable)

    @property
    def details(self) -> CertificateDetails:
        return self.query_one("#certs-details", CertificateDetails)

    @property
    def flow(self) -> RegisterFlow:
        return self.query_one("#certs-flow", RegisterFlow)

    @property
    def check_pane(self) -> MqttCheckPane:
        return self.query_one("#certs-check", MqttCheckPane)

    @property
    def status_line(self) -> str:
        content = self.query_one("#certs-status", Static).content
        return content.plain if isinstance(content, Text) else str(content)

    # -- the app ---------------------------------------------------------------------------------------
    def _now(self) -> dt.datetime:
        """The service's time as the client knows it (certificate validity is judged on it): the local
        clock plus the skew the active connection measured."""
        api = self.ctx.api
        if api is not None:
            return dt.datetime.fromtimestamp(api.server_time(), dt.UTC)
        return dt.datetime.fromtimestamp(self.ctx.services.clock(), dt.UTC)

    def _read_only(self) -> bool:
        return self.changes_locked

    def _gateway(self) -> str | None:
        api = self.ctx.api
        if api is not None:
            return api.gateway
        profile = self.ctx.active_profile
        return profile.gateway if profile is not None else None

    def _default_folder(self) -> Path:
        services = self.ctx.services
        if services.throwaway_data:  # the demo: files go with its temporary data folder
            return services.paths.data_dir / "certificates"
        return Path.cwd()

    def _error(self, error: BaseException | str, title: str = "Certificates") -> None:
        self.ctx.show_error(error, title=title)

    def _may_change(self, action: str) -> bool:
        """Refuse a change in plain words while read-only (when run from anywhere): ``AreaScreen``."""
        return self.may_change(action)

    def _need_api(self, verb: str) -> ApiClient | None:
        api = self.ctx.api
        if api is None:
            self.notify(
                f"Not connected: cannot {verb}. Choose a profile (p) or test it on Keys (1).",
                title="Certificates",
                severity="warning",
            )
        return api

    # -- connection and loading ------------------------------------------------------------------------
    def on_connection_changed(self, message: ConnectionChanged) -> None:
        state = message.state
        self.refresh_bindings()
        if state.connected:
            if state.profile != self._connected_profile or not self.loaded:
                if state.profile != self._connected_profile:
                    # Another profile (maybe another tenant): what this session made belongs to the old one.
                    self.device_rows.clear()
                    self.agent_files.clear()
                    self.selected = None
                self._connected_profile = state.profile
                self.reload()
            else:
                self._show_status()
        else:
            self._connected_profile = None
            self.loaded = False
            self._show_status()

    def on_screen_suspend(self) -> None:
        # A form or the help on top is not leaving the area: no need to read the lists again after it.
        self._under_modal = isinstance(self.app.screen, ModalScreen)

    def on_screen_resume(self) -> None:
        """Back from another area: read the lists again (another admin may have changed them)."""
        under_modal, self._under_modal = self._under_modal, False
        if self.is_mounted and self.loaded and not under_modal:
            self.reload()

    def action_reload(self) -> None:
        self.reload()

    def reload(self, select: str | None = None) -> None:
        if select is not None:
            self.selected = select
        self._load()

    @work(exclusive=True, group="certs-load", exit_on_error=False, description="load certificates")
    async def _load(self) -> None:
        api = self.ctx.api
        if api is None:
            self._show_status()
            return
        self._set_status(Text("Loading certificates…", style="dim"))
        try:
            tenant = await self._tenant()
            store = self._key_store(tenant)
            now = self._now()
            overview = await ca_overview(api, store, now=now)
            agents = await api.mqtt.list_agent_certs()
            agent_rows = await self.in_thread(self._agent_rows, agents, now, description="read certificates")
        except Exception as exc:  # API, transport, key store: one line, the screen stays up
            self.load_error = error_text(exc)
            self._show_status()
            self._error(exc, title="Certificates not loaded")
            return
        self.load_error = None
        self.loaded = True
        self.tenant, self.key_store, self.overview = tenant, store, overview
        self.ca_rows = {f"ca:{row.ca.id}": row for row in overview.rows}
        self.agent_rows = {f"agent:{row.agent.id}": row for row in agent_rows}
        self._fill()

    async def _tenant(self) -> str:
        state = self.ctx.connection
        profile = self.ctx.active_profile
        tenant = state.tenant or (profile.tenant if profile is not None else "")
        if tenant:
            return tenant
        api = self.ctx.api
        if api is None:
            raise CertificateFlowError("not connected")
        return await tenant_of(api)

    def _key_store(self, tenant: str) -> CaKeyStore | None:
        try:
            return self.ctx.services.ca_key_store(tenant)
        except PkiError as exc:
            self._error(exc, title="CA keys")
            return None

    def _agent_rows(self, agents: list[AgentCertificate], now: dt.datetime) -> list[AgentRow]:
        rows = []
        for agent in agents:
            info = None
            if agent.certificate_pem:
                try:
                    info = inspect_certificate(load_certificate(agent.certificate_pem), now)
                except PkiError:
                    info = None
            rows.append(AgentRow(agent, info, self.agent_files.get(agent.id)))
        return rows

    def _fill(self) -> None:
        overview = self.overview
        used = overview.used_text if overview is not None else ""
        self.ca_table.border_title = f"CA certificates · {used}" if used else "CA certificates"
        self.ca_table.show(list(self.ca_rows.values()), self.selected if self._is("ca") else None)
        agents = len(self.agent_rows)
        devices = len(self.device_rows)
        title = f"Agent certificates · {agents}"
        if devices:
            title += f" · device certificates issued here · {devices}"
        self.agent_table.border_title = title
        self.agent_table.show(
            list(self.agent_rows.values()),
            list(self.device_rows.values()),
            self.selected if not self._is("ca") else None,
        )
        if self.selected not in self._all_rows():
            focused = self.focused if isinstance(self.focused, CertificateTable) else self.ca_table
            self.selected = focused.selected_key
        self._show_status()
        self._show_expiry()
        if self._showing_details():
            self._show_selection()

    def _is(self, kind: str) -> bool:
        return bool(self.selected and self.selected.startswith(kind + ":"))

    def _all_rows(self) -> dict[str, object]:
        return {**self.ca_rows, **self.agent_rows, **self.device_rows}

    # -- status line and header ------------------------------------------------------------------------
    def _set_status(self, text: Text) -> None:
        self.query_one("#certs-status", Static).update(text)

    def _show_status(self) -> None:
        state = self.ctx.connection
        text = Text()
        if not state.connected:
            text.append("Not connected", "bold yellow")
            text.append(
                ": choose a profile (p), or check it on Keys (1)."
                + (f" {state.error}" if state.error else "")
            )
        elif self.load_error:
            text.append("The certificates could not be loaded: ", "bold red")
            text.append(self.load_error)
            text.append("  f5 tries again", "dim")
        else:
            text.append(f"Tenant {self.tenant or state.tenant or '?'}", "bold")
            keys = sum(1 for row in self.ca_rows.values() if row.key_on_machine)
            text.append(f" · CA keys on this machine: {keys}")
            if not self.ca_rows and not self._read_only():
                text.append(" · no CA certificate yet: r registers one (made here, or yours)", "dim")
        if self._read_only():
            text.append("\n")
            text.append("Read-only", "bold magenta")
            text.append(
                f": {self.safety.read_only_why}. Registering, verifying, creating and deleting "
                "certificates are off; viewing, copying and saving are not."
            )
        self._set_status(text)

    def _show_expiry(self) -> None:
        """The nearest expiry (30 and 7 days) in the header."""
        soon: list[tuple[int, str]] = []
        for row in self.ca_rows.values():
            if row.days_left is not None and expiry_level(row.days_left):
                soon.append((row.days_left, f"CA {row.ca.name}"))
        for agent in self.agent_rows.values():
            if agent.days_left is not None and expiry_level(agent.days_left):
                soon.append((agent.days_left, f"agent {agent.agent.name}"))
        for device in self.device_rows.values():
            if expiry_level(device.days_left):
                soon.append((device.days_left, f"device {device.info.common_name}"))
        bar = self.query_one(StatusBar)
        if not soon:
            bar.set_notice(None)
            return
        soon.sort()
        days, what = soon[0]
        level = expiry_level(days)
        text = f"⚠ {expiry_words(days)}: {what}"
        if len(soon) > 1:
            text += f" (+{len(soon) - 1} more within 30 days)"
        bar.set_notice(text, "critical" if level in ("critical", "expired") else "warning")

    @property
    def header_notice(self) -> str:
        return self.query_one(StatusBar).notice

    # -- selection and details -------------------------------------------------------------------------
    @on(CertificateTable.Highlighted)
    def _highlighted(self, message: CertificateTable.Highlighted) -> None:
        # Only the user's moves in the focused list select; the highlight a refill posts does not.
        table = message.table
        if message.key is None:
            return
        if message.key == table.echo:
            table.echo = None
            return
        table.echo = None
        if table is self.focused and message.key != self.selected:
            self.selected = message.key
            self._show_selection(switch=True)

    def on_descendant_focus(self, event: object) -> None:
        focused = self.focused
        if isinstance(focused, CertificateTable) and not focused.has_row(self.selected):
            key = focused.selected_key
            if key is not None:
                self.selected = key
                self._show_selection(switch=True)

    def _showing_details(self) -> bool:
        return self.query_one("#certs-right", ContentSwitcher).current == "certs-details"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape goes back to the details only from elsewhere; on the details it goes on to the app
        (dismissing the notifications shown)."""
        if action == "show_details":
            try:
                return self.query_one("#certs-right", ContentSwitcher).current != "certs-details"
            except NoMatches:
                return True
        return super().check_action(action, parameters)

    def action_show_details(self) -> None:
        self._show_selection(switch=True)

    def _show_flow(self) -> RegisterFlow:
        self.query_one("#certs-right", ContentSwitcher).current = "certs-flow"
        return self.flow

    def _show_selection(self, switch: bool = False) -> None:
        if switch:
            self.query_one("#certs-right", ContentSwitcher).current = "certs-details"
        key = self.selected
        details = self.details
        if key in self.ca_rows:
            row = self.ca_rows[key]
            folder = self.key_store.folder if self.key_store is not None and row.key_on_machine else None
            used = self.overview.used_text if self.overview else ""
            details.show(ca_details(row, used, folder, self._read_only()), f"CA certificate · {row.ca.name}")
        elif key in self.agent_rows:
            agent = self.agent_rows[key]
            details.show(
                agent_details(agent, self._agent_facts(agent)), f"Agent certificate · {agent.agent.name}"
            )
        elif key in self.device_rows:
            device = self.device_rows[key]
            details.show(device_details(device), f"Device certificate · {device.info.common_name}")
        elif self.ctx.api is None:
            details.show(Text("Not connected.", style="dim"))
        elif not self.loaded:
            details.show(Text("Loading…", style="dim"))
        else:
            hint = Text("Nothing selected.\n\n", style="dim")
            hint.append(
                "r registers a CA: a new one made here (its key stays on this machine, encrypted) or your "
                "own CA certificate and key, verified with proof of possession in one go.\n"
                "a creates an agent certificate; its certificate and key are saved at once.\n"
                "i issues a device certificate from a verified CA whose key is here.\n"
                "tab moves between the lists; the details follow the cursor.",
                style="dim",
            )
            details.show(hint)

    def _agent_facts(self, row: AgentRow) -> ConnectionFacts:
        name = row.agent.name or row.agent.id
        files = row.files
        return self._facts(
            self.tenant or row.client_id.split("_", 1)[0],
            row.client_id,
            files.certificate if files and files.certificate else Path(f"{name}.pem"),
            files.key if files else Path(f"{name}.key"),
        )

    def _facts(self, tenant: str, client_id: str, certificate: Path, key: Path) -> ConnectionFacts:
        """The connection facts; the demo shows its simulator's broker when it runs one, else those of a
        Europe 1 tenant (its gateway is loopback)."""
        services = self.ctx.services
        demo = services.demo
        if demo and services.mqtt_broker:
            address = BrokerAddress.parse(services.mqtt_broker)
            facts = connection_facts(
                tenant,
                client_id,
                broker=(address.host, address.port),
                broker_ca_file=str(services.mqtt_root_ca or "broker-root-ca.pem"),
                certificate_file=certificate,
                key_file=key,
                now=self._now(),
            )
            note = (
                "Demo: the simulator's MQTT broker (k checks, t sends test data); a real tenant's agents "
                f"connect to Europe 1, {DEFAULT_BROKER}"
            )
            return replace(facts, notes=(note, *facts.notes))
        facts = connection_facts(
            tenant,
            client_id,
            gateway=None if demo else self._gateway(),
            region="eu1" if demo else None,
            certificate_file=certificate,
            key_file=key,
            now=self._now(),
        )
        if demo:
            note = "Demo: the broker shown is Europe 1's, where a real tenant's agents connect"
            facts = replace(facts, notes=(note, *facts.notes))
        return facts

    def _selected_ca(self, verb: str) -> CaRow | None:
        row = self.ca_rows.get(self.selected or "")
        if row is None:
            self.notify(
                f"Select a CA certificate in the upper list to {verb}.",
                title="Certificates",
                severity="warning",
            )
        return row

    # -- register --------------------------------------------------------------------------------------
    def action_register(self) -> None:
        if not self._may_change("register") or self._need_api("register a CA certificate") is None:
            return
        overview = self.overview
        if overview is not None and len(overview.rows) >= overview.limit:
            self.notify(
                f"At most {overview.limit} CA certificates per tenant, and {overview.used_text}: a third one "
                "would be refused. Delete one first (select it, then del).",
                title="Register a CA",
                severity="warning",
                timeout=10,
            )
            return
        used = f"CA certificates: {overview.used_text}." if overview is not None else ""
        self.app.push_screen(
            RegisterCaDialog(start_folder=_folder_text(Path.cwd()), used_text=used),
            self._register_chosen,
        )

    def _register_chosen(self, request: RegisterRequest | None) -> None:
        if request is not None:
            self._register(request)

    @work(exclusive=True, group="certs-flow", exit_on_error=False, description="register a CA")
    async def _register(self, request: RegisterRequest) -> None:
        api = self._need_api("register a CA certificate")
        if api is None:
            return
        flow = self._show_flow()
        try:
            tenant = await self._tenant()
        except Exception as exc:
            self._error(exc, title="Register a CA")
            return
        store = self.key_store or self._key_store(tenant)
        now = self._now()
        if isinstance(request, NewCaRequest):
            cn = request.subject.common_name
            flow.start(
                "Register a new CA",
                f"{cn} · {request.key_type.label} · {request.days} days",
                (Step.CREATE, *REGISTER_STEPS),
            )
            if store is None:
                self._error("the CA key cannot be kept on this machine, so nothing was made", "Register a CA")
                return
            result = await register_new_ca(
                api,
                request.subject,
                key_store=store,
                key_type=request.key_type,
                days=request.days,
                name=request.name,
                on_step=flow.update,
                now=now,
            )
            note = ""
        else:
            assert isinstance(request, FilesCaRequest)
            heading = str(request.certificate_path)
            heading += (
                f" with the key {request.key_path}"
                if request.key_path
                else (
                    " with the key inside" if request.key is not None else " (the key is not on this machine)"
                )
            )
            flow.start("Register a CA from files", heading, REGISTER_STEPS)
            result = await register_ca(
                api,
                request.certificate,
                key=request.key,
                key_store=store,
                name=request.name,
                on_step=flow.update,
                now=now,
            )
            note = f"ca.pem is {request.certificate_path}; ca.key is its private key."
        self._finished(result, note, certificate_path=getattr(request, "certificate_path", None))

    def _finished(
        self, result: RegistrationResult, note: str = "", certificate_path: Path | None = None
    ) -> None:
        self.flow.finish(result, note)
        name = result.ca.name if result.ca is not None else "the CA"
        if result.outcome is Outcome.VERIFIED:
            self.notify(
                f"{name} is verified: agents with certificates from it can connect.", title="Registered"
            )
        elif result.outcome is Outcome.NEEDS_VERIFICATION:
            self.notify(
                f"{name} is uploaded; hand over the verification certificate to finish.",
                title="Waiting for verification",
                severity="warning",
            )
        else:
            self.notify(
                result.message or "the registration stopped",
                title="Not registered",
                severity="error",
                timeout=10,
                markup=False,
            )
        if result.ca is not None:
            self.selected = f"ca:{result.ca.id}"
            self.reload()
        if (
            result.outcome is Outcome.NEEDS_VERIFICATION
            and result.ca is not None
            and result.registration_code
        ):
            recipe = openssl_recipe(
                result.registration_code,
                ca_certificate_file=str(certificate_path) if certificate_path else "ca.pem",
            )
            self.app.push_screen(
                VerifyCaDialog(
                    result.ca.name or result.ca.id,
                    result.registration_code,
                    recipe,
                    start_folder=_folder_text(certificate_path.parent if certificate_path else Path.cwd()),
                ),
                partial(self._hand_over_chosen, result.ca.id),
            )

    # -- verify (resume) -------------------------------------------------------------------------------
    def action_verify(self) -> None:
        if not self._may_change("verify") or self._need_api("verify a CA certificate") is None:
            return
        row = self._selected_ca("verify it")
        if row is None:
            return
        if row.ca.verified:
            self.notify(f"{row.ca.name} is already verified.", title="Verify")
            return
        self._verify(row.ca.id, row.ca.name)

    @work(exclusive=True, group="certs-flow", exit_on_error=False, description="verify a CA")
    async def _verify(self, ca_id: str, name: str) -> None:
        api = self._need_api("verify a CA certificate")
        if api is None:
            return
        flow = self._show_flow()
        flow.start("Verify a CA", f"{name} ({ca_id})", VERIFY_STEPS)
        result = await verify_ca(api, ca_id, key_store=self.key_store, on_step=flow.update, now=self._now())
        self._finished(result)

    def _hand_over_chosen(self, ca_id: str, request: VerifyRequest | None) -> None:
        if request is not None:
            self._hand_over(ca_id, request)

    @work(exclusive=True, group="certs-flow", exit_on_error=False, description="verify a CA")
    async def _hand_over(self, ca_id: str, request: VerifyRequest) -> None:
        api = self._need_api("verify a CA certificate")
        if api is None:
            return
        flow = self._show_flow()
        now = self._now()
        if request.verification is not None:
            flow.start("Verify a CA", "with the verification certificate made elsewhere", HAND_OVER_STEPS)
            result = await submit_verification(api, ca_id, request.verification, on_step=flow.update, now=now)
        else:
            flow.start("Verify a CA", f"with the key {request.key_path}", VERIFY_STEPS)
            result = await verify_ca(
                api, ca_id, key=request.key, key_store=self.key_store, on_step=flow.update, now=now
            )
        self._finished(result)

    # -- delete ----------------------------------------------------------------------------------------
    def action_delete(self) -> None:
        if not self._may_change("delete"):
            return
        key = self.selected or ""
        if key in self.ca_rows:
            row = self.ca_rows[key]
            warning = (
                "Agents with certificates issued by this CA can no longer connect."
                if row.ca.verified
                else "It is not verified yet; agents cannot use it anyway."
            )
            kept = (
                "\nIts private key stays on this machine (encrypted): the CA can be uploaded again."
                if row.key_on_machine
                else ""
            )
            self.confirm_destructive(
                Destruction.TENANT_DELETE,
                "Delete a CA certificate",
                f"Delete {row.ca.name or row.ca.id} ({row.ca.id}) from the tenant?\n"
                f"⚠ {warning} This cannot be undone.{kept}",
                row.ca.name or row.ca.id,
                partial(self._delete_ca_confirmed, row),
            )
        elif key in self.agent_rows:
            agent = self.agent_rows[key]
            files = f" Its files stay in {agent.files.key.parent}." if agent.files else ""
            self.confirm_destructive(
                Destruction.TENANT_DELETE,
                "Delete an agent certificate",
                f"Delete the agent certificate {agent.agent.name}? The agent with client id "
                f"{agent.client_id} can no longer connect with it.{files} This cannot be undone.",
                agent.agent.name or agent.agent.id,
                partial(self._delete_agent_confirmed, agent),
            )
        elif key in self.device_rows:
            device = self.device_rows[key]
            self.notify(
                f"{device.info.common_name} is a device certificate issued here: it exists only as files in "
                f"{device.result.files.certificate.parent}. Delete them there.",
                title="Delete",
            )
        else:
            self.notify("Select a certificate to delete.", title="Delete", severity="warning")

    def _delete_ca_confirmed(self, row: CaRow, confirmed: bool | None) -> None:
        if confirmed:
            self._delete_ca(row)

    @work(exclusive=True, group="certs-change", exit_on_error=False, description="delete a CA")
    async def _delete_ca(self, row: CaRow) -> None:
        api = self._need_api("delete a CA certificate")
        if api is None:
            return
        ca = row.ca
        try:
            await api.mqtt.delete_ca(ca.id, ca.etag if ca.etag is not None else "*")
        except PreconditionFailedError:
            self._error(
                f"{ca.name} changed since the list was read (its etag differs), so it was not deleted; "
                "the list is read again: check it and try again",
                title="Not deleted",
            )
            self.reload()
            return
        except Exception as exc:
            self._error(exc, title="Not deleted")
            return
        self.notify(f"{ca.name} was deleted.", title="CA certificate deleted")
        self.selected = None
        self.reload()

    def _delete_agent_confirmed(self, row: AgentRow, confirmed: bool | None) -> None:
        if confirmed:
            self._delete_agent(row)

    @work(
        exclusive=True, group="certs-change", exit_on_error=False, description="delete an agent certificate"
    )
    async def _delete_agent(self, row: AgentRow) -> None:
        api = self._need_api("delete an agent certificate")
        if api is None:
            return
        try:
            await api.mqtt.delete_agent_cert(row.agent.id)
        except Exception as exc:
            self._error(exc, title="Not deleted")
            return
        self.agent_files.pop(row.agent.id, None)
        self.notify(f"The agent certificate {row.agent.name} was deleted.", title="Deleted")
        self.selected = None
        self.reload()

    # -- agent certificates ----------------------------------------------------------------------------
    def action_new_agent(self) -> None:
        if not self._may_change("new_agent") or self._need_api("create an agent certificate") is None:
            return
        self.app.push_screen(
            AgentDialog(folder=_folder_text(self._default_folder()), tenant=self.tenant or "<tenant>"),
            self._agent_chosen,
        )

    def _agent_chosen(self, request: AgentRequest | None) -> None:
        if request is not None:
            self._create_agent(request)

    @work(
        exclusive=True, group="certs-change", exit_on_error=False, description="create an agent certificate"
    )
    async def _create_agent(self, request: AgentRequest) -> None:
        api = self._need_api("create an agent certificate")
        if api is None:
            return
        try:
            result = await create_agent_certificate(
                api, request.name, out_dir=request.folder, owner=request.owner, now=self._now()
            )
        except Exception as exc:
            self._error(exc, title="No agent certificate")
            return
        agent = result.agent
        self.agent_files[agent.id] = AgentFiles(result.certificate_file, result.key_file)
        self.notify(
            f"{agent.name}: key saved as {result.key_file} (0600)"
            + (f" and certificate as {result.certificate_file.name}" if result.certificate_file else "")
            + ".",
            title="Agent certificate created",
            timeout=8,
        )
        self.selected = f"agent:{agent.id}"
        self.query_one("#certs-right", ContentSwitcher).current = "certs-details"
        self.agent_table.focus()
        self.reload()

    # -- device certificates ---------------------------------------------------------------------------
    def action_issue_device(self) -> None:
        row = self._selected_ca("issue a device certificate from it")
        if row is None:
            return
        if not row.ca.verified:
            self.notify(
                f"{row.ca.name} is not verified: devices with its certificates could not connect. Verify it "
                "first (v).",
                title="Device certificate",
                severity="warning",
            )
            return
        if not row.key_on_machine or self.key_store is None:
            self.notify(
                f"The key of {row.ca.name} is not on this machine: device certificates are issued where the "
                "CA key is (ihub certs issue, or register the CA from its files here).",
                title="Device certificate",
                severity="warning",
            )
            return
        self.app.push_screen(
            DeviceDialog(
                ca_name=row.ca.name,
                folder=_folder_text(self._default_folder()),
                tenant=self.tenant or "<tenant>",
            ),
            partial(self._device_chosen, row),
        )

    def _device_chosen(self, row: CaRow, request: DeviceRequest | None) -> None:
        if request is not None:
            self._issue(row, request)

    @work(exclusive=True, group="certs-change", exit_on_error=False, description="issue a device certificate")
    async def _issue(self, row: CaRow, request: DeviceRequest) -> None:
        api = self._need_api("check the CA")
        store = self.key_store
        if api is None or store is None or not row.ca.certificate_pem:
            return
        try:
            certificate = load_certificate(row.ca.certificate_pem, what="the CA certificate")
            current = await registered_ca(api, certificate)
            if current is None or not current.verified:
                raise CertificateFlowError(
                    f"{row.ca.name} is no longer a verified CA of the tenant; read the list again (f5)"
                )
            key = await self.in_thread(store.load_key, certificate, description="open the CA key")
            tenant = await self._tenant()
            result = await self.in_thread(
                partial(
                    issue_device_certificate,
                    tenant=tenant,
                    ca_certificate=certificate,
                    ca_key=key,
                    common_name=request.common_name,
                    out_dir=request.folder,
                    days=request.days,
                    key_type=request.key_type,
                    gateway=self._gateway(),
                    now=self._now(),
                ),
                description="issue a device certificate",
            )
            del key
        except Exception as exc:
            self._error(exc, title="No device certificate")
            return
        facts = self._facts(
            tenant, result.client_id, result.files.chain, result.files.key or Path("device.key")
        )
        result = replace(result, facts=facts)
        info = inspect_certificate(result.issued.certificate, self._now())
        key_name = f"{request.common_name}@{len(self.device_rows) + 1}"
        self.device_rows[f"device:{key_name}"] = DeviceRow(key_name, result, info, row.ca.name)
        self.notify(
            f"{request.common_name}: key {result.files.key} (0600), certificate and chain saved; client id "
            f"{result.client_id}.",
            title="Device certificate issued",
            timeout=8,
        )
        self.selected = f"device:{key_name}"
        self.agent_table.focus()
        self._fill()
        self._show_selection(switch=True)

    # -- copy, save, export ----------------------------------------------------------------------------
    def _selected_pem(self) -> tuple[str, str, str] | None:
        """(what, file stem, PEM) of the selection."""
        key = self.selected or ""
        if key in self.ca_rows:
            ca = self.ca_rows[key].ca
            return (f"the CA certificate {ca.name}", ca.name or "ca", ca.certificate_pem or "")
        if key in self.agent_rows:
            agent = self.agent_rows[key].agent
            return (f"the agent certificate {agent.name}", agent.name or "agent", agent.certificate_pem or "")
        if key in self.device_rows:
            device = self.device_rows[key]
            cn = device.info.common_name or "device"
            return (f"the device certificate {cn}", cn, device.result.issued.certificate_pem)
        self.notify("Select a certificate first.", title="Certificates", severity="warning")
        return None

    def action_copy_pem(self) -> None:
        chosen = self._selected_pem()
        if chosen is None:
            return
        what, _stem, pem = chosen
        if not pem:
            self.notify(f"The service sent no PEM for {what}.", title="Copy", severity="warning")
            return
        self.app.copy_to_clipboard(pem)
        self.notify(f"The PEM of {what} was copied (through the terminal, OSC 52).", title="Copied")

    def action_copy_mosquitto(self) -> None:
        key = self.selected or ""
        facts = None
        if key in self.agent_rows:
            facts = self._agent_facts(self.agent_rows[key])
        elif key in self.device_rows:
            facts = self.device_rows[key].result.facts
        if facts is None:
            self.notify("Select an agent or device certificate.", title="mosquitto_pub", severity="warning")
            return
        if not facts.mosquitto_pub:
            self.notify(
                facts.notes[0] if facts.notes else "no broker known",
                title="mosquitto_pub",
                severity="warning",
            )
            return
        self.app.copy_to_clipboard(facts.mosquitto_pub)
        self.notify("The mosquitto_pub line was copied (OSC 52).", title="Copied")

    def action_save_pem(self) -> None:
        chosen = self._selected_pem()
        if chosen is None:
            return
        what, stem, pem = chosen
        if not pem:
            self.notify(f"The service sent no PEM for {what}.", title="Save", severity="warning")
            return
        default = self._default_folder() / f"{_safe_stem(stem)}.pem"
        self.app.push_screen(SavePemDialog(what, str(default)), partial(self._save_chosen, pem))

    def _save_chosen(self, pem: str, path: Path | None, overwrite: bool = False) -> None:
        if path is not None:
            self._save(pem, path, overwrite)

    @work(exclusive=True, group="certs-save", exit_on_error=False, description="save a PEM")
    async def _save(self, pem: str, path: Path, overwrite: bool) -> None:
        try:
            await self.in_thread(
                partial(_save_pem, path, pem, overwrite),
                description="save a PEM",
            )
        except FileWriteError as exc:
            if "already exists" in str(exc) and not overwrite:
                self.confirm_destructive(
                    Destruction.FILE_OVERWRITE,
                    "Replace the file?",
                    f"{path} already exists. Replace it?",
                    path.name,
                    lambda yes: self._save_chosen(pem, path, True) if yes else None,
                    confirm_label="Replace",
                )
                return
            self._error(exc, title="Not saved")
            return
        except Exception as exc:
            self._error(exc, title="Not saved")
            return
        self.notify(f"Saved {path}.", title="Saved")

    def action_export_key(self) -> None:
        row = self._selected_ca("export its key")
        if row is None:
            return
        if not row.key_on_machine or self.key_store is None or not row.ca.certificate_pem:
            self.notify(
                f"The key of {row.ca.name} is not on this machine.", title="Export", severity="warning"
            )
            return
        default = self._default_folder() / f"{_safe_stem(row.ca.name or 'ca')}.key"
        self.app.push_screen(ExportKeyDialog(row.ca.name, str(default)), partial(self._export_chosen, row))

    def _export_chosen(self, row: CaRow, request: ExportRequest | None) -> None:
        if request is not None:
            self._export(row, request)

    @work(exclusive=True, group="certs-save", exit_on_error=False, description="export a CA key")
    async def _export(self, row: CaRow, request: ExportRequest) -> None:
        store = self.key_store
        if store is None or not row.ca.certificate_pem:
            return
        try:
            certificate: x509.Certificate = load_certificate(row.ca.certificate_pem)
            path = await self.in_thread(
                store.export_key_to, certificate, request.passphrase, request.path, description="export a key"
            )
        except Exception as exc:
            self._error(exc, title="Not exported")
            return
        self.notify(f"The key of {row.ca.name} was exported, encrypted, to {path} (0600).", title="Exported")

    # -- MQTT: check and test data (issue 11) ---------------------------------------------------------
    def _mqtt_subject(self, verb: str) -> MqttSubject | None:
        """The selected agent or device certificate's files and client id; None (with a notice) when no
        such certificate is selected or its key is not on this machine."""
        key = self.selected or ""
        if key in self.device_rows:
            device = self.device_rows[key]
            files = device.result.files
            if files.key is not None:
                label = f"device certificate {device.info.common_name}"
                return MqttSubject(label, files.chain, files.key, device.client_id)
        row = self.agent_rows.get(key)
        if row is None:
            self.notify(
                f"Select an agent or device certificate in the lower list to {verb}.",
                title="MQTT",
                severity="warning",
            )
            return None
        name = row.agent.name or row.agent.id
        found = row.files
        if found is None or found.certificate is None:
            folder = self._default_folder()
            cert, key_file = folder / f"{_safe_stem(name)}.pem", folder / f"{_safe_stem(name)}.key"
            found = AgentFiles(cert, key_file) if cert.is_file() and key_file.is_file() else None
        if found is None or found.certificate is None:
            self.notify(
                f"The key of the agent certificate {name} is not on this machine in this session (the "
                "service returns it only when the certificate is created). Where you keep it, run: "
                f"ihub certs check --cert {name}.pem --key {name}.key",
                title="MQTT",
                severity="warning",
                timeout=12,
            )
            return None
        return MqttSubject(f"agent certificate {name}", found.certificate, found.key, row.client_id)

    def _broker(self) -> tuple[BrokerAddress, Path | None]:
        """The demo's simulator broker and its root CA, else Europe 1 and the system's trusted roots."""
        services = self.ctx.services
        if services.mqtt_broker:
            return BrokerAddress.parse(services.mqtt_broker), services.mqtt_root_ca
        return DEFAULT_BROKER, None

    def _shell_commands(self, subject: MqttSubject, broker: BrokerAddress, root_ca: Path | None) -> list[str]:
        where = [f"--broker {broker}"] + ([f"--root-ca {root_ca}"] if root_ca else [])
        common = " ".join([f"--cert {subject.certificate}", f"--key {subject.key}", *where])
        return [
            f"ihub certs check {common} --client-id {subject.client_id}",
            f"ihub certs publish {common} --client-id {subject.client_id} temperature=21.5 --every 5",
        ]

    def action_check(self) -> None:
        subject = self._mqtt_subject("check its connection")
        if subject is None:
            return
        broker, root_ca = self._broker()
        pane = self.check_pane
        self.query_one("#certs-right", ContentSwitcher).current = "certs-check"
        pane.start(
            f"MQTT check · {subject.client_id}",
            f"{subject.label[:1].upper()}{subject.label[1:]} with {broker}",
            CHECK_STEPS[:-1],
        )
        self._check(subject, broker, root_ca)

    @work(exclusive=True, group="certs-mqtt", exit_on_error=False, description="check an MQTT connection")
    async def _check(self, subject: MqttSubject, broker: BrokerAddress, root_ca: Path | None) -> None:
        pane = self.check_pane
        try:
            result = await check_connection(
                subject.certificate,
                subject.key,
                broker=broker,
                root_ca=root_ca,
                client_id=subject.client_id,
                tenant=self.tenant,
                api=self.ctx.api,
                on_step=pane.update,
            )
        except Exception as exc:  # the flow reports every expected failure; anything else is one line
            self._error(exc, title="MQTT check")
            return
        pane.finish(result, self._shell_commands(subject, broker, root_ca))
        if result.ok:
            hint = "" if self._read_only() else " t sends test data as this agent."
            self.notify(f"{result.message}.{hint}", title="MQTT check: accepted", timeout=8)
        else:
            self.notify(result.message, title="MQTT check: refused", severity="error", timeout=12)

    def action_send_test_data(self) -> None:
        running = [w for w in self.workers if w.group == "certs-test-data" and w.is_running]
        if running:
            for worker in running:
                worker.cancel()
            return
        if not self._may_change("send_test_data"):
            return
        subject = self._mqtt_subject("send test data as it")
        if subject is None:
            return
        broker, root_ca = self._broker()
        pane = self.check_pane
        self.query_one("#certs-right", ContentSwitcher).current = "certs-check"
        if pane.result is None or pane.result.client_id != subject.client_id:
            pane.start(f"MQTT · {subject.client_id}", f"{subject.label[:1].upper()}{subject.label[1:]}", ())
        pane.sending(
            f"Test data as {subject.client_id}, every {TEST_DATA_EVERY:g} s ({' '.join(TEST_DATA)})",
            "connecting…",
        )
        self._send_test_data(subject, broker, root_ca)

    @work(exclusive=True, group="certs-test-data", exit_on_error=False, description="send test data")
    async def _send_test_data(
        self, subject: MqttSubject, broker: BrokerAddress, root_ca: Path | None
    ) -> None:
        pane = self.check_pane
        where = (
            f"Time series (3): the asset {subject.client_id}, aspect {MQTT_SIM_AGENT_ASPECT}"
            if self.ctx.services.demo
            else "Time series (3), on the asset its data points are mapped to"
        )
        sent = 0

        def connected(session: PublishSession) -> None:
            pane.stopped(f"publishing on {session.topic}; t stops")

        def published(message: PublishedMessage) -> None:
            nonlocal sent
            sent = message.number
            pane.message(message)

        try:
            await publish_timeseries(
                subject.certificate,
                subject.key,
                parse_data_points(TEST_DATA),
                broker=broker,
                root_ca=root_ca,
                client_id=subject.client_id,
                tenant=self.tenant,
                api=self.ctx.api,
                every=TEST_DATA_EVERY,
                count=TEST_DATA_COUNT,
                on_connected=connected,
                on_message=published,
            )
        except CheckFailed as failed:
            pane.stopped(f"stopped: {failed.message}; k checks each step")
            self.notify(failed.message, title="Test data", severity="error", timeout=12)
            return
        except asyncio.CancelledError:
            pane.stopped(f"stopped after {sent} message{'s' if sent != 1 else ''}: see them in {where}")
            raise
        except Exception as exc:
            pane.stopped("stopped")
            self._error(exc, title="Test data")
            return
        pane.stopped(f"done: {sent} messages; see them in {where}")

    # -- palette ---------------------------------------------------------------------------------------
    def palette_commands(self) -> Iterable[PaletteCommand]:
        # Changes are marked (change=True); the app leaves them out while read-only.
        commands: list[PaletteCommand] = [
            PaletteCommand(
                "Certificates: register a CA",
                "A new CA made here, or yours: upload and verify",
                self.action_register,
                change=True,
            ),
            PaletteCommand(
                "Certificates: new agent certificate",
                "The service makes it; certificate and key saved at once",
                self.action_new_agent,
                change=True,
            ),
            PaletteCommand(
                "Certificates: verify the selected CA",
                "Finish a registration (proof of possession)",
                self.action_verify,
                change=True,
            ),
            PaletteCommand(
                "Certificates: check the MQTT connection",
                "Connect with the selected agent or device certificate, step by step",
                self.action_check,
            ),
            PaletteCommand(
                "Certificates: send test data",
                "Publish test values as the selected agent for a minute (t again stops)",
                self.action_send_test_data,
                change=True,
            ),
        ]
        commands += [
            PaletteCommand(
                "Certificates: issue a device certificate",
                "From the selected verified CA whose key is here",
                self.action_issue_device,
            ),
            PaletteCommand(
                "Certificates: reload", "Read the CA and agent certificates again", self.action_reload
            ),
        ]
        return commands


@dataclass(frozen=True)
class MqttSubject:
    """An agent or device certificate to connect with: what to call it, its files and its client id."""

    label: str
    certificate: Path
    key: Path
    client_id: str


def _folder_text(folder: Path) -> str:
    text = str(folder)
    return text if text.endswith("/") else text + "/"


def _safe_stem(name: str) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "_.-" else "-" for ch in name).strip("-.") or "certificate"
    return stem[:64]


__all__ = ["CertificatesScreen"]


def _save_pem(path: Path, pem: str, overwrite: bool) -> Path:
    """A certificate's PEM written to ``path`` (0644, atomically), its folder created (0700) when missing,
    as the Save dialog's check allowed. In a thread."""
    ensure_dir(path.parent)
    return write_file(path, pem.encode("ascii"), mode=PUBLIC_FILE, overwrite=overwrite)
