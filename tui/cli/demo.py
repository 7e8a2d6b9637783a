"""``ihub demo``: the app against the embedded simulator on a free loopback port, with the demo profile.

Nothing is saved: the profile and its (fake) secret live in memory, the keyring and the vault are never
touched. Takes the simulator's options (``ihub demo --assets 100000 --latency 20``).
"""

from __future__ import annotations

import argparse
import sys

import tui.cli
from tui.cli.common import EXIT_ERROR, EXIT_USAGE
from tui.cli.sim import add_arguments as add_sim_arguments
from tui.cli.sim import check_address


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_sim_arguments(parser, port=0)


def run(args: argparse.Namespace, services: object = None) -> int:
    from tui.services import Services
    from tui.sim.server import SimServer, SimServerError, config_from_args

    try:
        check_address(args.host, args.port)
        config = config_from_args(args)
    except ValueError as exc:
        print(f"ihub: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        server = SimServer(config, args.host, args.port)
        server.start()
    except (SimServerError, ValueError, OSError) as exc:
        print(f"ihub: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        return tui.cli.run_tui(Services.for_demo(server.url), profile="demo")
    finally:
        server.stop()
