"""The ihub application shell: four areas as modes, the palette, help and the connection.

The app owns the services and the one ``ApiClient`` of the active profile, and implements ``IhubContext``
(``tui/context.py``), the only way screens reach it. Areas come from the table in ``tui/areas.py``; each
area screen (``AreaScreen``) composes its own header and footer and follows ``connection_signal``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from functools import partial
from pathlib import PurePath
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import SimpleCommand
from textual.screen import Screen
from textual.signal import Signal
from textual.widget import AwaitMount
from textual.worker import WorkerCancelled, WorkerFailed

from tui import errorlog
from tui.api.auth import skew_words
from tui.api.client import ApiClient
from tui.app_proxy import AppProxy, ProxyCommands
from tui.areas import AREA_BY_MODE, AREAS, preload_areas
from tui.bindings import check_keymap
from tui.commands import ShellCommands
from tui.config.profiles import Profile
from tui.config.safety import Safety
from tui.config.secrets import Secret
from tui.context import PaletteCommand
from tui.crash import CrashGuard
from tui.errors import error_text
from tui.gctune import LongLivedObjects
from tui.messages import AreaRequested, ConnectionState, Phase, ProxyStatus
from tui.screens.base import AreaScreen
from tui.screens.dialogs import VaultPassphraseDialog
from tui.screens.help import HelpScreen, help_sections
from tui.screens.requests import RequestsScreen
from tui.services import Services
from tui.widgets.colours import (
    SIXTEEN_THEME_NAME,
    few_colours,
    fit_ansi_palette,
    sixteen_colour_theme,
    use_colourless,
)

# How often the app checks whether the access token needs renewing (the countdown ticks on its own).
TOKEN_CHECK_SECONDS = 5.0

# The longest the output is held while a new area's screen is built (tui/app.py ``switch_mode``).
AREA_BUILD_HOLD_SECONDS = 5.0

# Every style sheet of the app, loaded once at start: each area's rules are nested under its screen class,
# so no rule leaks into another area and none is missing before an area is first shown.
STYLE_SHEETS: list[str | PurePath] = [
    "tcss/app.tcss",
    "tcss/dialogs.tcss",
    "tcss/keys.tcss",
    "tcss/assets.tcss",
    "tcss/certificates.tcss",
    "tcss/requests.tcss",
    "tcss/timeseries.tcss",
]


def _area_bindings() -> list[BindingType]:
    return [
        Binding(
            area.key,
            f"switch_area('{area.mode}')",
            area.title,
            tooltip=f"Go to {area.title}",
            id=f"app.area.{area.mode}",
        )
        for area in AREAS
    ]


class IhubApp(CrashGuard, ProxyCommands, App[None]):
    """Insights Hub in the terminal. Unexpected errors: ``tui.crash.CrashGuard`` (logged, one line)."""

    TITLE = "ihub"
    CSS_PATH = STYLE_SHEETS
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {ShellCommands}

    MODES: ClassVar[dict[str, Any]] = {area.mode: area.factory() for area in AREAS}

    BINDINGS: ClassVar[list[BindingType]] = [
        *_area_bindings(),
        Binding(
            "p,ctrl+o",
            "switch_profile",
            "Profile",
            tooltip="Switch to another profile",
            id="app.switch_profile",
        ),
        Binding("question_mark,f1", "help", "Help", tooltip="Show every key (this list)", id="app.help"),
        Binding(
            "f2",
            "requests",
            "Requests",
            tooltip="The API calls of this session: details, copy as curl",
            show=False,
            id="app.requests",
        ),
        Binding(
            "ctrl+p",
            "command_palette",
            "Palette",
            tooltip="Open the command palette",
            show=False,
            priority=True,
            id="app.command_palette",
        ),
        Binding(
            "f3",
            "toggle_mouse",
            "Mouse",
            tooltip="Mouse capture on/off (off: drag to select text with the terminal)",
            show=False,
            id="app.mouse",
        ),
        Binding(
            "escape",
            "dismiss_notifications",
            "Dismiss",
            tooltip="Dismiss the notifications shown (where escape has no other use)",
            show=False,
            id="app.dismiss_notifications",
        ),
        Binding("q", "quit", "Quit", tooltip="Quit ihub", id="app.quit"),
        Binding(
            "ctrl+q", "quit", "Quit", tooltip="Quit ihub", show=False, priority=True, id="app.quit_anywhere"
        ),
    ]

    def __init__(self, services: Services, *, profile: str | None = None, mouse: bool | None = None) -> None:
        super().__init__()
        self.services = services
        # Mouse capture at start: ``mouse`` (``ihub --no-mouse``), else ``[ui] mouse`` in settings.toml.
        self.mouse_at_start = _preference(services, "mouse", True) if mouse is None else mouse
        self.mouse_reporting = self.mouse_at_start
        self._theme_from_settings = False
        self._clashes_told: set[frozenset[str]] = set()
        # NO_COLOR or TERM=dumb: no colour codes at all, highlights in reverse video (tui/widgets/colours.py).
        use_colourless(self)
        self.register_theme(sixteen_colour_theme())
        # Calls of this process are the app's; tracebacks go where these services say (the demo: a
        # temporary folder).
        if services.activity is not None:
            services.activity.source = "app"
        errorlog.configure(services.error_log_file)
        self._crash_times: list[float] = []  # tui.crash.CrashGuard: unexpected errors, app keeps running
        self._area_reloads: dict[str, int] = {}
        self._requested_profile = profile
        self._api: ApiClient | None = None
        self._profile: Profile | None = None
        self._safety = services.safety(None)
        self._connection = ConnectionState(read_only=self._safety.read_only)  # _set_state keeps it right
        self._connection_signal: Signal[ConnectionState] = Signal(self, "connection")
        # The local API proxy started from the palette (tui/app_proxy.py); the header follows proxy_signal.
        self.proxy = AppProxy(services, self._proxy_changed)
        self.proxy_signal: Signal[ProxyStatus | None] = Signal(self, "proxy")
        if services.masker is not None:
            from tui.widgets import masking

            masking.install()
        self._long_lived = LongLivedObjects()
        self._switching_mode = False  # switch_mode: no fixed pause before drawing

    # -- IhubContext: what screens may ask of the app ------------------------------------------------

    @property
    def api(self) -> ApiClient | None:
        """The client of the active profile while connected, else None."""
        return self._api if self.connection.phase is Phase.CONNECTED else None

    @property
    def active_profile(self) -> Profile | None:
        return self._profile

    @property
    def connection(self) -> ConnectionState:
        return self._connection

    @property
    def connection_signal(self) -> Signal[ConnectionState]:
        return self._connection_signal

    @property
    def safety(self) -> Safety:
        """Read-only and production for the active profile (worked out when the connection changes)."""
        return self._safety

    @property
    def presenting(self) -> bool:
        return self.services.masker is not None

    @property
    def presentation_masker(self) -> object | None:
        """The masker ``tui.widgets.masking`` applies to every text drawn (None: presentation off)."""
        return self.services.masker

    def set_presenting(self, on: bool) -> None:
        """Switch presentation mode: identifiers masked on every screen (or shown again)."""
        if on == self.presenting:
            return
        from tui.widgets import masking

        if on:
            masking.install()
            self.services.start_presenting()
        else:
            self.services.stop_presenting()
        masking.refresh_all(self)
        self._set_state(self._connection)  # the header and the areas follow
        self.notify(
            "Tenant names, client ids, ids, e-mail addresses, home folder paths and secrets are masked."
            if on
            else "Identifiers are shown again.",
            title="Presentation mode on" if on else "Presentation mode off",
        )

    def action_toggle_presenting(self) -> None:
        self.set_presenting(not self.presenting)

    async def read_secret(self, profile: Profile) -> Secret:
        """``Services.read_secret`` with the vault passphrase dialog."""
        return await self.services.read_secret(profile, self._unlock_vault)

    async def _unlock_vault(self, purpose: str, error: str | None) -> bool:
        """Show the passphrase dialog (it checks the passphrase itself); True once the vault is open."""
        answered: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        def done(passphrase: str | None) -> None:
            if not answered.done():
                answered.set_result(passphrase)

        dialog = VaultPassphraseDialog(
            new=False, check=self.services.secrets.unlock_vault, purpose=purpose, error=error
        )
        self.push_screen(dialog, done)
        return await answered is not None

    async def activate_profile(self, name: str) -> bool:
        """Make ``name`` the active profile and connect; True once connected (errors are notified)."""
        worker = self._connect(name)
        try:
            await worker.wait()
        except (WorkerCancelled, WorkerFailed):
            return False
        return self.connection.phase is Phase.CONNECTED and self.connection.profile == name

    def profile_removed(self, name: str) -> None:
        """``name`` was deleted: if it was the active profile, drop its connection and go back to the default
        profile (connecting it), or to no profile."""
        if self.connection.profile != name and (self._profile is None or self._profile.name != name):
            return
        self.workers.cancel_group(self, "connection")
        self._profile = None
        self._set_state(ConnectionState(read_only=self.services.read_only))
        self._drop_client()
        try:
            fallback = self.services.initial_profile_name(None)
        except Exception as exc:  # a broken profiles file or variable: no profile, and say why
            self.show_error(exc, title="Profiles")
            return
        if fallback is not None and fallback != name:
            self._start_connect(fallback)

    def _clock_skew_seen(self, skew: float) -> None:
        self.notify(
            f"{skew_words(skew)}. Token lifetimes are measured on this computer, so ihub keeps working; set "
            "the clock right for certificates and other tools.",
            title="Clock skew",
            severity="warning",
            timeout=15,
            markup=False,
        )

    def show_error(self, error: BaseException | str, *, title: str = "Error") -> None:
        """A clean one-line error notification; never a traceback."""
        text = error if isinstance(error, str) else error_text(error)
        self.notify(text, title=title, severity="error", timeout=10, markup=False)

    def palette_commands(self) -> Iterator[PaletteCommand]:
        """The current area's and the app's commands for the palette (built fresh each time it opens)."""
        screen = self._area_screen()
        if screen is not None:
            for command in screen.all_palette_commands():
                if not screen.is_change_command(command) or not screen.changes_locked:
                    yield command
        for area in AREAS:
            yield PaletteCommand(
                f"Go to {area.title}", area.description, partial(self.switch_area, area.mode)
            )
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
        yield from self._proxy_commands()
        yield PaletteCommand(
            "Requests",
            "The latest API calls of this session: status, timing, logref; copy one as curl (F2)",
            self.action_requests,
        )
        yield PaletteCommand(
            "Presentation mode: off" if self.presenting else "Presentation mode: on",
            "Show identifiers again"
            if self.presenting
            else "Mask tenant names, client ids, ids, e-mail addresses, home paths and secrets everywhere",
            self.action_toggle_presenting,
        )
        yield PaletteCommand(
            "Mouse capture: off" if self.mouse_reporting else "Mouse capture: on",
            "Off: the terminal selects and copies text with the mouse; on: clicks and scrolling in ihub (F3)",
            self.action_toggle_mouse,
        )
        yield PaletteCommand("Help", "Every key of this area, by purpose (? or F1)", self.action_help)

    def get_system_commands(self, screen: Screen) -> Iterator[SystemCommand]:
        # Textual's "Keys" panel is replaced by the Help command (it lists every key of the screen).
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command

    # -- start and stop ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.call_after_refresh(self._long_lived.freeze)  # tui/gctune.py: shorter collector pauses
        self.call_after_refresh(preload_areas)  # the other areas' modules, while the user reads the first
        fit_ansi_palette(self)  # 16 colours: yellow stays yellow, red stays red (tui/widgets/colours.py)
        self._apply_preferences()
        if not self.mouse_reporting:
            self._set_mouse_capture(False)
        self.set_interval(TOKEN_CHECK_SECONDS, self._check_token, name="token-check")
        # A skewed local clock is told once (the services call this once per process, in the event loop).
        self.services.on_clock_skew = self._clock_skew_seen
        skew = self.services.pop_clock_skew_notice()
        if skew is not None:
            self._clock_skew_seen(skew)
        _patterns, problem = self.services.production_tenants()
        if problem:
            self.notify(problem, title="Settings", severity="warning", timeout=12, markup=False)
        name = self._initial_profile()
        if name is None:
            self.switch_mode("keys")
            return
        self.switch_mode("assets")
        self._start_connect(name)

    async def on_unmount(self) -> None:
        self._long_lived.release()
        await self._close_client()

    def _initial_profile(self) -> str | None:
        try:
            return self.services.initial_profile_name(self._requested_profile)
        except Exception as exc:  # a broken profiles file must not stop the app
            self.show_error(exc, title="Profiles")
            return None

    # -- preferences: theme, keymap, mouse ----------------------------------------------------------

    def _apply_preferences(self) -> None:
        """The theme and keymap of ``settings.toml``; bad entries are told in one notification."""
        problems: list[str] = []
        settings = self.services.preferences
        theme: str | None = None
        raw_keys: object = None
        if settings is not None:
            try:
                theme = settings.theme
                raw_keys = settings.keys()
            except Exception as exc:  # an unreadable settings file: defaults, and say why
                problems.append(error_text(exc))
        if theme is not None and theme not in self.available_themes:
            problems.append(f"[ui] theme {theme!r} is not a theme here; the default is used")
            theme = None
        if theme is None and few_colours(self):
            theme = SIXTEEN_THEME_NAME  # 16 colours: every role keeps its hue (not saved: not a choice)
        if theme is not None and theme != self.theme:
            self._theme_from_settings = True
            self.theme = theme
        checked = check_keymap(raw_keys)
        problems.extend(checked.problems)
        if checked.keymap:
            self.set_keymap(checked.keymap)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if problems:
            where = settings.path if settings is not None and settings.path is not None else "settings"
            self.notify(
                "\n".join(problems) + f"\n({where})",
                title="Settings",
                severity="warning",
                timeout=20,
                markup=False,
            )

    def _remember_theme(self, theme: object) -> None:
        """A theme chosen in the palette is kept in ``[ui] theme`` for the next start."""
        if self._theme_from_settings:  # the theme read at start: nothing new to save
            self._theme_from_settings = False
            return
        settings = self.services.preferences
        if settings is None:
            return
        try:
            settings.set_theme(self.theme)
        except Exception as exc:
            self.show_error(exc, title="Theme not saved")

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: Any) -> None:
        """A keymap entry took a key another binding had: say which, once."""
        names = frozenset(binding.id or binding.action for binding in clashed_bindings)
        if names in self._clashes_told:
            return
        self._clashes_told.add(names)
        lost = ", ".join(sorted(names))
        self.notify(
            f"[keys] in settings.toml gave the key of {lost} to another binding: give it a key of its own.",
            title="Settings",
            severity="warning",
            timeout=15,
            markup=False,
        )

    def action_dismiss_notifications(self) -> None:
        """Escape where nothing else uses it: the toasts shown go away at once instead of covering the
        screen for their 8-15 s."""
        self.clear_notifications()

    def action_toggle_mouse(self) -> None:
        self._set_mouse_capture(not self.mouse_reporting)
        if self.mouse_reporting:
            self.notify("Mouse on: clicks and scrolling go to ihub (F3 turns it off).", title="Mouse")
        else:
            self.notify(
                "Mouse off: drag to select text with the terminal; every action has a key (F3 turns it on).",
                title="Mouse",
            )

    def _set_mouse_capture(self, on: bool) -> None:
        """Ask the terminal to report the mouse to ihub, or stop asking (the terminal's own selection works).

        Textual enables mouse reporting when its driver starts; its drivers (Linux, Windows, web) switch it
        with ``_enable_mouse_support``/``_disable_mouse_support``, which check ``_mouse`` first. With
        ``_mouse`` false, a resume after ctrl+z does not switch it back on either."""
        self.mouse_reporting = on
        driver = self._driver
        if driver is None:
            return
        if on:
            driver._mouse = True
            enable = getattr(driver, "_enable_mouse_support", None)
            if enable is not None:
                enable()
        else:
            disable = getattr(driver, "_disable_mouse_support", None)
            if disable is not None:
                disable()
            driver._mouse = False

    # -- areas -------------------------------------------------------------------------------------

    def switch_mode(self, mode: str) -> AwaitMount:
        """Textual's ``switch_mode`` without its fixed pause: Textual holds the output for 50 ms on every
        switch (``delay_update``) to hide a screen still being built. Here an area already built is drawn at
        once, and a new one as soon as its screen and everything in it are mounted (the output is held until
        then, so a half-built area is never drawn)."""
        if mode == self.current_mode or mode not in self._modes:
            return super().switch_mode(mode)
        new = mode not in self._screen_stacks
        if new:
            self._begin_batch()
        self._switching_mode = True
        try:
            await_mount = super().switch_mode(mode)
        except BaseException:
            if new:
                self._end_batch()
            raise
        finally:
            self._switching_mode = False
        if new:
            self.call_next(self._draw_when_mounted, await_mount)
        return await_mount

    async def _draw_when_mounted(self, await_mount: AwaitMount) -> None:
        try:
            # A screen whose mount never ends would hold the output for good: after a while, draw anyway.
            await asyncio.wait_for(await_mount(), AREA_BUILD_HOLD_SECONDS)
        except TimeoutError:
            pass
        finally:
            self._end_batch()
            if self.screen_stack:
                self.screen.refresh()

    def delay_update(self, delay: float = 0.05) -> None:
        if not self._switching_mode:  # other callers (the command palette) keep Textual's pause
            super().delay_update(delay)

    def switch_area(self, mode: str) -> None:
        if mode not in AREA_BY_MODE:
            raise ValueError(f"unknown area {mode!r}")
        if self.current_mode != mode:
            self.switch_mode(mode)

    def action_switch_area(self, mode: str) -> None:
        self.switch_area(mode)

    def open_area(self, mode: str, request: object | None = None) -> None:
        """Switch to ``mode`` and post ``request`` to its screen (queued until the screen is mounted)."""
        self.switch_area(mode)
        if request is not None:
            self.get_screen_stack(mode)[0].post_message(AreaRequested(request))

    def _area_screen(self) -> AreaScreen | None:
        """The current area's screen (under any dialog on top of it), or None."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, AreaScreen):
                return screen
        return None

    # -- help, palette, profiles -------------------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        area = AREA_BY_MODE.get(self.current_mode)
        title = area.title if area is not None else (self.screen.title or "")
        self.push_screen(HelpScreen(help_sections(self, self.screen, title), title=f"Help · {title}"))

    def action_requests(self) -> None:
        """Open the Requests view (the latest API calls of this session)."""
        if isinstance(self.screen, RequestsScreen) or self.services.activity is None:
            return
        self.push_screen(RequestsScreen(self.services.activity))

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
        restart_proxy = await self._proxy_before_connect(name)  # it shares the old client's token
        await self._close_client()
        try:
            profile = self.services.resolve_profile(name)
        except Exception as exc:
            self._profile = None
            self._set_state(ConnectionState(Phase.ERROR, profile=name, error=error_text(exc)))
            self.show_error(exc, title=f"Profile {name}")
            self._proxy_after_connect(restart_proxy, connected=False)
            return
        self._profile = profile
        tenant = profile.tenant or None
        self._set_state(
            ConnectionState(Phase.CONNECTING, profile=name, tenant=tenant, read_only=profile.read_only)
        )
        client: ApiClient | None = None
        try:
            secret = await self.read_secret(profile)
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
            self._proxy_after_connect(restart_proxy, connected=False)
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
        self._proxy_after_connect(restart_proxy, connected=True)
        if announce:
            self.notify(
                f"{name}: token received for {token.client_id or profile.client_id}"
                f" ({len(token.scopes)} scopes).",
                title="Connection OK",
            )

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

    @work(group="close", exit_on_error=False, description="close connection")
    async def _drop_client(self) -> None:
        await self._close_client()

    async def _close_client(self) -> None:
        await self.proxy.stop()  # it uses the client's token provider
        client, self._api = self._api, None
        if client is not None:
            await _close_quietly(client)

    def _set_state(self, state: ConnectionState) -> None:
        """The one place the connection state changes; subscribers of ``connection_signal`` hear it.

        Read-only and production are worked out here for every state (``Services.safety``: the session's
        flag, the profile's flags, the tenant the token names against the production patterns)."""
        profile = self._profile if self._profile is not None and self._profile.name == state.profile else None
        self._safety = self.services.safety(profile, tenant=state.tenant)
        state = dataclasses.replace(
            state, read_only=self._safety.read_only, production=self._safety.production
        )
        self._connection = state
        self._connection_signal.publish(state)


def _preference(services: Services, name: str, default: bool) -> bool:
    """A ``[ui]`` switch of the settings (``mouse``); the default when the file cannot be read (the app
    says so at start)."""
    settings = services.preferences
    if settings is None:
        return default
    try:
        return bool(getattr(settings, name))
    except Exception:
        return default


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
