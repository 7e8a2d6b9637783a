"""Local PKI for MindConnect MQTT (issue 10 §1, §2): ``cryptography`` only, no Textual, no network.

- ``load``: read certificates, chains, requests and keys in any common form (``read_material``,
  ``load_certificate``, ``load_certificates``, ``load_csr``, ``load_private_key``, ``read_file``).
- ``build``: ``create_ca``, ``make_verification_certificate``, ``issue_certificate``, ``sign_csr``,
  ``write_issued``.
- ``inspection``: ``inspect``, ``inspect_certificate`` (subject, issuer, serial, validity and days left,
  SHA-256 fingerprint, extensions, key type and size).
- ``verify``: ``key_matches_certificate``, ``require_key_matches``, ``chains_to_ca``.
- ``lint``: ``lint_ca`` against the platform rules, rule by rule (pass, fail, warn).
- ``keystore``: ``CaKeyStore``, CA keys per tenant, encrypted at rest, durable before use.

Errors are ``PkiError`` subclasses (``tui.pki.errors``) with one plain line, never key material.
"""

from tui.pki.build import (
    CaMaterial,
    IssuedCertificate,
    IssuedFiles,
    SubjectFields,
    create_ca,
    issue_certificate,
    make_verification_certificate,
    sign_csr,
    write_issued,
)
from tui.pki.errors import (
    FileWriteError,
    InputError,
    KeyMismatchError,
    KeyNotFoundError,
    KeyStoreError,
    PassphraseRequiredError,
    PkiError,
    SubjectError,
    WrongPassphraseError,
)
from tui.pki.inspection import (
    CertificateInfo,
    ExtensionInfo,
    Inspection,
    KeyFacts,
    RequestInfo,
    fingerprint_sha256,
    inspect,
    inspect_certificate,
)
from tui.pki.keys import KeyInfo, KeyType, generate_key, key_info
from tui.pki.keystore import CaKeyStore, StoredCa
from tui.pki.lint import LintReport, Rule, RuleResult, Status, lint_ca
from tui.pki.load import (
    Material,
    certificate_pem,
    load_certificate,
    load_certificates,
    load_csr,
    load_private_key,
    read_file,
    read_material,
)
from tui.pki.verify import ChainCheck, chains_to_ca, key_matches_certificate, require_key_matches

__all__ = [
    "CaKeyStore",
    "CaMaterial",
    "CertificateInfo",
    "ChainCheck",
    "ExtensionInfo",
    "FileWriteError",
    "InputError",
    "Inspection",
    "IssuedCertificate",
    "IssuedFiles",
    "KeyFacts",
    "KeyInfo",
    "KeyMismatchError",
    "KeyNotFoundError",
    "KeyStoreError",
    "KeyType",
    "LintReport",
    "Material",
    "PassphraseRequiredError",
    "PkiError",
    "RequestInfo",
    "Rule",
    "RuleResult",
    "Status",
    "StoredCa",
    "SubjectError",
    "SubjectFields",
    "WrongPassphraseError",
    "certificate_pem",
    "chains_to_ca",
    "create_ca",
    "fingerprint_sha256",
    "generate_key",
    "inspect",
    "inspect_certificate",
    "issue_certificate",
    "key_info",
    "key_matches_certificate",
    "lint_ca",
    "load_certificate",
    "load_certificates",
    "load_csr",
    "load_private_key",
    "make_verification_certificate",
    "read_file",
    "read_material",
    "require_key_matches",
    "sign_csr",
    "write_issued",
]
