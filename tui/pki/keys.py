"""Key types, key generation and plain facts about keys (``cryptography`` only).

Key types by name, as the CLI spells them: ``rsa2048``, ``rsa3072``, ``rsa4096``, ``ec256`` (P-256),
``ec384`` (P-384).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
    PublicKeyTypes,
)

from tui.pki.errors import PkiError

#: Private keys that can sign certificates (RSA, EC, Ed25519, Ed448, DSA).
SigningKey = CertificateIssuerPrivateKeyTypes
PrivateKey = PrivateKeyTypes
PublicKey = PublicKeyTypes


class KeyType(StrEnum):
    """A key to generate: algorithm and size."""

    RSA2048 = "rsa2048"
    RSA3072 = "rsa3072"
    RSA4096 = "rsa4096"
    EC256 = "ec256"
    EC384 = "ec384"

    @classmethod
    def parse(cls, value: str | KeyType) -> KeyType:
        """``rsa2048``, ``RSA-2048``, ``ec256``, ``p-256``, ``secp384r1``...; ``PkiError`` otherwise."""
        if isinstance(value, KeyType):
            return value
        text = str(value).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
        aliases = {
            "rsa": cls.RSA2048,
            "p256": cls.EC256,
            "prime256v1": cls.EC256,
            "secp256r1": cls.EC256,
            "ecp256": cls.EC256,
            "p384": cls.EC384,
            "secp384r1": cls.EC384,
            "ecp384": cls.EC384,
        }
        if text in aliases:
            return aliases[text]
        try:
            return cls(text)
        except ValueError:
            choices = ", ".join(k.value for k in cls)
            raise PkiError(f"unknown key type {str(value)[:40]!r}: choose one of {choices}") from None

    @property
    def label(self) -> str:
        return {
            KeyType.RSA2048: "RSA 2048",
            KeyType.RSA3072: "RSA 3072",
            KeyType.RSA4096: "RSA 4096",
            KeyType.EC256: "EC P-256",
            KeyType.EC384: "EC P-384",
        }[self]


def generate_key(key_type: KeyType | str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """A new private key of ``key_type`` (RSA with public exponent 65537). CPU-heavy for RSA 3072/4096:
    the UI calls it from a thread."""
    kind = KeyType.parse(key_type)
    if kind is KeyType.EC256:
        return ec.generate_private_key(ec.SECP256R1())
    if kind is KeyType.EC384:
        return ec.generate_private_key(ec.SECP384R1())
    bits = {KeyType.RSA2048: 2048, KeyType.RSA3072: 3072, KeyType.RSA4096: 4096}[kind]
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


@dataclass(frozen=True)
class KeyInfo:
    """Algorithm and size of a key: ``algorithm`` ``"RSA"``, ``"EC"``, ``"Ed25519"``, ``"Ed448"``,
    ``"DSA"``, ...; ``size`` in bits; ``curve`` for EC (``"P-256"``)."""

    algorithm: str
    size: int
    curve: str | None = None

    @property
    def description(self) -> str:
        if self.algorithm == "EC":
            return f"EC {self.curve or '?'} ({self.size} bits)"
        if self.algorithm in ("Ed25519", "Ed448", "X25519", "X448"):
            return self.algorithm
        return f"{self.algorithm} {self.size}"

    def __str__(self) -> str:
        return self.description


def key_info(key: PrivateKey | PublicKey | Any) -> KeyInfo:
    """Algorithm and size of a private or public key."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return KeyInfo("RSA", key.key_size)
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        name = key.curve.name
        return KeyInfo("EC", key.curve.key_size, _CURVE_NAMES.get(name, name))
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return KeyInfo("Ed25519", 256)
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return KeyInfo("Ed448", 456)
    if isinstance(key, x25519.X25519PrivateKey | x25519.X25519PublicKey):
        return KeyInfo("X25519", 256)
    if isinstance(key, x448.X448PrivateKey | x448.X448PublicKey):
        return KeyInfo("X448", 448)
    if isinstance(key, dsa.DSAPrivateKey | dsa.DSAPublicKey):
        return KeyInfo("DSA", key.key_size)
    return KeyInfo(type(key).__name__, 0)


def public_key_of(key: PrivateKey | PublicKey) -> PublicKey:
    if hasattr(key, "private_bytes"):
        return key.public_key()  # type: ignore[union-attr]
    return key


def spki_der(key: PrivateKey | PublicKey) -> bytes:
    """The DER SubjectPublicKeyInfo of a key (of the public half for a private key)."""
    return public_key_of(key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: PrivateKey | PublicKey) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex: names a key without revealing it."""
    return hashlib.sha256(spki_der(key)).hexdigest()


def is_signing_key(key: object) -> bool:
    """True for keys that can sign certificates (RSA, EC, Ed25519, Ed448, DSA)."""
    return isinstance(
        key,
        rsa.RSAPrivateKey
        | ec.EllipticCurvePrivateKey
        | ed25519.Ed25519PrivateKey
        | ed448.Ed448PrivateKey
        | dsa.DSAPrivateKey,
    )


def private_key_pem(key: PrivateKey, passphrase: str | bytes | None = None) -> bytes:
    """PKCS#8 PEM of ``key``; encrypted when a passphrase is given (``ENCRYPTED PRIVATE KEY``: PBES2 with
    PBKDF2-HMAC-SHA256 and AES-256-CBC, what ``openssl pkcs8 -topk8 -v2 aes-256-cbc`` writes). OpenSSL and
    every common TLS stack read both."""
    if passphrase is None:
        encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    else:
        secret = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
        if not secret:
            raise PkiError("the passphrase is empty")
        encryption = serialization.BestAvailableEncryption(secret)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
