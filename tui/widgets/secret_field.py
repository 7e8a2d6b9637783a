"""A masked secret: shown as dots, revealed on a key for a few seconds, copied through the terminal.

The value is held only while it is revealed (or for the instant it takes to copy it): the screen that owns
the field reads the secret from its store in a worker and hands it to ``reveal`` or ``copy``. Copying uses
``App.copy_to_clipboard`` (OSC 52), so it works over SSH, and the notification never echoes the value.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

MASK = "•" * 12
DEFAULT_REVEAL_SECONDS = 5.0


class SecretField(Widget, can_focus=True):
    """One masked secret with a label and a note on where it lives.

    ``r`` and ``c`` post ``RevealRequested`` / ``CopyRequested``; the owner fetches the value and calls
    ``reveal(value)`` or ``copy(value)``. A revealed value is hidden (and dropped) after
    ``reveal_seconds``.
    """

    DEFAULT_CSS = """
    SecretField {
        height: auto;
        width: 1fr;
    }
    SecretField:focus {
        background: $boost;
    }
    """

    BINDING_GROUP_TITLE = "Secret"
    BINDINGS = [
        Binding("r", "reveal", "Reveal", id="secret.reveal", tooltip="Show the secret for a few seconds"),
        Binding("c", "copy", "Copy", id="secret.copy", tooltip="Copy the secret to the clipboard (OSC 52)"),
    ]

    @dataclass
    class RevealRequested(Message):
        field: SecretField

    @dataclass
    class CopyRequested(Message):
        field: SecretField

    revealed: reactive[bool] = reactive(False, layout=True)
    note: reactive[str] = reactive("", layout=True)
    present: reactive[bool] = reactive(False, layout=True)

    def __init__(
        self,
        label: str = "Secret",
        *,
        reveal_seconds: float = DEFAULT_REVEAL_SECONDS,
        what: str = "secret",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.label = label
        self.what = what
        self.reveal_seconds = reveal_seconds
        self._value: str | None = None
        self._timer: Timer | None = None
        self.key: str | None = None

    def __repr__(self) -> str:  # the value never reaches a repr
        return f"SecretField(label={self.label!r}, present={self.present}, revealed={self.revealed})"

    # -- state set by the owner ---------------------------------------------------------------------
    def set_state(self, *, present: bool, note: str = "", key: str | None = None) -> None:
        """Whether a secret exists and where it lives (shown after the mask).

        ``key`` names whose secret this is (e.g. the profile); a revealed value is hidden when the key
        changes or the secret is gone, and stays (until its timer) when the same secret is shown again.
        """
        if key != self.key or not present:
            self.hide()
        self.key = key
        self.present = present
        self.note = note

    def reveal(self, value: str) -> None:
        """Show ``value`` for ``reveal_seconds``, then hide it again."""
        self._value = value
        self.present = True
        self.revealed = True
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.reveal_seconds, self.hide, name="secret-rehide")

    def hide(self) -> None:
        """Mask the value again and forget it."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._value = None
        self.revealed = False

    def copy(self, value: str) -> None:
        """Copy ``value`` to the terminal clipboard (OSC 52) and say so without echoing it."""
        self.app.copy_to_clipboard(value)
        self.app.notify(
            f"The {self.what} was copied to the clipboard (through the terminal, OSC 52).",
            title="Copied",
            timeout=4,
        )

    # -- actions --------------------------------------------------------------------------------------
    def action_reveal(self) -> None:
        if self.revealed:
            self.hide()
        else:
            self.post_message(self.RevealRequested(self))

    def action_copy(self) -> None:
        self.post_message(self.CopyRequested(self))

    # -- rendering ------------------------------------------------------------------------------------
    @property
    def shown_text(self) -> str:
        """What is on screen, as plain text (the value only while revealed)."""
        return self.render().plain

    def render(self) -> Text:
        text = Text(overflow="fold")
        text.append(f"{self.label}: ", "bold")
        if self.revealed and self._value is not None:
            text.append(self._value, "reverse")
            text.append(f"  (hides in {self.reveal_seconds:g} s)", "dim")
        elif self.present:
            text.append(MASK)
        else:
            text.append("none stored", "italic dim")
        if self.note:
            text.append(f"  {self.note}", "dim")
        return text
