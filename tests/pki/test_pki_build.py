"""Making certificates (issue 10 §1): the CA profile, verification certificates, device certificates,
CSR signing, and the files written for an issued certificate."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.pki.conftest import NOW, custom_ca
from tui.pki import (
    FileWriteError,
    KeyMismatchError,
    KeyType,
    PkiError,
    SubjectError,
    SubjectFields,
    chains_to_ca,
    create_ca,
    issue_certificate,
    load_certificates,
    load_private_key,
    make_verification_certificate,
    read_file,
    sign_csr,
    write_issued,
)
from tui.pki.keys import key_info


@pytest.mark.parametrize(
    ("key_type", "algorithm", "size"),
    [
        ("rsa2048", "RSA", 2048),
        ("rsa3072", "RSA", 3072),
        ("rsa4096", "RSA", 4096),
        ("ec256", "EC", 256),
        ("ec384", "EC", 384),
    ],
)
def test_create_ca_profile_for_every_key_type(key_type: str, algorithm: str, size: int) -> None:
    ca = create_ca(
        SubjectFields(
            "Plant CA",
            organization="ACME",
            organizational_unit="OT",
            country="de",
            state="Bavaria",
            locality="Erlangen",
            email="pki@example.test",
        ),
        key_type,
        now=NOW,
    )
    cert = ca.certificate
    info = key_info(cert.public_key())
    assert (info.algorithm, info.size) == (algorithm, size)
    assert cert.version == x509.Version.v3
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert cert.subject == cert.issuer
    subject = cert.subject.rfc4514_string()
    for part in ("CN=Plant CA", "O=ACME", "OU=OT", "C=DE", "ST=Bavaria", "L=Erlangen"):
        assert part in subject
    exts = cert.extensions
    assert len(exts) == 4
    basic = exts.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length == 0
    usage = exts.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature and not usage.value.key_encipherment
    ski = exts.get_extension_for_class(x509.SubjectKeyIdentifier)
    aki = exts.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert not ski.critical and aki.value.key_identifier == ski.value.digest
    # At most one year by default, starting a few minutes back for slow device clocks.
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=365)
    assert NOW - dt.timedelta(minutes=10) < cert.not_valid_before_utc < NOW
    cert.verify_directly_issued_by(cert)
    assert "private_key=" not in repr(ca)


def test_subject_fields_are_checked_in_plain_words() -> None:
    with pytest.raises(SubjectError, match="common name"):
        create_ca(SubjectFields("  "), "ec256")
    with pytest.raises(SubjectError, match="two-letter"):
        create_ca(SubjectFields("x", country="Germany"), "ec256")
    with pytest.raises(SubjectError, match="longer than 64"):
        create_ca(SubjectFields("x" * 65), "ec256")
    with pytest.raises(SubjectError, match="control character"):
        create_ca(SubjectFields("bad\x07name"), "ec256")
    with pytest.raises(SubjectError, match="1 to 3650 days"):
        create_ca("x", "ec256", days=0)
    with pytest.raises(PkiError, match="unknown key type"):
        create_ca("x", "rsa1024")


def test_key_type_names() -> None:
    assert KeyType.parse("RSA-2048") is KeyType.RSA2048
    assert KeyType.parse("p-384") is KeyType.EC384
    assert KeyType.parse("secp256r1") is KeyType.EC256
    assert KeyType.EC256.label == "EC P-256"


def test_verification_certificate_has_the_code_as_cn_and_is_signed_by_the_ca(ec_ca, rsa_ca) -> None:
    code = "0123456789abcdef" * 4
    for ca in (ec_ca, rsa_ca):
        cert = make_verification_certificate(code, ca.certificate, ca.private_key)
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == code
        assert cert.issuer == ca.certificate.subject
        cert.verify_directly_issued_by(ca.certificate)
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert (
            dt.timedelta(hours=23)
            < cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
            <= dt.timedelta(days=1)
        )
        assert chains_to_ca(cert, ca.certificate).ok


def test_verification_certificate_refuses_a_key_of_another_ca(ec_ca, other_ca) -> None:
    with pytest.raises(KeyMismatchError, match="does not belong"):
        make_verification_certificate("abc", ec_ca.certificate, other_ca.private_key)
    with pytest.raises(SubjectError, match="empty"):
        make_verification_certificate(" ", ec_ca.certificate, ec_ca.private_key)


def test_device_certificate_profile(ec_ca) -> None:
    issued = issue_certificate(ec_ca.certificate, ec_ca.private_key, "device01", days=90)
    cert = issued.certificate
    assert cert.subject.rfc4514_string() == "CN=device01"
    assert isinstance(issued.private_key, rsa.RSAPrivateKey)  # RSA 2048 by default
    exts = cert.extensions
    assert exts.get_extension_for_class(x509.BasicConstraints).critical
    assert not exts.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = exts.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and not usage.key_cert_sign
    assert list(exts.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    ca_ski = ec_ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert exts.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == ca_ski
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=90)
    assert issued.chain == (cert, ec_ca.certificate)
    assert chains_to_ca(cert, ec_ca.certificate).ok
    ec_issued = issue_certificate(ec_ca.certificate, ec_ca.private_key, "device02", key_type="ec256")
    assert isinstance(ec_issued.private_key, ec.EllipticCurvePrivateKey)
    assert not ec_issued.certificate.extensions.get_extension_for_class(x509.KeyUsage).value.key_encipherment


def test_device_certificate_never_outlives_its_ca() -> None:
    ca = create_ca("short CA", "ec256", days=30)
    issued = issue_certificate(ca.certificate, ca.private_key, "dev", days=365)
    assert issued.certificate.not_valid_after_utc == ca.certificate.not_valid_after_utc
    assert issued.notes and "shortened" in issued.notes[0]


def test_issuing_needs_a_ca_and_its_key(ec_ca, other_ca) -> None:
    with pytest.raises(KeyMismatchError):
        issue_certificate(ec_ca.certificate, other_ca.private_key, "dev")
    leaf = issue_certificate(ec_ca.certificate, ec_ca.private_key, "leaf", key_type="ec256")
    with pytest.raises(PkiError, match="not a CA"):
        issue_certificate(leaf.certificate, leaf.private_key, "dev")  # type: ignore[arg-type]
    expired_key, expired = custom_ca(not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=400), days=30)
    with pytest.raises(PkiError, match="expired"):
        issue_certificate(expired, expired_key, "dev")


def _csr(cn: str, key: ec.EllipticCurvePrivateKey, san: str | None = None) -> x509.CertificateSigningRequest:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return builder.sign(key, hashes.SHA256())


def test_sign_csr_keeps_subject_and_key_and_adds_the_device_profile(ec_ca) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    issued = sign_csr(
        _csr("sensor-7", key, san="sensor-7.local"), ec_ca.certificate, ec_ca.private_key, days=30
    )
    cert = issued.certificate
    assert issued.private_key is None
    assert cert.subject.rfc4514_string() == "CN=sensor-7"
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    exts = cert.extensions
    assert list(exts.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    san = exts.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["sensor-7.local"]
    assert chains_to_ca(cert, ec_ca.certificate).ok


def test_write_issued_files_and_modes(ec_ca, tmp_path) -> None:
    issued = issue_certificate(ec_ca.certificate, ec_ca.private_key, "device01", key_type="ec256")
    out = tmp_path / "new" / "out"
    files = write_issued(issued, out, "device01")
    assert (files.certificate.name, files.key.name, files.chain.name) == (
        "device01.pem",
        "device01.key",
        "device01-chain.pem",
    )
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(files.certificate.stat().st_mode) == 0o644
    assert load_certificates(read_file(files.chain)) == [issued.certificate, ec_ca.certificate]
    key = load_private_key(read_file(files.key))
    assert key.public_key().public_numbers() == issued.private_key.public_key().public_numbers()
    assert not list(out.glob(".*.tmp"))
    # Nothing is overwritten unless asked: a second write is refused and the first files are intact.
    before = files.key.read_bytes()
    again = issue_certificate(ec_ca.certificate, ec_ca.private_key, "device01", key_type="ec256")
    with pytest.raises(FileWriteError, match="already exists"):
        write_issued(again, out, "device01")
    assert files.key.read_bytes() == before
    write_issued(again, out, "device01", overwrite=True)
    assert files.key.read_bytes() != before


def test_file_names_are_checked(ec_ca, tmp_path) -> None:
    issued = issue_certificate(ec_ca.certificate, ec_ca.private_key, "x", key_type="ec256")
    for bad in ("../evil", "a/b", "", ".hidden", "x" * 65, "name with space"):
        with pytest.raises(SubjectError, match="file name"):
            write_issued(issued, tmp_path, bad)
    assert list(tmp_path.iterdir()) == []
