"""Lint of a CA certificate against the platform's rules, before it is uploaded (issue 10 §1).

Rules (reference 5.1, 5.3): exactly one certificate; X.509 v3; BasicConstraints CA:TRUE; KeyUsage
keyCertSign; Subject Key Identifier; SHA-2 signature; a subject DN; valid now; validity not longer than
about one year; self-signed (intermediate CAs are not supported for onboarding); not already uploaded
(same SHA-256 fingerprint); the limit of two. One more, advisory: the key strength.

A rule fails when the MQTT API refuses such a certificate (the 400/409 rules of 5.3), when onboarding
cannot work with it (expired, not self-signed, no subject), or when the upload would be refused by the
limit. It warns where the platform rule is documented only for the Certificate Manager and the MQTT API is
not known to enforce it (reference 5.3 "the client may check them locally and warn"): the Subject Key
Identifier and the validity length; also for a CA expiring within 30 days and for weak keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes

from tui.pki.errors import PkiError
from tui.pki.inspection import CertificateInfo, extensions_problem, inspect_certificate, normalize_fingerprint
from tui.pki.keys import KeyInfo
from tui.pki.load import read_material

#: At most two CA certificates per environment (reference 5.1).
CA_LIMIT = 2
#: "About one year": 365 days plus a leap day.
MAX_VALIDITY_DAYS = 366
EXPIRY_WARNING_DAYS = 30
SHA2 = (hashes.SHA224, hashes.SHA256, hashes.SHA384, hashes.SHA512, hashes.SHA512_224, hashes.SHA512_256)


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"


class Rule(StrEnum):
    SINGLE = "single-certificate"
    V3 = "x509-v3"
    CA = "basic-constraints"
    KEY_CERT_SIGN = "key-usage"
    SKI = "subject-key-identifier"
    SHA2 = "sha2-signature"
    SUBJECT = "subject-dn"
    VALID_NOW = "valid-now"
    VALIDITY_LENGTH = "validity-length"
    SELF_SIGNED = "self-signed"
    NOT_UPLOADED = "not-uploaded"
    LIMIT = "limit-of-two"
    KEY_STRENGTH = "key-strength"


RULE_TITLES: dict[Rule, str] = {
    Rule.SINGLE: "exactly one certificate",
    Rule.V3: "X.509 version 3",
    Rule.CA: "BasicConstraints CA:TRUE",
    Rule.KEY_CERT_SIGN: "KeyUsage keyCertSign",
    Rule.SKI: "Subject Key Identifier",
    Rule.SHA2: "SHA-2 signature",
    Rule.SUBJECT: "a subject DN",
    Rule.VALID_NOW: "valid now",
    Rule.VALIDITY_LENGTH: "validity at most about one year",
    Rule.SELF_SIGNED: "self-signed (root CA)",
    Rule.NOT_UPLOADED: "not already uploaded",
    Rule.LIMIT: f"the limit of {CA_LIMIT} CA certificates",
    Rule.KEY_STRENGTH: "key strength",
}


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    status: Status
    detail: str

    @property
    def title(self) -> str:
        return RULE_TITLES[self.rule]

    def __str__(self) -> str:
        return f"{self.status.value.upper():4}  {self.title}: {self.detail}"


class UploadedCa(Protocol):
    """What the lint needs to know of an already uploaded CA (``tui.api.models.CaCertificate`` fits)."""

    @property
    def name(self) -> str: ...

    @property
    def fingerprint_sha256(self) -> str | None: ...


@dataclass(frozen=True)
class LintReport:
    """The results rule by rule, in the order of the module docstring, with the certificate linted (the
    first one if there were several; None when none could be read)."""

    results: tuple[RuleResult, ...]
    certificate: x509.Certificate | None = None
    info: CertificateInfo | None = None

    @property
    def ok(self) -> bool:
        """No rule failed (warnings allowed)."""
        return not self.failures

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.status is Status.FAIL)

    @property
    def warnings(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.status is Status.WARN)

    def result(self, rule: Rule) -> RuleResult | None:
        return next((r for r in self.results if r.rule is rule), None)

    def summary(self) -> str:
        """``"all 13 rules pass"`` / ``"2 rules fail: ...; 1 warning"``."""
        fails, warns = self.failures, self.warnings
        if not fails and not warns:
            return f"all {len(self.results)} rules pass"
        parts = []
        if fails:
            parts.append(
                f"{len(fails)} rule{'s' if len(fails) > 1 else ''} fail{'s' if len(fails) == 1 else ''}: "
                + "; ".join(f"{r.title} ({r.detail})" for r in fails)
            )
        if warns:
            parts.append(f"{len(warns)} warning{'s' if len(warns) > 1 else ''}")
        return "; ".join(parts)


def _now(now: dt.datetime | None) -> dt.datetime:
    value = now or dt.datetime.now(dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def lint_ca(
    data: x509.Certificate | bytes | str,
    existing: Sequence[UploadedCa] | None = None,
    *,
    limit: int = CA_LIMIT,
    now: dt.datetime | None = None,
) -> LintReport:
    """Lint a CA certificate (PEM or DER, or a parsed certificate) against the platform rules.

    ``existing``: the CA certificates already uploaded (from the API's list); ``None`` when not known,
    which makes the two rules that need it warn "not checked". Never raises for bad input: unreadable
    input fails the first rule with the reason.
    """
    results: list[RuleResult] = []
    add = results.append
    if isinstance(data, x509.Certificate):
        cert = data
        add(RuleResult(Rule.SINGLE, Status.PASS, "one certificate"))
    else:
        try:
            material = read_material(data, what="the file")
        except PkiError as exc:
            return LintReport((RuleResult(Rule.SINGLE, Status.FAIL, str(exc)),))
        certs = material.certificates
        if not certs:
            detail = f"no certificate found (found: {material.summary()})"
            return LintReport((RuleResult(Rule.SINGLE, Status.FAIL, detail),))
        cert = certs[0]
        if len(certs) > 1:
            add(
                RuleResult(
                    Rule.SINGLE,
                    Status.FAIL,
                    f"{len(certs)} certificates found; upload the CA certificate alone "
                    "(the rules below check the first one)",
                )
            )
        else:
            add(RuleResult(Rule.SINGLE, Status.PASS, "one certificate"))
    at = _now(now)
    info = inspect_certificate(cert, at)
    add(_rule_v3(info))
    extensions = _extensions(cert)
    add(_rule_ca(extensions))
    add(_rule_key_usage(extensions))
    add(_rule_ski(extensions))
    add(_rule_sha2(cert))
    add(_rule_subject(cert))
    add(_rule_valid_now(info, at))
    add(_rule_validity_length(info))
    add(_rule_self_signed(cert))
    add(_rule_not_uploaded(info, existing))
    add(_rule_limit(info, existing, limit))
    add(_rule_key_strength(info.key))
    return LintReport(tuple(results), cert, info)


def _extensions(cert: x509.Certificate) -> x509.Extensions | str:
    try:
        return cert.extensions
    except Exception as exc:  # noqa: BLE001 - duplicate or malformed extensions
        return extensions_problem(exc)


def _ext(extensions: x509.Extensions | str, kind: type) -> x509.Extension | str | None:
    if isinstance(extensions, str):
        return extensions
    try:
        return extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def _rule_v3(info: CertificateInfo) -> RuleResult:
    if info.version == 3:
        return RuleResult(Rule.V3, Status.PASS, "version 3")
    return RuleResult(
        Rule.V3, Status.FAIL, f"version {info.version}: a CA needs version 3 to carry its extensions"
    )


def _rule_ca(extensions: x509.Extensions | str) -> RuleResult:
    ext = _ext(extensions, x509.BasicConstraints)
    if isinstance(ext, str):
        return RuleResult(Rule.CA, Status.FAIL, ext)
    if ext is None:
        return RuleResult(Rule.CA, Status.FAIL, "no BasicConstraints extension: this is not a CA certificate")
    if not ext.value.ca:
        return RuleResult(Rule.CA, Status.FAIL, "CA:FALSE: this is an end-entity certificate, not a CA")
    path = f", path length {ext.value.path_length}" if ext.value.path_length is not None else ""
    if not ext.critical:
        return RuleResult(
            Rule.CA, Status.WARN, f"CA:TRUE{path}, but not marked critical (RFC 5280 asks for it)"
        )
    return RuleResult(Rule.CA, Status.PASS, f"CA:TRUE{path}, critical")


def _rule_key_usage(extensions: x509.Extensions | str) -> RuleResult:
    ext = _ext(extensions, x509.KeyUsage)
    if isinstance(ext, str):
        return RuleResult(Rule.KEY_CERT_SIGN, Status.FAIL, ext)
    if ext is None:
        return RuleResult(
            Rule.KEY_CERT_SIGN,
            Status.FAIL,
            "no KeyUsage extension; keyCertSign is required to sign certificates",
        )
    if not ext.value.key_cert_sign:
        return RuleResult(
            Rule.KEY_CERT_SIGN,
            Status.FAIL,
            "KeyUsage does not include keyCertSign: this CA may not sign certificates",
        )
    return RuleResult(Rule.KEY_CERT_SIGN, Status.PASS, "keyCertSign present")


def _rule_ski(extensions: x509.Extensions | str) -> RuleResult:
    ext = _ext(extensions, x509.SubjectKeyIdentifier)
    if isinstance(ext, str):
        return RuleResult(Rule.SKI, Status.FAIL, ext)
    if ext is None:
        return RuleResult(
            Rule.SKI,
            Status.WARN,
            "no Subject Key Identifier; Insights Hub's Certificate Manager requires one, "
            "the MQTT API may too",
        )
    return RuleResult(Rule.SKI, Status.PASS, "present")


def _rule_sha2(cert: x509.Certificate) -> RuleResult:
    try:
        algorithm = cert.signature_hash_algorithm
    except Exception:  # noqa: BLE001 - UnsupportedAlgorithm
        return RuleResult(Rule.SHA2, Status.FAIL, "signed with an algorithm this tool does not know")
    if isinstance(algorithm, SHA2):
        return RuleResult(Rule.SHA2, Status.PASS, algorithm.name.upper().replace("SHA", "SHA-", 1))
    if algorithm is None:
        return RuleResult(
            Rule.SHA2, Status.FAIL, "signed without a SHA-2 hash (e.g. Ed25519); use RSA or ECDSA"
        )
    return RuleResult(
        Rule.SHA2,
        Status.FAIL,
        f"signed with {algorithm.name.upper()}, which the platform refuses; use SHA-256",
    )


def _rule_subject(cert: x509.Certificate) -> RuleResult:
    try:
        subject = cert.subject
        text = subject.rfc4514_string()
    except ValueError:
        return RuleResult(Rule.SUBJECT, Status.FAIL, "the subject cannot be read")
    if len(subject) == 0:
        return RuleResult(Rule.SUBJECT, Status.FAIL, "the subject is empty")
    return RuleResult(Rule.SUBJECT, Status.PASS, text)


def _rule_valid_now(info: CertificateInfo, at: dt.datetime) -> RuleResult:
    if info.not_before > at:
        return RuleResult(
            Rule.VALID_NOW,
            Status.FAIL,
            f"not valid before {info.not_before:%Y-%m-%d %H:%M} UTC (check the clock)",
        )
    if info.not_after <= at:
        return RuleResult(Rule.VALID_NOW, Status.FAIL, f"expired on {info.not_after:%Y-%m-%d}")
    if info.days_left < EXPIRY_WARNING_DAYS:
        return RuleResult(
            Rule.VALID_NOW,
            Status.WARN,
            f"valid, but expires in {info.days_left} days ({info.not_after:%Y-%m-%d})",
        )
    return RuleResult(
        Rule.VALID_NOW, Status.PASS, f"valid until {info.not_after:%Y-%m-%d} ({info.days_left} days)"
    )


def _rule_validity_length(info: CertificateInfo) -> RuleResult:
    days = (info.not_after - info.not_before).total_seconds() / 86400
    if days > MAX_VALIDITY_DAYS + 1 / 24:  # an hour of slack for back-dating
        return RuleResult(
            Rule.VALIDITY_LENGTH,
            Status.WARN,
            f"valid for {days:.0f} days; the platform's rule is at most about one year (365 days)",
        )
    return RuleResult(Rule.VALIDITY_LENGTH, Status.PASS, f"{days:.0f} days")


def _rule_self_signed(cert: x509.Certificate) -> RuleResult:
    if cert.subject != cert.issuer:
        return RuleResult(
            Rule.SELF_SIGNED,
            Status.FAIL,
            "issued by another CA (an intermediate CA); the platform onboards root CAs only",
        )
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return RuleResult(
            Rule.SELF_SIGNED, Status.FAIL, "its own signature does not verify (damaged or altered)"
        )
    except Exception:  # noqa: BLE001 - UnsupportedAlgorithm
        return RuleResult(
            Rule.SELF_SIGNED, Status.FAIL, "its signature cannot be checked (unknown algorithm)"
        )
    return RuleResult(Rule.SELF_SIGNED, Status.PASS, "self-signed; the signature verifies")


def _rule_not_uploaded(info: CertificateInfo, existing: Sequence[UploadedCa] | None) -> RuleResult:
    if existing is None:
        return RuleResult(
            Rule.NOT_UPLOADED, Status.WARN, "not checked: the uploaded CA certificates are not known"
        )
    for ca in existing:
        if normalize_fingerprint(ca.fingerprint_sha256) == info.fingerprint_sha256:
            return RuleResult(Rule.NOT_UPLOADED, Status.FAIL, f"already uploaded as {ca.name!r}")
    return RuleResult(Rule.NOT_UPLOADED, Status.PASS, "not uploaded yet")


def _rule_limit(info: CertificateInfo, existing: Sequence[UploadedCa] | None, limit: int) -> RuleResult:
    if existing is None:
        return RuleResult(Rule.LIMIT, Status.WARN, "not checked: the uploaded CA certificates are not known")
    others = [
        ca for ca in existing if normalize_fingerprint(ca.fingerprint_sha256) != info.fingerprint_sha256
    ]
    used = len(others)
    if used >= limit:
        names = ", ".join(repr(ca.name) for ca in others)
        return RuleResult(
            Rule.LIMIT,
            Status.FAIL,
            f"{used} of {limit} CA certificates are already uploaded ({names}); delete one first",
        )
    return RuleResult(Rule.LIMIT, Status.PASS, f"{used} of {limit} in use; this would be number {used + 1}")


def _rule_key_strength(key: KeyInfo) -> RuleResult:
    if key.algorithm == "RSA":
        if key.size < 2048:
            return RuleResult(
                Rule.KEY_STRENGTH, Status.WARN, f"RSA {key.size} is weak; use at least 2048 bits"
            )
        return RuleResult(Rule.KEY_STRENGTH, Status.PASS, key.description)
    if key.algorithm == "EC":
        if key.curve not in ("P-256", "P-384", "P-521"):
            return RuleResult(
                Rule.KEY_STRENGTH, Status.WARN, f"curve {key.curve} may not be accepted; use P-256 or P-384"
            )
        return RuleResult(Rule.KEY_STRENGTH, Status.PASS, key.description)
    return RuleResult(
        Rule.KEY_STRENGTH, Status.WARN, f"{key.description} keys may not be accepted; use RSA or EC"
    )
