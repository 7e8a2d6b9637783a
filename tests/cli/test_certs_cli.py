"""``ihub certs`` against the in-process simulator (issue 10 §4, §5, §8): every command, the output
formats, the exit codes, and the files and modes of every key written. Each call builds fresh stores,
like separate processes would; the OS keyring is the in-memory one of tests/conftest.py."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.pki.conftest import custom_ca
from tui.cli import build_parser
from tui.cli.certs import AGENT_COMMANDS, COMMANDS, run
from tui.cli.common import (
    EXIT_CHECK_FAILED,
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
)
from tui.config.paths import AppPaths
from tui.config.profiles import Profile, ProfileStore
from tui.config.secrets import SecretStore
from tui.pki import load_certificate, load_private_key, make_verification_certificate
from tui.pki.inspection import fingerprint_sha256
from tui.services import Services
from tui.sim.app import create_app
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.transport import sim_transport

GATEWAY = "https://gateway.sim.test"


class Cli:
    """Runs ``ihub certs ...`` with fresh stores each time; remembers the last output."""

    def __init__(self, paths: AppPaths, sim_app, *, read_only: bool = False) -> None:
        self.paths = paths
        self.sim = sim_app
        self.parser = build_parser(["certs"])
        store = ProfileStore(paths.profiles_file)
        store.add(
            Profile(
                name="sim",
                gateway=GATEWAY,
                token_url=f"{GATEWAY}/oauth/token",
                client_id=DEMO_CLIENT_ID,
                tenant="demo",
                read_only=read_only,
            )
        )
        store.set_default("sim")
        SecretStore(paths, environ={}).set("sim", DEMO_CLIENT_SECRET)
        self.out = ""
        self.err = ""

    def services(self) -> Services:
        return Services(
            paths=self.paths,
            profiles=ProfileStore(self.paths.profiles_file),
            secrets=SecretStore(self.paths, environ={}),
            environ={},
            transport_factory=lambda: sim_transport(self.sim),
        )

    def __call__(self, *argv: str, stdin: str = "", prompt: Callable[[str], str] | None = None) -> int:
        out, err = io.StringIO(), io.StringIO()
        args = self.parser.parse_args(["certs", *argv])
        code = run(args, self.services(), stdin=io.StringIO(stdin), stdout=out, stderr=err, prompt=prompt)
        self.out, self.err = out.getvalue(), err.getvalue()
        assert "Traceback" not in self.out + self.err
        assert "PRIVATE KEY" not in self.out + self.err  # never a private key on the terminal
        return code

    @property
    def state(self):
        return self.sim.state.tenant


@pytest.fixture
def sim_app():
    return create_app(SimConfig())


@pytest.fixture
def cli(paths: AppPaths, sim_app) -> Cli:
    return Cli(paths, sim_app)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def make_ca(cli: Cli, folder: Path, cn: str = "Plant CA") -> tuple[Path, Path]:
    assert cli("create-ca", "--cn", cn, "--key-type", "ec256", "--out", str(folder)) == EXIT_OK, cli.err
    return folder / "ca.pem", folder / "ca.key"


def ca_ids(cli: Cli) -> list[str]:
    return list(cli.state.ca_certificates)


# -- the whole flow -----------------------------------------------------------------------------------


def test_create_register_list_show_delete(cli: Cli, tmp_path: Path, paths: AppPaths) -> None:
    # create-ca: the key first, 0600, the certificate 0644; nothing uploaded.
    assert (
        cli(
            "create-ca", "--cn", "Plant CA", "--org", "ACME", "--country", "de", "--out", str(tmp_path / "ca")
        )
        == 0
    )
    cert_file, key_file = tmp_path / "ca" / "ca.pem", tmp_path / "ca" / "ca.key"
    assert mode(key_file) == 0o600 and mode(cert_file) == 0o644 and mode(tmp_path / "ca") == 0o700
    certificate = load_certificate(cert_file.read_bytes())
    key = load_private_key(key_file.read_bytes())
    assert certificate.subject.rfc4514_string() == "CN=Plant CA,O=ACME,C=DE"
    assert "ihub certs register --ca-cert" in cli.out and not ca_ids(cli)
    # create-ca refuses to overwrite.
    assert cli("create-ca", "--cn", "Other", "--out", str(tmp_path / "ca")) == EXIT_USAGE
    assert "already exists" in cli.err and load_certificate(cert_file.read_bytes()) == certificate

    # register: every step printed as it ends, then verified; the key is kept encrypted in the key store.
    assert cli("register", "--ca-cert", str(cert_file), "--ca-key", str(key_file), "--name", "plant") == 0, (
        cli.err
    )
    lines = cli.out.splitlines()
    for title in (
        "Read the CA certificate",
        "Check the platform rules",
        "Keep the CA key",
        "Upload the CA",
        "Get the registration code",
        "Make the verification certificate",
        "Verify (proof",
    ):
        assert any(line.startswith("[  ok]") and title in line for line in lines), (title, cli.out)
    assert "verified: plant" in cli.out
    (ca_id,) = ca_ids(cli)
    assert cli.state.ca_certificates[ca_id]["status"] == "VERIFIED"
    kept = list((paths.pki_dir / "demo").glob("*.key"))
    assert len(kept) == 1 and mode(kept[0]) == 0o600 and mode(paths.pki_dir / "demo") == 0o700
    assert b"ENCRYPTED PRIVATE KEY" in kept[0].read_bytes()
    assert key.private_numbers() != 0  # the file given stays as it was

    # ls in three formats.
    assert cli("ls") == EXIT_OK
    assert "plant" in cli.out and "VERIFIED" in cli.out and "KEY HERE" in cli.out and "true" in cli.out
    assert "1 of 2 used" in cli.err
    assert cli("ls", "-o", "json") == EXIT_OK
    (row,) = json.loads(cli.out)
    assert row["id"] == ca_id and row["keyHere"] is True and row["daysLeft"] in (364, 365)
    assert row["fingerprintSha256"] == fingerprint_sha256(certificate)
    assert cli("ls", "-o", "csv") == EXIT_OK
    (parsed,) = list(csv.DictReader(io.StringIO(cli.out)))
    assert parsed["id"] == ca_id and parsed["status"] == "VERIFIED"

    # show: every field, JSON, the PEM alone.
    assert cli("show", ca_id) == EXIT_OK
    for text in (
        "CN=Plant CA,O=ACME,C=DE",
        "basicConstraints (critical): CA: yes, path length 0",
        "keyUsage (critical): keyCertSign, cRLSign",
        "on this machine (encrypted)",
        "days left",
    ):
        assert text in cli.out, text
    assert cli("show", ca_id, "-o", "json") == EXIT_OK
    data = json.loads(cli.out)
    assert data["status"] == "VERIFIED" and data["certificate"]["isCa"] and data["keyHere"] is True
    assert cli("show", ca_id, "--pem") == EXIT_OK
    assert load_certificate(cli.out) == certificate

    # delete: asks without --yes (no terminal: refused), deletes with --yes, then the id is unknown.
    assert cli("delete", ca_id) == EXIT_REFUSED and ca_ids(cli) == [ca_id]
    assert "can no longer connect" in cli.err
    assert cli("delete", ca_id, "--yes") == EXIT_OK and not ca_ids(cli)
    assert cli("show", ca_id) == EXIT_NOT_FOUND and "not found" in cli.err
    assert cli("delete", ca_id, "--yes") == EXIT_NOT_FOUND


def test_without_the_key_the_code_and_recipe_then_the_verification_pem(cli: Cli, tmp_path: Path) -> None:
    cert_file, key_file = make_ca(cli, tmp_path)
    assert cli("register", "--ca-cert", str(cert_file), "-o", "json") == EXIT_OK, cli.err
    result = json.loads(cli.out)
    assert result["outcome"] == "needs-verification" and result["resumable"]
    (ca_id,) = ca_ids(cli)
    code = cli.state.ca_certificates[ca_id]["_registrationCode"]
    assert result["registrationCode"] == code and result["ca"]["id"] == ca_id
    assert any(f"/CN={code}" in line for line in result["recipe"]) and ca_id in result["nextAction"]

    # The table form prints the code and the openssl commands.
    assert cli("register", "--ca-cert", str(cert_file)) == EXIT_OK
    assert f"registration code: {code}" in cli.out and "openssl x509 -req" in cli.out
    assert "[skip] Keep the CA key" in cli.out and ca_ids(cli) == [ca_id]  # continued, not uploaded twice

    # Made where the key is, handed over as a file.
    verification = make_verification_certificate(
        code, load_certificate(cert_file.read_bytes()), load_private_key(key_file.read_bytes())
    )
    (tmp_path / "verification.pem").write_bytes(verification.public_bytes(serialization.Encoding.PEM))
    assert cli("verify", ca_id, "--verification-cert", str(tmp_path / "verification.pem")) == EXIT_OK, cli.err
    assert "verified" in cli.out and cli.state.ca_certificates[ca_id]["status"] == "VERIFIED"


def test_verify_later_with_the_key_file_and_the_resumed_state(cli: Cli, tmp_path: Path) -> None:
    cert_file, key_file = make_ca(cli, tmp_path)
    assert cli("register", "--ca-cert", str(cert_file)) == EXIT_OK
    (ca_id,) = ca_ids(cli)
    # Without a key here, verify prints the code again and waits.
    assert cli("verify", ca_id) == EXIT_OK and "registration code:" in cli.out
    # A wrong key is refused before anything is sent.
    other_cert, other_key = make_ca(cli, tmp_path / "other", "Other CA")
    assert cli("verify", ca_id, "--ca-key", str(other_key)) == EXIT_USAGE
    assert "does not belong" in cli.out + cli.err
    assert cli.state.ca_certificates[ca_id]["status"] == "NOT_VERIFIED"
    assert cli("verify", ca_id, "--ca-key", str(key_file)) == EXIT_OK, cli.out + cli.err
    assert cli.state.ca_certificates[ca_id]["status"] == "VERIFIED"
    # Verified already: says so.
    assert cli("verify", ca_id, "--ca-key", str(key_file)) == EXIT_OK and "already verified" in cli.out


def test_an_encrypted_key_takes_its_passphrase_from_stdin_or_the_prompt(cli: Cli, tmp_path: Path) -> None:
    assert (
        cli(
            "create-ca",
            "--cn",
            "Locked CA",
            "--key-type",
            "ec256",
            "--out",
            str(tmp_path),
            "--encrypt",
            "--passphrase-stdin",
            stdin="FAKE-file-pass\n",
        )
        == EXIT_OK
    ), cli.err
    key_file = tmp_path / "ca.key"
    assert b"ENCRYPTED" in key_file.read_bytes() and mode(key_file) == 0o600
    # No terminal, no --passphrase-stdin: a clear refusal, nothing uploaded.
    assert cli("register", "--ca-cert", str(tmp_path / "ca.pem"), "--ca-key", str(key_file)) == EXIT_USAGE
    assert "passphrase" in cli.err and not ca_ids(cli)
    # A wrong passphrase: refused, nothing uploaded.
    assert (
        cli(
            "register",
            "--ca-cert",
            str(tmp_path / "ca.pem"),
            "--ca-key",
            str(key_file),
            "--passphrase-stdin",
            stdin="wrong\n",
        )
        == EXIT_USAGE
    )
    assert not ca_ids(cli)
    assert (
        cli(
            "register",
            "--ca-cert",
            str(tmp_path / "ca.pem"),
            "--ca-key",
            str(key_file),
            "--passphrase-stdin",
            stdin="FAKE-file-pass\n",
        )
        == EXIT_OK
    ), cli.err
    assert "verified: Locked CA" in cli.out


def test_the_third_ca_and_a_wrong_key_are_refused_before_upload(cli: Cli, tmp_path: Path) -> None:
    for index in range(2):
        cert, key = make_ca(cli, tmp_path / str(index), f"CA {index}")
        assert cli("register", "--ca-cert", str(cert), "--ca-key", str(key)) == EXIT_OK
    posts_before = len(ca_ids(cli))
    cert, key = make_ca(cli, tmp_path / "third", "CA 3")
    assert cli("register", "--ca-cert", str(cert), "--ca-key", str(key)) == EXIT_CHECK_FAILED
    assert "the limit of 2 CA certificates" in cli.out and len(ca_ids(cli)) == posts_before == 2
    # lint says the same, rule by rule.
    assert cli("lint", str(cert)) == EXIT_CHECK_FAILED and "FAIL  the limit of 2" in cli.out

    # A key that is not the CA's: refused locally (exit 2), nothing uploaded.
    cli("delete", ca_ids(cli)[0], "--yes")
    other_cert, other_key = make_ca(cli, tmp_path / "other", "Other")
    assert cli("register", "--ca-cert", str(cert), "--ca-key", str(other_key)) == EXIT_USAGE
    assert "does not belong" in cli.out and len(ca_ids(cli)) == 1


def test_lint_and_inspect_files(cli: Cli, tmp_path: Path) -> None:
    cert, key = make_ca(cli, tmp_path)
    assert cli("lint", str(cert)) == EXIT_OK
    assert "PASS  KeyUsage keyCertSign" in cli.out and "ok: all" in cli.out
    assert cli("lint", str(cert), "-o", "json", "--offline") == EXIT_OK
    report = json.loads(cli.out)
    assert report["ok"] and {r["status"] for r in report["rules"] if r["rule"] == "limit-of-two"} == {"warn"}
    # A CA without keyCertSign fails that rule (exit 6).
    _key, bad = custom_ca(cn="no sign", key_cert_sign=False)
    (tmp_path / "bad.pem").write_bytes(bad.public_bytes(serialization.Encoding.PEM))
    assert cli("lint", str(tmp_path / "bad.pem"), "-o", "csv") == EXIT_CHECK_FAILED
    rules = {r["rule"]: r["status"] for r in csv.DictReader(io.StringIO(cli.out))}
    assert rules["key-usage"] == "fail"
    # Garbage and missing files: plain errors, exit 2.
    (tmp_path / "junk.pem").write_bytes(b"\x00\x01 not a certificate")
    assert cli("lint", str(tmp_path / "junk.pem")) == EXIT_CHECK_FAILED and "FAIL  exactly one" in cli.out
    assert cli("inspect", str(tmp_path / "junk.pem")) == EXIT_USAGE and "ihub certs:" in cli.err
    assert cli("lint", str(tmp_path / "missing.pem")) == EXIT_USAGE

    # inspect: a certificate, a key (never its content), an encrypted key.
    assert cli("inspect", str(cert)) == EXIT_OK and "certificate 1 (PEM)" in cli.out and "sha-256" in cli.out
    assert cli("inspect", str(key), "-o", "json") == EXIT_OK
    (facts,) = json.loads(cli.out)["keys"]
    assert facts["private"] and facts["key"].startswith("EC P-256")
    encrypted = load_private_key(key.read_bytes()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"FAKE-pass-123"),
    )
    (tmp_path / "enc.key").write_bytes(encrypted)
    assert cli("inspect", str(tmp_path / "enc.key")) == EXIT_USAGE and "passphrase" in cli.err
    assert (
        cli("inspect", str(tmp_path / "enc.key"), prompt=lambda _p: "FAKE-pass-123") == EXIT_USAGE
    )  # no tty
    assert cli("inspect", str(tmp_path / "enc.key"), "--passphrase-stdin", stdin="FAKE-pass-123\n") == EXIT_OK
    assert "private key 1" in cli.out
    assert cli("inspect", str(tmp_path / "enc.key"), "--passphrase-stdin", stdin="nope\n") == EXIT_USAGE


def test_agent_certificates(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "agents"
    assert cli("agent", "create", "press-4", "--owner", "ops@example.com", "--out", str(out)) == EXIT_OK, (
        cli.err
    )
    key_file, cert_file = out / "press-4.key", out / "press-4.pem"
    assert mode(key_file) == 0o600 and mode(cert_file) == 0o644 and mode(out) == 0o700
    assert (
        load_private_key(key_file.read_bytes()).public_key()
        == load_certificate(cert_file.read_bytes()).public_key()
    )
    for text in ("client id:", "demo_press-4", "tc/demo/demo_press-4/o/mc_v3/", f"{key_file} (mode 0600)"):
        assert text in cli.out, text
    (agent_id,) = list(cli.state.agent_certificates)
    # The same name again: the service refuses; nothing overwritten.
    before = key_file.read_bytes()
    assert cli("agent", "create", "press-4", "--out", str(tmp_path / "again")) == EXIT_ERROR
    assert "already exists" in cli.err and key_file.read_bytes() == before
    assert cli("agent", "create", "bad name!", "--out", str(out)) == EXIT_USAGE

    assert cli("agent", "ls") == EXIT_OK and "press-4" in cli.out and "CLIENT ID" in cli.out
    assert cli("agent", "ls", "-o", "json") == EXIT_OK
    (row,) = json.loads(cli.out)
    assert row["id"] == agent_id and row["clientId"] == "demo_press-4" and row["daysLeft"] >= 364
    assert cli("agent", "show", agent_id, "-o", "json") == EXIT_OK
    shown = json.loads(cli.out)
    assert shown["connection"]["topicPrefix"] == "tc/demo/demo_press-4/o/mc_v3/"
    # CN = the name: the client id is <tenant>_<CN> (tui.sim.agents).
    assert shown["certificate"]["commonName"] == "press-4" and "privateKey" not in shown
    assert cli("agent", "show", agent_id, "--pem") == EXIT_OK
    assert load_certificate(cli.out) == load_certificate(cert_file.read_bytes())

    assert cli("agent", "delete", agent_id) == EXIT_REFUSED  # no terminal to confirm on
    assert cli("agent", "delete", agent_id, "--yes") == EXIT_OK and not cli.state.agent_certificates
    assert cli("agent", "show", agent_id) == EXIT_NOT_FOUND


def test_issue_device_certificates_from_a_verified_ca(cli: Cli, tmp_path: Path) -> None:
    cert, key = make_ca(cli, tmp_path / "ca")
    out = tmp_path / "devices"
    # Not uploaded yet: refused (the device could not connect); --offline issues anyway.
    assert (
        cli("issue", "--ca-cert", str(cert), "--ca-key", str(key), "--cn", "sensor-1", "--out", str(out)) == 5
    )
    assert "not uploaded" in cli.err and not out.exists()
    assert cli("register", "--ca-cert", str(cert)) == EXIT_OK  # uploaded, not verified (no key given)
    assert (
        cli("issue", "--ca-cert", str(cert), "--ca-key", str(key), "--cn", "sensor-1", "--out", str(out)) == 5
    )
    assert "not verified" in cli.err
    (ca_id,) = ca_ids(cli)
    assert cli("verify", ca_id, "--ca-key", str(key)) == EXIT_OK

    assert (
        cli("issue", "--ca-cert", str(cert), "--ca-key", str(key), "--cn", "sensor-1", "--out", str(out)) == 0
    )
    files = {p.name: mode(p) for p in out.iterdir()}
    assert files == {"sensor-1.key": 0o600, "sensor-1.pem": 0o644, "sensor-1-chain.pem": 0o644}
    device = load_certificate((out / "sensor-1.pem").read_bytes())
    device.verify_directly_issued_by(load_certificate(cert.read_bytes()))
    assert len(x509.load_pem_x509_certificates((out / "sensor-1-chain.pem").read_bytes())) == 2
    assert "demo_sensor-1" in cli.out and "sensor-1-chain.pem" in cli.out
    # The key kept by 'verify --ca-key' serves without --ca-key; files are never overwritten.
    assert cli("issue", "--ca-cert", str(cert), "--cn", "sensor-2", "--out", str(out), "-o", "json") == 0, (
        cli.err
    )
    assert json.loads(cli.out)["clientId"] == "demo_sensor-2" and mode(out / "sensor-2.key") == 0o600
    assert cli("issue", "--ca-cert", str(cert), "--cn", "sensor-2", "--out", str(out)) == EXIT_USAGE
    assert "already exists" in cli.err
    assert (
        cli(
            "issue",
            "--ca-cert",
            str(cert),
            "--ca-key",
            str(key),
            "--cn",
            "offline",
            "--out",
            str(out),
            "--offline",
            "--tenant",
            "plant7",
        )
        == EXIT_OK
    )
    assert "plant7_offline" in cli.out


def test_a_read_only_profile_refuses_every_change(paths: AppPaths, sim_app, tmp_path: Path) -> None:
    cli = Cli(paths, sim_app, read_only=True)
    cert, key = make_ca(cli, tmp_path)  # local: allowed
    assert cli("register", "--ca-cert", str(cert), "--ca-key", str(key)) == EXIT_REFUSED
    assert "read-only" in cli.err and "nothing was changed" in cli.err and not ca_ids(cli)
    assert cli("agent", "create", "x", "--out", str(tmp_path / "a")) == EXIT_REFUSED
    assert not (tmp_path / "a").exists()
    assert cli("delete", "0" * 32, "--yes") == EXIT_REFUSED
    assert cli("verify", "0" * 32, "--ca-key", str(key)) == EXIT_REFUSED
    assert cli("agent", "delete", "x", "--yes") == EXIT_REFUSED
    assert cli("ls") == EXIT_OK and cli("agent", "ls") == EXIT_OK  # reading is fine


def test_dry_run_prints_curl_lines_and_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    cert, key = make_ca(cli, tmp_path)
    assert cli("ls", "--dry-run") == EXIT_OK
    assert cli.out.startswith("curl ") and "/api/mindconnectmqtt/v3/caCertificates" in cli.out
    assert '"Authorization: Bearer $TOKEN"' in cli.out and DEMO_CLIENT_SECRET not in cli.out
    assert cli("register", "--ca-cert", str(cert), "--ca-key", str(key), "--dry-run") == EXIT_OK, cli.err
    assert "curl -X POST" in cli.out and "caCertificate" in cli.out and "registrationCode" in cli.err
    assert cli("agent", "create", "dry", "--out", str(tmp_path / "dry"), "--dry-run") == EXIT_OK
    assert '"name": "dry"' in cli.out or '"name":"dry"' in cli.out
    assert not (tmp_path / "dry").exists()
    assert cli("delete", "abc", "--dry-run") == EXIT_OK and "if-match: <etag>" in cli.out.lower()
    assert cli("agent", "ls", "--dry-run") == EXIT_OK and "agentCertificates" in cli.out
    # Nothing reached the service, and no key was kept.
    assert not ca_ids(cli) and not cli.state.agent_certificates
    assert not list(cli.paths.pki_dir.rglob("*.key"))


def test_the_command_table_and_help(cli: Cli) -> None:
    names = [c.name for c in COMMANDS]
    assert names == [
        "ls",
        "show",
        "lint",
        "inspect",
        "create-ca",
        "register",
        "verify",
        "delete",
        "issue",
        "check",
        "publish",
    ]
    assert [c.name for c in AGENT_COMMANDS] == ["create", "ls", "show", "delete"]
    assert cli() == EXIT_USAGE and "register" in cli.out and "agent" in cli.out
    assert cli("agent") == EXIT_USAGE and "create" in cli.out


def test_an_api_error_is_one_line(paths: AppPaths, tmp_path: Path) -> None:
    broken = create_app(SimConfig(fault_rate=1.0, faults=("500",)))
    cli = Cli(paths, broken)
    assert cli("ls") == EXIT_ERROR
    assert cli.err.count("\n") == 1 and cli.err.startswith("ihub certs: ")


def test_ec_key_written_by_create_ca_is_pkcs8(cli: Cli, tmp_path: Path) -> None:
    _cert, key = make_ca(cli, tmp_path)
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert isinstance(load_private_key(key.read_bytes()), ec.EllipticCurvePrivateKey)
