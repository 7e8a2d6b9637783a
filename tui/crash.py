"""Exceptions nobody handled in the app: a log entry and one notification, never a traceback on screen.

Textual sends every unhandled exception to ``App._handle_exception``, whose default prints a traceback
(with local variables, where secrets live) and exits. ``CrashGuard`` replaces it (Textual 8.2.8, pinned):

* the traceback goes to the error log (``tui.errorlog``: secrets masked) and the user gets one line that
  says what failed and names the file;
* the app keeps running where Textual allows: a failed worker, timer callback or ``call_later``
  callback leaves everything else working; a screen or widget whose message loop stopped (Textual ends
  the loop of a node whose handler raised) is replaced: a pushed screen (dialog, help, Requests) is
  closed, an area is built again (``AREAS``);
* otherwise (the app's own message loop, rendering, an area that keeps failing, more than
  ``BURST_COUNT`` errors within ``BURST_SECONDS``) the app exits with return code 1 and prints one plain
  line with the log file's path once the terminal is restored.

Under ``App.run_test`` the first such exception is still re-raised when the test's ``async with``
ends (Textual keeps it in ``App._exception``), so a bug in a screen fails its test as before.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual._context import active_message_pump
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import WorkerFailed

from tui.areas import AREA_BY_MODE, AREAS
from tui.errorlog import record_unexpected, shown_path
from tui.errors import error_text

if TYPE_CHECKING:
    from textual.app import App

# Where Textual calls ``_handle_exception`` from (the calling function's name):
# the node and the app keep running after these ...
KEEPS_RUNNING = frozenset({"_run", "_tick", "_flush_next_callbacks"})  # worker, timer, call_later
# ... and after these the failing node's message loop has ended (or it never started).
ENDS_LOOP = frozenset({"_process_messages_loop", "_pre_process", "_compose"})
BURST_COUNT = 5
BURST_SECONDS = 10.0
MAX_AREA_RELOADS = 2


def unexpected_text(error: BaseException) -> str:
    """One line for an unexpected ``error`` that names the log file its traceback went to."""
    path = record_unexpected(error)
    text = error_text(error)
    if "(details in " not in text:
        where = f"details in {shown_path(path)}" if path is not None else "no log file could be written"
        text = f"{text} ({where})"
    return text


class CrashGuard:
    """Mixed into the app class before ``App``: replaces Textual's crash path (see the module doc)."""

    _crash_times: list[float]
    _area_reloads: dict[str, int]

    async def run_action(self, action: Any, default_namespace: Any = None, namespaces: Any = None) -> bool:
        """Every key binding, click and palette action runs here (in the app's message loop, which an
        exception would end): a failing action is an unexpected error the app survives."""
        try:
            return bool(await super().run_action(action, default_namespace, namespaces))  # type: ignore[misc]
        except Exception as error:
            app = cast("App[Any]", self)
            text = self._note(app, error, f"the action {action!r}")
            if text is not None:
                app.notify(text, title="Unexpected error", severity="error", timeout=15, markup=False)
            return True

    def _note(self, app: App[Any], error: BaseException, context: str) -> str | None:
        """Log ``error``; its line for the user, or None when the app gives up (too many errors)."""
        record_unexpected(error, context=context)
        text = unexpected_text(error)
        if app._exception is None and isinstance(error, Exception):
            app._exception = error  # App.run_test re-raises it: a bug still fails its test
        now = time.monotonic()
        times = [t for t in getattr(self, "_crash_times", []) if now - t < BURST_SECONDS] + [now]
        self._crash_times = times
        if len(times) > BURST_COUNT:
            self._give_up(app, f"{text}; {len(times)} errors in {BURST_SECONDS:.0f} s")
            return None
        return text

    def _handle_exception(self, error: Exception) -> None:
        app = cast("App[Any]", self)
        caller = sys._getframe(1).f_code.co_name
        pump = active_message_pump.get(None)
        original: BaseException = error
        if isinstance(error, WorkerFailed) and error.error is not None:
            original = error.error
        text = self._note(app, original, _where(pump, caller))
        if text is None:
            return None
        if caller in KEEPS_RUNNING and not app._exit:
            app.notify(text, title="Unexpected error", severity="error", timeout=15, markup=False)
            return None
        if caller in ENDS_LOOP and isinstance(pump, Widget) and not app._exit:
            outcome = self._replace(app, pump)
            if outcome is not None:
                app.notify(f"{text}. {outcome}", title="Unexpected error", severity="error", timeout=15,
                           markup=False)  # fmt: skip
                return None
        return self._give_up(app, text)

    def _give_up(self, app: App[Any], text: str) -> None:
        text = text.removeprefix("unexpected error: ")
        app.exit(return_code=1, message=Text(f"ihub stopped after an unexpected error: {text}"))

    def _replace(self, app: App[Any], node: Widget) -> str | None:
        """Take the node whose loop ended out of use; what was done, in words, or None if nothing can be."""
        try:
            screen = node if isinstance(node, Screen) else node.screen
        except Exception:  # noqa: BLE001 - a node without a screen: nothing to replace
            return None
        stack = app.screen_stack
        if screen in stack and stack.index(screen) > 0:
            while screen in app.screen_stack and len(app.screen_stack) > 1:
                app.pop_screen()
            return "That window was closed"
        for area in AREAS:
            try:
                base = app.get_screen_stack(area.mode)[:1]
            except KeyError:
                continue
            if base and base[0] is screen:
                reloads = self._area_reloads.get(area.mode, 0)
                if reloads >= MAX_AREA_RELOADS:
                    return None
                self._area_reloads[area.mode] = reloads + 1
                app.call_later(self._reload_area, area.mode)
                return f"{area.title} was opened again"
        return None

    async def _reload_area(self, mode: str) -> None:
        """Build the area ``mode`` afresh (its old screen stopped working)."""
        app = cast("App[Any]", self)
        fallback = next(area.mode for area in AREAS if area.mode != mode)
        if app.current_mode == mode:
            await app.switch_mode(fallback)
        await app.remove_mode(mode)
        app.add_mode(mode, AREA_BY_MODE[mode].factory())
        await app.switch_mode(mode)


def _where(pump: object, caller: str) -> str:
    kind = {"_run": "a background task", "_tick": "a timer", "_flush_next_callbacks": "a callback"}
    name = type(pump).__name__ if pump is not None else "the app"
    return f"{name} ({kind.get(caller, 'a message handler' if caller in ENDS_LOOP else caller)})"


__all__ = ["CrashGuard", "unexpected_text"]
