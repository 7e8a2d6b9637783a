"""The screen an area shows until its own issue delivers it: what is planned, and the live connection state.

It shows no data at all, fake or real; only the connection the app holds, so the shell can be used and
tested before the area exists.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.messages import ConnectionChanged, ConnectionState, Phase
from tui.widgets.status_bar import StatusBar

PLANNED: dict[str, tuple[str, str]] = {
    "assets": (
        "Assets",
        "Assets: the asset hierarchy browser is not built yet "
        "(planned: Asset Management v3 tree, asset types, aspects, variables, latest values).",
    ),
    "timeseries": (
        "Time series",
        "Time series: the time series viewer is not built yet "
        "(planned: IoT Time Series v3 raw values and Aggregates v4 for chosen variables, "
        "time ranges, charts and a live mode).",
    ),
    "certificates": (
        "Certificates",
        "Certificates: MQTT certificate management is not built yet "
        "(planned: a local CA, its upload and verification, and agent device certificates for "
        "MindConnect MQTT).",
    ),
}


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


class PlaceholderScreen(Screen):
    """An area that is not built yet."""

    def __init__(self, area: str) -> None:
        super().__init__(name=area, classes="area placeholder")
        self.area = area
        self.title, self.plan = PLANNED[area]

    def compose(self) -> ComposeResult:
        yield StatusBar(self.title)
        with Vertical(id="placeholder-body"):
            yield Static(self.plan, id="placeholder-plan")
            yield Static(self._summary(), id="placeholder-connection")
            yield Static(
                "Keys 1-4 switch areas, ctrl+p opens the command palette, ? lists every key.",
                id="placeholder-hint",
            )
        yield Footer()

    def _summary(self) -> str:
        state = getattr(self.app, "connection", None)
        return connection_summary(state if isinstance(state, ConnectionState) else ConnectionState())

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.query_one("#placeholder-connection", Static).update(connection_summary(message.state))
