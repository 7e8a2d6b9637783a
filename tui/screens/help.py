"""The help screen: every key of the app and of the current screen, read from the live bindings."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

EVERYWHERE = "Everywhere"


@dataclass
class HelpSection:
    title: str
    # (keys as shown, e.g. "? / F1", description)
    entries: list[tuple[str, str]] = field(default_factory=list)


def help_sections(app: App, screen: Screen, screen_title: str | None = None) -> list[HelpSection]:
    """Group the bindings active on ``screen`` (focused widget, screen, app) into titled sections.

    Keys bound to the same action and description are shown together; system bindings and bindings
    without a description (widget internals such as cursor keys in an input) are left out.
    """
    titles: dict[int, str] = {}
    # node -> (action, description) -> keys, all in first-seen order
    groups: dict[int, dict[tuple[str, str], list[str]]] = {}
    for active in screen.active_bindings.values():
        binding: Binding = active.binding
        description = binding.tooltip or binding.description
        if binding.system or not description:
            continue
        node = active.node
        if isinstance(node, App):
            title = EVERYWHERE
        elif node is screen:
            title = screen_title or screen.title or type(screen).__name__
        else:
            title = getattr(node, "BINDING_GROUP_TITLE", None) or f"{type(node).__name__} (focused)"
        titles.setdefault(id(node), title)
        keys = groups.setdefault(id(node), {}).setdefault((binding.action, description), [])
        display = app.get_key_display(binding)
        if display not in keys:
            keys.append(display)

    def rank(node: int) -> int:
        # The screen's own keys first, then those of the focused widget, the app-wide keys last.
        return 0 if node == id(screen) else 2 if titles[node] == EVERYWHERE else 1

    return [
        HelpSection(
            titles[node], [(" / ".join(keys), text) for (_action, text), keys in groups[node].items()]
        )
        for node in sorted(groups, key=rank)
    ]


def _section_table(section: HelpSection) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", min_width=12, no_wrap=True)
    table.add_column()
    for keys, description in section.entries:
        table.add_row(Text(keys), Text(description))
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
            body.border_subtitle = "escape to close"
            for section in self.sections:
                yield Static(section.title, classes="help-section-title")
                yield Static(_section_table(section), classes="help-section")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
