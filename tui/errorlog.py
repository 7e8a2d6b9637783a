"""Unexpected errors: the traceback goes to a log file, the user gets one line that names it (no Textual).

``record_unexpected(error)`` writes ``error``'s traceback (with its causes) once per exception object to
the error log and returns the file; ``tui.errors.error_text`` calls it for every error of no known family,
the app's crash handler and the CLI's ``main`` for everything that reached them. A traceback never shows
on screen.

Nothing secret is written: every text is scrubbed before it reaches the file: access tokens (JWTs),
``Bearer``/``Basic`` values, secret-looking query values (``tui.api.errors.scrub``), PEM private keys,
and every client secret this process has read (``remember_secret``, called by ``Services.read_secret``),
masked as whole values (``mask_secret``). Tracebacks are plain Python ones: source lines and messages,
never local variables.

Where: ``AppPaths.log_file`` (``ihub.log`` in the platform's log folder; ``IHUB_LOG_DIR`` overrides),
mode 0600, rotated at 1 MiB with 3 backups. The demo writes to a private temporary folder made on the
first error instead (``configure(None)``), never to the user's log folder. ``configure`` is called by the
app and the CLI with their services' choice; until then the default folder is used.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from tui import __version__
from tui.api.activity import PrivateRotatingFile, iso_time
from tui.api.errors import MIN_SECRET_LENGTH, mask_secret, scrub

__all__ = [
    "ErrorLog",
    "configure",
    "current",
    "mask_known_secrets",
    "record_unexpected",
    "redact",
    "remember_secret",
    "shown_path",
]

MAX_BYTES = 2**20
BACKUPS = 3
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(-----END \1PRIVATE KEY-----|$)", re.DOTALL
)
_MARK = "_ihub_error_log"

_secrets: set[str] = set()
_lock = threading.Lock()


def remember_secret(value: str | None) -> None:
    """Mask ``value`` (a client secret read by this process) in every traceback written from now on."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def mask_known_secrets(text: str) -> str:
    """``text`` with every client secret this process has read masked (``tui.errors.error_text``)."""
    if not _secrets:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = mask_secret(text, secret)
    return text


def redact(text: str) -> str:
    """``text`` without tokens, auth values, secret query values, private keys or remembered secrets."""
    text = _PRIVATE_KEY.sub("<private key removed>", text)
    return mask_known_secrets(scrub(text))


def shown_path(path: Path) -> str:
    """``path`` as shown to the user: ``~/...`` under the home folder."""
    try:
        home = Path.home()
        return "~/" + str(path.relative_to(home)) if path.is_relative_to(home) else str(path)
    except (RuntimeError, ValueError):
        return str(path)


class ErrorLog:
    """A size-rotated file of tracebacks. ``path`` None: a private temporary folder made on first write
    (the demo's choice)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._handler: PrivateRotatingFile | None = None
        self.problem: str | None = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path | None:
        """The file tracebacks go to (None for the demo until its first error)."""
        return self._path

    def write(self, error: BaseException, *, context: str = "") -> Path | None:
        """Append ``error``'s traceback (redacted); returns the file, or None if it could not be written
        (``problem`` says why)."""
        header = f"{iso_time(time.time())} ihub {__version__} (pid {os.getpid()}, Python "
        header += f"{sys.version.split()[0]}): unexpected error" + (f" in {context}" if context else "")
        body = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        text = redact(f"{header}\n{body.rstrip()}\n")
        with self._lock:
            handler = self._open()
            if handler is None:
                return None
            import logging

            handler.handle(logging.makeLogRecord({"msg": text}))
            handler.flush()
            return self._path if self.problem is None else None

    def _open(self) -> PrivateRotatingFile | None:
        if self._handler is not None:
            return self._handler
        try:
            if self._path is None:
                self._path = Path(tempfile.mkdtemp(prefix="ihub-demo-errors-")) / "ihub.log"
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            self.problem = f"{type(exc).__name__}: {exc}"
            return None
        self._handler = PrivateRotatingFile(self._path, MAX_BYTES, BACKUPS, self._failed)
        return self._handler

    def _failed(self, reason: str) -> None:
        self.problem = reason

    def close(self) -> None:
        if self._handler is not None:
            with contextlib.suppress(Exception):
                self._handler.close()
            self._handler = None


_current: ErrorLog | None = None


def configure(path: Path | None) -> ErrorLog:
    """Send this process's tracebacks to ``path`` (None: a private temporary folder, for the demo)."""
    global _current
    previous, _current = _current, ErrorLog(path)
    if previous is not None:
        previous.close()
    return _current


def current() -> ErrorLog:
    """The error log of this process (the platform's log folder unless ``configure`` chose another)."""
    global _current
    if _current is None:
        from tui.config.paths import AppPaths

        _current = ErrorLog(AppPaths.default().log_file)
    return _current


def record_unexpected(error: BaseException, *, context: str = "") -> Path | None:
    """Write ``error``'s traceback once (later calls for the same exception return the same file)."""
    done = getattr(error, _MARK, None)
    if done is not None:
        return Path(done) if done else None
    try:
        path = current().write(error, context=context)
    except Exception:  # noqa: BLE001 - reporting an error must never raise another
        path = None
    with contextlib.suppress(AttributeError, TypeError):
        setattr(error, _MARK, str(path) if path is not None else "")
    return path
