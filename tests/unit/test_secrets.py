"""The secret store: keyring first; on a headless box never plaintext, only the user's choice."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import keyring
import keyring.backend
import pytest
from keyring.backends import null

from tests.conftest import HangingKeyring, InMemoryKeyring, files_containing
from tui.config.paths import AppPaths
from tui.config.profiles import profile_from_fields
from tui.config.secrets import (
    KeyringTimeoutError,
    KeyringUnavailableError,
    NoSecureStoreError,
    Secret,
    SecretStore,
    SecretStoreError,
    StoreKind,
    VaultLockedError,
    VaultPassphraseError,
    detect_keyring,
)

SECRET = "cs-7f3a9-Unique-Client-Secret"
PASSPHRASE = "vault pass phrase"


def _store(paths: AppPaths, environ: dict[str, str] | None = None, timeout: float = 3.0) -> SecretStore:
    return SecretStore(paths, environ={} if environ is None else environ, keyring_timeout=timeout)


def _assert_no_clear_secret(root: Path, secret: str = SECRET) -> None:
    assert files_containing(root, secret) == []
    # keyring's global configuration is never written.
    assert not list(root.rglob("keyringrc.cfg"))


class FakePlaintextKeyring(keyring.backend.KeyringBackend):
    """Looks like keyrings.alt's plaintext file backend; must never be used."""

    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.writes += 1

    def delete_password(self, service: str, username: str) -> None:
        return None


FakePlaintextKeyring.__module__ = "keyrings.alt.file"
FakePlaintextKeyring.__name__ = FakePlaintextKeyring.__qualname__ = "PlaintextKeyring"


class SetHangsKeyring(InMemoryKeyring):
    """Reads answer, writes block (a keyring that locks itself after start-up)."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.release = threading.Event()

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)


# -- keyring ---------------------------------------------------------------------------------------
def test_secret_goes_to_the_keyring(
    paths: AppPaths, memory_keyring: InMemoryKeyring, ihub_home: Path
) -> None:
    store = _store(paths)
    status = store.keyring_status()
    assert status.usable and status.backend == "InMemoryKeyring"
    assert store.default_kind() is StoreKind.KEYRING
    assert store.set("prod", SECRET) is StoreKind.KEYRING
    assert memory_keyring.store[("ihub:prod", "client_secret")] == SECRET
    assert store.where("prod") is StoreKind.KEYRING

    again = _store(paths)  # another process
    secret = again.get(profile_from_fields("prod", "eu1", "", "acme-tool-1.0.0-x"))
    assert secret == Secret(SECRET, StoreKind.KEYRING)
    assert SECRET not in repr(secret) and SECRET not in repr(again)
    _assert_no_clear_secret(ihub_home)

    again.delete("prod")
    assert memory_keyring.store == {}
    assert again.where("prod") is None and again.get("prod") is None
    again.delete("prod")  # missing is fine


def test_headless_fail_backend_refuses_and_lists_choices(
    paths: AppPaths, fail_keyring: None, ihub_home: Path
) -> None:
    store = _store(paths)
    status = store.keyring_status()
    assert not status.usable
    assert status.backend == "Keyring"
    assert "D-Bus" in status.reason
    assert store.default_kind() is None
    with pytest.raises(NoSecureStoreError) as info:
        store.set("prod", SECRET)
    message = str(info.value)
    for word in ("vault", "session", "env", "IHUB_VAULT_PASSPHRASE", "IHUB_CLIENT_SECRET"):
        assert word in message
    assert info.value.choices == (StoreKind.VAULT, StoreKind.SESSION, StoreKind.ENV)
    assert SECRET not in message
    with pytest.raises(KeyringUnavailableError, match="not usable"):
        store.set("prod", SECRET, StoreKind.KEYRING)
    assert store.where("prod") is None
    assert not paths.settings_file.exists()  # nothing half-done
    _assert_no_clear_secret(ihub_home)


@pytest.mark.parametrize(
    "backend_path", ["keyring.backends.fail.Keyring", "keyring.backends.null.Keyring", "no.such.Backend"]
)
def test_python_keyring_backend_variable_is_respected(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch, backend_path: str
) -> None:
    # The in-memory keyring is installed process-wide; the variable still wins.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend_path)
    status = detect_keyring(timeout=3.0)
    assert not status.usable
    with pytest.raises(NoSecureStoreError):
        SecretStore(paths, environ={"PYTHON_KEYRING_BACKEND": backend_path}).set("prod", SECRET)


def test_null_and_plaintext_backends_are_never_used(paths: AppPaths, ihub_home: Path) -> None:
    previous = keyring.get_keyring()
    try:
        keyring.set_keyring(null.Keyring())
        assert "disabled" in detect_keyring().reason
        plain = FakePlaintextKeyring()
        keyring.set_keyring(plain)
        status = detect_keyring()
        assert not status.usable and "file backend" in status.reason
        with pytest.raises(NoSecureStoreError):
            _store(paths).set("prod", SECRET)
        assert plain.writes == 0
    finally:
        keyring.set_keyring(previous)
    _assert_no_clear_secret(ihub_home)


def test_hanging_keyring_times_out_and_is_not_usable(
    paths: AppPaths, hanging_keyring: HangingKeyring
) -> None:
    store = _store(paths, timeout=0.2)
    status = store.keyring_status()
    assert hanging_keyring.calls == 1
    assert not status.usable
    assert status.backend == "HangingKeyring"
    assert "did not answer within 0.2 s" in status.reason
    assert store.default_kind() is None
    assert store.keyring_status() is status  # cached: no second blocking probe
    assert hanging_keyring.calls == 1


def test_keyring_that_blocks_on_write_times_out(paths: AppPaths) -> None:
    backend = SetHangsKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        store = _store(paths, timeout=0.2)
        assert store.keyring_status().usable
        with pytest.raises(KeyringTimeoutError) as info:
            store.set("prod", SECRET)
        assert SECRET not in str(info.value)
        assert not store.keyring_status().usable  # not asked again
        assert store.where("prod") is None
    finally:
        backend.release.set()
        keyring.set_keyring(previous)


# -- fallbacks -------------------------------------------------------------------------------------
def test_vault_choice(paths: AppPaths, fail_keyring: None, ihub_home: Path) -> None:
    store = _store(paths)
    with pytest.raises(VaultLockedError, match="IHUB_VAULT_PASSPHRASE"):
        store.set("prod", SECRET, StoreKind.VAULT)
    assert not store.vault_exists
    store.unlock_vault(PASSPHRASE)
    assert store.set("prod", SECRET, StoreKind.VAULT) is StoreKind.VAULT
    assert store.vault_exists and store.vault_unlocked
    assert stat.S_IMODE(paths.vault_file.stat().st_mode) == 0o600
    assert store.where("prod") is StoreKind.VAULT
    _assert_no_clear_secret(ihub_home)

    locked = _store(paths)
    with pytest.raises(VaultLockedError):
        locked.get("prod")
    with pytest.raises(VaultPassphraseError):
        locked.unlock_vault("wrong")
    from_env = _store(paths, {"IHUB_VAULT_PASSPHRASE": PASSPHRASE})
    assert from_env.default_kind() is StoreKind.VAULT
    assert from_env.get("prod") == Secret(SECRET, StoreKind.VAULT)
    from_env.delete("prod")
    assert "prod" not in from_env.vault.names()  # type: ignore[union-attr]


def test_vault_used_by_default_when_passphrase_in_environment(
    paths: AppPaths, fail_keyring: None, ihub_home: Path
) -> None:
    store = _store(paths, {"IHUB_VAULT_PASSPHRASE": PASSPHRASE})
    assert store.set("ci", SECRET) is StoreKind.VAULT
    assert paths.vault_file.exists()
    _assert_no_clear_secret(ihub_home)


def test_session_choice_keeps_the_secret_in_memory_only(
    paths: AppPaths, fail_keyring: None, ihub_home: Path
) -> None:
    store = _store(paths)
    assert store.set("prod", SECRET, StoreKind.SESSION) is StoreKind.SESSION
    assert store.get("prod") == Secret(SECRET, StoreKind.SESSION)
    assert store.where("prod") is StoreKind.SESSION
    assert _store(paths).get("prod") is None  # another process knows nothing
    _assert_no_clear_secret(ihub_home)


def test_env_choice_and_environment_override(paths: AppPaths, memory_keyring: InMemoryKeyring) -> None:
    store = _store(paths)
    assert store.set("ci", "", StoreKind.ENV) is StoreKind.ENV
    assert store.where("ci") is StoreKind.ENV
    assert store.get("ci") is None  # expected in the environment, not set here
    assert _store(paths, {"IHUB_CLIENT_SECRET": SECRET}).get("ci") == Secret(SECRET, StoreKind.ENV)

    store.set("prod", "from-keyring")
    assert _store(paths, {"IHUB_CLIENT_SECRET": SECRET}).get("prod") == Secret(SECRET, StoreKind.ENV)
    scoped = _store(paths, {"IHUB_CLIENT_SECRET": SECRET, "IHUB_PROFILE": "ci"})
    assert scoped.get("prod") == Secret("from-keyring", StoreKind.KEYRING)
    assert scoped.get("ci") == Secret(SECRET, StoreKind.ENV)
    with pytest.raises(SecretStoreError, match="empty"):
        store.set("prod", "", StoreKind.KEYRING)


def test_choice_is_persisted_per_machine(paths: AppPaths, fail_keyring: None) -> None:
    store = _store(paths)
    assert store.choice is None
    store.set_choice(StoreKind.SESSION)
    data = tomllib.loads(paths.settings_file.read_text())
    assert data["secrets"]["store"] == "session"
    assert stat.S_IMODE(paths.settings_file.stat().st_mode) == 0o600
    again = _store(paths)
    assert again.choice is StoreKind.SESSION
    assert again.default_kind() is StoreKind.SESSION
    assert again.set("prod", SECRET) is StoreKind.SESSION
    again.set_choice(None)
    assert _store(paths).choice is None


def test_usable_keyring_wins_over_the_saved_choice(paths: AppPaths) -> None:
    store = _store(paths)
    store.set_choice(StoreKind.VAULT)
    assert store.default_kind() is StoreKind.KEYRING


def test_moving_between_stores_leaves_one_copy(
    paths: AppPaths, memory_keyring: InMemoryKeyring, ihub_home: Path
) -> None:
    store = _store(paths)
    store.set("prod", SECRET)
    store.unlock_vault(PASSPHRASE)
    store.set("prod", SECRET, StoreKind.VAULT)
    assert memory_keyring.store == {}
    assert store.where("prod") is StoreKind.VAULT
    store.rename("prod", "production")
    assert store.where("prod") is None
    assert store.get("production") == Secret(SECRET, StoreKind.VAULT)
    store.set("production", SECRET)  # back to the keyring
    assert store.vault.names() == []  # type: ignore[union-attr]
    _assert_no_clear_secret(ihub_home)
