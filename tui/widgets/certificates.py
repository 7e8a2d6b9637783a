"""The Certificates area's widgets: the CA and agent certificate lists, the details pane and the pane that
shows a CA registration step by step. They show what the screen hands them and post messages; the screen
owns the data, the workers and the decisions.

- ``CaTable``: uploaded CA certificates (status, subject, valid until with days left, fingerprint, whether
  the CA key is on this machine); ``AgentTable``: agent certificates (client id, status, expiry) and the
  device certificates issued here in this session. Both post ``CertificateTable.Highlighted``.
- ``CertificateDetails``: every field of the inspection, the connection facts of an agent or device
  certificate, and the PEM. Never a private key: the rows it is given hold none.
- ``RegisterFlow``: the steps of a registration as they happen, then the outcome (with the registration
  code and the ``openssl`` commands when the CA key is elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from tui.api.models import AgentCertificate
from tui.flows.certificates import (
    STEP_TITLES,
    CaRow,
    ConnectionFacts,
    DeviceCertificateResult,
    Outcome,
    RegistrationResult,
    Step,
    StepEvent,
    StepState,
    expiry_level,
)
from tui.pki.inspection import CertificateInfo, display_fingerprint
from tui.pki.lint import LintReport, Status

# -------------------------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class AgentFiles:
    """Where this session saved an agent or device certificate's files."""

    certificate: Path | None
    key: Path
    chain: Path | None = None


@dataclass(frozen=True)
class AgentRow:
    """An agent certificate for the list: the resource (without key), its inspection (None if the service
    sent no readable PEM), and its files when they were saved in this session."""

    agent: AgentCertificate
    info: CertificateInfo | None
    files: AgentFiles | None = None

    @property
    def days_left(self) -> int | None:
        return self.info.days_left if self.info is not None else None

    @property
    def client_id(self) -> str:
        return self.agent.client_id or self.agent.agent_name or self.agent.name


@dataclass(frozen=True)
class DeviceRow:
    """A device certificate issued here from a local CA in this session (``issue_device_certificate``)."""

    key: str
    result: DeviceCertificateResult = field(repr=False)
    info: CertificateInfo
    ca_name: str

    @property
    def days_left(self) -> int:
        return self.info.days_left

    @property
    def client_id(self) -> str:
        return self.result.client_id


# ----------------------------------------------------------------------------------------- helpers

LEVEL_STYLE = {"warning": "bold yellow", "critical": "bold red", "expired": "bold white on red"}


def days_text(days_left: int | None) -> Text:
    """``"365 d"`` / ``"5 d"`` (red) / ``"expired"``, coloured by ``expiry_level`` (30 and 7 days)."""
    if days_left is None:
        return Text("?", style="dim")
    level = expiry_level(days_left)
    text = "expired" if days_left < 0 else f"{days_left} d"
    return Text(text, style=LEVEL_STYLE.get(level or "", ""))


def until_text(info: CertificateInfo | None) -> Text:
    """``2026-06-16 (365 d)`` coloured by the expiry level."""
    if info is None:
        return Text("?", style="dim")
    text = Text(f"{info.not_after:%Y-%m-%d} (")
    text.append_text(days_text(info.days_left))
    text.append(")")
    return text


def ca_status_text(verified: bool, status: str | None) -> Text:
    if verified:
        return Text("✓ verified", style="green")
    return Text(f"! {(status or 'unknown').lower().replace('_', ' ')}", style="bold yellow")


def short_fingerprint(value: str | None) -> str:
    """The first five bytes, as in ``AB:CD:EF:01:23…`` (the details show all of it)."""
    clean = display_fingerprint(value or "")
    return clean[:14] + "…" if len(clean) > 15 else clean or "?"


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with an ellipsis (the details show it whole)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def expiry_words(days_left: int) -> str:
    if days_left < 0:
        return f"expired {-days_left} day{'s' if days_left != -1 else ''} ago"
    if days_left == 0:
        return "expires today"
    return f"{days_left} day{'s' if days_left != 1 else ''} left"


# ------------------------------------------------------------------------------------------ tables


class CertificateTable(DataTable[str | Text]):
    """A list of certificates; the row key is ``"<kind>:<id>"``."""

    COLUMNS: tuple[tuple[str, str], ...] = ()

    @dataclass
    class Highlighted(Message):
        """The cursor is on another certificate (``key`` None: the list is empty)."""

        table: CertificateTable
        key: str | None

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.border_title = title
        # The row the cursor is on after a refill: the highlight that refill posts is not a user's move.
        self.echo: str | None = None

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None

    def _fill(self, rows: Iterable[tuple[str, list[str | Text]]], select: str | None) -> None:
        current = select or self.selected_key
        self.clear()
        keys = []
        for key, cells in rows:
            self.add_row(*cells, key=key)
            keys.append(key)
        if current in keys:
            self.move_cursor(row=keys.index(current))
        self.echo = self.selected_key
        if not keys:
            self.post_message(self.Highlighted(self, None))

    def has_row(self, key: str | None) -> bool:
        return key is not None and key in self.rows

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        # An empty table that gets the focus highlights "no row" (cursor -1, no key).
        key = event.row_key.value if event.row_key is not None else None
        self.post_message(self.Highlighted(self, key))


class CaTable(CertificateTable):
    """The uploaded CA certificates (at most two)."""

    BINDING_GROUP_TITLE = "CA certificates (focused)"

    COLUMNS = (
        ("name", "Name"),
        ("status", "Status"),
        ("subject", "Subject"),
        ("until", "Valid until"),
        ("fingerprint", "SHA-256"),
        ("key", "CA key"),
    )

    def show(self, rows: Sequence[CaRow], select: str | None = None) -> None:
        self._fill(((f"ca:{row.ca.id}", ca_cells(row)) for row in rows), select)


def ca_cells(row: CaRow) -> list[str | Text]:
    ca = row.ca
    subject = row.info.subject if row.info is not None else ca.subject or "?"
    return [
        Text(clip(ca.name or ca.id, 24), style="bold"),
        ca_status_text(ca.verified, ca.status),
        clip(subject, 28),
        until_text(row.info),
        short_fingerprint(ca.fingerprint_sha256 or (row.info.fingerprint_sha256 if row.info else None)),
        Text("here", style="green") if row.key_on_machine else Text("elsewhere", style="dim"),
    ]


class AgentTable(CertificateTable):
    """Agent certificates from the service, then device certificates issued here in this session."""

    BINDING_GROUP_TITLE = "Agent and device certificates (focused)"

    COLUMNS = (
        ("name", "Name"),
        ("client_id", "Client id"),
        ("kind", "Kind"),
        ("status", "Status"),
        ("until", "Expires"),
        ("files", "Files"),
    )

    def show(
        self, agents: Sequence[AgentRow], devices: Sequence[DeviceRow] = (), select: str | None = None
    ) -> None:
        rows = [(f"agent:{row.agent.id}", agent_cells(row)) for row in agents]
        rows += [(f"device:{row.key}", device_cells(row)) for row in devices]
        self._fill(rows, select)


def agent_cells(row: AgentRow) -> list[str | Text]:
    agent = row.agent
    status = agent.status or "?"
    return [
        Text(clip(agent.name or agent.id, 24), style="bold"),
        clip(row.client_id, 32),
        "agent",
        Text(status.lower(), style="green" if status.upper() == "READY" else "yellow"),
        until_text(row.info),
        Text("saved", style="green") if row.files is not None else Text("-", style="dim"),
    ]


def device_cells(row: DeviceRow) -> list[str | Text]:
    return [
        Text(row.info.common_name or row.key, style="bold"),
        row.client_id,
        f"device ({row.ca_name})",
        Text("issued here", style="green"),
        until_text(row.info),
        Text("saved", style="green"),
    ]


# ----------------------------------------------------------------------------------------- details


def _line(text: Text, label: str, value: str | Text, width: int = 13) -> None:
    text.append(f"{label:<{width}}", "bold")
    if isinstance(value, Text):
        text.append_text(value)
    else:
        text.append(value or "-")
    text.append("\n")


def certificate_lines(text: Text, info: CertificateInfo) -> None:
    """Every field of an inspection (``tui.pki.inspect_certificate``)."""
    _line(text, "Subject", info.subject)
    _line(text, "Issuer", info.issuer + ("  (self-signed)" if info.self_issued else ""))
    _line(text, "Serial", info.serial_number)
    validity = Text(f"{info.not_before:%Y-%m-%d %H:%M} → {info.not_after:%Y-%m-%d %H:%M} UTC  ")
    level = expiry_level(info.days_left)
    validity.append(expiry_words(info.days_left), LEVEL_STYLE.get(level or "", "green"))
    _line(text, "Valid", validity)
    _line(text, "SHA-256", info.fingerprint_display)
    _line(text, "Public key", info.key.description)
    signature = info.signature_algorithm + (f" ({info.signature_hash})" if info.signature_hash else "")
    _line(text, "Signature", signature)
    _line(text, "Version", f"X.509 v{info.version}" if info.version else "unknown")
    if info.extensions_error:
        _line(text, "Extensions", Text(info.extensions_error, style="yellow"))
    for index, ext in enumerate(info.extensions):
        value = f"{ext.name}{' (critical)' if ext.critical else ''}: {ext.value}"
        _line(text, "Extensions" if index == 0 else "", value)


def facts_lines(text: Text, facts: ConnectionFacts, files_known: bool) -> None:
    """The connection facts (reference 5.2): broker, client id, topic prefix, files, mosquitto_pub."""
    text.append("\nConnect over MQTT\n", "bold underline")
    _line(text, "Broker", facts.broker or Text("not known for this gateway", style="yellow"))
    _line(text, "Client id", facts.client_id)
    _line(text, "Topic prefix", facts.topic_prefix)
    _line(text, "Time series", facts.timeseries_topic)
    if facts.certificate_file is not None or facts.key_file is not None:
        where = "" if files_known else "  (file names; saved elsewhere)"
        _line(text, "Certificate", f"{facts.certificate_file or '-'}{where}")
        _line(text, "Key", str(facts.key_file or "-"))
    if facts.mosquitto_pub:
        text.append("mosquitto_pub (m copies it)\n", "bold")
        text.append(facts.mosquitto_pub + "\n", "cyan")
    for note in facts.notes:
        text.append(f"· {note}\n", "dim")


def _pem_block(text: Text, pem: str | None) -> None:
    text.append("\nCertificate PEM (c copies it, s saves it)\n", "bold underline")
    if pem:
        text.append(pem.strip() + "\n", "dim")
    else:
        text.append("the service sent no certificate PEM\n", "yellow")


def ca_details(row: CaRow, used_text: str, key_folder: Path | None, read_only: bool) -> Text:
    ca = row.ca
    text = Text()
    _line(text, "Name", Text(ca.name or "-", style="bold"))
    status = ca_status_text(ca.verified, ca.status)
    if not ca.verified and not read_only:
        status.append("  v verifies it (proof of possession)", "dim")
    _line(text, "Status", status)
    _line(text, "Id", ca.id)
    if ca.description:
        _line(text, "Description", ca.description)
    if ca.created_at is not None:
        _line(text, "Uploaded", f"{ca.created_at:%Y-%m-%d %H:%M} UTC")
    _line(text, "Limit", used_text)
    if row.key_on_machine:
        key = Text("on this machine, encrypted", style="green")
        if key_folder is not None:
            key.append(f" in {key_folder}", "dim")
        if ca.verified and not read_only:
            key.append("  i issues device certificates", "dim")
    else:
        key = Text("not on this machine", style="dim")
    _line(text, "CA key", key)
    if row.info is not None:
        certificate_lines(text, row.info)
    else:
        _line(text, "Subject", ca.subject or "-")
        _line(text, "Issuer", ca.issuer or "-")
        _line(text, "SHA-256", display_fingerprint(ca.fingerprint_sha256 or ""))
    _pem_block(text, ca.certificate_pem)
    text.rstrip()
    return text


def agent_details(row: AgentRow, facts: ConnectionFacts) -> Text:
    agent = row.agent
    text = Text()
    _line(text, "Name", Text(agent.name or "-", style="bold"))
    _line(text, "Kind", "agent certificate (generated by the service)")
    _line(text, "Status", agent.status or "-")
    _line(text, "Id", agent.id)
    if agent.agent_id:
        _line(text, "Agent id", agent.agent_id)
    if agent.owner:
        _line(text, "Owner", agent.owner)
    if row.files is not None:
        _line(text, "Saved", Text(f"{row.files.key.parent} (key 0600)", style="green"))
    else:
        _line(text, "Key", Text("returned once, at creation; not saved in this session", style="dim"))
    if row.info is not None:
        certificate_lines(text, row.info)
    facts_lines(text, facts, row.files is not None)
    _pem_block(text, agent.certificate_pem)
    text.rstrip()
    return text


def device_details(row: DeviceRow) -> Text:
    result = row.result
    text = Text()
    _line(text, "Name", Text(row.info.common_name or row.key, style="bold"))
    _line(text, "Kind", f"device certificate issued here by {row.ca_name}")
    _line(text, "Saved", Text(f"{result.files.certificate.parent}", style="green"))
    _line(
        text,
        "Files",
        f"{result.files.certificate.name}, {result.files.chain.name}, "
        f"{result.files.key.name if result.files.key else '-'} (key 0600)",
    )
    certificate_lines(text, row.info)
    facts_lines(text, result.facts, True)
    _pem_block(text, result.issued.certificate_pem)
    text.rstrip()
    return text


class CertificateDetails(VerticalScroll):
    """Shows one certificate's details (or a hint when nothing is selected)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Details"
        self.can_focus = True

    def compose(self) -> ComposeResult:
        yield Static("", id="details-text", markup=False)

    @property
    def text(self) -> str:
        """The details as plain text (what tests assert on)."""
        content = self.query_one("#details-text", Static).content
        return content.plain if isinstance(content, Text) else str(content)

    def show(self, content: Text | str, title: str = "Details") -> None:
        self.border_title = title
        self.query_one("#details-text", Static).update(content)
        self.scroll_home(animate=False)


# ------------------------------------------------------------------------------------ register flow

ICONS: dict[StepState | None, tuple[str, str]] = {
    None: ("·", "dim"),
    StepState.RUNNING: ("…", "bold yellow"),
    StepState.OK: ("✓", "bold green"),
    StepState.WARN: ("!", "bold yellow"),
    StepState.SKIPPED: ("–", "dim"),
    StepState.FAILED: ("✗", "bold red"),
}
OUTCOME_STYLE = {
    Outcome.VERIFIED: ("✓ Verified", "bold green"),
    Outcome.NEEDS_VERIFICATION: ("! Uploaded, waiting for the verification certificate", "bold yellow"),
    Outcome.REFUSED: ("✗ Refused", "bold red"),
    Outcome.FAILED: ("✗ Failed", "bold red"),
}


class RegisterFlow(VerticalScroll):
    """A registration, step by step: every step of the plan is listed at once and updated as its events
    arrive (``update``); ``finish`` adds the outcome and what to do next."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Register a CA"
        self.can_focus = True
        self.heading = ""
        self.plan: list[Step] = []
        self.events: dict[Step, StepEvent] = {}
        self.result: RegistrationResult | None = None
        self._plain = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="flow-text", markup=False)

    @property
    def text(self) -> str:
        """The pane as plain text (what tests assert on)."""
        return self._plain

    def start(self, title: str, heading: str, plan: Sequence[Step]) -> None:
        self.border_title = title
        self.heading = heading
        self.plan = list(plan)
        self.events = {}
        self.result = None
        self._redraw()

    def update(self, event: StepEvent) -> None:
        if event.step not in self.plan:
            self.plan.append(event.step)
        self.events[event.step] = event
        self._redraw()

    def finish(self, result: RegistrationResult, recipe_note: str = "") -> None:
        self.result = result
        for event in result.steps:
            self.events[event.step] = event
        self._redraw(recipe_note)
        self.scroll_end(animate=False)

    def _redraw(self, recipe_note: str = "") -> None:
        # One row per step: the mark, then the title and its detail; wrapped lines stay under the title.
        steps = Table.grid(padding=(0, 1))
        steps.add_column(width=2, no_wrap=True)
        steps.add_column(ratio=1)
        rows: list[tuple[Text, Text]] = []
        for step in self.plan:
            event = self.events.get(step)
            state = event.state if event is not None else None
            icon, style = ICONS[state]
            body = Text(STEP_TITLES[step], "bold" if state is StepState.RUNNING else "")
            if event is not None and state is not StepState.RUNNING and event.elapsed >= 0.05:
                body.append(f"  {event.elapsed:.1f} s", "dim")
            if event is not None and event.detail and state is not StepState.RUNNING:
                detail_style = (
                    "red" if state is StepState.FAILED else "yellow" if state is StepState.WARN else "dim"
                )
                body.append("\n" + event.detail, detail_style)
            if event is not None and event.lint is not None and state in (StepState.FAILED, StepState.WARN):
                lint_lines(body, event.lint)
            rows.append((Text(f" {icon}", style), body))
            steps.add_row(*rows[-1])
        heading = Text(self.heading + "\n", "bold") if self.heading else Text()
        outcome = Text()
        result = self.result
        if result is not None:
            label, style = OUTCOME_STYLE[result.outcome]
            outcome.append(f"\n{label}\n", style)
            if result.message and result.outcome is not Outcome.VERIFIED:
                outcome.append(result.message + "\n")
            if result.registration_code and result.outcome is Outcome.NEEDS_VERIFICATION:
                outcome.append("\nRegistration code\n", "bold")
                outcome.append(result.registration_code + "\n", "cyan")
                outcome.append("\nMake the verification certificate where the CA key is:\n", "bold")
                for command in result.recipe:
                    outcome.append(command + "\n", "cyan")
                if recipe_note:
                    outcome.append(recipe_note + "\n", "dim")
            outcome.append("\n" + result.next_action[:1].upper() + result.next_action[1:], "dim")
        self._plain = "\n".join(
            [heading.plain] + [f"{mark.plain} {body.plain}" for mark, body in rows] + [outcome.plain]
        )
        self.query_one("#flow-text", Static).update(Group(heading, steps, outcome))


def lint_lines(text: Text, report: LintReport) -> None:
    """The rules that did not pass, one line each."""
    for rule in report.results:
        if rule.status is Status.PASS:
            continue
        mark, style = ("✗", "red") if rule.status is Status.FAIL else ("!", "yellow")
        text.append(f"\n  {mark} {rule.title}: {rule.detail}", style)
