"""What every command group shares: output formats, exit codes, dry runs and opening the client."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tui.api.errors import ForbiddenError, NotFoundError, ServerError
from tui.cli.common import (
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    EXIT_USAGE,
    CommandError,
    RowPrinter,
    confirm,
    exit_code_for,
    open_api,
    print_rows,
)
from tui.config.inputs import InputError
from tui.config.paths import AppPaths
from tui.config.profiles import Profile, ProfileError, ProfileStore
from tui.config.secrets import SecretValueError
from tui.errors import ProfileNotFound
from tui.services import Services, SessionSecretStore

ROWS = [
    {"assetId": "a1", "name": "Pump, main", "tags": ["x", "y"], "count": 3, "shared": False, "none": None},
    {"assetId": "a2", "name": 'Valve "B"', "tags": [], "count": 0, "shared": True, "none": None},
]


def test_csv_has_a_header_and_parses_back() -> None:
    out = io.StringIO()
    printer = RowPrinter("csv", ["assetId", "name", "tags", "shared"], out)
    printer.add(ROWS[:1])
    printer.add(ROWS[1:])
    assert printer.close() == 2
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert parsed == [
        {"assetId": "a1", "name": "Pump, main", "tags": "x,y", "shared": "false"},
        {"assetId": "a2", "name": 'Valve "B"', "tags": "", "shared": "true"},
    ]


def test_json_streams_one_valid_array_in_batches() -> None:
    out = io.StringIO()
    printer = RowPrinter("json", out=out)
    printer.add(ROWS[:1])
    first = out.getvalue()
    assert first.startswith("[") and "a1" in first  # written before the next batch arrives
    printer.add(ROWS[1:])
    printer.close()
    assert json.loads(out.getvalue()) == ROWS
    empty = io.StringIO()
    RowPrinter("json", out=empty).close()
    assert json.loads(empty.getvalue()) == []


def test_json_with_selected_fields_keeps_only_them() -> None:
    out = io.StringIO()
    print_rows(ROWS, "json", ["name"], out=out, pick=True)
    assert json.loads(out.getvalue()) == [{"name": "Pump, main"}, {"name": 'Valve "B"'}]


def test_table_aligns_columns_under_a_header() -> None:
    out = io.StringIO()
    print_rows(ROWS, "table", ["assetId", "name", "count"], out=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["ASSETID", "NAME", "COUNT"]
    assert lines[1].index("Pump") == lines[0].index("NAME") == lines[2].index("Valve")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotFoundError("no such asset", status=404), EXIT_NOT_FOUND),
        (ProfileNotFound("no profile named 'ghost'"), EXIT_NOT_FOUND),
        (ForbiddenError("no permission", status=403), EXIT_REFUSED),
        (ServerError("boom", status=500), EXIT_ERROR),
        (ProfileError("the gateway URL is not valid"), EXIT_USAGE),
        (InputError("the client secret contains an invisible character, U+200B, at position 3"), EXIT_USAGE),
        (SecretValueError("the client secret is too short"), EXIT_USAGE),
        (CommandError("declined", EXIT_REFUSED), EXIT_REFUSED),
        (RuntimeError("bug"), EXIT_ERROR),
    ],
)
def test_exit_codes_follow_the_error(error: BaseException, code: int) -> None:
    assert exit_code_for(error) == code


def test_confirm_refuses_without_a_terminal_unless_yes() -> None:
    with pytest.raises(CommandError) as refused:
        confirm("Delete asset a1?", stdin=io.StringIO("y\n"))
    assert refused.value.status == EXIT_REFUSED and "--yes" in str(refused.value)
    confirm("Delete asset a1?", assume_yes=True)


def _services() -> Services:
    profiles = ProfileStore(None)
    profiles.add(
        Profile(
            name="plant",
            gateway="https://gateway.eu1.mindsphere.io",
            token_url="https://acme.piam.eu1.mindsphere.io/oauth/token",
            client_id="acme-ihub-1.0.0-1234",
            tenant="acme",
        )
    )
    profiles.set_default("plant")
    # No secret stored at all: a dry run must not need one.
    return Services(paths=AppPaths.default(), profiles=profiles, secrets=SessionSecretStore(), environ={})


async def test_dry_run_prints_curl_lines_with_token_placeholder_and_sends_nothing() -> None:
    out = io.StringIO()
    async with open_api(_services(), None, dry_run=True, out=out) as session:
        assert session.dry_run and session.profile.name == "plant"
        await session.api.request(
            "POST", "/api/assetmanagement/v3/assets", json={"name": "Pump 'A'"}, idempotent=True
        )
    line = out.getvalue().strip()
    assert line.startswith("curl -X POST https://gateway.eu1.mindsphere.io/api/assetmanagement/v3/assets")
    assert '-H "Authorization: Bearer $TOKEN"' in line
    assert "Pump" in line and "--data-binary" in line
    # Nothing of the token request shows, and no real network was used (the host does not resolve here).
    assert "oauth/token" not in line and "client_secret" not in line
    assert len(out.getvalue().strip().splitlines()) == 1


async def test_without_dry_run_a_missing_secret_is_a_plain_error() -> None:
    from tui.errors import SecretNotStored

    with pytest.raises(SecretNotStored, match="no client secret stored for profile plant"):
        async with open_api(_services(), None):
            pass


def test_a_command_error_prints_its_own_words() -> None:
    from tui.cli.common import fail

    err = io.StringIO()
    assert fail("ihub x", CommandError("no profile named 'nope'", EXIT_NOT_FOUND), err) == EXIT_NOT_FOUND
    assert err.getvalue() == "ihub x: no profile named 'nope'\n"  # not "unexpected error: ..."


async def test_a_skewed_clock_is_said_once_on_stderr() -> None:
    """Issue 7 §1: a command that connects says a large clock skew once, however many clients it opens."""
    from tui.sim.app import create_app
    from tui.sim.config import DEMO_CLIENT_SECRET, SimConfig
    from tui.sim.transport import sim_transport

    sim = create_app(SimConfig(clock=lambda: 1_750_000_000.0))
    services = Services.for_demo(
        transport_factory=lambda: sim_transport(sim), clock=lambda: 1_750_000_000.0 + 1800
    )
    assert services.secrets.get("demo").value == DEMO_CLIENT_SECRET  # type: ignore[union-attr]
    err = io.StringIO()
    for _ in range(3):
        async with open_api(services, "demo", err=err) as session:
            await session.api.assets.root()
    lines = err.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ihub: note: the local clock is 30 min ahead of the server's")
