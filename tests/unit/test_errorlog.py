"""The error log: tracebacks of unexpected errors, once each, secrets masked, rotated, and the one line
users see names the file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tui import errorlog
from tui.config.paths import AppPaths
from tui.errors import error_text

SECRET = "FAKE-client-secret-0123456789"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZw"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


def _raise(message: str) -> RuntimeError:
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        return exc


def test_an_unexpected_error_is_logged_once_without_secrets(paths: AppPaths) -> None:
    errorlog.remember_secret(SECRET)
    error = _raise(f"secret={SECRET} Authorization: Bearer {JWT} Basic ZGVtbzpzZWNyZXQxMjM0NQ== key {PEM}")
    line = error_text(error)
    assert line.startswith("unexpected error: secret=") and line.endswith(f"(details in {paths.log_file})")
    assert SECRET not in line and JWT not in line
    assert error_text(error) == line  # the same exception is not written twice
    text = paths.log_file.read_text()
    assert text.count("Traceback (most recent call last)") == 1 and "_raise" in text
    for leak in (SECRET, JWT, "ZGVtbzpzZWNyZXQxMjM0NQ", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"):
        assert leak not in text
    assert "<private key removed>" in text
    assert stat.S_IMODE(paths.log_file.stat().st_mode) == 0o600


def test_known_errors_write_nothing(paths: AppPaths) -> None:
    assert error_text(ValueError("the gateway URL is not valid")) == "the gateway URL is not valid"
    assert error_text(TimeoutError()) == "no answer in time"
    assert not paths.log_file.exists()


def test_the_error_log_is_rotated(paths: AppPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(errorlog, "MAX_BYTES", 4_000)
    for n in range(40):
        errorlog.record_unexpected(_raise(f"bug number {n} " + "x" * 200))
    files = sorted(p.name for p in paths.log_dir.iterdir())
    assert files == ["ihub.log", "ihub.log.1", "ihub.log.2", "ihub.log.3"]
    assert "bug number 39" in paths.log_file.read_text()


def test_when_no_file_can_be_written_the_line_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    errorlog.configure(blocker / "logs" / "ihub.log")
    line = error_text(_raise("bug"))
    assert line == "unexpected error: bug (no log file could be written)"
