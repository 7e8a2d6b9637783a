"""Where ihub keeps its files: platformdirs, with environment overrides for tests and deployments.

Folders are created with mode 0700 on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import PlatformDirs

APP_NAME = "ihub"


def _dir(env: str, default: str) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser() if value else Path(default)


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path
    cache_dir: Path

    @classmethod
    def default(cls) -> AppPaths:
        dirs = PlatformDirs(APP_NAME, appauthor=False)
        return cls(
            config_dir=_dir("IHUB_CONFIG_DIR", dirs.user_config_dir),
            data_dir=_dir("IHUB_DATA_DIR", dirs.user_data_dir),
            log_dir=_dir("IHUB_LOG_DIR", dirs.user_log_dir),
            cache_dir=_dir("IHUB_CACHE_DIR", dirs.user_cache_dir),
        )

    @property
    def profiles_file(self) -> Path:
        return self.config_dir / "profiles.toml"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def vault_file(self) -> Path:
        return self.data_dir / "vault.json"

    @property
    def pki_dir(self) -> Path:
        """CA private keys kept by ihub, one folder per tenant (``tui.pki.keystore``)."""
        return self.data_dir / "pki"

    @property
    def log_file(self) -> Path:
        """Tracebacks of unexpected errors (``tui.errorlog``), secrets masked."""
        return self.log_dir / "ihub.log"

    @property
    def activity_file(self) -> Path:
        """The activity log: one JSON line per API call (``tui.api.activity``), rotated by size."""
        return self.log_dir / "activity.jsonl"

    def ensure(self, path: Path) -> Path:
        """Create ``path`` (a folder) with mode 0700 if missing and return it."""
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path
