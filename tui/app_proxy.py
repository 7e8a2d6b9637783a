"""The local API proxy started from the app (issue 13 §3): one ``tui.proxy.ProxyServer`` in the app's loop.

``AppProxy`` (no Textual) holds it: ``start(profile, tokens)`` serves the profile's gateway on 127.0.0.1 with
the token provider of the app's own client (``ApiClient.tokens``: the app and the proxy share one token) and
the transport the services hand in (the demo's and the tests' in-process simulator; None = the network,
e.g. ``ihub demo``'s loopback simulator). Each forwarded request goes to the activity log
(``ActivityLog.proxy_listener``: the Requests view lists it, source ``proxy``), and after each request
``on_change`` receives the new ``ProxyStatus`` (the header's live count). A read-only profile gets a
read-only proxy.

``ProxyCommands`` is mixed into ``IhubApp`` (like ``tui.crash.CrashGuard``): the palette's "Start proxy for
this profile", "Start proxy on any free port", "Proxy: URL and access key" and "Stop proxy", the dialog
(``tui.screens.proxy_dialog``), and the proxy's part in a (re)connect: the token provider belongs to the
client it came from, so the proxy stops before that client closes (profile switch, exit), and a reconnect
of the same profile starts it again on the same port with the same access key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from textual import work

from tui.context import PaletteCommand
from tui.errors import error_text
from tui.messages import ProxyStatus

if TYPE_CHECKING:
    from textual.app import App
    from textual.signal import Signal

    from tui.api.auth import TokenProvider
    from tui.api.client import ApiClient
    from tui.config.profiles import Profile
    from tui.messages import ConnectionState
    from tui.proxy import ProxyServer, RequestEvent
    from tui.services import Services

    class _AppBase(App[None]):
        """What ``ProxyCommands`` uses of ``IhubApp`` (for the type checker only)."""

        @property
        def api(self) -> ApiClient | None: ...
        @property
        def active_profile(self) -> Profile | None: ...
        @property
        def connection(self) -> ConnectionState: ...
        @property
        def proxy_signal(self) -> Signal[ProxyStatus | None]: ...
        def show_error(self, error: BaseException | str, *, title: str = "Error") -> None: ...

else:
    _AppBase = object

# tui.proxy (uvicorn, Starlette) is imported when a proxy starts, not with the app.
DEFAULT_PORT = 8766  # tui.proxy.DEFAULT_PORT (a test pins it)
KEY_FROM_ENV = "env"  # tui.proxy.KeySource.ENV

log = logging.getLogger("ihub.proxy")


@dataclass(frozen=True)
class RestartSettings:
    """What a proxy restarted for a new connection of the same profile keeps: its port and access key."""

    profile: str
    port: int
    access_key: str | None

    def __repr__(self) -> str:  # the access key never reaches a repr or a log line
        return f"RestartSettings(profile={self.profile!r}, port={self.port})"


class AppProxy:
    """At most one proxy, for the active profile. ``port``: where ``start`` listens by default (0 = any).

    ``on_change(status)`` is called in the app's loop after start (the status), after each request (the
    new counts) and after stop (None).
    """

    def __init__(
        self,
        services: Services,
        on_change: Callable[[ProxyStatus | None], None] | None = None,
        *,
        port: int = DEFAULT_PORT,
    ) -> None:
        self.services = services
        self.on_change = on_change
        self.port = port
        self.server: ProxyServer | None = None
        self._unsubscribe: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"AppProxy(running={self.running}, profile={self.profile!r}, port={self.port})"

    @property
    def running(self) -> bool:
        return self.server is not None

    @property
    def profile(self) -> str | None:
        """The profile the running proxy serves (None when stopped)."""
        return self.server.config.profile if self.server is not None else None

    @property
    def url(self) -> str | None:
        return self.server.url if self.server is not None else None

    @property
    def access_key(self) -> str | None:
        """The key clients must send. A secret of sorts: show it on request only, never log it."""
        return self.server.access_key if self.server is not None else None

    @property
    def key_from_environment(self) -> bool:
        """The access key came from ``IHUB_PROXY_KEY`` (the user has it already)."""
        return self.server is not None and self.server.config.key_source == KEY_FROM_ENV

    @property
    def status(self) -> ProxyStatus | None:
        """The running proxy as the header shows it, with the current counts; None when stopped."""
        server = self.server
        if server is None:
            return None
        stats = server.stats
        return ProxyStatus(
            profile=server.config.profile,
            url=server.url,
            port=server.port,
            gateway=server.config.gateway,
            read_only=server.config.read_only,
            forwarded=stats.forwarded,
            refused=stats.refused,
            failed=stats.failed,
            in_flight=stats.in_flight,
        )

    def restart_settings(self, profile: str) -> RestartSettings | None:
        """The running proxy's port and key if it serves ``profile`` (to start it again after a reconnect)."""
        server = self.server
        if server is None or server.config.profile != profile:
            return None
        key = server.access_key if server.config.key_source != KEY_FROM_ENV else None
        return RestartSettings(profile, server.port, key)

    async def start(
        self,
        profile: Profile,
        tokens: TokenProvider,
        *,
        port: int | None = None,
        access_key: str | None = None,
        read_only: bool = False,
    ) -> ProxyStatus:
        """Serve ``profile``'s gateway with ``tokens`` (the app client's provider, same loop) until ``stop``.

        ``port``: None = ``self.port``, 0 = any free port. ``access_key``: keep a key (a restart); None =
        ``IHUB_PROXY_KEY`` from the services' environment, else a fresh one. ``read_only`` (or the profile's
        flag): only GET and HEAD are forwarded. Raises ``ProxyError`` (``PortInUseError`` for a taken
        port, ``ProxyConfigError`` for refused settings) with a plain message; nothing keeps running then.
        """
        from tui.proxy import ProxyError, ProxyServer, config_for_profile

        if self.server is not None:
            raise ProxyError(f"the proxy already runs for profile {self.profile} at {self.url}")
        config = config_for_profile(profile, port=self.port if port is None else port, read_only=read_only)
        if access_key:
            config = replace(config, access_key=access_key)
        server = ProxyServer(
            config, tokens=tokens, transport=self.services.transport(), environ=self.services.environ
        )
        activity = self.services.activity
        unsubscribe = [server.subscribe(self._request_seen)]
        if activity is not None:
            listener = activity.proxy_listener(profile.name, gateway=server.config.gateway)
            unsubscribe.insert(0, server.subscribe(listener))
        await server.start()  # raises ProxyError and cleans up after itself
        self.server = server
        self._unsubscribe = unsubscribe
        status = self.status
        assert status is not None
        self._changed(status)
        return status

    async def stop(self) -> ProxyStatus | None:
        """Stop serving (open responses get a short grace period); the last status, or None if not running."""
        server, self.server = self.server, None
        if server is None:
            return None
        last = ProxyStatus(
            profile=server.config.profile,
            url=server.url,
            port=server.port,
            gateway=server.config.gateway,
            read_only=server.config.read_only,
            forwarded=server.stats.forwarded,
            refused=server.stats.refused,
            failed=server.stats.failed,
        )
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        try:
            await server.stop()
        except Exception:  # stopping must never raise into the UI
            log.exception("stopping the proxy failed")
        self._changed(None)
        return last

    def _request_seen(self, event: RequestEvent) -> None:
        if self.server is not None:
            self._changed(self.status)

    def _changed(self, status: ProxyStatus | None) -> None:
        if self.on_change is not None:
            self.on_change(status)


# ---------------------------------------------------------------- the app's side (Textual)


class ProxyCommands(_AppBase):
    """Mixed into ``IhubApp``: the palette's proxy commands, the proxy dialog, and the proxy's part in a
    (re)connect. Needs ``self.proxy`` (an ``AppProxy``) and ``self.proxy_signal`` (set by the app)."""

    proxy: AppProxy

    @property
    def proxy_status(self) -> ProxyStatus | None:
        """The proxy started from the app, with its live counts; None when it is not running."""
        return self.proxy.status

    def _proxy_commands(self) -> Iterator[PaletteCommand]:
        """The palette's entries: start (usual port / any free port), or show and stop the running proxy."""
        status = self.proxy.status
        if status is not None:
            yield PaletteCommand(
                "Proxy: URL and access key",
                f"The local API proxy for {status.profile} at {status.url}: show or copy its access key",
                self.action_show_proxy,
            )
            yield PaletteCommand(
                "Stop proxy",
                f"Stop the local API proxy at {status.url} ({status.forwarded} requests forwarded)",
                self.action_stop_proxy,
            )
            return
        yield PaletteCommand(
            "Start proxy for this profile",
            f"Serve /api/... on 127.0.0.1:{self.proxy.port} with this profile's token, behind an access key",
            self.action_start_proxy,
        )
        yield PaletteCommand(
            "Start proxy on any free port",
            "The same on a port the system picks (when another program uses the usual one)",
            partial(self.action_start_proxy, 0),
        )

    def action_start_proxy(self, port: int | None = None) -> None:
        """Start the proxy for the active profile and show its dialog; if it runs already, show it."""
        if self.proxy.running:
            self.action_show_proxy()
            return
        if self.api is None or self.active_profile is None:
            self.notify(
                "Connect a profile first: the proxy calls the gateway with its token.",
                title="Proxy",
                severity="warning",
            )
            return
        self._start_proxy(port)

    def action_show_proxy(self) -> None:
        """The proxy's dialog: URL, profile, mode, live counts, the access key (masked)."""
        from tui.screens.proxy_dialog import ProxyDialog

        if not self.proxy.running:
            self.notify("The proxy is not running.", title="Proxy")
            return
        if isinstance(self.screen, ProxyDialog):
            return
        self.push_screen(
            ProxyDialog(
                lambda: self.proxy.status,
                lambda: self.proxy.access_key,
                self.action_stop_proxy,
                key_from_environment=self.proxy.key_from_environment,
            )
        )

    def action_stop_proxy(self) -> None:
        self._stop_proxy()

    @work(exclusive=True, group="proxy", exit_on_error=False, description="start proxy")
    async def _start_proxy(
        self, port: int | None = None, access_key: str | None = None, announce: bool = True
    ) -> None:
        client, profile = self.api, self.active_profile
        if client is None or profile is None:
            return
        try:
            status = await self.proxy.start(
                profile, client.tokens, port=port, access_key=access_key, read_only=self.connection.read_only
            )
        except Exception as exc:
            self.show_error(proxy_error_text(exc), title="Proxy not started")
            return
        if client is not self.api:  # the connection changed meanwhile: its token provider is gone
            await self.proxy.stop()
            return
        if announce:
            self.action_show_proxy()
        else:
            self.notify(
                f"The proxy for {status.profile} runs again at {status.url}.", title="Proxy", markup=False
            )

    @work(exclusive=True, group="proxy", exit_on_error=False, description="stop proxy")
    async def _stop_proxy(self) -> None:
        stopped = await self.proxy.stop()
        if stopped is not None:
            self.notify(
                f"The proxy at {stopped.url} stopped after {stopped.forwarded} forwarded request(s).",
                title="Proxy stopped",
                markup=False,
            )

    async def _proxy_before_connect(self, name: str) -> RestartSettings | None:
        """Stop the proxy before the client it uses closes; what to restart it with when ``name`` is the
        profile it serves (a reconnect), else None (a switch: said in a notification)."""
        self.workers.cancel_group(self, "proxy")
        restart = self.proxy.restart_settings(name)
        stopped = await self.proxy.stop()
        if stopped is not None and restart is None:
            self.notify(
                f"The proxy for {stopped.profile} at {stopped.url} stopped: it used that profile's token.",
                title="Proxy stopped",
                markup=False,
            )
        return restart

    def _proxy_after_connect(self, restart: RestartSettings | None, connected: bool) -> None:
        """After a reconnect of the proxy's profile: start it again (same port and key), or say why not."""
        if restart is None:
            return
        if connected:
            self._start_proxy(restart.port, restart.access_key, announce=False)
        else:
            self.notify("The proxy stays stopped until its profile connects.", title="Proxy stopped")

    def _proxy_changed(self, status: ProxyStatus | None) -> None:
        self.proxy_signal.publish(status)


def proxy_error_text(error: Exception) -> str:
    """One plain line for a proxy that could not start (a taken port names the way out)."""
    from tui.proxy import PortInUseError, ProxyError

    if isinstance(error, PortInUseError):
        return (
            f"port {error.port} is in use, perhaps by another ihub proxy: stop that program, or choose "
            '"Start proxy on any free port" in the palette'
        )
    if isinstance(error, ProxyError):
        return str(error)
    return error_text(error)
