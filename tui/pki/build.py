"""Making certificates: a tenant CA, the verification certificate of proof of possession, device
certificates issued by a CA, and certificates signed from a request (CSR).

Profiles (reference 5.1 and issue 10 §1):

- CA: X.509 v3, SHA-256, BasicConstraints CA:TRUE pathlen 0 (critical), KeyUsage keyCertSign + cRLSign
  (critical), Subject and Authority Key Identifiers, validity 365 days by default.
- Verification certificate: CN = the registration code, signed by the CA key, 1 day, BasicConstraints
  CA:FALSE, its own throw-away key.
- Device certificate: CN (and optional subject fields), BasicConstraints CA:FALSE (critical), KeyUsage
  digitalSignature (+ keyEncipherment for RSA) (critical), ExtendedKeyUsage clientAuth, SKI, AKI; never
  valid beyond its CA.

Times are UTC; every function takes ``now`` for reproducible tests. The start of validity is set five
minutes back so a device with a slightly slow clock accepts the certificate at once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tui.pki.errors import InputError, KeyMismatchError, PkiError, SubjectError
from tui.pki.files import PRIVATE_FILE, PUBLIC_FILE, check_writable, write_file
from tui.pki.keys import KeyType, PrivateKey, SigningKey, generate_key, is_signing_key, private_key_pem
from tui.pki.load import certificate_pem, certificates_pem
from tui.pki.verify import key_matches_certificate

CA_DEFAULT_DAYS = 365
DEVICE_DEFAULT_DAYS = 365
VERIFICATION_DAYS = 1
MAX_DAYS = 3650
BACKDATE = dt.timedelta(minutes=5)
#: File names for issued certificates: what a shell and every OS accept without quoting.
FILE_STEM_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# ------------------------------------------------------------------------------------------ subject


@dataclass(frozen=True)
class SubjectFields:
    """The subject of a certificate, field by field (X.520 upper bounds apply: 64 characters for most)."""

    common_name: str
    organization: str | None = None
    organizational_unit: str | None = None
    country: str | None = None
    state: str | None = None
    locality: str | None = None
    email: str | None = None

    def to_name(self) -> x509.Name:
        """The X.509 name; ``SubjectError`` in plain words for an empty CN, a bad country code, a field
        too long or with control characters."""
        attributes: list[x509.NameAttribute] = []
        for oid, label, value, limit in (
            (NameOID.COUNTRY_NAME, "country", self.country, 2),
            (NameOID.STATE_OR_PROVINCE_NAME, "state", self.state, 128),
            (NameOID.LOCALITY_NAME, "locality", self.locality, 128),
            (NameOID.ORGANIZATION_NAME, "organization", self.organization, 64),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, "organizational unit", self.organizational_unit, 64),
            (NameOID.COMMON_NAME, "common name", self.common_name, 64),
            (NameOID.EMAIL_ADDRESS, "e-mail", self.email, 128),
        ):
            text = (value or "").strip()
            if not text:
                if oid == NameOID.COMMON_NAME:
                    raise SubjectError("the common name (CN) is required")
                continue
            if _CONTROL.search(text):
                raise SubjectError(f"the {label} contains a control character")
            if oid == NameOID.COUNTRY_NAME:
                if not re.fullmatch(r"[A-Za-z]{2}", text):
                    raise SubjectError("the country must be a two-letter code such as DE or US")
                text = text.upper()
            elif len(text) > limit:
                raise SubjectError(f"the {label} is longer than {limit} characters")
            if oid == NameOID.EMAIL_ADDRESS and not text.isascii():
                raise SubjectError("the e-mail address must be plain ASCII")
            attributes.append(x509.NameAttribute(oid, text))
        return x509.Name(attributes)


def _subject(subject: SubjectFields | str) -> x509.Name:
    if isinstance(subject, str):
        subject = SubjectFields(common_name=subject)
    return subject.to_name()


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    return now if now.tzinfo else now.replace(tzinfo=dt.UTC)


def _days(days: int, what: str) -> int:
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise SubjectError(f"the validity of the {what} must be 1 to {MAX_DAYS} days")
    return days


def _hash_for(key: SigningKey) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey) else hashes.SHA256()


def _key_usage(*, digital_signature=False, key_encipherment=False, cert_sign=False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


# ----------------------------------------------------------------------------------------------- CA


@dataclass(frozen=True)
class CaMaterial:
    """A CA certificate and its private key (never shown: ``repr`` leaves the key out)."""

    certificate: x509.Certificate
    private_key: SigningKey = field(repr=False)

    @property
    def certificate_pem(self) -> str:
        return certificate_pem(self.certificate)


def create_ca(
    subject: SubjectFields | str,
    key_type: KeyType | str = KeyType.RSA2048,
    days: int = CA_DEFAULT_DAYS,
    *,
    key: SigningKey | None = None,
    now: dt.datetime | None = None,
) -> CaMaterial:
    """A new self-signed tenant CA (the profile in the module docstring). ``key`` reuses an existing key
    (renewal); otherwise a new key of ``key_type`` is generated (RSA 3072/4096 take a second: call from a
    thread). Raises ``SubjectError`` / ``PkiError``."""
    name = _subject(subject)
    validity = _days(days, "CA")
    if key is None:
        key = generate_key(key_type)
    elif not is_signing_key(key):
        raise PkiError("this key type cannot sign certificates")
    start = _now(now) - BACKDATE
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=validity))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, _hash_for(key))
    )
    return CaMaterial(cert, key)


def _require_issuer(ca_certificate: x509.Certificate, ca_key: PrivateKey) -> SigningKey:
    if not is_signing_key(ca_key):
        raise PkiError("the CA key cannot sign certificates (unsupported key type)")
    if not key_matches_certificate(ca_key, ca_certificate):
        raise KeyMismatchError(
            "the private key does not belong to this CA certificate (their public keys differ)"
        )
    try:
        constraints = ca_certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    except ValueError:
        raise InputError("the CA certificate has damaged extensions") from None
    if constraints is None or not constraints.ca:
        raise PkiError("the issuing certificate is not a CA (BasicConstraints CA:TRUE is missing)")
    return ca_key  # type: ignore[return-value]


def _authority_key_id(ca_certificate: x509.Certificate, ca_key: SigningKey) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except (x509.ExtensionNotFound, ValueError):
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())


# ------------------------------------------------------------------------------------- verification


def make_verification_certificate(
    registration_code: str,
    ca_certificate: x509.Certificate,
    ca_key: PrivateKey,
    *,
    days: int = VERIFICATION_DAYS,
    key_type: KeyType | str = KeyType.EC256,
    now: dt.datetime | None = None,
) -> x509.Certificate:
    """The verification certificate for proof of possession (reference 5.1): subject CN = the
    registration code, signed with the CA's private key. Its own key is generated and discarded (only the
    signature by the CA key matters). Raises ``KeyMismatchError`` when ``ca_key`` is not the CA's key."""
    code = (registration_code or "").strip()
    if not code:
        raise SubjectError("the registration code is empty")
    if len(code) > 64 or _CONTROL.search(code):
        raise SubjectError("the registration code is not valid (at most 64 printable characters)")
    signer = _require_issuer(ca_certificate, ca_key)
    key = generate_key(key_type)
    start = _now(now) - BACKDATE
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, code)]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=_days(days, "verification certificate")) + BACKDATE)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_authority_key_id(ca_certificate, signer), critical=False)
        .sign(signer, _hash_for(signer))
    )
    return cert


# ------------------------------------------------------------------------------------------- device


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate issued by a CA, with its key when we generated it, and the chain (leaf, CA)."""

    certificate: x509.Certificate
    private_key: PrivateKey | None = field(default=None, repr=False)
    chain: tuple[x509.Certificate, ...] = ()
    #: Plain-word remarks, e.g. that the validity was shortened to the CA's.
    notes: tuple[str, ...] = ()

    @property
    def certificate_pem(self) -> str:
        return certificate_pem(self.certificate)

    @property
    def chain_pem(self) -> str:
        return certificates_pem(self.chain or (self.certificate,))


def _validity_within(
    ca_certificate: x509.Certificate, days: int, now: dt.datetime | None
) -> tuple[dt.datetime, dt.datetime, tuple[str, ...]]:
    start = _now(now) - BACKDATE
    end = start + dt.timedelta(days=_days(days, "certificate"))
    ca_end = ca_certificate.not_valid_after_utc
    if ca_end <= _now(now):
        raise PkiError(f"the CA certificate expired on {ca_end:%Y-%m-%d}; it cannot issue certificates")
    notes: tuple[str, ...] = ()
    if end > ca_end:
        end = ca_end
        notes = (f"validity shortened to the CA's end, {ca_end:%Y-%m-%d}",)
    return start, end, notes


def _leaf_extensions(
    builder: x509.CertificateBuilder,
    public: object,
    ca_certificate: x509.Certificate,
    signer: SigningKey,
    *,
    client_auth: bool,
) -> x509.CertificateBuilder:
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    builder = builder.add_extension(
        _key_usage(digital_signature=True, key_encipherment=isinstance(public, rsa.RSAPublicKey)),
        critical=True,
    )
    if client_auth:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)  # type: ignore[arg-type]
    return builder.add_extension(_authority_key_id(ca_certificate, signer), critical=False)


def issue_certificate(
    ca_certificate: x509.Certificate,
    ca_key: PrivateKey,
    subject: SubjectFields | str,
    *,
    days: int = DEVICE_DEFAULT_DAYS,
    key_type: KeyType | str = KeyType.RSA2048,
    now: dt.datetime | None = None,
) -> IssuedCertificate:
    """A device (agent) certificate with a new key, issued by the CA: clientAuth, never valid beyond the
    CA. Raises ``KeyMismatchError``, ``SubjectError``, ``PkiError``."""
    signer = _require_issuer(ca_certificate, ca_key)
    name = _subject(subject)
    start, end, notes = _validity_within(ca_certificate, days, now)
    key = generate_key(key_type)
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )
    cert = _leaf_extensions(builder, public, ca_certificate, signer, client_auth=True).sign(
        signer, _hash_for(signer)
    )
    return IssuedCertificate(cert, key, (cert, ca_certificate), notes)


def sign_csr(
    csr: x509.CertificateSigningRequest,
    ca_certificate: x509.Certificate,
    ca_key: PrivateKey,
    *,
    days: int = DEVICE_DEFAULT_DAYS,
    client_auth: bool = True,
    now: dt.datetime | None = None,
) -> IssuedCertificate:
    """Sign a certificate request with the CA: the request's subject and public key, the device profile
    (CA:FALSE, clientAuth), and the request's subjectAltName if it asks for one. The request's own
    signature must verify. Raises ``InputError``, ``KeyMismatchError``, ``PkiError``."""
    signer = _require_issuer(ca_certificate, ca_key)
    try:
        valid = csr.is_signature_valid
        public = csr.public_key()
        subject = csr.subject
        requested = list(csr.extensions)
    except Exception:  # noqa: BLE001 - cryptography raises several types for damaged requests
        raise InputError(
            "the certificate request is damaged (its key or extensions cannot be read)"
        ) from None
    if not valid:
        raise InputError("the certificate request's signature does not verify (damaged or altered)")
    if len(subject) == 0:
        raise InputError("the certificate request has an empty subject; give it at least a CN")
    start, end, notes = _validity_within(ca_certificate, days, now)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )
    builder = _leaf_extensions(builder, public, ca_certificate, signer, client_auth=client_auth)
    for ext in requested:
        if isinstance(ext.value, x509.SubjectAlternativeName):
            builder = builder.add_extension(ext.value, critical=ext.critical)
    cert = builder.sign(signer, _hash_for(signer))
    return IssuedCertificate(cert, None, (cert, ca_certificate), notes)


# ------------------------------------------------------------------------------------------- files


@dataclass(frozen=True)
class IssuedFiles:
    """Where an issued certificate was written."""

    certificate: Path
    key: Path | None
    chain: Path


def file_stem(name: str) -> str:
    """``name`` if it is a safe file name stem (letters, digits, ``_ . -``, at most 64), else SubjectError."""
    if not FILE_STEM_RE.match(name or ""):
        raise SubjectError(
            f"{(name or '')[:70]!r} cannot be used as a file name: "
            "use 1 to 64 letters, digits, '_', '.' or '-'"
        )
    return name


def issued_file_names(stem: str) -> tuple[str, str, str]:
    """``(<stem>.pem, <stem>.key, <stem>-chain.pem)``."""
    return f"{stem}.pem", f"{stem}.key", f"{stem}-chain.pem"


def write_issued(
    issued: IssuedCertificate,
    folder: Path,
    stem: str,
    *,
    key_passphrase: str | None = None,
    overwrite: bool = False,
) -> IssuedFiles:
    """Write ``<stem>.key`` (0600, first, durable), ``<stem>.pem`` and ``<stem>-chain.pem`` (leaf then CA)
    into ``folder`` (created 0700). Existing files are refused unless ``overwrite``. ``FileWriteError``."""
    stem = file_stem(stem)
    cert_name, key_name, chain_name = issued_file_names(stem)
    names = [cert_name, chain_name] + ([key_name] if issued.private_key is not None else [])
    check_writable(folder, names, overwrite=overwrite)
    key_path = None
    if issued.private_key is not None:
        key_path = write_file(
            folder / key_name,
            private_key_pem(issued.private_key, key_passphrase),
            mode=PRIVATE_FILE,
            overwrite=overwrite,
        )
    cert_path = write_file(
        folder / cert_name, issued.certificate_pem.encode("ascii"), mode=PUBLIC_FILE, overwrite=overwrite
    )
    chain_path = write_file(
        folder / chain_name, issued.chain_pem.encode("ascii"), mode=PUBLIC_FILE, overwrite=overwrite
    )
    return IssuedFiles(cert_path, key_path, chain_path)
