"""What every ``ihub`` command group shares: exit codes, the command error, ``-o table|json|csv`` output,
``--dry-run``, running async code, and opening the API client of the selected profile.

No Textual here. Heavy modules (httpx, the API layer, the config layer) are imported inside the functions
that need them, so a group's module stays cheap to import.

Exit codes (the same for every group; the README lists them):

====  ==============================================================================================
0     success
1     an API, network or configuration error not listed below
2     usage: bad arguments or bad input (argparse uses 2 as well)
3     no secure place for a secret (``keys add`` on a machine without keyring, vault or env choice)
4     not found: the named profile, asset, aspect, certificate... does not exist (HTTP 404)
5     refused: no permission (HTTP 403), a read-only profile, or a confirmation declined
6     a check ran and found a problem (``keys test``, ``certs lint``, ``certs check``)
130   interrupted (Ctrl-C)
====  ==============================================================================================
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

if TYPE_CHECKING:
    import httpx

    from tui.api.client import ApiClient
    from tui.config.profiles import Profile
    from tui.config.safety import Safety
    from tui.services import Services, Unlock

T = TypeVar("T")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_STORE = 3
EXIT_NOT_FOUND = 4
EXIT_REFUSED = 5
EXIT_CHECK_FAILED = 6
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_ERROR: "an API, network or configuration error",
    EXIT_USAGE: "usage: bad arguments or bad input",
    EXIT_NO_STORE: "no secure place for a secret",
    EXIT_NOT_FOUND: "not found",
    EXIT_REFUSED: "refused: no permission, read-only profile, or confirmation declined",
    EXIT_CHECK_FAILED: "a check found a problem",
    EXIT_INTERRUPTED: "interrupted",
}

OUTPUT_FORMATS = ("table", "json", "csv")


class CommandError(Exception):
    """A user-facing failure of a command: one plain message and an exit code."""

    def __init__(self, message: str, status: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.status = status


def exit_code_for(error: BaseException) -> int:
    """The exit code for an exception raised by a command (see the module docstring)."""
    if isinstance(error, CommandError):
        return error.status
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    from tui.api.errors import ApiError, ForbiddenError, NotFoundError
    from tui.config.inputs import InputError
    from tui.config.secrets import NoSecureStoreError, SecretValueError
    from tui.errors import ProfileNotFound, SecretNotStored

    if isinstance(error, NotFoundError | ProfileNotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, ForbiddenError):
        return EXIT_REFUSED
    if isinstance(error, NoSecureStoreError):
        return EXIT_NO_STORE
    if isinstance(error, InputError | SecretValueError):  # bad input: a refused value, profile or secret
        return EXIT_USAGE
    if isinstance(error, SecretNotStored | ApiError):
        return EXIT_ERROR
    return EXIT_ERROR


def error_line(error: BaseException) -> str:
    """The line a command prints for ``error``: a ``CommandError``'s own message (written for users; it
    may span lines, e.g. a list of choices), else ``tui.errors.error_text``."""
    if isinstance(error, CommandError):
        return str(error)
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    from tui.errors import error_text

    return error_text(error)


def fail(prog: str, error: BaseException, err: TextIO | None = None) -> int:
    """Print ``prog: <one line>`` on standard error and return the exit code for ``error``."""
    print(f"{prog}: {error_line(error)}", file=err or sys.stderr)
    return exit_code_for(error)


# --------------------------------------------------------------------------------------------------
# The session: root options (--read-only, --present), read-only refusals, destructive confirmations
# --------------------------------------------------------------------------------------------------
def clean_arguments(args: argparse.Namespace) -> None:
    """Every text argument through the cleaning rule for free text (``tui.config.inputs.clean_text``): a
    leading byte-order mark and surrounding whitespace dropped, an invisible or control character refused
    with its name and position (``InputError``, exit 2), so an id pasted with a zero-width space is not
    looked up as another id. The cleaned values replace the parsed ones."""
    from tui.config.inputs import clean_text

    for dest, value in vars(args).items():
        what = dest.replace("_", " ")
        if isinstance(value, str):
            setattr(args, dest, clean_text(value, what))
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            setattr(args, dest, [clean_text(item, what) for item in value])


def session_services(args: argparse.Namespace, services: Services | None = None) -> Services:
    """``services`` (or the machine's, ``Services.default()``) with the root options applied: ``--read-only``
    makes the session read-only; ``--present`` masks identifiers in what the command prints (``main`` wraps
    standard output and error; the masker learns the profiles here)."""
    if services is None:
        from tui.services import Services

        services = Services.default()
    if getattr(args, "session_read_only", False):
        services.session_read_only = True
    masker = getattr(args, "masker", None)
    if masker is not None:
        services.start_presenting(masker)
    return services


def refuse_change(services: Services, profile: Profile | None, what: str) -> Safety:
    """Raise ``CommandError(EXIT_REFUSED)`` in plain words when ``what`` ("delete an asset") is a change
    this session may not make with ``profile`` (read-only session or profile); else its ``Safety``."""
    safety = services.safety(profile)
    if safety.read_only:
        raise CommandError(safety.refusal(what), EXIT_REFUSED)
    return safety


def refuse_local_change(services: Services, what: str) -> None:
    """Refuse a change to the saved profiles in a read-only session (``--read-only``, ``IHUB_READ_ONLY``)."""
    if services.read_only:
        raise CommandError(
            f"cannot {what}: the session is read-only (--read-only); nothing was changed",
            EXIT_REFUSED,
        )


def add_confirm_arguments(parser: argparse.ArgumentParser, what: str = "name") -> None:
    """``--yes`` and ``--confirm NAME``: how a script confirms a destructive command (see
    ``confirm_destructive``)."""
    parser.add_argument(
        "--yes", action="store_true", help="do not ask (refused on a production profile: use --confirm)"
    )
    parser.add_argument(
        "--confirm",
        metavar="NAME",
        dest="confirm_name",
        help=f"confirm by giving the {what} (what a terminal would ask to type); needed by scripts on a "
        "production profile",
    )


def confirm_destructive(
    question: str,
    name: str,
    *,
    safety: Safety,
    assume_yes: bool = False,
    confirm_name: str | None = None,
    stdin: TextIO | None = None,
    err: TextIO | None = None,
) -> None:
    """Confirm a destructive command, or raise ``CommandError(EXIT_REFUSED)`` ("nothing was changed").

    * ``--confirm NAME`` (``confirm_name``): confirmed when it is exactly ``name``, refused otherwise.
    * A production profile: the name must be typed on a terminal; ``--yes`` alone is refused, so a script
      written for a test tenant cannot delete in production by accident (it must name what it deletes).
    * Otherwise: ``--yes``, or ``y`` on a terminal; without a terminal and without ``--yes``, refused.
    """
    if confirm_name is not None:
        if confirm_name.strip() != name:
            raise CommandError(
                f"--confirm {confirm_name!r} is not the name {name!r}: nothing was changed", EXIT_REFUSED
            )
        return
    if not safety.production:
        confirm(question, assume_yes=assume_yes, stdin=stdin)
        return
    source = stdin or sys.stdin
    if not _isatty(source):
        hint = "--yes is not enough there; " if assume_yes else ""
        raise CommandError(
            f"{question} Not confirmed: {safety.production_why}; {hint}"
            f"add --confirm {_shell_word(name)} (scripts name what they destroy)",
            EXIT_REFUSED,
        )
    out = err or sys.stderr
    print(f"{question}\n▲ Production: {safety.production_why}.", file=out)
    print(f"Type the name to confirm ({name}): ", end="", file=out, flush=True)
    if source.readline().strip() != name:
        raise CommandError("the name does not match: nothing was changed", EXIT_REFUSED)


def _shell_word(text: str) -> str:
    import shlex

    return shlex.quote(text)


# --------------------------------------------------------------------------------------------------
# Arguments every API command takes
# --------------------------------------------------------------------------------------------------
def add_output_argument(parser: argparse.ArgumentParser, default: str = "table") -> None:
    """``-o/--output table|json|csv``."""
    parser.add_argument(
        "-o",
        "--output",
        choices=OUTPUT_FORMATS,
        default=default,
        help=f"output format (default: {default}); json and csv are for scripts",
    )


def add_dry_run_argument(parser: argparse.ArgumentParser) -> None:
    """``--dry-run``: print the HTTP requests as curl lines instead of sending them."""
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the HTTP requests as curl lines (token as $TOKEN) and send nothing",
    )


def add_api_arguments(parser: argparse.ArgumentParser, *, output: str | None = "table") -> None:
    """The options of a command that talks to the API: ``-o`` (unless ``output`` is None), ``--dry-run``."""
    if output is not None:
        add_output_argument(parser, output)
    add_dry_run_argument(parser)


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------
def cell_text(value: Any) -> str:
    """One value as table or CSV text: None is empty, lists are joined, dicts are compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


@dataclass
class RowPrinter:
    """Prints rows as they arrive in one of the three formats.

    ``table``: aligned columns under an upper-case header, widths fixed by the first batch (wider later
    values just push the line); ``json``: one JSON array, written element by element so a long listing
    streams and the output is still valid JSON; ``csv``: a header row, then one row per item (parses back
    with any CSV reader). Rows are mappings; ``columns`` picks and orders the keys (all keys of the first
    row when empty). With ``json`` the whole row is written unless ``pick`` is set (``--select``).
    """

    fmt: str
    columns: Sequence[str] = ()
    out: TextIO = field(default_factory=lambda: sys.stdout)
    headers: Mapping[str, str] = field(default_factory=dict)
    pick: bool = False
    _started: bool = False
    _count: int = 0
    _widths: list[int] = field(default_factory=list)
    _csv: Any = None

    def add(self, rows: Iterable[Mapping[str, Any]]) -> None:
        batch = list(rows)
        if not batch:
            return
        if not self.columns:
            self.columns = list(batch[0].keys())
        if self.fmt == "json":
            self._json(batch)
        elif self.fmt == "csv":
            self._csv_rows(batch)
        else:
            self._table(batch)
        self._count += len(batch)
        self.out.flush()

    def close(self) -> int:
        """Finish the output (closes the JSON array; ``[]`` for an empty listing); returns the row count."""
        if self.fmt == "json":
            self.out.write("\n]\n" if self._started else "[]\n")
        elif self.fmt == "csv" and not self._started and self.columns:
            self._csv_rows([])
        self.out.flush()
        return self._count

    def _json(self, batch: list[Mapping[str, Any]]) -> None:
        for row in batch:
            item = {k: row.get(k) for k in self.columns} if self.pick else dict(row)
            self.out.write(("[\n  " if not self._started else ",\n  ") + json.dumps(item, ensure_ascii=False))
            self._started = True

    def _csv_rows(self, batch: list[Mapping[str, Any]]) -> None:
        if self._csv is None:
            self._csv = csv.writer(self.out, lineterminator="\n")
        if not self._started:
            self._csv.writerow(list(self.columns))
            self._started = True
        for row in batch:
            self._csv.writerow([cell_text(row.get(k)) for k in self.columns])

    def _table(self, batch: list[Mapping[str, Any]]) -> None:
        texts = [[cell_text(row.get(k)) for k in self.columns] for row in batch]
        if not self._started:
            header = [self.headers.get(k, k.upper()) for k in self.columns]
            self._widths = [max(len(header[i]), *(len(t[i]) for t in texts)) for i in range(len(header))]
            self._line(header)
            self._started = True
        for t in texts:
            self._line(t)

    def _line(self, cells: list[str]) -> None:
        padded = "  ".join(c.ljust(w) for c, w in zip(cells, self._widths, strict=False))
        self.out.write(padded.rstrip() + "\n")


def print_rows(
    rows: Iterable[Mapping[str, Any]],
    fmt: str,
    columns: Sequence[str] = (),
    *,
    out: TextIO | None = None,
    headers: Mapping[str, str] | None = None,
    pick: bool = False,
) -> int:
    """Print a whole listing at once (see ``RowPrinter``); returns the number of rows."""
    printer = RowPrinter(fmt, list(columns), out or sys.stdout, dict(headers or {}), pick)
    printer.add(rows)
    return printer.close()


def print_json(data: Any, out: TextIO | None = None) -> None:
    """Pretty JSON on standard output."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str), file=out or sys.stdout)


# --------------------------------------------------------------------------------------------------
# Async
# --------------------------------------------------------------------------------------------------
def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """Run a command's async body to completion on a fresh event loop."""
    return asyncio.run(_call(main))


async def _call(main: Callable[[], Awaitable[T]]) -> T:
    return await main()


# --------------------------------------------------------------------------------------------------
# Profiles, secrets and the API client
# --------------------------------------------------------------------------------------------------
def prompt_unlock(
    services: Services, prompt: Callable[[str], str] | None = None, stdin: TextIO | None = None
) -> Unlock:
    """An ``Unlock`` for ``Services.read_secret``: the vault passphrase from a hidden prompt (a terminal)."""
    ask = prompt or getpass.getpass

    async def unlock(purpose: str, error: str | None) -> bool:
        if not _isatty(stdin or sys.stdin):
            raise CommandError(
                f"{purpose} Set IHUB_VAULT_PASSPHRASE (there is no terminal to ask on)"
                + (f"; {error}" if error else ""),
                EXIT_ERROR,
            )
        if error:
            print(f"ihub: {error}", file=sys.stderr)
        passphrase = await asyncio.to_thread(ask, "Vault passphrase: ")
        if not passphrase:
            return False
        await asyncio.to_thread(services.secrets.unlock_vault, passphrase)
        return True

    return unlock


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@dataclass
class Session:
    """What ``open_api`` yields: the resolved profile, the client, and whether this is a dry run."""

    profile: Profile
    api: ApiClient
    dry_run: bool = False


@asynccontextmanager
async def open_api(
    services: Services,
    profile: str | None = None,
    *,
    dry_run: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> AsyncIterator[Session]:
    """The API client of the selected profile (``--profile`` > ``IHUB_PROFILE`` > default > the only one,
    with the ``IHUB_*`` overrides), closed on exit. A skewed local clock seen on a token is said once on
    ``err`` (standard error).

    With ``dry_run`` no secret is read and nothing is sent: every request is printed as a curl line on
    ``out`` (token as ``$TOKEN``) and answered with ``200 {}``; commands skip printing results then.
    """
    from tui.errors import ServiceError

    if dry_run:
        chosen = services.initial_profile_name(profile)
        if chosen is None:
            raise ServiceError("no profile selected: add one with 'ihub keys add' or name one with --profile")
        resolved = services.resolve_profile(chosen)
        api = _dry_run_client(resolved, out or sys.stdout)
        try:
            yield Session(resolved, api, dry_run=True)
        finally:
            await api.aclose()
        return
    if services.on_clock_skew is None:
        services.on_clock_skew = partial(_say_clock_skew, err or sys.stderr)
    connection = await services.open(profile, prompt_unlock(services))
    try:
        yield Session(connection.profile, connection.client)
    finally:
        await connection.client.aclose()


def _say_clock_skew(err: TextIO, skew: float) -> None:
    """A skewed local clock, said once per process on standard error (the services call this once)."""
    from tui.api.auth import skew_words

    print(
        f"ihub: note: {skew_words(skew)}; token lifetimes are measured on this computer, so commands keep "
        "working, but set the clock right for certificates and other tools",
        file=err,
    )


def _dry_run_client(profile: Profile, out: TextIO) -> ApiClient:
    from tui.api.client import ApiClient, ConnectionConfig

    config = ConnectionConfig(gateway=profile.gateway, credentials=profile.to_credentials("dry-run"))
    return ApiClient(config, transport=dry_run_transport(profile.token_url, out))


def curl_line(request: httpx.Request) -> str:
    """``request`` as a curl command line; the Authorization header shows ``$TOKEN``, never a token.

    The one curl rendering of the project (``tui.api.curl``, shared with the app's Requests view)."""
    from tui.api.curl import curl_line as render

    return render(request)


def dry_run_transport(token_url: str, out: TextIO) -> httpx.AsyncBaseTransport:
    """A transport that prints each API request as a curl line and answers ``200 {}``; the token request is
    answered silently with the placeholder token ``$TOKEN`` (nothing secret is sent or printed)."""
    import httpx

    token_endpoint = token_url.split("?")[0]

    class DryRunTransport(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            url = str(request.url).split("?")[0]
            if url == token_endpoint:
                body = {"access_token": "$TOKEN", "token_type": "Bearer", "expires_in": 86400}
                return httpx.Response(200, json=body, request=request)
            print(curl_line(request), file=out, flush=True)
            return httpx.Response(200, json={}, request=request)

    return DryRunTransport()


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------
def confirm(question: str, *, assume_yes: bool = False, stdin: TextIO | None = None) -> None:
    """Ask ``question [y/N]`` on a terminal; raise ``CommandError(EXIT_REFUSED)`` unless answered yes.

    Without a terminal (a script), refuses unless ``assume_yes`` (``--yes``)."""
    if assume_yes:
        return
    source = stdin or sys.stdin
    if not _isatty(source):
        raise CommandError(f"{question} Not confirmed: no terminal to ask on; add --yes", EXIT_REFUSED)
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = source.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise CommandError("not confirmed; nothing was changed", EXIT_REFUSED)
