"""``ihub proxy``: serve ``/api/...`` on 127.0.0.1 and forward it to the profile's gateway with the
profile's token, behind an access key (issue 13). Everything but the options lives in ``tui.proxy``.

Exit codes (the shared ones, ``tui/cli/common.py``): 0 after Ctrl-C; 2 refused settings (a non-loopback
address without ``--allow-remote``, ``--no-access-key`` with ``--allow-remote``, a wildcard ``--cors``, a
bad ``IHUB_PROXY_KEY``); 4 no such profile; 1 no secret, the port is taken, or another error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from tui.cli.common import (
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    fail,
    prompt_unlock,
    run_async,
)

if TYPE_CHECKING:
    from tui.config.profiles import Profile
    from tui.proxy import ProxyConfig, ProxyServer
    from tui.services import Services

DEFAULT_PORT = 8766  # tui.proxy.DEFAULT_PORT (not imported here: `ihub proxy --help` stays light)
EXAMPLE_PATH = "/api/assetmanagement/v3/assets/root"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Clients send the access key in the X-Ihub-Proxy-Key header or as ?ihub_proxy_key=... in the URL. "
        "IHUB_PROXY_KEY sets the key for scripts (it is then not printed)."
    )
    parser.add_argument(
        "--profile",
        dest="proxy_profile",
        metavar="NAME",
        help="the profile whose gateway and token are used (default: as for every command)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks one)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to listen on (default 127.0.0.1); anything but loopback needs --allow-remote",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (other machines can reach it; the access key is then required)",
    )
    parser.add_argument(
        "--no-access-key",
        action="store_true",
        help="serve without an access key (loopback only: any local program can then use the token)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="forward only GET and HEAD (always so for a read-only profile)",
    )
    parser.add_argument(
        "--cors",
        metavar="ORIGIN",
        help="let one web page origin call the proxy, e.g. http://localhost:3000 (no wildcard)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print each request as it passes")
    parser.add_argument(
        "-o",
        "--output",
        choices=("table", "json"),
        default="table",
        help="table: text for people (default); json: JSON lines for scripts (ready, requests, stopped)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the settings and print what would be served and the direct call it stands for; "
        "read no secret and listen on nothing",
    )


def run(
    args: argparse.Namespace,
    services: Services | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    ready: Callable[[ProxyServer], None] | None = None,
) -> int:
    """Run ``ihub proxy`` until Ctrl-C; returns the exit code. ``ready(server)`` is called once listening
    (tests stop the server with ``server.request_stop()``)."""
    out_stream = stdout or sys.stdout
    err_stream = stderr or sys.stderr

    def out(line: str) -> None:
        print(line, file=out_stream, flush=True)

    def err(line: str) -> None:
        print(line, file=err_stream, flush=True)

    from tui.cli.common import session_services
    from tui.proxy import ProxyConfigError, ProxyError, config_for_profile, serve

    services = session_services(args, services)
    try:
        profile = _profile(services, getattr(args, "proxy_profile", None) or getattr(args, "profile", None))
        # A read-only session or profile forwards only GET and HEAD (tui.config.safety).
        safety = services.safety(profile)
        # The settings are checked before the secret is read (no vault prompt for a refused command).
        config = config_for_profile(
            profile,
            host=args.host,
            port=args.port,
            access_key=not args.no_access_key,
            allow_remote=args.allow_remote,
            read_only=args.read_only or safety.read_only,
            cors=args.cors,
        ).resolved(services.environ)
        if safety.production and not config.read_only:
            err(
                f"ihub proxy: ▲ production: {safety.production_why}; requests through the proxy can change "
                "it (--read-only forwards only GET and HEAD)"
            )
        if args.dry_run:
            return _dry_run(profile, config, out)
        secret = run_async(lambda: services.read_secret(profile, prompt_unlock(services)))
        transport = services.transport_factory() if services.transport_factory is not None else None
        serve(
            profile,
            secret.value,
            config=config,
            verbose=args.verbose,
            environ=services.environ,
            out=out,
            err=err,
            transport=transport,
            output="json" if args.output == "json" else "text",
            ready=ready,
            activity=services.activity,
        )
    except CommandError as exc:
        err(f"ihub: {exc}")
        return exc.status
    except ProxyConfigError as exc:
        err(f"ihub: {exc}")
        return EXIT_USAGE
    except ProxyError as exc:
        err(f"ihub: {exc}")
        return EXIT_ERROR
    except (Exception, KeyboardInterrupt) as exc:
        return fail("ihub", exc, err_stream)
    return EXIT_OK


def _profile(services: Services, name: str | None) -> Profile:
    from tui.errors import ServiceError

    chosen = services.initial_profile_name(name)
    if chosen is None:
        raise CommandError(
            "no profile selected: add one with 'ihub keys add', choose one with --profile, "
            "or set a default with 'ihub keys use NAME'"
        )
    try:
        return services.resolve_profile(chosen)
    except ServiceError as exc:
        raise CommandError(str(exc), EXIT_NOT_FOUND) from None


def _dry_run(profile: Profile, config: ProxyConfig, out: Callable[[str], None]) -> int:
    """What would be served, and the direct call a request through it stands for (token as $TOKEN)."""
    from tui.proxy import KEY_HEADER, KEY_PARAM, KeySource

    host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
    port = str(config.port) if config.port else "<a free port>"
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    keys = {
        KeySource.GENERATED: "a new random key, printed at start",
        KeySource.ENV: "from IHUB_PROXY_KEY",
        KeySource.GIVEN: "given",
        KeySource.NONE: "none (--no-access-key)",
    }
    out(f"would serve {url}/api/... for profile {profile.name!r} -> {config.gateway}")
    out(f"  access key:  {keys[config.key_source or KeySource.NONE]} ({KEY_HEADER} or ?{KEY_PARAM}=)")
    out(f"  mode:        {'read-only (GET and HEAD)' if config.read_only else 'read and write'}")
    if config.cors_origin:
        out(f"  CORS:        {config.cors_origin}")
    out("a request through it stands for this direct call:")
    out(f"curl -H \"Authorization: Bearer $TOKEN\" '{config.gateway}{EXAMPLE_PATH}'")
    return EXIT_OK
