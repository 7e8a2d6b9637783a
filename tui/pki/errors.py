"""Errors of the local PKI layer. ``str(err)`` is one plain line that never holds key material.

Every error a user can cause with bad input (a malformed PEM, a wrong passphrase, a key that belongs to
another certificate) is a ``PkiError``; callers show ``str(err)`` and carry on.
"""

from __future__ import annotations


class PkiError(ValueError):
    """Base of every PKI error; the message is one clear line without secrets."""


class InputError(PkiError):
    """What was handed over cannot be read as the certificate, request or key that was expected."""


class PassphraseRequiredError(InputError):
    """The private key is encrypted and no passphrase was given."""


class WrongPassphraseError(InputError):
    """The passphrase does not decrypt the private key."""


class KeyMismatchError(PkiError):
    """The private key does not belong to the certificate (their public keys differ)."""


class SubjectError(PkiError):
    """A subject field (common name, country, ...) or a validity is not acceptable."""


class KeyStoreError(PkiError):
    """The CA key store cannot save, find or open a key."""


class KeyNotFoundError(KeyStoreError):
    """No key for this CA certificate is stored on this machine."""


class FileWriteError(PkiError):
    """A certificate or key file cannot be written (folder missing, not writable, file exists)."""
