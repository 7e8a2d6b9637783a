"""Read-only, production and presentation on the command line (issue 12 §2).

``ihub --read-only ...`` (and ``IHUB_READ_ONLY=1``) refuses every change of every group with exit 5 and a
plain sentence, before anything is sent; a production profile needs the name typed on a terminal or
``--confirm NAME`` (``--yes`` alone is refused); ``ihub --present ...`` masks identifiers in the output."""

from __future__ import annotations

import inspect
import io
from importlib import import_module
from pathlib import Path

import pytest

from tests.conftest import Clock
from tui.cli import build_parser, main
from tui.cli.common import EXIT_OK, EXIT_REFUSED
from tui.config.paths import AppPaths
from tui.config.profiles import Profile, ProfileStore
from tui.config.settings import Settings
from tui.devtools.screenshots import FROZEN_TIME
from tui.services import DEMO_LOCAL_URL, Services, SessionSecretStore
from tui.sim.app import create_app
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.transport import sim_transport

PUMP = "ff0d65e90c1000b7343ac254a953c927"  # Pump ER-1104
LINE = "4edcd35050035f77b7eb4b597514eda8"  # Line ER11


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def sim():
    return create_app(SimConfig(clock=Clock(FROZEN_TIME)))


class Cli:
    """Any ``ihub`` command line (root options included) against the simulator, one profile ``sim``."""

    def __init__(self, sim, paths: AppPaths, environ: dict[str, str] | None = None, **profile) -> None:
        self.sim = sim
        store = ProfileStore(None)
        store.add(
            Profile(
                name="sim",
                gateway=DEMO_LOCAL_URL,
                token_url=f"{DEMO_LOCAL_URL}/oauth/token",
                client_id=DEMO_CLIENT_ID,
                tenant="demo",
                **profile,
            )
        )
        store.set_default("sim")
        secrets = SessionSecretStore()
        secrets.set("sim", DEMO_CLIENT_SECRET)
        self.services = Services(
            paths=paths,
            profiles=store,
            secrets=secrets,
            environ=environ or {},
            transport_factory=lambda: sim_transport(sim),
            clock=Clock(FROZEN_TIME),
        )
        self.out = self.err = ""

    def __call__(self, *argv: str, stdin: io.StringIO | None = None) -> int:
        args = build_parser(argv).parse_args(argv)
        self.services.session_read_only = False  # each command line is a new process
        run = import_module(f"tui.cli.{args.command}").run
        out, err = io.StringIO(), io.StringIO()
        streams = {"stdin": stdin or io.StringIO(""), "stdout": out, "stderr": err}
        accepted = inspect.signature(run).parameters
        code = run(args, self.services, **{k: v for k, v in streams.items() if k in accepted})
        self.out, self.err = out.getvalue(), err.getvalue()
        assert "Traceback" not in self.out + self.err
        return code

    @property
    def state(self):
        return self.sim.state.tenant


def changes(tmp_path: Path) -> list[list[str]]:
    """One command line per change of every group (the files they name exist)."""
    put = tmp_path / "values.csv"
    put.write_text("_time,pressure\n2025-06-16T07:00:00.000Z,1.5\n")
    cert, key = tmp_path / "ca" / "ca.pem", tmp_path / "ca" / "ca.key"
    return [
        ["assets", "create", "--parent", LINE, "--type", "demo.Pump", "--name", "X"],
        ["assets", "update", PUMP, "--name", "X"],
        ["assets", "delete", PUMP, "--yes"],
        ["certs", "register", "--ca-cert", str(cert), "--ca-key", str(key)],
        ["certs", "delete", "some-ca", "--yes"],
        ["certs", "agent", "create", "agent-1", "--out", str(tmp_path / "agents")],
        ["certs", "agent", "delete", "some-agent", "--yes"],
        ["certs", "publish", "--cert", str(cert), "--key", str(key), "temperature=1"],
        ["ts", "put", PUMP, "PumpData", str(put)],
        ["keys", "add", "other", "--gateway", "eu1", "--client-id", "x-y-1.0.0-z", "--secret-stdin"],
        ["keys", "remove", "sim"],
        ["keys", "use", "sim"],
    ]


def test_read_only_session_refuses_every_change_of_every_group(sim, paths, tmp_path: Path) -> None:
    cli = Cli(sim, paths)
    assert (
        cli("certs", "create-ca", "--cn", "Plant CA", "--key-type", "ec256", "--out", str(tmp_path / "ca"))
        == 0
    )
    for argv in changes(tmp_path):
        code = cli("--read-only", *argv, stdin=io.StringIO("FAKE-other-secret-not-real\n"))
        assert code == EXIT_REFUSED, (argv, cli.err)
        assert "cannot " in cli.err and ": the session is read-only (--read-only); nothing" in cli.err, argv
    state = cli.state
    assert state.assets[PUMP].name == "Pump ER-1104" and state.assets[PUMP].deleted is None
    assert not state.ca_certificates and not state.agent_certificates
    assert cli.services.profiles.names() == ["sim"] and not (tmp_path / "agents").exists()
    # Reading is untouched, and without the option the same change goes through.
    assert cli("--read-only", "assets", "show", PUMP) == EXIT_OK
    assert cli("assets", "update", PUMP, "--name", "Renamed") == EXIT_OK
    assert cli.state.assets[PUMP].name == "Renamed"


def test_ihub_read_only_in_the_environment_and_a_read_only_profile(sim, paths) -> None:
    by_env = Cli(sim, paths, environ={"IHUB_READ_ONLY": "1"})
    assert by_env("assets", "delete", PUMP, "--yes") == EXIT_REFUSED
    by_profile = Cli(sim, paths, read_only=True)
    assert by_profile("assets", "delete", PUMP, "--yes") == EXIT_REFUSED
    assert "cannot delete an asset: profile sim is read-only" in by_profile.err
    assert by_profile("keys", "use", "sim") == EXIT_OK  # its profile stays editable
    assert sim.state.tenant.assets[PUMP].deleted is None


def test_the_proxy_follows_the_read_only_session(sim, paths) -> None:
    cli = Cli(sim, paths)
    assert cli("--read-only", "proxy", "--dry-run") == EXIT_OK
    assert "read-only (GET and HEAD)" in cli.out
    assert cli("proxy", "--dry-run") == EXIT_OK and "read and write" in cli.out


def test_production_needs_the_name_typed_or_confirmed(sim, paths) -> None:
    cli = Cli(sim, paths, production=True)
    assert cli("assets", "delete", PUMP, "--yes") == EXIT_REFUSED
    assert "profile sim is marked production" in cli.err and "--yes is not enough" in cli.err
    assert "--confirm 'Pump ER-1104'" in cli.err
    assert cli("assets", "delete", PUMP, "--confirm", "Pump ER-1105") == EXIT_REFUSED
    # A terminal: the name typed wrong, then right.
    assert cli("assets", "delete", PUMP, stdin=Tty("y\n")) == EXIT_REFUSED
    assert "Type the name to confirm" in cli.err and sim.state.tenant.assets[PUMP].deleted is None
    assert cli("assets", "delete", PUMP, stdin=Tty("Pump ER-1104\n")) == EXIT_OK
    assert sim.state.tenant.assets[PUMP].deleted is not None


def test_production_by_tenant_pattern_and_for_profiles_and_agents(sim, paths, tmp_path: Path) -> None:
    Settings(paths.settings_file).set("safety", "production_tenants", ["*-prod", "demo"])
    cli = Cli(sim, paths)
    assert cli("keys", "list", "-o", "json") == EXIT_OK and '"production": true' in cli.out
    assert cli("certs", "agent", "create", "press-4", "--out", str(tmp_path)) == EXIT_OK
    (agent_id,) = sim.state.tenant.agent_certificates
    assert cli("certs", "agent", "delete", agent_id, "--yes") == EXIT_REFUSED
    assert "matches the production pattern 'demo'" in cli.err
    assert cli("certs", "agent", "delete", agent_id, "--confirm", "press-4") == EXIT_OK
    assert not sim.state.tenant.agent_certificates
    assert cli("keys", "remove", "sim", "--yes") == EXIT_REFUSED and "sim" in cli.services.profiles
    assert cli("keys", "remove", "sim", "--confirm", "sim") == EXIT_OK
    assert "sim" not in cli.services.profiles


def test_keys_add_production_is_saved(paths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("FAKE-plant-secret-not-real\n"))
    argv = ["keys", "add", "plant", "--gateway", "eu1", "--client-id", "acme-ihub-1.0.0-x", "--secret-stdin"]
    assert main([*argv, "--production"]) == EXIT_OK
    assert ProfileStore(paths.profiles_file).get("plant").production
    monkeypatch.setattr("sys.stdin", io.StringIO("FAKE-plant-secret-not-real\n"))
    assert main(["--read-only", *argv[:2], "other", *argv[3:]]) == EXIT_REFUSED
    assert "other" not in ProfileStore(paths.profiles_file)


def test_present_masks_what_a_command_prints(paths, capsys) -> None:
    store = ProfileStore(paths.profiles_file)
    store.add(
        Profile(
            name="plant",
            gateway="https://gateway.eu1.mindsphere.io",
            token_url="https://acme.piam.eu1.mindsphere.io/oauth/token",
            client_id="acme-ihub-1.0.0-x1",
            tenant="acme",
        )
    )
    assert main(["keys", "list"]) == EXIT_OK
    plain = capsys.readouterr().out
    assert "acme-ihub-1.0.0-x1" in plain
    assert main(["--present", "keys", "list"]) == EXIT_OK
    masked = capsys.readouterr().out
    assert "acme" not in masked and "tenant-" in masked and "client-" in masked and "plant" in masked


def test_root_options_reach_the_app_and_the_demo(sim, paths) -> None:
    from tui.cli.common import session_services

    for argv in (["--read-only", "--present", "demo"], ["--read-only", "--present"]):
        args = build_parser(argv).parse_args(argv)
        args.masker = None
        from tui.cli import _present

        restore = _present(args, wrap_output=False)
        try:
            services = session_services(args, Cli(sim, paths).services)
        finally:
            restore()
        assert services.read_only and services.masker is args.masker is not None
        assert "demo-ihub-1.0.0-sim" in services.masker.known  # the profiles are learned at once
    # Without the options nothing is switched on.
    args = build_parser(["demo"]).parse_args(["demo"])
    services = session_services(args, Cli(sim, paths).services)
    assert not services.read_only and services.masker is None
