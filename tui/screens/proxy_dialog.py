"""The local API proxy's dialog: its URL, profile, mode, live counts and the access key (issue 13 §3).

Opened when the proxy starts from the palette and again with the palette's "Proxy: URL and access key".
The access key is masked like a client secret (``SecretField``): ``r`` shows it for a few seconds, ``c``
copies it through the terminal (OSC 52), so it never sits on screen for a screenshot by default. ``u``
copies the URL, ``y`` a curl example that reads the key from ``$IHUB_PROXY_KEY`` (the key itself never
goes into shell history), ``s`` stops the proxy, ``escape`` closes.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.messages import ProxyStatus
from tui.widgets.secret_field import SecretField

# tui.proxy's names, repeated so that opening the dialog does not import uvicorn (tests pin them).
KEY_HEADER = "X-Ihub-Proxy-Key"
KEY_PARAM = "ihub_proxy_key"
ENV_PROXY_KEY = "IHUB_PROXY_KEY"
EXAMPLE_PATH = "/api/assetmanagement/v3/assets/root"
REFRESH_SECONDS = 0.5


def curl_example(url: str) -> str:
    """A ready curl line against the proxy; the key is read from ``$IHUB_PROXY_KEY``, never written out."""
    return f"curl -H \"{KEY_HEADER}: ${ENV_PROXY_KEY}\" '{url}{EXAMPLE_PATH}'"


def counts_text(status: ProxyStatus) -> str:
    """``3 forwarded · 1 refused · 0 failed`` (and how many are under way)."""
    text = f"{status.forwarded} forwarded · {status.refused} refused · {status.failed} failed"
    return text + (f" · {status.in_flight} under way" if status.in_flight else "")


class ProxyDialog(ModalScreen[None]):
    """The running proxy. ``status()`` gives the live counts (None: the proxy stopped, the dialog closes);
    ``access_key()`` is read only when the key is shown or copied; ``stop()`` stops the proxy."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="proxy.close"),
        Binding("r", "reveal_key", "Show key", tooltip="Show the key a few seconds", id="proxy.reveal"),
        Binding("c", "copy_key", "Copy key", tooltip="Copy the access key (OSC 52)", id="proxy.copy_key"),
        Binding("u", "copy_url", "Copy URL", tooltip="Copy the proxy's URL (OSC 52)", id="proxy.copy_url"),
        Binding(
            "y",
            "copy_curl",
            "Copy curl",
            tooltip="Copy a curl example (key from $IHUB_PROXY_KEY)",
            id="proxy.curl",
        ),
        Binding("s", "stop", "Stop proxy", tooltip="Stop the proxy", id="proxy.stop"),
    ]

    def __init__(
        self,
        status: Callable[[], ProxyStatus | None],
        access_key: Callable[[], str | None],
        stop: Callable[[], None],
        *,
        key_from_environment: bool = False,
    ) -> None:
        super().__init__(classes="dialog")
        self._status = status
        self._access_key = access_key
        self._stop = stop
        self.key_from_environment = key_from_environment
        self.shown = status()

    def compose(self) -> ComposeResult:
        shown = self.shown
        with Vertical(classes="dialog-box proxy-box") as box:
            box.border_title = f"Local API proxy · {shown.profile}" if shown else "Local API proxy"
            yield Static(self._facts(), id="proxy-facts")
            yield SecretField("Access key", what="proxy access key", id="proxy-key")
            note = f" It comes from {ENV_PROXY_KEY}." if self.key_from_environment else ""
            yield Static(
                f"Clients send it in the {KEY_HEADER} header or as ?{KEY_PARAM}=... in the URL.{note} "
                "r shows it for a few seconds, c copies it, u copies the URL.",
                classes="dialog-hint",
                markup=False,
            )
            yield Static(
                f"From a shell (export {ENV_PROXY_KEY}=<key> first; y copies the line):",
                classes="dialog-hint proxy-try",
                markup=False,
            )
            yield Static(curl_example(shown.url) if shown else "", id="proxy-curl", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy key", id="copy-key")
                yield Button("Copy URL", id="copy-url")
                yield Button("Stop proxy", id="stop", variant="error")
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        field = self.query_one(SecretField)
        field.set_state(present=self._access_key() is not None, key="proxy")
        field.focus()
        # Inside the app the dialog follows each request (``proxy_signal``); elsewhere it polls.
        signal = getattr(self.app, "proxy_signal", None)
        if signal is not None:
            signal.subscribe(self, lambda _status: self._follow())
        else:
            self.set_interval(REFRESH_SECONDS, self._follow, name="proxy-dialog-refresh")

    def _facts(self) -> Text:
        shown = self.shown
        text = Text()
        if shown is None:
            text.append("The proxy is stopped.", "italic")
            return text
        rows = [
            ("URL", f"{shown.url}/api/..."),
            ("Profile", f"{shown.profile} → {shown.gateway}"),
            ("Mode", "read-only: only GET and HEAD are forwarded" if shown.read_only else "read and write"),
            ("Requests", counts_text(shown)),
        ]
        for index, (label, value) in enumerate(rows):
            text.append(f"{label:<10}", "bold")
            text.append(value)
            if index < len(rows) - 1:
                text.append("\n")
        return text

    def _follow(self) -> None:
        status = self._status()
        if status is None:
            self.dismiss(None)
            return
        if status != self.shown:
            self.shown = status
            self.query_one("#proxy-facts", Static).update(self._facts())

    @property
    def facts_text(self) -> str:
        """What the dialog says about the proxy, as plain text (tests; never the key)."""
        return self._facts().plain

    # -- the key ------------------------------------------------------------------------------------
    def on_secret_field_reveal_requested(self, message: SecretField.RevealRequested) -> None:
        message.stop()
        key = self._access_key()
        if key is not None:
            message.field.reveal(key)

    def on_secret_field_copy_requested(self, message: SecretField.CopyRequested) -> None:
        message.stop()
        key = self._access_key()
        if key is not None:
            message.field.copy(key)

    def action_reveal_key(self) -> None:
        self.query_one(SecretField).action_reveal()

    @on(Button.Pressed, "#copy-key")
    def action_copy_key(self) -> None:
        self.query_one(SecretField).action_copy()

    # -- the rest -----------------------------------------------------------------------------------
    @on(Button.Pressed, "#copy-url")
    def action_copy_url(self) -> None:
        if self.shown is not None:
            self.app.copy_to_clipboard(self.shown.url)
            self.notify(f"Copied {self.shown.url}", title="Copied", timeout=4, markup=False)

    def action_copy_curl(self) -> None:
        if self.shown is not None:
            self.app.copy_to_clipboard(curl_example(self.shown.url))
            self.notify(
                f"Copied a curl example; it reads the key from ${ENV_PROXY_KEY}.",
                title="Copied",
                timeout=4,
                markup=False,
            )

    @on(Button.Pressed, "#stop")
    def action_stop(self) -> None:
        self._stop()
        self.dismiss(None)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
