"""Does a key belong to a certificate; does a certificate chain to a CA.

The chain check uses ``cryptography.x509.verification`` (path building, signatures, validity, CA
constraints) with extension policies suited to MQTT device certificates: the leaf needs no
subjectAltName or AKI (the web-PKI defaults would demand them) and the CA must carry BasicConstraints.
An X.509 v1 leaf, as the plain ``openssl x509 -req`` of Siemens' how-to makes it, is refused by that API
on principle; for it the check falls back to the signature and validity alone and says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509 import verification as xv

from tui.pki.errors import KeyMismatchError
from tui.pki.keys import PrivateKey, spki_der


def key_matches_certificate(key: PrivateKey, certificate: x509.Certificate) -> bool:
    """True when ``key`` is the private half of the certificate's public key."""
    try:
        return spki_der(key) == spki_der(certificate.public_key())
    except Exception:  # noqa: BLE001 - an unsupported or damaged public key matches nothing
        return False


def require_key_matches(key: PrivateKey, certificate: x509.Certificate, what: str = "certificate") -> None:
    """``KeyMismatchError`` in plain words unless ``key`` belongs to ``certificate``."""
    if not key_matches_certificate(key, certificate):
        raise KeyMismatchError(f"the private key does not belong to this {what} (their public keys differ)")


@dataclass(frozen=True)
class ChainCheck:
    """Result of ``chains_to_ca``: ``ok``, the reason in plain words, the chain found (leaf first) and the
    ``method`` (``"x509-verification"`` or ``"signature"`` for an X.509 v1 leaf)."""

    ok: bool
    reason: str
    chain: tuple[x509.Certificate, ...] = ()
    method: str = "x509-verification"


def _policy_time(now: dt.datetime | None) -> dt.datetime:
    value = now or dt.datetime.now(dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def chains_to_ca(
    certificate: x509.Certificate,
    ca: x509.Certificate | Sequence[x509.Certificate],
    *,
    intermediates: Sequence[x509.Certificate] = (),
    now: dt.datetime | None = None,
) -> ChainCheck:
    """Whether ``certificate`` chains to ``ca`` (one trusted CA or several) at ``now``.

    Never raises for bad certificates: the reason says what failed (signature, validity, not a CA, ...).
    """
    roots = [ca] if isinstance(ca, x509.Certificate) else list(ca)
    if not roots:
        return ChainCheck(False, "no CA certificate to check against")
    at = _policy_time(now)
    if certificate.version != x509.Version.v3:
        return _v1_check(certificate, roots, at)
    try:
        ca_policy = xv.ExtensionPolicy.permit_all().require_present(
            x509.BasicConstraints, xv.Criticality.AGNOSTIC, None
        )
        verifier = (
            xv.PolicyBuilder()
            .store(xv.Store(roots))
            .time(at)
            .extension_policies(ca_policy=ca_policy, ee_policy=xv.ExtensionPolicy.permit_all())
            .build_client_verifier()
        )
        verified = verifier.verify(certificate, list(intermediates))
    except xv.VerificationError as exc:
        return ChainCheck(False, _plain_reason(str(exc), certificate, roots, at))
    except (ValueError, TypeError) as exc:
        return ChainCheck(False, f"the certificates cannot be checked: {_first_line(exc)}")
    return ChainCheck(True, "the certificate chains to the CA", tuple(verified.chain))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _plain_reason(
    message: str, certificate: x509.Certificate, roots: list[x509.Certificate], at: dt.datetime
) -> str:
    """The verifier's message, led by the most likely cause in plain words."""
    text = message.replace("validation failed: ", "")
    text = text.split(" (encountered processing")[0]
    if certificate.not_valid_after_utc < at:
        return f"the certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    if certificate.not_valid_before_utc > at:
        return f"the certificate is not valid before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
    if not any(certificate.issuer == r.subject for r in roots):
        return "the certificate was not issued by this CA (its issuer name differs from the CA's subject)"
    if "signature" in text:
        return "the certificate's signature does not verify with the CA's key: it was signed by another key"
    return f"the certificate does not chain to the CA: {text}"


def _v1_check(certificate: x509.Certificate, roots: list[x509.Certificate], at: dt.datetime) -> ChainCheck:
    note = " (X.509 v1 certificate: checked by signature and validity only)"
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        return ChainCheck(False, _plain_reason("", certificate, roots, at) + note, method="signature")
    for root in roots:
        if certificate.issuer != root.subject:
            continue
        try:
            certificate.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature):
            continue
        if not root.not_valid_before_utc <= at <= root.not_valid_after_utc:
            return ChainCheck(
                False, "the CA certificate is not valid at this time" + note, method="signature"
            )
        return ChainCheck(
            True, "the certificate was signed by the CA" + note, (certificate, root), "signature"
        )
    return ChainCheck(False, "the certificate was not signed by this CA's key" + note, method="signature")
