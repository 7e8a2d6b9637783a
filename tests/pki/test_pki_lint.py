"""The lint of a CA certificate, rule by rule (issue 10 §1): each rule's pass, and a certificate that
breaks exactly that rule."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.pki.conftest import DATA, custom_ca, der, pem
from tui.pki import Rule, Status, create_ca, issue_certificate, lint_ca, read_file
from tui.pki.inspection import display_fingerprint, fingerprint_sha256


@dataclass(frozen=True)
class Uploaded:
    name: str
    fingerprint_sha256: str | None


def _status(report, rule: Rule) -> Status:
    result = report.result(rule)
    assert result is not None, rule
    return result.status


def test_a_ca_made_here_passes_every_rule(ec_ca) -> None:
    report = lint_ca(pem(ec_ca.certificate), [])
    assert report.ok and not report.warnings
    assert [r.rule for r in report.results] == list(Rule)
    assert all(r.status is Status.PASS for r in report.results)
    assert report.summary() == "all 13 rules pass"
    assert lint_ca(der(ec_ca.certificate), []).ok  # DER too


def test_exactly_one_certificate(ec_ca, other_ca) -> None:
    two = lint_ca(pem(ec_ca.certificate) + pem(other_ca.certificate), [])
    assert _status(two, Rule.SINGLE) is Status.FAIL and "2 certificates" in two.result(Rule.SINGLE).detail
    assert not two.ok and two.certificate == ec_ca.certificate  # the rest checks the first one
    key_only = lint_ca(
        ec_ca.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    assert [r.rule for r in key_only.results] == [Rule.SINGLE] and not key_only.ok
    assert "no certificate found (found: a private key)" in key_only.results[0].detail
    garbage = lint_ca(b"\x00\x01garbage")
    assert not garbage.ok and garbage.certificate is None


def test_x509_v3_rule() -> None:
    report = lint_ca(read_file(DATA / "v1_ca.pem"), [])
    assert _status(report, Rule.V3) is Status.FAIL
    assert "version 1" in report.result(Rule.V3).detail
    # A v1 certificate has no extensions: the extension rules say so too.
    assert _status(report, Rule.CA) is Status.FAIL and _status(report, Rule.KEY_CERT_SIGN) is Status.FAIL


def test_basic_constraints_rule() -> None:
    _, missing = custom_ca(basic=None)
    assert _status(lint_ca(missing, []), Rule.CA) is Status.FAIL
    _, leaf = custom_ca(basic=x509.BasicConstraints(ca=False, path_length=None))
    report = lint_ca(leaf, [])
    assert _status(report, Rule.CA) is Status.FAIL and "CA:FALSE" in report.result(Rule.CA).detail
    _, not_critical = custom_ca(basic_critical=False)
    assert _status(lint_ca(not_critical, []), Rule.CA) is Status.WARN


def test_key_usage_rule() -> None:
    _, no_usage = custom_ca(key_cert_sign=None)
    report = lint_ca(no_usage, [])
    assert (
        _status(report, Rule.KEY_CERT_SIGN) is Status.FAIL
        and "no KeyUsage" in report.result(Rule.KEY_CERT_SIGN).detail
    )
    _, no_cert_sign = custom_ca(key_cert_sign=False)
    report = lint_ca(no_cert_sign, [])
    assert _status(report, Rule.KEY_CERT_SIGN) is Status.FAIL
    assert "does not include keyCertSign" in report.result(Rule.KEY_CERT_SIGN).detail
    assert [r.rule for r in report.failures] == [Rule.KEY_CERT_SIGN]


def test_subject_key_identifier_rule_warns() -> None:
    _, no_ski = custom_ca(ski=False)
    report = lint_ca(no_ski, [])
    assert _status(report, Rule.SKI) is Status.WARN and report.ok  # the MQTT API does not enforce it


def test_sha2_rule() -> None:
    report = lint_ca(read_file(DATA / "sha1_ca.pem"), [])
    assert _status(report, Rule.SHA2) is Status.FAIL and "SHA1" in report.result(Rule.SHA2).detail


def test_subject_rule() -> None:
    _, empty = custom_ca(cn="", issuer="")
    report = lint_ca(empty, [])
    assert (
        _status(report, Rule.SUBJECT) is Status.FAIL
        and report.result(Rule.SUBJECT).detail == "the subject is empty"
    )


def test_valid_now_and_validity_length_rules() -> None:
    now = dt.datetime.now(dt.UTC)
    _, expired = custom_ca(not_before=now - dt.timedelta(days=400), days=365)
    assert _status(lint_ca(expired, []), Rule.VALID_NOW) is Status.FAIL
    _, future = custom_ca(not_before=now + dt.timedelta(days=2))
    report = lint_ca(future, [])
    assert (
        _status(report, Rule.VALID_NOW) is Status.FAIL
        and "not valid before" in report.result(Rule.VALID_NOW).detail
    )
    _, soon = custom_ca(not_before=now - dt.timedelta(days=350), days=365)
    assert _status(lint_ca(soon, []), Rule.VALID_NOW) is Status.WARN
    _, long_lived = custom_ca(days=3650)
    report = lint_ca(long_lived, [])
    assert (
        _status(report, Rule.VALIDITY_LENGTH) is Status.WARN
        and "3650 days" in report.result(Rule.VALIDITY_LENGTH).detail
    )
    assert report.ok  # warnings only
    _, leap = custom_ca(days=366)
    assert _status(lint_ca(leap, []), Rule.VALIDITY_LENGTH) is Status.PASS
    # ``now`` is an input: the same CA linted at another time.
    _, cert = custom_ca()
    assert _status(lint_ca(cert, [], now=now + dt.timedelta(days=500)), Rule.VALID_NOW) is Status.FAIL


def test_self_signed_rule(ec_ca) -> None:
    root_key, root = custom_ca(cn="root")
    _, intermediate = custom_ca(cn="intermediate", issuer="root", signer=root_key)
    report = lint_ca(intermediate, [])
    assert (
        _status(report, Rule.SELF_SIGNED) is Status.FAIL
        and "intermediate" in report.result(Rule.SELF_SIGNED).detail
    )
    # Subject = issuer but signed by another key: the self-signature does not verify.
    other_key, _ = custom_ca()
    _, forged = custom_ca(cn="forged", signer=other_key)
    report = lint_ca(forged, [])
    assert (
        _status(report, Rule.SELF_SIGNED) is Status.FAIL
        and "does not verify" in report.result(Rule.SELF_SIGNED).detail
    )
    device = issue_certificate(ec_ca.certificate, ec_ca.private_key, "dev", key_type="ec256").certificate
    report = lint_ca(device, [])
    assert {r.rule for r in report.failures} == {Rule.CA, Rule.KEY_CERT_SIGN, Rule.SELF_SIGNED}


def test_not_uploaded_and_limit_rules(ec_ca, other_ca, rsa_ca) -> None:
    fp = fingerprint_sha256(ec_ca.certificate)
    same = [Uploaded("ours", display_fingerprint(fp))]  # any fingerprint spelling is recognised
    report = lint_ca(ec_ca.certificate, same)
    assert (
        _status(report, Rule.NOT_UPLOADED) is Status.FAIL
        and "'ours'" in report.result(Rule.NOT_UPLOADED).detail
    )
    assert _status(report, Rule.LIMIT) is Status.PASS
    one = [Uploaded("first", fingerprint_sha256(other_ca.certificate))]
    report = lint_ca(ec_ca.certificate, one)
    assert report.ok and "1 of 2 in use; this would be number 2" in report.result(Rule.LIMIT).detail
    two = [*one, Uploaded("second", fingerprint_sha256(rsa_ca.certificate))]
    report = lint_ca(ec_ca.certificate, two)
    assert _status(report, Rule.LIMIT) is Status.FAIL
    assert (
        "2 of 2 CA certificates are already uploaded ('first', 'second'); delete one first"
        in report.result(Rule.LIMIT).detail
    )
    unknown = lint_ca(ec_ca.certificate, None)
    assert _status(unknown, Rule.NOT_UPLOADED) is Status.WARN and _status(unknown, Rule.LIMIT) is Status.WARN
    assert "not checked" in unknown.result(Rule.LIMIT).detail


@pytest.mark.parametrize(("key_type", "status"), [("rsa2048", Status.PASS), ("ec384", Status.PASS)])
def test_key_strength_rule(key_type: str, status: Status) -> None:
    assert _status(lint_ca(create_ca("k", key_type).certificate, []), Rule.KEY_STRENGTH) is status


def test_every_message_is_plain_words(ec_ca) -> None:
    _, bad = custom_ca(basic=None, key_cert_sign=None, ski=False)
    report = lint_ca(pem(bad) + pem(ec_ca.certificate), [Uploaded("a", "00"), Uploaded("b", "11")])
    for result in report.results:
        assert result.detail and "\n" not in result.detail and "Traceback" not in result.detail
        assert str(result).startswith(result.status.value.upper())
    assert report.summary().startswith("4 rules fail") and report.summary().endswith("1 warning")
