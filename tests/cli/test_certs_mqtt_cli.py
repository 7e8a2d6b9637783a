"""``ihub certs check`` and ``ihub certs publish`` against the simulator's broker on loopback (issue 11 §2,
§3): the steps as they are printed, the plain cause, the exit codes (0 only when accepted, 6 refused, 2 bad
input), JSON output, the demo's broker as the default, and values that arrive in the time series.

Certificates are made with the CLI itself (create-ca, register, issue, agent create), as a user would."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.cli.test_certs_cli import Cli, make_ca
from tui.cli.common import EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE
from tui.config.paths import AppPaths
from tui.pki import load_private_key
from tui.services import Services
from tui.sim.app import create_app
from tui.sim.broker import SimBroker
from tui.sim.config import SimConfig


class MqttCli(Cli):
    """``Cli`` whose services know the simulator's broker, as the demo's do (when ``demo_broker``)."""

    broker: SimBroker
    demo_broker = False

    def services(self) -> Services:
        services = super().services()
        if self.demo_broker:
            services.mqtt_broker = self.broker.address
            services.mqtt_root_ca = self.broker.root_ca_file
        return services

    def mqtt(self, command: str, cert: Path, key: Path, *rest: str, stdin: str = "") -> int:
        where = ["--broker", self.broker.address, "--root-ca", str(self.broker.root_ca_file)]
        return self(command, "--cert", str(cert), "--key", str(key), *where, *rest, stdin=stdin)


@pytest.fixture
def cli(paths: AppPaths) -> Iterator[MqttCli]:
    app = create_app(SimConfig())
    cli = MqttCli(paths, app)
    cli.broker = SimBroker(app)
    cli.broker.start()
    try:
        yield cli
    finally:
        cli.broker.stop()


def device(cli: MqttCli, folder: Path, cn: str = "device01", *, register: bool = True) -> tuple[Path, Path]:
    """A device certificate and key from a CA made here, registered and verified (or, with
    ``register=False``, never uploaded: issued offline)."""
    cert, key = make_ca(cli, folder / "ca", cn=f"CA for {cn}")
    if register:
        assert cli("register", "--ca-cert", str(cert), "--ca-key", str(key)) == EXIT_OK, cli.err
    offline = [] if register else ["--offline", "--tenant", "demo"]
    out = folder / "devices"
    argv = ["issue", "--ca-cert", str(cert), "--ca-key", str(key), "--cn", cn, "--out", str(out)]
    assert cli(*argv, "--key-type", "ec256", *offline) == EXIT_OK, cli.err
    return out / f"{cn}-chain.pem", out / f"{cn}.key"


def test_check_accepted_prints_each_step_and_exits_0(cli: MqttCli, tmp_path: Path) -> None:
    cert, key = device(cli, tmp_path)
    assert cli.mqtt("check", cert, key, "--publish") == EXIT_OK, cli.out + cli.err
    lines = cli.out.splitlines()
    steps = [line for line in lines if line.startswith("[")]
    assert [s.split("]")[1].split(":")[0].strip() for s in steps] == [
        "Read the certificate, key and root CA",
        "Resolve the broker's name",
        "Open a TCP connection",
        "TLS handshake, broker certificate checked",
        "Client certificate accepted",
        "MQTT CONNECT",
        "Publish a test time-series message",
    ]
    assert all(s.startswith("[  ok]") for s in steps)
    assert "client id demo_device01" in cli.out  # the tenant came from the profile
    assert lines[-1].startswith("accepted:")


def test_check_json_and_refusals_exit_6_with_the_cause(cli: MqttCli, tmp_path: Path) -> None:
    cert, key = device(cli, tmp_path)
    assert cli.mqtt("check", cert, key, "-o", "json") == EXIT_OK
    body = json.loads(cli.out)
    assert body["accepted"] and body["clientId"] == "demo_device01" and body["cause"] is None
    assert [s["step"] for s in body["steps"]][-1] == "connect"

    assert cli.mqtt("check", cert, key, "-o", "csv") == EXIT_OK
    assert cli.out.splitlines()[0] == "step,state,detail,seconds" and "connect,ok," in cli.out

    assert cli.mqtt("check", cert, key, "--client-id", "demo_other", "-o", "json") == EXIT_CHECK_FAILED
    body = json.loads(cli.out)
    assert body["cause"] == "wrong-client-id" and body["failedStep"] == "connect"

    stranger_cert, stranger_key = device(cli, tmp_path / "stranger", "device02", register=False)
    assert cli.mqtt("check", stranger_cert, stranger_key) == EXIT_CHECK_FAILED
    assert "cause: not-issued-by-verified-ca" in cli.out
    assert "not one of the tenant's CA certificates" in cli.out  # the profile's tenant was asked


def test_check_names_an_unverified_ca(cli: MqttCli, tmp_path: Path) -> None:
    cert, key = make_ca(cli, tmp_path / "ca", cn="Pending CA")
    assert cli("register", "--ca-cert", str(cert)) == EXIT_OK  # no key: uploaded, not verified
    ca_id = next(iter(cli.state.ca_certificates))
    out = tmp_path / "devices"
    argv = ["issue", "--ca-cert", str(cert), "--ca-key", str(key), "--cn", "device01", "--out", str(out)]
    assert cli(*argv, "--offline", "--tenant", "demo", "--key-type", "ec256") == EXIT_OK, cli.err
    assert cli.mqtt("check", out / "device01.pem", out / "device01.key") == EXIT_CHECK_FAILED
    assert "uploaded but not verified" in cli.out and f"ihub certs verify {ca_id}" in cli.out


def test_port_closed_bad_broker_and_bad_files(cli: MqttCli, tmp_path: Path) -> None:
    cert, key = device(cli, tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    argv = ["check", "--cert", str(cert), "--key", str(key), "--root-ca", str(cli.broker.root_ca_file)]
    assert cli(*argv, "--broker", f"127.0.0.1:{closed}") == EXIT_CHECK_FAILED
    assert "cause: port-closed" in cli.out and "nothing is listening" in cli.out
    assert cli(*argv, "--broker", "127.0.0.1:99999") == EXIT_USAGE
    assert "port" in cli.err
    missing = tmp_path / "missing.key"
    assert cli.mqtt("check", cert, missing) == EXIT_USAGE and "does not exist" in cli.err
    other_cert, other_key = device(cli, tmp_path / "two", "device02")
    assert cli.mqtt("check", cert, other_key) == EXIT_USAGE
    assert "does not belong" in cli.out


def test_encrypted_key_with_passphrase_on_stdin(cli: MqttCli, tmp_path: Path) -> None:
    cert, key = device(cli, tmp_path)
    encrypted = tmp_path / "encrypted.key"
    pem = load_private_key(key.read_bytes()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"device key passphrase"),
    )
    encrypted.write_bytes(pem)
    assert cli.mqtt("check", cert, encrypted) == EXIT_USAGE  # no terminal to ask on
    assert "--passphrase-stdin" in cli.err
    assert (
        cli.mqtt("check", cert, encrypted, "--passphrase-stdin", stdin="device key passphrase\n") == EXIT_OK
    )


def test_the_demo_broker_is_the_default(cli: MqttCli, tmp_path: Path) -> None:
    cert, key = device(cli, tmp_path)
    cli.demo_broker = True
    assert cli("check", "--cert", str(cert), "--key", str(key)) == EXIT_OK, cli.out + cli.err
    assert f"with {cli.broker.address}" in cli.out


def test_without_a_demo_broker_the_default_is_europe_1(
    cli: MqttCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 §2: no --broker and no simulator: the Europe 1 broker, the client id from the certificate's
    CN and the profile's tenant. The name lookup is stubbed (nothing leaves this machine)."""
    import tui.flows.mqtt as mqtt_flow

    cert, key = device(cli, tmp_path)
    asked: list[tuple[str, int]] = []

    def no_network(broker: mqtt_flow.BrokerAddress) -> list[str]:
        asked.append((broker.host, broker.port))
        raise mqtt_flow.CheckFailed(mqtt_flow.Cause.NAME_NOT_RESOLVED, f"{broker.host}: stubbed in this test")

    monkeypatch.setattr(mqtt_flow, "_resolve", no_network)
    assert cli("check", "--cert", str(cert), "--key", str(key), "-o", "json") == EXIT_CHECK_FAILED
    body = json.loads(cli.out)
    assert asked == [("mindconnectmqtt.eu1.mindsphere.io", 8883)]
    assert body["broker"] == "mindconnectmqtt.eu1.mindsphere.io:8883"
    assert body["clientId"] == "demo_device01" and body["cause"] == "name-not-resolved"


def test_publish_sends_acknowledged_messages_into_the_time_series(cli: MqttCli, tmp_path: Path) -> None:
    cert, key = device(cli, tmp_path)
    code = cli.mqtt(
        "publish", cert, key, "temperature=21.5", "level=10..20", "--every", "0.05", "--count", "3"
    )
    assert code == EXIT_OK, cli.err
    rows = [line.split() for line in cli.out.splitlines()]
    assert [r[0] for r in rows] == ["1", "2", "3"] and all("temperature=21.5" in r for r in rows)
    assert "publishing on tc/demo/demo_device01/o/mc_v3/ts" in cli.err
    agent = cli.state.mqtt_agents["demo_device01"]

    async def stored() -> list[dict]:
        for _ in range(200):
            writes = cli.state.ts_writes.get((agent.asset_id, "AgentData"), {})
            if len(writes) == 3:
                return list(writes.values())
            await asyncio.sleep(0.01)
        raise AssertionError("the three messages were not stored")

    records = asyncio.run(stored())
    assert [r["temperature"] for r in records] == [21.5] * 3 and all(10 <= r["level"] <= 20 for r in records)

    assert cli.mqtt("publish", cert, key, "temperature=1", "-o", "json") == EXIT_OK
    assert json.loads(cli.out)["values"] == {"temperature": "1"}


def test_publish_refused_or_misused(cli: MqttCli, tmp_path: Path) -> None:
    cert, key = device(cli, tmp_path / "stranger", register=False)
    assert cli.mqtt("publish", cert, key, "temperature=1") == EXIT_CHECK_FAILED
    assert "not issued by a CA certificate verified for the tenant" in cli.err or "not one of" in cli.err
    assert cli.mqtt("publish", cert, key, "temperature") == EXIT_USAGE and "VAR=VALUE" in cli.err
    assert cli.mqtt("publish", cert, key, "a=1", "--count", "2") == EXIT_USAGE
    assert cli.mqtt("publish", cert, key, "a=1", "--every", "0") == EXIT_USAGE
