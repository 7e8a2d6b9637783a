"""The one-line key bar at the bottom of every area: the keys that work now, drawn as a single line.

Textual's ``Footer`` builds one widget per key and rebuilds them all on every focus or screen change,
which made switching areas take 0.2-0.3 s on a 2-core machine; this bar is one widget that renders a line
of text. It shows the focused widget's and the screen's keys first, the area keys as one ``1-4`` item,
and always keeps ``^p Palette``, ``? Help`` and ``q Quit`` at the right end, however narrow the terminal:
what does not fit in the middle is replaced by ``…`` (``?`` lists every key). A click on an item runs it.
On a 16-colour terminal the key letters are drawn in cyan, since the theme's accent would round to red.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

from tui.widgets.colours import few_colours

# Actions always shown at the right end, in this order.
PINNED = ("command_palette", "help", "quit")
# Actions folded into one item: the area keys.
AREA_ACTION = "switch_area"
SEPARATOR = "  "


@dataclass(frozen=True)
class KeyItem:
    """One entry of the bar: the keys as shown, what they do, and where the action runs."""

    keys: str
    description: str
    action: str
    node: DOMNode
    enabled: bool = True

    @property
    def width(self) -> int:
        return len(self.keys) + 1 + len(self.description)


class KeyBar(Widget):
    """Docked at the bottom of an area; follows the screen's bindings."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    KeyBar > .keybar--key {
        text-style: bold;
        color: $footer-key-foreground;
    }
    /* 16 colours: the accent would round to bright red, the colour of errors. */
    KeyBar.-few-colours > .keybar--key {
        color: ansi_bright_cyan;
    }
    KeyBar > .keybar--disabled {
        color: $text-disabled;
    }
    KeyBar > .keybar--more {
        color: $text-muted;
    }
    """
    COMPONENT_CLASSES = {"keybar--key", "keybar--disabled", "keybar--more"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._spans: list[tuple[int, int, KeyItem]] = []

    def on_mount(self) -> None:
        self.set_class(few_colours(self.app), "-few-colours")
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen:
            self.refresh()

    # -- what to show ----------------------------------------------------------------------------------
    def items(self) -> tuple[list[KeyItem], list[KeyItem]]:
        """(middle items in order, pinned items) for the current bindings."""
        by_action: dict[str, list[tuple[Binding, DOMNode, bool]]] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show and binding.action.split("(")[0] not in PINNED:
                continue
            by_action.setdefault(binding.action, []).append((binding, active.node, active.enabled))
        middle: list[KeyItem] = []
        pinned: dict[str, KeyItem] = {}
        areas: list[tuple[Binding, DOMNode]] = []
        for action, found in by_action.items():
            visible = [entry for entry in found if entry[0].show] or found
            binding, node, enabled = visible[0]
            name = action.split("(")[0]
            if name == AREA_ACTION:
                areas.append((binding, node))
                continue
            keys = self.app.get_key_display(binding)  # the first key; the help screen lists them all
            item = KeyItem(keys, binding.description, action, node, enabled)
            if name in PINNED:
                pinned.setdefault(name, item)
            else:
                middle.append(item)
        # Widget and screen keys first, then the app's own (the bindings come app-first).
        own = [item for item in middle if not isinstance(item.node, App)]
        app_level = [item for item in middle if isinstance(item.node, App)]
        if areas:
            area_keys = sorted(self.app.get_key_display(b) for b, _n in areas)
            first, last = area_keys[0], area_keys[-1]
            app_level.insert(0, KeyItem(f"{first}-{last}", "Areas", areas[0][0].action, areas[0][1]))
        ordered_pins = [pinned[name] for name in PINNED if name in pinned]
        return own + app_level, ordered_pins

    # -- drawing ---------------------------------------------------------------------------------------
    def render(self) -> Text:
        middle, pinned = self.items()
        width = self.size.width
        pinned_width = sum(item.width for item in pinned) + len(SEPARATOR) * len(pinned)
        room = width - pinned_width - 1
        shown: list[KeyItem] = []
        used = 0
        cut = False
        for item in middle:
            needed = item.width + len(SEPARATOR)
            if used + needed > room - 2:  # keep room for "…"
                cut = True
                break
            shown.append(item)
            used += needed
        key_style = self.get_component_rich_style("keybar--key")
        off_style = self.get_component_rich_style("keybar--disabled")
        more_style = self.get_component_rich_style("keybar--more")
        text = Text(" ", no_wrap=True, overflow="crop")
        self._spans = []
        for item in shown:
            self._add(text, item, key_style, off_style)
        if cut:
            text.append("…", more_style)
        gap = max(1, width - text.cell_len - pinned_width)
        text.append(" " * gap)
        for item in pinned:
            self._add(text, item, key_style, off_style)
        return text

    def _add(self, text: Text, item: KeyItem, key_style: object, off_style: object) -> None:
        start = text.cell_len
        if item.enabled:
            text.append(item.keys, key_style)  # type: ignore[arg-type]
            text.append(f" {item.description}")
        else:
            text.append(f"{item.keys} {item.description}", off_style)  # type: ignore[arg-type]
        self._spans.append((start, text.cell_len, item))
        text.append(SEPARATOR)

    @property
    def plain(self) -> str:
        """The bar as plain text (what tests assert on)."""
        return self.render().plain.rstrip()

    # -- mouse -----------------------------------------------------------------------------------------
    async def _on_click(self, event: events.Click) -> None:
        for start, end, item in self._spans:
            if start <= event.x < end and item.enabled:
                event.stop()
                await self.app.run_action(item.action, item.node)
                return
