"""The details pane of the Assets area: facts, static variables, aspects with latest values and 24 h trends.

Every section is filled (and can fail) on its own: the screen loads the asset's type chain, its aspects,
each dynamic aspect's latest values and its trend separately and hands each result (or the plain line
of its error) to the pane. A section that failed says why in place; the others stay.

``AspectTable`` lists every aspect of the asset with its variables: data type, the latest value with its
unit, its quality (``—`` for a variable without quality code) and a 24 h sparkline for numeric
variables. Enter on a row posts ``AspectTable.ChartRequested``; the screen opens the Time series area.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from tui.api.models import Aspect, Asset, AssetType, StaticValue, VariableDefinition
from tui.flows.assets import (
    AspectLatest,
    fact_rows,
    format_clock,
    format_value,
    quality_word,
    spark,
)

VALUE_WIDTH = 18  # longer values (BIG_STRING log lines) are cut with …
QUALITY_STYLE = {"good": "green", "uncertain": "yellow", "bad": "bold red"}


def _cut(text: str, width: int = VALUE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def facts_table(rows: Sequence[tuple[str, str]], pending: dict[str, str] | None = None) -> Table:
    """Label/value rows as a two-column grid; ``pending`` overrides a row's text with a dim note."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        note = (pending or {}).get(label)
        if note is not None:
            table.add_row(label, Text(note, style="dim italic"))
        elif label == "Sharing" and value.startswith("shared into"):
            table.add_row(label, Text(value, style="magenta"))
        elif label == "Decommissioned":
            table.add_row(label, Text(value, style="red"))
        else:
            table.add_row(label, Text(value or "-", style="" if value else "dim"))
    return table


def _kind(variable: VariableDefinition) -> Text:
    """Data type and unit of a variable: ``DOUBLE mm/s``."""
    text = Text(variable.data_type or "?", style="dim")
    if variable.unit:
        text.append(f" {variable.unit}", style="dim italic")
    return text


class AspectTable(DataTable[str | Text]):
    """Aspects and their variables; row keys ``aspect`` and ``aspect/variable``."""

    BINDING_GROUP_TITLE = "Aspects"

    @dataclass
    class ChartRequested(Message):
        """Enter on an aspect (``variable`` None: its numeric variables) or on one variable."""

        aspect: str
        variable: str | None

    COLUMNS = (
        ("name", "Aspect · variable"),
        ("value", "Latest value"),
        ("quality", "QC"),
        ("trend", "24 h"),
        ("type", "Type, unit"),
    )
    WIDE = 84  # a pane at least this wide draws one trend character per hour, a narrower one per 2 hours

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_cursor=True)
        self.aspects: dict[str, Aspect] = {}
        self.latest_time: dict[str, datetime | None] = {}
        self.trend_width = 24

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def show(self, aspects: Sequence[Aspect], asset: Asset | None) -> None:
        """One header row per aspect (dynamic ones first), one row per variable; static aspects show
        their values."""
        self.clear()
        aspects = sorted(aspects, key=lambda a: not a.is_dynamic)
        self.aspects = {a.name: a for a in aspects}
        pane = self.parent.size.width if isinstance(self.parent, Widget) else self.size.width
        self.trend_width = 24 if pane >= self.WIDE else 12
        self.latest_time = {}
        rows: list[tuple[list[str | Text], str]] = []
        for aspect in aspects:
            category = (aspect.category or "").lower()
            kind = "dynamic" if aspect.is_dynamic else category or "aspect"
            header: list[str | Text] = [
                Text(aspect.name, style="bold"),
                Text("loading…" if aspect.is_dynamic else "static values", style="dim italic"),
                "",
                "",
                Text(kind, style="dim italic"),
            ]
            rows.append((header, aspect.name))
            for variable in aspect.variables:
                value: str | Text = ""
                if not aspect.is_dynamic and asset is not None:
                    raw = asset.static_value(variable.name, aspect.name)
                    value = _cut(format_value(raw, variable.data_type, variable.unit))
                quality: str | Text = "" if variable.quality_code else Text("—", style="dim")
                rows.append(
                    (
                        [
                            Text(f" {variable.name}"),
                            value,
                            quality,
                            "",
                            _kind(variable),
                        ],
                        f"{aspect.name}/{variable.name}",
                    )
                )
        for cells, key in rows:
            self.add_row(*cells, key=key)

    def show_latest(self, latest: AspectLatest, now: datetime | None = None) -> None:
        aspect = self.aspects.get(latest.aspect)
        if aspect is None:
            return
        when = latest.time
        self.latest_time[aspect.name] = when
        header = (
            Text("no data", style="dim italic") if when is None else Text(f"at {format_clock(when, now)}")
        )
        self.update_cell(aspect.name, "value", header, update_width=True)
        for variable in aspect.variables:
            key = f"{aspect.name}/{variable.name}"
            found = latest.values.get(variable.name)
            if found is None:
                self.update_cell(key, "value", Text("-", style="dim"), update_width=True)
                continue
            text = _cut(format_value(found.value, variable.data_type, variable.unit))
            if found.time is not None and when is not None and found.time != when:
                text = _cut(f"{text} ({format_clock(found.time, now)})", VALUE_WIDTH + 16)
            self.update_cell(key, "value", text, update_width=True)
            if variable.quality_code:
                word = quality_word(found.quality) or "?"
                self.update_cell(
                    key, "quality", Text(word, style=QUALITY_STYLE.get(word, "")), update_width=True
                )

    def show_latest_failed(self, aspect_name: str, message: str) -> None:
        if aspect_name in self.aspects:
            self.update_cell(
                aspect_name, "value", Text("⚠ " + _cut(message, 40), style="red"), update_width=True
            )

    def show_trend(self, aspect_name: str, series: dict[str, list[float | None]]) -> None:
        aspect = self.aspects.get(aspect_name)
        if aspect is None:
            return
        for name, values in series.items():
            line = spark(values, self.trend_width)
            self.update_cell(
                f"{aspect_name}/{name}",
                "trend",
                Text(line, style="cyan") if line else Text("no data", style="dim"),
                update_width=True,
            )

    def show_trend_failed(self, aspect_name: str, message: str) -> None:
        if aspect_name in self.aspects:
            self.update_cell(
                aspect_name, "trend", Text("⚠ " + _cut(message, 34), style="red"), update_width=True
            )

    @property
    def target(self) -> tuple[str, str | None] | None:
        """``(aspect, variable or None)`` under the cursor."""
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None
        if key is None:
            return None
        aspect, _, variable = key.partition("/")
        return aspect, variable or None

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        target = self.target
        if target is not None:
            self.post_message(self.ChartRequested(*target))


class AssetDetails(VerticalScroll):
    """Facts, static variables and aspects of one asset."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Details"
        self.asset: Asset | None = None
        self.tenant: str | None = None
        self.chain: list[AssetType] = []
        self.chain_note: str | None = "loading…"
        self.problems: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="details-facts")
        yield Static("Variables", classes="details-heading")
        yield Static("", id="details-variables")
        yield Static("Aspects", classes="details-heading")
        yield Static("", id="details-aspects-note")
        yield AspectTable(id="details-aspects")
        yield Static("", id="details-problems")

    @property
    def aspect_table(self) -> AspectTable:
        return self.query_one("#details-aspects", AspectTable)

    def _facts(self) -> None:
        if self.asset is None:
            return
        pending = {"Type": self.chain_note} if self.chain_note else None
        self.query_one("#details-facts", Static).update(
            facts_table(fact_rows(self.asset, self.chain, self.tenant), pending)
        )

    def show_message(self, text: str) -> None:
        """No asset: one line instead of the sections."""
        self.asset = None
        self.border_title = "Details"
        self.query_one("#details-facts", Static).update(Text(text, style="italic"))
        self.query_one("#details-variables", Static).update("")
        self.aspect_table.clear()
        self._aspects_note("")
        self.aspect_table.display = False
        self.problems = {}
        self._show_problems()
        self.set_class(True, "-empty")

    def show_asset(self, asset: Asset, tenant: str | None, *, keep: bool = False) -> None:
        """Start showing ``asset``: its facts now, the other sections as "loading…".

        ``keep``: the same asset again (after a reload or an edit): keep the loaded sections on screen.
        """
        same = keep and self.asset is not None and self.asset.asset_id == asset.asset_id
        self.asset = asset
        self.tenant = tenant
        self.set_class(False, "-empty")
        self.border_title = asset.name or asset.asset_id
        if not same:
            self.chain = []
            self.chain_note = "loading the type…"
            self.problems = {}
            self._show_problems()
            self.query_one("#details-variables", Static).update(Text("loading…", style="dim italic"))
            self.aspect_table.clear()
            self._aspects_note(Text("loading…", style="dim italic"))
        self._facts()

    def show_chain(self, chain: list[AssetType]) -> None:
        self.chain = chain
        self.chain_note = None
        self._facts()

    def show_chain_failed(self, message: str) -> None:
        self.chain = []
        self.chain_note = f"{self.asset.type_id if self.asset else '?'} ({message})"
        self._facts()

    def show_variables(self, values: Sequence[StaticValue]) -> None:
        own = [v for v in values if v.aspect is None]
        widget = self.query_one("#details-variables", Static)
        if not own:
            widget.update(Text("none", style="dim"))
            return
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        table.add_column(style="dim", no_wrap=True)
        for v in own:
            table.add_row(v.name, format_value(v.value, v.data_type, v.unit), v.data_type or "")
        widget.update(table)

    def show_variables_failed(self, message: str) -> None:
        self.query_one("#details-variables", Static).update(Text(f"⚠ {message}", style="red"))

    def _aspects_note(self, text: Text | str) -> None:
        note = self.query_one("#details-aspects-note", Static)
        note.update(text)
        note.display = bool(text)
        self.aspect_table.display = not text

    def show_aspects(self, aspects: Sequence[Aspect]) -> None:
        self.aspect_table.show(aspects, self.asset)
        self._aspects_note("" if aspects else Text("none", style="dim"))

    def show_aspects_failed(self, message: str) -> None:
        self.aspect_table.clear()
        self._aspects_note(Text(f"⚠ {message}", style="red"))

    def problem(self, kind: str, message: str, item: str = "") -> None:
        """A section's failure in words, listed under the aspect table: ``kind`` is e.g. "latest
        values", ``item`` the aspect it concerns (if any)."""
        self.problems[f"{kind}\t{item}"] = message
        self._show_problems()

    def _show_problems(self) -> None:
        widget = self.query_one("#details-problems", Static)
        if not self.problems:
            widget.update("")
            widget.display = False
            return
        # The same failure for several aspects (a 403 on time series) is said once.
        grouped: dict[tuple[str, str], list[str]] = {}
        for key, message in self.problems.items():
            kind, _, item = key.partition("\t")
            grouped.setdefault((kind, message), []).append(item)
        lines = Text()
        for (kind, message), items in grouped.items():
            if lines:
                lines.append("\n")
            named = ", ".join(i for i in items if i)
            lines.append("⚠ ", style="bold red")
            lines.append(f"{kind} of {named}: " if named else f"{kind}: ", style="bold")
            lines.append(message)
        widget.update(lines)
        widget.display = True
