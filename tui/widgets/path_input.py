"""A file or folder path field: typed with completion from the file system, or picked in a small browser.

Textual has no file dialog. ``PathInput`` is an ``Input`` that completes what is typed like a shell
(``PathSuggester``: the first entry of the folder that starts with the typed name; → or tab accepts it,
folders end in ``/``), with a ``Browse…`` button next to it that opens ``PathBrowserDialog``: a
``DirectoryTree`` from the typed folder (or the home folder) and a field for the chosen path. Nothing here
reads a file's content; the form that owns the field does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, DirectoryTree, Input, Static

# Folder entries looked at per completion (a huge folder must not stall typing).
SCAN_LIMIT = 2000


def expand(text: str) -> Path:
    """The path typed in a field: ``~`` expanded, surrounding spaces and quotes removed."""
    cleaned = text.strip().strip("'\"").strip()
    return Path(os.path.expanduser(cleaned)) if cleaned else Path()


def complete_path(value: str, *, folders_only: bool = False) -> str | None:
    """The completion of ``value`` from the file system: ``value`` extended by the rest of the first entry
    (in name order) that starts with the typed name, with ``/`` after a folder; None when nothing matches.
    Hidden entries only when the typed name starts with a dot."""
    if not value or value.endswith(("/..", "/.")) or value in ("~", ".", ".."):
        return None
    head, sep, prefix = value.rpartition("/")
    folder = expand(head + sep) if sep else Path(".")
    if sep and not head:
        folder = Path("/")
    try:
        entries: list[tuple[str, bool]] = []
        with os.scandir(folder) as scan:
            for count, entry in enumerate(scan):
                if count >= SCAN_LIMIT:
                    break
                if not entry.name.startswith(prefix) or entry.name == prefix:
                    continue
                if entry.name.startswith(".") and not prefix.startswith("."):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                if folders_only and not is_dir:
                    continue
                entries.append((entry.name, is_dir))
    except OSError:
        return None
    if not entries:
        return None
    name, is_dir = min(entries)
    return value + name[len(prefix) :] + ("/" if is_dir else "")


class PathSuggester(Suggester):
    """Completes file system paths (``complete_path``); case-sensitive, never cached (folders change)."""

    def __init__(self, *, folders_only: bool = False) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.folders_only = folders_only

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value, folders_only=self.folders_only)


class _PathField(Input):
    """The input of a ``PathInput``: tab accepts a completion, otherwise moves on as usual."""

    BINDINGS = [Binding("tab", "complete", "Complete", show=False, id="path.complete")]

    def action_complete(self) -> None:
        suggestion = self._suggestion
        if suggestion and self.cursor_at_end and suggestion != self.value:
            self.value = suggestion
            self.cursor_position = len(self.value)
            return
        self.screen.focus_next()


class PathInput(Horizontal):
    """A path field with completion and a ``Browse…`` button. ``value`` is the text as typed; ``path`` the
    expanded ``Path`` (None while empty). ``folders_only`` for a folder to write into."""

    DEFAULT_CSS = """
    PathInput {
        height: auto;
        width: 1fr;
    }
    PathInput > Input {
        width: 1fr;
    }
    PathInput > Button {
        min-width: 10;
        width: auto;
        margin-left: 1;
    }
    """

    def __init__(
        self,
        value: str = "",
        *,
        placeholder: str = "",
        folders_only: bool = False,
        title: str = "Choose a file",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._initial = value
        self.placeholder = placeholder
        self.folders_only = folders_only
        self.title = title

    def compose(self) -> ComposeResult:
        yield _PathField(
            self._initial,
            placeholder=self.placeholder,
            suggester=PathSuggester(folders_only=self.folders_only),
            classes="path-field",
            compact=True,
        )
        yield Button("Browse…", classes="path-browse", compact=True)

    @property
    def input(self) -> Input:
        return self.query_one(_PathField)

    @property
    def value(self) -> str:
        return self.input.value

    @value.setter
    def value(self, text: str) -> None:
        self.input.value = text
        self.input.cursor_position = len(text)

    @property
    def path(self) -> Path | None:
        text = self.value.strip()
        return expand(text) if text else None

    def focus(self, scroll_visible: bool = True) -> PathInput:
        self.input.focus(scroll_visible)
        return self

    @on(Button.Pressed, ".path-browse")
    def _browse(self, event: Button.Pressed) -> None:
        event.stop()
        start = self.path
        self.app.push_screen(
            PathBrowserDialog(start, folders_only=self.folders_only, title=self.title), self._picked
        )

    def _picked(self, chosen: Path | None) -> None:
        if chosen is not None:
            self.value = str(chosen) + ("/" if self.folders_only and chosen.is_dir() else "")
            self.input.focus()


class _Tree(DirectoryTree):
    """A directory tree without hidden entries (and only folders when asked)."""

    def __init__(self, path: Path, *, folders_only: bool, id: str | None = None) -> None:
        self.folders_only = folders_only
        super().__init__(path, id=id)

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        for path in paths:
            if path.name.startswith("."):
                continue
            if self.folders_only and not self._safe_is_dir(path):
                continue
            yield path


class PathBrowserDialog(ModalScreen[Path | None]):
    """Pick a file (or a folder) in a directory tree; ``backspace`` goes to the parent folder. Returns the
    chosen path, or None (escape)."""

    DEFAULT_CSS = """
    PathBrowserDialog {
        align: center middle;
    }
    PathBrowserDialog > Vertical {
        width: 84;
        max-width: 96%;
        height: 80%;
        border: thick $primary 80%;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }
    PathBrowserDialog #browser-tree {
        height: 1fr;
    }
    PathBrowserDialog #browser-hint {
        color: $text-muted;
        height: auto;
    }
    PathBrowserDialog #browser-buttons {
        height: auto;
        align-horizontal: right;
    }
    PathBrowserDialog #browser-buttons Button {
        margin-left: 1;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="browser.cancel"),
        Binding("backspace", "parent", "Parent folder", id="browser.parent"),
    ]

    def __init__(
        self, start: Path | None, *, folders_only: bool = False, title: str = "Choose a file"
    ) -> None:
        super().__init__(classes="dialog")
        self.folders_only = folders_only
        self.heading = title
        self.root = _start_folder(start)
        self.chosen: Path | None = start if start is not None and start.exists() else None

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.heading
            yield _Tree(self.root, folders_only=self.folders_only, id="browser-tree")
            hint = "enter opens a folder" + (" and picks it" if self.folders_only else ", picks a file")
            yield Static(f"{hint} · backspace: parent folder · escape: cancel", id="browser-hint")
            yield Input(str(self.chosen or self.root), id="browser-path")
            with Horizontal(id="browser-buttons"):
                yield Button("Choose", id="browser-ok", variant="primary")
                yield Button("Cancel", id="browser-cancel")

    def on_mount(self) -> None:
        self.query_one("#browser-tree", _Tree).focus()

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        if not self.folders_only:
            self.dismiss(event.path)

    @on(DirectoryTree.NodeHighlighted)
    def _highlighted(self, event: DirectoryTree.NodeHighlighted) -> None:
        entry = event.node.data
        if entry is not None:
            self.query_one("#browser-path", Input).value = str(entry.path)

    @on(DirectoryTree.DirectorySelected)
    def _folder(self, event: DirectoryTree.DirectorySelected) -> None:
        event.stop()
        self.query_one("#browser-path", Input).value = str(event.path)

    def action_parent(self) -> None:
        if isinstance(self.focused, Input):
            return
        parent = self.root.parent
        if parent != self.root:
            self.root = parent
            tree = self.query_one("#browser-tree", _Tree)
            tree.path = parent

    @on(Input.Submitted, "#browser-path")
    @on(Button.Pressed, "#browser-ok")
    def _choose(self) -> None:
        text = self.query_one("#browser-path", Input).value
        if text.strip():
            self.dismiss(expand(text))

    @on(Button.Pressed, "#browser-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _start_folder(start: Path | None) -> Path:
    """The folder to browse first: the typed path's folder if it exists, else the home folder."""
    candidates = []
    if start is not None:
        candidates += [start, start.parent]
    candidates += [Path.cwd(), Path.home()]
    for candidate in candidates:
        try:
            if candidate.is_dir():
                return candidate.resolve()
        except OSError:
            continue
    return Path("/")
