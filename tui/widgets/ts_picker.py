"""Choosing what to chart: asset -> aspect -> variables in one type-to-filter list.

``SeriesPicker`` is one filter box over one list, in three stages. Typing filters the list: assets are
searched on the server (the screen answers ``SearchAssets`` with ``show_assets``), aspects and variables
are filtered here. ↑/↓ move in the list while the box keeps the focus; enter chooses an asset or an
aspect and, on a variable, charts it or takes it off the chart (``VariableToggled``); escape (or
backspace in an empty box) goes back a stage. The widget only posts what the user wants; the screen
loads, decides and tells it what is charted (``set_charted``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.api.models import Aspect, Asset, VariableDefinition

SEARCH_DEBOUNCE_S = 0.25
CHARTABLE = frozenset({"DOUBLE", "INT", "LONG", "BOOLEAN"})


class Stage(StrEnum):
    ASSET = "asset"
    ASPECT = "aspect"
    VARIABLE = "variable"


HINTS = {
    Stage.ASSET: "type to search · ↑↓ · enter choose · esc close",
    Stage.ASPECT: "type to filter · enter choose · esc back",
    Stage.VARIABLE: "enter chart / remove · esc back",
}
PLACEHOLDERS = {
    Stage.ASSET: "Search assets…",
    Stage.ASPECT: "Filter aspects…",
    Stage.VARIABLE: "Filter variables…",
}


class FilterInput(Input):
    """The picker's box: ↑/↓/enter/escape act on the list below it."""

    BINDINGS = [
        Binding("down", "move(1)", "Next", show=False, id="ts.picker.next"),
        Binding("up", "move(-1)", "Previous", show=False, id="ts.picker.previous"),
        Binding("pagedown", "move(10)", "Page down", show=False, id="ts.picker.page_down"),
        Binding("pageup", "move(-10)", "Page up", show=False, id="ts.picker.page_up"),
        Binding("escape", "back", "Back", show=False, id="ts.picker.back"),
    ]

    # What the box is for (the stage's placeholder); unfocused it also says how to get there, since the
    # area opens with the chart focused and typed letters are the chart's keys.
    prompt = PLACEHOLDERS[Stage.ASSET]

    def show_prompt(self, prompt: str, *, focused: bool | None = None) -> None:
        self.prompt = prompt
        focused = self.has_focus if focused is None else focused
        key_of = getattr(self.screen, "key_of", None) if self.is_attached else None
        key = key_of("ts.pick") if key_of is not None else "a"
        self.placeholder = prompt if focused else f"{key}: {prompt}"  # short: the box is narrow at 80x24

    def on_mount(self) -> None:
        self.show_prompt(self.prompt)

    def on_focus(self) -> None:
        self.show_prompt(self.prompt, focused=True)

    def on_blur(self) -> None:
        self.show_prompt(self.prompt, focused=False)  # has_focus may still say True while blurring

    def action_move(self, step: int) -> None:
        picker = self.parent
        if isinstance(picker, SeriesPicker):
            picker.move(step)

    def action_back(self) -> None:
        picker = self.parent
        if isinstance(picker, SeriesPicker):
            picker.back()

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "backspace" and not self.value and isinstance(self.parent, SeriesPicker):
            event.stop()
            event.prevent_default()
            self.parent.back()
            return
        await super()._on_key(event)


class SeriesPicker(Vertical):
    """Asset -> aspect -> variables (see the module doc)."""

    @dataclass
    class SearchAssets(Message):
        text: str

    @dataclass
    class AssetChosen(Message):
        asset_id: str
        name: str

    @dataclass
    class VariableToggled(Message):
        asset_id: str
        asset_name: str
        aspect: Aspect
        variable: str

    @dataclass
    class Closed(Message):
        """Escape in the first stage: the user is done picking."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.stage = Stage.ASSET
        self.assets: list[Asset] = []
        self.aspects: list[Aspect] = []
        self.asset: Asset | None = None
        self.aspect: Aspect | None = None
        self.charted: set[tuple[str, str, str]] = set()  # (asset_id, aspect, variable)
        self._timer: Timer | None = None
        self._note = ""
        self.border_title = "Series"

    def compose(self) -> ComposeResult:
        yield Static("Asset", id="picker-path", markup=False)
        yield FilterInput(placeholder=PLACEHOLDERS[Stage.ASSET], id="picker-filter")
        yield OptionList(id="picker-options")
        yield Static(HINTS[Stage.ASSET], id="picker-hint", markup=False)

    @property
    def box(self) -> FilterInput:
        return self.query_one("#picker-filter", FilterInput)

    @property
    def options(self) -> OptionList:
        return self.query_one("#picker-options", OptionList)

    def focus_box(self) -> None:
        self.box.focus()

    # -- what the screen tells it ------------------------------------------------------------------
    def show_assets(self, assets: list[Asset], note: str = "") -> None:
        """The server's answer to a search (``note``: e.g. "50 of 312 shown: type more")."""
        self.assets = assets
        self._note = note
        if self.stage is Stage.ASSET:
            self._fill()

    def show_aspects(self, asset: Asset, aspects: list[Aspect]) -> None:
        """The aspects of the chosen asset (only those with time series are listed)."""
        self.asset = asset
        self.aspects = [a for a in aspects if a.is_dynamic or a.category is None]
        self._enter(Stage.ASPECT)

    def show_message(self, text: str) -> None:
        """A line in place of the list (an error, "searching…")."""
        self.options.clear_options()
        self.options.add_option(Option(Text(text, style="italic"), disabled=True))

    def set_charted(self, charted: set[tuple[str, str, str]]) -> None:
        """Which variables are on the chart (marked ● in the variable stage)."""
        self.charted = set(charted)
        if self.stage is Stage.VARIABLE:
            self._fill(keep=True)

    # -- stages ------------------------------------------------------------------------------------
    def _enter(self, stage: Stage) -> None:
        self.stage = stage
        box = self.box
        box.show_prompt(PLACEHOLDERS[stage])
        with box.prevent(Input.Changed):
            box.value = ""
        self.query_one("#picker-hint", Static).update(HINTS[stage])
        path = "Asset"
        if stage is not Stage.ASSET and self.asset is not None:
            path = self.asset.name or self.asset.asset_id
            if stage is Stage.VARIABLE and self.aspect is not None:
                path += f" › {self.aspect.name}"
        self.query_one("#picker-path", Static).update(path)
        self._fill()

    def back(self) -> None:
        if self.stage is Stage.VARIABLE:
            self._enter(Stage.ASPECT)
        elif self.stage is Stage.ASPECT:
            self._enter(Stage.ASSET)
            self.post_message(self.SearchAssets(""))
        else:
            self.post_message(self.Closed())

    def move(self, step: int) -> None:
        options = self.options
        if options.option_count == 0:
            return
        current = options.highlighted if options.highlighted is not None else -1
        target = max(0, min(options.option_count - 1, current + step))
        options.highlighted = target

    # -- the list ----------------------------------------------------------------------------------
    def _fill(self, keep: bool = False) -> None:
        options = self.options
        previous = options.highlighted if keep else None
        text = self.box.value.strip().lower()
        items: list[Option] = []
        if self.stage is Stage.ASSET:
            for asset in self.assets:
                label = Text(asset.name or asset.asset_id)
                type_name = (asset.type_id or "").rsplit(".", 1)[-1]
                if type_name:
                    label.append(f"  {type_name}", style="dim")
                items.append(Option(label, id=asset.asset_id))
            if self._note:
                items.append(Option(Text(self._note, style="dim italic"), disabled=True))
            if not self.assets:
                items = [Option(Text("no asset matches", style="italic"), disabled=True)]
        elif self.stage is Stage.ASPECT:
            for aspect in self.aspects:
                if text and text not in aspect.name.lower():
                    continue
                label = Text(aspect.name)
                label.append(f"  {len(aspect.variables)} variables", style="dim")
                items.append(Option(label, id=aspect.name))
            if not items:
                what = "no aspect matches" if text else "this asset has no time series aspects"
                items = [Option(Text(what, style="italic"), disabled=True)]
        else:
            current = self.aspect
            asset_id = self.asset.asset_id if self.asset else ""
            for var in current.variables if current else ():
                if text and text not in var.name.lower():
                    continue
                on = (asset_id, current.name if current else "", var.name) in self.charted
                items.append(Option(variable_label(var, on), id=var.name))
            if not items:
                items = [Option(Text("no variable matches", style="italic"), disabled=True)]
        options.clear_options()
        options.add_options(items)
        if items and not items[0].disabled:
            options.highlighted = min(previous, len(items) - 1) if previous is not None else 0

    @on(Input.Changed, "#picker-filter")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.stage is Stage.ASSET:
            if self._timer is not None:
                self._timer.stop()
            value = event.value.strip()
            self._timer = self.set_timer(
                SEARCH_DEBOUNCE_S, lambda: self.post_message(self.SearchAssets(value))
            )
        else:
            self._fill()

    @on(Input.Submitted, "#picker-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose(self.options.highlighted)

    @on(OptionList.OptionSelected, "#picker-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option_index)
        self.focus_box()

    def _choose(self, index: int | None) -> None:
        if index is None:
            return
        option = self.options.get_option_at_index(index)
        if option.disabled or option.id is None:
            return
        if self.stage is Stage.ASSET:
            asset = next((a for a in self.assets if a.asset_id == option.id), None)
            if asset is not None:
                self.asset = asset
                self.post_message(self.AssetChosen(asset.asset_id, asset.name))
                self.show_message("loading aspects…")
        elif self.stage is Stage.ASPECT:
            chosen = next((a for a in self.aspects if a.name == option.id), None)
            if chosen is not None:
                self.aspect = chosen
                self._enter(Stage.VARIABLE)
        elif self.asset is not None and self.aspect is not None:
            self.post_message(
                self.VariableToggled(
                    self.asset.asset_id, self.asset.name or self.asset.asset_id, self.aspect, option.id
                )
            )


def variable_label(var: VariableDefinition, charted: bool) -> Text:
    """``● velocityRms  DOUBLE mm/s`` (● on the chart, ○ not; text variables go to the table)."""
    label = Text("● " if charted else "○ ", style="bold green" if charted else "dim")
    label.append(var.name)
    dtype = (var.data_type or "?").upper()
    label.append(f"  {dtype}", style="dim")
    if var.unit:
        label.append(f" {var.unit}", style="dim")
    if dtype not in CHARTABLE:
        label.append(" (table)", style="dim italic")
    return label
