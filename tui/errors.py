"""Turning exceptions into one plain line, for the app and the command line alike (no Textual here).

Every typed error of the layers below (API, profiles, secrets, services) already words its message for a
user; ``error_text`` keeps that message and cuts it to one line. Anything else is a bug in ihub, and says
so plainly instead of showing a traceback.
"""

from __future__ import annotations

from tui.api.errors import ApiError, one_line

# The longest line an error notification or a CLI error shows.
MAX_ERROR_TEXT = 200


class ConnectionProblem(Exception):
    """A connection could not be made for a reason the user can fix; one plain line."""


class ServiceError(Exception):
    """A problem resolving a profile or its secret; the message is one plain line without secrets."""


class SecretNotStored(ServiceError):
    """The profile has no client secret in any store."""


class UnlockDeclined(ConnectionProblem):
    """The user closed the vault passphrase dialog or prompt; the vault stays locked."""


def error_text(error: BaseException) -> str:
    """One line for the user.

    The project's own errors (``ApiError`` and its family, ``ProfileError``, ``SecretStoreError``,
    ``ServiceError``, ``ConnectionProblem``) and ``ValueError``/``OSError`` carry plain messages and are shown
    as they are. Anything else is unexpected: its type is named so the report is useful.
    """
    if _is_plain(error):
        text = str(error) or _fallback(error)
    else:
        text = f"unexpected error ({type(error).__name__}): {error}" if str(error) else _fallback(error)
    return one_line(text, MAX_ERROR_TEXT)


def _is_plain(error: BaseException) -> bool:
    if isinstance(error, ApiError | ConnectionProblem | ServiceError | ValueError | OSError):
        return True
    # The config layer's families (imported lazily: the CLI's fast paths do not load them).
    from tui.config.secrets import SecretStoreError
    from tui.config.settings import SettingsError

    return isinstance(error, SecretStoreError | SettingsError)


def _fallback(error: BaseException) -> str:
    return f"unexpected error ({type(error).__name__})"
