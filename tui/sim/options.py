"""The simulator's command-line options and their checks, kept light: ``ihub sim --help`` and ``ihub demo``
parse them without importing uvicorn, Starlette or the simulated services."""

from __future__ import annotations

import argparse
import ipaddress
import os

from tui.sim.config import READ_SCOPES, WRITE_SCOPES, SimClient, SimConfig

FAULT_KINDS = ("429", "500", "503", "drop")
# The extra client's secret, from the environment instead of the command line.
ENV_SIM_CLIENT_SECRET = "IHUB_SIM_CLIENT_SECRET"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the simulator options (``ihub sim``) to ``parser``."""
    defaults = SimConfig()
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (0 picks a free one)")
    parser.add_argument(
        "--assets",
        type=int,
        default=0,
        metavar="N",
        help="extra generated assets; one folder gets min(N/2, 10000) children (10 000 from N=20000 on)",
    )
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS", help="added latency per API call")
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, metavar="F", help="probability of an injected fault (0..1)"
    )
    parser.add_argument(
        "--faults",
        default=",".join(defaults.faults),
        metavar="LIST",
        help=f"comma-separated faults to draw from: {', '.join(FAULT_KINDS)}",
    )
    parser.add_argument(
        "--retry-after",
        type=int,
        default=defaults.retry_after_s,
        metavar="S",
        help="seconds asked for in Retry-After on injected 429 and 503",
    )
    parser.add_argument(
        "--retry-after-date",
        action="store_true",
        help="send Retry-After as an HTTP date instead of seconds",
    )
    parser.add_argument(
        "--max-page-size", type=int, default=defaults.max_page_size, metavar="N", help="largest page size"
    )
    parser.add_argument(
        "--token-ttl", type=int, default=defaults.token_ttl, metavar="S", help="token lifetime"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, metavar="N", help="seed of the demo data")
    parser.add_argument(
        "--mqtt-port",
        type=int,
        default=0,
        metavar="P",
        help="port of the MQTT broker (MQTT 3.1.1 over TLS with client certificates; 0 picks a free one)",
    )
    parser.add_argument(
        "--mqtt-root-ca",
        default=None,
        metavar="FILE",
        help="where to write the broker root CA for clients (default: a temporary file, printed at start)",
    )
    parser.add_argument("--no-mqtt", action="store_true", help="run without the MQTT broker")
    parser.add_argument("--client-id", default=None, metavar="ID", help="an extra client id (full scopes)")
    parser.add_argument(
        "--client-secret",
        default=None,
        metavar="S",
        help=f"the extra client's secret (or {ENV_SIM_CLIENT_SECRET}, which keeps it out of shell history)",
    )
    return parser


def config_from_args(ns: argparse.Namespace) -> SimConfig:
    """SimConfig from ``build_parser_args`` options; ValueError (one-line message) when invalid."""
    faults = tuple(f.strip() for f in str(ns.faults).split(",") if f.strip())
    unknown = [f for f in faults if f not in FAULT_KINDS]
    if unknown:
        raise ValueError(f"Unknown fault kind(s): {', '.join(unknown)} (use {', '.join(FAULT_KINDS)})")
    if not 0.0 <= ns.fault_rate <= 1.0:
        raise ValueError("--fault-rate must be between 0 and 1")
    if ns.assets < 0:
        raise ValueError("--assets must not be negative")
    if ns.latency < 0:
        raise ValueError("--latency must not be negative")
    if ns.max_page_size < 1:
        raise ValueError("--max-page-size must be at least 1")
    if ns.token_ttl < 1:
        raise ValueError("--token-ttl must be at least 1 second")
    mqtt_port = getattr(ns, "mqtt_port", 0)
    if not 0 <= mqtt_port <= 65535:
        raise ValueError(f"--mqtt-port must be between 0 and 65535 (0 picks a free port), not {mqtt_port}")
    retry_after = getattr(ns, "retry_after", 1)
    if retry_after < 0:
        raise ValueError("--retry-after must not be negative")
    if ns.client_id and not ns.client_secret:
        ns.client_secret = os.environ.get(ENV_SIM_CLIENT_SECRET) or None
    if bool(ns.client_id) != bool(ns.client_secret):
        raise ValueError("--client-id and --client-secret go together")
    config = SimConfig(
        seed=ns.seed,
        assets=ns.assets,
        latency_ms=ns.latency,
        fault_rate=ns.fault_rate,
        faults=faults,
        max_page_size=ns.max_page_size,
        token_ttl=ns.token_ttl,
        retry_after_s=retry_after,
        retry_after_http_date=bool(getattr(ns, "retry_after_date", False)),
    )
    if ns.client_id:
        config.clients = [
            SimClient(ns.client_id, ns.client_secret, READ_SCOPES + WRITE_SCOPES),
            *config.clients,
        ]
    return config
