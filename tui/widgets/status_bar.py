"""The one-line header every area shows: app, area, an area's notice (e.g. certificates about to expire),
the local API proxy while it runs (port and live request count), profile, tenant, connection state, token
countdown; and the safety marks: ``▲ PRODUCTION`` (the whole bar takes the error colour), ``READ-ONLY``,
and ``MASKED`` in presentation mode. The marks are words, so they read the same without colour."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.config.safety import PRODUCTION_MARK, READ_ONLY_MARK
from tui.messages import ConnectionState, Phase, ProxyStatus
from tui.widgets.masking import masker as presentation_masker

PRESENTING_MARK = "MASKED"
MARK_STYLE = {
    PRODUCTION_MARK: "bold white on red",
    READ_ONLY_MARK: "bold black on magenta",
    PRESENTING_MARK: "bold reverse",
}
# Below this width the marks take their short forms (the symbol stays).
NARROW = 100
SHORT_MARK = {PRODUCTION_MARK: "▲ PROD", READ_ONLY_MARK: "R/O", PRESENTING_MARK: "MASKED"}


def format_countdown(seconds: float) -> str:
    """``29:12`` for minutes and seconds, ``1:02:03`` past an hour, ``0:00`` once expired."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def describe_connection(state: ConnectionState, now: float) -> str:
    """The connection part of the header, e.g. ``demo · tenant demo · connected · token 29:12``."""
    if state.phase is Phase.NONE or state.profile is None:
        return "no profile · not connected"
    parts = [state.profile]
    if state.tenant:
        parts.append(f"tenant {state.tenant}")
    if state.phase is Phase.CONNECTING:
        parts.append("connecting…")
    elif state.phase is Phase.ERROR:
        parts.append(f"error: {state.error or 'not connected'}")
    else:
        parts.append("connected")
        if state.expires_at is not None:
            remaining = state.expires_at - now
            parts.append(f"token {format_countdown(remaining)}" if remaining > 0 else "token renewing…")
    return " · ".join(parts)


def describe_proxy(status: ProxyStatus, room: int) -> str:
    """The proxy part of the header, the longest form that fits in ``room`` cells (else the shortest):
    ``proxy http://127.0.0.1:8766 · 3 requests``, ``proxy :8766 · 3 requests``, ``proxy :8766 · 3``."""
    count = f"{status.forwarded} request{'' if status.forwarded == 1 else 's'}"
    forms = (
        f"proxy {status.url} · {count}",
        f"proxy :{status.port} · {count}",
        f"proxy :{status.port} · {status.forwarded}",
    )
    return next((form for form in forms if len(form) <= room), forms[-1])


PROXY_STYLE = "bold cyan"

# Styles of an area's notice by level (``StatusBar.set_notice``).
NOTICE_STYLE = {
    "info": "bold",
    "warning": "bold black on yellow",
    "critical": "bold white on red",
}
# Cells a notice keeps even when the connection text must be shortened for it.
NOTICE_MIN = 24

_PHASE_STYLE = {
    Phase.NONE: "dim",
    Phase.CONNECTING: "bold yellow",
    Phase.CONNECTED: "bold green",
    Phase.ERROR: "bold red",
}


class StatusBar(Widget):
    """Docked at the top of every area; the countdown ticks by itself.

    A screen composes ``StatusBar("Assets")`` (``AreaScreen`` does it for every area); inside the app the bar
    picks up the demo flag, the clock and the connection on mount, then follows ``connection_signal``.
    """

    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
    }
    StatusBar.-production {
        background: $error 35%;
    }
    """

    state: reactive[ConnectionState] = reactive(ConnectionState, always_update=True)
    area: reactive[str] = reactive("")
    # An area's one-line notice and its level (``info``, ``warning``, ``critical``); "" for none.
    notice: reactive[str] = reactive("")
    notice_level: reactive[str] = reactive("warning")
    # The proxy started from the app (None: not running); follows the app's ``proxy_signal``.
    proxy: reactive[ProxyStatus | None] = reactive(None)

    def __init__(
        self,
        area: str = "",
        *,
        state: ConnectionState | None = None,
        demo: bool = False,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._clock = clock
        self.demo = demo
        self.set_reactive(StatusBar.area, area)
        if state is not None:
            self.set_reactive(StatusBar.state, state)

    def on_mount(self) -> None:
        # Inside the app the bar follows it: demo flag, clock, the current connection and its changes.
        services = getattr(self.app, "services", None)
        if services is not None:
            self.demo = bool(getattr(services, "demo", self.demo))
            self._clock = getattr(services, "clock", self._clock)
        state = getattr(self.app, "connection", None)
        if isinstance(state, ConnectionState):
            self.state = state
        signal = getattr(self.app, "connection_signal", None)
        if signal is not None:
            signal.subscribe(self, self._follow)
        proxy_signal = getattr(self.app, "proxy_signal", None)
        if proxy_signal is not None:
            self.proxy = getattr(self.app, "proxy_status", None)
            proxy_signal.subscribe(self, self._follow_proxy)
        self.set_interval(1.0, self.refresh, name="status-countdown")

    def _follow(self, state: ConnectionState) -> None:
        self.state = state

    def _follow_proxy(self, status: ProxyStatus | None) -> None:
        self.proxy = status

    def watch_state(self, state: ConnectionState) -> None:
        self.set_class(state.production, "-production")

    @property
    def marks(self) -> list[str]:
        """The safety marks shown after the title (what tests and screen readers check)."""
        marks = []
        if self.state.production:
            marks.append(PRODUCTION_MARK)
        if self.state.read_only:
            marks.append(READ_ONLY_MARK)
        if getattr(self.app, "presenting", False):
            marks.append(PRESENTING_MARK)
        return marks

    def set_notice(self, text: str | None, level: str = "warning") -> None:
        """Show ``text`` next to the area's title (None or "" removes it); ``level`` picks the colour."""
        self.notice_level = level if level in NOTICE_STYLE else "warning"
        self.notice = text or ""

    @property
    def connection_text(self) -> str:
        """The connection part as plain text (what tests assert on)."""
        return describe_connection(self.state, self._clock())

    def render(self) -> Text:
        left = Text.assemble((" ihub ", "bold reverse"))
        if self.demo:
            left.append(" DEMO ", "bold black on yellow")
        narrow = self.size.width < NARROW
        for mark in self.marks:
            left.append(f" {SHORT_MARK[mark] if narrow else mark} ", MARK_STYLE[mark])
        if self.area:
            left.append(f" {self.area}", "bold")
        connection = self.connection_text
        masker = presentation_masker()
        if masker is not None:  # masked names are longer than the real ones: lay out what will be shown
            connection = masker.mask(connection)
        right = Text(connection + " ", style=_PHASE_STYLE[self.state.phase])
        width = self.size.width
        if self.proxy is not None:
            # Before the connection, as long as the room allows; the connection gives way to its short form.
            room = width - left.cell_len - right.cell_len - 3 - (NOTICE_MIN + 1 if self.notice else 0)
            right = Text.assemble((describe_proxy(self.proxy, room), PROXY_STYLE), "  ", right)
        if self.notice:
            # The notice goes after the title; the connection text gives way to it down to NOTICE_MIN cells.
            notice = Text(f" {self.notice} ", style=NOTICE_STYLE[self.notice_level])
            room = width - left.cell_len - 1
            keep = max(0, min(notice.cell_len, max(NOTICE_MIN, room - right.cell_len - 1), room))
            if keep + 1 + right.cell_len > room:
                rest = room - keep - 1
                right = right[:0] if rest < 4 else right
                right.truncate(max(0, rest), overflow="ellipsis")
            notice.truncate(keep, overflow="ellipsis")
            left.append(" ")
            left.append_text(notice)
        gap = width - left.cell_len - right.cell_len
        if gap < 1 and right.cell_len:
            right.truncate(max(0, width - left.cell_len - 2), overflow="ellipsis")
            gap = max(1, width - left.cell_len - right.cell_len)
        return Text.assemble(left, " " * gap, right, no_wrap=True, overflow="ellipsis")
