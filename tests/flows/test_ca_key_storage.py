"""Where the passphrase of the CA keys lives (issue 10 §2): the Keys area's secret store, one random
passphrase per tenant, never in the environment's client secret, never lost to a session-only store."""

from __future__ import annotations

import stat

import pytest

from tests.conftest import InMemoryKeyring
from tui.config.ca_passphrase import ENV_CA_KEY_PASSPHRASE, CaKeyPassphrase, CaPassphraseError, entry_name
from tui.config.paths import AppPaths
from tui.config.secrets import SecretStore, StoreKind
from tui.flows.certificates import ca_key_store
from tui.pki import KeyStoreError, create_ca

FAIL_BACKEND = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def _files_containing(root, needle: str) -> list:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_passphrase_made_once_and_kept_in_the_keyring(
    memory_keyring: InMemoryKeyring, isolated_environment
) -> None:
    paths = AppPaths.default()
    secrets = SecretStore(paths, environ={})
    source = CaKeyPassphrase(secrets, "demo", environ={})
    with pytest.raises(CaPassphraseError, match="not in the secret store"):
        source(False)  # never made silently when keys may exist
    first = source(True)
    assert len(first) >= 40
    assert source(False) == first and source(True) == first
    assert memory_keyring.store[("ihub:ca-key-passphrase:demo", "client_secret")] == first
    assert source.where() is StoreKind.KEYRING
    assert CaKeyPassphrase(secrets, "other", environ={})(True) != first  # one per tenant
    assert _files_containing(isolated_environment, first) == []  # not in settings.toml or anywhere
    # A client secret from the environment never stands in for it.
    env_secrets = SecretStore(paths, environ={"IHUB_CLIENT_SECRET": "FAKE-client-secret"})
    assert CaKeyPassphrase(env_secrets, "demo", environ={})(False) == first
    assert "ca-key-passphrase:demo" == entry_name("demo")


def test_ca_keys_survive_a_restart(isolated_environment) -> None:
    paths = AppPaths.default()
    ca = create_ca("restart CA", "ec256")
    store = ca_key_store(paths, SecretStore(paths, environ={}), "demo", environ={})
    stored = store.save(ca.certificate, ca.private_key)
    assert stored.key_path.parent == paths.pki_dir / "demo"
    assert stat.S_IMODE(paths.pki_dir.stat().st_mode) == 0o700
    # A new process: new SecretStore, same keyring.
    again = ca_key_store(paths, SecretStore(paths, environ={}), "demo", environ={})
    assert (
        again.load_key(ca.certificate).public_key().public_numbers()
        == ca.private_key.public_key().public_numbers()
    )


def test_vault_when_there_is_no_keyring(isolated_environment) -> None:
    paths = AppPaths.default()
    env = {**FAIL_BACKEND, "IHUB_VAULT_PASSPHRASE": "FAKE-vault-passphrase"}
    secrets = SecretStore(paths, environ=env)
    value = CaKeyPassphrase(secrets, "demo", environ=env)(True)
    assert secrets.where(entry_name("demo")) is StoreKind.VAULT
    assert _files_containing(isolated_environment, value) == []  # encrypted in the vault
    fresh = SecretStore(paths, environ=env)
    assert CaKeyPassphrase(fresh, "demo", environ=env)(False) == value


def test_stores_that_would_lose_the_key_are_refused(isolated_environment) -> None:
    paths = AppPaths.default()
    secrets = SecretStore(paths, environ=FAIL_BACKEND)
    with pytest.raises(CaPassphraseError, match="no usable OS keyring .* IHUB_CA_KEY_PASSPHRASE"):
        CaKeyPassphrase(secrets, "demo", environ=FAIL_BACKEND)(True)
    secrets.set_choice(StoreKind.SESSION)
    with pytest.raises(CaPassphraseError, match="for this session only"):
        CaKeyPassphrase(secrets, "demo", environ=FAIL_BACKEND)(True)
    secrets.set_choice(StoreKind.ENV)
    with pytest.raises(CaPassphraseError, match="in environment variables"):
        CaKeyPassphrase(secrets, "demo", environ=FAIL_BACKEND)(True)
    # The demo (throw-away data folder) may keep it for the session.
    secrets.set_choice(StoreKind.SESSION)
    demo = CaKeyPassphrase(secrets, "demo", environ=FAIL_BACKEND, allow_session=True)
    assert demo(True) == demo(False)
    # A key store over a refusing source saves nothing.
    ca = create_ca("x", "ec256")
    store = ca_key_store(paths, SecretStore(paths, environ=FAIL_BACKEND), "t2", environ=FAIL_BACKEND)
    with pytest.raises(KeyStoreError, match="not available"):
        store.save(ca.certificate, ca.private_key)
    assert not (paths.pki_dir / "t2").exists() or not list((paths.pki_dir / "t2").glob("*.key"))


def test_environment_passphrase_for_deployments(
    memory_keyring: InMemoryKeyring, isolated_environment
) -> None:
    paths = AppPaths.default()
    env = {ENV_CA_KEY_PASSPHRASE: "FAKE-deployment-passphrase"}
    source = CaKeyPassphrase(SecretStore(paths, environ=env), "demo", environ=env)
    assert source(True) == "FAKE-deployment-passphrase" and source.where() is StoreKind.ENV
    assert memory_keyring.store == {}  # nothing stored
