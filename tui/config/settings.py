"""Per-machine settings (``settings.toml``) and the private-file writer shared by the config modules.

Settings hold machine choices only, such as where client secrets are kept (``[secrets] store``), in
which store each profile's secret lives (``[secrets.locations]``), the app's theme and mouse (``[ui]``) and
the user's keymap (``[keys]``, binding id = key; ``tui/bindings.py``). Never a secret.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from tui.durable import fsync_dir

FILE_MODE = 0o600
DIR_MODE = 0o700


class SettingsError(ValueError):
    """The settings file cannot be read or written; the message is one clear line."""


def ensure_private_dir(folder: Path) -> None:
    """Create ``folder`` (and parents) when missing; the folder itself gets mode 0700 (an existing one
    that we own is tightened to 0700)."""
    folder.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    info = folder.stat()
    if info.st_mode & 0o077 and info.st_uid == os.getuid():
        with contextlib.suppress(OSError):
            os.chmod(folder, DIR_MODE)


def write_private_file(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data``: a temp file in the same folder, mode 0600, fsync, rename,
    then fsync the folder so the rename is durable too (the vault holds the passphrase of the CA keys: a
    CA registered after this returns never outlives the entry that opens its key)."""
    ensure_private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    os.chmod(path, FILE_MODE)
    fsync_dir(path.parent)


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Read a TOML file; a missing file is empty; a broken one raises ``SettingsError`` naming ``what``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"cannot read the {what} file {path}: {exc.strerror or exc}") from None
    try:
        # "utf-8-sig" drops a byte-order mark, which editors such as Notepad put at the start.
        return tomllib.loads(data.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"the {what} file {path} is not valid TOML: {exc}") from None


def write_toml(path: Path, data: dict[str, Any]) -> None:
    write_private_file(path, tomli_w.dumps(data).encode("utf-8"))


class Settings:
    """``settings.toml`` in the config folder; ``path=None`` keeps everything in memory.

    Every change re-reads the file first, so keys written by other parts of the app are kept.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[str, Any] = {}

    def load(self) -> dict[str, Any]:
        if self.path is None:
            return self._memory
        return read_toml(self.path, "settings")

    def get(self, section: str, key: str, default: Any = None) -> Any:
        table = self.load().get(section)
        if not isinstance(table, dict):
            return default
        return table.get(key, default)

    def set(self, section: str, key: str, value: Any) -> None:
        """Set ``[section] key = value``; ``None`` removes the key. Saved at once."""
        data = self.load()
        table = data.get(section)
        if not isinstance(table, dict):
            table = {}
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
        data[section] = table
        self._save(data)

    def _save(self, data: dict[str, Any]) -> None:
        if self.path is None:
            self._memory = data
            return
        try:
            write_toml(self.path, data)
        except OSError as exc:
            reason = exc.strerror or exc
            raise SettingsError(f"cannot write the settings file {self.path}: {reason}") from None

    # -- secrets ------------------------------------------------------------------------------------
    @property
    def secret_store(self) -> str | None:
        """The per-machine choice of secret store when the OS keyring is unusable."""
        value = self.get("secrets", "store")
        return value if isinstance(value, str) else None

    def set_secret_store(self, kind: str | None) -> None:
        self.set("secrets", "store", kind)

    def secret_locations(self) -> dict[str, str]:
        table = self.get("secrets", "locations", {})
        if not isinstance(table, dict):
            return {}
        return {str(k): str(v) for k, v in table.items() if isinstance(v, str)}

    def secret_location(self, profile_name: str) -> str | None:
        return self.secret_locations().get(profile_name)

    def set_secret_location(self, profile_name: str, kind: str | None) -> None:
        """Record in which store ``profile_name``'s secret lives (``None`` forgets it)."""
        locations = self.secret_locations()
        if kind is None:
            if profile_name not in locations:
                return
            locations.pop(profile_name)
        else:
            if locations.get(profile_name) == kind:
                return
            locations[profile_name] = kind
        self.set("secrets", "locations", locations)

    # -- the app's looks and keys (``[ui]``, ``[keys]``) ----------------------------------------------
    @property
    def theme(self) -> str | None:
        """The Textual theme chosen last (``[ui] theme``), or None for the default."""
        value = self.get("ui", "theme")
        return value if isinstance(value, str) and value else None

    def set_theme(self, name: str | None) -> None:
        if self.theme != name:
            self.set("ui", "theme", name)

    @property
    def mouse(self) -> bool:
        """False when the app should start without capturing the mouse (``[ui] mouse = false``)."""
        return self.get("ui", "mouse", True) is not False

    def keys(self) -> object:
        """The ``[keys]`` table as written (binding id -> key or keys); checked by ``tui.bindings``."""
        return self.load().get("keys")
