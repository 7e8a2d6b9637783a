"""Add, edit or duplicate a connection profile.

The form fills itself from the three lines of a tenant's binding-keys pop-up (pasted into the paste area
or into any field), expands region shortcuts (``eu1``), detects the credential style from the token URL
and derives tenant, app name and version from a client id of the form ``<tenant>-<app>-<version>-<sfx>``.
Errors are shown next to the field they concern and the form stays open until the input is valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, Switch, TextArea

from tui.config.profiles import (
    STYLE_APP,
    STYLE_CLIENT,
    BindingKeys,
    Profile,
    ProfileError,
    detect_style,
    expand_gateway,
    normalise_profile,
    parse_binding_keys,
    parse_client_id,
    validate_name,
    validate_token_url,
)


class FormMode(StrEnum):
    ADD = "add"
    EDIT = "edit"
    DUPLICATE = "duplicate"


@dataclass
class ProfileFormResult:
    """What the form returns: the validated profile and, when typed or pasted, a new client secret."""

    profile: Profile
    secret: str | None = field(default=None, repr=False)
    mode: FormMode = FormMode.ADD
    original_name: str | None = None


STYLE_OPTIONS: list[tuple[str, str]] = [
    ("Client credentials (/oauth/token)", STYLE_CLIENT),
    ("App credentials (token manager)", STYLE_APP),
]

# Form field id -> the Profile field it edits (the secret is not a profile field).
DERIVED = ("tenant", "app_name", "app_version")


class PasteAwareInput(Input):
    """An Input that hands a multi-line paste to the form (binding keys) instead of keeping line one."""

    @dataclass
    class MultiLinePaste(Message):
        input: PasteAwareInput
        text: str

    def _on_paste(self, event: events.Paste) -> None:
        # Runs before Input's own handler, which then inserts a one-line paste as usual.
        if len(event.text.strip().splitlines()) > 1:
            event.stop()
            event.prevent_default()
            self.post_message(self.MultiLinePaste(self, event.text))


class BindingKeysArea(TextArea):
    """The paste area. Remembers that the last change was a paste, so typed text is parsed only once
    complete (ending with a new line, or when leaving the area)."""

    pasted = False

    async def _on_paste(self, event: events.Paste) -> None:
        # Runs before TextArea's own handler inserts the text (and posts Changed).
        self.pasted = True

    @dataclass
    class Left(Message):
        area: BindingKeysArea

    def _on_blur(self, event: events.Blur) -> None:
        self.post_message(self.Left(self))


class ProfileFormScreen(ModalScreen[ProfileFormResult | None]):
    """The profile form. ``existing_names`` are the names a new or renamed profile must not take."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="profileform.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="profileform.cancel"),
        Binding("ctrl+r", "toggle_secret", "Show/hide secret", id="profileform.toggle_secret"),
    ]

    def __init__(
        self,
        mode: FormMode = FormMode.ADD,
        profile: Profile | None = None,
        *,
        existing_names: list[str] | tuple[str, ...] = (),
        secret_where: str | None = None,
    ) -> None:
        super().__init__(classes="profile-form")
        self.mode = mode
        self.initial = profile
        # The edited profile, or the one a duplicate is made from.
        self.original_name = profile.name if profile is not None and mode is not FormMode.ADD else None
        self.existing_names = set(existing_names)
        self.secret_where = secret_where
        # Which derived fields the user typed into (those are no longer derived from the client id).
        self._touched: set[str] = set()
        self._filling = False
        self.errors: dict[str, str] = {}

    # -- layout -------------------------------------------------------------------------------------
    def _row(self, label: str, widget: Input | Select | Switch, key: str, hint: str = "") -> Horizontal:
        return Horizontal(
            Label(label, classes="form-label"),
            widget,
            Static(hint, id=f"hint-{key}", classes="form-hint", markup=False),
            classes="form-row",
            id=f"row-{key}",
        )

    def compose(self) -> ComposeResult:
        p = self.initial
        titles = {
            FormMode.ADD: "Add a profile",
            FormMode.EDIT: f"Edit profile {p.name if p else ''}",
            FormMode.DUPLICATE: f"Duplicate profile {p.name if p else ''}",
        }
        name = p.name if p else ""
        if self.mode is FormMode.DUPLICATE and p is not None:
            name = self._copy_name(p.name)
        if self.mode is FormMode.ADD:
            secret_placeholder = "client secret (required)"
        elif self.mode is FormMode.EDIT:
            secret_placeholder = "leave empty to keep the stored secret"
        else:
            secret_placeholder = f"leave empty to copy the secret of {p.name if p else 'the original'}"
        env = p.env_fields if p else frozenset()

        def value(attr: str) -> str:
            return str(getattr(p, attr) or "") if p else ""

        with Vertical(id="form-box") as box:
            box.border_title = titles[self.mode]
            box.border_subtitle = "ctrl+s save · esc cancel · tab next field"
            with VerticalScroll(id="form-fields"):
                yield Label(
                    "Paste the binding keys (TokenURL, clientID, clientSecret) here or into any field:",
                    classes="form-section",
                )
                yield BindingKeysArea(
                    id="binding-keys", compact=True, soft_wrap=True, show_line_numbers=False
                )
                yield Static("", id="hint-binding", classes="form-hint", markup=False)
                yield self._row("Name", PasteAwareInput(name, id="name", compact=True), "name")
                yield self._row(
                    "Gateway",
                    PasteAwareInput(
                        value("gateway"), id="gateway", compact=True, placeholder="eu1 or https://…"
                    ),
                    "gateway",
                )
                yield self._row(
                    "Token URL",
                    PasteAwareInput(
                        value("token_url"),
                        id="token_url",
                        compact=True,
                        placeholder="https://<tenant>.piam.eu1.mindsphere.io/oauth/token",
                    ),
                    "token_url",
                )
                yield self._row(
                    "Client ID",
                    PasteAwareInput(
                        value("client_id"),
                        id="client_id",
                        compact=True,
                        placeholder="<tenant>-<app>-<version>-<id>",
                    ),
                    "client_id",
                )
                yield self._row(
                    "Client secret",
                    PasteAwareInput(id="secret", password=True, compact=True, placeholder=secret_placeholder),
                    "secret",
                    self._secret_hint(),
                )
                yield self._row(
                    "Credential style",
                    Select(
                        STYLE_OPTIONS,
                        value=p.style if p else STYLE_CLIENT,
                        allow_blank=False,
                        id="style",
                        compact=True,
                    ),
                    "style",
                )
                yield self._row(
                    "Tenant", PasteAwareInput(value("tenant"), id="tenant", compact=True), "tenant"
                )
                yield self._row(
                    "App name", PasteAwareInput(value("app_name"), id="app_name", compact=True), "app_name"
                )
                yield self._row(
                    "App version",
                    PasteAwareInput(value("app_version"), id="app_version", compact=True),
                    "app_version",
                )
                yield self._row(
                    "Read-only",
                    Switch(bool(p.read_only) if p else False, id="read_only"),
                    "read_only",
                    "no writes, deletes or uploads with this profile",
                )
                yield self._row(
                    "CA bundle",
                    PasteAwareInput(
                        value("ca_bundle"),
                        id="ca_bundle",
                        compact=True,
                        placeholder="optional: path to a PEM file",
                    ),
                    "ca_bundle",
                )
                if env:
                    names = ", ".join(sorted(env))
                    yield Static(
                        f"⚑ {names} currently come from IHUB_* environment variables; "
                        "the values shown are the saved ones.",
                        id="form-env",
                        classes="form-env",
                        markup=False,
                    )
            yield Static("", id="form-error", markup=False)
            with Horizontal(id="form-buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def _secret_hint(self) -> str:
        if self.mode is FormMode.EDIT and self.secret_where:
            return f"stored: {self.secret_where}"
        if self.mode is FormMode.EDIT:
            return "none stored yet"
        return ""

    @staticmethod
    def _copy_name(name: str) -> str:
        return f"{name}-copy"[:64]

    def on_mount(self) -> None:
        if self.mode is FormMode.EDIT and self.initial is not None:
            # Existing derived values count as the user's own.
            self._touched.update(k for k in DERIVED if getattr(self.initial, k))
        self.query_one("#form-error").display = False
        self._update_gateway_hint()
        self._update_derived_hints()
        self._update_style_hint()
        target = "#binding-keys" if self.mode is FormMode.ADD else "#name"
        self.query_one(target).focus()

    # -- reading the fields -------------------------------------------------------------------------
    def _input(self, key: str) -> Input:
        return self.query_one(f"#{key}", Input)

    def _text(self, key: str) -> str:
        return self._input(key).value.strip()

    @property
    def style_value(self) -> str:
        value = self.query_one("#style", Select).value
        return value if isinstance(value, str) else STYLE_CLIENT

    # -- live hints ----------------------------------------------------------------------------------
    def _set_hint(self, key: str, text: str, *, error: bool = False) -> None:
        hint = self.query_one(f"#hint-{key}", Static)
        hint.update(text)
        hint.set_class(error, "-error")

    def _update_gateway_hint(self) -> None:
        raw = self._text("gateway")
        if not raw:
            self._set_hint("gateway", "e.g. eu1")
            return
        try:
            self._set_hint("gateway", f"→ {expand_gateway(raw)}")
        except ProfileError as exc:
            self._set_hint("gateway", str(exc), error=True)

    def _update_style_hint(self) -> None:
        url = self._text("token_url")
        if url and detect_style(url) == self.style_value:
            self._set_hint("style", "detected from the token URL")
        elif url:
            self._set_hint("style", "differs from what the token URL suggests")
        else:
            self._set_hint("style", "")

    def _update_derived_hints(self) -> None:
        parts = parse_client_id(self._text("client_id"))
        for key in DERIVED:
            if key in self._touched:
                self._set_hint(key, "")
            elif parts is not None and self._text(key):
                self._set_hint(key, "derived from the client id")
            else:
                self._set_hint(key, "")

    @on(Input.Changed, "#gateway")
    def _gateway_changed(self) -> None:
        self._clear_error("gateway")
        self._update_gateway_hint()

    @on(Input.Changed, "#token_url")
    def _token_url_changed(self) -> None:
        self._clear_error("token_url")
        url = self._text("token_url")
        if url:
            detected = detect_style(url)
            if detected != self.style_value:
                self.query_one("#style", Select).value = detected
        self._update_style_hint()

    @on(Select.Changed, "#style")
    def _style_changed(self) -> None:
        self._clear_error("style")
        self._update_style_hint()

    @on(Input.Changed, "#client_id")
    def _client_id_changed(self) -> None:
        self._clear_error("client_id")
        parts = parse_client_id(self._text("client_id"))
        if parts is not None:
            values = {"tenant": parts.tenant, "app_name": parts.app, "app_version": parts.version}
            self._filling = True
            try:
                for key, value in values.items():
                    if key not in self._touched:
                        self._input(key).value = value
            finally:
                self._filling = False
        self._update_derived_hints()

    @on(Input.Changed, "#tenant, #app_name, #app_version")
    def _derived_changed(self, event: Input.Changed) -> None:
        key = event.input.id or ""
        self._clear_error(key)
        if not self._filling and event.input.has_focus:
            if event.value.strip():
                self._touched.add(key)
            else:
                self._touched.discard(key)
            self._update_derived_hints()

    @on(Input.Changed, "#name, #secret, #ca_bundle")
    def _plain_changed(self, event: Input.Changed) -> None:
        self._clear_error(event.input.id or "")

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    # -- binding keys ---------------------------------------------------------------------------------
    @on(TextArea.Changed, "#binding-keys")
    def _binding_text_changed(self, event: TextArea.Changed) -> None:
        area = event.text_area
        complete = getattr(area, "pasted", False) or area.text.endswith("\n")
        if isinstance(area, BindingKeysArea):
            area.pasted = False
        self._parse_binding_area(area, final=complete)

    @on(BindingKeysArea.Left)
    def _binding_area_left(self, message: BindingKeysArea.Left) -> None:
        self._parse_binding_area(message.area, final=True)

    def _parse_binding_area(self, area: TextArea, *, final: bool) -> None:
        text = area.text
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            # Emptied (also right after a fill): keep a success note, drop a stale error or waiting note.
            if "✔" not in str(self.query_one("#hint-binding", Static).content):
                self._set_hint("binding", "")
            return
        if not final or len(lines) < 3:
            self._set_hint("binding", "waiting for TokenURL, clientID and clientSecret…")
            return
        try:
            keys = parse_binding_keys(text)
        except ProfileError as exc:
            self._set_hint("binding", str(exc), error=True)
            return
        self._fill_from(keys)
        # The pasted secret now lives in the masked field only.
        area.text = ""
        self._set_hint("binding", "✔ filled Token URL, Client ID and Client secret from the binding keys")

    @on(PasteAwareInput.MultiLinePaste)
    def _multi_line_paste(self, message: PasteAwareInput.MultiLinePaste) -> None:
        try:
            keys = parse_binding_keys(message.text)
        except ProfileError as exc:
            self._set_hint("binding", f"the pasted text is not binding keys: {exc}", error=True)
            return
        self._fill_from(keys)
        self._set_hint("binding", "✔ filled Token URL, Client ID and Client secret from the binding keys")

    def _fill_from(self, keys: BindingKeys) -> None:
        self._input("token_url").value = keys.token_url
        self._input("client_id").value = keys.client_id
        self._input("secret").value = keys.client_secret
        self.query_one("#style", Select).value = detect_style(keys.token_url)
        if not self._text("gateway"):
            derived = _gateway_from_token_url(keys.token_url)
            if derived:
                self._input("gateway").value = derived
        if not self._text("name"):
            parts = parse_client_id(keys.client_id)
            if parts is not None:
                self._input("name").value = parts.tenant
        self._update_style_hint()

    # -- errors ----------------------------------------------------------------------------------------
    def _clear_error(self, key: str) -> None:
        if key in self.errors:
            del self.errors[key]
            self.query_one(f"#row-{key}").remove_class("-invalid")
            if key == "gateway":
                self._update_gateway_hint()
            elif key in DERIVED:
                self._update_derived_hints()
            elif key == "style":
                self._update_style_hint()
            else:
                self._set_hint(key, self._secret_hint() if key == "secret" else "")
            if not self.errors:
                self.query_one("#form-error").display = False

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        for key, message in errors.items():
            if key == "form":
                continue
            self.query_one(f"#row-{key}").add_class("-invalid")
            self._set_hint(key, message, error=True)
        summary = self.query_one("#form-error", Static)
        count = len(errors)
        first = next(iter(errors.values()))
        summary.update(f"✘ {first}" if count == 1 else f"✘ {count} problems: see the fields marked in red")
        summary.display = True
        first_key = next((k for k in errors if k != "form"), None)
        if first_key is not None:
            self.query_one(f"#{first_key}").focus()

    def validate(self) -> ProfileFormResult | dict[str, str]:
        """The result, or field id -> error message."""
        errors: dict[str, str] = {}
        name = self._text("name")
        try:
            name = validate_name(name)
        except ProfileError as exc:
            errors["name"] = str(exc)
        else:
            renaming_self = self.mode is FormMode.EDIT and name == self.original_name
            if name in self.existing_names and not renaming_self:
                errors["name"] = f"a profile named {name!r} already exists"
        try:
            gateway = expand_gateway(self._text("gateway"))
        except ProfileError as exc:
            errors["gateway"] = str(exc)
            gateway = ""
        try:
            token_url = validate_token_url(self._text("token_url"))
        except ProfileError as exc:
            errors["token_url"] = str(exc)
            token_url = ""
        client_id = self._text("client_id")
        if not client_id:
            errors["client_id"] = "the client id is empty"
        elif any(ch.isspace() for ch in client_id):
            errors["client_id"] = "the client id contains spaces"
        secret = self._input("secret").value.strip()
        if any(ch.isspace() for ch in secret):
            errors["secret"] = "the client secret contains spaces"
        elif not secret and self.mode is FormMode.ADD:
            errors["secret"] = "the client secret is empty (paste the binding keys or type it)"
        style = self.style_value
        tenant, app_name, app_version = (self._text(k) for k in DERIVED)
        if style == STYLE_APP:
            if not tenant:
                errors["tenant"] = "app credentials need a tenant"
            if not app_name:
                errors["app_name"] = "app credentials need an app name"
            if not app_version:
                errors["app_version"] = "app credentials need an app version"
        ca_bundle = self._text("ca_bundle") or None
        if ca_bundle and not Path(ca_bundle).expanduser().is_file():
            errors["ca_bundle"] = f"no such file: {ca_bundle}"
        if errors:
            return errors
        profile = Profile(
            name=name,
            gateway=gateway,
            token_url=token_url,
            client_id=client_id,
            style=style,
            tenant=tenant,
            app_name=app_name,
            app_version=app_version,
            read_only=self.query_one("#read_only", Switch).value,
            ca_bundle=ca_bundle,
            env_fields=self.initial.env_fields
            if self.initial and self.mode is FormMode.EDIT
            else frozenset(),
        )
        try:
            profile = normalise_profile(profile)
        except ProfileError as exc:
            return {"form": str(exc)}
        return ProfileFormResult(profile, secret or None, self.mode, self.original_name)

    # -- actions ---------------------------------------------------------------------------------------
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        outcome = self.validate()
        if isinstance(outcome, dict):
            self._show_errors(outcome)
            return
        self._input("secret").value = ""
        self.dismiss(outcome)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self._input("secret").value = ""
        self.dismiss(None)

    def action_toggle_secret(self) -> None:
        field = self._input("secret")
        field.password = not field.password


def _gateway_from_token_url(token_url: str) -> str | None:
    """``https://acme.piam.eu1.mindsphere.io/oauth/token`` -> ``https://gateway.eu1.mindsphere.io``;
    a simulator-style URL (``{gateway}/oauth/token``) -> its origin."""
    from urllib.parse import urlsplit

    parts = urlsplit(token_url)
    host = parts.hostname or ""
    labels = host.split(".")
    try:
        if len(labels) >= 4 and labels[1] == "piam":
            return expand_gateway("https://gateway." + ".".join(labels[2:]))
        if host.startswith("gateway.") or not host.endswith("mindsphere.io"):
            return expand_gateway(f"{parts.scheme}://{parts.netloc}")
    except ProfileError:
        return None
    return None
