"""Inspection (subject, issuer, serial, validity with days left, SHA-256 fingerprint, extensions, key type
and size), key-matches-certificate and chains-to-CA (issue 10 §1)."""

from __future__ import annotations

import datetime as dt
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.pki.conftest import DATA, der, pem
from tui.pki import (
    chains_to_ca,
    create_ca,
    inspect,
    inspect_certificate,
    issue_certificate,
    key_matches_certificate,
    load_certificate,
    make_verification_certificate,
    read_file,
    require_key_matches,
)
from tui.pki.errors import KeyMismatchError
from tui.pki.inspection import days_left, display_fingerprint, normalize_fingerprint


def test_inspect_certificate_fields(rsa_ca) -> None:
    cert = rsa_ca.certificate
    at = cert.not_valid_before_utc + dt.timedelta(days=100, hours=1)
    info = inspect_certificate(cert, at)
    assert info.subject == "CN=ihub test RSA CA" and info.issuer == info.subject
    assert info.common_name == "ihub test RSA CA"
    assert info.serial_number == format(cert.serial_number, "x")
    assert info.version == 3
    assert info.days_left == 265 - 1  # 365-day validity, 100 days and an hour in
    assert info.fingerprint_sha256 == hashlib.sha256(der(cert)).hexdigest()
    assert info.fingerprint_display.count(":") == 31 and info.fingerprint_display.isupper()
    assert (info.key.algorithm, info.key.size, info.key.description) == ("RSA", 2048, "RSA 2048")
    assert info.signature_hash == "SHA-256"
    assert info.is_ca and info.self_issued
    names = [e.name for e in info.extensions]
    assert names == ["basicConstraints", "keyUsage", "subjectKeyIdentifier", "authorityKeyIdentifier"]
    assert info.extension("basicConstraints").value == "CA: yes, path length 0"
    assert info.extension("basicConstraints").critical
    assert info.extension("keyUsage").value == "keyCertSign, cRLSign"
    assert "264 days left" in info.validity_text()
    assert "BEGIN CERTIFICATE" in info.pem and "pem=" not in repr(info)


def test_inspect_device_certificate_and_expiry(ec_ca) -> None:
    issued = issue_certificate(ec_ca.certificate, ec_ca.private_key, "dev01", key_type="ec384", days=10)
    info = inspect_certificate(issued.certificate, dt.datetime.now(dt.UTC) + dt.timedelta(days=12))
    assert info.expired and info.days_left == -2 and "expired 2 days ago" in info.validity_text()
    assert info.key.description == "EC P-384 (384 bits)"
    assert info.extension("extendedKeyUsage").value == "TLS client authentication (clientAuth)"
    assert info.extension("keyUsage").value == "digitalSignature"
    assert info.issuer == ec_ca.certificate.subject.rfc4514_string()
    assert not info.is_ca and not info.self_issued


def test_inspect_anything(ec_ca) -> None:
    key_pem = ec_ca.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass-word"),
    )
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "req")]))
        .sign(ec_ca.private_key, hashes.SHA256())
    )
    bundle = pem(ec_ca.certificate).encode() + key_pem + csr.public_bytes(serialization.Encoding.PEM)
    result = inspect(bundle, "pass-word")
    assert len(result.certificates) == 1 and len(result.requests) == 1 and len(result.keys) == 1
    assert result.requests[0].signature_valid and result.requests[0].common_name == "req"
    facts = result.keys[0]
    assert facts.private and facts.key.curve == "P-256"
    assert facts.key_id == result.certificates[0].key_id  # the key of this certificate
    assert "pass-word" not in repr(result)


def test_inspect_v1_and_damaged_extensions(ec_ca) -> None:
    info = inspect_certificate(load_certificate(read_file(DATA / "v1_ca.pem")))
    assert info.version == 1 and info.extensions == () and not info.is_ca
    # A certificate with the same extension twice parses, but its extensions cannot be read.
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    good = (
        x509.CertificateBuilder()
        .subject_name(ec_ca.certificate.subject)
        .issuer_name(ec_ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier(b"\x01" * 20), critical=False)
        .add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00"), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    data = der(good)
    damaged = data.replace(bytes.fromhex("06032a0304"), bytes.fromhex("0603551d0e"))  # second SKI OID
    assert damaged != data
    info = inspect(damaged).certificates[0]
    assert info.extensions == () and "cannot be read" in (info.extensions_error or "")


def test_fingerprint_helpers() -> None:
    assert normalize_fingerprint("AB:cd:01") == "abcd01"
    assert display_fingerprint("abcd01") == "AB:CD:01"
    assert days_left(dt.datetime(2026, 1, 2, tzinfo=dt.UTC), dt.datetime(2026, 1, 1, 1, tzinfo=dt.UTC)) == 0


def test_key_matches_certificate(ec_ca, other_ca) -> None:
    assert key_matches_certificate(ec_ca.private_key, ec_ca.certificate)
    assert not key_matches_certificate(other_ca.private_key, ec_ca.certificate)
    require_key_matches(ec_ca.private_key, ec_ca.certificate)
    try:
        require_key_matches(other_ca.private_key, ec_ca.certificate, "CA certificate")
    except KeyMismatchError as exc:
        assert str(exc) == "the private key does not belong to this CA certificate (their public keys differ)"
    else:
        raise AssertionError("a foreign key was accepted")


def test_chains_to_ca(ec_ca, other_ca) -> None:
    device = issue_certificate(ec_ca.certificate, ec_ca.private_key, "dev", key_type="ec256").certificate
    check = chains_to_ca(device, ec_ca.certificate)
    assert check.ok and check.chain == (device, ec_ca.certificate) and check.method == "x509-verification"
    assert chains_to_ca(device, [other_ca.certificate, ec_ca.certificate]).ok
    wrong = chains_to_ca(device, other_ca.certificate)
    assert not wrong.ok and "not issued by this CA" in wrong.reason
    later = chains_to_ca(device, ec_ca.certificate, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=400))
    assert not later.ok and "expired" in later.reason
    verification = make_verification_certificate("code", ec_ca.certificate, ec_ca.private_key)
    assert chains_to_ca(verification, ec_ca.certificate).ok  # no EKU, no SAN: still fine


def test_chain_signature_failure_is_named(ec_ca) -> None:
    # A certificate naming ec_ca as issuer but signed by another key.
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "forged")]))
        .issuer_name(ec_ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(5)
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    check = chains_to_ca(forged, ec_ca.certificate)
    assert not check.ok and "signed by another key" in check.reason


def test_v1_leaf_falls_back_to_signature_check() -> None:
    v1 = load_certificate(read_file(DATA / "v1_ca.pem"))
    check = chains_to_ca(v1, v1)  # self-signed v1: its own key signed it
    assert check.ok and check.method == "signature" and "X.509 v1" in check.reason
    other = create_ca("x", "ec256").certificate
    assert not chains_to_ca(v1, other).ok
