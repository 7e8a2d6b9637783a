"""The passphrase that encrypts a tenant's CA private keys at rest, kept in the Keys area's secret store.

Design (issue 10 §2):

- One passphrase per tenant, 256 random bits (``secrets.token_urlsafe(32)``), made on the first CA key
  saved for that tenant and never shown.
- Kept in the ``SecretStore`` under the entry ``ca-key-passphrase:<tenant>``: in the OS keyring (service
  ``ihub:ca-key-passphrase:<tenant>``) or in the encrypted vault, wherever ``SecretStore.default_kind()``
  puts client secrets on this machine. A profile name cannot contain ``:``, so the entry never clashes
  with a profile's client secret, and ``IHUB_CLIENT_SECRET`` never stands in for it
  (``SecretStore.get_stored``).
- ``IHUB_CA_KEY_PASSPHRASE``, when set, is used instead and nothing is stored (headless deployments).
- A store that forgets (this session only) or stores nothing (environment) would lose every CA key at
  exit: it is refused with the way out in plain words, except where the caller allows it (the demo, whose
  data folder is temporary).
- A passphrase is only made when the tenant has no CA key yet (``create``); if it is missing while keys
  exist, that is an error naming the entry, never a silent new passphrase.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from secrets import token_urlsafe

from tui.config.secrets import SecretStore, SecretStoreError, StoreKind

ENV_CA_KEY_PASSPHRASE = "IHUB_CA_KEY_PASSPHRASE"
ENTRY_PREFIX = "ca-key-passphrase:"


class CaPassphraseError(SecretStoreError):
    """The CA key passphrase cannot be found or kept; the message says what to do and holds no secret."""


def entry_name(tenant: str) -> str:
    """The secret-store entry of ``tenant``'s CA key passphrase."""
    return ENTRY_PREFIX + tenant


class CaKeyPassphrase:
    """A ``tui.pki.keystore.PassphraseSource`` backed by the secret store: ``source(create) -> str``.

    Blocking (keyring calls): the UI calls it, through ``CaKeyStore``, from a thread worker.
    """

    def __init__(
        self,
        secrets: SecretStore,
        tenant: str,
        *,
        environ: Mapping[str, str] | None = None,
        allow_session: bool = False,
    ) -> None:
        self.secrets = secrets
        self.tenant = tenant
        self.environ = os.environ if environ is None else environ
        self.allow_session = allow_session

    def __repr__(self) -> str:
        return f"CaKeyPassphrase(tenant={self.tenant!r})"

    @property
    def entry(self) -> str:
        return entry_name(self.tenant)

    def where(self) -> StoreKind | None:
        """Where the passphrase is (``ENV`` when ``IHUB_CA_KEY_PASSPHRASE`` is set), None if nowhere."""
        if self.environ.get(ENV_CA_KEY_PASSPHRASE):
            return StoreKind.ENV
        return self.secrets.where(self.entry)

    def __call__(self, create: bool) -> str:
        from_env = self.environ.get(ENV_CA_KEY_PASSPHRASE)
        if from_env:
            return from_env
        stored = self.secrets.get_stored(self.entry)
        if stored is not None and stored.value:
            return stored.value
        if not create:
            raise CaPassphraseError(
                f"the passphrase protecting the CA keys of tenant {self.tenant!r} is not in the secret store "
                f"(entry {self.entry!r}); restore it there or set {ENV_CA_KEY_PASSPHRASE}"
            )
        kind = self.secrets.default_kind()
        if kind is None:
            raise CaPassphraseError(
                f"no usable OS keyring ({self.secrets.keyring_status().reason}) and no secret store chosen: "
                f"choose the vault on the Keys screen (or set IHUB_VAULT_PASSPHRASE), or set "
                f"{ENV_CA_KEY_PASSPHRASE}, before CA keys can be kept"
            )
        if kind is StoreKind.ENV or (kind is StoreKind.SESSION and not self.allow_session):
            where = "for this session only" if kind is StoreKind.SESSION else "in environment variables"
            raise CaPassphraseError(
                f"secrets on this machine are kept {where}, so a CA key saved now could not be opened later: "
                f"choose the OS keyring or the vault on the Keys screen, or set {ENV_CA_KEY_PASSPHRASE}"
            )
        value = token_urlsafe(32)
        self.secrets.set(self.entry, value, kind)
        check = self.secrets.get_stored(self.entry)
        if check is None or check.value != value:
            raise CaPassphraseError("the CA key passphrase could not be stored in the secret store")
        return value
