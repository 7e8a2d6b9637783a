"""Modal dialogs shared by every area: confirm, error and passphrase."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ConfirmDialog(ModalScreen[bool]):
    """Ask a yes/no question; dismisses with True (confirm) or False (cancel, escape)."""

    BINDINGS = [
        Binding("escape,n", "cancel", "Cancel", id="dialog.cancel"),
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
    ) -> None:
        super().__init__(classes="dialog")
        self.heading = title
        self.message = message
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.heading
            yield Static(self.message, classes="dialog-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm_label, id="confirm", variant="error" if self.danger else "primary")
                yield Button(self.cancel_label, id="cancel")

    def on_mount(self) -> None:
        # Safe default: a destructive question starts on Cancel.
        self.query_one("#cancel" if self.danger else "#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
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


class PassphraseDialog(ModalScreen[str | None]):
    """Ask for a passphrase in a masked input; dismisses with the text, or None when cancelled.

    The passphrase is never shown, logged or kept on the dialog after it closes.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, prompt: str, *, error: str | None = None) -> None:
        super().__init__(classes="dialog")
        self.heading = title
        self.prompt = prompt
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.heading
            yield Label(self.prompt, classes="dialog-message")
            if self.error:
                yield Static(self.error, classes="dialog-error", markup=False)
            yield Input(password=True, id="passphrase", placeholder="passphrase")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    def _submit(self) -> None:
        field = self.query_one("#passphrase", Input)
        value = field.value
        field.value = ""
        self.dismiss(value or None)

    @on(Input.Submitted, "#passphrase")
    def _on_submitted(self) -> None:
        self._submit()

    @on(Button.Pressed, "#ok")
    def _on_ok(self) -> None:
        self._submit()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.query_one("#passphrase", Input).value = ""
        self.dismiss(None)
