"""Shared material for the PKI tests: CAs made once per session (key generation is the slow part)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tui.pki import CaMaterial, SubjectFields, create_ca

DATA = Path(__file__).parent / "data"
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def ec_ca() -> CaMaterial:
    return create_ca(SubjectFields("ihub test CA", organization="ihub tests", country="DE"), "ec256")


@pytest.fixture(scope="session")
def rsa_ca() -> CaMaterial:
    return create_ca("ihub test RSA CA", "rsa2048")


@pytest.fixture(scope="session")
def other_ca() -> CaMaterial:
    return create_ca("ihub other CA", "ec256")


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]) if cn else x509.Name([])


def custom_ca(
    *,
    cn: str = "custom CA",
    issuer: str | None = None,
    basic: x509.BasicConstraints | None = x509.BasicConstraints(ca=True, path_length=0),
    basic_critical: bool = True,
    key_cert_sign: bool | None = True,
    ski: bool = True,
    not_before: dt.datetime | None = None,
    days: int = 365,
    signer: ec.EllipticCurvePrivateKey | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A certificate built field by field, to break one lint rule at a time."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(name(issuer if issuer is not None else cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
    )
    if basic is not None:
        builder = builder.add_extension(basic, critical=basic_critical)
    if key_cert_sign is not None:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, key_cert_sign, key_cert_sign, False, False),
            critical=True,
        )
    if ski:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    return key, builder.sign(signer or key, hashes.SHA256())


def openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.skip(
            "the openssl command line is not installed: the checks against real PKI tools are skipped"
        )
    return path
