"""Modal dialogs shared by every area: confirm, error, and the vault passphrase.

``VaultPassphraseDialog`` is the one passphrase dialog: it asks for the vault passphrase (twice for a new
vault) and checks it with a callable run in a thread worker, so a wrong passphrase shows an error and the
dialog stays open. The passphrase is never shown, logged or kept on the dialog after it closes.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static
from textual.worker import get_current_worker

from tui.config.inputs import InputError, clean_text, strip_bom
from tui.config.secrets import VaultPassphraseError
from tui.errors import error_text

MIN_PASSPHRASE = 8


class ConfirmDialog(ModalScreen[bool]):
    """Ask before doing something; dismisses with True (confirmed) or False (cancel, escape).

    With ``typed`` (a name) it is a typed confirmation: the confirm button stays off until the name is
    typed exactly, and no single key confirms. ``AreaScreen.confirm_destructive`` decides when a name is
    asked for (``tui.config.safety``); every destructive action of the app goes through this dialog.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("n", "cancel", "Cancel", id="dialog.cancel_n", show=False),
        Binding("y", "confirm", "Confirm", id="dialog.confirm", show=False),
    ]

    def __init__(
        self,
        title: str,
        message: str,
        *,
        confirm_label: str = "Yes",
        cancel_label: str = "Cancel",
        danger: bool = False,
        typed: str | None = None,
    ) -> None:
        super().__init__(classes="dialog error" if typed is not None else "dialog")
        self.heading = title
        self.message = message
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label
        self.danger = danger or typed is not None
        self.typed = typed

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.heading
            yield Static(self.message, classes="dialog-message", markup=False)
            if self.typed is not None:
                yield Static(f"Type the name to confirm: {self.typed}", id="typed-prompt", markup=False)
                yield Input(id="typed", placeholder=self.typed)
                yield Static("", id="dialog-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    self.confirm_label,
                    id="confirm",
                    variant="error" if self.danger else "primary",
                    disabled=self.typed is not None,
                )
                yield Button(self.cancel_label, id="cancel")

    def on_mount(self) -> None:
        if self.typed is not None:
            self.query_one("#dialog-error").display = False
            self.query_one("#typed", Input).focus()
            return
        # Safe default: a destructive question starts on Cancel.
        self.query_one("#cancel" if self.danger else "#confirm", Button).focus()

    @property
    def matches(self) -> bool:
        """The typed name is the one asked for (always True without a typed confirmation)."""
        if self.typed is None:
            return True
        return strip_bom(self.query_one("#typed", Input).value).strip() == self.typed

    @property
    def error_text(self) -> str:
        if self.typed is None:
            return ""
        return str(self.query_one("#dialog-error", Static).content)

    @on(Input.Changed, "#typed")
    def _typed_changed(self) -> None:
        self.query_one("#confirm", Button).disabled = not self.matches
        self.query_one("#dialog-error").display = False

    @on(Input.Submitted, "#typed")
    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        if not self.matches:
            error = self.query_one("#dialog-error", Static)
            try:  # a name pasted with an invisible character looks right: say which character it is
                clean_text(self.query_one("#typed", Input).value, "name you typed")
                words = f"Type {self.typed} exactly"
            except InputError as exc:
                words = str(exc)[0].upper() + str(exc)[1:]
            error.update(f"{words}: nothing was done.")
            error.display = True
            return
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class ErrorDialog(ModalScreen[None]):
    """Show an error that needs to be read (most errors are notifications instead)."""

    BINDINGS = [Binding("escape,enter", "close", "Close", id="dialog.close")]

    def __init__(self, title: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(classes="dialog error")
        self.heading = title
        self.message = message
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.heading
            yield Static(self.message, classes="dialog-message", markup=False)
            if self.hint:
                yield Static(self.hint, classes="dialog-hint", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


class VaultPassphraseDialog(ModalScreen[str | None]):
    """Ask for the vault passphrase (twice when ``new``); ``check`` runs in a thread and may raise
    ``VaultPassphraseError``, which is shown while the dialog stays open. Returns the passphrase or None.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="vault.cancel")]

    def __init__(
        self,
        *,
        new: bool,
        check: Callable[[str], None] | None = None,
        purpose: str = "",
        error: str | None = None,
    ) -> None:
        super().__init__(classes="dialog")
        self.new = new
        self._check = check
        self.purpose = purpose
        self._first_error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = "New encrypted vault" if self.new else "Unlock the vault"
            if self.new:
                prompt = (
                    "Choose a passphrase for the new vault file (at least "
                    f"{MIN_PASSPHRASE} characters). It cannot be recovered if lost."
                )
            else:
                prompt = "Enter the passphrase of the encrypted vault."
            if self.purpose:
                prompt = f"{self.purpose}\n{prompt}"
            yield Label(prompt, classes="dialog-message")
            yield Static("", id="vault-error", classes="dialog-error", markup=False)
            yield Input(password=True, id="passphrase", placeholder="passphrase")
            if self.new:
                yield Input(password=True, id="passphrase2", placeholder="passphrase again")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#vault-error").display = False
        if self._first_error:
            self._show_error(f"{self._first_error}. Try again or press escape.")
        self.query_one("#passphrase", Input).focus()

    @property
    def error_text(self) -> str:
        return str(self.query_one("#vault-error", Static).content)

    def _show_error(self, message: str) -> None:
        error = self.query_one("#vault-error", Static)
        error.update(message)
        error.display = True

    def _clear_inputs(self) -> None:
        for field in self.query(Input):
            field.value = ""

    @on(Input.Submitted, "#passphrase")
    def _first_submitted(self) -> None:
        if self.new:
            self.query_one("#passphrase2", Input).focus()
        else:
            self._submit()

    @on(Input.Submitted, "#passphrase2")
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        first = self.query_one("#passphrase", Input).value
        if not first:
            self._show_error("The passphrase is empty.")
            return
        if self.new:
            second = self.query_one("#passphrase2", Input).value
            if len(first) < MIN_PASSPHRASE:
                self._show_error(f"The passphrase is too short: use at least {MIN_PASSPHRASE} characters.")
                return
            if first != second:
                self._show_error("The two passphrases differ: type the same passphrase twice.")
                self.query_one("#passphrase2", Input).value = ""
                self.query_one("#passphrase2", Input).focus()
                return
        if self._check is None:
            self._clear_inputs()
            self.dismiss(first)
            return
        self.query_one("#ok", Button).disabled = True
        self._run_check(first)

    @work(
        thread=True, exclusive=True, group="vault-check", exit_on_error=False, description="check passphrase"
    )
    def _run_check(self, passphrase: str) -> None:
        assert self._check is not None
        try:
            self._check(passphrase)
        except VaultPassphraseError as exc:
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._check_failed, error_text(exc) or "wrong vault passphrase")
            return
        except Exception as exc:  # any other vault problem: shown, the dialog stays
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._check_failed, error_text(exc))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._check_passed, passphrase)

    def _check_failed(self, message: str) -> None:
        self.query_one("#ok", Button).disabled = False
        self._clear_inputs()
        text = message if "passphrase" in message.lower() else f"The vault could not be opened: {message}"
        self._show_error(f"{text} Nothing was changed; try again or press escape.")
        self.query_one("#passphrase", Input).focus()

    def _check_passed(self, passphrase: str) -> None:
        self._clear_inputs()
        self.dismiss(passphrase)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self._clear_inputs()
        self.dismiss(None)
