"""Reading what users hand over (issue 10 §1): PEM or DER; certificate, chain, CSR, private key in
PKCS#1, PKCS#8, SEC1 or encrypted; CRLF; text around the PEM blocks; and clear errors otherwise."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from tests.pki.conftest import der, pem
from tui.pki import (
    InputError,
    PassphraseRequiredError,
    WrongPassphraseError,
    load_certificate,
    load_certificates,
    load_csr,
    load_private_key,
    read_file,
    read_material,
)
from tui.pki.load import MAX_INPUT_BYTES

E = serialization.Encoding
F = serialization.PrivateFormat


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _same(a, b) -> bool:
    return a.public_key().public_bytes(
        E.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == b.public_key().public_bytes(E.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_certificate_in_every_wrapping(ec_ca) -> None:
    cert = ec_ca.certificate
    text = pem(cert)
    body = "".join(text.splitlines()[1:-1])
    forms = {
        "pem": text,
        "pem bytes": text.encode(),
        "der": der(cert),
        "crlf": text.replace("\n", "\r\n"),
        "cr only": text.replace("\n", "\r"),
        "text around": "Certificate:\n    Data: (openssl -text output)\n" + text + "\nthanks, the PKI team\n",
        "bom and indent": "\ufeff" + "\n".join("    " + line for line in text.splitlines()),
        "zero-width space in body": text.replace(body[10:20], body[10:15] + "\u200b" + body[15:20]),
        "no-break spaces": text.replace("\n", "\u00a0\n", 3),
        # issue 7 section 5: every other invisible passenger of a paste (marks, isolates, selectors)
        "other invisible characters in body": text.replace(
            body[10:20],
            body[10:12] + "\u200e" + body[12:14] + "\u2066\u2069" + body[14:16] + "\ufe0f" + body[16:20],
        ),
        "odd spaces and separators": text.replace("\n", "\u3000\u2028", 2),
        "one long line": f"-----BEGIN CERTIFICATE-----{body}-----END CERTIFICATE-----",
        "base64 only": "\n".join(body[i : i + 64] for i in range(0, len(body), 64)),
        "x509 label": text.replace("BEGIN CERTIFICATE", "BEGIN X509 CERTIFICATE").replace(
            "END CERTIFICATE", "END X509 CERTIFICATE"
        ),
    }
    for label, data in forms.items():
        assert load_certificate(data) == cert, label
    assert read_material(der(cert)).encoding == "DER"
    assert read_material(forms["base64 only"]).encoding == "base64"


def test_trusted_certificate_block_from_openssl_trustout(ec_ca) -> None:
    trust_aux = bytes.fromhex("300c300a06082b06010505070302")  # SEQUENCE { SEQUENCE { clientAuth } }
    data = der(ec_ca.certificate) + trust_aux
    b64 = base64.b64encode(data).decode()
    text = "-----BEGIN TRUSTED CERTIFICATE-----\n" + b64 + "\n-----END TRUSTED CERTIFICATE-----\n"
    assert load_certificate(text) == ec_ca.certificate


def test_chains_and_bundles(ec_ca, rsa_ca) -> None:
    chain = pem(ec_ca.certificate) + "\n# next\n" + pem(rsa_ca.certificate)
    assert load_certificates(chain) == [ec_ca.certificate, rsa_ca.certificate]
    p7 = pkcs7.serialize_certificates([ec_ca.certificate, rsa_ca.certificate], E.PEM)
    assert set(load_certificates(p7)) == {ec_ca.certificate, rsa_ca.certificate}
    p7der = pkcs7.serialize_certificates([ec_ca.certificate], E.DER)
    assert load_certificates(p7der) == [ec_ca.certificate]
    with pytest.raises(InputError, match="2 certificates; exactly one"):
        load_certificate(chain)


def test_certificate_requests(ec_key) -> None:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dev")]))
        .sign(ec_key, hashes.SHA256())
    )
    text = csr.public_bytes(E.PEM).decode()
    assert load_csr(text) == csr
    assert load_csr(csr.public_bytes(E.DER)) == csr
    assert load_csr(text.replace("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")) == csr
    assert load_csr(text.replace("\n", "\r\n")) == csr


@pytest.mark.parametrize(
    ("label", "encoding", "fmt", "expected_block"),
    [
        ("rsa pkcs1 pem", E.PEM, F.TraditionalOpenSSL, "RSA PRIVATE KEY"),
        ("rsa pkcs8 pem", E.PEM, F.PKCS8, "PRIVATE KEY"),
        ("rsa pkcs1 der", E.DER, F.TraditionalOpenSSL, None),
        ("rsa pkcs8 der", E.DER, F.PKCS8, None),
    ],
)
def test_rsa_private_keys(rsa_key, label, encoding, fmt, expected_block) -> None:
    data = rsa_key.private_bytes(encoding, fmt, serialization.NoEncryption())
    if expected_block:
        assert f"BEGIN {expected_block}-----" in data.decode()
    key = load_private_key(data)
    assert _same(key, rsa_key), label
    assert _same(load_private_key(data, "unneeded passphrase"), rsa_key)  # ignored for a plain key


@pytest.mark.parametrize(
    ("label", "encoding", "fmt", "expected_block"),
    [
        ("ec sec1 pem", E.PEM, F.TraditionalOpenSSL, "EC PRIVATE KEY"),
        ("ec pkcs8 pem", E.PEM, F.PKCS8, "PRIVATE KEY"),
        ("ec sec1 der", E.DER, F.TraditionalOpenSSL, None),
        ("ec pkcs8 der", E.DER, F.PKCS8, None),
    ],
)
def test_ec_private_keys(ec_key, label, encoding, fmt, expected_block) -> None:
    data = ec_key.private_bytes(encoding, fmt, serialization.NoEncryption())
    if expected_block:
        assert f"BEGIN {expected_block}-----" in data.decode()
    assert _same(load_private_key(data), ec_key), label


def test_ec_parameters_block_before_the_key_is_fine(ec_key) -> None:
    params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    data = params + ec_key.private_bytes(E.PEM, F.TraditionalOpenSSL, serialization.NoEncryption()).decode()
    assert _same(load_private_key(data), ec_key)


@pytest.mark.parametrize(
    ("label", "encoding", "fmt"),
    [
        ("encrypted pkcs8 pem", E.PEM, F.PKCS8),
        ("legacy encrypted pkcs1 pem (Proc-Type)", E.PEM, F.TraditionalOpenSSL),
        ("encrypted pkcs8 der", E.DER, F.PKCS8),
    ],
)
def test_encrypted_private_keys(rsa_key, label, encoding, fmt) -> None:
    data = rsa_key.private_bytes(encoding, fmt, serialization.BestAvailableEncryption(b"s3cret-pass"))
    if fmt is F.TraditionalOpenSSL:
        assert b"Proc-Type: 4,ENCRYPTED" in data
    assert _same(load_private_key(data, "s3cret-pass"), rsa_key), label
    assert _same(
        load_private_key(data.replace(b"\n", b"\r\n") if encoding is E.PEM else data, b"s3cret-pass"), rsa_key
    )
    with pytest.raises(PassphraseRequiredError, match="encrypted; give its passphrase"):
        load_private_key(data)
    with pytest.raises(WrongPassphraseError, match="passphrase does not decrypt") as info:
        load_private_key(data, "wrong")
    assert "s3cret" not in str(info.value)


def test_key_and_certificate_in_one_file(ec_ca) -> None:
    both = (
        pem(ec_ca.certificate)
        + ec_ca.private_key.private_bytes(E.PEM, F.PKCS8, serialization.NoEncryption()).decode()
    )
    material = read_material(both)
    assert material.summary() == "a certificate and a private key"
    assert load_certificate(both) == ec_ca.certificate
    assert _same(load_private_key(both), ec_ca.private_key)


KEY_BODY = re.compile(r"[A-Za-z0-9+/]{20,}")


def _errors_for(data: bytes | str, loader=load_certificate) -> str:
    with pytest.raises(InputError) as info:
        loader(data)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300
    return message


def test_clear_errors(ec_ca, ec_key) -> None:
    text = pem(ec_ca.certificate)
    key_pem = ec_key.private_bytes(E.PEM, F.PKCS8, serialization.NoEncryption()).decode()
    assert "is empty" in _errors_for("  \n")
    assert "not PEM" in _errors_for("hello, this is a certificate, trust me")
    assert "binary data" in _errors_for(bytes(range(1, 200)))
    assert "no END line" in _errors_for(text[: len(text) // 2])
    assert "ends as" in _errors_for(text.replace("END CERTIFICATE", "END PRIVATE KEY"))
    assert "without its BEGIN" in _errors_for(text[40:])
    assert "contains '!' (U+0021 EXCLAMATION MARK), which is not base64" in _errors_for(
        text.replace(text.splitlines()[2][:8], "!!!!????")
    )
    line = text.splitlines()[2]
    assert "contains 'é' (U+00E9 LATIN SMALL LETTER E WITH ACUTE), which is not base64" in _errors_for(
        text.replace(line, line[:5] + "é" + line[5:])
    )
    assert "contains a control character (U+0000), which is not base64" in _errors_for(
        text.replace(line, line[:5] + "\x00" + line[5:])
    )
    assert "not a valid X.509 certificate" in _errors_for(text.replace(text.splitlines()[2], "QUJD" * 16))
    assert "DER data" in _errors_for(der(ec_ca.certificate)[:-20])
    message = _errors_for(key_pem)
    assert "holds no certificate (found: a private key)" in message
    for chunk in KEY_BODY.findall(key_pem):
        assert chunk not in message
    message = _errors_for(pem(ec_ca.certificate), load_private_key)
    assert "holds no private key (found: a certificate)" in message
    message = _errors_for(text.replace("CERTIFICATE", "X509 CRL"))
    assert "found: X509 CRL" in message


def test_size_limits(tmp_path) -> None:
    huge = b"A" * (MAX_INPUT_BYTES + 1)
    assert "too large" in _errors_for(huge)
    big_file = tmp_path / "huge.pem"
    big_file.write_bytes(huge)
    with pytest.raises(InputError, match="too large"):
        read_file(big_file)
    with pytest.raises(InputError, match="does not exist"):
        read_file(tmp_path / "missing.pem")
    with pytest.raises(InputError, match="is a folder"):
        read_file(tmp_path)


@pytest.mark.parametrize("encoding", [E.DER, E.PEM])
def test_a_wrong_passphrase_is_named_even_when_it_decrypts_to_garbage(ec_key, encoding) -> None:
    # AES-CBC with a wrong key yields valid padding about once in 256 tries; the parse fails then, not the
    # decryption. 1 500 fresh encryptions make that case near-certain to occur at least once.
    for _ in range(1500):
        data = ec_key.private_bytes(encoding, F.PKCS8, serialization.BestAvailableEncryption(b"s3cret-pass"))
        with pytest.raises(WrongPassphraseError, match="passphrase does not decrypt"):
            load_private_key(data, "wrong")
