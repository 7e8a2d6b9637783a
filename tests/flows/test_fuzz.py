"""Fuzz (issue 10 §5): more than 1 000 malformed inputs (truncated, binary, DER where PEM is expected, wrong
PEM type, two certificates where one is expected, huge files, encrypted keys with a wrong passphrase) to
inspect, lint and register. Each gets a clear one-line error, nothing crashes, nothing is uploaded (the
simulator's state is checked) and no message shows key material."""

from __future__ import annotations

import base64
import random
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from tests.flows.conftest import Sim
from tests.pki.conftest import custom_ca, der, pem
from tui.flows.certificates import Outcome, register_ca
from tui.pki import PkiError, create_ca, inspect, issue_certificate, lint_ca
from tui.pki.load import MAX_INPUT_BYTES

SEED = 20260301


@dataclass(frozen=True)
class Case:
    kind: str
    certificate: bytes | str
    key: bytes | str | None = None
    passphrase: str | None = None


def _pem_block(kind: str, data: bytes) -> str:
    b64 = base64.b64encode(data).decode()
    lines = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n"


def build_corpus() -> tuple[list[Case], list[str]]:
    rnd = random.Random(SEED)
    ca = create_ca("fuzz CA", "ec256")
    other = create_ca("fuzz other CA", "ec256")
    ca_pem, ca_der = ca.certificate_pem, der(ca.certificate)
    key_pem = ca.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    enc_key = ca.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"the right passphrase"),
    ).decode()
    legacy_enc = ca.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"the right passphrase"),
    ).decode()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "req")]))
        .sign(ca.private_key, hashes.SHA256())
    )
    device = issue_certificate(ca.certificate, ca.private_key, "dev", key_type="ec256")
    secrets = [key_pem, enc_key, legacy_enc]
    cases: list[Case] = []
    add = cases.append
    end_at = ca_pem.index("-----END")
    body_start = ca_pem.index("\n") + 1
    body = ca_pem[body_start:end_at]

    # 1. truncated PEM (cut anywhere before the END line is complete)
    for _ in range(250):
        add(Case("truncated pem", ca_pem[: rnd.randrange(1, end_at + 10)]))
    # 2. truncated DER
    for _ in range(100):
        add(Case("truncated der", ca_der[: rnd.randrange(1, len(ca_der))]))
    # 3. random binary, of every size up to a few kB
    for _ in range(200):
        add(Case("binary", rnd.randbytes(rnd.randrange(1, 4096))))
    # 4. DER with a flipped byte (parses or not; never a valid self-signed CA)
    for _ in range(200):
        data = bytearray(ca_der)
        pos = rnd.randrange(len(data))
        data[pos] ^= rnd.randrange(1, 256)
        add(Case("flipped der", bytes(data)))
    # 5. PEM with a damaged base64 body (never the last quantum, whose low bits may be unused)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    positions = [i for i, ch in enumerate(body) if ch in alphabet][:-8]
    for _ in range(150):
        chars = list(body)
        pos = rnd.choice(positions)
        chars[pos] = rnd.choice([c for c in alphabet if c != chars[pos]])
        damaged = ca_pem[:body_start] + "".join(chars) + ca_pem[end_at:]
        add(Case("damaged base64", damaged))
    # 6. DER where PEM is expected: raw DER of other things, DER inside text, DER in a PEM of the wrong type
    for label, data in [
        ("csr der", csr.public_bytes(serialization.Encoding.DER)),
        ("device der", der(device.certificate)),
    ]:
        add(Case(label, data))
    for _ in range(20):
        add(
            Case(
                "der in text", b"certificate follows:\n" + ca_der[: rnd.randrange(10, len(ca_der))] + b"\nend"
            )
        )
    # 7. wrong PEM types around a CA body, and things that are not certificates
    wrong_types = ("PUBLIC KEY", "X509 CRL", "PRIVATE KEY", "RSA PRIVATE KEY", "CERTIFICATE REQUEST", "PKCS7")
    wrong_types += ("EC PARAMETERS", "OPENSSH PRIVATE KEY", "SSH2 PUBLIC KEY", "FOO", "CERTIFICATES")
    for kind in wrong_types:
        add(Case("wrong pem type", _pem_block(kind.strip(), ca_der)))
    for label, data in [
        ("key instead of cert", key_pem),
        ("encrypted key instead of cert", enc_key),
        ("csr instead of cert", csr.public_bytes(serialization.Encoding.PEM).decode()),
        ("device cert (not a CA)", device.certificate_pem),
        ("no keyCertSign", pem(custom_ca(key_cert_sign=False)[1])),
        (
            "expired CA",
            pem(custom_ca(days=1, not_before=ca.certificate.not_valid_before_utc.replace(year=2020))[1]),
        ),
    ]:
        for wrap in ("{}", "text before\n{}\ntext after", "{}".replace("{}", "{}\r\n")):
            add(Case(label, wrap.format(data)))
    # 8. two certificates where one is expected
    for a, b in [(ca_pem, other.certificate_pem), (ca_pem, ca_pem), (ca_pem, device.certificate_pem)]:
        for sep in ("", "\n", "\r\n# second:\r\n", "\n\n\n"):
            add(Case("two certificates", a + sep + b))
    # 9. broken PEM structure
    structural = [
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n" + body,
        body + "-----END CERTIFICATE-----\n",
        ca_pem.replace("END CERTIFICATE", "END PRIVATE KEY"),
        ca_pem.replace(
            "-----BEGIN CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----"
        ),
        ca_pem.replace("\n", "\x00\n"),
        "\x00" * 100,
        "",
        "   \n\t  ",
        "-----BEGIN",
        "-----END CERTIFICATE-----",
        ca_pem.replace("-----", "----"),
        "é" * 500,
    ]
    for _ in range(3):
        for item in structural:
            add(Case("structure", item))
    # 10. huge inputs
    for size in (MAX_INPUT_BYTES + 1, MAX_INPUT_BYTES * 2, 5 * MAX_INPUT_BYTES):
        add(Case("huge text", "A" * size))
        add(Case("huge binary", rnd.randbytes(size)))
        add(
            Case(
                "huge pem",
                "-----BEGIN CERTIFICATE-----\n" + "QUJD" * (size // 4) + "\n-----END CERTIFICATE-----\n",
            )
        )
    add(Case("huge chain", ca_pem * (MAX_INPUT_BYTES // len(ca_pem) + 1)))
    # 11. a good certificate with a bad key: wrong passphrase, no passphrase, damaged key, other things
    for wrong in ("", "wrong", "the right passphrase ", "THE RIGHT PASSPHRASE", "x" * 200):
        add(Case("wrong passphrase", ca_pem, enc_key, wrong or None))
        add(Case("wrong passphrase (legacy)", ca_pem, legacy_enc, wrong or None))
    for _ in range(40):
        cut = rnd.randrange(1, len(enc_key) - 30)
        add(Case("truncated encrypted key", ca_pem, enc_key[:cut], "the right passphrase"))
    for key in (
        ca_pem,
        csr.public_bytes(serialization.Encoding.PEM).decode(),
        rnd.randbytes(300),
        "",
        "not a key",
    ):
        add(Case("not a key", ca_pem, key))
    other_key = other.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    add(Case("key of another CA", ca_pem, other_key))
    return cases, secrets


KEY_CHUNK = re.compile(r"[A-Za-z0-9+/]{24,}")


def _check_message(message: str, secrets: list[str]) -> None:
    assert message and "\n" not in message and len(message) < 600, message
    assert "Traceback" not in message
    for secret in secrets:
        for chunk in KEY_CHUNK.findall(secret):
            assert chunk not in message


async def test_fuzz_inspect_lint_register(sim, key_store) -> None:
    s: Sim = sim()
    cases, secrets = build_corpus()
    assert len(cases) >= 1000
    kinds: dict[str, int] = {}
    for case in cases:
        kinds[case.kind] = kinds.get(case.kind, 0) + 1
        # inspect: a result or a PkiError, nothing else
        try:
            inspect(case.certificate)
        except PkiError as exc:
            _check_message(str(exc), secrets)
        # lint: never raises, never passes a malformed certificate (the key cases carry a good one)
        report = lint_ca(case.certificate, [])
        assert report.ok is (case.key is not None), case.kind
        for result in report.results:
            _check_message(result.detail, secrets)
        # register: refused with a clear message, nothing uploaded
        result = await register_ca(
            s.api, case.certificate, key=case.key, key_passphrase=case.passphrase, key_store=key_store
        )
        assert result.outcome is Outcome.REFUSED, (case.kind, result.message)
        _check_message(result.message, secrets)
        assert s.state.ca_certificates == {}, case.kind
    assert s.ca_posts == [] and key_store.list() == []
    assert len(kinds) >= 15
