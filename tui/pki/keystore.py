"""CA private keys kept by ihub: per tenant, encrypted at rest, written durably before they are needed.

Layout (issue 10 §2)::

    <data folder>/pki/<tenant>/            mode 0700
        <key id>.key                       mode 0600, encrypted PKCS#8 PEM (PBES2, AES-256-CBC)
        <key id>.pem                       mode 0600, the CA certificate last saved with that key

``<key id>`` is the SHA-256 of the key's public half (``tui.pki.keys.key_id``), so the key of any
certificate (a renewed one too) is found from the certificate alone, and a file name reveals nothing.

The passphrase comes from a ``PassphraseSource``: a callable ``source(create) -> str`` that returns the
tenant's passphrase, and may make and keep a new one only when ``create`` is true (no key of the tenant
exists yet). ``tui.config.ca_passphrase.CaKeyPassphrase`` keeps it in the Keys area's secret store.

``save`` returns only after the key file is fsynced, its folder entry is fsynced and the file has been
read back and decrypted: a process killed at any point after ``save`` returns leaves a readable key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from tui.pki.errors import InputError, KeyMismatchError, KeyNotFoundError, KeyStoreError, PkiError
from tui.pki.files import PRIVATE_FILE, ensure_dir, write_file
from tui.pki.inspection import fingerprint_sha256, normalize_fingerprint
from tui.pki.keys import PrivateKey, SigningKey, is_signing_key, key_id, private_key_pem
from tui.pki.load import certificate_pem, load_certificate, read_file
from tui.pki.verify import key_matches_certificate

PassphraseSource = Callable[[bool], str | bytes]

TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_KEY_SUFFIX = ".key"
_CERT_SUFFIX = ".pem"
#: Minimum length of a passphrase chosen for an exported key.
EXPORT_PASSPHRASE_MIN = 8


@dataclass(frozen=True)
class StoredCa:
    """A CA key on this machine and the certificate saved with it (None if that file is missing)."""

    key_id: str
    key_path: Path
    certificate_path: Path | None
    certificate: x509.Certificate | None

    @property
    def fingerprint_sha256(self) -> str | None:
        return fingerprint_sha256(self.certificate) if self.certificate is not None else None

    @property
    def subject(self) -> str | None:
        return self.certificate.subject.rfc4514_string() if self.certificate is not None else None


def _secret(value: str | bytes) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if not data:
        raise KeyStoreError("the passphrase for CA keys is empty")
    return data


def _plain(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class CaKeyStore:
    """The CA keys of one tenant. Blocking file and crypto work: the UI calls it from a thread."""

    def __init__(self, folder: Path, passphrase: PassphraseSource) -> None:
        self.folder = folder
        self._source = passphrase

    def __repr__(self) -> str:
        return f"CaKeyStore(folder={str(self.folder)!r})"

    @classmethod
    def for_tenant(cls, root: Path, tenant: str, passphrase: PassphraseSource) -> CaKeyStore:
        """The store of ``tenant`` under ``root`` (``AppPaths.pki_dir``); ``KeyStoreError`` for a tenant
        name that cannot be a folder name."""
        if not TENANT_RE.match(tenant or ""):
            raise KeyStoreError(f"{(tenant or '')[:70]!r} is not a valid tenant name for the key store")
        return cls(root / tenant, passphrase)

    # -- paths --------------------------------------------------------------------------------------
    def _key_path(self, kid: str) -> Path:
        return self.folder / f"{kid}{_KEY_SUFFIX}"

    def _cert_path(self, kid: str) -> Path:
        return self.folder / f"{kid}{_CERT_SUFFIX}"

    def _key_ids(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(
            p.name[: -len(_KEY_SUFFIX)]
            for p in self.folder.iterdir()
            if p.name.endswith(_KEY_SUFFIX) and re.fullmatch(r"[0-9a-f]{64}", p.name[: -len(_KEY_SUFFIX)])
        )

    def _passphrase(self, create: bool) -> bytes:
        try:
            return _secret(self._source(create))
        except PkiError:
            raise
        except Exception as exc:  # noqa: BLE001 - secret-store errors carry plain messages without secrets
            raise KeyStoreError(f"the passphrase protecting CA keys is not available: {exc}") from None

    # -- saving -------------------------------------------------------------------------------------
    def save(self, certificate: x509.Certificate, key: PrivateKey) -> StoredCa:
        """Keep ``key`` (encrypted) and ``certificate``; durable and verified readable on return.

        Raises ``KeyMismatchError`` when the key is not the certificate's, ``KeyStoreError`` when the
        passphrase is unavailable or the folder is not writable. Nothing is written in either case.
        """
        if not is_signing_key(key):
            raise KeyStoreError("this key type cannot sign certificates and is not kept as a CA key")
        if not key_matches_certificate(key, certificate):
            raise KeyMismatchError(
                "the private key does not belong to this CA certificate; nothing was saved"
            )
        kid = key_id(key)
        key_path = self._key_path(kid)
        try:
            ensure_dir(self.folder.parent)
            ensure_dir(self.folder)
        except PkiError as exc:
            raise KeyStoreError(str(exc)) from None
        if key_path.exists():
            self._open(key_path)  # the same key is already kept: it must still open
        else:
            secret = self._passphrase(create=not self._key_ids())
            try:
                write_file(key_path, private_key_pem(key, secret), mode=PRIVATE_FILE)
            except PkiError as exc:
                raise KeyStoreError(f"the CA key could not be saved: {exc}") from None
            # Read back and compare byte for byte (RSA validation is skipped here: the bytes prove it is
            # the very key we were given, and validating a 4096-bit key costs half a second).
            reread = self._open(key_path, secret, validate=False)
            if _plain(reread) != _plain(key):
                raise KeyStoreError(f"the CA key file {key_path} does not read back correctly")
        cert_path = self._cert_path(kid)
        try:
            write_file(cert_path, certificate_pem(certificate).encode("ascii"), mode=PRIVATE_FILE)
        except PkiError as exc:
            raise KeyStoreError(f"the CA certificate could not be saved next to its key: {exc}") from None
        return StoredCa(kid, key_path, cert_path, certificate)

    # -- reading ------------------------------------------------------------------------------------
    def _open(self, key_path: Path, secret: bytes | None = None, *, validate: bool = True) -> SigningKey:
        try:
            data = read_file(key_path, what=f"the CA key file {key_path}")
        except InputError as exc:
            raise KeyStoreError(str(exc)) from None
        if secret is None:
            secret = self._passphrase(create=False)
        try:
            key = serialization.load_pem_private_key(
                data, secret, unsafe_skip_rsa_key_validation=not validate
            )
        except (ValueError, TypeError):
            raise KeyStoreError(
                f"the CA key file {key_path} cannot be opened with the stored passphrase "
                "(the passphrase in the secret store was changed, or the file is damaged)"
            ) from None
        if not is_signing_key(key):
            raise KeyStoreError(f"the CA key file {key_path} holds a key that cannot sign")
        return key  # type: ignore[return-value]

    def _stored(self, kid: str) -> StoredCa:
        cert_path = self._cert_path(kid)
        cert = None
        if cert_path.is_file():
            try:
                cert = load_certificate(read_file(cert_path), what=f"the file {cert_path}")
            except PkiError:
                cert = None
        return StoredCa(kid, self._key_path(kid), cert_path if cert is not None else None, cert)

    def list(self) -> list[StoredCa]:
        """Every CA key kept for this tenant (no passphrase needed)."""
        return [self._stored(kid) for kid in self._key_ids()]

    def find(
        self, certificate: x509.Certificate | None = None, *, fingerprint: str | None = None
    ) -> StoredCa | None:
        """The stored key of ``certificate`` (by its public key), or of the certificate saved with the
        SHA-256 ``fingerprint``; None when this machine does not have it."""
        if certificate is not None:
            try:
                kid = key_id(certificate.public_key())
            except (ValueError, TypeError, UnsupportedAlgorithm):
                return None  # a damaged or unsupported public key has no key here
            return self._stored(kid) if self._key_path(kid).is_file() else None
        wanted = normalize_fingerprint(fingerprint)
        if not wanted:
            return None
        for stored in self.list():
            if stored.fingerprint_sha256 == wanted:
                return stored
        return None

    def has_key(self, certificate: x509.Certificate) -> bool:
        return self.find(certificate) is not None

    def load_key(self, certificate: x509.Certificate) -> SigningKey:
        """The private key of ``certificate``; ``KeyNotFoundError`` when it is not on this machine,
        ``KeyStoreError`` when it cannot be opened."""
        stored = self.find(certificate)
        if stored is None:
            raise KeyNotFoundError("the private key of this CA certificate is not on this machine")
        return self._open(stored.key_path)

    def export_key(self, certificate: x509.Certificate, passphrase: str) -> bytes:
        """The CA key as encrypted PKCS#8 PEM under ``passphrase`` (the user's, at least 8 characters),
        for a backup or another machine. Never unencrypted."""
        if not passphrase or len(passphrase) < EXPORT_PASSPHRASE_MIN:
            raise KeyStoreError(f"choose an export passphrase of at least {EXPORT_PASSPHRASE_MIN} characters")
        return private_key_pem(self.load_key(certificate), passphrase)

    def export_key_to(self, certificate: x509.Certificate, passphrase: str, path: Path) -> Path:
        """``export_key`` written to ``path`` (mode 0600, atomically; an existing file is refused)."""
        data = self.export_key(certificate, passphrase)
        ensure_dir(path.parent)
        return write_file(path, data, mode=PRIVATE_FILE, overwrite=False)
