"""The help screen: every key that works on the current screen, grouped by purpose (Navigate, View, Change,
Copy and export, Connection, App), read from the live bindings, so a remapped key shows as remapped."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.bindings import PURPOSES, purpose_of

# A terminal at least this wide shows each key's binding id (what [keys] in settings.toml names).
WIDE = 100


@dataclass
class HelpSection:
    title: str
    # (keys as shown, e.g. "? / F1", description)
    entries: list[tuple[str, str]] = field(default_factory=list)
    # the binding id of each entry (what a keymap in settings.toml names), None for Textual's own keys
    ids: list[str | None] = field(default_factory=list)


def help_sections(app: App, screen: Screen, screen_title: str | None = None) -> list[HelpSection]:
    """The bindings active on ``screen`` (focused widget, screen, app) in one section per purpose
    (``tui.bindings.PURPOSES`` order; ``screen_title`` is kept for callers and unused).

    Keys bound to the same action, description and id are shown together; system bindings and bindings
    without a description (widget internals such as cursor keys in an input) are left out. Within a
    purpose, the focused widget's and the screen's keys come before the app's.
    """
    # purpose -> (action, description, id) -> (keys, binding id, app-level), in first-seen order
    groups: dict[str, dict[tuple[str, str, str], tuple[list[str], str | None, bool]]] = {}
    for active in screen.active_bindings.values():
        binding: Binding = active.binding
        description = binding.tooltip or binding.description
        if binding.system or not description:
            continue
        at_app = isinstance(active.node, App)
        entry = groups.setdefault(purpose_of(binding.id), {}).setdefault(
            (binding.action, description, binding.id or ""), ([], binding.id, at_app)
        )
        display = app.get_key_display(binding)
        if display not in entry[0]:
            entry[0].append(display)
    sections = []
    for purpose in PURPOSES:
        found = groups.get(purpose)
        if not found:
            continue
        ordered = sorted(found.items(), key=lambda item: item[1][2])  # stable: the app's keys last
        sections.append(
            HelpSection(
                purpose,
                [(" / ".join(keys), text) for (_action, text, _id), (keys, _bid, _app) in ordered],
                [binding_id for _key, (_keys, binding_id, _app) in ordered],
            )
        )
    return sections


def _section_table(section: HelpSection, keys_width: int, id_width: int) -> Table:
    """One section as a grid; every section gets the same column widths, so they line up."""
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column(style="bold", width=keys_width, no_wrap=True)
    table.add_column(ratio=1)
    if id_width:
        table.add_column(style="dim", width=id_width, no_wrap=True)
    for (keys, description), binding_id in zip(section.entries, section.ids, strict=True):
        cells = [Text(keys), Text(description)] + ([Text(binding_id or "")] if id_width else [])
        table.add_row(*cells)
    return table


class HelpScreen(ModalScreen[None]):
    """Lists the keys; closes with escape, q, ? or F1."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss_help", "Close help", id="help.close"),
    ]

    def __init__(self, sections: list[HelpSection], *, title: str = "Keys") -> None:
        super().__init__()
        self.sections = sections
        self.heading = title

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = self.heading
            body.border_subtitle = Content("escape closes · right: the ids for [keys] in settings.toml")
            keys_width = max((len(keys) for s in self.sections for keys, _text in s.entries), default=8)
            id_width = max((len(i or "") for s in self.sections for i in s.ids), default=0)
            if self.app.size.width < WIDE:  # 80 columns: the descriptions get the room, the ids stay out
                id_width = 0
                body.border_subtitle = "escape closes"
            for section in self.sections:
                yield Static(section.title, classes="help-section-title")
                yield Static(
                    _section_table(section, max(6, min(keys_width, 14)), id_width), classes="help-section"
                )

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
