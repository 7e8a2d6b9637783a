"""Command palette provider: areas, one command per profile, test connection, help.

The commands are built by the app (``IhubApp.palette_commands``) each time the palette opens, so new
profiles appear without a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.types import IgnoreReturnCallbackType

if TYPE_CHECKING:
    from tui.app import IhubApp


class PaletteCommand(NamedTuple):
    title: str
    help: str
    callback: IgnoreReturnCallbackType
    discover: bool = True


class ShellCommands(Provider):
    """The app's own commands, next to Textual's system commands (theme, quit, screenshot)."""

    def _commands(self) -> list[PaletteCommand]:
        app: IhubApp = self.app  # type: ignore[assignment]
        return list(app.palette_commands())

    async def discover(self) -> Hits:
        for command in self._commands():
            if command.discover:
                yield DiscoveryHit(command.title, command.callback, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.callback, help=command.help)
