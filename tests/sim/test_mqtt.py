"""MindConnect MQTT certificates in the simulator (reference 5.3)."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

BASE = "/api/mindconnectmqtt/v3"
CA = f"{BASE}/caCertificates"
AGENTS = f"{BASE}/agentCertificates"
NOW = dt.datetime.now(dt.UTC)
SIM_NOW = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)  # the fixed simulator clock of tests/sim/conftest.py


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Org"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_ca(
    cn: str = "Test CA", *, ca: bool = True, cert_sign: bool = True
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_leaf(
    cn: str, issuer: x509.Certificate, signing_key, *, not_after: dt.datetime | None = None
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before((not_after or NOW) - dt.timedelta(days=30))
        .not_valid_after(not_after or NOW + dt.timedelta(days=1))
        .sign(signing_key, hashes.SHA256())
    )


def sha1_ca() -> x509.Certificate:
    """A CA certificate signed with SHA-1 (cryptography refuses to build one, so re-sign its DER)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("SHA1 CA"))
        .issuer_name(_name("SHA1 CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(True), critical=True)
        .sign(key, hashes.SHA256())
    )
    sha256_rsa, sha1_rsa = bytes.fromhex("2a864886f70d01010b"), bytes.fromhex("2a864886f70d010105")
    der = cert.public_bytes(serialization.Encoding.DER).replace(sha256_rsa, sha1_rsa)
    signature = key.sign(
        cert.tbs_certificate_bytes.replace(sha256_rsa, sha1_rsa),
        padding.PKCS1v15(),
        hashes.SHA1(),  # noqa: S303
    )
    result = x509.load_der_x509_certificate(der[: -len(signature)] + signature)
    assert isinstance(result.signature_hash_algorithm, hashes.SHA1)
    return result


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


async def upload(
    client: httpx.AsyncClient, headers: dict, cert_pem: str, name: str = "plant CA"
) -> httpx.Response:
    return await client.post(
        CA, json={"name": name, "description": "test", "caCertificate": cert_pem}, headers=headers
    )


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["errors"][0]
    assert error["message"] and error["logref"]
    if code:
        assert error["code"] == code
    return error


async def test_upload_list_get_and_limits(raw_client, auth_headers) -> None:
    cert, _key = make_ca()
    r = await upload(raw_client, auth_headers, pem(cert))
    assert r.status_code == 201
    body = r.json()
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])
    assert body["status"] == "NOT_VERIFIED" and body["name"] == "plant CA" and body["description"] == "test"
    assert body["subject"] == cert.subject.rfc4514_string() and body["issuer"] == cert.issuer.rfc4514_string()
    assert int(body["serialNumber"], 16) == cert.serial_number
    assert body["fingerprintSha256"] == cert.fingerprint(hashes.SHA256()).hex()
    assert (
        body["validFrom"].endswith("Z") and body["validTo"].endswith("Z") and body["createdAt"].endswith("Z")
    )
    assert x509.load_pem_x509_certificate(body["caCertificate"].encode()) == cert
    assert isinstance(body["etag"], int)
    assert not any(k.startswith("_") or "registration" in k.lower() for k in body)

    assert_error(await upload(raw_client, auth_headers, pem(cert), "again"), 409)
    second, _ = make_ca("Second CA")
    assert (await upload(raw_client, auth_headers, pem(second))).status_code == 201
    third, _ = make_ca("Third CA")
    assert_error(
        await upload(raw_client, auth_headers, pem(third)),
        400,
        "mdsp.core.mindconnectmqtt.caCertificateLimitReached",
    )
    # Certificate rules are checked before the limit and the duplicate check.
    not_ca, _ = make_ca("Leafish", ca=False)
    assert_error(await upload(raw_client, auth_headers, pem(not_ca)), 400)
    assert_error(await upload(raw_client, auth_headers, pem(cert)), 409)

    listing = (await raw_client.get(CA, headers=auth_headers)).json()
    assert [c["id"] for c in listing["_embedded"]["caCertificates"]][0] == body["id"]
    assert listing["page"]["totalElements"] == 2 and set(listing["_links"]) >= {"self", "first", "last"}
    one = await raw_client.get(f"{CA}/{body['id']}", headers=auth_headers)
    assert one.status_code == 200 and one.json() == body
    assert_error(await raw_client.get(f"{CA}/{'0' * 32}", headers=auth_headers), 404)


async def test_invalid_ca_certificates_are_refused(raw_client, auth_headers) -> None:
    not_ca, _ = make_ca("Not a CA", ca=False)
    no_cert_sign, _ = make_ca("No keyCertSign", cert_sign=False)
    one, _ = make_ca("One")
    two, _ = make_ca("Two")
    key_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    cases = [
        pem(not_ca),
        pem(no_cert_sign),
        pem(sha1_ca()),
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        "just text",
        pem(one) + pem(two),
        pem(one) + key_pem,
    ]
    for text in cases:
        error = assert_error(await upload(raw_client, auth_headers, text), 400)
        # One line, no certificate or key material echoed back.
        assert (
            "\n" not in error["message"]
            and "MII" not in error["message"]
            and "BEGIN" not in error["message"][:12]
        )
    assert "SHA1" in assert_error(await upload(raw_client, auth_headers, pem(sha1_ca())), 400)["message"]
    assert_error(await raw_client.post(CA, json={"caCertificate": pem(one)}, headers=auth_headers), 400)
    assert_error(
        await raw_client.post(CA, json={"name": "x" * 129, "caCertificate": pem(one)}, headers=auth_headers),
        400,
    )
    assert_error(await raw_client.post(CA, content=b"{broken", headers=auth_headers), 400)
    assert (await raw_client.get(CA, headers=auth_headers)).json()["page"]["totalElements"] == 0


async def test_registration_code_and_verification(sim_config, raw_client, auth_headers) -> None:
    assert sim_config.clock() == SIM_NOW.timestamp()  # expiry is judged by the simulator's clock
    cert, key = make_ca()
    ca_id = (await upload(raw_client, auth_headers, pem(cert))).json()["id"]
    r1 = await raw_client.get(f"{CA}/{ca_id}/registrationCode", headers=auth_headers)
    r2 = await raw_client.get(f"{CA}/{ca_id}/registrationCode", headers=auth_headers)
    code = r1.json()["registrationCode"]
    assert re.fullmatch(r"[0-9a-f]{64}", code) and r2.json()["registrationCode"] == code

    async def verify(certificate: x509.Certificate) -> httpx.Response:
        return await raw_client.post(
            f"{CA}/{ca_id}/verify", json={"verificationCertificate": pem(certificate)}, headers=auth_headers
        )

    other_key = ec.generate_private_key(ec.SECP256R1())
    assert "signed" in assert_error(await verify(make_leaf(code, cert, other_key)), 400)["message"]
    assert "CN" in assert_error(await verify(make_leaf("wrong-code", cert, key)), 400)["message"]
    assert (
        "expired"
        in assert_error(
            await verify(make_leaf(code, cert, key, not_after=SIM_NOW - dt.timedelta(days=1))), 400
        )["message"]
    )
    bad_body = await raw_client.post(
        f"{CA}/{ca_id}/verify", json={"verificationCertificate": "nope"}, headers=auth_headers
    )
    assert_error(bad_body, 400)
    assert (await raw_client.get(f"{CA}/{ca_id}", headers=auth_headers)).json()["status"] == "NOT_VERIFIED"

    ok = await verify(make_leaf(code, cert, key))
    assert ok.status_code == 200 and ok.json()["status"] == "VERIFIED" and ok.json()["id"] == ca_id
    assert (await raw_client.get(f"{CA}/{ca_id}", headers=auth_headers)).json()["status"] == "VERIFIED"
    assert_error(await verify(make_leaf(code, cert, key)), 409)
    assert_error(await raw_client.get(f"{CA}/{'0' * 32}/registrationCode", headers=auth_headers), 404)


async def test_delete_requires_a_matching_if_match(raw_client, auth_headers) -> None:
    cert, _ = make_ca()
    body = (await upload(raw_client, auth_headers, pem(cert))).json()
    url = f"{CA}/{body['id']}"
    assert_error(await raw_client.delete(url, headers=auth_headers), 428)
    assert_error(
        await raw_client.delete(url, headers={**auth_headers, "If-Match": str(body["etag"] + 5)}), 412
    )
    r = await raw_client.delete(url, headers={**auth_headers, "If-Match": f'"{body["etag"]}"'})
    assert r.status_code == 204
    assert_error(await raw_client.get(url, headers=auth_headers), 404)
    assert_error(await raw_client.delete(url, headers={**auth_headers, "If-Match": "0"}), 404)
    # The slot is free again.
    assert (await upload(raw_client, auth_headers, pem(cert))).status_code == 201


async def test_agent_certificate_lifecycle(sim_app, raw_client, auth_headers) -> None:
    r = await raw_client.post(
        AGENTS, json={"name": "device001", "owner": "somebody@example.com"}, headers=auth_headers
    )
    assert r.status_code == 201
    body = r.json()
    tenant = sim_app.state.tenant.tenant
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", body["id"])
    assert body["agentName"] == body["clientId"] == f"{tenant}_device001"
    assert re.fullmatch(r"[0-9a-f]{32}", body["agentId"]) and body["status"] == "READY"
    assert body["owner"] == "somebody@example.com" and body["name"] == "device001"
    # Both shapes, same material.
    assert body["publicKey"] == body["credentials"]["certificatePem"]
    assert body["privateKey"] == body["credentials"]["privateKey"]
    assert body["privateKey"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    cert = x509.load_pem_x509_certificate(body["publicKey"].encode())
    key = serialization.load_pem_private_key(body["privateKey"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    # CN = the name: the client id is <tenant>_<CN>, the one rule of the broker (tui.sim.agents).
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "device001"
    sim_ca = sim_app.state.mqtt_ca.certificate
    cert.verify_directly_issued_by(sim_ca)  # chains to the simulator's MQTT CA
    assert sim_ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    one = await raw_client.get(f"{AGENTS}/{body['id']}", headers=auth_headers)
    listing = await raw_client.get(AGENTS, headers=auth_headers)
    for text in (one.text, listing.text):
        assert "PRIVATE KEY" not in text and "privateKey" not in text
    assert one.json()["publicKey"] == body["publicKey"] and one.json()["clientId"] == body["clientId"]
    assert [a["id"] for a in listing.json()["_embedded"]["agentCertificates"]] == [body["id"]]
    assert "PRIVATE KEY" not in repr(sim_app.state.tenant.agent_certificates)

    assert (await raw_client.delete(f"{AGENTS}/{body['id']}", headers=auth_headers)).status_code == 204
    assert_error(await raw_client.get(f"{AGENTS}/{body['id']}", headers=auth_headers), 404)
    assert_error(await raw_client.delete(f"{AGENTS}/{body['id']}", headers=auth_headers), 404)


async def test_agent_certificate_names(raw_client, auth_headers) -> None:
    for name in ("", "x" * 65, "has space", "slash/no", None, 5):
        r = await raw_client.post(AGENTS, json={"name": name}, headers=auth_headers)
        assert_error(r, 400)
    ok = await raw_client.post(AGENTS, json={"name": "a-b_c.d9"}, headers=auth_headers)
    assert ok.status_code == 201 and ok.json()["owner"] is None
    assert_error(await raw_client.post(AGENTS, json={"name": "a-b_c.d9"}, headers=auth_headers), 409)


async def test_scopes(raw_client, auth_headers, readonly_headers) -> None:
    cert, _ = make_ca()
    assert_error(await upload(raw_client, readonly_headers, pem(cert)), 403)
    assert_error(await raw_client.post(AGENTS, json={"name": "dev"}, headers=readonly_headers), 403)
    assert (await raw_client.get(CA, headers=readonly_headers)).status_code == 200
    assert (await raw_client.get(AGENTS, headers=readonly_headers)).status_code == 200
    assert_error(await raw_client.get(CA), 401)
