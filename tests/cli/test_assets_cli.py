"""``ihub assets`` (issue 8 §3) against the in-process simulator: every command and output format, dry runs,
exit codes, etag checks and refusals."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import Clock
from tui.cli import build_parser
from tui.cli.assets import run
from tui.cli.common import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from tui.config.paths import AppPaths
from tui.config.profiles import Profile, ProfileStore
from tui.config.secrets import SecretStore
from tui.devtools.screenshots import FROZEN_TIME
from tui.flows.assets import SPARK_BLOCKS
from tui.services import DEMO_LOCAL_URL, Services, SessionSecretStore
from tui.sim.app import create_app
from tui.sim.config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_READONLY_CLIENT_ID,
    DEMO_READONLY_CLIENT_SECRET,
    READ_SCOPES,
    SimClient,
    SimConfig,
    default_clients,
)
from tui.sim.transport import sim_transport

PUMP = "ff0d65e90c1000b7343ac254a953c927"  # Pump ER-1104
LINE = "4edcd35050035f77b7eb4b597514eda8"  # Line ER11, its parent
ROOT = "e793c0198c59c084e219a9a2a7ecb649"
NO_TS_CLIENT = "demo-ihub-1.0.0-nots"
NO_TS_SECRET = "FAKE-no-timeseries-secret"


@pytest.fixture
def sim():
    clients = [
        *default_clients(),
        SimClient(
            NO_TS_CLIENT, NO_TS_SECRET, tuple(s for s in READ_SCOPES if s.startswith("mdsp:core:asset"))
        ),
    ]
    return create_app(SimConfig(clock=Clock(FROZEN_TIME), clients=clients))


class Cli:
    """``ihub assets ...`` with one profile against the in-process simulator (a fresh client per call)."""

    def __init__(
        self, sim, client_id: str = DEMO_CLIENT_ID, secret: str = DEMO_CLIENT_SECRET, **profile
    ) -> None:
        store = ProfileStore(None)
        store.add(
            Profile(
                name="sim",
                gateway=DEMO_LOCAL_URL,
                token_url=f"{DEMO_LOCAL_URL}/oauth/token",
                client_id=client_id,
                tenant="demo",
                **profile,
            )
        )
        store.set_default("sim")
        secrets = SessionSecretStore()
        secrets.set("sim", secret)
        self.services = Services(
            paths=AppPaths.default(),
            profiles=store,
            secrets=secrets,
            environ={},
            transport_factory=lambda: sim_transport(sim),
            clock=Clock(FROZEN_TIME),
        )
        self.parser = build_parser(["assets"])
        self.out = ""
        self.err = ""
        self.writes: list[str] = []

    def __call__(self, *argv: str, stdin: io.StringIO | None = None) -> int:
        writes = self.writes = []

        class Out(io.StringIO):
            def write(self, text: str) -> int:
                writes.append(text)
                return super().write(text)

        out, err = Out(), io.StringIO()
        args = self.parser.parse_args(["assets", *argv])
        code = run(args, self.services, stdin=stdin or io.StringIO(""), stdout=out, stderr=err)
        self.out, self.err = out.getvalue(), err.getvalue()
        assert "Traceback" not in self.out + self.err
        return code

    def json(self):
        return json.loads(self.out)

    def csv(self) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self.out)))


@pytest.fixture
def cli(sim) -> Cli:
    return Cli(sim)


def tenant(sim):
    return sim.state.tenant


# -- ls ---------------------------------------------------------------------------------------------------


def test_ls_prints_a_table_of_the_first_page_and_says_how_to_get_the_rest(cli: Cli, sim) -> None:
    assert cli("ls") == EXIT_OK
    lines = cli.out.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "ASSET", "ID", "PATH"]
    assert len(lines) == 1 + 200
    live = sum(1 for a in tenant(sim).assets.values() if a.deleted is None and not a.shared)
    assert f"200 of {live} assets shown; add --all" in cli.err


def test_ls_name_search_ignores_the_usual_cases(cli: Cli) -> None:
    assert cli("ls", "--name", "pump er-11", "-o", "csv") == EXIT_OK
    names = [row["name"] for row in cli.csv()]
    assert names == ["Pump ER-1104", "Pump ER-11D"]


def test_ls_all_json_is_one_array_with_the_api_field_names_written_page_by_page(cli: Cli, sim) -> None:
    assert cli("ls", "--all", "-o", "json") == EXIT_OK
    items = cli.json()
    live = [a for a in tenant(sim).assets.values() if a.deleted is None and not a.shared]
    assert len(items) == len(live) == len({i["assetId"] for i in items})
    pump = next(i for i in items if i["assetId"] == PUMP)
    assert pump["name"] == "Pump ER-1104" and pump["typeId"] == "demo.Pump" and pump["parentId"] == LINE
    assert [h["name"] for h in pump["hierarchyPath"]] == ["demo", "Erlangen", "Hall ER1", "Line ER11"]
    assert pump["location"]["latitude"] == pytest.approx(49.5908)
    # Streamed: one write per page of 200 (plus the closing bracket), not one write at the end.
    pages = -(-len(live) // 200)
    assert len([w for w in cli.writes if w.strip() not in ("]", "")]) == pages >= 2


def test_ls_csv_has_a_header_and_parses_back_with_selected_fields(cli: Cli) -> None:
    assert cli("ls", "--type", "demo.Pump", "--select", "assetId,name,typeId,location,path", "-o", "csv") == 0
    rows = cli.csv()
    assert list(rows[0]) == ["assetId", "name", "typeId", "location", "path"]
    # --type includes subtypes: the dosing pumps (demo.DosingPump derives from demo.Pump).
    assert {r["typeId"] for r in rows} == {"demo.Pump", "demo.DosingPump"}
    pump = next(r for r in rows if r["assetId"] == PUMP)
    assert json.loads(pump["location"])["locality"] == "Erlangen"
    assert pump["path"] == "demo/Erlangen/Hall ER1/Line ER11"


def test_ls_json_select_keeps_only_the_chosen_fields(cli: Cli) -> None:
    assert cli("ls", "--parent", LINE, "--select", "assetId,name", "-o", "json") == EXIT_OK
    items = cli.json()
    assert all(set(i) == {"assetId", "name"} for i in items)
    assert PUMP in {i["assetId"] for i in items}


def test_ls_raw_filter_and_shared_assets(cli: Cli) -> None:
    assert cli("ls", "--filter", '{"name": "Supplier Equipment"}', "-o", "json") == EXIT_OK
    assert cli.json() == []  # shared into the tenant: only with --shared
    assert cli("ls", "--filter", '{"name": "Supplier Equipment"}', "--shared", "-o", "json") == EXIT_OK
    [item] = cli.json()
    assert item["sharing"]["modes"] == ["RECEIVER"] and item["tenantId"] == "supplier"


@pytest.mark.parametrize(
    "argv",
    [("ls", "--filter", "{bad"), ("ls", "--filter", "[1]"), ("ls", "--select", "assetId,colour"), ()],
)
def test_usage_errors_exit_2_with_a_plain_message(cli: Cli, argv: tuple[str, ...]) -> None:
    assert cli(*argv) == EXIT_USAGE
    if argv:
        assert cli.err.startswith("ihub assets: ") and len(cli.err.splitlines()) == 1


# -- show -------------------------------------------------------------------------------------------------


def test_show_prints_facts_variables_and_latest_values_with_quality_and_trend(cli: Cli) -> None:
    assert cli("show", PUMP) == EXIT_OK
    out = cli.out
    assert "Pump ← Machine ← core.basicdevice ← core.basicasset" in out
    assert "demo › Erlangen › Hall ER1 › Line ER11 › Pump ER-1104" in out
    assert "ratedFlow    100 m3/h" in out
    vibration = out.split("Vibration (dynamic, demo.PumpVibration, latest at ")[1].splitlines()
    velocity = next(line for line in vibration if "velocityRms" in line)
    assert "mm/s" in velocity and "good" in velocity
    assert sum(ch in SPARK_BLOCKS for ch in velocity) == 24  # one block per hour
    assert "ratedPower            30 kW" in out  # a static value converted by its data type


def test_show_json_keeps_api_names_typed_values_and_each_section(cli: Cli) -> None:
    assert cli("show", PUMP, "-o", "json") == EXIT_OK
    report = cli.json()
    assert report["asset"]["assetId"] == PUMP and report["errors"] == {}
    assert report["typeChain"] == ["demo.Pump", "demo.Machine", "core.basicdevice", "core.basicasset"]
    assert {"name": "ratedFlow", "value": 100.0, "unit": "m3/h", "dataType": "DOUBLE"} in report["variables"]
    aspects = {a["name"]: a for a in report["aspects"]}
    velocity = next(v for v in aspects["Vibration"]["variables"] if v["name"] == "velocityRms")
    assert velocity["latest"]["time"].startswith("2025-06-16T08:00:00")
    assert velocity["latest"]["quality"] is not None and isinstance(velocity["latest"]["value"], float)
    assert len(velocity["trend24h"]) == 24
    year = next(v for v in aspects["Nameplate"]["variables"] if v["name"] == "year")
    assert year["value"] == 2021  # "2021" converted by dataType INT


def test_the_24_h_trend_ends_at_the_services_hour_on_a_fast_clock(sim) -> None:
    """Issue 7 section 1: a local clock 2 h fast put the trend's last hours in the service's future."""
    cli = Cli(sim)
    cli.services.clock = Clock(FROZEN_TIME + 7200)
    assert cli("show", PUMP, "-o", "json") == EXIT_OK
    aspects = {a["name"]: a for a in cli.json()["aspects"]}
    velocity = next(v for v in aspects["Vibration"]["variables"] if v["name"] == "velocityRms")
    trend = velocity["trend24h"]
    assert len(trend) == 24 and trend[-1] is not None and trend[-2] is not None


def test_show_csv_parses_back(cli: Cli) -> None:
    assert cli("show", PUMP, "-o", "csv") == EXIT_OK
    rows = cli.csv()
    assert list(rows[0]) == ["section", "aspect", "name", "value", "unit", "dataType", "time", "quality"]
    latest = [r for r in rows if r["section"] == "latest" and r["name"] == "flow"]
    assert latest and latest[0]["unit"] == "m3/h" and latest[0]["time"].startswith("2025-06-16")


def test_show_a_missing_asset_is_not_found(cli: Cli) -> None:
    assert cli("show", "0" * 32) == EXIT_NOT_FOUND
    assert "not found" in cli.err


def test_show_without_time_series_permission_keeps_the_other_sections(sim) -> None:
    cli = Cli(sim, NO_TS_CLIENT, NO_TS_SECRET)
    assert cli("show", PUMP) == EXIT_OK
    assert "Pump ER-1104" in cli.out and "ratedFlow" in cli.out
    assert "latest values of Vibration: no permission to read time series" in cli.out
    assert "no permission to read aggregates" in cli.err


# -- tree and types ----------------------------------------------------------------------------------------


def test_tree_prints_the_hierarchy_indented(cli: Cli) -> None:
    assert cli("tree", "--depth", "2") == EXIT_OK
    lines = cli.out.splitlines()
    assert lines[0].startswith("demo  [core.tenant]")
    assert any(line.startswith("├─ Chicago  [Site]") for line in lines)
    assert any(line.startswith("│  ├─ Hall CH1  [Hall]") and "⇆ shared" in line for line in lines)
    assert not any("Line" in line for line in lines)  # two levels only


def test_tree_limit_json_and_csv(cli: Cli) -> None:
    assert cli("tree", LINE, "--depth", "1", "--limit", "2") == EXIT_OK
    assert cli.out.splitlines()[-1].endswith("more (raise --limit)")
    assert cli("tree", LINE, "--depth", "1", "-o", "json") == EXIT_OK
    node = cli.json()
    assert node["assetId"] == LINE and PUMP in {c["assetId"] for c in node["children"]}
    assert cli("tree", "--depth", "1", "--shared", "-o", "csv") == EXIT_OK
    rows = cli.csv()
    assert rows[0]["depth"] == "0" and rows[0]["assetId"] == ROOT
    assert "Supplier Equipment" in {r["name"] for r in rows}


def test_types_table_json_and_csv(cli: Cli) -> None:
    assert cli("types") == EXIT_OK
    assert any(line.split()[:2] == ["demo.DosingPump", "DosingPump"] for line in cli.out.splitlines())
    assert cli("types", "--exploded", "-o", "json") == EXIT_OK
    pump = next(t for t in cli.json() if t["id"] == "demo.Pump")
    assert pump["parentTypeId"] == "demo.Machine"
    assert {"criticality", "ratedFlow"} <= {v["name"] for v in pump["variables"]}  # inherited included
    assert cli("types", "--aspects", "-o", "csv") == EXIT_OK
    vibration = next(r for r in cli.csv() if r["id"] == "demo.PumpVibration")
    assert vibration["category"] == "dynamic" and "velocityRms:DOUBLE[mm/s]" in vibration["variables"]


# -- writes -----------------------------------------------------------------------------------------------


def test_create_update_delete_round_trip_with_etags(cli: Cli, sim) -> None:
    assert (
        cli(
            "create",
            "--parent",
            LINE,
            "--type",
            "demo.Pump",
            "--name",
            "Pump ER-1199",
            "--var",
            "ratedFlow=150",
            "-o",
            "json",
        )
        == 0
    )
    created = cli.json()
    asset_id = created["assetId"]
    assert {"name": "ratedFlow", "value": "150"} in created["variables"]
    assert cli("update", asset_id, "--description", "spare pump", "-o", "json") == EXIT_OK
    assert cli.json()["etag"] == 1
    assert tenant(sim).assets[asset_id].description == "spare pump"
    assert cli("delete", asset_id, "--yes") == EXIT_OK
    assert f"deleted Pump ER-1199 ({asset_id})" in cli.out
    assert tenant(sim).assets[asset_id].deleted is not None


def test_writes_print_the_asset_as_a_table_or_csv(cli: Cli, sim) -> None:
    assert (
        cli("create", "--parent", LINE, "--type", "demo.Motor", "--name", "Motor ER-1198", "-o", "csv") == 0
    )
    [row] = cli.csv()
    assert row["name"] == "Motor ER-1198" and row["typeId"] == "demo.Motor" and row["parentId"] == LINE
    assert row["path"] == "demo/Erlangen/Hall ER1/Line ER11"
    assert cli("update", row["assetId"], "--external-id", "SN-9198") == EXIT_OK
    facts = dict(
        line.split(None, 1) for line in cli.out.splitlines() if line.startswith(("Etag", "External"))
    )
    assert facts["Etag"].strip() == "1" and "SN-9198" in facts["External"]
    assert tenant(sim).assets[row["assetId"]].externalId == "SN-9198"


def test_update_with_a_stale_etag_overwrites_nothing(cli: Cli, sim) -> None:
    assert cli("update", PUMP, "--description", "first") == EXIT_OK  # etag 0 -> 1
    assert cli("update", PUMP, "--description", "second", "--etag", "0") == EXIT_ERROR
    assert "someone else changed Pump ER-1104 since etag 0: nothing was overwritten" in cli.err
    assert tenant(sim).assets[PUMP].description == "first"


def test_delete_asks_and_refuses_without_a_terminal_or_a_yes(cli: Cli, sim) -> None:
    assert cli("delete", PUMP) == EXIT_REFUSED
    assert "add --yes" in cli.err
    assert tenant(sim).assets[PUMP].deleted is None

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert cli("delete", PUMP, stdin=Tty("n\n")) == EXIT_REFUSED
    assert tenant(sim).assets[PUMP].deleted is None
    assert cli("delete", LINE, "--yes") == EXIT_ERROR  # it has children
    assert "Line ER11 was not deleted" in cli.err and "children" in cli.err


def test_a_read_only_profile_refuses_every_write_before_sending(sim) -> None:
    cli = Cli(sim, read_only=True)
    version = tenant(sim).version
    for argv in (
        ("create", "--parent", LINE, "--type", "demo.Pump", "--name", "X"),
        ("update", PUMP, "--name", "X"),
        ("delete", PUMP, "--yes"),
        ("delete", PUMP, "--yes", "--dry-run"),
    ):
        assert cli(*argv) == EXIT_REFUSED, argv
        assert "cannot " in cli.err and ": profile sim is read-only; nothing was changed" in cli.err
        assert cli.out == ""
    assert tenant(sim).version == version


def test_a_client_without_write_permission_is_refused(sim) -> None:
    cli = Cli(sim, DEMO_READONLY_CLIENT_ID, DEMO_READONLY_CLIENT_SECRET)
    assert cli("update", PUMP, "--name", "X") == EXIT_REFUSED
    assert tenant(sim).assets[PUMP].name == "Pump ER-1104"


def test_the_profile_comes_from_the_option_the_environment_or_the_default(sim, paths: AppPaths) -> None:
    """As for ``ihub keys``: ``--profile`` > ``IHUB_*`` overrides > the default profile."""
    wrong = "FAKE-wrong-secret-for-the-default-profile"

    def ihub(*argv: str, environ: dict[str, str] | None = None, profiles: bool = True) -> tuple[int, str]:
        store = ProfileStore(None)
        secrets = SecretStore(paths, environ=environ or {})  # the keyring is an in-memory one in tests
        if profiles:
            for name, secret in (("sim", wrong), ("good", DEMO_CLIENT_SECRET)):
                store.add(
                    Profile(
                        name=name,
                        gateway=DEMO_LOCAL_URL,
                        token_url=f"{DEMO_LOCAL_URL}/oauth/token",
                        client_id=DEMO_CLIENT_ID,
                        tenant="demo",
                    )
                )
                secrets.set(name, secret)
            store.set_default("sim")
        services = Services(
            paths=paths,
            profiles=store,
            secrets=secrets,
            environ=environ or {},
            transport_factory=lambda: sim_transport(sim),
            clock=Clock(FROZEN_TIME),
        )
        args = build_parser(list(argv)).parse_args(list(argv))
        out, err = io.StringIO(), io.StringIO()
        code = run(args, services, stdin=io.StringIO(""), stdout=out, stderr=err)
        return code, out.getvalue() + err.getvalue()

    listing = ("assets", "ls", "--parent", LINE, "-o", "json")
    code, text = ihub(*listing)  # the default profile, whose stored secret is wrong
    assert code != EXIT_OK and "rejected the client id or secret" in text
    code, text = ihub("--profile", "good", *listing)
    assert code == EXIT_OK and PUMP in text
    code, text = ihub(*listing, environ={"IHUB_CLIENT_SECRET": DEMO_CLIENT_SECRET})
    assert code == EXIT_OK and PUMP in text
    environ = {
        "IHUB_GATEWAY": DEMO_LOCAL_URL,
        "IHUB_TOKEN_URL": f"{DEMO_LOCAL_URL}/oauth/token",
        "IHUB_CLIENT_ID": DEMO_CLIENT_ID,
        "IHUB_CLIENT_SECRET": DEMO_CLIENT_SECRET,
    }
    code, text = ihub(*listing, environ=environ, profiles=False)  # no saved profile at all
    assert code == EXIT_OK and PUMP in text
    code, text = ihub("--profile", "ghost", *listing)
    assert code == EXIT_NOT_FOUND and "ghost" in text


# -- dry runs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, first",
    [
        (("ls", "--name", "pump"), f"curl '{DEMO_LOCAL_URL}/api/assetmanagement/v3/"),
        (("ls", "--all", "-o", "json"), f"curl '{DEMO_LOCAL_URL}/api/assetmanagement/v3/"),
        (("show", PUMP), f"curl {DEMO_LOCAL_URL}/api/assetmanagement/v3/assets/{PUMP}"),
        (("tree", "--depth", "1"), f"curl {DEMO_LOCAL_URL}/api/assetmanagement/v3/assets/root"),
        (("types", "--aspects"), f"curl '{DEMO_LOCAL_URL}/api/assetmanagement/v3/"),
        (("create", "--parent", LINE, "--type", "demo.Pump", "--name", "P"), "curl -X POST"),
        (("update", PUMP, "--name", "P"), f"curl {DEMO_LOCAL_URL}/api/assetmanagement/v3/assets/{PUMP}"),
        (("delete", PUMP), f"curl {DEMO_LOCAL_URL}/api/assetmanagement/v3/assets/{PUMP}"),
    ],
)
def test_dry_run_prints_curl_lines_and_changes_nothing(
    cli: Cli, sim, argv: tuple[str, ...], first: str
) -> None:
    version = tenant(sim).version
    requests = tenant(sim).counters.get("requests", 0)
    assert cli(*argv, "--dry-run") == EXIT_OK, cli.err
    lines = cli.out.splitlines()
    assert lines and all(line.startswith("curl ") for line in lines), cli.out
    assert lines[0].startswith(first)
    assert all('"Authorization: Bearer $TOKEN"' in line for line in lines)
    assert tenant(sim).version == version and tenant(sim).counters.get("requests", 0) == requests
    if argv[0] in ("update", "delete"):
        assert "if-match: $ETAG" in lines[-1]
