"""Read whatever a user hands over: certificates, chains, certificate requests and private keys.

Accepted forms: PEM (one or many blocks, any text before, between and after them, CRLF or CR line endings,
a byte-order mark, zero-width and no-break spaces from a paste), DER, and bare base64 of DER. Private keys
in PKCS#1 (``RSA PRIVATE KEY``), PKCS#8 (``PRIVATE KEY``), SEC1 (``EC PRIVATE KEY``), encrypted PKCS#8
(``ENCRYPTED PRIVATE KEY``) and the legacy OpenSSL encryption (``Proc-Type: 4,ENCRYPTED``), in PEM or DER.
PKCS#7 bundles (``.p7b``) give their certificates.

Every failure is an ``InputError`` (or ``PassphraseRequiredError`` / ``WrongPassphraseError``) whose
message names what was expected and what was found, never the content itself.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.utils import CryptographyDeprecationWarning

from tui.pki.errors import InputError, PassphraseRequiredError, WrongPassphraseError
from tui.pki.keys import PrivateKey, PublicKey

# A certificate with a zero or negative serial is read (and inspected) without a warning on the terminal.
warnings.filterwarnings(
    "ignore", message="Parsed a serial number which wasn't positive", category=CryptographyDeprecationWarning
)

#: Inputs larger than this are refused before parsing (a certificate or key is a few kilobytes).
MAX_INPUT_BYTES = 1 << 20

_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\t"), " ")
_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_END = re.compile(r"-----END ([A-Z0-9 ]{1,40})-----")
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=\s]+")

CERT_TYPES = ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")
CSR_TYPES = ("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
KEY_TYPES = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY")
PUBLIC_TYPES = ("PUBLIC KEY", "RSA PUBLIC KEY")
PKCS7_TYPES = ("PKCS7", "CMS", "PKCS #7 SIGNED DATA")
QUIET_TYPES = ("EC PARAMETERS",)  # openssl ecparam -genkey writes it before the key: not worth a note


Passphrase = str | bytes | None
T = TypeVar("T")
#: What cryptography's parsers raise for bad input (``InvalidVersion`` is not a ValueError).
_PARSE_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion)


@dataclass(frozen=True)
class Material:
    """Everything found in one input, in order of appearance."""

    certificates: tuple[x509.Certificate, ...] = ()
    requests: tuple[x509.CertificateSigningRequest, ...] = ()
    private_keys: tuple[PrivateKey, ...] = field(default=(), repr=False)
    public_keys: tuple[PublicKey, ...] = ()
    #: ``"PEM"``, ``"DER"`` or ``"base64"`` (DER pasted without the BEGIN/END lines).
    encoding: str = "PEM"
    #: PEM blocks that were not used, by type (e.g. ``"X509 CRL"``).
    ignored: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.certificates or self.requests or self.private_keys or self.public_keys)

    def summary(self) -> str:
        """In plain words: ``"2 certificates and a private key"``."""
        parts = [
            _count(len(self.certificates), "certificate"),
            _count(len(self.requests), "certificate request"),
            _count(len(self.private_keys), "private key"),
            _count(len(self.public_keys), "public key"),
        ]
        parts += [f"a {kind} block" for kind in self.ignored]
        found = [p for p in parts if p]
        if not found:
            return "nothing usable"
        return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]


def _count(n: int, noun: str) -> str:
    if n == 0:
        return ""
    if n == 1:
        return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"
    return f"{n} {noun}s"


# -------------------------------------------------------------------------------------------- input


def read_file(path: str | Path, *, what: str | None = None) -> bytes:
    """The bytes of ``path``; ``InputError`` in plain words for a missing, unreadable or huge file."""
    p = Path(path).expanduser()
    label = what or f"the file {p}"
    try:
        info = p.stat()
    except FileNotFoundError:
        raise InputError(f"{label} does not exist") from None
    except OSError as exc:
        raise InputError(f"cannot read {label}: {exc.strerror or exc}") from None
    if p.is_dir():
        raise InputError(f"{label} is a folder, not a file")
    if info.st_size > MAX_INPUT_BYTES:
        raise InputError(_too_large(label, info.st_size))
    try:
        with p.open("rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {label}: {exc.strerror or exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(_too_large(label, len(data)))
    return data


def _too_large(label: str, size: int) -> str:
    return (
        f"{label} is too large ({size / 2**20:.1f} MiB); a certificate, request or key is a few kilobytes "
        f"(limit {MAX_INPUT_BYTES // 2**20} MiB)"
    )


def _as_bytes(data: bytes | bytearray | memoryview | str, what: str) -> bytes:
    if isinstance(data, str):
        if len(data) > MAX_INPUT_BYTES:
            raise InputError(_too_large(what, len(data)))
        return data.encode("utf-8", errors="replace")
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > MAX_INPUT_BYTES:
            raise InputError(_too_large(what, len(raw)))
        return raw
    raise InputError(f"{what} must be text or bytes, not {type(data).__name__}")


def _clean_text(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    text = text.translate(_INVISIBLE).translate(_SPACES)
    if not text.isascii():  # any other invisible passenger of a paste: format characters, odd spaces
        text = "".join(_pem_character(ch) for ch in text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _pem_character(ch: str) -> str:
    """A PEM text character as it counts: format characters (U+200E, U+2066, ...) and variation selectors
    are dropped, other spaces and line separators become a space or a line break; the rest is kept (and,
    inside a block, named if it is not base64)."""
    if ch.isascii():
        return ch
    category = unicodedata.category(ch)
    if category == "Cf" or 0xFE00 <= ord(ch) <= 0xFE0F:
        return ""
    if category == "Zs":
        return " "
    if category in ("Zl", "Zp"):
        return "\n"
    return ch


def _not_base64(text: str) -> str | None:
    """The first character of a block body that is neither base64 nor white space, in words."""
    for ch in text:
        if not (ch.isascii() and (ch.isalnum() or ch in "+/=" or ch.isspace())):
            if not ch.isprintable():
                return f"a control character (U+{ord(ch):04X})"
            name = unicodedata.name(ch, "")
            return f"{ch!r} (U+{ord(ch):04X}{' ' + name if name else ''})"
    return None


def read_material(
    data: bytes | bytearray | memoryview | str, passphrase: Passphrase = None, *, what: str = "the input"
) -> Material:
    """Everything ``data`` holds. ``InputError`` when it holds nothing usable or a block is damaged;
    ``PassphraseRequiredError`` / ``WrongPassphraseError`` for an encrypted key."""
    raw = _as_bytes(data, what)
    if not raw.strip():
        raise InputError(f"{what} is empty")
    if b"-----BEGIN" in raw or b"-----END" in raw:
        return _read_pem(_clean_text(raw), passphrase, what)
    if raw[:1] == b"\x30":
        return _read_der(raw, passphrase, what, "DER")
    text = _clean_text(raw)
    compact = "".join(text.split())
    if len(compact) >= 32 and _BASE64_TEXT.fullmatch(text):
        try:
            der = base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            der = b""
        if der[:1] == b"\x30":
            return _read_der(der, passphrase, what, "base64")
    if _looks_textual(raw):
        raise InputError(f"{what} is text without a '-----BEGIN ...-----' line: not PEM")
    raise InputError(
        f"{what} is not a certificate, certificate request or key in PEM or DER form "
        f"({len(raw)} bytes of binary data)"
    )


def _looks_textual(raw: bytes) -> bool:
    sample = raw[:4096]
    printable = sum(1 for b in sample if 32 <= b < 127 or b in (9, 10, 13))
    return printable >= 0.9 * len(sample)


# ---------------------------------------------------------------------------------------------- PEM


@dataclass
class _Found:
    certificates: list[x509.Certificate] = field(default_factory=list)
    requests: list[x509.CertificateSigningRequest] = field(default_factory=list)
    private_keys: list[PrivateKey] = field(default_factory=list)
    public_keys: list[PublicKey] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def material(self, encoding: str) -> Material:
        return Material(
            tuple(self.certificates),
            tuple(self.requests),
            tuple(self.private_keys),
            tuple(self.public_keys),
            encoding,
            tuple(self.ignored),
        )


def _read_pem(text: str, passphrase: Passphrase, what: str) -> Material:
    found = _Found()
    pos = 0
    index = 0
    while True:
        begin = _BEGIN.search(text, pos)
        if begin is None:
            stray = _END.search(text, pos)
            if stray is not None:
                raise InputError(f"{what} has an END {stray.group(1)} line without its BEGIN line")
            break
        index += 1
        kind = begin.group(1)
        end = _END.search(text, begin.end())
        if end is None:
            raise InputError(f"{what} is cut off: the {kind} block (#{index}) has no END line")
        if end.group(1) != kind:
            raise InputError(f"{what} is damaged: block #{index} begins as {kind} but ends as {end.group(1)}")
        nested = _BEGIN.search(text, begin.end(), end.start())
        if nested is not None:
            raise InputError(f"{what} is damaged: the {kind} block (#{index}) has no END line")
        _read_block(kind, text[begin.end() : end.start()], index, passphrase, what, found)
        pos = end.end()
    if index == 0:
        raise InputError(f"{what} has no complete '-----BEGIN ...-----' block")
    material = found.material("PEM")
    if material.empty:
        kinds = ", ".join(sorted(set(found.ignored))) or "nothing usable"
        raise InputError(f"{what} holds no certificate, certificate request or key (found: {kinds})")
    return material


def _split_headers(body: str) -> tuple[list[str], str]:
    """RFC 1421 headers (``Proc-Type: ...``) and the base64 text of a PEM block body."""
    lines = body.strip("\n ").split("\n")
    headers: list[str] = []
    if lines and ":" in lines[0] and "Proc-Type" in lines[0]:
        while lines and lines[0].strip():
            headers.append(lines.pop(0).strip())
        while lines and not lines[0].strip():
            lines.pop(0)
    return headers, "".join("".join(lines).split())


def _der_of(b64: str, kind: str, index: int, what: str) -> bytes:
    if not b64:
        raise InputError(f"{what} is damaged: the {kind} block (#{index}) is empty")
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        stray = _not_base64(b64)
        if stray is not None:
            raise InputError(
                f"{what} is damaged: the {kind} block (#{index}) contains {stray}, which is not base64"
            ) from None
        raise InputError(f"{what} is damaged: the {kind} block (#{index}) is not valid base64") from None


def _pem(kind: str, der: bytes, headers: Iterable[str] = ()) -> bytes:
    lines = [f"-----BEGIN {kind}-----", *headers]
    if headers:
        lines.append("")
    b64 = base64.b64encode(der).decode("ascii")
    lines += [b64[i : i + 64] for i in range(0, len(b64), 64)]
    lines.append(f"-----END {kind}-----")
    return ("\n".join(lines) + "\n").encode("ascii")


def _read_block(kind: str, body: str, index: int, passphrase: Passphrase, what: str, found: _Found) -> None:
    headers, b64 = _split_headers(body)
    label = f"{what}: the {kind} block (#{index})" if index > 1 else f"{what}"
    if kind in QUIET_TYPES:
        return
    known = kind in CERT_TYPES + CSR_TYPES + KEY_TYPES + PUBLIC_TYPES + PKCS7_TYPES
    if not known:
        found.ignored.append(kind)
        return
    der = _der_of(b64, kind, index, what)
    if kind in CERT_TYPES:
        if kind == "TRUSTED CERTIFICATE":  # OpenSSL appends trust settings after the certificate
            der = _first_tlv(der)
        found.certificates.append(_certificate_from_der(der, label))
    elif kind in CSR_TYPES:
        found.requests.append(_csr_from_der(der, label))
    elif kind in KEY_TYPES:
        encrypted = kind == "ENCRYPTED PRIVATE KEY" or any("ENCRYPTED" in h for h in headers)
        found.private_keys.append(
            _private_key_from_pem(_pem(kind, der, headers), passphrase, label, encrypted)
        )
    elif kind in PUBLIC_TYPES:
        try:
            found.public_keys.append(serialization.load_pem_public_key(_pem(kind, der)))
        except _PARSE_ERRORS:
            raise InputError(f"{label} is not a valid public key") from None
    else:
        try:
            bundle = pkcs7.load_der_pkcs7_certificates(der)
        except _PARSE_ERRORS:
            raise InputError(f"{label} is not a valid PKCS#7 certificate bundle") from None
        found.certificates.extend(_validated(c, label) for c in bundle)


def _first_tlv(der: bytes) -> bytes:
    """The first DER element of ``der`` (used to cut OpenSSL's trust data after a certificate)."""
    if len(der) < 2:
        return der
    first = der[1]
    if first < 0x80:
        return der[: 2 + first]
    n = first & 0x7F
    if n == 0 or n > 4 or len(der) < 2 + n:
        return der
    length = int.from_bytes(der[2 : 2 + n], "big")
    return der[: 2 + n + length]


def _certificate_from_der(der: bytes, label: str) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
    except _PARSE_ERRORS:
        raise InputError(f"{label} is not a valid X.509 certificate (damaged or cut off)") from None
    return _validated(cert, label)


def _validated(cert: x509.Certificate, label: str) -> x509.Certificate:
    """Parse now the fields cryptography parses lazily (names, dates, version), so that every later use
    of them is safe; extensions and the public key stay lazy (inspection and lint report on them)."""
    try:
        cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.serial_number, cert.version)
        _ = cert.signature_algorithm_oid
    except Exception:  # noqa: BLE001 - ValueError, InvalidVersion and friends from the lazy parser
        raise InputError(
            f"{label} is a damaged X.509 certificate (its names, dates or version cannot be read)"
        ) from None
    return cert


def _csr_from_der(der: bytes, label: str) -> x509.CertificateSigningRequest:
    try:
        return x509.load_der_x509_csr(der)
    except _PARSE_ERRORS:
        raise InputError(f"{label} is not a valid certificate request (damaged or cut off)") from None


def _password(passphrase: Passphrase) -> bytes | None:
    if passphrase is None or passphrase == "" or passphrase == b"":
        return None
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)


def _private_key_from_pem(pem: bytes, passphrase: Passphrase, label: str, encrypted: bool) -> PrivateKey:
    password = _password(passphrase) if encrypted else None
    if encrypted and password is None:
        raise PassphraseRequiredError(f"{label}: the private key is encrypted; give its passphrase")
    try:
        return serialization.load_pem_private_key(pem, password)
    except TypeError:
        if encrypted:
            raise PassphraseRequiredError(
                f"{label}: the private key is encrypted; give its passphrase"
            ) from None
        raise InputError(f"{label} is not a valid private key") from None
    except UnsupportedAlgorithm:
        raise InputError(f"{label} uses a key algorithm or cipher this tool cannot read") from None
    except ValueError:
        if encrypted:
            # A wrong passphrase may decrypt to garbage with valid padding: the parse then fails, not the
            # decryption. With an encrypted key and a passphrase, both mean the same to the user.
            raise WrongPassphraseError(f"{label}: the passphrase does not decrypt the private key") from None
        raise InputError(f"{label} is not a valid private key (damaged or cut off)") from None


def _is_password_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "password" in text or "decrypt" in text


# ---------------------------------------------------------------------------------------------- DER


def _read_der(der: bytes, passphrase: Passphrase, what: str, encoding: str) -> Material:
    found = _Found()
    try:
        cert = x509.load_der_x509_certificate(der)
    except _PARSE_ERRORS:
        cert = None
    if cert is not None:
        found.certificates.append(_validated(cert, what))
        return found.material(encoding)
    try:
        found.requests.append(x509.load_der_x509_csr(der))
        return found.material(encoding)
    except _PARSE_ERRORS:
        pass
    key = _der_private_key(der, passphrase, what)
    if key is not None:
        found.private_keys.append(key)
        return found.material(encoding)
    try:
        found.public_keys.append(serialization.load_der_public_key(der))
        return found.material(encoding)
    except _PARSE_ERRORS:
        pass
    try:
        found.certificates.extend(_validated(c, what) for c in pkcs7.load_der_pkcs7_certificates(der))
        if found.certificates:
            return found.material(encoding)
    except _PARSE_ERRORS:
        pass
    form = "base64 text" if encoding == "base64" else "DER data"
    raise InputError(
        f"{what} is {form} ({len(der)} bytes) but not a valid certificate, certificate request or key "
        "(damaged, cut off or of another kind)"
    )


def _der_private_key(der: bytes, passphrase: Passphrase, what: str) -> PrivateKey | None:
    password = _password(passphrase)
    try:
        return serialization.load_der_private_key(der, password)
    except TypeError:
        if password is None:  # cryptography: "Password was not given but private key is encrypted"
            raise PassphraseRequiredError(
                f"{what}: the private key is encrypted; give its passphrase"
            ) from None
        try:  # "Password was given but private key is not encrypted": the passphrase is not needed
            return serialization.load_der_private_key(der, None)
        except _PARSE_ERRORS:
            return None
    except ValueError as exc:
        if password is not None and (_is_password_error(exc) or _is_encrypted_der(der)):
            raise WrongPassphraseError(f"{what}: the passphrase does not decrypt the private key") from None
        return None
    except UnsupportedAlgorithm:
        return None


def _is_encrypted_der(der: bytes) -> bool:
    """True for an encrypted PKCS#8 structure (asking without a password says "encrypted")."""
    try:
        serialization.load_der_private_key(der, None)
    except TypeError:
        return True
    except (ValueError, UnsupportedAlgorithm):
        return False
    return False


# ---------------------------------------------------------------------------------- typed loaders


CertificateInput = x509.Certificate | bytes | bytearray | memoryview | str


def load_certificate(data: CertificateInput, *, what: str = "the certificate") -> x509.Certificate:
    """Exactly one certificate (PEM or DER); ``InputError`` when there are none or several."""
    if isinstance(data, x509.Certificate):
        return data
    material = read_material(data, what=what)
    return _exactly_one(material.certificates, "certificate", material, what)


def _exactly_one(items: tuple[T, ...], noun: str, material: Material, what: str) -> T:
    if len(items) == 1:
        return items[0]
    if not items:
        raise InputError(f"{what} holds no {noun} (found: {material.summary()})")
    raise InputError(f"{what} holds {len(items)} {noun}s; exactly one is expected")


def load_certificates(
    data: CertificateInput | Iterable[x509.Certificate], *, what: str = "the certificate chain"
) -> list[x509.Certificate]:
    """One or more certificates in order (a chain file, a PEM bundle, a PKCS#7 bundle, a DER file)."""
    if isinstance(data, x509.Certificate):
        return [data]
    if not isinstance(data, bytes | bytearray | memoryview | str):
        certs = list(data)
        if not certs or not all(isinstance(c, x509.Certificate) for c in certs):
            raise InputError(f"{what} holds no certificate")
        return certs
    material = read_material(data, what=what)
    if not material.certificates:
        raise InputError(f"{what} holds no certificate (found: {material.summary()})")
    return list(material.certificates)


def load_csr(
    data: x509.CertificateSigningRequest | bytes | str, *, what: str = "the certificate request"
) -> x509.CertificateSigningRequest:
    """Exactly one certificate signing request (PKCS#10, PEM or DER)."""
    if isinstance(data, x509.CertificateSigningRequest):
        return data
    material = read_material(data, what=what)
    return _exactly_one(material.requests, "certificate request", material, what)


def load_private_key(
    data: PrivateKey | bytes | bytearray | memoryview | str,
    passphrase: Passphrase = None,
    *,
    what: str = "the private key",
) -> PrivateKey:
    """Exactly one private key (PKCS#1, PKCS#8, SEC1, encrypted; PEM or DER). A passphrase given for an
    unencrypted key is ignored."""
    if hasattr(data, "private_bytes") and hasattr(data, "public_key"):
        return data  # type: ignore[return-value]
    material = read_material(data, passphrase, what=what)
    return _exactly_one(material.private_keys, "private key", material, what)


def certificate_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def certificates_pem(certs: Iterable[x509.Certificate]) -> str:
    return "".join(certificate_pem(c) for c in certs)
