"""Where to keep client secrets when this machine has no usable OS keyring, and the vault passphrase.

``SecretStoreDialog`` explains why the keyring cannot be used and offers the headless choices: an
encrypted vault file, this session only, or environment variables. It returns the chosen ``StoreKind``
(the caller remembers it per machine with ``SecretStore.set_choice`` in a thread worker).

``VaultPassphraseDialog`` asks for the vault passphrase (twice for a new vault) and checks it with a
callable run in a thread worker, so a wrong passphrase shows an error and the dialog stays open.
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

from tui.config.profiles import ENV_CLIENT_SECRET, ENV_PROFILE
from tui.config.secrets import ENV_VAULT_PASSPHRASE, KeyringStatus, StoreKind, VaultPassphraseError

MIN_PASSPHRASE = 8

DBUS_RECIPE = (
    "To use the OS keyring over SSH instead, start ihub inside a D-Bus session with an unlocked keyring:\n"
    "  dbus-run-session -- sh -c 'gnome-keyring-daemon --unlock; ihub'   (keyring password on stdin)"
)


def env_instructions(profile: str | None) -> str:
    who = f"export {ENV_PROFILE}={profile}\n  " if profile else ""
    return (
        "Nothing is stored. Before starting ihub, set the secret in the environment, e.g.:\n"
        f"  {who}export {ENV_CLIENT_SECRET}='<client secret>'\n"
        f"(Without {ENV_PROFILE}, {ENV_CLIENT_SECRET} applies to every profile.)"
    )


class SecretStoreDialog(ModalScreen[StoreKind | None]):
    """No usable OS keyring: choose the encrypted vault, this session only, or environment variables."""

    CSS_PATH = "../tcss/keys.tcss"

    BINDINGS = [
        Binding("v", "choose('vault')", "Vault file", id="secretstore.vault"),
        Binding("s", "choose('session')", "Session only", id="secretstore.session"),
        Binding("e", "choose('env')", "Environment", id="secretstore.env"),
        Binding("escape", "cancel", "Cancel", id="secretstore.cancel"),
    ]

    def __init__(
        self,
        status: KeyringStatus,
        *,
        profile: str | None = None,
        vault_exists: bool = False,
        current: StoreKind | None = None,
    ) -> None:
        super().__init__(classes="dialog")
        self.status = status
        self.profile = profile
        self.vault_exists = vault_exists
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box secret-store-box") as box:
            box.border_title = "Where should client secrets be kept?"
            yield Static(
                f"No secure keyring on this machine: {self.status.reason}.",
                id="store-reason",
                classes="dialog-error",
                markup=False,
            )
            yield Static(
                "Choose where ihub keeps client secrets on this machine (remembered; change it later "
                "with b on the Keys screen). Nothing is ever written in plain text.",
                classes="dialog-message",
            )
            vault_note = "opens the existing vault" if self.vault_exists else "creates a new vault"
            env_pass = (
                f"; {ENV_VAULT_PASSPHRASE} is set and will be used"
                if self.app_environ_has_passphrase
                else f", or set {ENV_VAULT_PASSPHRASE}"
            )
            yield Button("v  Encrypted vault file", id="vault", variant="primary", classes="store-choice")
            yield Static(
                f"scrypt + AES-GCM, file mode 0600; {vault_note}; asks a passphrase{env_pass}.",
                classes="store-help",
                markup=False,
            )
            yield Button("s  This session only", id="session", classes="store-choice")
            yield Static(
                "Kept in memory until ihub exits; you will be asked again next time.",
                classes="store-help",
            )
            yield Button("e  Environment variables", id="env", classes="store-choice")
            yield Static(env_instructions(self.profile), classes="store-help", id="env-help", markup=False)
            yield Static(DBUS_RECIPE, classes="dialog-hint", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")

    @property
    def app_environ_has_passphrase(self) -> bool:
        services = getattr(self.app, "services", None)
        environ = getattr(services, "environ", None) or {}
        return bool(environ.get(ENV_VAULT_PASSPHRASE))

    def on_mount(self) -> None:
        target = (
            self.current.value
            if self.current in (StoreKind.VAULT, StoreKind.SESSION, StoreKind.ENV)
            else "vault"
        )
        self.query_one(f"#{target}", Button).focus()

    @on(Button.Pressed, ".store-choice")
    def _on_choice(self, event: Button.Pressed) -> None:
        if event.button.id:
            self.action_choose(event.button.id)

    def action_choose(self, kind: str) -> None:
        self.dismiss(StoreKind(kind))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class VaultPassphraseDialog(ModalScreen[str | None]):
    """Ask for the vault passphrase (twice when ``new``); ``check`` runs in a thread and may raise
    ``VaultPassphraseError``, which is shown while the dialog stays open. Returns the passphrase or None.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="vault.cancel")]

    def __init__(self, *, new: bool, check: Callable[[str], None] | None = None, purpose: str = "") -> None:
        super().__init__(classes="dialog")
        self.new = new
        self._check = check
        self.purpose = purpose

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
                self.app.call_from_thread(self._check_failed, str(exc) or "wrong passphrase")
            return
        except Exception as exc:  # any other vault problem: shown, the dialog stays
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._check_failed, f"{type(exc).__name__}: {exc}")
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
