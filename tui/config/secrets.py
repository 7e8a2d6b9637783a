"""Where client secrets live: the OS keyring, or (when none is usable) a choice the user makes.

Order of preference (``SecretStore.default_kind``): a usable OS keyring; else the per-machine choice kept
in ``settings.toml`` (``[secrets] store``); else the encrypted vault when ``IHUB_VAULT_PASSPHRASE`` is set;
else nothing, and ``set`` raises ``NoSecureStoreError`` listing the choices. A plaintext file is never
written: keyring's fail, null and file backends (keyrings.alt, keyrings.cryptfile) count as unusable.
Keyring's global configuration (keyringrc.cfg) is never written.

Every keyring call runs in its own daemon thread with a timeout: a locked keyring over SSH can block
forever. All methods are blocking; the UI calls them from thread workers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from tui.api.errors import mask_secret
from tui.config.inputs import InputError, clean_secret
from tui.config.paths import AppPaths
from tui.config.profiles import ENV_CLIENT_SECRET, ENV_PROFILE, Profile, env_value
from tui.config.settings import Settings, SettingsError
from tui.config.vault import (
    SecretStoreError,
    Vault,
    VaultCorruptError,
    VaultError,
    VaultLockedError,
    VaultPassphraseError,
)

if TYPE_CHECKING:
    import keyring.backend

# keyring is imported where it is first used (about 20 ms): a command whose secret comes from
# IHUB_CLIENT_SECRET or the session never loads it.

__all__ = [
    "ENV_VAULT_PASSPHRASE",
    "KeyringStatus",
    "KeyringTimeoutError",
    "KeyringUnavailableError",
    "NoSecureStoreError",
    "Secret",
    "SecretValueError",
    "SecretStore",
    "SecretStoreError",
    "StoreKind",
    "VaultCorruptError",
    "VaultError",
    "VaultLockedError",
    "VaultPassphraseError",
    "detect_keyring",
]

ENV_VAULT_PASSPHRASE = "IHUB_VAULT_PASSPHRASE"
ENV_KEYRING_BACKEND = "PYTHON_KEYRING_BACKEND"
SERVICE_PREFIX = "ihub:"
USERNAME = "client_secret"
PROBE_SERVICE = "ihub:__probe__"
PROBE_USERNAME = "__probe__"

T = TypeVar("T")


class StoreKind(StrEnum):
    KEYRING = "keyring"
    VAULT = "vault"
    SESSION = "session"
    ENV = "env"


# What each fallback means, in plain words (the CLI and the Keys screen show these).
CHOICE_HELP: dict[StoreKind, str] = {
    StoreKind.VAULT: f"an encrypted vault file (passphrase asked, or set {ENV_VAULT_PASSPHRASE})",
    StoreKind.SESSION: "this session only (forgotten when ihub exits)",
    StoreKind.ENV: f"the environment variable {ENV_CLIENT_SECRET} (nothing stored)",
}


class NoSecureStoreError(SecretStoreError):
    """No usable OS keyring and no choice made: the user must pick vault, session or env."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.choices: tuple[StoreKind, ...] = (StoreKind.VAULT, StoreKind.SESSION, StoreKind.ENV)
        listed = "; ".join(f"{kind.value}: {CHOICE_HELP[kind]}" for kind in self.choices)
        super().__init__(f"no usable OS keyring ({reason}); choose where to keep the secret: {listed}")


class SecretValueError(SecretStoreError):
    """The secret itself is not acceptable (empty, too short, an invisible character); nothing was stored."""


class KeyringUnavailableError(SecretStoreError):
    """The OS keyring cannot be used right now."""


class KeyringTimeoutError(KeyringUnavailableError):
    """The keyring did not answer in time (locked, or waiting for a GUI prompt)."""


@dataclass
class KeyringStatus:
    usable: bool
    backend: str
    reason: str
    # The backend object the probe used (not compared, not shown).
    instance: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Secret:
    value: str = field(repr=False)
    kind: StoreKind


class _Timeout(Exception):
    pass


def _call_with_timeout(fn: Callable[[], T], timeout: float, name: str) -> T:
    """Run ``fn`` in a daemon thread; raise ``_Timeout`` when it has not returned after ``timeout`` s."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise _Timeout
    if "error" in box:
        raise box["error"]
    return box["value"]


def _first_line(exc: BaseException, secret: str | None = None) -> str:
    """The first line of an exception's message in plain words (never a class name), secret masked."""
    text = (str(exc).strip().splitlines() or [""])[0]
    text = mask_secret(text, secret)
    if text:
        return text
    import keyring.errors

    if isinstance(exc, keyring.errors.KeyringLocked):
        return "the keyring is locked"
    if isinstance(exc, keyring.errors.InitError):
        return "the keyring could not start"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    return "an error without a message"


def _is_file_backend(backend: keyring.backend.KeyringBackend) -> bool:
    module = type(backend).__module__
    name = type(backend).__name__
    return (
        module.startswith(("keyrings.alt", "keyrings.cryptfile", "keyring.backends.file"))
        or "plaintext" in name.lower()
        or "encryptedkeyring" in name.lower()
        or "cryptfile" in name.lower()
    )


def _classify(backend: keyring.backend.KeyringBackend, environ: Mapping[str, str]) -> str | None:
    """None when ``backend`` is an OS keyring worth probing, else the reason in plain words."""
    from keyring.backends import chainer, fail, null

    name = type(backend).__name__
    if isinstance(backend, fail.Keyring):
        if not environ.get("DBUS_SESSION_BUS_ADDRESS") and os.name == "posix":
            return "no D-Bus session: no Secret Service reachable"
        return "no OS keyring backend is available"
    if isinstance(backend, null.Keyring):
        return "keyring is disabled (null backend)"
    if _is_file_backend(backend):
        return f"{name} is a file backend, not an OS keyring"
    if isinstance(backend, chainer.ChainerBackend):
        members = list(backend.backends)
        if not members:
            return "no OS keyring backend is available"
        for member in members:
            reason = _classify(member, environ)
            if reason is not None:
                return f"the chained backends include {type(member).__name__} ({reason})"
        return None
    try:
        priority = float(backend.priority)
    except Exception as exc:  # noqa: BLE001 - a backend says it is not viable by raising here
        return f"{name} is not viable: {_first_line(exc)}"
    if priority < 1:
        return f"{name} is not a recommended keyring (priority {priority:g})"
    return None


def _probe(environ: Mapping[str, str], box: dict[str, str]) -> KeyringStatus:
    import keyring
    import keyring.core
    import keyring.errors

    chosen = environ.get(ENV_KEYRING_BACKEND, "").strip()
    if chosen:
        try:
            backend = keyring.core.load_keyring(chosen)
        except Exception as exc:  # noqa: BLE001 - any import or viability failure
            reason = f"{ENV_KEYRING_BACKEND}={chosen} cannot be loaded: {_first_line(exc)}"
            return KeyringStatus(False, chosen, reason)
    else:
        backend = keyring.get_keyring()
    name: str = type(backend).__name__
    box["backend"] = name
    refusal = _classify(backend, environ)
    if refusal is not None:
        return KeyringStatus(False, name, refusal)
    try:
        backend.get_password(PROBE_SERVICE, PROBE_USERNAME)
    except keyring.errors.KeyringLocked:
        return KeyringStatus(False, name, "the keyring is locked")
    except Exception as exc:  # noqa: BLE001 - D-Bus and backend errors of every kind
        return KeyringStatus(False, name, f"the keyring failed: {_first_line(exc)}")
    return KeyringStatus(True, name, "OS keyring reachable", instance=backend)


def detect_keyring(timeout: float = 3.0, environ: Mapping[str, str] | None = None) -> KeyringStatus:
    """Find out whether the OS keyring is usable, without ever blocking longer than ``timeout`` seconds.

    Respects ``PYTHON_KEYRING_BACKEND``; fail, null and file backends are not usable; a backend that does
    not answer a probe read in time is reported as not usable (locked, or waiting for a prompt).
    """
    env = os.environ if environ is None else environ
    box: dict[str, str] = {}
    try:
        return _call_with_timeout(lambda: _probe(env, box), timeout, "ihub-keyring-probe")
    except _Timeout:
        return KeyringStatus(
            False, box.get("backend", "unknown"), f"keyring did not answer within {timeout:g} s (locked?)"
        )
    except Exception as exc:  # noqa: BLE001 - keyring initialisation can fail in many ways
        return KeyringStatus(False, box.get("backend", "unknown"), f"keyring failed: {_first_line(exc)}")


class SecretStore:
    """Client secrets by profile name, in the keyring, the vault, this session, or the environment.

    ``paths=None`` keeps settings in memory and has no vault (the demo).
    """

    def __init__(
        self,
        paths: AppPaths | None,
        environ: Mapping[str, str] = os.environ,
        keyring_timeout: float = 3.0,
    ) -> None:
        self.paths = paths
        self.environ = environ
        self.keyring_timeout = keyring_timeout
        self.settings = Settings(paths.settings_file if paths else None)
        self.vault: Vault | None = Vault(paths.vault_file) if paths else None
        self._session: dict[str, str] = {}
        self._status: KeyringStatus | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SecretStore(paths={self.paths!r}, session_entries={len(self._session)})"

    # -- keyring ------------------------------------------------------------------------------------
    def keyring_status(self, refresh: bool = False) -> KeyringStatus:
        """The (cached) keyring detection; blocks up to ``keyring_timeout`` on first call."""
        with self._lock:
            if self._status is None or refresh:
                self._status = detect_keyring(self.keyring_timeout, self.environ)
            return self._status

    def _keyring_call(
        self, what: str, fn: Callable[[keyring.backend.KeyringBackend], T], secret: str = ""
    ) -> T:
        import keyring.errors

        status = self.keyring_status()
        if not status.usable or status.instance is None:
            raise KeyringUnavailableError(f"the OS keyring is not usable: {status.reason}")
        backend = status.instance
        try:
            return _call_with_timeout(lambda: fn(backend), self.keyring_timeout, f"ihub-keyring-{what}")
        except _Timeout:
            reason = f"keyring did not answer within {self.keyring_timeout:g} s (locked?)"
            self._status = KeyringStatus(False, status.backend, reason)
            raise KeyringTimeoutError(f"could not {what} the secret: {reason}") from None
        except keyring.errors.PasswordDeleteError:
            raise
        except Exception as exc:  # noqa: BLE001 - keyring and D-Bus errors of every kind
            detail = _first_line(exc, secret)
            raise KeyringUnavailableError(f"could not {what} the secret in the keyring: {detail}") from None

    @staticmethod
    def _service(profile_name: str) -> str:
        return SERVICE_PREFIX + profile_name

    # -- the per-machine choice ---------------------------------------------------------------------
    @property
    def choice(self) -> StoreKind | None:
        try:
            value = self.settings.secret_store
        except SettingsError:
            return None
        try:
            return StoreKind(value) if value else None
        except ValueError:
            return None

    def set_choice(self, kind: StoreKind | None) -> None:
        """Remember on this machine where secrets go when the OS keyring is unusable."""
        try:
            self.settings.set_secret_store(StoreKind(kind).value if kind else None)
        except SettingsError as exc:
            raise SecretStoreError(str(exc)) from None

    def available_kinds(self) -> tuple[StoreKind, ...]:
        """The stores ``set`` will really use here, in order of preference: offer only these (the keyring
        when usable, the vault when this mode has a vault file, this session, the environment)."""
        kinds: list[StoreKind] = []
        if self.keyring_status().usable:
            kinds.append(StoreKind.KEYRING)
        if self.vault is not None:
            kinds.append(StoreKind.VAULT)
        kinds += [StoreKind.SESSION, StoreKind.ENV]
        return tuple(kinds)

    def default_kind(self) -> StoreKind | None:
        """Keyring if usable, else the saved choice, else the vault when its passphrase is in the
        environment, else None (the user must choose)."""
        if self.keyring_status().usable:
            return StoreKind.KEYRING
        choice = self.choice
        if choice is not None and choice is not StoreKind.KEYRING:
            if choice is StoreKind.VAULT and self.vault is None:
                return None
            return choice
        if self.environ.get(ENV_VAULT_PASSPHRASE) and self.vault is not None:
            return StoreKind.VAULT
        return None

    # -- vault --------------------------------------------------------------------------------------
    @property
    def vault_exists(self) -> bool:
        return self.vault is not None and self.vault.exists

    @property
    def vault_unlocked(self) -> bool:
        return self.vault is not None and self.vault.unlocked

    def unlock_vault(self, passphrase: str) -> None:
        """Open the vault (``VaultPassphraseError`` when wrong); a new vault is created on first ``set``."""
        with self._lock:
            self._require_vault().unlock(passphrase)

    def lock_vault(self) -> None:
        if self.vault is not None:
            self.vault.lock()

    def _require_vault(self) -> Vault:
        if self.vault is None:
            raise VaultError("there is no vault file in this mode")
        return self.vault

    def _open_vault(self) -> Vault:
        vault = self._require_vault()
        if not vault.unlocked:
            passphrase = self.environ.get(ENV_VAULT_PASSPHRASE, "")
            if not passphrase:
                raise VaultLockedError(
                    "the vault is locked: enter its passphrase or set IHUB_VAULT_PASSPHRASE"
                )
            vault.unlock(passphrase)
        return vault

    # -- secrets ------------------------------------------------------------------------------------
    def env_secret_applies(self, profile_name: str) -> bool:
        """``IHUB_CLIENT_SECRET`` is used for the profile named by ``IHUB_PROFILE``, or for any profile
        when ``IHUB_PROFILE`` is not set."""
        if not self.environ.get(ENV_CLIENT_SECRET, "").strip():
            return False
        wanted = env_value(self.environ, ENV_PROFILE, "profile name")
        return not wanted or wanted == profile_name

    def get(self, profile: Profile | str) -> Secret | None:
        """The secret for ``profile``: ``IHUB_CLIENT_SECRET`` when it applies, else where it is stored.

        Raises ``VaultLockedError`` when the secret is in a locked vault and no passphrase is in the
        environment, ``KeyringUnavailableError`` when it is in a keyring that does not answer.
        """
        name = profile if isinstance(profile, str) else profile.name
        if self.env_secret_applies(name):
            try:
                value = clean_secret(self.environ[ENV_CLIENT_SECRET])
            except InputError as exc:
                raise SecretValueError(f"{ENV_CLIENT_SECRET}: {exc}") from None
            return Secret(value, StoreKind.ENV)
        with self._lock:
            kind = self.where(name)
            if kind is StoreKind.SESSION:
                return Secret(self._session[name], StoreKind.SESSION)
            if kind is StoreKind.KEYRING:
                found = self._keyring_call("read", lambda b: b.get_password(self._service(name), USERNAME))
                return Secret(found, StoreKind.KEYRING) if found else None
            if kind is StoreKind.VAULT:
                found = self._open_vault().get(name)
                return Secret(found, StoreKind.VAULT) if found else None
            return None

    def get_stored(self, name: str) -> Secret | None:
        """The value stored under ``name`` in the keyring, the vault or this session, ignoring
        ``IHUB_CLIENT_SECRET``: for ihub's own entries (e.g. the CA key passphrase of a tenant, see
        ``tui.config.ca_passphrase``), whose names contain ``:`` and so never clash with a profile.

        Raises ``VaultLockedError`` / ``KeyringUnavailableError`` like ``get``.
        """
        with self._lock:
            kind = self.where(name)
            if kind is None or kind is StoreKind.ENV:
                return None
            return self._stored_value(name, kind)

    def where(self, profile_name: str) -> StoreKind | None:
        """Where ``profile_name``'s secret is kept (``ENV``: expected in ``IHUB_CLIENT_SECRET``)."""
        with self._lock:
            if profile_name in self._session:
                return StoreKind.SESSION
            try:
                recorded = self.settings.secret_location(profile_name)
            except SettingsError:
                recorded = None
            if recorded == StoreKind.KEYRING.value:
                return StoreKind.KEYRING
            if recorded == StoreKind.ENV.value:
                return StoreKind.ENV
            if self.vault is not None and profile_name in self.vault.names():
                return StoreKind.VAULT
            if self.keyring_status().usable:
                try:
                    found = self._keyring_call(
                        "read", lambda b: b.get_password(self._service(profile_name), USERNAME)
                    )
                except KeyringUnavailableError:
                    found = None
                if found:
                    return StoreKind.KEYRING
            return None

    def set(self, profile_name: str, secret: str, kind: StoreKind | None = None) -> StoreKind:
        """Store ``secret`` for ``profile_name`` and return where it went.

        ``kind=None`` uses ``default_kind()``; when that is None, ``NoSecureStoreError`` lists the
        choices. ``ENV`` stores nothing (the secret is expected in ``IHUB_CLIENT_SECRET``). Copies in other
        stores are removed, so a secret lives in one place.

        The secret is cleaned first (``tui.config.inputs.clean_secret``: a leading BOM and surrounding
        whitespace dropped); an empty or too short secret, or one with an invisible or control character,
        raises ``SecretValueError`` naming the problem, and nothing is stored.
        """
        with self._lock:
            if kind is None:
                kind = self.default_kind()
                if kind is None:
                    raise NoSecureStoreError(self.keyring_status().reason)
            kind = StoreKind(kind)
            if kind is not StoreKind.ENV:
                try:
                    secret = clean_secret(secret)
                except InputError as exc:
                    raise SecretValueError(str(exc)) from None
            return self._put(profile_name, secret, kind)

    def _put(self, profile_name: str, secret: str, kind: StoreKind) -> StoreKind:
        """Store an already accepted secret in ``kind`` and remove the copies elsewhere."""
        with self._lock:
            if kind is StoreKind.KEYRING:
                self._keyring_call(
                    "store", lambda b: b.set_password(self._service(profile_name), USERNAME, secret), secret
                )
            elif kind is StoreKind.VAULT:
                self._open_vault().set(profile_name, secret)
            elif kind is StoreKind.SESSION:
                self._session[profile_name] = secret
            self._remove_copies(profile_name, keep=kind)
            self._record(profile_name, None if kind is StoreKind.SESSION else kind)
            return kind

    def delete(self, profile_name: str) -> None:
        """Remove ``profile_name``'s secret from every store (a missing one is fine)."""
        with self._lock:
            self._remove_copies(profile_name, keep=None)
            self._record(profile_name, None)

    def rename(self, old_name: str, new_name: str) -> None:
        """Move a stored secret to a renamed profile, in the same store."""
        if old_name == new_name:
            return
        with self._lock:
            kind = self.where(old_name)
            if kind is None:
                return
            if kind is StoreKind.ENV:
                self._record(new_name, StoreKind.ENV)
            else:
                secret = self._stored_value(old_name, kind)
                if secret is not None:
                    self._put(new_name, secret.value, kind)  # moved as stored, not re-judged
            self.delete(old_name)

    def _stored_value(self, name: str, kind: StoreKind) -> Secret | None:
        if kind is StoreKind.SESSION and name in self._session:
            return Secret(self._session[name], kind)
        if kind is StoreKind.KEYRING:
            value = self._keyring_call("read", lambda b: b.get_password(self._service(name), USERNAME))
            return Secret(value, kind) if value else None
        if kind is StoreKind.VAULT:
            value = self._open_vault().get(name)
            return Secret(value, kind) if value else None
        return None

    def _remove_copies(self, profile_name: str, keep: StoreKind | None) -> None:
        if keep is not StoreKind.SESSION:
            self._session.pop(profile_name, None)
        if keep is not StoreKind.VAULT and self.vault is not None:
            try:
                self.vault.delete(profile_name)
            except VaultCorruptError:
                pass  # a damaged vault cannot be edited; the entry stays encrypted
        if keep is not StoreKind.KEYRING and self.keyring_status().usable:
            import keyring.errors

            try:
                self._keyring_call(
                    "delete", lambda b: b.delete_password(self._service(profile_name), USERNAME)
                )
            except (keyring.errors.PasswordDeleteError, KeyringUnavailableError):
                pass

    def _record(self, profile_name: str, kind: StoreKind | None) -> None:
        try:
            self.settings.set_secret_location(profile_name, kind.value if kind else None)
        except SettingsError as exc:
            raise SecretStoreError(str(exc)) from None
