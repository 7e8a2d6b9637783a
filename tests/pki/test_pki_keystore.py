"""CA keys kept by ihub (issue 10 §2): per tenant, encrypted at rest, 0600 files in 0700 folders, written
atomically and durably before ``save`` returns, exported only encrypted."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tui.pki import (
    CaKeyStore,
    FileWriteError,
    InputError,
    KeyMismatchError,
    KeyNotFoundError,
    KeyStoreError,
    PassphraseRequiredError,
    create_ca,
    load_private_key,
)
from tui.pki import files as pki_files
from tui.pki.inspection import fingerprint_sha256
from tui.pki.keys import key_id


class Source:
    """A passphrase source that records how it was asked."""

    def __init__(self, value: str = "a-long-random-passphrase-for-tests") -> None:
        self.value = value
        self.calls: list[bool] = []

    def __call__(self, create: bool) -> str:
        self.calls.append(create)
        return self.value


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _same(a, b) -> bool:
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_key().public_bytes(serialization.Encoding.DER, fmt) == b.public_key().public_bytes(
        serialization.Encoding.DER, fmt
    )


def test_save_encrypted_private_and_durable(tmp_path: Path, ec_ca, monkeypatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else str(fd))
        real_fsync(fd)

    monkeypatch.setattr(pki_files.os, "fsync", recording_fsync)
    source = Source()
    store = CaKeyStore.for_tenant(tmp_path / "pki", "demo", source)
    stored = store.save(ec_ca.certificate, ec_ca.private_key)
    assert source.calls == [True]  # the first key of the tenant may create the passphrase
    assert stored.key_path.parent == tmp_path / "pki" / "demo"
    assert stored.key_path.name == key_id(ec_ca.private_key) + ".key"
    assert _mode(stored.key_path) == 0o600 and _mode(stored.certificate_path) == 0o600
    assert _mode(tmp_path / "pki" / "demo") == 0o700 and _mode(tmp_path / "pki") == 0o700
    data = stored.key_path.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    plain = ec_ca.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert plain not in data
    with pytest.raises(PassphraseRequiredError):
        load_private_key(data)
    assert _same(load_private_key(data, source.value), ec_ca.private_key)
    # Durable: the key file and its folder were fsynced before save returned.
    assert len(synced) >= 4  # key file and folder, certificate file and folder
    if sys.platform.startswith("linux"):
        assert synced[0].endswith(".tmp") and synced[1] == str(stored.key_path.parent)
    assert not list(stored.key_path.parent.glob(".*.tmp"))


def test_find_load_list_and_reuse_of_the_passphrase(tmp_path: Path, ec_ca, rsa_ca) -> None:
    source = Source()
    store = CaKeyStore.for_tenant(tmp_path, "demo", source)
    assert store.find(ec_ca.certificate) is None and store.list() == []
    with pytest.raises(KeyNotFoundError, match="not on this machine"):
        store.load_key(ec_ca.certificate)
    store.save(ec_ca.certificate, ec_ca.private_key)
    store.save(rsa_ca.certificate, rsa_ca.private_key)
    assert source.calls == [True, False]  # a second key reuses the tenant's passphrase
    assert _same(store.load_key(rsa_ca.certificate), rsa_ca.private_key)
    assert store.has_key(ec_ca.certificate)
    found = store.find(fingerprint=fingerprint_sha256(rsa_ca.certificate).upper())
    assert found is not None and found.certificate == rsa_ca.certificate
    assert {s.fingerprint_sha256 for s in store.list()} == {
        fingerprint_sha256(ec_ca.certificate),
        fingerprint_sha256(rsa_ca.certificate),
    }
    # Saving the same key again keeps the file and refreshes the certificate.
    before = store.find(ec_ca.certificate).key_path.read_bytes()
    store.save(ec_ca.certificate, ec_ca.private_key)
    assert store.find(ec_ca.certificate).key_path.read_bytes() == before
    # A renewed certificate for the same key finds the key.
    renewed = create_ca("ihub test CA renewed", key=ec_ca.private_key)
    assert _same(store.load_key(renewed.certificate), ec_ca.private_key)
    # Tenants are separate.
    other = CaKeyStore.for_tenant(tmp_path, "other", Source())
    assert other.find(ec_ca.certificate) is None


def test_refusals_write_nothing(tmp_path: Path, ec_ca, other_ca) -> None:
    store = CaKeyStore.for_tenant(tmp_path, "demo", Source())
    with pytest.raises(KeyMismatchError, match="nothing was saved"):
        store.save(ec_ca.certificate, other_ca.private_key)

    def broken(create: bool) -> str:
        raise RuntimeError("no usable OS keyring")

    failing = CaKeyStore.for_tenant(tmp_path, "demo", broken)
    with pytest.raises(
        KeyStoreError, match="passphrase protecting CA keys is not available: no usable OS keyring"
    ):
        failing.save(ec_ca.certificate, ec_ca.private_key)
    assert not list((tmp_path / "demo").glob("*.key"))
    for bad in ("", "../x", "a/b", ".hidden", "x" * 70):
        with pytest.raises(KeyStoreError, match="not a valid tenant name"):
            CaKeyStore.for_tenant(tmp_path, bad, Source())


def test_failed_write_leaves_no_key_and_no_temp_file(tmp_path: Path, ec_ca, monkeypatch) -> None:
    store = CaKeyStore.for_tenant(tmp_path, "demo", Source())

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pki_files.os, "replace", failing_replace)
    with pytest.raises(KeyStoreError, match="No space left on device"):
        store.save(ec_ca.certificate, ec_ca.private_key)
    assert list((tmp_path / "demo").iterdir()) == []


def test_changed_passphrase_is_a_plain_error(tmp_path: Path, ec_ca) -> None:
    CaKeyStore.for_tenant(tmp_path, "demo", Source("first")).save(ec_ca.certificate, ec_ca.private_key)
    store = CaKeyStore.for_tenant(tmp_path, "demo", Source("second"))
    with pytest.raises(KeyStoreError, match="cannot be opened with the stored passphrase") as info:
        store.load_key(ec_ca.certificate)
    assert "first" not in str(info.value) and "second" not in str(info.value)


def test_export_is_encrypted_with_the_users_passphrase(tmp_path: Path, ec_ca) -> None:
    store = CaKeyStore.for_tenant(tmp_path, "demo", Source())
    store.save(ec_ca.certificate, ec_ca.private_key)
    with pytest.raises(KeyStoreError, match="at least 8 characters"):
        store.export_key(ec_ca.certificate, "short")
    exported = store.export_key(ec_ca.certificate, "backup passphrase")
    assert exported.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert _same(load_private_key(exported, "backup passphrase"), ec_ca.private_key)
    with pytest.raises(InputError):
        load_private_key(exported, "another one")
    path = store.export_key_to(ec_ca.certificate, "backup passphrase", tmp_path / "backup" / "ca.key")
    assert _mode(path) == 0o600
    with pytest.raises(FileWriteError, match="already exists"):
        store.export_key_to(ec_ca.certificate, "backup passphrase", path)
