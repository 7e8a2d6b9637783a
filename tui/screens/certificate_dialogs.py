"""The Certificates area's forms: register a CA (new here, or from files), hand over a verification
certificate or the CA key, delete a CA (typed confirmation), create an agent certificate, issue a device
certificate, save a PEM, export a CA key.

Each form checks what it can before it closes (fields, files readable, a key that opens and belongs to
the certificate, a folder to write into), with the reason under the field in question (focused and
scrolled into view) or, for the form as a whole, above the buttons; files are read and folders probed in a
thread worker. The body scrolls, message and buttons included, so they are reachable at 80x24. A form returns
a request (private keys as key objects, never as text on screen) or None when cancelled. Passphrases
typed here are not kept once the form closes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from cryptography import x509
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from tui.api.mqtt import AGENT_NAME_RE
from tui.config.inputs import InputError, clean_text, strip_bom
from tui.errors import error_text
from tui.pki.build import MAX_DAYS, SubjectFields, file_stem
from tui.pki.errors import PassphraseRequiredError, PkiError, WrongPassphraseError
from tui.pki.keys import KeyType, PrivateKey
from tui.pki.load import load_certificate, load_private_key, read_file, read_material
from tui.pki.verify import key_matches_certificate
from tui.widgets.path_input import PathInput

R = TypeVar("R")

KEY_TYPE_OPTIONS: list[tuple[str, str]] = [(k.label, k.value) for k in KeyType]
EXPORT_PASSPHRASE_MIN = 8


# ------------------------------------------------------------------------------------------ requests


@dataclass(frozen=True)
class NewCaRequest:
    """Create a CA here and register it."""

    subject: SubjectFields
    key_type: KeyType
    days: int
    name: str | None


@dataclass(frozen=True)
class FilesCaRequest:
    """Register a CA certificate read from a file, with its key (None: the key is elsewhere)."""

    certificate: x509.Certificate
    certificate_path: Path
    key: PrivateKey | None = field(default=None, repr=False)
    key_path: Path | None = None
    name: str | None = None


RegisterRequest = NewCaRequest | FilesCaRequest


@dataclass(frozen=True)
class VerifyRequest:
    """Finish a registration: a verification certificate made elsewhere, or the CA key after all."""

    verification: x509.Certificate | None = None
    key: PrivateKey | None = field(default=None, repr=False)
    key_path: Path | None = None


@dataclass(frozen=True)
class AgentRequest:
    name: str
    owner: str | None
    folder: Path


@dataclass(frozen=True)
class DeviceRequest:
    common_name: str
    days: int
    key_type: KeyType
    folder: Path


@dataclass(frozen=True)
class ExportRequest:
    path: Path
    passphrase: str = field(repr=False)


# -------------------------------------------------------------------------------------------- base


class FormDialog(ModalScreen[R], Generic[R]):
    """A form: fields, an error line and OK/Cancel; enter in a field moves on (submits from the last),
    ctrl+s submits, escape cancels. Subclasses write ``compose_fields`` and ``submit``."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "OK", id="form.submit", priority=True),
    ]
    heading = "Form"
    ok_label = "OK"
    box_classes = ""

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    def compose(self) -> ComposeResult:
        with Vertical(classes=f"dialog-box form-box {self.box_classes}".strip()) as box:
            box.border_title = self.heading
            box.border_subtitle = "ctrl+s OK · escape cancel"
            # The whole body scrolls, message and buttons included: at 80x24 a long form still reaches
            # them (tab, or a field's message scrolled into view).
            with VerticalScroll(classes="form-fields"):
                yield from self.compose_fields()
                yield Static("", id="form-error", classes="dialog-error", markup=False)
                with Horizontal(classes="dialog-buttons"):
                    yield Button(self.ok_label, id="form-ok", variant="primary")
                    yield Button("Cancel", id="form-cancel")

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.query_one("#form-error").display = False
        for error in self.query(".field-error"):
            error.display = False
        first = self.query(Input).first() if self.query(Input) else None
        if first is not None:
            first.focus()

    @property
    def error_text(self) -> str:
        """The message shown: under a field, or above the buttons ("" when none)."""
        for error in (*self.query(".field-error").results(Static), self.query_one("#form-error", Static)):
            if error.display:
                return str(error.content)
        return ""

    def show_error(self, message: str, field: str | None = None) -> None:
        """Show ``message`` under the field ``field`` (a selector of a ``_row`` widget: focused and scrolled
        into view with its message), or above the buttons; "" clears every message."""
        for error in self.query(".field-error").results(Static):
            error.update("")
            error.display = False
        general = self.query_one("#form-error", Static)
        general.update("")
        general.display = False
        self.query_one("#form-ok", Button).disabled = False
        if not message:
            return
        widget = self.query_one(field) if field is not None else None
        target = None
        if widget is not None and widget.id:
            target = next(iter(self.query(f"#{widget.id}-error").results(Static)), None)
        if widget is None or target is None:
            general.update(message)
            general.display = True
            self.call_after_refresh(general.scroll_visible, animate=False)
            return
        target.update(message)
        target.display = True
        focus = widget if widget.focusable else next((w for w in widget.query(Input) if w.focusable), None)
        if focus is not None:
            focus.focus(scroll_visible=False)
        row = widget.parent if isinstance(widget.parent, Widget) else widget

        def reveal() -> None:
            target.scroll_visible(animate=False)  # the message, then its row above it
            row.scroll_visible(animate=False)

        self.call_after_refresh(reveal)

    def value(self, selector: str) -> str:
        """A field's text without a leading BOM and surrounding spaces (``refused_field`` checks the rest)."""
        return strip_bom(self.query_one(selector, Input).value).strip()

    def refused_field(self) -> tuple[str, str | None] | None:
        """The cleaning rule (``clean_text``) for every shown field but passphrases: (message, selector of
        the field) for the first field with an invisible or control character, else None."""
        for field_ in self.query(Input):
            shown = all(node.display for node in (field_, *field_.ancestors) if isinstance(node, Widget))
            if field_.password or not shown:  # a passphrase is taken as typed; a hidden tab is not asked
                continue
            row = next((a for a in field_.ancestors if a.has_class("form-row")), None)
            labels = row.query(Label) if isinstance(row, Widget) else None
            what = str(labels.first().content).lower() if labels else "field"
            try:
                clean_text(field_.value, what)
            except InputError as exc:
                owner = next((a for a in (field_, *field_.ancestors) if a.parent is row), None)
                return str(exc), f"#{owner.id}" if isinstance(owner, Widget) and owner.id else None
        return None

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = [i for i in self.query(Input) if i.display and not i.disabled and i.is_on_screen]
        if inputs and event.input is inputs[-1]:
            self.action_submit()
        else:
            self.focus_next()

    @on(Button.Pressed, "#form-ok")
    def action_submit(self) -> None:
        self.show_error("")
        refused = self.refused_field()
        if refused is not None:
            self.show_error(*refused)
            return
        self.submit()

    def submit(self) -> None:
        raise NotImplementedError

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        self._forget()
        self.dismiss(None)

    def _forget(self) -> None:
        """Clear password fields before the form goes."""
        for field_ in self.query(Input):
            if field_.password:
                field_.value = ""

    def finish(self, result: R) -> None:
        self._forget()
        self.dismiss(result)

    def check_in_thread(self, check: Callable[[], R]) -> None:
        """Run ``check`` (reads files, opens keys, probes folders) in a thread; its result closes the form, a
        ``PkiError``, ``OSError`` or ``ValueError`` is shown (under its field for a ``FieldError``) and the
        form stays."""
        self.query_one("#form-ok", Button).disabled = True
        self._check(check)

    @work(thread=True, exclusive=True, group="form-check", exit_on_error=False, description="check files")
    def _check(self, check: Callable[[], R]) -> None:
        try:
            result = check()
        except (PkiError, OSError, ValueError) as exc:
            if not get_current_worker().is_cancelled:
                field_ = exc.field if isinstance(exc, FieldError) else None
                self.app.call_from_thread(self.show_error, error_text(exc), field_)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.finish, result)


class FieldError(ValueError):
    """A check of one field failed: ``field`` is the selector of its ``_row`` widget (the message goes
    under it)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _row(label: str, widget: Any, hint: str = "") -> ComposeResult:
    """A labelled field, the line for its error (``#<id>-error``, hidden) and an optional hint."""
    if isinstance(widget, Input | Select):
        widget.compact = True  # one line per field: the forms fit 80x24
    with Horizontal(classes="form-row"):
        yield Label(label, classes="form-label")
        yield widget
    if widget.id:
        yield Static("", id=f"{widget.id}-error", classes="field-error", markup=False)
    if hint:
        yield Static(hint, classes="form-hint", markup=False)


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be written in ``folder`` (run in a thread: it touches the disk), None when they can.

    A missing folder is fine when its nearest existing parent is a folder we can write in (the flows create
    it, 0700); an existing one must be a folder we can write in. Writing is tried (a temporary file, removed
    at once), since permission bits alone do not tell for root, read-only mounts or /proc."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return f"{folder} cannot be created"
        probe = probe.parent
    if not probe.is_dir():
        return (
            f"{folder} is a file, not a folder"
            if probe == folder
            else f"{folder} cannot be created: {probe} is a file"
        )
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if probe == folder:
            return f"cannot write in the folder {folder}: {reason}"
        return f"cannot create the folder {folder} in {probe}: {reason}"
    return None


def _check_folder(folder: Path, names: list[str], field: str) -> None:
    """``FieldError`` (for ``field``) when files ``names`` cannot be created in ``folder``. In a thread."""
    problem = folder_problem(folder)
    if problem is not None:
        raise FieldError(problem, field)
    for name in names:
        if (folder / name).exists():
            raise FieldError(f"{folder / name} already exists; choose another name or folder", field)


def _writable_file(path: Path, field: str) -> Path:
    """``path`` when a file can be written there (its folder exists and takes files, or can be created);
    else ``FieldError`` for ``field`` naming why. In a thread."""
    problem = folder_problem(path.parent)
    if problem is not None:
        raise FieldError(problem, field)
    return path


def _days(text: str, what: str, default: int) -> int:
    if not text:
        return default
    try:
        days = int(text)
    except ValueError:
        raise ValueError(f"the validity of the {what} must be a number of days") from None
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"the validity of the {what} must be 1 to {MAX_DAYS} days")
    return days


def _file_path(field_: PathInput) -> Path | None:
    """The file named in a path field; None while it names no file (empty, or still just a folder)."""
    text = field_.value.strip()
    path = field_.path
    if path is None or text.endswith(("/", "\\")) or path.is_dir():
        return None
    return path


def _read(path: Path | None, what: str) -> bytes:
    if path is None:
        raise ValueError(f"choose {what}")
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    return read_file(path, what=f"{what} {path.name}")


def _open_key(data: bytes, passphrase: str | None, path: Path) -> PrivateKey:
    try:
        return load_private_key(data, passphrase or None, what=f"the key file {path.name}")
    except PassphraseRequiredError:
        raise ValueError(f"{path.name} is encrypted: type its passphrase") from None
    except WrongPassphraseError:
        raise ValueError(f"the passphrase does not open {path.name}") from None


# ---------------------------------------------------------------------------------------- register


class RegisterCaDialog(FormDialog[RegisterRequest]):
    """Register a CA: a new one made here (the default), or a CA certificate file and its key."""

    BINDINGS = [
        Binding("ctrl+t", "other_tab", "New CA / From files", id="register.other_tab"),
    ]
    heading = "Register a CA certificate"
    ok_label = "Register"
    box_classes = "register-box"

    def __init__(self, *, start_folder: str = "", used_text: str = "") -> None:
        super().__init__()
        self.start_folder = start_folder
        self.used_text = used_text

    def compose_fields(self) -> ComposeResult:
        yield Static(
            "Upload → registration code → verification certificate signed with the CA key → verify, in one "
            f"action. {self.used_text} ctrl+t switches between a new CA and files.".strip(),
            classes="form-intro",
            markup=False,
        )
        with TabbedContent(id="register-tabs", initial="new-ca"):
            with TabPane("New CA here", id="new-ca"):
                yield from _row("Common name", Input(placeholder="e.g. Plant 7 MQTT CA", id="ca-cn"))
                yield from _row("Organization", Input(placeholder="optional", id="ca-o"))
                yield from _row("Country", Input(placeholder="optional, two letters (DE)", id="ca-c"))
                yield from _row(
                    "Key type",
                    Select(
                        KEY_TYPE_OPTIONS, value=KeyType.RSA2048.value, allow_blank=False, id="ca-key-type"
                    ),
                )
                yield from _row(
                    "Valid (days)",
                    Input("365", id="ca-days", restrict=r"[0-9]*"),
                    "The platform accepts at most about one year.",
                )
                yield from _row(
                    "Name",
                    Input(placeholder="name on the platform (default: the common name)", id="ca-name"),
                    "The key is kept on this machine, encrypted, before anything is uploaded.",
                )
            with TabPane("From files", id="from-files"):
                yield from _row(
                    "CA certificate",
                    PathInput(
                        self.start_folder,
                        placeholder="ca.pem (PEM or DER)",
                        id="file-cert",
                        title="The CA certificate",
                    ),
                )
                yield from _row(
                    "CA key",
                    PathInput(
                        self.start_folder,
                        placeholder="ca.key (leave empty when the key is elsewhere)",
                        id="file-key",
                        title="The CA private key",
                    ),
                    "Without the key, you get the registration code and the openssl commands to run "
                    "where the key is.",
                )
                yield from _row(
                    "Key passphrase",
                    Input(password=True, placeholder="only for an encrypted key", id="file-pass"),
                )
                yield from _row(
                    "Name", Input(placeholder="default: the certificate's common name", id="file-name")
                )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#ca-cn", Input).focus()

    @property
    def tab(self) -> str:
        return self.query_one("#register-tabs", TabbedContent).active

    def action_other_tab(self) -> None:
        tabs = self.query_one("#register-tabs", TabbedContent)
        tabs.active = "from-files" if tabs.active == "new-ca" else "new-ca"
        first = "#file-cert" if tabs.active == "from-files" else "#ca-cn"
        self.call_after_refresh(self.query_one(first).focus)

    def submit(self) -> None:
        if self.tab == "new-ca":
            cn, org, country = self.value("#ca-cn"), self.value("#ca-o"), self.value("#ca-c")
            subject = SubjectFields(common_name=cn, organization=org or None, country=country or None)
            # Field by field first, so the message goes under the field at fault.
            for selector, alone in (
                ("#ca-cn", SubjectFields(common_name=cn)),
                ("#ca-o", SubjectFields(common_name="CA", organization=org or None)),
                ("#ca-c", SubjectFields(common_name="CA", country=country or None)),
                ("#ca-cn", subject),
            ):
                try:
                    alone.to_name()
                except PkiError as exc:
                    self.show_error(str(exc), selector)
                    return
            try:
                days = _days(self.value("#ca-days"), "CA", 365)
            except ValueError as exc:
                self.show_error(str(exc), "#ca-days")
                return
            try:
                key_type = KeyType.parse(str(self.query_one("#ca-key-type", Select).value))
            except (PkiError, ValueError) as exc:
                self.show_error(str(exc), "#ca-key-type")
                return
            self.finish(NewCaRequest(subject, key_type, days, self.value("#ca-name") or None))
            return
        cert_path = _file_path(self.query_one("#file-cert", PathInput))
        key_path = _file_path(self.query_one("#file-key", PathInput))
        if cert_path is None:
            self.show_error("choose the CA certificate file", "#file-cert")
            return
        passphrase = self.query_one("#file-pass", Input).value
        name = self.value("#file-name") or None

        def check() -> FilesCaRequest:
            data = _read(cert_path, "the CA certificate")
            assert cert_path is not None
            material = read_material(data, passphrase or None, what=f"the file {cert_path.name}")
            if not material.certificates:
                raise ValueError(f"{cert_path.name} holds no certificate (found: {material.summary()})")
            if len(material.certificates) > 1:
                raise ValueError(
                    f"{cert_path.name} holds {len(material.certificates)} certificates; choose a file "
                    "with the CA certificate alone (intermediate CAs are not supported)"
                )
            certificate = material.certificates[0]
            key = None
            if key_path is not None:
                key = _open_key(_read(key_path, "the CA key"), passphrase, key_path)
            elif material.private_keys:
                key = material.private_keys[0]  # a combined PEM with the key inside
            if key is not None and not key_matches_certificate(key, certificate):
                raise ValueError(
                    "the private key does not belong to this CA certificate (their public keys differ); "
                    "nothing was uploaded"
                )
            return FilesCaRequest(certificate, cert_path, key, key_path, name)

        self.check_in_thread(check)


# ------------------------------------------------------------------------------------------ verify


class VerifyCaDialog(FormDialog[VerifyRequest]):
    """Shows the registration code and the openssl commands; takes the verification certificate they make,
    or the CA key file after all."""

    heading = "Verify the CA certificate"
    ok_label = "Verify"
    box_classes = "verify-box"

    def __init__(self, ca_name: str, code: str, recipe: Sequence[str], *, start_folder: str = "") -> None:
        super().__init__()
        self.ca_name = ca_name
        self.code = code
        self.recipe = tuple(recipe)
        self.start_folder = start_folder

    def compose_fields(self) -> ComposeResult:
        yield Static(
            f"{self.ca_name} is uploaded but not verified. Where its key is, run:",
            classes="form-intro",
            markup=False,
        )
        yield Static("\n".join(self.recipe), id="verify-recipe", markup=False)
        with Horizontal(classes="form-row"):
            yield Label("Registration code", classes="form-label")
            yield Static(self.code, id="verify-code", markup=False)
        with Horizontal(classes="form-row copy-row"):
            yield Button("Copy commands", id="copy-recipe", compact=True)
            yield Button("Copy code", id="copy-code", compact=True)
        yield from _row(
            "verification.pem",
            PathInput(
                self.start_folder,
                placeholder="the certificate the commands made",
                id="verify-file",
                title="The verification certificate",
            ),
        )
        yield Static("or, if the CA key is here after all:", classes="form-note", markup=False)
        yield from _row(
            "CA key",
            PathInput("", placeholder="ca.key", id="verify-key", title="The CA private key"),
        )
        yield from _row(
            "Key passphrase", Input(password=True, placeholder="only for an encrypted key", id="verify-pass")
        )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#verify-file", PathInput).focus()

    @on(Button.Pressed, "#copy-recipe")
    def _copy_recipe(self) -> None:
        self.app.copy_to_clipboard("\n".join(self.recipe) + "\n")
        self.notify("The openssl commands were copied (OSC 52).", title="Copied")

    @on(Button.Pressed, "#copy-code")
    def _copy_code(self) -> None:
        self.app.copy_to_clipboard(self.code)
        self.notify("The registration code was copied (OSC 52).", title="Copied")

    def submit(self) -> None:
        cert_path = _file_path(self.query_one("#verify-file", PathInput))
        key_path = _file_path(self.query_one("#verify-key", PathInput))
        if cert_path is None and key_path is None:
            self.show_error("choose the verification certificate (or the CA key file)")
            return
        passphrase = self.query_one("#verify-pass", Input).value

        def check() -> VerifyRequest:
            if cert_path is not None:
                data = _read(cert_path, "the verification certificate")
                return VerifyRequest(verification=load_certificate(data, what=f"the file {cert_path.name}"))
            assert key_path is not None
            return VerifyRequest(
                key=_open_key(_read(key_path, "the CA key"), passphrase, key_path), key_path=key_path
            )

        self.check_in_thread(check)


# ------------------------------------------------------------------------------------------- agent


class AgentDialog(FormDialog[AgentRequest]):
    """A new agent certificate: the service makes the key and the certificate and returns the key once;
    both are saved in the folder before anything else happens."""

    heading = "New agent certificate"
    ok_label = "Create"

    def __init__(self, *, folder: str, tenant: str) -> None:
        super().__init__()
        self.folder = folder
        self.tenant = tenant

    def compose_fields(self) -> ComposeResult:
        yield from _row(
            "Name",
            Input(placeholder="letters, digits, _ - . (e.g. press-line-4)", id="agent-name", max_length=64),
        )
        yield from _row("Owner", Input(placeholder="optional, e.g. an e-mail address", id="agent-owner"))
        yield from _row(
            "Save in", PathInput(self.folder, folders_only=True, id="agent-folder", title="Save the files in")
        )
        yield Static("", id="agent-preview", classes="form-hint", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#agent-name", Input).focus()
        self._preview()

    @on(Input.Changed)
    def _preview(self) -> None:
        name = self.value("#agent-name") or "<name>"
        folder = self.query_one("#agent-folder", PathInput).path or Path(".")
        self.query_one("#agent-preview", Static).update(
            f"Client id {self.tenant}_{name} · files {folder / (name + '.key')} (0600) and {name}.pem"
        )

    def submit(self) -> None:
        name = self.value("#agent-name")
        folder = self.query_one("#agent-folder", PathInput).path
        if not AGENT_NAME_RE.match(name):
            self.show_error("the name must be 1 to 64 letters, digits, '_', '-' or '.'", "#agent-name")
            return
        if folder is None:
            self.show_error("choose the folder for the certificate and its key", "#agent-folder")
            return
        request = AgentRequest(name, self.value("#agent-owner") or None, folder)

        def check() -> AgentRequest:
            _check_folder(folder, [f"{name}.key", f"{name}.pem"], "#agent-folder")
            return request

        self.check_in_thread(check)


# ------------------------------------------------------------------------------------------ device


class DeviceDialog(FormDialog[DeviceRequest]):
    """A device certificate from a verified CA whose key is on this machine."""

    heading = "Issue a device certificate"
    ok_label = "Issue"

    def __init__(self, *, ca_name: str, folder: str, tenant: str) -> None:
        super().__init__()
        self.ca_name = ca_name
        self.folder = folder
        self.tenant = tenant

    def compose_fields(self) -> ComposeResult:
        yield Static(
            f"Issued by {self.ca_name} (verified, key on this machine).", classes="form-intro", markup=False
        )
        yield from _row(
            "Common name",
            Input(placeholder="the device name (e.g. sensor-17)", id="device-cn", max_length=64),
        )
        yield from _row(
            "Key type",
            Select(KEY_TYPE_OPTIONS, value=KeyType.RSA2048.value, allow_blank=False, id="device-key-type"),
        )
        yield from _row("Valid (days)", Input("365", id="device-days", restrict=r"[0-9]*"))
        yield from _row(
            "Save in",
            PathInput(self.folder, folders_only=True, id="device-folder", title="Save the files in"),
        )
        yield Static("", id="device-preview", classes="form-hint", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#device-cn", Input).focus()
        self._preview()

    @on(Input.Changed)
    def _preview(self) -> None:
        cn = self.value("#device-cn") or "<CN>"
        self.query_one("#device-preview", Static).update(
            f"Client id {self.tenant}_{cn} · files {cn}.key (0600), {cn}.pem and {cn}-chain.pem"
        )

    def submit(self) -> None:
        cn = self.value("#device-cn")
        folder = self.query_one("#device-folder", PathInput).path
        try:
            file_stem(cn)
        except (PkiError, ValueError) as exc:
            self.show_error(str(exc), "#device-cn")
            return
        try:
            days = _days(self.value("#device-days"), "device certificate", 365)
        except ValueError as exc:
            self.show_error(str(exc), "#device-days")
            return
        try:
            key_type = KeyType.parse(str(self.query_one("#device-key-type", Select).value))
        except (PkiError, ValueError) as exc:
            self.show_error(str(exc), "#device-key-type")
            return
        if folder is None:
            self.show_error("choose the folder for the certificate, its key and the chain", "#device-folder")
            return
        request = DeviceRequest(cn, days, key_type, folder)

        def check() -> DeviceRequest:
            _check_folder(folder, [f"{cn}.key", f"{cn}.pem", f"{cn}-chain.pem"], "#device-folder")
            return request

        self.check_in_thread(check)


# -------------------------------------------------------------------------------------- save, export


class SavePemDialog(FormDialog[Path]):
    """Where to save a certificate's PEM."""

    heading = "Save the certificate (PEM)"
    ok_label = "Save"

    def __init__(self, what: str, default: str) -> None:
        super().__init__()
        self.what = what
        self.default = default

    def compose_fields(self) -> ComposeResult:
        yield Static(f"Save the PEM of {self.what}.", classes="form-intro", markup=False)
        yield from _row("File", PathInput(self.default, id="save-path", title="Save as"))

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#save-path", PathInput).focus()

    def submit(self) -> None:
        path = self.query_one("#save-path", PathInput).path
        if path is None or path.is_dir():
            self.show_error("type the file name to save to", "#save-path")
            return
        # A folder that takes no file is said here, the dialog and what was typed stay.
        self.check_in_thread(partial(_writable_file, path, "#save-path"))


class ExportKeyDialog(FormDialog[ExportRequest]):
    """Export a CA key kept here, encrypted with a passphrase chosen now (for a backup or another machine)."""

    heading = "Export the CA key (encrypted)"
    ok_label = "Export"

    def __init__(self, what: str, default: str) -> None:
        super().__init__()
        self.what = what
        self.default = default

    def compose_fields(self) -> ComposeResult:
        yield Static(
            f"The private key of {self.what}, written as encrypted PKCS#8 PEM (mode 0600). The passphrase "
            "cannot be recovered: keep it apart from the file.",
            classes="form-intro",
            markup=False,
        )
        yield from _row("File", PathInput(self.default, id="export-path", title="Export to"))
        yield from _row(
            "Passphrase",
            Input(
                password=True, id="export-pass", placeholder=f"at least {EXPORT_PASSPHRASE_MIN} characters"
            ),
        )
        yield from _row("Again", Input(password=True, id="export-pass2"))

    def submit(self) -> None:
        path = self.query_one("#export-path", PathInput).path
        first = self.query_one("#export-pass", Input).value
        second = self.query_one("#export-pass2", Input).value
        if path is None or path.is_dir():
            self.show_error("type the file name to export to", "#export-path")
            return
        if path.exists():
            self.show_error(f"{path} already exists; choose another file name", "#export-path")
            return
        if len(first) < EXPORT_PASSPHRASE_MIN:
            self.show_error(
                f"choose a passphrase of at least {EXPORT_PASSPHRASE_MIN} characters", "#export-pass"
            )
            return
        if first != second:
            self.query_one("#export-pass2", Input).value = ""
            self.show_error("the two passphrases differ: type the same passphrase twice", "#export-pass2")
            return
        self.check_in_thread(lambda: ExportRequest(_writable_file(path, "#export-path"), first))
