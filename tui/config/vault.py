"""ihub's own encrypted secret vault: the fallback when no usable OS keyring exists.

One JSON file (mode 0600). A key is derived from the passphrase with scrypt (n=2**15, r=8, p=1, random
16-byte salt); every entry is sealed separately with AES-256-GCM under that key, a fresh 12-byte nonce,
and the entry name as associated data (an entry cannot be moved to another name). A ``check`` entry,
sealed the same way, tells a wrong passphrase from a right one without touching the file. Entry names
(profile names) are visible in the file; values never are. Removing an entry needs no passphrase.

Envelope::

    {"format": "ihub-vault", "version": 1,
     "kdf": {"name": "scrypt", "salt": "<b64>", "n": 32768, "r": 8, "p": 1},
     "check": {"nonce": "<b64>", "ct": "<b64>"},
     "entries": {"<name>": {"nonce": "<b64>", "ct": "<b64>"}}}
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from tui.config.settings import write_private_file

FORMAT = "ihub-vault"
VERSION = 1
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32
_CHECK_NAME = "\x00ihub-vault-check"
_CHECK_PLAINTEXT = b"ihub-vault-ok"


class SecretStoreError(Exception):
    """Base of every secret-store error; the message is one clear line and never holds a secret."""


class VaultError(SecretStoreError):
    """The vault file cannot be used."""


class VaultPassphraseError(VaultError):
    """The passphrase does not open the vault (or is empty)."""


class VaultLockedError(VaultError):
    """The vault needs its passphrase first."""


class VaultCorruptError(VaultError):
    """The vault file is damaged or not an ihub vault."""


def _b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64d(text: Any, path: Path) -> bytes:
    if not isinstance(text, str):
        raise VaultCorruptError(f"the vault file {path} is damaged (a field is not text)")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise VaultCorruptError(f"the vault file {path} is damaged (bad base64)") from None


class _Kdf:
    def __init__(self, salt: bytes, n: int, r: int, p: int) -> None:
        self.salt, self.n, self.r, self.p = salt, n, r, p

    def derive(self, passphrase: str) -> bytes:
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        return Scrypt(salt=self.salt, length=KEY_BYTES, n=self.n, r=self.r, p=self.p).derive(
            passphrase.encode("utf-8")
        )

    def to_json(self) -> dict[str, Any]:
        return {"name": "scrypt", "salt": _b64e(self.salt), "n": self.n, "r": self.r, "p": self.p}


class Vault:
    """An encrypted name -> secret file. Blocking; callers in the UI use a thread worker."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: bytes | None = None
        self._kdf: _Kdf | None = None

    def __repr__(self) -> str:
        return f"Vault(path={str(self.path)!r}, unlocked={self.unlocked})"

    # -- state --------------------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return self.path.is_file()

    @property
    def unlocked(self) -> bool:
        return self._key is not None

    def lock(self) -> None:
        """Forget the derived key."""
        self._key = None
        self._kdf = None

    def unlock(self, passphrase: str) -> None:
        """Derive the key. For an existing file the passphrase is checked (``VaultPassphraseError`` when
        wrong; the file is not touched); for a new vault the file is created on the first ``set``."""
        if not passphrase:
            raise VaultPassphraseError("the vault passphrase is empty")
        envelope = self._read()
        if envelope is None:
            kdf = _Kdf(os.urandom(SALT_BYTES), SCRYPT_N, SCRYPT_R, SCRYPT_P)
            self._kdf, self._key = kdf, kdf.derive(passphrase)
            return
        from cryptography.exceptions import InvalidTag

        kdf = self._kdf_from(envelope)
        key = kdf.derive(passphrase)
        try:
            plain = self._open(key, _CHECK_NAME, envelope.get("check"))
        except InvalidTag:
            raise VaultPassphraseError("wrong vault passphrase") from None
        if plain != _CHECK_PLAINTEXT:
            raise VaultPassphraseError("wrong vault passphrase")
        self._kdf, self._key = kdf, key

    # -- entries ------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Entry names (works while locked)."""
        envelope = self._read()
        return sorted(self._entries(envelope)) if envelope else []

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def get(self, name: str) -> str | None:
        key = self._require_key()
        envelope = self._read()
        if envelope is None:
            return None
        self._check_same_vault(envelope)
        sealed = self._entries(envelope).get(name)
        if sealed is None:
            return None
        from cryptography.exceptions import InvalidTag

        try:
            return self._open(key, name, sealed).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise VaultCorruptError(f"the vault entry {name!r} in {self.path} is damaged") from None

    def set(self, name: str, value: str) -> None:
        key = self._require_key()
        assert self._kdf is not None
        envelope = self._read()
        if envelope is None:
            envelope = {
                "format": FORMAT,
                "version": VERSION,
                "kdf": self._kdf.to_json(),
                "check": self._seal(key, _CHECK_NAME, _CHECK_PLAINTEXT),
                "entries": {},
            }
        else:
            self._check_same_vault(envelope)
        entries = self._entries(envelope)
        entries[name] = self._seal(key, name, value.encode("utf-8"))
        envelope["entries"] = entries
        self._write(envelope)

    def delete(self, name: str) -> bool:
        """Remove ``name`` (no passphrase needed). True when something was removed."""
        envelope = self._read()
        if envelope is None:
            return False
        entries = self._entries(envelope)
        if name not in entries:
            return False
        del entries[name]
        envelope["entries"] = entries
        self._write(envelope)
        return True

    def change_passphrase(self, new_passphrase: str) -> None:
        """Re-seal every entry under a new passphrase (the vault must be unlocked)."""
        if not new_passphrase:
            raise VaultPassphraseError("the vault passphrase is empty")
        values = {name: self.get(name) for name in self.names()}
        kdf = _Kdf(os.urandom(SALT_BYTES), SCRYPT_N, SCRYPT_R, SCRYPT_P)
        key = kdf.derive(new_passphrase)
        envelope = {
            "format": FORMAT,
            "version": VERSION,
            "kdf": kdf.to_json(),
            "check": self._seal(key, _CHECK_NAME, _CHECK_PLAINTEXT),
            "entries": {n: self._seal(key, n, v.encode("utf-8")) for n, v in values.items() if v is not None},
        }
        self._write(envelope)
        self._kdf, self._key = kdf, key

    # -- internals ----------------------------------------------------------------------------------
    def _require_key(self) -> bytes:
        if self._key is None:
            raise VaultLockedError("the vault is locked: enter its passphrase or set IHUB_VAULT_PASSPHRASE")
        return self._key

    def _read(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise VaultError(f"cannot read the vault file {self.path}: {exc.strerror or exc}") from None
        try:
            envelope = json.loads(raw.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise VaultCorruptError(f"the vault file {self.path} is not valid JSON") from None
        if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
            raise VaultCorruptError(f"{self.path} is not an ihub vault file")
        if envelope.get("version") != VERSION:
            version = envelope.get("version")
            raise VaultCorruptError(f"the vault file {self.path} has unsupported version {version!r}")
        return envelope

    def _kdf_from(self, envelope: dict[str, Any]) -> _Kdf:
        kdf = envelope.get("kdf")
        if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
            raise VaultCorruptError(f"the vault file {self.path} has no scrypt parameters")
        params = [kdf.get("n"), kdf.get("r"), kdf.get("p")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in params):
            raise VaultCorruptError(f"the vault file {self.path} has unacceptable scrypt parameters")
        n, r, p = (int(v) for v in params)  # type: ignore[arg-type]
        if n < 2**14 or n & (n - 1) or r > 64 or p > 16 or n > 2**22:
            raise VaultCorruptError(f"the vault file {self.path} has unacceptable scrypt parameters")
        return _Kdf(_b64d(kdf.get("salt"), self.path), n, r, p)

    def _check_same_vault(self, envelope: dict[str, Any]) -> None:
        """The file may have been replaced since ``unlock``: make sure our key still opens it."""
        assert self._kdf is not None and self._key is not None
        current = self._kdf_from(envelope)
        if current.salt != self._kdf.salt:
            self.lock()
            raise VaultLockedError("the vault file changed since it was unlocked: enter its passphrase again")

    def _entries(self, envelope: dict[str, Any]) -> dict[str, Any]:
        entries = envelope.get("entries", {})
        if not isinstance(entries, dict):
            raise VaultCorruptError(f"the vault file {self.path} is damaged (entries)")
        return dict(entries)

    @staticmethod
    def _seal(key: bytes, name: str, plain: bytes) -> dict[str, str]:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(NONCE_BYTES)
        return {"nonce": _b64e(nonce), "ct": _b64e(AESGCM(key).encrypt(nonce, plain, name.encode("utf-8")))}

    def _open(self, key: bytes, name: str, sealed: Any) -> bytes:
        if not isinstance(sealed, dict):
            raise VaultCorruptError(f"the vault file {self.path} is damaged (entry {name!r})")
        nonce = _b64d(sealed.get("nonce"), self.path)
        ct = _b64d(sealed.get("ct"), self.path)
        if len(nonce) != NONCE_BYTES:
            raise VaultCorruptError(f"the vault file {self.path} is damaged (nonce)")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(key).decrypt(nonce, ct, name.encode("utf-8"))

    def _write(self, envelope: dict[str, Any]) -> None:
        data = json.dumps(envelope, indent=1, sort_keys=True).encode("utf-8")
        try:
            write_private_file(self.path, data)
        except OSError as exc:
            raise VaultError(f"cannot write the vault file {self.path}: {exc.strerror or exc}") from None
