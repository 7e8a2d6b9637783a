"""The Keys area: connection profiles, where their client secrets live, and connection tests.

Everything that may block (the keyring, the vault's key derivation) runs in thread workers; connection
tests run in an async worker. Secrets are masked on screen, revealed for a few seconds on ``r`` and copied
through the terminal (OSC 52) on ``c``; a token is never shown, only its decoded header and claims.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from tui.areas import Area
from tui.config.profiles import ENV_CLIENT_SECRET, Profile, ProfileError, apply_env_overrides
from tui.config.safety import Destruction
from tui.config.secrets import (
    ENV_VAULT_PASSPHRASE,
    KeyringStatus,
    Secret,
    SecretStoreError,
    StoreKind,
    VaultLockedError,
)
from tui.errors import SecretNotStored, UnlockDeclined, error_text
from tui.messages import ConnectionChanged
from tui.screens.base import OTHER_PANE, AreaScreen
from tui.screens.dialogs import VaultPassphraseDialog
from tui.screens.profile_form import FormMode, ProfileFormResult, ProfileFormScreen
from tui.screens.secret_store_dialog import SecretStoreDialog, env_instructions
from tui.widgets.connection_report import ConnectionReport, Report, ReportStep, TokenDialog
from tui.widgets.profiles import KIND_WORDS, UNKNOWN, Marks, ProfileDetail, ProfileTable, Row
from tui.widgets.secret_field import DEFAULT_REVEAL_SECONDS, SecretField

if TYPE_CHECKING:
    from tui.api.auth import Token
    from tui.api.diagnose import Diagnosis
    from tui.services import Services

T = TypeVar("T")


class UserCancelled(Exception):
    """The user closed a dialog that the action needed."""


class KeysScreen(AreaScreen):
    """Profiles, secrets and connection tests."""

    BINDING_GROUP_TITLE = "Keys"
    # Changes to the saved profiles: off in a read-only session (--read-only). A read-only *profile*
    # keeps its profile editable here: this is where the flag is turned off.
    CHANGES: ClassVar[dict[str, str]] = {
        "add": "add a profile",
        "edit": "edit a profile",
        "duplicate": "duplicate a profile",
        "delete": "delete a profile",
        "set_default": "change the default profile",
        "choose_store": "choose where client secrets are kept",
    }
    # Seconds a revealed secret stays visible (tests shorten it).
    reveal_seconds: ClassVar[float] = DEFAULT_REVEAL_SECONDS

    BINDINGS: ClassVar[list[BindingType]] = [
        OTHER_PANE,  # first: the key bar of a narrow terminal has room for a few keys only
        Binding("n", "add", "Add", id="keys.add", tooltip="Add a profile"),
        Binding("e", "edit", "Edit", id="keys.edit", tooltip="Edit the selected profile"),
        Binding("d", "duplicate", "Duplicate", id="keys.duplicate"),
        Binding("delete,x", "delete", "Delete", id="keys.delete", key_display="del"),
        Binding(
            "m",
            "set_default",
            "Default",
            id="keys.default",
            tooltip="Mark as the default profile",
            show=False,
        ),
        Binding("a", "activate", "Use", id="keys.activate", tooltip="Make the selected profile active"),
        Binding("t", "test", "Test", id="keys.test", tooltip="Test the connection of the selected profile"),
        Binding("r", "reveal", "Reveal", id="keys.reveal", tooltip="Show the secret for a few seconds"),
        Binding("c", "copy_secret", "Copy", id="keys.copy_secret", tooltip="Copy the secret (OSC 52)"),
        Binding(
            "k", "show_token", "Token", id="keys.token", tooltip="Decoded header and claims of the token"
        ),
        Binding("y", "copy_token", "Copy token", id="keys.copy_token", show=False),
        Binding("b", "choose_store", "Secret store", id="keys.secret_store", show=False),
        Binding(
            "f5", "reload", "Reload", id="keys.reload", show=False, tooltip="Read the profiles file again"
        ),
    ]
    # A narrow terminal (80x24) shows the profile or the connection test; o switches, t shows the test.
    FOLDED_PANES = ("#keys-detail", "#keys-report")

    @dataclass
    class BackendLoaded(Message):
        status: KeyringStatus
        choice: StoreKind | None
        vault_exists: bool
        vault_unlocked: bool

    @dataclass
    class LocationsLoaded(Message):
        locations: dict[str, StoreKind | None]

    def __init__(self, area: Area) -> None:
        super().__init__(area)
        self.rows: dict[str, Row] = {}
        self.backend: KeyringStatus | None = None
        self.backend_choice: StoreKind | None = None

    # -- access to the app -----------------------------------------------------------------------------
    @property
    def services(self) -> Services:
        return self.ctx.services

    def _active_name(self) -> str | None:
        profile = self.ctx.active_profile
        return profile.name if profile is not None else None

    def _clock(self) -> float:
        return self.services.clock()

    def _error(self, error: BaseException | str, title: str = "Keys") -> None:
        self.ctx.show_error(error, title=title)

    def _marks(self) -> Marks:
        return Marks(default=self.services.profiles.default_name, active=self._active_name())

    @property
    def table(self) -> ProfileTable:
        return self.query_one("#profiles", ProfileTable)

    @property
    def detail(self) -> ProfileDetail:
        return self.query_one("#keys-detail", ProfileDetail)

    # -- layout ----------------------------------------------------------------------------------------
    def compose_area(self) -> ComposeResult:
        with Vertical(id="keys-body"):
            yield Static("Secrets: checking the OS keyring…", id="keys-backend", markup=False)
            yield ProfileTable(id="profiles")
            yield Static(
                "No profiles yet. Press n to add one and paste your tenant's binding keys into the form: "
                "TokenURL, clientID and clientSecret, or the App Service's Access Key and Secret Key.",
                id="keys-empty",
                markup=False,
            )
            with Horizontal(id="keys-bottom"):
                yield ProfileDetail(reveal_seconds=self.reveal_seconds, id="keys-detail")
                with VerticalScroll(id="keys-report") as report:
                    report.border_title = "Connection test"
                    yield ConnectionReport(clock=self._clock, id="report")

    def on_mount(self) -> None:
        self.reload()
        self._load_backend()
        self.table.focus()

    # -- profiles --------------------------------------------------------------------------------------
    @property
    def selected(self) -> Row | None:
        name = self.table.selected_name
        return self.rows.get(name) if name is not None else None

    def _build_rows(self) -> dict[str, Row]:
        services = self.services
        rows: dict[str, Row] = {}
        for saved in services.profiles.list():
            try:
                resolved = apply_env_overrides(saved, services.environ) or saved
            except ProfileError as exc:
                self._error(exc, title="Environment")
                resolved = saved
            rows[saved.name] = Row(resolved, saved=True)
        try:
            env_only = apply_env_overrides(None, services.environ)
        except ProfileError:
            env_only = None
        if env_only is not None and env_only.name not in rows:
            rows[env_only.name] = Row(env_only, saved=False)
        return rows

    def reload(self, select: str | None = None) -> None:
        """Read the profiles again and rebuild the table; look up secret locations in a thread."""
        previous = {name: row.location for name, row in self.rows.items()}
        current = select or (self.selected.profile.name if self.selected else None)
        try:
            rows = self._build_rows()
        except ProfileError as exc:
            self._error(exc, title="Profiles")
            rows = {}
        for name, row in rows.items():
            row.location = previous.get(name, UNKNOWN)
        self.rows = rows
        self._fill_table(current)
        self._load_locations(list(rows))

    def _fill_table(self, select: str | None = None) -> None:
        table = self.table
        table.show(self.rows, self._marks(), select)
        empty = not self.rows
        table.display = not empty
        self.query_one("#keys-empty").display = empty
        self.query_one("#keys-bottom").display = not empty
        self._show_detail()

    def _show_detail(self) -> None:
        self.detail.show(self.selected, self._marks(), locked=self.changes_locked)

    @on(ProfileTable.Highlighted)
    def _row_highlighted(self) -> None:
        self.show_pane("#keys-detail")
        self._show_detail()

    @on(ProfileTable.Chosen)
    def _row_chosen(self) -> None:
        self.action_activate()

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        if self.rows:
            self._fill_table(self.selected.profile.name if self.selected else None)

    def on_screen_resume(self) -> None:
        """Back on Keys: the profiles are read and the table rebuilt only when the profiles file changed
        meanwhile (another ihub, an editor); otherwise only the secret locations are looked up again (in a
        thread; the table is redrawn only when one moved)."""
        if not self.is_mounted:
            return
        profiles = self.services.profiles
        if profiles.changed_on_disk():
            try:
                profiles.load()
            except ProfileError as exc:
                self._error(exc, title="Profiles")
            self.reload()
        else:
            self._load_locations(list(self.rows))

    # -- secret store state (threads) ------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="keys-backend", exit_on_error=False, description="keyring check")
    def _load_backend(self) -> None:
        secrets = self.services.secrets
        status = secrets.keyring_status()
        self.post_message(
            self.BackendLoaded(status, secrets.choice, secrets.vault_exists, secrets.vault_unlocked)
        )

    def on_keys_screen_backend_loaded(self, message: KeysScreen.BackendLoaded) -> None:
        self.backend = message.status
        self.backend_choice = message.choice
        self.query_one("#keys-backend", Static).update(self.backend_text)

    @property
    def backend_text(self) -> Text:
        status = self.backend
        if status is None:
            return Text("Secrets: checking the OS keyring…", style="dim")
        if getattr(self.services, "demo", False):
            return Text.assemble(("Secrets: ", "bold"), "Demo mode keeps client secrets in this session only")
        if status.usable:
            return Text.assemble(("Secrets: ", "bold"), ("OS keyring", "green"), f": {status.backend}")
        text = Text.assemble(
            ("Secrets: ", "bold"), (f"No secure keyring on this machine: {status.reason}", "yellow")
        )
        choice = self.backend_choice
        if choice is not None:
            text.append(f" · using {KIND_WORDS.get(choice, choice.value).removeprefix('in the ')}")
        else:
            text.append(" · saving a secret asks where to keep it")
        text.append(" (b to change)", style="dim")
        return text

    @work(
        thread=True,
        exclusive=True,
        group="keys-locations",
        exit_on_error=False,
        description="secret locations",
    )
    def _load_locations(self, names: list[str]) -> None:
        secrets = self.services.secrets
        found: dict[str, StoreKind | None] = {}
        for name in names:
            try:
                if secrets.env_secret_applies(name):
                    found[name] = StoreKind.ENV
                else:
                    found[name] = secrets.where(name)
            except Exception:  # noqa: S112 - a store that does not answer shows as unknown, not as a crash
                continue
        self.post_message(self.LocationsLoaded(found))

    def on_keys_screen_locations_loaded(self, message: KeysScreen.LocationsLoaded) -> None:
        changed = False
        for name, kind in message.locations.items():
            row = self.rows.get(name)
            if row is not None and row.location != kind:
                row.location = kind
                changed = True
        if changed:
            self._fill_table(self.selected.profile.name if self.selected else None)

    async def _in_thread(self, fn: Callable[..., T], *args: Any, description: str = "secret store") -> T:
        return await self.in_thread(fn, *args, description=description)

    # -- selection helpers -----------------------------------------------------------------------------
    def _need_row(self, *, saved: bool = False, verb: str = "do that") -> Row | None:
        row = self.selected
        if row is None:
            self.notify("No profile selected: press n to add one.", title="Keys", severity="warning")
            return None
        if saved and not row.saved:
            self.notify(
                f"{row.profile.name} comes from IHUB_* environment variables and is not saved: "
                f"cannot {verb}.",
                title="Keys",
                severity="warning",
            )
            return None
        return row

    @property
    def changes_locked(self) -> bool:
        return self.safety.session_read_only

    # -- add / edit / duplicate ------------------------------------------------------------------------
    def action_add(self) -> None:
        if not self.may_change("add"):
            return
        self.app.push_screen(ProfileFormScreen(FormMode.ADD, existing_names=list(self.rows)), self._form_done)

    def action_edit(self) -> None:
        if not self.may_change("edit"):
            return
        row = self._need_row(saved=True, verb="edit it (change the variables instead)")
        if row is None:
            return
        saved = self.services.profiles.get(row.profile.name).replace(env_fields=row.profile.env_fields)
        self.app.push_screen(
            ProfileFormScreen(FormMode.EDIT, saved, existing_names=list(self.rows), secret_where=row.where),
            self._form_done,
        )

    def action_duplicate(self) -> None:
        if not self.may_change("duplicate"):
            return
        row = self._need_row(verb="duplicate it")
        if row is None:
            return
        source = (
            self.services.profiles.get(row.profile.name)
            if row.saved
            else row.profile.replace(env_fields=frozenset())
        )
        self.app.push_screen(
            ProfileFormScreen(FormMode.DUPLICATE, source, existing_names=list(self.rows)), self._form_done
        )

    def _form_done(self, result: ProfileFormResult | None) -> None:
        if result is not None:
            self._save(result)

    @work(exclusive=True, group="keys-save", exit_on_error=False, description="save profile")
    async def _save(self, result: ProfileFormResult) -> None:
        store = self.services.profiles
        try:
            if result.mode is FormMode.EDIT and result.original_name is not None:
                saved = store.update(result.original_name, result.profile)
            else:
                saved = store.add(result.profile)
        except (ProfileError, KeyError, OSError) as exc:
            self._error(exc, title="Profile not saved")
            return
        name = saved.name
        self.reload(select=name)
        secret = result.secret
        message = f"Profile {name} saved."
        try:
            if result.mode is FormMode.EDIT and result.original_name and result.original_name != name:
                await self._in_thread(self.services.secrets.rename, result.original_name, name)
            if secret is None and result.mode is FormMode.DUPLICATE and result.original_name:
                source = self.rows.get(result.original_name)
                if source is not None:
                    copied = await self._read_secret(source.profile)
                    if copied is not None and copied.kind is not StoreKind.ENV:
                        secret = copied.value
            if secret is not None:
                kind = await self._store_secret(name, secret)
                if kind is None:
                    message = f"Profile {name} saved without its client secret."
                else:
                    message = f"Profile {name} saved; its client secret is {KIND_WORDS[kind]}."
        except UserCancelled:
            message = f"Profile {name} saved without its client secret."
        except (SecretStoreError, OSError) as exc:
            self._error(exc, title="Secret not stored")
            message = f"Profile {name} saved without its client secret."
        finally:
            secret = None
        self.reload(select=name)
        self._load_backend()
        self.notify(message, title="Keys", severity="warning" if "without" in message else "information")
        if result.warnings:
            self.notify(
                "\n".join(f"⚠ {warning}" for warning in result.warnings),
                title=f"Check profile {name}",
                severity="warning",
                timeout=15,
                markup=False,
            )
        if result.mode is FormMode.EDIT and result.original_name == self._active_name():
            # The active connection was made with the old settings: connect again.
            await self.ctx.activate_profile(name)

    async def _store_secret(self, name: str, secret: str) -> StoreKind | None:
        """Store ``secret`` where this machine keeps secrets, asking the user when nothing is usable.

        Returns where it went, or None when the user chose not to store it.
        """
        secrets = self.services.secrets
        kind = await self._in_thread(secrets.default_kind)
        if kind is None:
            kind = await self._ask_store(name)
        for _attempt in range(3):
            if kind is StoreKind.VAULT:
                await self._ensure_vault(purpose=f"Store the client secret of {name} in the vault.")
            try:
                stored = await self._in_thread(secrets.set, name, secret, kind, description="store secret")
            except VaultLockedError:
                continue
            if stored is StoreKind.ENV:
                self.notify(env_instructions(name), title="Secret not stored", timeout=15, markup=False)
            return stored
        raise UserCancelled

    async def _headless_kinds(self) -> tuple[StoreKind, ...]:
        """The stores a user may choose when the keyring is not usable: only those ``set`` will use here."""
        kinds = await self._in_thread(self.services.secrets.available_kinds)
        return tuple(kind for kind in kinds if kind is not StoreKind.KEYRING)

    async def _ask_store(self, name: str | None) -> StoreKind:
        """Show the SecretStoreDialog and remember the choice on this machine."""
        secrets = self.services.secrets
        status = await self._in_thread(secrets.keyring_status)
        vault_exists = await self._in_thread(lambda: secrets.vault_exists)
        kinds = await self._headless_kinds()
        kind = await self.app.push_screen_wait(
            SecretStoreDialog(
                status, profile=name, vault_exists=vault_exists, current=self.backend_choice, kinds=kinds
            )
        )
        if kind is None:
            raise UserCancelled
        await self._in_thread(secrets.set_choice, kind, description="remember the choice")
        self.backend_choice = kind
        self._load_backend()
        return kind

    async def _ensure_vault(self, purpose: str = "") -> None:
        """Unlock the vault (or set the passphrase of a new one); raises UserCancelled when dismissed."""
        secrets = self.services.secrets
        if await self._in_thread(lambda: secrets.vault_unlocked):
            return
        exists = await self._in_thread(lambda: secrets.vault_exists)
        if self.services.environ.get(ENV_VAULT_PASSPHRASE):
            await self._in_thread(secrets.unlock_vault, self.services.environ[ENV_VAULT_PASSPHRASE])
            return
        passphrase = await self.app.push_screen_wait(
            VaultPassphraseDialog(new=not exists, check=secrets.unlock_vault, purpose=purpose)
        )
        if passphrase is None:
            raise UserCancelled

    async def _read_secret(self, profile: Profile) -> Secret | None:
        """The profile's secret through the app (vault dialog included); None when none is stored.

        Raises ``UserCancelled`` when the user declines to unlock the vault.
        """
        try:
            return await self.ctx.read_secret(profile)
        except SecretNotStored:
            return None
        except UnlockDeclined:
            raise UserCancelled from None

    # -- delete / default / activate -------------------------------------------------------------------
    def action_delete(self) -> None:
        if not self.may_change("delete"):
            return
        row = self._need_row(saved=True, verb="delete it (unset the variables instead)")
        if row is None:
            return
        name = row.profile.name
        where = row.where
        secret_words = (
            f" and its client secret {where}" if where and row.location is not StoreKind.ENV else ""
        )
        self.confirm_destructive(
            Destruction.PROFILE_DELETE,
            "Delete profile",
            f"Delete profile {name}{secret_words}? This cannot be undone.",
            name,
            partial(self._delete_confirmed, name),
            safety=self.services.safety(row.profile),
        )

    def _delete_confirmed(self, name: str, confirmed: bool | None) -> None:
        if confirmed:
            self._delete(name)

    @work(exclusive=True, group="keys-save", exit_on_error=False, description="delete profile")
    async def _delete(self, name: str) -> None:
        try:
            self.services.profiles.remove(name)
        except (ProfileError, KeyError, OSError) as exc:
            self._error(exc, title="Profile not deleted")
            return
        self.rows.pop(name, None)
        # The header and the connection must not keep showing a profile that no longer exists.
        self.ctx.profile_removed(name)
        try:
            await self._in_thread(self.services.secrets.delete, name, description="delete secret")
        except (SecretStoreError, OSError) as exc:
            self._error(exc, title="Secret not deleted")
        else:
            self.notify(f"Profile {name} and its stored secret were deleted.", title="Keys")
        self.reload()

    def action_set_default(self) -> None:
        if not self.may_change("set_default"):
            return
        row = self._need_row(saved=True, verb="make it the default")
        if row is None:
            return
        try:
            self.services.profiles.set_default(row.profile.name)
        except (ProfileError, KeyError, OSError) as exc:
            self._error(exc, title="Default not changed")
            return
        self.notify(f"{row.profile.name} is now the default profile.", title="Keys")
        self.reload(select=row.profile.name)

    def action_activate(self) -> None:
        row = self._need_row(verb="use it")
        if row is not None:
            self._activate(row.profile.name)

    @work(exclusive=True, group="keys-activate", exit_on_error=False, description="activate profile")
    async def _activate(self, name: str) -> None:
        ok = await self.ctx.activate_profile(name)
        if ok:
            self.notify(f"Now using profile {name}.", title="Keys")
        self._fill_table(self.selected.profile.name if self.selected else name)

    def action_reload(self) -> None:
        try:
            self.services.profiles.load()
        except ProfileError as exc:
            self._error(exc, title="Profiles")
        self.reload()
        self._load_backend()

    # -- secret store choice ---------------------------------------------------------------------------
    def action_choose_store(self) -> None:
        if self.may_change("choose_store"):
            self._choose_store()

    @work(exclusive=True, group="keys-save", exit_on_error=False, description="choose secret store")
    async def _choose_store(self) -> None:
        secrets = self.services.secrets
        status = await self._in_thread(secrets.keyring_status)
        if status.usable:
            self.notify(f"Client secrets go to the OS keyring ({status.backend}).", title="Secret store")
            return
        kinds = await self._headless_kinds()
        if len(kinds) == 1:  # nothing to choose (the demo: this session only)
            if self.services.demo:
                text = f"Demo mode keeps client secrets {KIND_WORDS[kinds[0]]}: there is nothing to choose."
            else:
                text = f"Client secrets are kept {KIND_WORDS[kinds[0]]}: no other store works here."
            self.notify(text, title="Secret store")
            return
        try:
            await self._ask_store(None)
        except UserCancelled:
            return
        # Say what the next save will really do, not what was picked.
        kind = await self._in_thread(secrets.default_kind)
        if kind is None:
            self.notify("Saving a client secret will ask where to keep it.", title="Secret store")
        elif kind is StoreKind.ENV:
            self.notify(
                f"New client secrets are not stored: ihub reads them from {ENV_CLIENT_SECRET}.",
                title="Secret store",
            )
        else:
            self.notify(f"New client secrets will be kept {KIND_WORDS[kind]}.", title="Secret store")

    # -- reveal / copy the secret ----------------------------------------------------------------------
    def action_reveal(self) -> None:
        field = self.detail.secret_field
        if field.revealed:
            field.hide()
            return
        if self._presenting_refuses():
            return
        self._with_secret("reveal")

    def _presenting_refuses(self) -> bool:
        """In presentation mode a secret is never revealed (copying still works)."""
        if not self.ctx.presenting:
            return False
        self.notify(
            "Presentation mode: secrets stay hidden. c copies the secret without showing it.",
            title="Secret",
            severity="warning",
        )
        return True

    def action_copy_secret(self) -> None:
        self._with_secret("copy")

    @on(SecretField.RevealRequested)
    def _field_reveal(self) -> None:
        if not self._presenting_refuses():
            self._with_secret("reveal")

    @on(SecretField.CopyRequested)
    def _field_copy(self) -> None:
        self._with_secret("copy")

    @work(exclusive=True, group="keys-reveal", exit_on_error=False, description="read secret")
    async def _with_secret(self, what: str) -> None:
        row = self._need_row(verb=what)
        if row is None:
            return
        try:
            secret = await self._read_secret(row.profile)
        except UserCancelled:
            return
        except (SecretStoreError, OSError) as exc:
            self._error(exc, title="Secret")
            return
        if secret is None:
            self.notify(
                f"No client secret stored for {row.profile.name}.", title="Secret", severity="warning"
            )
            return
        field = self.detail.secret_field
        if what == "reveal":
            field.reveal(secret.value)
        else:
            field.copy(secret.value)

    # -- connection test -------------------------------------------------------------------------------
    def action_test(self) -> None:
        row = self._need_row(verb="test it")
        if row is not None:
            self.show_pane("#keys-report")
            self._test(row.profile)

    @work(exclusive=True, group="keys-test", exit_on_error=False, description="connection test")
    async def _test(self, profile: Profile) -> None:
        report = self.query_one("#report", ConnectionReport)
        report.show_running(profile.name)
        try:
            secret = await self._read_secret(profile)
        except UserCancelled:
            report.report = Report(
                profile.name, False, cause="the vault stayed locked: no secret to test with"
            )
            return
        except (SecretStoreError, OSError) as exc:
            report.report = Report(
                profile.name, False, cause=f"the client secret could not be read: {error_text(exc)}"
            )
            return
        if secret is None:
            report.report = Report(
                profile.name, False, cause=f"no client secret is stored for {profile.name}: press e to add it"
            )
            return
        report.report = await run_diagnosis(self.services, profile, secret.value)

    # -- the token -------------------------------------------------------------------------------------
    def action_show_token(self) -> None:
        self._with_token("show")

    def action_copy_token(self) -> None:
        self._with_token("copy")

    @work(exclusive=True, group="keys-token", exit_on_error=False, description="token")
    async def _with_token(self, what: str) -> None:
        row = self._need_row(verb="get a token")
        if row is None:
            return
        try:
            token = await self._token_for(row.profile)
        except UserCancelled:
            return
        except Exception as exc:  # typed API and store errors: one line, no traceback
            self._error(exc, title=f"No token for {row.profile.name}")
            return
        if token is None:
            return
        if what == "copy":
            self._copy_token(token)
            return
        from tui.api.auth import decode_claims

        header = token_header(token.access_token)
        claims = dict(token.claims) or decode_claims(token.access_token)
        self.app.push_screen(
            TokenDialog(header, claims, partial(self._copy_token, token), profile=row.profile.name)
        )

    async def _token_for(self, profile: Profile) -> Token | None:
        """The active connection's token for the active profile; otherwise a fresh token for ``profile``."""
        api = self.ctx.api
        if api is not None and self._active_name() == profile.name:
            return await api.tokens.get()
        secret = await self._read_secret(profile)
        if secret is None:
            self.notify(f"No client secret stored for {profile.name}.", title="Token", severity="warning")
            return None
        client = self.services.connect(profile, secret.value)
        try:
            return await client.tokens.get()
        finally:
            await client.aclose()

    def _copy_token(self, token: Token) -> None:
        self.app.copy_to_clipboard(token.access_token)
        self.notify(
            "The access token was copied to the clipboard (through the terminal, OSC 52).", title="Copied"
        )


def token_header(access_token: str) -> dict[str, Any]:
    """The decoded JOSE header of a JWT (no verification); empty when it is not a JWT."""
    import jwt

    try:
        return dict(jwt.get_unverified_header(access_token))
    except Exception:
        return {}


async def run_diagnosis(services: Services, profile: Profile, secret: str) -> Report:
    """Run the step-by-step diagnosis and turn it into a ``Report`` (no secret, no token in it)."""
    from tui.api.diagnose import diagnose

    try:
        diagnosis = await diagnose(
            profile,
            secret,
            transport=services.transport(),
            environ=services.environ,
            clock=services.clock,
            activity=services.recorder(profile.name),
        )
    except Exception as exc:  # diagnose reports failures itself; this is the last guard against a traceback
        return Report(profile.name, False, style=profile.style, cause=error_text(exc))
    return report_from_diagnosis(diagnosis, profile)


def report_from_diagnosis(diagnosis: Diagnosis, profile: Profile) -> Report:
    steps = tuple(
        ReportStep(step.name, step.ok, f"{step.host}: {step.detail}" if step.host else step.detail)
        for step in diagnosis.steps
    )
    info = diagnosis.token_info
    if info is None:
        return Report(profile.name, False, style=profile.style, steps=steps, cause=diagnosis.cause)
    return Report(
        profile=profile.name,
        ok=diagnosis.ok,
        style=info.style or profile.style,
        tenant=info.tenant or profile.tenant or None,
        client_id=info.client_id or profile.client_id,
        scopes=tuple(info.scopes),
        issued_at=info.issued_at,
        expires_at=info.expires_at,
        round_trip_ms=info.round_trip_ms,
        steps=steps,
        cause=diagnosis.cause,
    )
