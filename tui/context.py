"""What a screen, a widget or a palette provider may ask of the app: ``IhubContext``.

Screens never import ``tui.app``; they reach the app through this protocol (``AreaScreen.ctx``), so an
area can be written and tested against any app that provides it, and the app stays free to change how it
keeps its state. Nothing here imports Textual at run time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from textual.signal import Signal
    from textual.types import IgnoreReturnCallbackType

    from tui.api.client import ApiClient
    from tui.config.profiles import Profile
    from tui.config.safety import Safety
    from tui.config.secrets import Secret
    from tui.messages import ConnectionState
    from tui.services import Services


class PaletteCommand(NamedTuple):
    """One entry of the command palette: title, help line, what it does, whether it is listed before
    anything is typed (``discover``), and whether it changes something (``change``: left out while
    read-only; a callback ``action_<name>`` of an area whose ``CHANGES`` name it counts as a change too)."""

    title: str
    help: str
    callback: IgnoreReturnCallbackType
    discover: bool = True
    change: bool = False


@dataclass(frozen=True)
class ChartRequest:
    """Ask the Time series area to chart variables of an aspect (``c`` in Assets, the palette).

    ``variables`` empty means every numeric variable of the aspect; ``asset_name`` is for display only.
    """

    asset_id: str
    aspect: str
    variables: tuple[str, ...] = ()
    asset_name: str = ""


@runtime_checkable
class IhubContext(Protocol):
    """The app as the screens see it."""

    @property
    def services(self) -> Services:
        """Profiles, secrets, paths and the connection factory (``tui.services.Services``)."""

    @property
    def api(self) -> ApiClient | None:
        """The API client of the active profile while connected, else None."""

    @property
    def active_profile(self) -> Profile | None:
        """The active profile (environment overrides applied), or None."""

    @property
    def connection(self) -> ConnectionState:
        """The current connection state (what the header shows)."""

    @property
    def safety(self) -> Safety:
        """Read-only and production for the active profile in this session (``tui.config.safety``)."""

    @property
    def presenting(self) -> bool:
        """Presentation mode is on: identifiers are masked on every screen (``tui.present``)."""

    @property
    def connection_signal(self) -> Signal[ConnectionState]:
        """Published with the new state on every connection change; widgets subscribe to it."""

    async def activate_profile(self, name: str) -> bool:
        """Make ``name`` the active profile and connect; True once connected (errors are shown)."""

    def profile_removed(self, name: str) -> None:
        """The profile ``name`` was deleted; if it was the active one, its connection ends and the app goes
        back to the default profile (connecting it) or to no profile."""

    async def read_secret(self, profile: Profile) -> Secret:
        """The profile's client secret, asking for the vault passphrase in a dialog when needed.

        ``Services.read_secret`` with the app's dialog: raises ``UnlockDeclined`` when the user closes the
        dialog, ``SecretNotStored`` when no secret is stored, and the store's own errors.
        """

    def open_area(self, mode: str, request: object | None = None) -> None:
        """Switch to the area ``mode`` (``tui/areas.py``) and hand it ``request`` (e.g. a ``ChartRequest``);
        the area's ``AreaScreen.handle_request`` receives it once the screen is up."""

    def show_error(self, error: BaseException | str, *, title: str = "Error") -> None:
        """A one-line error notification; never a traceback."""

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """The app's and the current area's commands for the palette."""
