"""Presentation mode on screen: the masker of ``tui/present.py`` applied where Textual turns text into cells.

Text is masked *before* it is laid out, so a masked value is never cut in half by a column, a wrap or a
scroll position. ``install()`` wraps, once per process, the few places every piece of text passes through:

* ``visualize`` (``Static``, ``Label``, every widget's ``render()``, notifications, the palette's and
  ``Select``'s options, Rich tables and groups shown in a ``Static``),
* the ``DataTable`` cell formatter,
* ``Tree.render_label`` (and ``DirectoryTree``'s),
* what an ``Input`` shows (masks of the same length, so the cursor stays where the text is),
* border titles.

Each wrapper asks the running app for its masker (``presentation_masker``); an app without one (presentation
off, or any other app) is not touched. ``refresh_all(app)`` redraws every screen after the mode is switched:
the masks are applied while drawing, so switching off shows the real text again.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Span as RichSpan
from rich.text import Text
from textual._context import active_app
from textual.content import Content, Span
from textual.widgets import DataTable, DirectoryTree, Input, OptionList, Static, Tree

from tui.present import Masker, apply, remap_spans

if TYPE_CHECKING:
    from textual.app import App

_installed = False


def masker() -> Masker | None:
    """The masker of the app running now, or None (presentation off)."""
    app = active_app.get(None)
    found = getattr(app, "presentation_masker", None) if app is not None else None
    return found if isinstance(found, Masker) else None


# -- masking Textual and Rich text -------------------------------------------------------------------
def mask_content(content: Content, m: Masker) -> Content:
    plain = content.plain
    found = m.replacements(plain)
    if not found:
        return content
    spans = [Span(s, e, style) for s, e, style in remap_spans(content.spans, found)]
    return Content(apply(plain, found), spans)


def mask_text(text: Text, m: Masker, *, fixed_width: bool = False) -> Text:
    plain = text.plain
    found = m.replacements(plain, fixed_width=fixed_width)
    if not found:
        return text
    masked = text.copy()
    masked.plain = apply(plain, found)
    masked.spans = [RichSpan(s, e, style) for s, e, style in remap_spans(text.spans, found)]
    return masked


def mask_renderable(obj: Any, m: Masker) -> Any:
    """A copy of a Rich renderable with its text masked (text, tables, groups, panels, padding)."""
    if isinstance(obj, str):
        return m.mask(obj)
    if isinstance(obj, Text):
        return mask_text(obj, m)
    if isinstance(obj, Content):
        return mask_content(obj, m)
    if isinstance(obj, Table):
        table = copy.copy(obj)
        columns = []
        for column in obj.columns:
            clone = copy.copy(column)
            clone.header = mask_renderable(column.header, m)
            clone._cells = [mask_renderable(cell, m) for cell in column._cells]
            columns.append(clone)
        table.columns = columns
        if obj.title is not None:
            table.title = mask_renderable(obj.title, m)
        return table
    if isinstance(obj, Group):
        group = copy.copy(obj)
        group._renderables = tuple(mask_renderable(r, m) for r in obj.renderables)
        return group
    if isinstance(obj, Panel):
        panel = copy.copy(obj)
        panel.renderable = mask_renderable(obj.renderable, m)
        if obj.title is not None:
            panel.title = mask_renderable(obj.title, m)
        return panel
    if isinstance(obj, Padding):
        padding = copy.copy(obj)
        padding.renderable = mask_renderable(obj.renderable, m)
        return padding
    return obj


# -- the wrappers ------------------------------------------------------------------------------------
def install() -> None:
    """Wrap Textual's text paths once per process (a no-op for apps that are not presenting)."""
    global _installed
    if _installed:
        return
    _installed = True
    import textual.widget as widget_module
    import textual.widgets._data_table as data_table_module
    import textual.widgets._option_list as option_list_module
    import textual.widgets._static as static_module
    from textual.widget import _BorderTitle

    for module in (widget_module, static_module, option_list_module):
        module.visualize = _masked_visualize(module.visualize)  # type: ignore[attr-defined]

    formatter = data_table_module.default_cell_formatter

    def masked_cell(obj: object, wrap: bool = True, height: int = 0) -> Any:
        result = formatter(obj, wrap, height)
        m = masker()
        return mask_renderable(result, m) if m is not None else result

    data_table_module.default_cell_formatter = masked_cell

    for tree_class in (Tree, DirectoryTree):
        tree_class.render_label = _masked_label(tree_class.render_label)  # type: ignore[method-assign]

    value_property = Input._value

    def masked_value(self: Input) -> Text:
        text: Text = value_property.fget(self)  # type: ignore[attr-defined]
        m = masker()
        if m is None or self.password:
            return text
        return mask_text(text, m, fixed_width=True)

    Input._value = property(masked_value)  # type: ignore[method-assign,assignment]

    original_set = _BorderTitle.__set__

    def masked_set(self: _BorderTitle, obj: Any, title: Any) -> None:
        obj.__dict__[f"_ihub_source{self._internal_name}"] = title
        m = masker()
        if m is not None and title is not None:
            title = mask_renderable(title, m)
        original_set(self, obj, title)

    _BorderTitle.__set__ = masked_set  # type: ignore[method-assign]


def _masked_visualize(original: Any) -> Any:
    def visualize(widget: Any, obj: object, markup: bool = True) -> Any:
        m = masker()
        if m is None:
            return original(widget, obj, markup)
        if not isinstance(obj, str | Text | Content):
            obj = mask_renderable(obj, m)
        visual = original(widget, obj, markup)
        return mask_content(visual, m) if isinstance(visual, Content) else visual

    return visualize


def _masked_label(original: Any) -> Any:
    def render_label(self: Tree[Any], node: Any, base_style: Any, style: Any) -> Text:
        label: Text = original(self, node, base_style, style)
        m = masker()
        return mask_text(label, m) if m is not None else label

    return render_label


# -- switching -----------------------------------------------------------------------------------------
def refresh_all(app: App[Any]) -> None:
    """Draw every screen of ``app`` again with the current masker (after presentation mode was switched)."""
    screens: list[Any] = []
    for stack in getattr(app, "_screen_stacks", {}).values():
        screens.extend(stack)
    screens.extend(s for s in app.screen_stack if s not in screens)
    for screen in screens:
        for widget in screen.walk_children(with_self=True):
            if isinstance(widget, Static):
                widget._Static__visual = None  # type: ignore[attr-defined]  # made again from its content
            if isinstance(widget, DataTable):
                widget._clear_caches()
            if isinstance(widget, Tree):
                widget._invalidate()
            if isinstance(widget, OptionList):
                widget._option_render_cache.clear()
                widget._line_cache.clear()
            for name in ("border_title", "border_subtitle"):
                source = widget.__dict__.get(f"_ihub_source_{name}")
                if source is not None:
                    setattr(widget, name, source)
            widget.refresh(layout=True)
    for toast in app.query("Toast"):
        toast.refresh()


__all__ = ["install", "mask_content", "mask_renderable", "mask_text", "masker", "refresh_all"]
