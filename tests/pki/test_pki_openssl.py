"""Checked against real PKI tools (issue 10 §6): every CA, verification and device certificate ihub makes
passes ``openssl verify`` against its CA, ``openssl x509 -text`` shows the intended extensions, keys
ihub writes are read by openssl and keys openssl writes are read by ihub, and a CA made by openssl
without keyCertSign fails ihub's lint on that rule. Skipped with a message where openssl is missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.pki.conftest import openssl, pem
from tui.pki import (
    CaKeyStore,
    Rule,
    Status,
    create_ca,
    issue_certificate,
    lint_ca,
    load_certificate,
    load_csr,
    load_private_key,
    make_verification_certificate,
    read_file,
    sign_csr,
    write_issued,
)

KEY_TYPES = ("rsa2048", "rsa3072", "rsa4096", "ec256", "ec384")


def run(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - our own arguments
        [openssl(), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    if check:
        assert result.returncode == 0, f"openssl {' '.join(args)}: {result.stderr}"
    return result


def text_of(cert_file: str, cwd: Path) -> str:
    return run("x509", "-in", cert_file, "-noout", "-text", cwd=cwd).stdout


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_every_certificate_passes_openssl_verify(tmp_path: Path, key_type: str) -> None:
    openssl()
    ca = create_ca("openssl check CA", key_type)
    (tmp_path / "ca.pem").write_text(ca.certificate_pem)
    verification = make_verification_certificate("f" * 64, ca.certificate, ca.private_key)
    (tmp_path / "verification.pem").write_text(pem(verification))
    issued = issue_certificate(ca.certificate, ca.private_key, "device01", key_type="ec256")
    files = write_issued(issued, tmp_path / "out", "device01")
    for cert in ("ca.pem", "verification.pem", str(files.certificate)):
        result = run("verify", "-CAfile", "ca.pem", cert, cwd=tmp_path)
        assert result.stdout.strip().endswith(": OK")
    run("verify", "-CAfile", "ca.pem", "-purpose", "sslclient", str(files.certificate), cwd=tmp_path)
    run("verify", "-CAfile", str(files.chain), str(files.certificate), cwd=tmp_path)
    # The key file and the certificate belong together, as openssl sees them.
    cert_pub = run("x509", "-in", str(files.certificate), "-noout", "-pubkey", cwd=tmp_path).stdout
    key_pub = run("pkey", "-in", str(files.key), "-pubout", cwd=tmp_path).stdout
    assert cert_pub == key_pub


@pytest.mark.parametrize("key_type", ["rsa2048", "ec384"])
def test_openssl_text_shows_the_intended_extensions(tmp_path: Path, key_type: str) -> None:
    openssl()
    ca = create_ca("openssl text CA", key_type)
    (tmp_path / "ca.pem").write_text(ca.certificate_pem)
    text = text_of("ca.pem", tmp_path)
    assert "Version: 3 (0x2)" in text
    assert "X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0" in text
    assert "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign" in text
    assert "X509v3 Subject Key Identifier:" in text and "X509v3 Authority Key Identifier:" in text
    assert ("sha256WithRSAEncryption" if key_type.startswith("rsa") else "ecdsa-with-SHA256") in text
    issued = issue_certificate(ca.certificate, ca.private_key, "device01")
    (tmp_path / "dev.pem").write_text(issued.certificate_pem)
    text = text_of("dev.pem", tmp_path)
    assert "X509v3 Basic Constraints: critical\n                CA:FALSE" in text
    assert "X509v3 Key Usage: critical\n                Digital Signature, Key Encipherment" in text
    assert "X509v3 Extended Key Usage: \n                TLS Web Client Authentication" in text
    assert "Subject: CN = device01" in text
    verification = make_verification_certificate("a1" * 32, ca.certificate, ca.private_key)
    (tmp_path / "v.pem").write_text(pem(verification))
    assert f"Subject: CN = {'a1' * 32}" in text_of("v.pem", tmp_path)


def test_openssl_ca_without_key_cert_sign_fails_that_rule(tmp_path: Path) -> None:
    openssl()
    base = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365", "-keyout", "ca.key"]
    run(
        *base,
        "-subj",
        "/CN=openssl CA without keyCertSign",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,digitalSignature",
        "-out",
        "bad.pem",
        cwd=tmp_path,
    )
    report = lint_ca(read_file(tmp_path / "bad.pem"), [])
    assert report.result(Rule.KEY_CERT_SIGN).status is Status.FAIL
    assert [r.rule for r in report.failures] == [Rule.KEY_CERT_SIGN]
    # The same with keyCertSign passes every rule.
    run(
        *base,
        "-subj",
        "/CN=openssl good CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        "good.pem",
        cwd=tmp_path,
    )
    assert lint_ca(read_file(tmp_path / "good.pem"), []).ok
    # OpenSSL's default self-signed certificate has no KeyUsage at all: that rule fails too.
    run(*base, "-subj", "/CN=openssl default", "-out", "default.pem", cwd=tmp_path)
    default = lint_ca(read_file(tmp_path / "default.pem"), [])
    assert default.result(Rule.KEY_CERT_SIGN).status is Status.FAIL


def test_keys_openssl_writes_are_read(tmp_path: Path) -> None:
    openssl()
    run("genrsa", "-out", "rsa.key", "2048", cwd=tmp_path)  # PKCS#8 in OpenSSL 3
    run("genrsa", "-traditional", "-out", "rsa1.key", "2048", cwd=tmp_path)  # PKCS#1
    run("ecparam", "-name", "prime256v1", "-genkey", "-out", "ec.key", cwd=tmp_path)  # parameters + SEC1
    run("pkcs8", "-topk8", "-in", "ec.key", "-v2", "aes-256-cbc", "-passout", "pass:open sesame",
        "-out", "ec_enc.key", cwd=tmp_path)  # fmt: skip
    run("pkey", "-in", "rsa.key", "-outform", "DER", "-out", "rsa.der", cwd=tmp_path)
    run("rsa", "-in", "rsa1.key", "-aes256", "-traditional", "-passout", "pass:open sesame",
        "-out", "rsa1_enc.key", cwd=tmp_path)  # fmt: skip
    for name, passphrase in [
        ("rsa.key", None),
        ("rsa1.key", None),
        ("ec.key", None),
        ("ec_enc.key", "open sesame"),
        ("rsa.der", None),
        ("rsa1_enc.key", "open sesame"),
    ]:
        data = read_file(tmp_path / name)
        key = load_private_key(data, passphrase)
        assert key.public_key() is not None, name
    assert b"Proc-Type: 4,ENCRYPTED" in read_file(tmp_path / "rsa1_enc.key")
    assert b"BEGIN RSA PRIVATE KEY" in read_file(tmp_path / "rsa1.key")


def test_keys_ihub_keeps_and_exports_are_read_by_openssl(tmp_path: Path) -> None:
    openssl()
    ca = create_ca("export CA", "ec256")
    store = CaKeyStore.for_tenant(tmp_path / "pki", "demo", lambda create: "stored passphrase 123")
    stored = store.save(ca.certificate, ca.private_key)
    run("pkey", "-in", str(stored.key_path), "-passin", "pass:stored passphrase 123", "-noout", cwd=tmp_path)
    assert run("pkey", "-in", str(stored.key_path), "-passin", "pass:wrong", "-noout", cwd=tmp_path,
               check=False).returncode != 0  # fmt: skip
    exported = store.export_key_to(ca.certificate, "export passphrase", tmp_path / "ca_export.key")
    out = run(
        "pkey", "-in", str(exported), "-passin", "pass:export passphrase", "-pubout", cwd=tmp_path
    ).stdout
    expected = ca.certificate.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert out.encode() == expected


def test_openssl_csr_signed_by_ihub_verifies(tmp_path: Path, ec_ca) -> None:
    openssl()
    (tmp_path / "ca.pem").write_text(ec_ca.certificate_pem)
    run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "d.key",
        "-subj", "/C=DE/O=ACME/OU=IT/CN=sensor-9", "-out", "d.csr", cwd=tmp_path)  # fmt: skip
    csr = load_csr(read_file(tmp_path / "d.csr"))
    issued = sign_csr(csr, ec_ca.certificate, ec_ca.private_key)
    (tmp_path / "d.pem").write_text(issued.certificate_pem)
    run("verify", "-CAfile", "ca.pem", "-purpose", "sslclient", "d.pem", cwd=tmp_path)
    assert (
        load_certificate(read_file(tmp_path / "d.pem")).subject.rfc4514_string()
        == "CN=sensor-9,OU=IT,O=ACME,C=DE"
    )
    assert isinstance(issued.certificate, x509.Certificate)
