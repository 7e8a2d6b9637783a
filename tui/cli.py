"""The ``ihub`` command: the app, the demo, the simulator and the scriptable ``keys`` commands.

Textual is imported only by the commands that open the app, and the simulator (uvicorn, Starlette) only
by ``ihub sim`` and ``ihub demo``, so ``ihub keys list`` starts fast and works without a terminal UI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui import __version__

if TYPE_CHECKING:
    from tui.services import Services

SIM_COMMANDS = ("sim", "demo")


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The argument parser. The simulator options are added only when ``argv`` names sim or demo."""
    parser = argparse.ArgumentParser(
        prog="ihub",
        description="Siemens Insights Hub (MindSphere) in the terminal: keys, assets, time series, "
        "MQTT certificates. Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"ihub {__version__}")
    parser.add_argument(
        "--profile", metavar="NAME", help="the profile to connect with (default: the default profile)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="open the app against the embedded simulator (fake data, nothing is saved)",
        description="Start the simulator on a free loopback port and open the app on its demo profile. "
        "The demo uses no saved profile, no keyring and no vault.",
    )
    sim = commands.add_parser(
        "sim",
        help="serve the simulator on 127.0.0.1 for other clients",
        description="Serve the Insights Hub simulator on loopback until Ctrl-C, printing the gateway URL, "
        "token URL and demo credentials.",
    )
    if any(arg in SIM_COMMANDS for arg in argv):
        from tui.sim.server import build_parser_args

        build_parser_args(demo)
        demo.set_defaults(port=0)
        build_parser_args(sim)
        sim.set_defaults(port=8765)

    from tui.cli_keys import add_keys_parser

    add_keys_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ihub``; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    try:
        if args.command == "sim":
            return run_sim(args)
        if args.command == "demo":
            return run_demo(args)
        if args.command == "keys":
            return run_keys(args)
        return run_app(profile=args.profile)
    except KeyboardInterrupt:
        return 130


def _error(message: str) -> int:
    print(f"ihub: {message}", file=sys.stderr)
    return 1


def run_keys(args: argparse.Namespace, services: Services | None = None) -> int:
    from tui.cli_keys import run_keys as run
    from tui.services import Services

    return run(args, services or Services.default())


def run_sim(args: argparse.Namespace) -> int:
    from tui.sim.server import SimServerError, config_from_args, serve_forever

    try:
        config = config_from_args(args)
        serve_forever(config, args.host, args.port)
    except (SimServerError, ValueError) as exc:
        return _error(str(exc))
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from tui.services import Services
    from tui.sim.server import SimServer, SimServerError, config_from_args

    try:
        config = config_from_args(args)
        server = SimServer(config, args.host, args.port)
        server.start()
    except (SimServerError, ValueError) as exc:
        return _error(str(exc))
    try:
        return _run(Services.for_demo(server.url), profile="demo")
    finally:
        server.stop()


def run_app(profile: str | None = None) -> int:
    from tui.services import Services

    return _run(Services.default(), profile=profile)


def _run(services: Services, profile: str | None) -> int:
    from tui.app import IhubApp

    app = IhubApp(services, profile=profile)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
