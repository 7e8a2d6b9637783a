"""The MQTT check pane of the Certificates area (issue 11): every step of ``tui.flows.mqtt.check_connection``
as it happens, the outcome with its plain cause, the shell commands that do the same, and the test data
messages as they are acknowledged. Shows what the screen hands it; no I/O."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.flows.certificates import StepState
from tui.flows.mqtt import CHECK_STEPS, CHECK_TITLES, CheckEvent, CheckResult, CheckStep, PublishedMessage
from tui.widgets.certificates import ICONS

# The last messages shown while test data is sent (older ones scroll away).
MESSAGES_SHOWN = 8


class MqttCheckPane(VerticalScroll):
    """A check step by step (``start``, ``update``, ``finish``) and then, optionally, test data
    (``sending``, ``message``, ``stopped``)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "MQTT check"
        self.can_focus = True
        self.heading = ""
        self.plan: list[CheckStep] = list(CHECK_STEPS)
        self.events: dict[CheckStep, CheckEvent] = {}
        self.result: CheckResult | None = None
        self.commands: list[str] = []
        self.data_title = ""
        self.messages: list[PublishedMessage] = []
        self.data_note = ""
        self._plain = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="check-text", markup=False)

    @property
    def text(self) -> str:
        """The pane as plain text (what tests assert on)."""
        return self._plain

    # -- the check ------------------------------------------------------------------------------------
    def start(self, title: str, heading: str, plan: Sequence[CheckStep] = CHECK_STEPS) -> None:
        self.border_title = title
        self.heading = heading
        self.plan = list(plan)
        self.events = {}
        self.result = None
        self.commands = []
        self._reset_data()
        self._redraw()

    def update(self, event: CheckEvent) -> None:
        if event.step not in self.plan:
            self.plan.append(event.step)
        self.events[event.step] = event
        self._redraw()

    def finish(self, result: CheckResult, commands: Sequence[str] = ()) -> None:
        self.result = result
        for event in result.steps:
            self.events[event.step] = event
        # Steps the check never reached stay listed, marked as skipped.
        self.commands = list(commands)
        self._redraw()
        self.scroll_end(animate=False)

    # -- test data ------------------------------------------------------------------------------------
    def sending(self, title: str, note: str = "") -> None:
        self.data_title = title
        self.messages = []
        self.data_note = note
        self._redraw()
        self.scroll_end(animate=False)

    def message(self, message: PublishedMessage) -> None:
        self.messages.append(message)
        del self.messages[:-MESSAGES_SHOWN]
        self._redraw()
        self.scroll_end(animate=False)

    def stopped(self, note: str) -> None:
        self.data_note = note
        self._redraw()
        self.scroll_end(animate=False)

    def _reset_data(self) -> None:
        self.data_title = ""
        self.messages = []
        self.data_note = ""

    # -- drawing --------------------------------------------------------------------------------------
    def _redraw(self) -> None:
        steps = Table.grid(padding=(0, 1))
        steps.add_column(width=2, no_wrap=True)
        steps.add_column(ratio=1)
        rows: list[tuple[Text, Text]] = []
        finished = self.result is not None
        for step in self.plan:
            event = self.events.get(step)
            state = event.state if event is not None else (StepState.SKIPPED if finished else None)
            if finished and step is CheckStep.PUBLISH and event is None:
                continue  # not asked for
            icon, style = ICONS[state]
            body = Text(CHECK_TITLES[step], "bold" if state is StepState.RUNNING else "")
            if event is not None and state is not StepState.RUNNING and event.elapsed >= 0.05:
                body.append(f"  {event.elapsed:.1f} s", "dim")
            if event is not None and event.detail:
                detail_style = {StepState.FAILED: "red", StepState.WARN: "yellow"}.get(state, "dim")  # type: ignore[arg-type]
                body.append("\n" + event.detail, detail_style)
            rows.append((Text(f" {icon}", style), body))
            steps.add_row(*rows[-1])
        heading = Text(self.heading + "\n", "bold") if self.heading else Text()
        outcome = Text()
        result = self.result
        if result is not None:
            if result.ok:
                outcome.append("\n✓ Accepted\n", "bold green")
                outcome.append(result.message + "\n")
            else:
                outcome.append("\n✗ Refused\n" if result.failed_step else "\n✗ Failed\n", "bold red")
                outcome.append(result.message + "\n")
                if result.cause is not None:
                    outcome.append(f"cause: {result.cause.value}\n", "dim")
            if self.commands:
                outcome.append("\nFrom a shell\n", "bold")
                for command in self.commands:
                    outcome.append(command + "\n", "cyan")
        data = Text()
        if self.data_title:
            data.append("\n" + self.data_title + "\n", "bold")
            for message in self.messages:
                stamp = message.timestamp.strftime("%H:%M:%S")
                values = " ".join(f"{k}={v}" for k, v in message.values.items())
                data.append(f"{message.number:>4}  {stamp}  {values}  ✓\n")
            if self.data_note:
                data.append(self.data_note + "\n", "dim")
        self._plain = "\n".join(
            [heading.plain]
            + [f"{mark.plain} {body.plain}" for mark, body in rows]
            + [outcome.plain, data.plain]
        )
        self.query_one("#check-text", Static).update(Group(heading, steps, outcome, data))
