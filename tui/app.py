"""The ihub application shell: four areas as modes, the header, the palette, help and the connection.

The app owns the services and the one ``ApiClient`` of the active profile; screens own the workers for
their data and reach the connection through ``app.api``, ``app.active_profile`` and ``ConnectionChanged``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import SimpleCommand
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from tui.api.client import ApiClient
from tui.api.errors import one_line
from tui.commands import PaletteCommand, ShellCommands
from tui.config.profiles import Profile
from tui.config.secrets import Secret, VaultLockedError, VaultPassphraseError
from tui.messages import ConnectionChanged, ConnectionState, Phase
from tui.screens.dialogs import PassphraseDialog
from tui.screens.help import HelpScreen, help_sections
from tui.screens.keys import KeysScreen
from tui.screens.placeholder import PlaceholderScreen
from tui.services import ServiceError, Services
from tui.widgets.status_bar import StatusBar

# Mode name -> (title, what the area is for). The order is the order of keys 1-4.
AREAS: dict[str, tuple[str, str]] = {
    "keys": ("Keys", "Profiles, client secrets and connection tests"),
    "assets": ("Assets", "The asset hierarchy: types, aspects, variables, latest values"),
    "timeseries": ("Time series", "Raw values and aggregates for chosen variables"),
    "certificates": ("Certificates", "MQTT certificates: local CA, verification, agent certificates"),
}

# How often the app checks whether the access token needs renewing (the countdown ticks on its own).
TOKEN_CHECK_SECONDS = 5.0


class ConnectionProblem(Exception):
    """A connection could not be made for a reason the user can fix; one plain line."""


class IhubApp(App[None]):
    """Insights Hub in the terminal."""

    TITLE = "ihub"
    CSS_PATH = "tcss/app.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {ShellCommands}

    MODES: ClassVar[dict[str, Any]] = {
        "keys": KeysScreen,
        "assets": partial(PlaceholderScreen, "assets"),
        "timeseries": partial(PlaceholderScreen, "timeseries"),
        "certificates": partial(PlaceholderScreen, "certificates"),
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_area('keys')", "Keys", tooltip="Go to Keys", id="app.area.keys"),
        Binding("2", "switch_area('assets')", "Assets", tooltip="Go to Assets", id="app.area.assets"),
        Binding(
            "3",
            "switch_area('timeseries')",
            "Time series",
            tooltip="Go to Time series",
            id="app.area.timeseries",
        ),
        Binding(
            "4",
            "switch_area('certificates')",
            "Certificates",
            tooltip="Go to Certificates",
            id="app.area.certificates",
        ),
        Binding(
            "p,ctrl+o",
            "switch_profile",
            "Profile",
            tooltip="Switch to another profile",
            id="app.switch_profile",
        ),
        Binding("question_mark,f1", "help", "Help", tooltip="Show every key (this list)", id="app.help"),
        Binding(
            "ctrl+p",
            "command_palette",
            "Palette",
            tooltip="Open the command palette",
            show=False,
            priority=True,
            id="app.command_palette",
        ),
        Binding("q", "quit", "Quit", tooltip="Quit ihub", id="app.quit"),
        Binding(
            "ctrl+q", "quit", "Quit", tooltip="Quit ihub", show=False, priority=True, id="app.quit_anywhere"
        ),
    ]

    def __init__(self, services: Services, *, profile: str | None = None) -> None:
        super().__init__()
        self.services = services
        self._requested_profile = profile
        self._api: ApiClient | None = None
        self._profile: Profile | None = None
        self.connection = ConnectionState()

    # -- public API for screens ---------------------------------------------------------------------

    @property
    def api(self) -> ApiClient | None:
        """The client of the active profile while connected, else None."""
        return self._api if self.connection.phase is Phase.CONNECTED else None

    @property
    def active_profile(self) -> Profile | None:
        return self._profile

    async def activate_profile(self, name: str) -> bool:
        """Make ``name`` the active profile and connect; True once connected (errors are notified)."""
        worker = self._connect(name)
        try:
            await worker.wait()
        except (WorkerCancelled, WorkerFailed):
            return False
        return self.connection.phase is Phase.CONNECTED and self.connection.profile == name

    def show_error(self, error: BaseException | str, *, title: str = "Error") -> None:
        """A clean one-line error notification; never a traceback."""
        text = error if isinstance(error, str) else error_text(error)
        self.notify(text, title=title, severity="error", timeout=10, markup=False)

    def palette_commands(self) -> Iterator[PaletteCommand]:
        """The app's commands for the palette (built fresh each time it opens)."""
        for mode, (title, description) in AREAS.items():
            yield PaletteCommand(f"Go to {title}", description, partial(self.switch_area, mode))
        for name in self._profile_names():
            active = " (active)" if self._profile is not None and self._profile.name == name else ""
            yield PaletteCommand(
                f"Switch profile: {name}",
                self._profile_help(name) + active,
                partial(self._start_connect, name),
            )
        yield PaletteCommand(
            "Test connection",
            "Connect the active profile again: read its secret and request a new token",
            self.action_test_connection,
        )
        yield PaletteCommand("Help", "Every key of the app and of this screen", self.action_help)

    def get_system_commands(self, screen: Screen) -> Iterator[SystemCommand]:
        # Textual's "Keys" panel is replaced by the Help command (it lists every key of the screen).
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command

    # -- start and stop ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.screen_change_signal.subscribe(self, self._on_screen_change)
        self.set_interval(TOKEN_CHECK_SECONDS, self._check_token, name="token-check")
        name = self._initial_profile()
        if name is None:
            self.switch_mode("keys")
            return
        self.switch_mode("assets")
        self._start_connect(name)

    async def on_unmount(self) -> None:
        await self._close_client()

    def _initial_profile(self) -> str | None:
        try:
            return self.services.initial_profile_name(self._requested_profile)
        except Exception as exc:  # a broken profiles file must not stop the app
            self.show_error(exc, title="Profiles")
            return None

    # -- areas -------------------------------------------------------------------------------------

    def switch_area(self, mode: str) -> None:
        if mode not in AREAS:
            raise ValueError(f"unknown area {mode!r}")
        if self.current_mode != mode:
            self.switch_mode(mode)

    def action_switch_area(self, mode: str) -> None:
        self.switch_area(mode)

    def _on_screen_change(self, screen: Screen) -> None:
        if isinstance(screen, ModalScreen) or self.current_mode not in AREAS:
            return
        if screen in self.get_screen_stack(self.current_mode)[:1]:
            screen.call_after_refresh(self._dress, screen, self.current_mode)

    def _dress(self, screen: Screen, mode: str) -> None:
        """Give an area screen the shared header and a footer unless it composes its own."""
        if not screen.is_attached:
            return
        if not screen.query(StatusBar):
            bar = StatusBar(AREAS[mode][0])
            if screen.children:
                screen.mount(bar, before=0)
            else:
                screen.mount(bar)
        if not screen.query(Footer):
            screen.mount(Footer())

    def _area_screens(self) -> Iterator[Screen]:
        for mode in AREAS:
            try:
                stack = self.get_screen_stack(mode)
            except KeyError:
                continue
            yield from stack

    # -- help, palette, profiles -------------------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        title = AREAS.get(self.current_mode, (self.screen.title or "",))[0]
        self.push_screen(HelpScreen(help_sections(self, self.screen, title), title=f"Help · {title}"))

    def action_switch_profile(self) -> None:
        names = self._profile_names()
        if not names:
            self.notify("No profiles yet: add one on the Keys screen.", title="Profiles")
            self.switch_area("keys")
            return
        commands = [
            SimpleCommand(name, partial(self._start_connect, name), self._profile_help(name))
            for name in names
        ]
        self.search_commands(commands, placeholder="Switch to profile…")

    def action_test_connection(self) -> None:
        if self._profile is None:
            self.notify("No profile is active.", title="Test connection", severity="warning")
            return
        self._start_connect(self._profile.name, announce=True)

    def _profile_names(self) -> list[str]:
        try:
            return list(self.services.profiles.names())
        except Exception as exc:
            self.show_error(exc, title="Profiles")
            return []

    def _profile_help(self, name: str) -> str:
        try:
            profile = self.services.profiles.get(name)
        except Exception:
            return ""
        tenant = f" · tenant {profile.tenant}" if profile.tenant else ""
        return f"{profile.gateway}{tenant}"

    # -- connection --------------------------------------------------------------------------------

    def _start_connect(self, name: str, announce: bool = False) -> None:
        self._connect(name, announce)

    @work(exclusive=True, group="connection", exit_on_error=False, description="connect")
    async def _connect(self, name: str, announce: bool = False) -> None:
        await self._close_client()
        try:
            profile = self.services.resolve_profile(name)
        except Exception as exc:
            self._profile = None
            self._set_state(ConnectionState(Phase.ERROR, profile=name, error=error_text(exc)))
            self.show_error(exc, title=f"Profile {name}")
            return
        self._profile = profile
        tenant = profile.tenant or None
        self._set_state(
            ConnectionState(Phase.CONNECTING, profile=name, tenant=tenant, read_only=profile.read_only)
        )
        client: ApiClient | None = None
        try:
            secret = await self._read_secret(profile)
            client = self.services.connect(profile, secret.value)
            self._api = client
            token = await client.tokens.get()
        except Exception as exc:
            self._api = None
            if client is not None:
                await _close_quietly(client)
            message = error_text(exc)
            self._set_state(
                ConnectionState(
                    Phase.ERROR, profile=name, tenant=tenant, read_only=profile.read_only, error=message
                )
            )
            self.show_error(message, title=f"Cannot connect {name}")
            return
        self._set_state(
            ConnectionState(
                Phase.CONNECTED,
                profile=name,
                tenant=token.tenant or tenant,
                expires_at=token.expires_at,
                scopes=tuple(token.scopes),
                client_id=token.client_id or profile.client_id,
                read_only=profile.read_only,
            )
        )
        if announce:
            self.notify(
                f"{name}: token received for {token.client_id or profile.client_id}"
                f" ({len(token.scopes)} scopes).",
                title="Connection OK",
            )

    async def _read_secret(self, profile: Profile) -> Secret:
        """Read the secret in a thread (the keyring can block); ask for the vault passphrase if needed."""
        error: str | None = None
        for _attempt in range(3):
            worker: Worker[Secret | None] = self.run_worker(
                partial(self.services.read_secret, profile),
                thread=True,
                group="secret",
                exit_on_error=False,
                description="read secret",
            )
            try:
                secret = await worker.wait()
            except WorkerFailed as failed:
                if not isinstance(failed.error, VaultLockedError):
                    raise failed.error from None
                passphrase = await self.push_screen_wait(
                    PassphraseDialog(
                        "Unlock the vault",
                        f"The client secret of {profile.name} is in the encrypted vault. Passphrase:",
                        error=error,
                    )
                )
                if passphrase is None:
                    raise ConnectionProblem("the vault stays locked: no secret for this profile") from None
                try:
                    await self.run_worker(
                        partial(self.services.secrets.unlock_vault, passphrase),
                        thread=True,
                        group="secret",
                        exit_on_error=False,
                    ).wait()
                except WorkerFailed as unlock_failed:
                    if not isinstance(unlock_failed.error, VaultPassphraseError):
                        raise unlock_failed.error from None
                    error = error_text(unlock_failed.error)
                continue
            if secret is None:
                raise ConnectionProblem(
                    f"no client secret stored for profile {profile.name}: add it on the Keys screen (1)"
                )
            return secret
        raise ConnectionProblem("the vault stays locked: wrong passphrase")

    @work(exclusive=True, group="token", exit_on_error=False, description="renew token")
    async def _renew_token(self) -> None:
        client = self._api
        state = self.connection
        if client is None or state.phase is not Phase.CONNECTED:
            return
        try:
            token = await client.tokens.get()
        except Exception as exc:
            if client is self._api:
                message = error_text(exc)
                self._set_state(
                    ConnectionState(
                        Phase.ERROR,
                        profile=state.profile,
                        tenant=state.tenant,
                        read_only=state.read_only,
                        error=message,
                    )
                )
                self.show_error(message, title="Token renewal failed")
            return
        if client is self._api and token.expires_at != self.connection.expires_at:
            self._set_state(_with_token(self.connection, token.expires_at, tuple(token.scopes)))

    def _check_token(self) -> None:
        """Follow the token the client holds; renew it shortly before it expires."""
        client = self._api
        state = self.connection
        if client is None or state.phase is not Phase.CONNECTED:
            return
        held = client.tokens.token
        if held is not None and held.expires_at != state.expires_at:
            self._set_state(_with_token(state, held.expires_at, tuple(held.scopes)))
        if held is None or not client.tokens.is_fresh(held):
            self._renew_token()

    async def _close_client(self) -> None:
        client, self._api = self._api, None
        if client is not None:
            await _close_quietly(client)

    def _set_state(self, state: ConnectionState) -> None:
        self.connection = state
        for screen in self._area_screens():
            for bar in screen.query(StatusBar):
                bar.state = state
            screen.post_message(ConnectionChanged(state))


def _with_token(state: ConnectionState, expires_at: float, scopes: tuple[str, ...]) -> ConnectionState:
    return ConnectionState(
        Phase.CONNECTED,
        profile=state.profile,
        tenant=state.tenant,
        expires_at=expires_at,
        scopes=scopes or state.scopes,
        client_id=state.client_id,
        read_only=state.read_only,
    )


async def _close_quietly(client: ApiClient) -> None:
    try:
        await client.aclose()
    except Exception:  # closing must never raise into the UI
        return


def error_text(error: BaseException) -> str:
    """One line for the user: the typed errors already are; anything else gets its type name."""
    from tui.api.errors import ApiError

    if isinstance(error, ApiError | ConnectionProblem | ServiceError | ValueError | OSError):
        text = str(error) or type(error).__name__
    else:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return one_line(text, 200)
