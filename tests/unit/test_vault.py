"""The encrypted vault: scrypt + AES-GCM, mode 0600, wrong passphrase leaves the file untouched."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tui.config.paths import AppPaths
from tui.config.vault import (
    SCRYPT_N,
    Vault,
    VaultCorruptError,
    VaultLockedError,
    VaultPassphraseError,
)

SECRET = "vault-Secret-Value-9931"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def vault_path(paths: AppPaths) -> Path:
    return paths.vault_file


def test_vault_round_trip_file_is_private_and_encrypted(vault_path: Path) -> None:
    vault = Vault(vault_path)
    assert not vault.exists and not vault.unlocked
    vault.unlock(PASSPHRASE)
    assert not vault.exists  # created on the first set
    vault.set("prod", SECRET)
    vault.set("staging", SECRET + "-2")

    assert stat.S_IMODE(vault_path.stat().st_mode) == 0o600
    raw = vault_path.read_bytes()
    assert SECRET.encode() not in raw
    assert PASSPHRASE.encode() not in raw
    envelope = json.loads(raw)
    assert envelope["kdf"]["name"] == "scrypt" and envelope["kdf"]["n"] >= SCRYPT_N == 2**15
    assert envelope["kdf"]["r"] == 8 and envelope["kdf"]["p"] == 1

    other = Vault(vault_path)
    assert other.names() == ["prod", "staging"]  # names are readable while locked
    with pytest.raises(VaultLockedError):
        other.get("prod")
    other.unlock(PASSPHRASE)
    assert other.get("prod") == SECRET
    assert other.get("staging") == SECRET + "-2"
    assert other.get("missing") is None
    assert SECRET not in repr(other)


def test_wrong_passphrase_leaves_the_file_byte_identical(vault_path: Path) -> None:
    vault = Vault(vault_path)
    vault.unlock(PASSPHRASE)
    vault.set("prod", SECRET)
    before = vault_path.read_bytes()
    mtime = vault_path.stat().st_mtime_ns

    other = Vault(vault_path)
    with pytest.raises(VaultPassphraseError) as info:
        other.unlock("wrong passphrase")
    assert "wrong" in str(info.value)
    assert not other.unlocked
    with pytest.raises(VaultLockedError):
        other.set("prod", "overwrite attempt")
    assert vault_path.read_bytes() == before
    assert vault_path.stat().st_mtime_ns == mtime
    with pytest.raises(VaultPassphraseError, match="empty"):
        other.unlock("")


def test_delete_works_locked_and_entries_cannot_be_swapped(vault_path: Path) -> None:
    vault = Vault(vault_path)
    vault.unlock(PASSPHRASE)
    vault.set("a", "secret-a")
    vault.set("b", "secret-b")
    assert Vault(vault_path).delete("a") is True
    assert Vault(vault_path).delete("a") is False
    assert vault.names() == ["b"]

    # Moving sealed entry b to name c is detected (the name is authenticated).
    envelope = json.loads(vault_path.read_text())
    envelope["entries"]["c"] = envelope["entries"]["b"]
    vault_path.write_text(json.dumps(envelope))
    with pytest.raises(VaultCorruptError, match="'c'"):
        vault.get("c")


def test_change_passphrase(vault_path: Path) -> None:
    vault = Vault(vault_path)
    vault.unlock(PASSPHRASE)
    vault.set("prod", SECRET)
    vault.change_passphrase("new passphrase")
    reopened = Vault(vault_path)
    with pytest.raises(VaultPassphraseError):
        reopened.unlock(PASSPHRASE)
    reopened.unlock("new passphrase")
    assert reopened.get("prod") == SECRET


@pytest.mark.parametrize(
    "content", [b"not json", b'{"format": "other"}', b'{"format": "ihub-vault", "version": 9}']
)
def test_damaged_file_is_reported(vault_path: Path, content: bytes) -> None:
    vault_path.parent.mkdir(parents=True, exist_ok=True)
    vault_path.write_bytes(content)
    with pytest.raises(VaultCorruptError):
        Vault(vault_path).unlock(PASSPHRASE)
    assert vault_path.read_bytes() == content


def test_a_set_is_durable_file_and_folder_fsynced(vault_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The vault holds the passphrase of the CA keys (issue 10 §2): once ``set`` returns, the new file and
    its rename are on disk, so a CA uploaded next never outlives the entry that opens its key."""
    import os

    from tui.config import settings

    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs /proc to name the fsynced files")
    monkeypatch.setattr(settings.os, "fsync", recording_fsync)
    vault = Vault(vault_path)
    vault.unlock(PASSPHRASE)
    vault.set("ca-key-passphrase:demo", SECRET)
    temporary = str(vault_path.parent / f".{vault_path.name}.")
    assert synced[-2].startswith(temporary) and synced[-2].endswith(".tmp")  # the new file's bytes
    assert synced[-1] == str(vault_path.parent)  # the rename itself
