"""Test-wide isolation: no test touches the machine's real config, data, log folders or keyring."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest
from keyring.errors import PasswordDeleteError

from tui import errorlog
from tui.config.paths import AppPaths


class Clock:
    """The one test clock: epoch seconds that tests move by hand (``advance``); the app, the client and the
    simulator can share it. Each folder's ``clock`` fixture picks its own start instant."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


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
    # Temporary folders made by ihub itself (the demo's error log) stay in the test's tree, and the
    # error log is chosen afresh (the test's IHUB_LOG_DIR) unless the test's app configures one.
    tmp = root / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setattr(errorlog, "_current", None)
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


@pytest.fixture
def paths() -> AppPaths:
    """The ihub folders of the temporary home set up by tests/conftest.py."""
    return AppPaths.default()


@pytest.fixture
def ihub_home(isolated_environment: Path) -> Path:
    """The root of the temporary tree (home, XDG and ihub folders)."""
    return isolated_environment


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every regular file under ``root`` whose bytes contain ``needle``."""
    data = needle.encode("utf-8")
    return [p for p in root.rglob("*") if p.is_file() and data in p.read_bytes()]


class HangingKeyring(keyring.backend.KeyringBackend):
    """A recommended backend whose every call blocks until released (a locked keyring over SSH)."""

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        self.release.wait(30)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(30)


@pytest.fixture
def hanging_keyring() -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    backend.release.set()
    keyring.set_keyring(previous)


@pytest.fixture
def fail_keyring() -> Iterator[None]:
    """keyring's fail backend: what a headless Linux box without D-Bus gets."""
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)
