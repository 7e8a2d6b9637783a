"""TLS: verification on by default, a custom CA bundle, and clear messages; a real TLS server on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.api.conftest import make_jwt
from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.api.errors import TransportError
from tui.api.tls import ssl_context


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test CA and a server certificate for 127.0.0.1 signed by it."""
    folder = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("ihub test CA"))
        .issuer_name(_name("ihub test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.fixture
async def tls_server(pki: dict[str, Path]) -> AsyncIterator[str]:
    """A tiny HTTPS server on 127.0.0.1: tokens at /oauth/token, {"ok": true} elsewhere."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki["cert"], pki["key"])

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            path = head.split(b" ")[1].decode()
            body = {"ok": True}
            if path.startswith("/oauth/token"):
                body = {"access_token": make_jwt(exp=4_000_000_000, iat=1), "expires_in": 1800}
            data = json.dumps(body).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(data)}\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ssl.SSLError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.close()


def test_verification_is_on_by_default() -> None:
    ctx = ssl_context(None)
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ssl_context(None, verify=False) is False


def test_custom_ca_bundle_is_loaded(pki: dict[str, Path]) -> None:
    ctx = ssl_context(str(pki["ca"]))
    assert isinstance(ctx, ssl.SSLContext)
    subjects = [dict(x[0] for x in c["subject"]).get("commonName") for c in ctx.get_ca_certs()]
    assert "ihub test CA" in subjects
    assert ctx.verify_mode == ssl.CERT_REQUIRED


def test_missing_or_bad_bundle_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TransportError, match="CA bundle not found"):
        ssl_context(str(tmp_path / "nope.pem"))
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(TransportError, match="no usable PEM"):
        ssl_context(str(bad))


def test_env_bundle_is_honoured(pki: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki["ca"]))
    ctx = ssl_context(None)
    assert isinstance(ctx, ssl.SSLContext)
    assert any(
        dict(x[0] for x in c["subject"]).get("commonName") == "ihub test CA" for c in ctx.get_ca_certs()
    )


def _config(url: str, ca_bundle: str | None) -> ConnectionConfig:
    cred = Credentials(CredentialStyle.CLIENT_CREDENTIALS, url + "/oauth/token", "id", "FAKE-secret")
    return ConnectionConfig(url, cred, ca_bundle=ca_bundle, max_retries=0)


async def test_untrusted_server_fails_with_clear_message(tls_server: str) -> None:
    async with ApiClient(_config(tls_server, None)) as api:
        with pytest.raises(TransportError) as info:
            await api.get_json("/api/x")
    assert info.value.kind == TransportError.TLS
    assert str(info.value).startswith("token endpoint: TLS certificate verification failed")


async def test_custom_ca_bundle_trusts_the_server(tls_server: str, pki: dict[str, Path]) -> None:
    async with ApiClient(_config(tls_server, str(pki["ca"]))) as api:
        assert await api.get_json("/api/x") == {"ok": True}


async def test_plain_httpx_with_context(tls_server: str, pki: dict[str, Path]) -> None:
    async with httpx.AsyncClient(verify=ssl_context(str(pki["ca"]))) as http:
        assert (await http.get(tls_server + "/x")).json() == {"ok": True}


def _client(gateway: str, token_url: str) -> ApiClient:
    creds = Credentials(CredentialStyle.CLIENT_CREDENTIALS, token_url, "demo-x-1.0.0-a", "FAKE-secret")
    return ApiClient(ConnectionConfig(gateway=gateway, credentials=creds))


async def test_tls_context_is_built_only_for_https_and_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import tui.api.tls as tls

    built: list[object] = []
    real = tls._build_context

    def counting(*args: object) -> ssl.SSLContext:
        built.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(tls, "_build_context", counting)
    tls._shared_context.cache_clear()
    plain = _client("http://127.0.0.1:8765", "http://127.0.0.1:8765/oauth/token")
    assert built == []  # a plain-HTTP gateway (the simulator) loads no certificate store
    first = _client("https://gateway.eu1.mindsphere.io", "https://t.piam.eu1.mindsphere.io/oauth/token")
    second = _client("https://gateway.eu1.mindsphere.io", "https://t.piam.eu1.mindsphere.io/oauth/token")
    assert len(built) == 1  # built once, then shared
    for client in (plain, first, second):
        await client.aclose()


async def test_plain_http_client_refuses_unverified_https(tls_server: str) -> None:
    # The no-trust context of an http-only client still verifies: an https URL fails, never goes unverified.
    client = _client("http://127.0.0.1:1", "http://127.0.0.1:1/oauth/token")
    with pytest.raises(httpx.ConnectError):
        await client.http.get(f"{tls_server}/anything")
    await client.aclose()
