"""Plain words for any error, for the app and the CLI (no Textual here).

``error_text(exc)`` is the one line a user sees for an exception: the typed errors of the API, config and
secret layers already carry a plain message; anything else gets its message, or plain words for its kind.
Never a Python class name ("VaultPassphraseError: wrong vault passphrase" becomes "wrong vault
passphrase"), never a traceback, never a secret (``mask_secret`` removes a known one). An error of no
known family is a bug: its traceback goes to the error log (``tui.errorlog``) and the line names the file
("unexpected error: ... (details in ~/.local/state/ihub/log/ihub.log)").

Masking lives in ``tui.api.errors.mask_secret`` (whole values only, never a substring of a word; secrets
shorter than ``MIN_SECRET_LENGTH`` are refused at input and never searched for); it is re-exported here.
The cleaning rule for typed and pasted values is ``tui.config.inputs.clean_value`` / ``clean_secret``.

The exceptions the services raise for a connection the user can fix live here too, so the CLI and the
app catch the same types.
"""

from __future__ import annotations

import errno as _errno
import os

from tui.api.errors import MIN_SECRET_LENGTH, ApiError, mask_secret, one_line

__all__ = [
    "MAX_ERROR_TEXT",
    "MIN_SECRET_LENGTH",
    "ConnectionProblem",
    "SecretNotStored",
    "ServiceError",
    "UnlockDeclined",
    "error_text",
    "mask_secret",
]

# The longest line an error notification or a CLI error shows.
MAX_ERROR_TEXT = 200


class ConnectionProblem(Exception):
    """A connection could not be made for a reason the user can fix; one plain line."""


class ServiceError(Exception):
    """A problem resolving a profile or its secret; the message is one plain line without secrets."""


class SecretNotStored(ServiceError):
    """The profile has no client secret in any store."""


class ProfileNotFound(ServiceError):
    """No saved profile has the name asked for (``--profile``, ``IHUB_PROFILE``)."""


class UnlockDeclined(ConnectionProblem):
    """The user closed the vault passphrase dialog or prompt; the vault stays locked."""


_KIND_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (KeyboardInterrupt, "interrupted"),
    (TimeoutError, "no answer in time"),
    (PermissionError, "permission denied"),
    (FileNotFoundError, "file not found"),
    (ConnectionError, "the connection failed"),
    (MemoryError, "out of memory"),
    (UnicodeError, "the text is not in the expected encoding"),
    (KeyError, "not found"),
)


def error_text(error: BaseException, *, secret: str | None = None, limit: int = MAX_ERROR_TEXT) -> str:
    """One plain line for ``error`` (at most ``limit`` characters), ``secret`` masked if given.

    The project's own errors (``ApiError`` and family, ``ProfileError``, ``SecretStoreError``, ...) keep
    their message; an OS error says its reason and file; an error of no known family is marked as
    unexpected, so a bug reads as one.
    """
    if isinstance(error, OSError) and not isinstance(error, TimeoutError) and error.errno:
        reason = error.strerror or os.strerror(error.errno)
        if error.errno == _errno.ENOENT:
            reason = "file not found"
        text = f"{reason}: {error.filename}" if error.filename else reason
    elif isinstance(error, KeyError):
        text = f"not found: {error.args[0]}" if error.args else "not found"
    else:
        text = str(error).strip()
        if not text:
            words = next((words for kind, words in _KIND_WORDS if isinstance(error, kind)), None)
            if words is None:
                return _unexpected("an unexpected error", error, secret, limit)
            text = words
        elif not _is_ours(error):
            return _unexpected(f"unexpected error: {text}", error, secret, limit)
    return one_line(_mask(text, secret), limit)


def _mask(text: str, secret: str | None) -> str:
    """``secret`` and every client secret this process has read, masked."""
    from tui.errorlog import mask_known_secrets

    return mask_known_secrets(mask_secret(text, secret))


def _unexpected(text: str, error: BaseException, secret: str | None, limit: int) -> str:
    """An error of no known family is a bug: its traceback goes to the error log, the line names it."""
    from tui.errorlog import record_unexpected, shown_path

    path = record_unexpected(error)
    suffix = f" (details in {shown_path(path)})" if path is not None else " (no log file could be written)"
    head = one_line(_mask(text, secret), max(40, limit - len(suffix)))
    return head + suffix


def _is_ours(error: BaseException) -> bool:
    """Errors whose message is written for users: the project's typed errors and the standard families
    they derive from (``ValueError``, ``OSError``, ``TimeoutError``)."""
    if isinstance(error, ApiError | ConnectionProblem | ServiceError | ValueError | OSError | TimeoutError):
        return True
    from tui.config.secrets import SecretStoreError
    from tui.config.settings import SettingsError

    return isinstance(error, SecretStoreError | SettingsError)
