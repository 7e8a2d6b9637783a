"""``ihub demo``: the app against the simulator on a free loopback port, with the demo profile.

Nothing is saved: the profile and its (fake) secret live in memory, the keyring and the vault are never
touched. Only the user's own looks and keys (``settings.toml`` ``[ui]`` and ``[keys]``) apply and a theme
chosen in the demo is remembered there. Takes the simulator's options
(``ihub demo --assets 100000 --latency 20``).

The simulator runs as a child process (``ihub sim --parent-pipe``): it starts while the app's modules are
imported, and afterwards it answers requests on the other core instead of competing with the app's
drawing for one interpreter. It stops with the app, or by itself when the app's process dies.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path

from tui import cli as ihub_cli
from tui.cli.common import EXIT_ERROR, EXIT_USAGE
from tui.cli.sim import add_arguments as add_sim_arguments
from tui.cli.sim import check_address

START_TIMEOUT = 60.0


class SimChildError(Exception):
    """The simulator's process did not start listening."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_sim_arguments(parser, port=0)
    parser.add_argument(
        "--production",
        action="store_true",
        help="mark the demo profile as production (to try the production guard)",
    )


def run(args: argparse.Namespace, services: object = None) -> int:
    from tui.sim.options import ENV_SIM_CLIENT_SECRET, config_from_args

    try:
        check_address(args.host, args.port)
        config_from_args(args)  # every option checked before anything starts
    except ValueError as exc:
        print(f"ihub: {exc}", file=sys.stderr)
        return EXIT_USAGE
    port = args.port or _free_port(args.host)
    mqtt_port = None if args.no_mqtt else (args.mqtt_port or _free_port(args.host))
    env = dict(os.environ)
    if args.client_secret:
        env[ENV_SIM_CLIENT_SECRET] = args.client_secret  # never on a command line (ps shows those)
    with tempfile.TemporaryDirectory(prefix="ihub-demo-") as folder:
        # The broker root CA, written by the simulator, read by the app's MQTT check (removed at the end).
        root_ca = Path(args.mqtt_root_ca) if args.mqtt_root_ca else Path(folder) / "broker-root-ca.pem"
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and options
            [sys.executable, "-m", "tui", "sim", "--parent-pipe", *_sim_argv(args, port, mqtt_port, root_ca)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:
            # The app's modules load while the simulator starts in its own process.
            import_module("tui.app")
            from tui.services import Services

            url = _wait_until_listening(child, args.host, port)
            broker = None
            if mqtt_port is not None:
                # The simulator starts its MQTT broker after the HTTP API (0.2-0.4 s more); the app needs it
                # only when a certificate is checked, so the first screen does not wait for it.
                shown = f"[{args.host}]" if ":" in args.host else args.host
                broker = f"{shown}:{mqtt_port}"
            from tui.cli.common import session_services
            from tui.config.paths import AppPaths
            from tui.config.settings import Settings

            services = Services.for_demo(
                url,
                mqtt_broker=broker,
                mqtt_root_ca=root_ca if broker else None,
                production=getattr(args, "production", False),
                # The user's theme, mouse and keymap hold in the demo too (nothing else of theirs is read).
                preferences=Settings(AppPaths.default().settings_file),
            )
            code = ihub_cli.run_tui(
                session_services(args, services), profile="demo", mouse=getattr(args, "mouse", None)
            )
            if child.poll() is not None:  # e.g. its broker could not listen: the app showed the failed calls
                print(f"ihub: the simulator stopped early (exit code {child.returncode})", file=sys.stderr)
                return code or EXIT_ERROR
            return code
        except SimChildError as exc:
            print(f"ihub: {exc}", file=sys.stderr)
            return EXIT_ERROR
        finally:
            _stop(child)


def _sim_argv(
    args: argparse.Namespace, port: int, mqtt_port: int | None = None, root_ca: Path | None = None
) -> list[str]:
    argv = [
        "--host", args.host,
        "--port", str(port),
        "--assets", str(args.assets),
        "--latency", str(args.latency),
        "--fault-rate", str(args.fault_rate),
        "--faults", str(args.faults),
        "--max-page-size", str(args.max_page_size),
        "--token-ttl", str(args.token_ttl),
        "--seed", str(args.seed),
        "--retry-after", str(args.retry_after),
    ]  # fmt: skip
    if args.retry_after_date:
        argv.append("--retry-after-date")
    if args.client_id:
        argv += ["--client-id", args.client_id]
    if mqtt_port is None:
        argv.append("--no-mqtt")
    else:
        argv += ["--mqtt-port", str(mqtt_port)]
        if root_ca is not None:
            argv += ["--mqtt-root-ca", str(root_ca)]
    return argv


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(child: subprocess.Popen[bytes], host: str, port: int) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SimChildError(
                f"the simulator stopped at start (exit code {child.returncode}); is port {port} taken? "
                f"try: ihub sim --port {port}"
            )
        try:
            with socket.create_connection((host, port), timeout=0.5):
                pass
        except OSError:
            time.sleep(0.02)
            continue
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"
    raise SimChildError(f"the simulator did not listen on {host}:{port} within {START_TIMEOUT:.0f} s")


def _stop(child: subprocess.Popen[bytes]) -> None:
    try:
        if child.stdin is not None:
            child.stdin.close()  # the child stops by itself when its pipe closes
        child.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        child.kill()
        child.wait()
