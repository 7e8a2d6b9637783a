"""Where to keep client secrets when this machine has no usable OS keyring.

``SecretStoreDialog`` explains why the keyring cannot be used and offers the headless choices that will
really be used here (``SecretStore.available_kinds()``): an encrypted vault file, this session only, or
environment variables. It returns the chosen ``StoreKind`` (the caller remembers it per machine with
``SecretStore.set_choice`` in a thread worker).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.config.profiles import ENV_CLIENT_SECRET, ENV_PROFILE
from tui.config.secrets import ENV_VAULT_PASSPHRASE, KeyringStatus, StoreKind

# The choices this dialog can offer, in this order (those of SecretStore.available_kinds() are shown).
CHOICES: tuple[StoreKind, ...] = (StoreKind.VAULT, StoreKind.SESSION, StoreKind.ENV)

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
    """No usable OS keyring: choose among ``kinds`` (the vault, this session only, environment variables)."""

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
        kinds: Sequence[StoreKind] = CHOICES,
    ) -> None:
        super().__init__(classes="dialog")
        # Only what will really happen here is offered (the keyring is not a choice: it is not usable).
        self.kinds = tuple(kind for kind in CHOICES if kind in kinds)
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
            if StoreKind.VAULT in self.kinds:
                vault_note = "opens the existing vault" if self.vault_exists else "creates a new vault"
                env_pass = (
                    f"; {ENV_VAULT_PASSPHRASE} is set and will be used"
                    if self.app_environ_has_passphrase
                    else f", or set {ENV_VAULT_PASSPHRASE}"
                )
                yield Button("v  Encrypted vault file", id="vault", classes="store-choice")
                yield Static(
                    f"scrypt + AES-GCM, file mode 0600; {vault_note}; asks a passphrase{env_pass}.",
                    classes="store-help",
                    markup=False,
                )
            if StoreKind.SESSION in self.kinds:
                yield Button("s  This session only", id="session", classes="store-choice")
                yield Static(
                    "Kept in memory until ihub exits; you will be asked again next time.",
                    classes="store-help",
                )
            if StoreKind.ENV in self.kinds:
                yield Button("e  Environment variables", id="env", classes="store-choice")
                yield Static(
                    env_instructions(self.profile), classes="store-help", id="env-help", markup=False
                )
            yield Static(DBUS_RECIPE, classes="dialog-hint", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")

    @property
    def app_environ_has_passphrase(self) -> bool:
        services = getattr(self.app, "services", None)
        environ = getattr(services, "environ", None) or {}
        return bool(environ.get(ENV_VAULT_PASSPHRASE))

    def on_mount(self) -> None:
        if not self.kinds:
            return
        target = self.current if self.current in self.kinds else self.kinds[0]
        button = self.query_one(f"#{target.value}", Button)
        button.variant = "primary"
        button.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # v, s and e work only for the choices shown.
        if action == "choose" and parameters:
            return StoreKind(str(parameters[0])) in self.kinds
        return True

    @on(Button.Pressed, ".store-choice")
    def _on_choice(self, event: Button.Pressed) -> None:
        if event.button.id:
            self.action_choose(event.button.id)

    def action_choose(self, kind: str) -> None:
        if StoreKind(kind) in self.kinds:
            self.dismiss(StoreKind(kind))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
