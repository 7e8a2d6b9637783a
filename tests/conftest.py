"""Test-wide isolation: no test touches the machine's real config, data, log folders or keyring."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backend
import pytest
from keyring.errors import PasswordDeleteError


class InMemoryKeyring(keyring.backend.KeyringBackend):
    """A recommended-priority keyring that lives in memory (stands in for the OS keyring)."""

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError("not found") from None


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point every ihub folder, XDG folder and HOME at a temporary tree; clear IHUB_* overrides."""
    root: Path = tmp_path_factory.mktemp("ihub-home")
    import os

    for name in list(os.environ):
        if name.startswith("IHUB_") or name in ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS"):
            monkeypatch.delenv(name, raising=False)
    for var, sub in {
        "HOME": "home",
        "XDG_CONFIG_HOME": "xdg/config",
        "XDG_DATA_HOME": "xdg/data",
        "XDG_STATE_HOME": "xdg/state",
        "XDG_CACHE_HOME": "xdg/cache",
        "IHUB_CONFIG_DIR": "ihub/config",
        "IHUB_DATA_DIR": "ihub/data",
        "IHUB_LOG_DIR": "ihub/log",
        "IHUB_CACHE_DIR": "ihub/cache",
    }.items():
        path = root / sub
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(path))
    # Tests and benchmarks talk only to loopback: never through a proxy.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return root


@pytest.fixture(autouse=True)
def memory_keyring():
    """Replace the OS keyring with an in-memory one for every test."""
    previous = keyring.get_keyring()
    backend = InMemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
