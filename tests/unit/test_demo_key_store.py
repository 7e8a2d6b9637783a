"""The demo keeps CA keys in a throw-away data folder (issue 10 §2 with the demo's session-only secrets):
the keys it makes can be opened for the whole session, never land in the real data folder, and go with
the folder when the demo ends. Real services never accept a session-only passphrase."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from tui.config.paths import AppPaths
from tui.config.profiles import ProfileStore
from tui.config.secrets import SecretStore
from tui.pki import KeyStoreError, create_ca
from tui.services import Services, SessionSecretStore


def test_the_demo_keeps_ca_keys_in_a_temporary_folder_deleted_with_it(paths: AppPaths) -> None:
    services = Services.for_demo("http://127.0.0.1:9")
    assert services.throwaway_data and services.demo
    root = services.paths.data_dir.parent
    assert not str(services.paths.data_dir).startswith(str(paths.data_dir))
    store = services.ca_key_store("demo")
    ca = create_ca("Demo CA", "ec256")
    kept = store.save(ca.certificate, ca.private_key)
    assert kept.key_path.is_relative_to(root) and store.load_key(ca.certificate) is not None
    assert not any(paths.data_dir.rglob("*.key"))  # nothing in the real data folder
    del services, store
    gc.collect()
    assert not root.exists()


def test_given_folders_or_real_services_refuse_a_session_only_passphrase(tmp_path: Path) -> None:
    ca = create_ca("Session CA", "ec256")
    given = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "l", tmp_path / "k")
    demo = Services.for_demo("http://127.0.0.1:9", paths=given)
    assert not demo.throwaway_data
    with pytest.raises(KeyStoreError, match="session only"):
        demo.ca_key_store("demo").save(ca.certificate, ca.private_key)
    real = Services(paths=given, profiles=ProfileStore(None), secrets=SessionSecretStore(), environ={})
    with pytest.raises(KeyStoreError, match="session only"):
        real.ca_key_store("demo").save(ca.certificate, ca.private_key)
    assert not list((tmp_path / "d").rglob("*.key"))


def test_real_services_keep_the_passphrase_in_the_keyring(paths: AppPaths, memory_keyring) -> None:
    services = Services(
        paths=paths, profiles=ProfileStore(None), secrets=SecretStore(paths, environ={}), environ={}
    )
    ca = create_ca("Kept CA", "ec256")
    services.ca_key_store("plant").save(ca.certificate, ca.private_key)
    assert any("ca-key-passphrase:plant" in service for service, _user in memory_keyring.store)
    assert services.ca_key_store("plant").load_key(ca.certificate) is not None
    with pytest.raises(KeyStoreError):
        services.ca_key_store("../escape")
