"""Certificate checks and issuing for the simulator's MindConnect MQTT API (reference 5.3).

Uses ``cryptography`` directly (the simulator imports nothing from ``tui/pki`` or ``tui/api``). Errors
are ``CertificateError`` with a one-line message that never contains key material.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

SHA2 = (hashes.SHA224, hashes.SHA256, hashes.SHA384, hashes.SHA512, hashes.SHA512_224, hashes.SHA512_256)
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


class CertificateError(ValueError):
    """A certificate that does not meet a rule; ``str()`` is a one-line message."""


def load_single_certificate(pem: object, what: str = "certificate") -> x509.Certificate:
    """Exactly one PEM ``CERTIFICATE`` block, parsed; CertificateError otherwise."""
    if not isinstance(pem, str) or not pem.strip():
        raise CertificateError(f"The {what} must be a PEM string")
    blocks = _PEM_BLOCK.findall(pem)
    if not blocks:
        raise CertificateError(f"The {what} is not PEM: no '-----BEGIN CERTIFICATE-----' block")
    kinds = [kind for kind, _body in blocks]
    if any(kind != "CERTIFICATE" for kind in kinds):
        raise CertificateError(
            f"The {what} must hold only a certificate, found: {', '.join(sorted(set(kinds)))}"
        )
    if len(blocks) != 1:
        raise CertificateError(f"The {what} must hold exactly one certificate, found {len(blocks)}")
    try:
        return x509.load_pem_x509_certificate(pem.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise CertificateError(f"The {what} is not a valid X.509 certificate") from None


def fingerprint_sha256(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def check_ca_certificate(cert: x509.Certificate) -> None:
    """The upload rules of 5.3: X.509 v3, BasicConstraints CA:TRUE, KeyUsage keyCertSign, SHA-2 signature."""
    if cert.version != x509.Version.v3:
        raise CertificateError("The CA certificate must be an X.509 v3 certificate")
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise CertificateError(
            "The CA certificate has no BasicConstraints extension (CA:TRUE required)"
        ) from None
    if not constraints.ca:
        raise CertificateError("The certificate is not a CA certificate (BasicConstraints CA:FALSE)")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise CertificateError(
            "The CA certificate has no KeyUsage extension (keyCertSign required)"
        ) from None
    if not usage.key_cert_sign:
        raise CertificateError("The CA certificate's KeyUsage does not include keyCertSign")
    algorithm = cert.signature_hash_algorithm
    if not isinstance(algorithm, SHA2):
        name = algorithm.name.upper() if algorithm is not None else "a non-hash-based algorithm"
        raise CertificateError(f"The CA certificate is signed with {name}; a SHA-2 signature is required")


def check_verification_certificate(
    cert: x509.Certificate, ca: x509.Certificate, registration_code: str, now: dt.datetime
) -> None:
    """Proof of possession: CN = registration code, signed by the CA's key, not expired."""
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn = str(cns[0].value) if cns else ""
    if cn != registration_code:
        raise CertificateError(
            "The verification certificate's subject CN must be the registration code of this CA certificate"
        )
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateError(
            "The verification certificate is not signed with this CA certificate's private key"
        ) from None
    if cert.not_valid_after_utc <= now:
        raise CertificateError("The verification certificate has expired")


def iso_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class MqttCa:
    """The simulator-internal CA that issues auto-generated agent certificates (RSA 2048)."""

    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls, tenant: str, now: dt.datetime) -> MqttCa:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ihub simulator"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"ihub simulator MQTT CA ({tenant})"),
            ]
        )
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def issue(self, common_name: str, now: dt.datetime, days: int = 365) -> tuple[str, str]:
        """A new RSA 2048 key and a certificate with CN=<common_name>: (certificate PEM, private key PEM)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.certificate.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.private_key.public_key()),
                critical=False,
            )
            .sign(self.private_key, hashes.SHA256())
        )
        cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode("ascii")
        return cert_pem, key_pem
