"""What the app, the screens and the CLI need from the world: profiles, secrets, paths and a way to connect.

No Textual here. ``Services.default()`` is the real machine; ``Services.for_demo()`` is the embedded
simulator with a profile and a secret that live only in memory and a data folder that is deleted at exit:
the demo never touches the keyring, the saved profiles, the vault or the real data folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tui.api.activity import ActivityLog, ActivityRecorder
from tui.config.paths import AppPaths
from tui.config.profiles import (
    STYLE_CLIENT,
    Profile,
    ProfileStore,
    apply_env_overrides,
    select_profile_name,
)
from tui.config.safety import Safety, assess, env_read_only, production_patterns
from tui.config.secrets import (
    ENV_VAULT_PASSPHRASE,
    KeyringStatus,
    Secret,
    SecretStore,
    StoreKind,
    VaultLockedError,
    VaultPassphraseError,
)
from tui.config.settings import Settings
from tui.errorlog import remember_secret
from tui.errors import ConnectionProblem, ProfileNotFound, SecretNotStored, ServiceError, UnlockDeclined
from tui.present import Masker

if TYPE_CHECKING:
    import httpx

    from tui.api.client import ApiClient
    from tui.pki.keystore import CaKeyStore

__all__ = ["DEMO_PROFILE", "Connection", "ServiceError", "Services", "SessionSecretStore", "Unlock"]

DEMO_PROFILE = "demo"
# The in-process simulator needs a base URL but no socket; this host never resolves on the network.
DEMO_LOCAL_URL = "http://sim.ihub.localhost"


# Asked when the vault is locked: ``await unlock(purpose, error)`` unlocks it (with a dialog in the app, a
# hidden prompt in the CLI) and returns True, returns False when the user declines, or raises
# ``VaultPassphraseError`` for a wrong passphrase. ``error`` is the previous attempt's message, or None.
Unlock = Callable[[str, str | None], Awaitable[bool]]

# Passphrase attempts before the vault is given up for this read.
UNLOCK_ATTEMPTS = 3


@dataclass
class Connection:
    """An open connection: the resolved profile, the secret's store, and the client (owned by the caller)."""

    profile: Profile
    client: ApiClient
    secret_kind: StoreKind


@dataclass
class Services:
    """Profiles, secrets and the connection factory, injected into the app and the CLI."""

    paths: AppPaths
    profiles: ProfileStore
    secrets: SecretStore
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    # The demo and tests hand in the simulator's transport; None means the real network.
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None
    demo: bool = False
    # The clock the API client uses for token expiry (tests and snapshots freeze it).
    clock: Callable[[], float] = time.time
    # Called once per process, from the event loop, with the first clock skew a token shows (server time
    # minus local time, seconds; at least tui.api.auth.CLOCK_SKEW_NOTICE_S). Set by the UI. A skew seen
    # before a callback was set waits in ``pop_clock_skew_notice()``.
    on_clock_skew: Callable[[float], None] | None = None
    # The latest skew measured by any client of these services (None: not measured yet).
    clock_skew: float | None = field(default=None, init=False)
    # The data folder is thrown away at exit (the demo): a secret store that forgets at exit may then hold
    # the passphrase of the CA keys kept there, since those keys go with it (``ca_key_store``).
    throwaway_data: bool = False
    # The demo's temporary folder (config, data, log, cache), deleted with these services or at exit.
    _scratch: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)
    _skew_notice: float | None = field(default=None, init=False, repr=False)
    _skew_noticed: bool = field(default=False, init=False, repr=False)
    _paused_masker: Masker | None = field(default=None, init=False, repr=False)
    # Every HTTP call of every client made here is logged (tui.api.activity): to the log folder's
    # activity.jsonl, or for the demo to this session's memory only. None: chosen from ``paths``/``demo``.
    activity: ActivityLog | None = None
    # The MQTT broker the Certificates area checks agent certificates against ("host:port") and its root
    # CA file: the simulator's in the demo; None means the Europe 1 broker and the system's trusted roots.
    mqtt_broker: str | None = None
    mqtt_root_ca: Path | None = None
    # ``ihub --read-only``: nothing changes in any tenant nor in the saved profiles (``IHUB_READ_ONLY=1``
    # in ``environ`` does the same). See ``tui.config.safety``.
    session_read_only: bool = False
    # Presentation mode (``ihub --present``, the palette): the masker every screen and output goes through;
    # None when off. Set with ``start_presenting`` / ``stop_presenting``.
    masker: Masker | None = None
    # The app's theme, mouse and keymap (``settings.toml`` ``[ui]``, ``[keys]``). None: the secret store's
    # settings (the user's file; in memory for the demo built here). ``ihub demo`` passes the user's file,
    # so a presenter's theme and keys hold there too; tests and screenshots keep the default in memory.
    preferences: Settings | None = None

    def __post_init__(self) -> None:
        if self.preferences is None:
            self.preferences = getattr(self.secrets, "settings", None) or Settings(None)
        if self.activity is None:
            self.activity = ActivityLog(None if self.demo else self.paths.activity_file, clock=self.clock)

    def recorder(self, profile_name: str) -> ActivityRecorder | None:
        """What a client of ``profile_name`` logs its calls with (``ApiClient(activity=...)``,
        ``diagnose(activity=...)``)."""
        return self.activity.recorder(profile_name) if self.activity is not None else None

    @property
    def error_log_file(self) -> Path | None:
        """Where tracebacks of unexpected errors go: the log folder's ``ihub.log``; None for the demo (a
        private temporary folder made on the first error, never the user's log folder)."""
        return None if self.demo else self.paths.log_file

    # -- safety: read-only, production, presentation ---------------------------------------------

    @property
    def read_only(self) -> bool:
        """The whole session is read-only (``--read-only`` or ``IHUB_READ_ONLY``)."""
        return self.session_read_only or env_read_only(self.environ)

    @property
    def settings(self) -> Settings:
        return Settings(self.paths.settings_file)

    def production_tenants(self) -> tuple[tuple[str, ...], str | None]:
        """The settings' ``[safety] production_tenants`` patterns, and a problem to report (or None)."""
        from tui.config.safety import SETTINGS_PRODUCTION, SETTINGS_SECTION

        try:
            value = self.settings.get(SETTINGS_SECTION, SETTINGS_PRODUCTION)
        except Exception as exc:  # a broken settings file: no pattern, and say why
            return (), str(exc)
        return production_patterns(value)

    def safety(self, profile: Profile | None, tenant: str | None = None) -> Safety:
        """What may be done with ``profile`` in this session (``tui.config.safety.assess``); ``tenant`` is
        the tenant the token named, matched against the production patterns too."""
        patterns, _problem = self.production_tenants()
        return assess(profile, session_read_only=self.read_only, production_tenants=patterns, tenant=tenant)

    def start_presenting(self, masker: Masker | None = None) -> Masker:
        """Presentation mode on: every profile's tenant and client id (and each secret read from now on) is
        masked wherever text is shown. Returns the masker (``masker`` or a new one)."""
        # Switched off and on again, the session keeps its masks (a tenant keeps its word).
        chosen = masker or self.masker or self._paused_masker or Masker()
        self.masker = chosen
        with contextlib.suppress(Exception):  # a broken profiles file is reported where profiles are read
            for profile in self.profiles.list():
                chosen.learn_profile(profile)
        return chosen

    def stop_presenting(self) -> None:
        self._paused_masker, self.masker = self.masker, None

    def _learn(self, profile: Profile) -> None:
        if self.masker is not None:
            self.masker.learn_profile(profile)

    async def _learn_response(self, response: httpx.Response) -> None:
        """While presenting: tenants and client ids in the tenant's answers are learned before anyone shows
        them (asset management and MindConnect answers; the client reads every body anyway)."""
        masker = self.masker
        if masker is None or response.status_code >= 300:
            return
        path = response.request.url.path
        if "/assetmanagement/" not in path and "/mindconnect" not in path:
            return
        if "json" not in response.headers.get("content-type", ""):
            return
        try:
            await response.aread()
            masker.learn_json(response.json())
        except Exception:  # a body that does not parse is the client's to report
            return

    # -- construction ------------------------------------------------------------------------------

    @classmethod
    def default(cls) -> Services:
        """The user's real folders, saved profiles and secret stores."""
        paths = AppPaths.default()
        return cls(
            paths=paths,
            profiles=ProfileStore(paths.profiles_file),
            secrets=SecretStore(paths),
            environ=os.environ,
        )

    @classmethod
    def for_demo(
        cls,
        sim_url: str | None = None,
        *,
        transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
        paths: AppPaths | None = None,
        clock: Callable[[], float] = time.time,
        mqtt_broker: str | None = None,
        mqtt_root_ca: Path | None = None,
        production: bool = False,
        preferences: Settings | None = None,
    ) -> Services:
        """One in-memory profile ``demo`` against the simulator at ``sim_url`` (or an in-process transport).
        ``mqtt_broker`` (``host:port``) and ``mqtt_root_ca`` are the simulator's MQTT broker, when it runs.

        The profile store is in memory, the secret lives in this session only, and the environment's
        ``IHUB_*`` overrides are ignored, so the demo can never be pointed at a real tenant by accident.
        Its folders are a temporary tree deleted at exit (unless ``paths`` is given): CA keys the demo keeps
        (``ca_key_store``, passphrase in the session store) and files it writes never reach the real data
        folder, where they could not be opened once the session's passphrase is gone. With ``paths`` given,
        the session store is not trusted with CA keys (``throwaway_data`` stays false). ``production``
        marks the demo profile as production (to try the production guard). Its activity log
        stays in memory (the Requests view) and its tracebacks go to a private temporary folder that
        outlives the session (so a crash can still be read): nothing reaches the user's log folder.
        """
        from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT

        if sim_url is None and transport_factory is None:
            raise ValueError("the demo needs a simulator URL or an in-process transport")
        gateway = (sim_url or DEMO_LOCAL_URL).rstrip("/")
        profiles = ProfileStore(None)
        profiles.add(
            Profile(
                name=DEMO_PROFILE,
                gateway=gateway,
                token_url=f"{gateway}/oauth/token",
                client_id=DEMO_CLIENT_ID,
                style=STYLE_CLIENT,
                tenant=DEMO_TENANT,
                production=production,
            )
        )
        profiles.set_default(DEMO_PROFILE)
        scratch = None
        if paths is None:
            scratch = tempfile.TemporaryDirectory(prefix="ihub-demo-")
            root = Path(scratch.name)
            paths = AppPaths(root / "config", root / "data", root / "log", root / "cache")
        secrets = SessionSecretStore()
        secrets.set(DEMO_PROFILE, DEMO_CLIENT_SECRET, StoreKind.SESSION)
        services = cls(
            paths=paths,
            profiles=profiles,
            secrets=secrets,
            environ={},
            transport_factory=transport_factory,
            demo=True,
            clock=clock,
            throwaway_data=scratch is not None,
            mqtt_broker=mqtt_broker,
            mqtt_root_ca=mqtt_root_ca,
            preferences=preferences,
        )
        services._scratch = scratch
        return services

    # -- profiles ----------------------------------------------------------------------------------

    def initial_profile_name(self, cli_name: str | None = None) -> str | None:
        """``--profile`` > ``IHUB_PROFILE`` > the default > the only profile (> an env-only profile)."""
        name = select_profile_name(self.profiles, self.environ, cli_name)
        if name is None and apply_env_overrides(None, self.environ) is not None:
            return self.environ.get("IHUB_PROFILE") or "env"
        return name

    def resolve_profile(self, name: str) -> Profile:
        """The saved profile ``name`` with the environment's overrides applied."""
        try:
            saved = self.profiles.get(name)
        except KeyError:
            env_only = apply_env_overrides(None, self.environ)
            if env_only is not None and env_only.name == name:
                self._learn(env_only)
                return env_only
            raise ProfileNotFound(
                f"no profile named {name!r}: add one on the Keys screen or with 'ihub keys add'"
            ) from None
        resolved = apply_env_overrides(saved, self.environ) or saved
        self._learn(resolved)
        return resolved

    async def read_secret(self, profile: Profile, unlock: Unlock | None = None) -> Secret:
        """The profile's client secret; the one way the app, the Keys screen and the CLI read it.

        The store is read in a thread (the keyring may block). A locked vault is opened with
        ``IHUB_VAULT_PASSPHRASE`` when set, else with ``unlock`` (a dialog or a prompt). Raises
        ``UnlockDeclined`` when the user declines, ``ConnectionProblem`` when the vault stays locked, and
        ``SecretNotStored`` when no secret is stored;
        the store's own errors (``SecretStoreError``) pass through. No message contains the secret.
        """
        error: str | None = None
        for _attempt in range(UNLOCK_ATTEMPTS + 1):
            try:
                secret = await asyncio.to_thread(self.secrets.get, profile)
            except VaultLockedError:
                error = await self._unlock_vault(profile, unlock, error)
                continue
            if secret is None:
                raise SecretNotStored(
                    f"no client secret stored for profile {profile.name}: add it on the Keys screen (1) "
                    "or with 'ihub keys add'"
                )
            remember_secret(secret.value)  # masked in any traceback written from now on
            if self.masker is not None:
                self.masker.learn_secret(secret.value)
            return secret
        raise ConnectionProblem("the vault stays locked: wrong passphrase")

    async def _unlock_vault(self, profile: Profile, unlock: Unlock | None, error: str | None) -> str | None:
        """Try once to unlock the vault; returns the error to show on the next attempt (None: no error)."""
        from_env = self.environ.get(ENV_VAULT_PASSPHRASE)
        if from_env and error is None:
            try:
                await asyncio.to_thread(self.secrets.unlock_vault, from_env)
                return None
            except VaultPassphraseError:
                error = f"{ENV_VAULT_PASSPHRASE} does not open the vault"
        if unlock is None:
            raise ConnectionProblem(
                f"the client secret of {profile.name} is in the encrypted vault: set {ENV_VAULT_PASSPHRASE}"
                + (f" ({error})" if error else "")
            )
        purpose = f"The client secret of {profile.name} is in the encrypted vault."
        try:
            unlocked = await unlock(purpose, error)
        except VaultPassphraseError as exc:
            return str(exc) or "wrong vault passphrase"
        if not unlocked:
            raise UnlockDeclined("the vault stays locked: no secret for this profile")
        return None

    # -- CA keys -------------------------------------------------------------------------------------

    def ca_key_store(self, tenant: str) -> CaKeyStore:
        """The CA keys kept for ``tenant`` under ``paths.pki_dir``, encrypted with a passphrase kept in
        ``secrets`` (``tui.config.ca_passphrase``; ``IHUB_CA_KEY_PASSPHRASE`` from ``environ`` wins). A
        session-only store is accepted only when the data folder is thrown away too (the demo).
        Raises ``KeyStoreError`` for a tenant that cannot be a folder name. Cheap: nothing is read yet."""
        from tui.config.ca_passphrase import CaKeyPassphrase
        from tui.pki.keystore import CaKeyStore

        source = CaKeyPassphrase(
            self.secrets, tenant, environ=self.environ, allow_session=self.throwaway_data
        )
        return CaKeyStore.for_tenant(self.paths.pki_dir, tenant, source)

    # -- connecting --------------------------------------------------------------------------------

    def connect(self, profile: Profile, secret: str) -> ApiClient:
        """A new API client for ``profile`` (the caller owns it and must ``aclose()`` it)."""
        from tui.api.client import ApiClient, ConnectionConfig

        config = ConnectionConfig(
            gateway=profile.gateway,
            credentials=profile.to_credentials(secret),
            ca_bundle=str(Path(profile.ca_bundle).expanduser()) if profile.ca_bundle else None,
        )
        remember_secret(secret)
        activity = self.recorder(profile.name)
        client = ApiClient(config, transport=self.transport(), clock=self.clock, activity=activity)
        client.tokens.on_clock_skew = self._clock_skew_seen
        # Presentation mode may be switched on later: the hook asks for the masker on each answer.
        client.http.event_hooks["response"].append(self._learn_response)
        if self.masker is not None:
            self.masker.learn_profile(profile)
            self.masker.learn_secret(secret)
        return client

    # -- clock skew --------------------------------------------------------------------------------

    def _clock_skew_seen(self, skew: float) -> None:
        """A client's token showed a large clock skew; tell the UI once per process."""
        self.clock_skew = skew
        if self._skew_noticed:
            return
        self._skew_noticed = True
        if self.on_clock_skew is not None:
            self.on_clock_skew(skew)
        else:
            self._skew_notice = skew

    def pop_clock_skew_notice(self) -> float | None:
        """The skew to show the user, once: returned on the first call after it was seen, then None."""
        skew, self._skew_notice = self._skew_notice, None
        return skew

    def transport(self) -> httpx.AsyncBaseTransport | None:
        """The transport the demo and the tests hand in (None: the real network)."""
        return self.transport_factory() if self.transport_factory is not None else None

    async def open(self, name: str | None = None, unlock: Unlock | None = None) -> Connection:
        """Resolve the profile (``name``, else ``IHUB_PROFILE``, the default or the only one), read its secret
        and open a client. The caller owns ``Connection.client``. Raises ``ServiceError`` (no such profile,
        no profile at all, no secret) or ``ConnectionProblem`` (the vault stays locked)."""
        chosen = self.initial_profile_name(name)
        if chosen is None:
            raise ServiceError(
                "no profile selected: add one with 'ihub keys add', choose one with --profile, "
                "or set a default with 'ihub keys use NAME'"
            )
        profile = self.resolve_profile(chosen)
        secret = await self.read_secret(profile, unlock)
        return Connection(profile, self.connect(profile, secret.value), secret.kind)


class SessionSecretStore(SecretStore):
    """The demo's SecretStore: secrets in this process only; never the keyring, the vault or settings.

    ``SecretStore(None)`` already keeps its settings in memory and has no vault; this subclass also
    reports the OS keyring as not in use, so no keyring call is ever made (not even a probe, nor the
    clean-up of copies that ``set`` does), and makes the session the default store.
    """

    def __init__(self) -> None:
        super().__init__(None, environ={})

    def keyring_status(self, refresh: bool = False) -> KeyringStatus:
        return KeyringStatus(False, "none", "Demo mode keeps secrets in this session only")

    def default_kind(self) -> StoreKind | None:
        return StoreKind.SESSION

    def available_kinds(self) -> tuple[StoreKind, ...]:
        """The demo keeps secrets for this session only: no vault file, no keyring, and the environment
        is ignored, so that is the only choice to offer."""
        return (StoreKind.SESSION,)
