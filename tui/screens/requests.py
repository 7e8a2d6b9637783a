"""The Requests view: the latest API calls of this session, their details, and "copy as curl".

Opened from the palette ("Requests") or with F2. Lists the calls the app made (``ActivityLog.session``),
newest first: time, method, path, status, duration. ``enter`` shows the details of the selected call
(profile, host, query, bytes, the service's logref, its error, the curl line); ``c`` copies the call as a
curl command to the clipboard (OSC 52, ``App.copy_to_clipboard``), the token as ``$TOKEN`` and a token
request's client id and secret as ``$CLIENT_ID``/``$CLIENT_SECRET``; ``f`` shows only failed calls (a call
cancelled by the user or the app, as leaving a screen cancels its calls, is shown as ``cancelled`` and is no
failure). The list follows new calls while it is open.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import unquote

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from tui.api.activity import ActivityCall, ActivityEntry, ActivityLog

# How often the open view looks for new calls.
REFRESH_SECONDS = 1.0
# The most calls listed (the session keeps ``tui.api.activity.SESSION_CALLS``).
MAX_ROWS = 500
MAX_PATH = 160


def call_time(call: ActivityCall) -> str:
    """The call's local wall-clock time, ``HH:MM:SS``."""
    return datetime.fromtimestamp(call.at).strftime("%H:%M:%S")


def status_text(call: ActivityCall) -> Text:
    """The status as shown: the number, ``failed`` for a call without an answer, ``cancelled`` (dim) for one
    cancelled by the user or the app; 4xx/5xx bold."""
    status = call.entry.status
    if call.entry.cancelled:
        return Text("cancelled", style="dim")
    if status is None:
        return Text("failed", style="bold reverse")
    return Text(str(status), style="bold" if status >= 400 else "")


def describe(call: ActivityCall) -> str:
    """Every detail of ``call`` as lines of plain text (nothing secret is kept to show)."""
    entry = call.entry
    when = datetime.fromtimestamp(call.at).astimezone().isoformat(timespec="milliseconds")
    lines = [
        f"{entry.method} {unquote(entry.target)}",
        f"time      {when}",
        f"profile   {entry.profile or '-'}  ({entry.source}, {entry.kind} call)",
        f"host      {entry.host or '-'}",
        f"status    {_status_detail(entry)}",
        f"duration  {entry.ms:.1f} ms",
        f"received  {entry.size} bytes",
    ]
    if entry.logref:
        lines.append(f"logref    {entry.logref}")
    if entry.error and not entry.cancelled:
        lines.append(f"error     {entry.error}")
    curl = call.curl()
    lines.append(f"curl      {curl}" if curl else "curl      (not available for this call)")
    return "\n".join(lines)


def _status_detail(entry: ActivityEntry) -> str:
    if entry.cancelled:
        return "cancelled (by you or ihub, before the answer came: not a failure)"
    return str(entry.status) if entry.status is not None else "no answer"


class RequestsScreen(ModalScreen[None]):
    """The latest calls of the session, newest first; details and copy as curl."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f2", "close", "Close", id="requests.close"),
        Binding(
            "enter,d",
            "details",
            "Details",
            tooltip="Show or hide the selected call's details",
            id="requests.details",
        ),  # fmt: skip
        Binding(
            "c",
            "copy_curl",
            "Copy as curl",
            tooltip="Copy the selected call as curl (token as $TOKEN)",
            id="requests.copy",
        ),  # fmt: skip
        Binding(
            "f",
            "failed_only",
            "Failed only",
            tooltip="Show only failed calls, or all again",
            id="requests.failed",
        ),  # fmt: skip
    ]

    def __init__(self, activity: ActivityLog) -> None:
        super().__init__()
        self.activity = activity
        self.failed_only = False
        self._shown: list[ActivityCall] = []
        self._seen = -1

    def compose(self) -> ComposeResult:
        with Vertical(id="requests-box") as box:
            box.border_title = "Requests"
            box.border_subtitle = "enter details · tab scroll · c copy as curl · f failed · esc close"
            yield Static("", id="requests-summary")
            table: DataTable[str | Text] = DataTable(
                id="requests-table", cursor_type="row", zebra_stripes=True
            )
            table.add_column("Time", key="time", width=8)
            table.add_column("Method", key="method", width=6)
            table.add_column("Status", key="status", width=9)
            table.add_column("ms", key="ms", width=7)
            table.add_column("Path", key="path")
            yield table
            # Focusable (tab) and scrolled with the arrow and page keys where the details are longer
            # than the pane (a long curl line at 80x24).
            with VerticalScroll(id="requests-details-box"):
                yield Static("", id="requests-details")

    def on_mount(self) -> None:
        self.refresh_calls()
        self.query_one(DataTable).focus()
        self.set_interval(REFRESH_SECONDS, self._follow, name="requests-follow")

    # -- list ---------------------------------------------------------------------------------------

    def _follow(self) -> None:
        if self.activity.count != self._seen:
            self.refresh_calls()

    def refresh_calls(self) -> None:
        """Re-read the session's calls, keeping the selected call selected."""
        table: DataTable[str | Text] = self.query_one(DataTable)
        selected = self.selected
        self._seen = self.activity.count
        self._shown = self.activity.session(MAX_ROWS, failed=self.failed_only)
        table.clear()
        for call in self._shown:
            entry = call.entry
            path = unquote(entry.target)
            if len(path) > MAX_PATH:
                path = path[: MAX_PATH - 1] + "…"
            table.add_row(
                call_time(call),
                entry.method,
                status_text(call),
                Text(f"{entry.ms:.0f}", justify="right"),
                path,
                key=str(call.number),
            )
        if selected is not None:
            for row, call in enumerate(self._shown):
                if call.number == selected.number:
                    table.move_cursor(row=row, animate=False)
                    break
        self._summary()
        self._show_details()

    def _summary(self) -> None:
        count = len(self._shown)
        which = ("failed " if self.failed_only else "") + ("call" if count == 1 else "calls")
        if count:
            text = f"The latest {count} {which} of this session, newest first."
        elif self.failed_only:
            text = "No failed calls in this session."
        else:
            text = "No API calls yet in this session."
        if self.activity.problem:
            text += f"\n{self.activity.problem}"
        elif self.activity.path is None:
            text += " (Kept in memory only: in Demo mode no activity log is written.)"
        self.query_one("#requests-summary", Static).update(Text(text))

    @property
    def selected(self) -> ActivityCall | None:
        """The call under the cursor, if any."""
        table: DataTable[str | Text] = self.query_one(DataTable)
        row = table.cursor_row
        if not self._shown or row < 0 or row >= len(self._shown):
            return None
        return self._shown[row]

    # -- details and copy ---------------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_details()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_details()

    def _show_details(self) -> None:
        details = self.query_one("#requests-details", Static)
        call = self.selected
        if not self.has_class("-details") or call is None:
            details.update("")
            return
        details.update(Text(describe(call)))

    def action_details(self) -> None:
        self.toggle_class("-details")
        self._show_details()

    def action_copy_curl(self) -> None:
        call = self.selected
        if call is None:
            self.notify("No call is selected.", title="Copy as curl", severity="warning")
            return
        line = call.curl()
        if line is None:
            self.notify("This call cannot be copied as curl.", title="Copy as curl", severity="warning")
            return
        self.app.copy_to_clipboard(line)
        self.notify(
            f"{call.entry.method} {unquote(call.entry.path)} copied as curl (token as $TOKEN).",
            title="Copy as curl",
            markup=False,
        )

    def action_failed_only(self) -> None:
        self.failed_only = not self.failed_only
        self.refresh_calls()

    def action_close(self) -> None:
        self.dismiss(None)
