"""``AreaScreen``: what every area of the app has in common.

An area subclasses it and writes ``compose_area`` (its content); the base screen

* gives it the typed app context (``self.ctx``, an ``IhubContext``) and its ``Area`` entry,
* wraps the content with the shared header (``StatusBar``) and the key bar (``KeyBar``),
* tells it about connection changes: a ``ConnectionChanged`` message is posted to the screen whenever the
  app publishes a new state on ``ctx.connection_signal`` (handle it with ``on_connection_changed``),
* runs blocking work (keyring, vault key derivation, heavy crypto) in a thread worker (``in_thread``),
* turns a worker failure that nobody handled into one error notification, never a traceback,
* offers its own palette commands (``palette_commands``), which the palette lists next to the app's,
* receives what another area asks it to show (``ctx.open_area(mode, request)`` -> ``handle_request``),
* keeps changes away while read-only: the actions named in ``CHANGES`` are hidden from the key bar, the
  help and the palette (``check_action``, ``is_change_command``) and refused in plain words when run
  anyway (``may_change``); ``changes_locked`` says when (``IhubContext.safety``),
* asks before destroying something (``confirm_destructive``): the name typed for a deletion in the tenant
  and, on a production profile, for any destructive action; a plain yes otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, ClassVar, TypeVar, cast

from textual.app import ComposeResult
from textual.screen import Screen
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


class AreaScreen(Screen[None]):
    """The base of the four area screens."""

    # Actions that change the tenant, by action name, with what they do in words ("delete an asset"):
    # hidden and refused while ``changes_locked``.
    CHANGES: ClassVar[dict[str, str]] = {}

    def __init__(self, area: Area) -> None:
        super().__init__(name=area.mode, classes=f"area {area.mode}")
        self.area = area
        self.title = area.title

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

    # -- connection ------------------------------------------------------------------------------------
    def on_mount(self) -> None:
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
        """Changes are hidden while read-only; areas that check more call this first."""
        if action in self.CHANGES and self.changes_locked:
            return False
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
        """The area's commands for the palette (none by default)."""
        return ()

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
