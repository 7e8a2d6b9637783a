"""The ``ihub`` command: the root parser, the table of command groups, and ``main()``.

Each group is a module of this package with ``add_arguments(parser)`` and ``run(args, services=None) ->
int``. The parse has two phases: the root parser knows every group's name and help text from ``GROUPS``,
and only the module of the group named on the command line is imported and asked for its arguments. So
``ihub --version`` and ``ihub --help`` import neither httpx, keyring, cryptography nor Textual, and each
group loads only what it needs. Shared helpers (exit codes, output formats, dry runs, opening the client)
are in ``tui/cli/common.py``.

Adding a group: write ``tui/cli/<name>.py`` with the two functions, and add a ``Group`` line below.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from tui import __version__

if TYPE_CHECKING:
    from tui.services import Services


@dataclass(frozen=True)
class Group:
    """One command group: ``ihub <name> ...``, implemented by ``tui.cli.<module>``."""

    name: str
    module: str
    help: str
    description: str


GROUPS: tuple[Group, ...] = (
    Group(
        "keys",
        "keys",
        "manage connection profiles and their secrets",
        "Manage Insights Hub connection profiles. Secrets go to the OS keyring (or, without one, an "
        "encrypted vault or the environment) and are never printed.",
    ),
    Group(
        "assets",
        "assets",
        "list, show, browse and change assets (Asset Management v3)",
        "List, show and browse the asset hierarchy (latest values included), list types, and create, "
        "change or delete assets with etag checks. Every command takes -o table|json|csv and --dry-run.",
    ),
    Group(
        "certs",
        "certs",
        "MindConnect MQTT certificates: CA registration, agent and device certificates",
        "MindConnect MQTT certificates: register a CA with proof of possession in one action, lint and "
        "inspect certificate files, create agent certificates, issue device certificates from a local CA. "
        "Private keys are written with mode 0600 and never printed.",
    ),
    Group(
        "ts",
        "ts",
        "time series: get, latest, put, plot",
        "Read, write and chart an aspect's time series (IoT Time Series v3, Aggregates v4): 'get' "
        "streams records or aggregates as CSV, JSON or a table, 'latest' the newest values, 'put' writes a "
        "checked CSV file, 'plot' prints a chart in braille or block characters.",
    ),
    Group(
        "demo",
        "demo",
        "open the app against the embedded simulator (fake data, nothing is saved)",
        "Start the simulator on a free loopback port and open the app on its demo profile. The demo uses "
        "no saved profile, no keyring and no vault.",
    ),
    Group(
        "log",
        "log",
        "list the API calls ihub made (activity log)",
        "List the API calls the app, the CLI and the proxy made: time, profile, method, path, status, "
        "duration and the service's logref. Nothing secret is logged.",
    ),
    Group(
        "proxy",
        "proxy",
        "serve the API on 127.0.0.1 with the profile's token, behind an access key",
        "A local API reverse proxy for scripts, notebooks and web pages: /api/... on 127.0.0.1 is forwarded "
        "to the profile's gateway with its token. Clients send the printed access key; the token and the "
        "secret never leave ihub.",
    ),
    Group(
        "sim",
        "sim",
        "serve the simulator on 127.0.0.1 for other clients",
        "Serve the Insights Hub simulator on loopback until Ctrl-C, printing the gateway URL, token URL "
        "and demo credentials.",
    ),
)
GROUP_BY_NAME: dict[str, Group] = {group.name: group for group in GROUPS}

EPILOG = """\
'ihub COMMAND --help' shows a command's options.

safety (for the app, the demo and every command):
  --read-only   nothing is changed in the tenant nor in the saved profiles (IHUB_READ_ONLY=1 too)
  --present     presentation mode: tenant names, client ids, ids, e-mail addresses, home folder
                paths and secrets are masked on screen and in the output
  production    profiles marked production (ihub keys add --production) or tenants matching
                [safety] production_tenants in settings.toml: destructive commands ask for the
                name typed; scripts give it with --confirm NAME (--yes alone is refused)

exit codes (the same for every command):
  0 ok   1 API, network or configuration error   2 usage   3 no secret store
  4 not found   5 refused (403, read-only, not confirmed)   6 check failed   130 interrupted
"""

# Root options that take a value (so the group name is found after them).
_ROOT_VALUE_OPTIONS = frozenset({"--profile"})


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The root parser; the arguments of the group named in ``argv`` (if any) are added to it."""
    parser = argparse.ArgumentParser(
        prog="ihub",
        description="Siemens Insights Hub (MindSphere) in the terminal: keys, assets, time series, "
        "MQTT certificates. Without a command, opens the app.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ihub {__version__}")
    parser.add_argument(
        "--profile", metavar="NAME", help="the profile to connect with (default: the default profile)"
    )
    parser.add_argument(
        "--read-only",
        dest="session_read_only",
        action="store_true",
        help="change nothing: no change to any tenant or saved profile is offered or sent (exit 5)",
    )
    parser.add_argument(
        "--present",
        action="store_true",
        help="presentation mode: mask tenant names, client ids, ids, e-mail addresses, home paths, secrets",
    )
    parser.add_argument(
        "--no-mouse",
        dest="mouse",
        action="store_false",
        default=None,
        help="the app leaves the mouse to the terminal (select and copy text); F3 switches it at run time",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    named = group_named(argv)
    for group in GROUPS:
        sub = commands.add_parser(group.name, help=group.help, description=group.description)
        if group is named:
            import_module(f"tui.cli.{group.module}").add_arguments(sub)
    return parser


def group_named(argv: Sequence[str]) -> Group | None:
    """The group named on the command line: the first word that is not an option or an option's value."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--":
            return None
        if arg.startswith("-"):
            skip = arg in _ROOT_VALUE_OPTIONS
            continue
        return GROUP_BY_NAME.get(arg)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ihub``; returns the exit code."""
    # httpx imports its own command line tool (click, rich, pygments: about 45 ms of every command's
    # start) whenever those are installed, as they are beside Textual; ihub never runs it. A None entry
    # makes httpx's optional import of it fail as it does without them (httpx/__init__.py).
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args, extras = parser.parse_known_args(args_list)
    if extras:  # said by the command they were given to, with its usage (not the root's)
        _innermost(parser, args_list).error(f"unrecognized arguments: {' '.join(extras)}")
    group = GROUP_BY_NAME.get(args.command or "")
    restore = _present(args, wrap_output=group is not None and group.name not in APP_GROUPS)
    try:
        from tui.cli.common import clean_arguments, fail
        from tui.config.inputs import InputError

        try:
            clean_arguments(args)
        except InputError as exc:
            return fail("ihub", exc)
        if group is None:
            from tui.cli.common import session_services

            return run_app(profile=args.profile, services=session_services(args), mouse=args.mouse)
        return int(import_module(f"tui.cli.{group.module}").run(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one plain line naming the log file; the traceback goes there
        return _unexpected(exc)
    finally:
        restore()


def _innermost(parser: argparse.ArgumentParser, words: Sequence[str]) -> argparse.ArgumentParser:
    """The parser of the deepest command named in ``words`` (``ihub certs check`` -> check's parser)."""
    words = list(words)
    while True:
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        chosen = next((w for w in words if sub is not None and w in sub.choices), None)
        if sub is None or chosen is None:
            return parser
        parser = sub.choices[chosen]
        words = words[words.index(chosen) + 1 :]


# Groups that open the app (their output is the terminal's screen, masked by the app itself).
APP_GROUPS = frozenset({"demo"})


def _present(args: argparse.Namespace, *, wrap_output: bool) -> Callable[[], None]:
    """``--present``: a masker for the session (``args.masker``, picked up by ``session_services``); a
    command's standard output and error are masked line by line. Returns what undoes it."""
    args.masker = None
    if not getattr(args, "present", False):
        return lambda: None
    from tui.present import MaskedStream, Masker

    args.masker = masker = Masker()
    if not wrap_output:
        return lambda: None
    saved = sys.stdout, sys.stderr
    sys.stdout = MaskedStream(sys.stdout, masker)
    sys.stderr = MaskedStream(sys.stderr, masker)

    def restore() -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = saved

    return restore


def _unexpected(error: Exception) -> int:
    from tui.errorlog import record_unexpected, shown_path
    from tui.errors import error_text

    path = record_unexpected(error, context="the command line")
    where = f"details in {shown_path(path)}" if path is not None else "no log file could be written"
    text = error_text(error)
    if "(details in " not in text:
        text = f"{text} ({where})"
    print(f"ihub: {text}", file=sys.stderr)
    return 1


def run_app(profile: str | None = None, services: Services | None = None, mouse: bool | None = None) -> int:
    """Open the app with the saved profiles (or ``services``)."""
    from tui.services import Services

    return run_tui(services or Services.default(), profile=profile, mouse=mouse)


def run_tui(services: Services, profile: str | None, mouse: bool | None = None) -> int:
    """Run the Textual app around ``services`` until it exits; returns its exit code. ``mouse``: False for
    ``--no-mouse``, None for the ``[ui] mouse`` setting."""
    from tui.app import IhubApp

    app = IhubApp(services, profile=profile, mouse=mouse)
    app.run(mouse=app.mouse_at_start)
    return app.return_code or 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
