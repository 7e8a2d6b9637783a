"""Command palette provider: the current area's commands, the areas, the profiles, test connection, help.

The commands are built by the app (``IhubContext.palette_commands``) each time the palette opens, so new
profiles and an area's current choices appear without a restart.
"""

from __future__ import annotations

from typing import cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.context import IhubContext, PaletteCommand

__all__ = ["PaletteCommand", "ShellCommands"]


class ShellCommands(Provider):
    """The app's own commands, next to Textual's system commands (theme, quit, screenshot)."""

    def _commands(self) -> list[PaletteCommand]:
        return list(cast(IhubContext, self.app).palette_commands())

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
