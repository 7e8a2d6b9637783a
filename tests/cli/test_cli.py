"""The ``ihub`` command line: version, sim and demo wiring, the app's profile, and no Textual for ``keys``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

import tui.cli as cli
from tui import __version__
from tui.cli import build_parser, main
from tui.config.paths import AppPaths
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tui.sim.server import config_from_args


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"ihub {__version__}"


def test_sim_options_parse_into_a_sim_config() -> None:
    argv = [
        "sim",
        "--port",
        "9911",
        "--assets",
        "500",
        "--client-id",
        "acme-x-1.0.0-a",
        "--client-secret",
        "FAKE-s",
    ]
    args = build_parser(argv).parse_args(argv)
    assert (args.command, args.host, args.port) == ("sim", "127.0.0.1", 9911)
    config = config_from_args(args)
    assert config.assets == 500
    assert config.clients[0].client_id == "acme-x-1.0.0-a"
    # Without options `ihub sim` listens on the port the Makefile documents.
    assert build_parser(["sim"]).parse_args(["sim"]).port == 8765


def test_sim_serves_the_parsed_config_on_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    calls = []
    monkeypatch.setattr(
        "tui.sim.server.serve_forever",
        lambda config, host, port, **mqtt: calls.append((config, host, port, mqtt)),
    )
    assert main(["sim", "--port", "9912", "--seed", "7"]) == 0
    config, host, port, mqtt = calls[0]
    assert (host, port, config.seed) == ("127.0.0.1", 9912, 7)
    # The MQTT broker runs by default on a free port; --mqtt-port and --no-mqtt choose otherwise.
    assert mqtt == {"mqtt_port": 0, "mqtt_root_ca": None}
    root_ca = str(tmp_path / "root.pem")
    assert main(["sim", "--mqtt-port", "18883", "--mqtt-root-ca", root_ca]) == 0
    assert calls[1][3] == {"mqtt_port": 18883, "mqtt_root_ca": root_ca}
    assert main(["sim", "--no-mqtt"]) == 0
    assert calls[2][3]["mqtt_port"] is None
    assert main(["sim", "--mqtt-port", "70000"]) == 2


def test_sim_refuses_bad_options_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--fault-rate", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ihub: ") and "--fault-rate" in err and err.count("\n") == 1
    assert main(["sim", "--host", "0.0.0.0"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_demo_opens_the_app_on_a_running_simulator_and_stops_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    def fake_run(services, profile, mouse=None):
        demo = services.profiles.get("demo")
        seen.update(services=services, profile=profile, demo=demo)
        # While the app runs the simulator answers on loopback with the demo credentials.
        response = httpx.post(
            demo.token_url,
            data={"grant_type": "client_credentials"},
            auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
            trust_env=False,
        )
        seen["status"] = response.status_code
        # The simulator's MQTT broker listens too, and its root CA file is there for the app's check: the
        # broker starts just after the HTTP API, and the app does not wait for it (issue 6 "Speed").
        host, _, port = services.mqtt_broker.rpartition(":")
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection((host, int(port)), timeout=5):
                    break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the demo's MQTT broker never listened"
                time.sleep(0.05)
        seen["root_ca"] = services.mqtt_root_ca
        seen["root_ca_pem"] = services.mqtt_root_ca.read_text()
        return 0

    monkeypatch.setattr(cli, "run_tui", fake_run)
    assert main(["demo", "--assets", "20"]) == 0
    services, demo = seen["services"], seen["demo"]
    assert seen["profile"] == "demo" and services.demo
    assert demo.gateway.startswith("http://127.0.0.1:") and demo.client_id == DEMO_CLIENT_ID
    assert seen["status"] == 200
    assert seen["root_ca_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert not seen["root_ca"].exists()  # a temporary file, removed with the demo
    # The demo keeps its secret in the session and saves no profile.
    assert services.secrets.get(demo).kind == "session"
    assert services.profiles.path is None
    assert not AppPaths.default().profiles_file.exists()
    # The server was stopped when the app ended.
    with pytest.raises(httpx.TransportError):
        httpx.post(demo.token_url, trust_env=False, timeout=2)


def test_plain_ihub_opens_the_app_with_the_saved_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}
    monkeypatch.setattr(
        cli,
        "run_tui",
        lambda services, profile, mouse=None: (
            seen.update(services=services, profile=profile, mouse=mouse) or 0
        ),
    )
    assert main(["--profile", "prod"]) == 0
    assert seen["profile"] == "prod"
    assert not seen["services"].demo
    assert seen["services"].profiles.path == AppPaths.default().profiles_file
    assert seen["mouse"] is None  # the [ui] mouse setting decides
    assert main(["--no-mouse"]) == 0
    assert seen["mouse"] is False


def _imported_modules(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-X", "importtime", "-m", "tui", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
        timeout=60,
    )
    modules = {
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    return result, modules


def test_keys_list_imports_neither_textual_nor_uvicorn() -> None:
    result, modules = _imported_modules("keys", "list")
    assert result.returncode == 0, result.stderr[-500:]
    assert "tui.config.profiles" in modules
    assert not any(name == "textual" or name.startswith("textual.") for name in modules)
    assert not any(name == "uvicorn" or name.startswith("uvicorn.") for name in modules)


HEAVY = ("httpx", "keyring", "cryptography", "textual")


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_version_and_help_import_nothing_heavy(args: tuple[str, ...]) -> None:
    result, modules = _imported_modules(*args)
    assert result.returncode == 0, result.stderr[-500:]
    assert "tui.cli" in modules
    assert _heavy(modules) == []
    # No group module is imported for the root help: only the one named on the command line is.
    assert not any(m.startswith("tui.cli.") for m in modules)


def test_a_listing_with_the_secret_in_the_environment_loads_no_keyring_crypto_or_httpx_cli() -> None:
    """``ihub assets ls`` with the binding keys in IHUB_* variables (a deployment, the benchmark) reads no
    keyring and no vault, so neither is imported; nor is httpx's own command line tool (rich, click,
    pygments), which httpx would import at start-up."""
    import json

    from tui.sim.config import SimConfig
    from tui.sim.server import SimServer

    server = SimServer(SimConfig())
    server.start()
    try:
        env = {
            **os.environ,
            "IHUB_GATEWAY": server.url,
            "IHUB_TOKEN_URL": f"{server.url}/oauth/token",
            "IHUB_CLIENT_ID": DEMO_CLIENT_ID,
            "IHUB_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        }
        result = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
            [sys.executable, "-X", "importtime", "-m", "tui", "assets", "ls", "-o", "json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-800:]
    assert json.loads(result.stdout)[0]["assetId"]
    modules = {
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "httpx" in modules
    loaded = sorted(
        m for m in modules if m.split(".")[0] in ("keyring", "cryptography", "rich", "click", "pygments")
    )
    assert loaded == []


def test_only_the_named_group_is_imported() -> None:
    result, modules = _imported_modules("sim", "--help")
    assert result.returncode == 0, result.stderr[-500:]
    assert "tui.sim.options" in modules  # what the sim group needs for its options
    assert "uvicorn" not in modules  # the server itself loads only when it runs
    assert "tui.cli.keys" not in modules and "tui.config.secrets" not in modules
    assert "--fault-rate" in result.stdout
    assert not any(m == "textual" or m.startswith("textual.") for m in modules)


def test_root_help_lists_every_group_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for group in cli.GROUPS:
        assert group.name in out
    assert "exit codes" in out and "4 not found" in out


@pytest.mark.parametrize(
    ("argv", "group"),
    [
        (["keys", "list"], "keys"),
        (["--profile", "keys", "sim"], "sim"),  # a profile called "keys" is not the group
        (["--profile=x", "demo"], "demo"),
        (["--version"], None),
        (["nope"], None),
    ],
)
def test_the_group_is_found_after_root_options(argv: list[str], group: str | None) -> None:
    found = cli.group_named(argv)
    assert (found.name if found else None) == group


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_sim_refuses_a_port_out_of_range_without_a_traceback(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", "--port", port]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ihub: ") and "between 0 and 65535" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["assets", "ls"],
        ["ts", "latest", "a" * 32, "Vibration"],
        ["certs", "ls"],
        ["proxy", "--dry-run"],
        ["keys", "test"],
    ],
)
def test_an_unknown_profile_is_not_found_in_every_group(argv: list[str], capsys) -> None:
    """The same exit code for every command group (issue 8 §3): --profile naming no profile is 4."""
    from tui.cli.common import EXIT_NOT_FOUND

    assert main(["--profile", "ghost", *argv]) == EXIT_NOT_FOUND
    err = capsys.readouterr().err
    assert "no profile named 'ghost'" in err and "Traceback" not in err


# -- issue 7 section 5: every text argument through the cleaning rule ---------------------------------------
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["assets", "show", "e793c0198c59\u200b"],
            "ihub: the asset id contains an invisible character, U+200B, at position 13",
        ),
        (
            ["assets", "ls", "--name", "Pump\u00a01"],
            "ihub: the name contains an invisible character, U+00A0, at position 5",
        ),
        (
            ["ts", "latest", "a1", "Vibration", "--var", "rms", "--var", "\u2060peak"],
            "ihub: the var contains an invisible character, U+2060, at position 1",
        ),
        (["keys", "use", "plant\x07"], "ihub: the name contains a control character, U+0007, at position 6"),
        (
            ["--profile", "pl\u200dant", "assets", "ls"],
            "ihub: the profile contains an invisible character, U+200D, at position 3",
        ),
    ],
)
def test_an_invisible_character_in_an_argument_is_named_before_anything_runs(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.services import Services

    monkeypatch.setattr(Services, "default", lambda: pytest.fail("nothing may run"))
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == message


def test_a_bom_and_spaces_around_arguments_are_dropped() -> None:
    from tui.cli.common import clean_arguments

    argv = ["ts", "latest", "\ufeff a1 ", "Vibration\n", "--var", " rms", "--var", "flow\t"]
    args = build_parser(argv).parse_args(argv)
    clean_arguments(args)
    assert (args.asset_id, args.aspect, args.var) == ("a1", "Vibration", ["rms", "flow"])
    argv = ["assets", "create", "--parent", "p", "--type", "t", "--name", "Pump 7", "--description", "a\tb"]
    args = build_parser(argv).parse_args(argv)
    clean_arguments(args)
    assert args.name == "Pump 7" and args.description == "a\tb"  # spaces and tabs are ordinary in text


def test_a_stray_argument_is_told_with_the_usage_of_the_command_it_was_given_to(capsys) -> None:
    from tui.cli import main

    with pytest.raises(SystemExit) as raised:
        main(["certs", "check", "--cert", "a.pem", "--key", "a.key", "stray"])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ihub certs check") and "unrecognized arguments: stray" in err
    with pytest.raises(SystemExit):
        main(["--bogus"])
    assert capsys.readouterr().err.startswith("usage: ihub [")
