"""Run the simulator over real loopback HTTP with uvicorn (for `ihub sim`, UI demos and tests).

``SimServer(config).start()`` serves in a daemon thread and returns once the socket listens;
``serve_forever(config, host, port)`` serves in the foreground until Ctrl-C. With ``mqtt_port`` (0: a free
port) the MindConnect MQTT broker of ``tui.sim.broker`` runs beside it on the same tenant.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from tui.sim.app import create_app
from tui.sim.config import (
    DEMO_CLIENT_ID,
    DEMO_READONLY_CLIENT_ID,
    SimConfig,
)
from tui.sim.faults import WireDropAdapter
from tui.sim.options import FAULT_KINDS, build_parser_args, config_from_args, is_loopback
from tui.sim.signals import warm_up

__all__ = [
    "FAULT_KINDS",
    "SimServer",
    "SimServerError",
    "build_parser_args",
    "config_from_args",
    "is_loopback",
    "serve_forever",
]


class SimServerError(Exception):
    """The simulator server could not start (bad host, port in use, startup timeout)."""


class _DropNoiseFilter(logging.Filter):
    """Hide uvicorn's log line for connections the fault injector drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


class SimServer:
    """The simulator app served by uvicorn on loopback in a background (daemon) thread."""

    def __init__(
        self,
        config: SimConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        mqtt_port: int | None = None,
        mqtt_root_ca: Path | str | None = None,
    ) -> None:
        if not is_loopback(host):
            raise SimServerError(f"The simulator only listens on loopback, not on {host!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise SimServerError(f"The port must be between 0 and 65535 (0 picks a free one), not {port}")
        self.config = config or SimConfig()
        self.host = host
        self.port = port
        self.app: Starlette = create_app(self.config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.mqtt_port = mqtt_port
        self.mqtt_root_ca = mqtt_root_ca
        # The MQTT broker (tui.sim.broker.SimBroker) once started with mqtt_port; None without one.
        self.broker: object | None = None

    @property
    def url(self) -> str:
        """The gateway URL, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth/token"

    @property
    def app_token_url(self) -> str:
        return f"{self.url}/api/technicaltokenmanager/v3/oauth/token"

    def start(self, timeout: float = 10.0) -> None:
        """Bind, start serving and block until the server accepts connections."""
        if self._thread is not None:
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit TCP_NODELAY. Without it, a response written in two parts (headers,
        # body) on a kept-alive connection waits for the client's delayed ACK: about 40 ms per request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self.port))
        except (OverflowError, ValueError):
            sock.close()
            raise SimServerError(f"The port must be between 0 and 65535, not {self.port}") from None
        except OSError as exc:
            sock.close()
            raise SimServerError(f"Cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from None
        sock.listen(128)
        self._socket = sock
        self.port = sock.getsockname()[1]
        uv_config = uvicorn.Config(
            WireDropAdapter(self.app),
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
            date_header=False,  # the Date header comes from the simulator's clock (DateHeaderMiddleware)
        )
        uv_logger = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _DropNoiseFilter) for f in uv_logger.filters):
            uv_logger.addFilter(_DropNoiseFilter())
        server = uvicorn.Server(uv_config)
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), name="ihub-sim", daemon=True
        )
        self._thread.start()
        aspect_types = self.app.state.tenant.aspect_types.values()
        periods = [t.sample_period_s for t in aspect_types if t.category == "dynamic"]
        threading.Thread(
            target=warm_up, args=(periods, lambda: not self.running), name="ihub-sim-warm-up", daemon=True
        ).start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise SimServerError("The simulator did not start")
            time.sleep(0.01)
        if self.mqtt_port is not None:
            self._start_broker()

    def _start_broker(self) -> None:
        from tui.sim.broker import SimBroker, SimBrokerError

        broker = SimBroker(self.app, self.host, self.mqtt_port or 0, self.mqtt_root_ca)
        try:
            broker.start()
        except SimBrokerError as exc:
            self.stop()
            raise SimServerError(str(exc)) from None
        self.broker = broker

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and wait for the thread to end."""
        if self.broker is not None:
            self.broker.stop()  # type: ignore[attr-defined]
            self.broker = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> SimServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------- command line helpers


def serve_forever(
    config: SimConfig | None = None,
    host: str | int = "127.0.0.1",
    port: int = 8080,
    print_fn: Callable[[str], None] = print,
    *,
    mqtt_port: int | None = None,
    mqtt_root_ca: Path | str | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C, after printing how to connect.

    ``serve_forever(config, port)`` (an int in second place) is accepted too. With ``mqtt_port`` the MQTT
    broker runs too; its refusals and dropped messages are logged to standard error.
    """
    if isinstance(host, int):
        port, host = host, "127.0.0.1"
    config = config or SimConfig()
    if mqtt_port is not None:
        _log_mqtt_to_stderr()
    server = SimServer(config, host, port, mqtt_port=mqtt_port, mqtt_root_ca=mqtt_root_ca)
    server.start()
    try:
        demo = next((c for c in config.clients if c.client_id == DEMO_CLIENT_ID), None)
        print_fn(
            f"ihub simulator for tenant '{config.tenant}' ({len(server.app.state.tenant.assets)} assets)"
        )
        print_fn(f"  Gateway:        {server.url}")
        print_fn(f"  Token URL:      {server.token_url}")
        print_fn(f"  App token URL:  {server.app_token_url}")
        if demo is not None:
            # The demo secret is an obviously fake value that opens only this simulator.
            print_fn(f"  Client ID:      {demo.client_id}")
            print_fn(f"  Client secret:  {demo.client_secret}")
        for client in config.clients:
            if client.client_id not in (DEMO_CLIENT_ID, DEMO_READONLY_CLIENT_ID):
                print_fn(f"  Also accepted:  {client.client_id} (with the secret given on the command line)")
        broker = server.broker
        if broker is not None:
            from tui.sim.broker import SimBroker

            assert isinstance(broker, SimBroker)
            print_fn(f"  MQTT broker:    {broker.url} (MQTT 3.1.1, TLS, client certificates)")
            print_fn(f"  Broker root CA: {broker.root_ca_file}")
            print_fn(
                f"  Check a device: ihub certs check --cert DEVICE.pem --key DEVICE.key "
                f"--broker {broker.address} --root-ca {broker.root_ca_file} --client-id {config.tenant}_<CN>"
            )
        print_fn("Press Ctrl-C to stop.")
        while server.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print_fn("Stopping the simulator.")
    finally:
        server.stop()


def _log_mqtt_to_stderr() -> None:
    """The broker's log (connections, refusals with their reason, dropped messages) on standard error."""
    logger = logging.getLogger("tui.sim.mqtt")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s mqtt: %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
