"""The Time series area's dialogs: the time range (presets, custom from/to, source) and export.

Both check what was typed before closing and show a problem in place (``from`` not before ``to``, a
range beyond what the service reads, an interval the service does not allow, a folder that does not
exist); the dialog stays open until the input is usable or the user cancels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from tui.api.ts.export import ExportError, format_for
from tui.api.ts.plan import Force, Interval, PlanError, parse_force
from tui.api.ts.timerange import PRESETS, RangeError, TimeRange, format_local, parse_range, preset, zone_label
from tui.config.inputs import InputError, clean_text


@dataclass(frozen=True)
class RangeChoice:
    """What the range dialog returns: the range, the preset it came from (None: custom), the source."""

    range: TimeRange
    preset: str | None
    force: Force


def force_text(force: Force) -> str:
    return force.spec if isinstance(force, Interval) else str(force)


class Choice(RadioButton):
    """A radio button whose state shows without colour too: ● chosen, ○ not (Textual draws both as ● and
    tells them apart by colour alone, the same under NO_COLOR or TERM=dumb)."""

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = "●" if self.value else "○"
        return super()._button


class RangeDialog(ModalScreen[RangeChoice | None]):
    """Presets, a custom from/to in local time (or ISO 8601, or relative like ``-6h``), and the source."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="ts.range.cancel")]

    def __init__(
        self, current: TimeRange, preset_key: str | None, force: Force, *, now: datetime, tz: tzinfo,
        focus: str = "presets",
    ) -> None:  # fmt: skip
        super().__init__(classes="dialog")
        self.current = current
        self.preset_key = preset_key
        self.force = force
        self.now = now
        self.tz = tz
        self.initial_focus = focus

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="range-box") as box:
            box.border_title = "Time range"
            box.border_subtitle = "enter apply · escape cancel"
            with Horizontal(id="range-columns"):
                yield OptionList(*(Option(label, id=key) for label, key, _ in PRESETS), id="range-presets")
                with Vertical(id="range-custom"):
                    yield Label("From", classes="range-label")
                    yield Input(format_local(self.current.start, self.tz, seconds=True), id="range-from")
                    yield Label("To", classes="range-label")
                    yield Input(format_local(self.current.end, self.tz, seconds=True), id="range-to")
                    yield Label("Source", classes="range-label")
                    yield Input(force_text(self.force), id="range-source", placeholder="auto")
            yield Static(
                f"Times are local, {zone_label(self.tz, self.now)}; UTC is sent. Also ISO 8601 "
                "(2024-03-01T10:00Z) and relative: -6h, -7d, now. Source: auto, raw, or an interval "
                "(2min … 60min, 1h … 24h, 1d, 1w, 1mo).",
                classes="dialog-hint",
                id="range-help",
            )
            yield Static("", classes="dialog-error", id="range-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", id="range-apply", variant="primary")
                yield Button("Cancel", id="range-cancel")

    def on_mount(self) -> None:
        presets = self.query_one("#range-presets", OptionList)
        keys = [key for _, key, _ in PRESETS]
        presets.highlighted = keys.index(self.preset_key) if self.preset_key in keys else 3
        target = {"presets": "#range-presets", "from": "#range-from", "source": "#range-source"}
        self.query_one(target.get(self.initial_focus, "#range-presets")).focus()
        self.query_one("#range-error").display = False

    def _error(self, text: str) -> None:
        error = self.query_one("#range-error", Static)
        error.update(text)
        error.display = bool(text)

    def _force(self) -> Force | None:
        try:
            return parse_force(self.query_one("#range-source", Input).value)
        except PlanError as exc:
            self._error(f"Source: {exc}")
            self.query_one("#range-source").focus()
            return None

    @on(OptionList.OptionSelected, "#range-presets")
    def _preset(self, event: OptionList.OptionSelected) -> None:
        force = self._force()
        if force is None or event.option.id is None:
            return
        self.dismiss(RangeChoice(preset(event.option.id, now=self.now), event.option.id, force))

    @on(Input.Submitted)
    @on(Button.Pressed, "#range-apply")
    def _apply(self) -> None:
        force = self._force()
        if force is None:
            return
        focused = self.focused
        if isinstance(focused, OptionList) and focused.highlighted is not None:
            key = focused.get_option_at_index(focused.highlighted).id
            if key is not None:
                self.dismiss(RangeChoice(preset(key, now=self.now), key, force))
                return
        try:
            start = clean_text(self.query_one("#range-from", Input).value, "start")
            end = clean_text(self.query_one("#range-to", Input).value, "end")
            rng = parse_range(start, end, now=self.now, tz=self.tz)
        except (InputError, RangeError) as exc:
            self._error(str(exc))
            return
        same = start == format_local(self.current.start, self.tz, seconds=True) and end == format_local(
            self.current.end, self.tz, seconds=True
        )
        self.dismiss(RangeChoice(self.current if same else rng, self.preset_key if same else None, force))

    @on(Button.Pressed, "#range-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class ExportChoice:
    """Where to write and what: ``full`` = the raw records of the range, else what is shown."""

    path: Path
    fmt: str
    full: bool


class ExportDialog(ModalScreen[ExportChoice | None]):
    """A file name (``.csv`` or ``.json``) and what to write: what is shown or the full resolution."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="ts.export.cancel")]

    def __init__(self, default_path: Path, shown: str, groups: int) -> None:
        super().__init__(classes="dialog")
        self.default_path = default_path
        self.shown = shown
        self.groups = groups

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="export-box") as box:
            box.border_title = "Export"
            box.border_subtitle = "enter export · escape cancel"
            yield Label("File (.csv or .json)")
            yield Input(str(self.default_path), id="export-path")
            with RadioSet(id="export-scope"):
                yield Choice(f"What is shown ({self.shown})", value=True, id="export-shown")
                yield Choice("Full resolution: every raw record of the range", id="export-full")
            if self.groups > 1:
                yield Static(
                    f"{self.groups} assets or aspects are charted: one file each, named after them.",
                    classes="dialog-hint",
                )
            yield Static("", classes="dialog-error", id="export-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", id="export-go", variant="primary")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        self.query_one("#export-error").display = False
        box = self.query_one("#export-path", Input)
        box.focus()
        box.cursor_position = len(box.value)

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-go")
    def _go(self) -> None:
        error = self.query_one("#export-error", Static)
        problem = ""
        fmt = ""
        try:
            text = clean_text(self.query_one("#export-path", Input).value, "file name")
        except InputError as exc:
            text, problem = "", str(exc)
        path = Path(text).expanduser() if text else None
        if path is None:
            problem = problem or "give a file name ending in .csv or .json"
        else:
            try:
                fmt = format_for(path)
            except ExportError as exc:
                problem = str(exc)
            else:
                folder = path.parent if str(path.parent) else Path(".")
                if not folder.is_dir():
                    problem = f"the folder {folder} does not exist"
                elif path.is_dir():
                    problem = f"{path} is a folder"
        if problem or path is None:
            error.update(problem)
            error.display = True
            return
        full = self.query_one("#export-full", RadioButton).value
        self.dismiss(ExportChoice(path, fmt, full))

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def utc_now(clock: float) -> datetime:
    return datetime.fromtimestamp(clock, UTC)
