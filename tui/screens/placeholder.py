"""The screen an area shows until its own issue delivers it: what is planned, and the live connection state.

It shows no data at all, fake or real; only the connection the app holds, so the shell can be used and
tested before the area exists.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui.messages import ConnectionChanged, ConnectionState, Phase
from tui.screens.base import AreaScreen


def connection_summary(state: ConnectionState) -> str:
    """Plain lines about the connection this area would use."""
    if state.phase is Phase.NONE or state.profile is None:
        return "No profile is active. Press 1 for Keys to add one."
    if state.phase is Phase.CONNECTING:
        return f"Connecting with profile {state.profile}…"
    if state.phase is Phase.ERROR:
        return f"Profile {state.profile} is not connected: {state.error}"
    where = f" to tenant {state.tenant}." if state.tenant else "."
    lines = [f"Connected with profile {state.profile}{where}"]
    if state.client_id:
        lines.append(f"Client: {state.client_id}")
    if state.scopes:
        lines.append("Scopes: " + ", ".join(state.scopes))
    return "\n".join(lines)


class PlaceholderScreen(AreaScreen):
    """An area that is not built yet."""

    def compose_area(self) -> ComposeResult:
        with Vertical(id="placeholder-body"):
            yield Static(f"{self.area.title}: {self.area.planned}", id="placeholder-plan", markup=False)
            yield Static(connection_summary(self.ctx.connection), id="placeholder-connection", markup=False)
            yield Static(
                "Keys 1-4 switch areas, ctrl+p opens the command palette, ? lists every key.",
                id="placeholder-hint",
            )

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.query_one("#placeholder-connection", Static).update(connection_summary(message.state))
