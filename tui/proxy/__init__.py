"""The local API reverse proxy (issue 13): ``/api/...`` on loopback, forwarded to the profile's gateway
with the profile's token, behind an access key. No Textual.

* ``ProxyConfig`` (``tui.proxy.config``): settings and the safety rules (``resolved()``).
* ``ProxyServer`` (``tui.proxy.server``): foreground (``run``), in the caller's loop (``start``/``stop``)
  or in a thread (``start_thread``/``stop_thread``); ``url``, ``access_key``, ``stats`` (live counters),
  ``subscribe(callback)`` for one ``RequestEvent`` per request.
* ``serve(profile, secret, ...)``: everything ``ihub proxy`` does; ``startup_lines``, ``startup_warnings``,
  ``format_event`` and ``verbose_printer`` for the text it shows.
"""

from tui.proxy.app import ProxyStats, RequestEvent
from tui.proxy.config import (
    DEFAULT_PORT,
    ENV_PROXY_KEY,
    KEY_HEADER,
    KEY_PARAM,
    KeySource,
    PortInUseError,
    ProxyConfig,
    ProxyConfigError,
    ProxyError,
    is_loopback,
)
from tui.proxy.server import (
    ProxyServer,
    config_for_profile,
    format_event,
    serve,
    startup_info,
    startup_lines,
    startup_warnings,
    verbose_printer,
)

__all__ = [
    "DEFAULT_PORT",
    "ENV_PROXY_KEY",
    "KEY_HEADER",
    "KEY_PARAM",
    "KeySource",
    "PortInUseError",
    "ProxyConfig",
    "ProxyConfigError",
    "ProxyError",
    "ProxyServer",
    "ProxyStats",
    "RequestEvent",
    "config_for_profile",
    "format_event",
    "is_loopback",
    "serve",
    "startup_info",
    "startup_lines",
    "startup_warnings",
    "verbose_printer",
]
