"""Inspection: the facts of a certificate, request or key in typed, display-ready form.

Every field a user asks about (issue 10 §1): subject, issuer, serial, validity with days left, SHA-256
fingerprint, extensions in plain words, key type and size. A certificate with damaged extensions is still
inspected: the extension list then says it cannot be read.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tui.pki.errors import InputError
from tui.pki.keys import KeyInfo, PrivateKey, PublicKey, key_id, key_info
from tui.pki.load import Passphrase, certificate_pem, read_material


def fingerprint_sha256(certificate: x509.Certificate) -> str:
    """Lowercase hex, no separators (the form of the API's ``fingerprintSha256``, reference 5.3)."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def normalize_fingerprint(value: str | None) -> str:
    """``AB:CD:...`` or ``abcd...`` -> ``abcd...`` (for comparing fingerprints from anywhere)."""
    return "".join(ch for ch in (value or "").lower() if ch in "0123456789abcdef")


def display_fingerprint(hex_value: str) -> str:
    """``abcd...`` -> ``AB:CD:...`` (as ``openssl x509 -fingerprint -sha256`` prints it)."""
    clean = normalize_fingerprint(hex_value).upper()
    return ":".join(clean[i : i + 2] for i in range(0, len(clean), 2))


@dataclass(frozen=True)
class ExtensionInfo:
    """One extension: display name, OID, critical flag and value in plain words."""

    name: str
    oid: str
    critical: bool
    value: str


@dataclass(frozen=True)
class CertificateInfo:
    """Everything shown about a certificate. Times are UTC; ``days_left`` is negative once expired."""

    subject: str
    issuer: str
    common_name: str | None
    serial_number: str
    version: int
    not_before: dt.datetime
    not_after: dt.datetime
    days_left: int
    fingerprint_sha256: str
    signature_algorithm: str
    signature_hash: str | None
    key: KeyInfo
    key_id: str
    extensions: tuple[ExtensionInfo, ...]
    extensions_error: str | None
    is_ca: bool
    self_issued: bool
    pem: str = field(repr=False)

    @property
    def fingerprint_display(self) -> str:
        return display_fingerprint(self.fingerprint_sha256)

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    def validity_text(self) -> str:
        """``2025-01-01 → 2026-01-01 (123 days left)`` or ``... (expired 3 days ago)``."""
        span = f"{self.not_before:%Y-%m-%d} → {self.not_after:%Y-%m-%d}"
        if self.days_left < 0:
            return f"{span} (expired {-self.days_left} day{'s' if self.days_left != -1 else ''} ago)"
        return f"{span} ({self.days_left} day{'s' if self.days_left != 1 else ''} left)"

    def extension(self, name: str) -> ExtensionInfo | None:
        return next((e for e in self.extensions if e.name == name), None)


@dataclass(frozen=True)
class RequestInfo:
    """A certificate signing request: subject, key, whether its signature verifies, requested extensions."""

    subject: str
    common_name: str | None
    key: KeyInfo
    signature_valid: bool
    signature_hash: str | None
    extensions: tuple[ExtensionInfo, ...]


@dataclass(frozen=True)
class KeyFacts:
    """A private or public key: type and size, and the SHA-256 of its public key (never the key)."""

    private: bool
    key: KeyInfo
    key_id: str


@dataclass(frozen=True)
class Inspection:
    """What one input holds, inspected."""

    certificates: tuple[CertificateInfo, ...] = ()
    requests: tuple[RequestInfo, ...] = ()
    keys: tuple[KeyFacts, ...] = ()
    encoding: str = "PEM"
    ignored: tuple[str, ...] = ()


def days_left(not_after: dt.datetime, now: dt.datetime | None = None) -> int:
    """Whole days until ``not_after`` (rounded down: 0 on the last day); once passed, minus the whole days
    since (at least -1), so -2 reads "expired 2 days ago"."""
    at = now or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    days = (not_after - at).total_seconds() / 86400
    return math.floor(days) if days >= 0 else -max(1, math.floor(-days))


def _common_name(name: x509.Name) -> str | None:
    try:
        values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return None
    return str(values[0].value) if values else None


def _rfc4514(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()
    except ValueError:
        return "(unreadable name)"


def _hash_name(algorithm: hashes.HashAlgorithm | None) -> str | None:
    return algorithm.name.upper().replace("SHA", "SHA-", 1) if algorithm is not None else None


def _safe_hash(obj: x509.Certificate | x509.CertificateSigningRequest) -> str | None:
    try:
        return _hash_name(obj.signature_hash_algorithm)
    except Exception:  # noqa: BLE001 - UnsupportedAlgorithm for unknown signature algorithms
        return None


def _signature_algorithm(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    return getattr(oid, "_name", None) or oid.dotted_string


_EKU_NAMES = {
    ExtendedKeyUsageOID.CLIENT_AUTH: "TLS client authentication (clientAuth)",
    ExtendedKeyUsageOID.SERVER_AUTH: "TLS server authentication (serverAuth)",
    ExtendedKeyUsageOID.CODE_SIGNING: "code signing",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "e-mail protection",
    ExtendedKeyUsageOID.TIME_STAMPING: "time stamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSP signing",
}


def _colon_hex(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)


def _general_names(names: x509.GeneralNames | x509.SubjectAlternativeName) -> str:
    parts = []
    for general in names:
        label = type(general).__name__.replace("Name", "").replace("Uniform", "").replace("Resource", "")
        value = general.value
        if isinstance(value, x509.Name):
            value = _rfc4514(value)
        parts.append(f"{label}:{value}")
    return ", ".join(parts)


def describe_extension(ext: x509.Extension[x509.ExtensionType]) -> ExtensionInfo:
    """An extension in plain words."""
    value = ext.value
    oid = ext.oid
    name = getattr(oid, "_name", None) or oid.dotted_string
    if isinstance(value, x509.BasicConstraints):
        name = "basicConstraints"
        text = "CA: yes" if value.ca else "CA: no (end entity)"
        if value.ca and value.path_length is not None:
            text += f", path length {value.path_length}"
    elif isinstance(value, x509.KeyUsage):
        name = "keyUsage"
        flags = [
            ("digitalSignature", value.digital_signature),
            ("contentCommitment", value.content_commitment),
            ("keyEncipherment", value.key_encipherment),
            ("dataEncipherment", value.data_encipherment),
            ("keyAgreement", value.key_agreement),
            ("keyCertSign", value.key_cert_sign),
            ("cRLSign", value.crl_sign),
        ]
        if value.key_agreement:
            flags += [("encipherOnly", value.encipher_only), ("decipherOnly", value.decipher_only)]
        text = ", ".join(n for n, on in flags if on) or "(none)"
    elif isinstance(value, x509.ExtendedKeyUsage):
        name = "extendedKeyUsage"
        text = ", ".join(_EKU_NAMES.get(u, getattr(u, "_name", None) or u.dotted_string) for u in value)
    elif isinstance(value, x509.SubjectKeyIdentifier):
        name = "subjectKeyIdentifier"
        text = _colon_hex(value.digest)
    elif isinstance(value, x509.AuthorityKeyIdentifier):
        name = "authorityKeyIdentifier"
        parts = []
        if value.key_identifier:
            parts.append(f"keyid {_colon_hex(value.key_identifier)}")
        if value.authority_cert_serial_number is not None:
            parts.append(f"serial {value.authority_cert_serial_number:x}")
        text = ", ".join(parts) or "(empty)"
    elif isinstance(value, x509.SubjectAlternativeName):
        name = "subjectAltName"
        text = _general_names(value)
    elif isinstance(value, x509.CRLDistributionPoints):
        name = "cRLDistributionPoints"
        text = ", ".join(_general_names(x509.GeneralNames(dp.full_name or [])) for dp in value) or "(none)"
    elif isinstance(value, x509.AuthorityInformationAccess):
        name = "authorityInfoAccess"
        text = ", ".join(
            f"{getattr(d.access_method, '_name', d.access_method.dotted_string)}: {d.access_location.value}"
            for d in value
        )
    elif isinstance(value, x509.CertificatePolicies):
        name = "certificatePolicies"
        text = ", ".join(p.policy_identifier.dotted_string for p in value)
    elif isinstance(value, x509.UnrecognizedExtension):
        text = f"unrecognised ({len(value.value)} bytes)"
    else:
        text = type(value).__name__
    return ExtensionInfo(name, oid.dotted_string, ext.critical, text)


def extensions_problem(exc: BaseException) -> str:
    """Why a certificate's extensions cannot be read, in plain words (not the parser's message)."""
    if "duplicate" in str(exc).lower():
        return "the extensions cannot be read (an extension appears twice)"
    return "the extensions cannot be read (damaged encoding)"


def inspect_certificate(certificate: x509.Certificate, now: dt.datetime | None = None) -> CertificateInfo:
    """Every displayed fact of ``certificate``; a damaged extension list is reported, not raised."""
    extensions: tuple[ExtensionInfo, ...] = ()
    extensions_error = None
    is_ca = False
    try:
        exts = certificate.extensions
        extensions = tuple(describe_extension(e) for e in exts)
        try:
            is_ca = bool(exts.get_extension_for_class(x509.BasicConstraints).value.ca)
        except x509.ExtensionNotFound:
            is_ca = False
    except Exception as exc:  # noqa: BLE001 - duplicate or malformed extensions raise ValueError
        extensions_error = extensions_problem(exc)
    try:
        public = certificate.public_key()
        info = key_info(public)
        kid = key_id(public)
    except Exception:  # noqa: BLE001 - unsupported key algorithms
        info, kid = KeyInfo("unsupported", 0), ""
    try:
        version = 3 if certificate.version == x509.Version.v3 else 1
    except x509.InvalidVersion:
        version = 0
    return CertificateInfo(
        subject=_rfc4514(certificate.subject),
        issuer=_rfc4514(certificate.issuer),
        common_name=_common_name(certificate.subject),
        serial_number=format(certificate.serial_number, "x"),
        version=version,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        days_left=days_left(certificate.not_valid_after_utc, now),
        fingerprint_sha256=fingerprint_sha256(certificate),
        signature_algorithm=_signature_algorithm(certificate),
        signature_hash=_safe_hash(certificate),
        key=info,
        key_id=kid,
        extensions=extensions,
        extensions_error=extensions_error,
        is_ca=is_ca,
        self_issued=certificate.subject == certificate.issuer,
        pem=certificate_pem(certificate),
    )


def inspect_request(csr: x509.CertificateSigningRequest) -> RequestInfo:
    try:
        valid = csr.is_signature_valid
    except Exception:  # noqa: BLE001
        valid = False
    try:
        extensions = tuple(describe_extension(e) for e in csr.extensions)
    except Exception:  # noqa: BLE001
        extensions = ()
    try:
        info = key_info(csr.public_key())
    except Exception:  # noqa: BLE001
        info = KeyInfo("unsupported", 0)
    return RequestInfo(
        subject=_rfc4514(csr.subject),
        common_name=_common_name(csr.subject),
        key=info,
        signature_valid=valid,
        signature_hash=_safe_hash(csr),
        extensions=extensions,
    )


def inspect_key(key: PrivateKey | PublicKey) -> KeyFacts:
    private = hasattr(key, "private_bytes")
    try:
        kid = key_id(key)
    except Exception:  # noqa: BLE001
        kid = ""
    return KeyFacts(private, key_info(key), kid)


def inspect(
    data: bytes | str,
    passphrase: Passphrase = None,
    *,
    now: dt.datetime | None = None,
    what: str = "the input",
) -> Inspection:
    """Inspect whatever ``data`` holds (certificates, requests, keys). Raises ``InputError`` (and its
    passphrase subclasses) when nothing can be read; never shows key material."""
    material = read_material(data, passphrase, what=what)
    try:
        return Inspection(
            certificates=tuple(inspect_certificate(c, now) for c in material.certificates),
            requests=tuple(inspect_request(r) for r in material.requests),
            keys=tuple(inspect_key(k) for k in (*material.private_keys, *material.public_keys)),
            encoding=material.encoding,
            ignored=material.ignored,
        )
    except ValueError as exc:  # a field cryptography parses lazily (e.g. a bad date) failed
        raise InputError(f"{what} holds a damaged certificate ({type(exc).__name__})") from None
