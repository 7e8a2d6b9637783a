"""The result of a connection test: what the token says (never the token), or the diagnosis steps and cause.

``ConnectionReport`` renders a ``Report`` (plain data built by the Keys screen from a diagnosis) with a
live countdown to the token's expiry. ``TokenDialog`` shows a token's decoded header and claims, never the
encoded token itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Static

from tui.widgets.status_bar import format_countdown


@dataclass(frozen=True)
class ReportStep:
    name: str
    ok: bool | None  # None: skipped
    detail: str = ""


@dataclass(frozen=True)
class Report:
    """A connection test result without any secret or token value."""

    profile: str
    ok: bool
    style: str = ""
    tenant: str | None = None
    client_id: str | None = None
    scopes: tuple[str, ...] = ()
    issued_at: float | None = None
    expires_at: float | None = None
    round_trip_ms: float | None = None
    steps: tuple[ReportStep, ...] = ()
    cause: str | None = None
    started_at: float = field(default_factory=time.time)


_MARKS: dict[bool | None, tuple[str, str]] = {
    True: ("✔ ok", "bold green"),
    False: ("✘ failed", "bold red"),
    None: ("– skipped", "dim"),
}


def _clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def describe_report(report: Report, now: float) -> list[str]:
    """The report as plain lines (what the widget shows, for tests and the CLI-like view)."""
    lines: list[str] = []
    for kind, items in _report_parts(report, now):
        if kind == "text":
            lines.extend(text.plain for text in items)
        else:
            lines.extend("  ".join(cell.plain for cell in row).rstrip() for row in items)
    return lines


def _report_parts(report: Report, now: float) -> list[tuple[str, list[Any]]]:
    """("text", [Text, ...]) and ("grid", [(Text, Text, ...), ...]) blocks, in order."""
    parts: list[tuple[str, list[Any]]] = []
    if report.ok:
        parts.append(
            ("text", [Text.assemble(("✔ Connection OK", "bold green"), f"  profile {report.profile}")])
        )
        rows: list[tuple[str, str]] = [
            ("Credential style", report.style.replace("_", " ") if report.style else "?"),
            ("Tenant", report.tenant or "?"),
            ("Client id", report.client_id or "?"),
        ]
        if report.issued_at is not None:
            rows.append(("Issued", _clock_time(report.issued_at)))
        if report.expires_at is not None:
            remaining = report.expires_at - now
            left = f"in {format_countdown(remaining)}" if remaining > 0 else "expired"
            rows.append(("Expires", f"{_clock_time(report.expires_at)}  ({left})"))
        if report.round_trip_ms is not None:
            rows.append(("Round trip", f"{report.round_trip_ms:.0f} ms"))
        rows.append(("Scopes", ", ".join(report.scopes) if report.scopes else "none"))
        parts.append(("grid", [(Text(label, "bold"), Text(value)) for label, value in rows]))
    else:
        head = [Text.assemble(("✘ Connection failed", "bold red"), f"  profile {report.profile}")]
        if report.cause:
            head.append(Text.assemble(("Cause: ", "bold"), (report.cause, "red")))
        parts.append(("text", head))
    if report.steps:
        parts.append(("text", [Text("Steps", "bold underline")]))
        grid = []
        for step in report.steps:
            mark, style = _MARKS[step.ok]
            detail = Text(step.detail, "dim" if step.ok is not False else "")
            grid.append((Text(mark, style), Text(step.name, "bold"), detail))
        parts.append(("grid", grid))
    return parts


def _render_parts(report: Report, now: float) -> list[Any]:
    out: list[Any] = []
    for kind, items in _report_parts(report, now):
        if kind == "text":
            out.extend(items)
            continue
        table = Table.grid(padding=(0, 1))
        width = len(items[0])
        for index in range(width):
            if index == width - 1:
                table.add_column(overflow="fold", ratio=1)
            else:
                table.add_column(no_wrap=True)
        for row in items:
            table.add_row(*row)
        out.append(table)
    return out


class ConnectionReport(Widget):
    """Shows the last connection test: running, passed (with a live token countdown) or failed."""

    DEFAULT_CSS = """
    ConnectionReport {
        height: auto;
        width: 1fr;
    }
    """

    report: reactive[Report | None] = reactive(None, always_update=True)
    running: reactive[str | None] = reactive(None)

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.clock = clock
        self._ticker: Timer | None = None

    def on_mount(self) -> None:
        self._ticker = self.set_interval(1.0, self._tick, name="token-countdown", pause=True)

    def _tick(self) -> None:
        self.refresh(layout=False)

    def watch_report(self, report: Report | None) -> None:
        self.running = None
        if self._ticker is not None:
            if report is not None and report.ok and report.expires_at is not None:
                self._ticker.resume()
            else:
                self._ticker.pause()
        self.refresh(layout=True)

    def watch_running(self) -> None:
        self.refresh(layout=True)

    def show_running(self, profile: str) -> None:
        self.running = profile

    def clear(self) -> None:
        self.report = None

    @property
    def lines(self) -> list[str]:
        """What is on screen, as plain lines."""
        if self.running is not None or self.report is None:
            return [self._placeholder().plain]
        return describe_report(self.report, self.clock())

    def _placeholder(self) -> Text:
        if self.running is not None:
            return Text(f"Testing profile {self.running}…", "bold yellow")
        return Text("No test yet: press t to test the connection of the selected profile.", "dim")

    def render(self) -> Group:
        if self.running is not None or self.report is None:
            return Group(self._placeholder())
        return Group(*_render_parts(self.report, self.clock()))


# --------------------------------------------------------------------------------------------------
# The decoded token
# --------------------------------------------------------------------------------------------------
def _when(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 10**8:
        return _clock_time(float(value))
    return None


def claims_table(title: str, data: Mapping[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", show_header=False, box=None)
    table.add_column("claim", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        if isinstance(value, list | tuple):
            shown = "\n".join(str(v) for v in value) or "[]"
        elif isinstance(value, dict):
            shown = json.dumps(value, indent=1, sort_keys=True)
        else:
            shown = str(value)
        when = _when(value) if key in ("exp", "iat", "nbf", "auth_time") else None
        if when:
            shown += f"  ({when})"
        table.add_row(key, Text(shown))
    return table


class TokenDialog(ModalScreen[None]):
    """The decoded header and claims of the last token. The encoded token is never shown; ``y`` copies it."""

    BINDINGS = [
        Binding("escape,k", "close", "Close", id="token.close"),
        Binding("y", "copy_token", "Copy token", id="token.copy", tooltip="Copy the token (OSC 52)"),
    ]

    def __init__(
        self,
        header: Mapping[str, Any],
        claims: Mapping[str, Any],
        copy: Callable[[], None] | None = None,
        *,
        profile: str = "",
    ) -> None:
        super().__init__(classes="dialog")
        self.header = dict(header)
        self.claims = dict(claims)
        self._copy = copy
        self.profile = profile

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box token-box") as box:
            box.border_title = f"Access token of {self.profile} (decoded)" if self.profile else "Access token"
            with VerticalScroll(id="token-claims"):
                yield Static(claims_table("Header", self.header), id="token-header")
                yield Static(claims_table("Claims", self.claims), id="token-body")
            yield Static(
                "The encoded token is not shown. y copies it to the clipboard; escape closes.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                if self._copy is not None:
                    yield Button("Copy token", id="copy-token")
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#token-claims").focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#copy-token")
    def action_copy_token(self) -> None:
        if self._copy is not None:
            self._copy()

    @property
    def text(self) -> str:
        """Header and claims as plain text (for tests)."""
        parts: Sequence[tuple[str, Mapping[str, Any]]] = (("header", self.header), ("claims", self.claims))
        return json.dumps(dict(parts), sort_keys=True, default=str)
