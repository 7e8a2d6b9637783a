"""``ihub sim``: serve the Insights Hub simulator on loopback for other clients (curl, Siemens' ``mc``).

Exit codes: 0 after Ctrl-C; 2 for bad options (one plain line, never a traceback); 1 when the server
cannot start (the port is taken, for instance).
"""

from __future__ import annotations

import argparse
import sys
import threading

from tui.cli.common import EXIT_ERROR, EXIT_OK, EXIT_USAGE

DEFAULT_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser, *, port: int = DEFAULT_PORT) -> None:
    """The simulator's options (``tui.sim.options``), ``--port`` defaulting to ``port``."""
    from tui.sim.options import build_parser_args

    build_parser_args(parser)
    parser.set_defaults(port=port)
    # Used by `ihub demo`, which runs the simulator as a child process: stop when the parent's pipe closes.
    parser.add_argument("--parent-pipe", action="store_true", help=argparse.SUPPRESS)


def check_address(host: str, port: int) -> None:
    """A loopback host and a TCP port number, or ValueError in plain words."""
    from tui.sim.options import is_loopback

    if not is_loopback(host):
        raise ValueError(f"the simulator only listens on loopback (127.0.0.1, ::1), not on {host!r}")
    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be between 0 and 65535 (0 picks a free port), not {port}")


def run(args: argparse.Namespace, services: object = None) -> int:
    from tui.sim.options import config_from_args

    try:
        check_address(args.host, args.port)
        config = config_from_args(args)
    except ValueError as exc:
        print(f"ihub: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from tui.sim.server import SimServerError, serve_forever

    if getattr(args, "parent_pipe", False):
        threading.Thread(target=_stop_when_parent_goes, name="parent-pipe", daemon=True).start()
    mqtt_port = None if getattr(args, "no_mqtt", False) else getattr(args, "mqtt_port", 0)
    try:
        serve_forever(config, args.host, args.port, mqtt_port=mqtt_port, mqtt_root_ca=args.mqtt_root_ca)
    except (SimServerError, ValueError, OSError) as exc:
        print(f"ihub: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _stop_when_parent_goes() -> None:
    """Read standard input to its end (the parent closed it or died), then stop serving like Ctrl-C."""
    import _thread

    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    _thread.interrupt_main()
