"""MQTT certificates through MqttCertificates against the simulator (reference 5.3)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tui.api.errors import BadRequestError, ConflictError, NotFoundError, PreconditionFailedError


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ihub tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def make_ca(cn: str = "ihub test tenant CA") -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=300))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_verification(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, code: str
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, code)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


async def test_ca_upload_verify_delete_flow(sim) -> None:
    api, _ = sim()
    assert await api.mqtt.list_ca() == []
    ca_key, ca = make_ca()
    uploaded = await api.mqtt.upload_ca("tenant-ca", pem(ca), description="test CA")
    assert uploaded.status == "NOT_VERIFIED" and not uploaded.verified and uploaded.etag is not None
    assert uploaded.fingerprint_sha256 and uploaded.valid_to is not None
    with pytest.raises(ConflictError):
        await api.mqtt.upload_ca("again", pem(ca))  # same fingerprint
    code = await api.mqtt.registration_code(uploaded.id)
    assert code == await api.mqtt.registration_code(uploaded.id)  # stable until verified
    wrong_key, _ = make_ca("other")
    with pytest.raises(BadRequestError):
        await api.mqtt.verify_ca(uploaded.id, pem(make_verification(wrong_key, ca, code)))
    with pytest.raises(BadRequestError):
        await api.mqtt.verify_ca(uploaded.id, pem(make_verification(ca_key, ca, "not-the-code")))
    verified = await api.mqtt.verify_ca(uploaded.id, pem(make_verification(ca_key, ca, code)))
    assert verified.verified and verified.status == "VERIFIED"
    listed = await api.mqtt.list_ca()
    assert [c.id for c in listed] == [uploaded.id]
    current = await api.mqtt.get_ca(uploaded.id)
    if current.etag != uploaded.etag:
        with pytest.raises(PreconditionFailedError):
            await api.mqtt.delete_ca(uploaded.id, uploaded.etag)
    await api.mqtt.delete_ca(uploaded.id, current.etag)
    with pytest.raises(NotFoundError):
        await api.mqtt.get_ca(uploaded.id)


async def test_ca_limit_and_bad_pem(sim) -> None:
    api, _ = sim()
    for i in range(2):
        await api.mqtt.upload_ca(f"ca{i}", pem(make_ca(f"ca {i}")[1]))
    with pytest.raises(BadRequestError) as info:
        await api.mqtt.upload_ca("third", pem(make_ca("ca 3")[1]))
    assert info.value.code == "mdsp.core.mindconnectmqtt.caCertificateLimitReached"
    api2, _ = sim()
    leaf_key, leaf_ca = make_ca("leaf")
    not_ca = make_verification(leaf_key, leaf_ca, "leaf-only")
    with pytest.raises(BadRequestError):
        await api2.mqtt.upload_ca("not a CA", pem(not_ca))


async def test_agent_certificate_create_get_delete(sim) -> None:
    api, _ = sim()
    cert = await api.mqtt.create_agent_cert("device001", owner="somebody@example.test")
    assert cert.private_key and "PRIVATE KEY" in cert.private_key
    assert cert.certificate_pem and "BEGIN CERTIFICATE" in cert.certificate_pem
    assert cert.client_id == "demo_device001" and len(cert.id) == 26
    assert cert.private_key not in repr(cert)
    fetched = await api.mqtt.get_agent_cert(cert.id)
    assert fetched.private_key is None and fetched.client_id == cert.client_id
    assert [c.id for c in await api.mqtt.list_agent_certs()] == [cert.id]
    await api.mqtt.delete_agent_cert(cert.id)
    assert await api.mqtt.list_agent_certs() == []
