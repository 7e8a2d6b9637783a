"""``AreaScreen``: what every area of the app has in common.

An area subclasses it and writes ``compose_area`` (its content); the base screen

* gives it the typed app context (``self.ctx``, an ``IhubContext``) and its ``Area`` entry,
* wraps the content with the shared header (``StatusBar``) and the key bar (``KeyBar``),
* tells it about connection changes: a ``ConnectionChanged`` message is posted to the screen whenever the
  app publishes a new state on ``ctx.connection_signal`` (handle it with ``on_connection_changed``),
* runs blocking work (keyring, vault key derivation, heavy crypto) in a thread worker (``in_thread``),
* turns a worker failure that nobody handled into one error notification, never a traceback,
* keeps changes away while read-only: the actions named in ``CHANGES`` are hidden from the key bar, the
  help and the palette (``check_action``, ``is_change_command``) and refused in plain words when run
  anyway (``may_change``); ``changes_locked`` says when (``IhubContext.safety``),
* asks before destroying something (``confirm_destructive``): the name typed for a deletion in the tenant
  and, on a production profile, for any destructive action; a plain yes otherwise,
* offers its own palette commands (``palette_commands``), which the palette lists next to the app's, and
  one for each of its keys those do not already cover (``all_palette_commands``: every action of the
  area is in the palette, with its key; a key hidden by ``check_action`` is left out there too),
* receives what another area asks it to show (``ctx.open_area(mode, request)`` -> ``handle_request``),
* follows the terminal's size: classes ``-narrow`` (under ``NARROW_WIDTH`` columns, e.g. 80x24 over SSH)
  and ``-short`` (under ``SHORT_HEIGHT`` rows) for the area's styles, and on a narrow terminal shows one of
  its side-by-side panes (``FOLDED_PANES``) at a time, the others behind ``o`` (``show_pane`` picks one).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, ClassVar, TypeVar, cast

from textual import events, on
from textual._context import active_app
from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerFailed, WorkerState

from tui.areas import Area
from tui.config.safety import Destruction, Safety
from tui.context import IhubContext, PaletteCommand
from tui.messages import AreaRequested, ConnectionChanged, ConnectionState
from tui.screens.dialogs import ConfirmDialog
from tui.widgets.key_bar import KeyBar
from tui.widgets.status_bar import StatusBar

T = TypeVar("T")

# Thread workers started by ``in_thread`` re-raise into their caller, so the base does not report them.
THREAD_GROUP = "area-thread"


# Under this many columns an area is "narrow" (80x24 over SSH): side-by-side panes fold behind a key.
NARROW_WIDTH = 100
# Under this many rows an area is "short": lists give room to the panes under them.
SHORT_HEIGHT = 30
# The key that shows the next of an area's FOLDED_PANES (shown only while they are folded).
OTHER_PANE = Binding(
    "o",
    "other_pane",
    "Other pane",
    tooltip="Show the other pane (a narrow terminal shows one at a time)",
    id="area.other_pane",
)


class AreaScreen(Screen[None]):
    """The base of the four area screens."""

    # Actions that change the tenant, by action name, with what they do in words ("delete an asset"):
    # hidden and refused while ``changes_locked``.
    CHANGES: ClassVar[dict[str, str]] = {}
    # Side-by-side panes that share one place on a narrow terminal, as CSS selectors (one entry may name
    # panes the area itself swaps, e.g. "#details, #type-details"); the first is shown by default. An area
    # that has them adds ``OTHER_PANE`` to its bindings.
    FOLDED_PANES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, area: Area) -> None:
        super().__init__(name=area.mode, classes=f"area {area.mode}")
        self.area = area
        self._drawn = False  # True once a frame of this screen reached the terminal
        # The new screen is styled with the app's current style sheet when it is mounted, so its styles are
        # up to date. Without this Textual (8.2.8 ``App._init_mode``/``switch_mode``) refreshes the CSS of
        # the whole app on an area's first visit: two full re-parses of every style sheet and a restyle of
        # every screen, a third of the first switch to an area.
        app = active_app.get(None)
        if app is not None:
            self._css_update_count = app._css_update_count
        self.title = area.title
        self._pane = 0  # which of FOLDED_PANES a narrow terminal shows

    # -- the app, as a typed context -------------------------------------------------------------------
    @property
    def ctx(self) -> IhubContext:
        """The app seen through ``IhubContext`` (what a screen may ask of it)."""
        return cast(IhubContext, self.app)

    # -- layout ----------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar(self.area.title)
        yield from self.compose_area()
        yield KeyBar()

    def compose_area(self) -> ComposeResult:
        """The area's own widgets, between the header and the footer."""
        yield from ()

    # -- size: narrow and short terminals --------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def on_screen_resume(self) -> None:
        # The terminal may have changed size while another area was shown.
        self._fit(self.app.size.width, self.app.size.height)

    @on(events.ScreenResume)
    def _styles_fresh_until_drawn(self, event: events.ScreenResume) -> None:
        if not self._drawn:
            # Textual restyles every widget of a screen on each resume, twice on its first show; a screen not
            # drawn yet was styled when its widgets were mounted, moments ago (a quarter of a first visit).
            event.refresh_styles = False

    def _compositor_refresh(self) -> None:
        """Textual's frame, not made while the app holds its output (``App.batch_update``; the app holds it
        while a new area is built): that frame would be thrown away, so the screen is repainted in full once
        the output flows again (a third of a first visit was spent on such frames)."""
        if self.app._batch_count:
            self._repaint_required = True
            return
        self._drawn = True
        super()._compositor_refresh()

    def _fit(self, width: int, height: int) -> None:
        narrow = width < NARROW_WIDTH
        changed = narrow != self.has_class("-narrow")
        self.set_class(narrow, "-narrow")
        self.set_class(height < SHORT_HEIGHT, "-short")
        self._fold()
        if changed:
            self.refresh_bindings()

    def _fold(self) -> None:
        """Fold all but the chosen pane on a narrow terminal (unfold all otherwise); focus follows into the
        shown pane when the focused widget was folded away."""
        narrow = self.has_class("-narrow")
        folded_focus = False
        for index, selector in enumerate(self.FOLDED_PANES):
            for pane in self.query(selector):
                fold = narrow and index != self._pane
                pane.set_class(fold, "-folded")
                if fold and self.focused is not None and pane in self.focused.ancestors_with_self:
                    folded_focus = True
        if folded_focus and self.FOLDED_PANES:
            for pane in self.query(self.FOLDED_PANES[self._pane]):
                target = next((w for w in (pane, *pane.query("*")) if w.focusable and w.display), None)
                if target is not None:
                    self.call_after_refresh(target.focus)
                    break
            else:
                self.set_focus(None)  # nothing to focus in the shown pane: no key goes to the folded one

    @on(events.ScreenResume)
    def _refocus_after_resume(self) -> None:
        """Back from a dialog: Textual gives the focus back (or to the first focusable widget, hidden or
        not). Focus on a widget that is not shown (a folded pane, a closed search bar) moves to the first
        shown one, so no key goes to a hidden box."""
        self.call_after_refresh(self._focus_shown)

    def _focus_shown(self) -> None:
        focused = self.focused
        if focused is None or _shown(focused):
            return
        target = next((w for w in self.focus_chain if _shown(w)), None)
        self.set_focus(target)

    def show_pane(self, selector: str) -> None:
        """Make ``selector`` (one of ``FOLDED_PANES``) the pane a narrow terminal shows."""
        if selector in self.FOLDED_PANES:
            self._pane = self.FOLDED_PANES.index(selector)
            self._fold()

    def key_of(self, binding_id: str) -> str:
        """The key that runs ``binding_id`` now, as the key bar shows it (``/``, ``^f``): hints written in
        panes name it, so a keymap entry in settings.toml (``[keys]``) changes them too. "" if unbound."""
        keymap: dict[str, str] = getattr(self.app, "_keymap", {})
        for cls in type(self).__mro__:
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.id == binding_id:
                    if binding_id in keymap:
                        first = keymap[binding_id].split(",")[0].strip()
                        binding = dataclasses.replace(binding, key=first, key_display=None)
                    else:
                        binding = dataclasses.replace(binding, key=binding.key.split(",")[0].strip())
                    return self.app.get_key_display(binding)
        return ""

    def action_other_pane(self) -> None:
        if self.FOLDED_PANES:
            self._pane = (self._pane + 1) % len(self.FOLDED_PANES)
            self._fold()

    def _keymap_clashes(self) -> set[Binding]:
        """Bindings of this area (and the app) whose key a keymap entry gave to another binding; they have
        no key left. (Textual drops them silently: its own clash check misses bindings the keymap does not
        name.)"""
        keymap: dict[str, str] = getattr(self.app, "_keymap", {})
        if not keymap:
            return set()
        nodes: list[DOMNode] = [self, self.app]
        ours = {b.id for node in nodes for _k, b in node._bindings if b.id is not None}
        taken = {key for binding_id, keys in keymap.items() if binding_id in ours for key in keys.split(",")}
        return {
            binding
            for node in nodes
            for key, binding in node._bindings
            if binding.id is not None and binding.id not in keymap and key in taken
        }

    # -- connection ------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        clashes = self._keymap_clashes()
        if clashes:
            self.app.handle_bindings_clash(clashes, self)
        signal = getattr(self.app, "connection_signal", None)
        if signal is not None:
            signal.subscribe(self, self._connection_published)
            # A change published between compose and this subscription would be lost: start in sync.
            self.post_message(ConnectionChanged(self.ctx.connection))

    def _connection_published(self, state: ConnectionState) -> None:
        self.post_message(ConnectionChanged(state))
        self.refresh_bindings()  # read-only may have changed with the profile

    # -- read-only and destructive actions -------------------------------------------------------------
    @property
    def safety(self) -> Safety:
        return self.ctx.safety

    @property
    def changes_locked(self) -> bool:
        """True while the actions in ``CHANGES`` are off (a read-only session or profile)."""
        return self.safety.read_only

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Changes are hidden while read-only, and ``o`` (other pane) exists only where panes are folded (a
        narrow terminal). Areas that check more call ``super().check_action`` for what they do not decide."""
        if action in self.CHANGES and self.changes_locked:
            return False
        if action == "other_pane":
            return bool(self.FOLDED_PANES) and self.has_class("-narrow")
        return True

    def may_change(self, action: str) -> bool:
        """False (after saying why in plain words) when ``action`` is a change and changes are off."""
        if action not in self.CHANGES or not self.changes_locked:
            return True
        refusal = self.safety.refusal(self.CHANGES[action])
        self.notify(
            refusal[:1].upper() + refusal[1:] + ".",
            title="Read-only",
            severity="warning",
            markup=False,
        )
        return False

    def is_change_command(self, command: PaletteCommand) -> bool:
        """A palette command that changes something: marked ``change``, or running one of ``CHANGES``."""
        if command.change:
            return True
        callback: Any = command.callback
        while isinstance(callback, partial):
            if callback.func == self.run_action and callback.args:  # partial(run_action, "delete")
                return str(callback.args[0]).split("(")[0] in self.CHANGES
            callback = callback.func
        name = getattr(callback, "__name__", "")
        return name.startswith("action_") and name.removeprefix("action_") in self.CHANGES

    def destructive_dialog(
        self,
        kind: Destruction,
        title: str,
        message: str,
        name: str,
        *,
        confirm_label: str = "Delete",
        safety: Safety | None = None,
    ) -> ConfirmDialog:
        """The dialog that asks before destroying ``name``: the name must be typed for a deletion in the
        tenant and for anything on a production profile (``tui.config.safety.typed_confirmation``); a
        plain yes is enough otherwise. Push it with a callback, or ``push_screen_wait`` in a worker.
        ``safety``: of another profile than the active one (the Keys area deleting a profile)."""
        safety = safety or self.safety
        typed = name if safety.typed(kind) else None
        if safety.production:
            message = f"{message}\n▲ Production: {safety.production_why}."
        return ConfirmDialog(title, message, confirm_label=confirm_label, danger=True, typed=typed)

    def confirm_destructive(
        self,
        kind: Destruction,
        title: str,
        message: str,
        name: str,
        then: Callable[[bool], Any],
        *,
        confirm_label: str = "Delete",
        safety: Safety | None = None,
    ) -> None:
        """Ask with ``destructive_dialog``; ``then(True)`` once confirmed, ``then(False)`` otherwise."""
        dialog = self.destructive_dialog(
            kind, title, message, name, confirm_label=confirm_label, safety=safety
        )
        self.app.push_screen(dialog, lambda confirmed: then(bool(confirmed)))

    # -- requests from other areas ---------------------------------------------------------------------
    def on_area_requested(self, message: AreaRequested) -> None:
        message.stop()
        self.handle_request(message.request)

    def handle_request(self, request: object) -> None:
        """Show what another area asked for (``IhubContext.open_area``); areas that take requests override."""
        self.notify(f"{self.area.title} cannot open that yet.", title=self.area.title, severity="warning")

    # -- palette ---------------------------------------------------------------------------------------
    def palette_commands(self) -> Iterable[PaletteCommand]:
        """The area's own commands for the palette, with their words (none by default); every key of the
        area that these do not cover is added by ``all_palette_commands``."""
        return ()

    def all_palette_commands(self) -> list[PaletteCommand]:
        """``palette_commands()`` plus one command per key of the area that they leave out: the screen's
        bindings and those of its widgets that do more than move a cursor, titled ``Area: description``,
        the help naming the key (remapped keys included). Actions ``check_action`` hides or disables now
        are left out."""
        own = list(self.palette_commands())
        covered = {name for command in own if (name := _action_of(command.callback, self)) is not None}
        titles = {command.title for command in own}
        extra: list[PaletteCommand] = []
        for node, binding, keys in self._palette_bindings():
            namespace, name, params = parse_action(binding.action)
            if namespace or binding.action in covered or (not params and name in covered):
                continue
            if node.check_action(name, params) is not True:
                continue
            title = f"{self.area.title}: {binding.description or binding.tooltip}"
            if title in titles:  # two keys, one word (Cursor left and right): the tooltip tells them apart
                title = f"{self.area.title}: {binding.tooltip or binding.action}"
            if title in titles:
                continue
            titles.add(title)
            covered.add(binding.action)
            what = binding.tooltip or binding.description
            extra.append(
                PaletteCommand(
                    title,
                    f"{what} · key {' / '.join(keys)}",
                    partial(self.app.run_action, binding.action, node),
                )
            )
        return own + extra

    def _palette_bindings(self) -> list[tuple[DOMNode, Binding, list[str]]]:
        """(node, binding, keys as shown) for the screen's bindings and its widgets' non-navigation ones,
        with the app's keymap applied; one entry per binding id."""
        from tui.bindings import NAVIGATE, purpose_of

        nodes: list[DOMNode] = [self]
        nodes.extend(
            widget
            for widget in self.query("*")
            if widget._bindings.key_to_bindings and widget.display and not isinstance(widget, KeyBar)
        )
        keymap = getattr(self.app, "_keymap", {})
        found: dict[tuple[int, str], tuple[DOMNode, Binding, list[str]]] = {}
        for node in nodes:
            bindings = node._bindings.copy()
            if keymap:
                bindings.apply_keymap(keymap)
            for chain in bindings.key_to_bindings.values():
                for binding in chain:
                    if binding.system or not (binding.description or binding.tooltip) or binding.id is None:
                        continue
                    if node is not self and purpose_of(binding.id) == NAVIGATE:
                        continue
                    entry = found.setdefault((id(node), binding.id), (node, binding, []))
                    display = self.app.get_key_display(binding)
                    if display not in entry[2]:
                        entry[2].append(display)
        return list(found.values())

    # -- work in threads -------------------------------------------------------------------------------
    async def in_thread(self, fn: Callable[..., T], *args: Any, description: str = "background work") -> T:
        """Run a blocking call in a thread worker and return its result; its exception is re-raised."""
        worker: Worker[T] = self.run_worker(
            partial(fn, *args),
            thread=True,
            group=THREAD_GROUP,
            exit_on_error=False,
            description=description,
        )
        try:
            return await worker.wait()
        except WorkerFailed as failed:
            raise failed.error from None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker failure nobody handled becomes one notification; the app keeps running."""
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.group != THREAD_GROUP and worker.error is not None:
            what = worker.description or worker.name or "background work"
            self.ctx.show_error(worker.error, title=f"{self.area.title}: {what}")


def _action_of(callback: object, screen: Screen) -> str | None:
    """``search`` for the bound method ``screen.action_search`` (a palette command that is a key's
    action); None for anything else."""
    name = getattr(callback, "__name__", "")
    if getattr(callback, "__self__", None) is screen and name.startswith("action_"):
        return name.removeprefix("action_")
    return None


def _shown(widget: Widget) -> bool:
    """Whether ``widget`` and every container around it are displayed."""
    return all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget))
