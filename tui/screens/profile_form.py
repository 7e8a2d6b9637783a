"""Add, edit or duplicate a connection profile.

The form fills itself from pasted binding keys (the paste area, or any field): the tenant's pop-up
(TokenURL, clientID, clientSecret), the welcome e-mail (Token URL, Client ID, Client Secret, prose around
them ignored) or the App Service pop-up (Access Key = the client id, Secret Key = the client secret; the
token URL is then derived for the gateway's region and marked as derived). It expands region shortcuts
(``eu1``), detects the credential style from the token URL and derives tenant, app name and version from a
client id of the form ``<tenant>-<app>-<version>-<sfx>``.

Every field goes through the one cleaning rule (``tui.config.inputs``): a leading BOM and surrounding
whitespace are dropped, an invisible or control character is refused beside the field, naming it, and
nothing is returned while any field is refused. Warnings (an unknown region, a host without a dot, a token
URL in another region) are shown beside the fields and returned with the result; they do not block saving.

Tab, shift+tab and enter move between fields as priority bindings, and each field runs its own editing
keys itself, so a burst of keys (a fast typist, a password manager's auto-type) is handled in the order it
was typed: nothing lands in a field it has left, nor is inserted after a later backspace. In the paste
area, a tab after a lone label ("Access Key:") is the separator before its value, and two keys typed
without a Token URL line are read once typing pauses, so keys typed (or sent as keys by a terminal without
bracketed paste) in the pop-up's or the e-mail's layout stay in the paste area.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, Switch, TextArea

from tui.config.inputs import InputError, clean_secret, clean_value
from tui.config.profiles import (
    STYLE_APP,
    STYLE_CLIENT,
    BindingKeys,
    Profile,
    ProfileError,
    derive_token_url,
    detect_style,
    expand_gateway,
    gateway_warnings,
    is_bare_label,
    labelled_value,
    normalise_profile,
    parse_binding_keys,
    parse_client_id,
    profile_warnings,
    region_of,
    validate_name,
    validate_token_url,
)
from tui.errors import error_text
from tui.widgets.colours import few_colours


class FormMode(StrEnum):
    ADD = "add"
    EDIT = "edit"
    DUPLICATE = "duplicate"


@dataclass
class ProfileFormResult:
    """What the form returns: the validated profile, when typed or pasted a new client secret (cleaned),
    and the warnings about the profile (``profile_warnings``) to show once it is saved."""

    profile: Profile
    secret: str | None = field(default=None, repr=False)
    mode: FormMode = FormMode.ADD
    original_name: str | None = None
    warnings: tuple[str, ...] = ()


STYLE_OPTIONS: list[tuple[str, str]] = [
    ("Client credentials (/oauth/token)", STYLE_CLIENT),
    ("App credentials (token manager)", STYLE_APP),
]

# The fields derived from the client id.
DERIVED = ("tenant", "app_name", "app_version")
# Each text field and the words its messages use ("the client id contains a space at position 5").
FIELD_WORDS: dict[str, str] = {
    "name": "profile name",
    "gateway": "gateway URL",
    "token_url": "token URL",
    "client_id": "client id",
    "secret": "client secret",
    "tenant": "tenant",
    "app_name": "app name",
    "app_version": "app version",
    "ca_bundle": "CA bundle path",
}
# Fields where a space is not refused as an invisible passenger: a file path may hold one; in the name and
# the URLs the field's own rule refuses it in its own words ("not a valid URL").
SPACES_ALLOWED = frozenset({"ca_bundle", "name", "gateway", "token_url"})
# Where focus goes after a paste: the first of these that still needs the user.
NEEDS_USER_ORDER = (
    "name",
    "gateway",
    "token_url",
    "client_id",
    "secret",
    "tenant",
    "app_name",
    "app_version",
)
# Below this width of the form the hints move under their fields.
NARROW_FORM_WIDTH = 100
# Two keys typed into the paste area (no Token URL line yet) are read after this pause without a key, so a
# Token URL line that follows them (the welcome e-mail's order) still lands in the paste area.
TYPED_KEYS_PAUSE_S = 1.0


class PasteAwareInput(Input):
    """An Input that hands a multi-line paste to the form (binding keys) instead of keeping line one."""

    @dataclass
    class MultiLinePaste(Message):
        input: PasteAwareInput
        text: str

    @dataclass
    class LabelledPaste(Message):
        """One pasted line "Secret Key: ..." : the value goes to the field the label names."""

        input: PasteAwareInput
        key: str
        value: str

    def _on_paste(self, event: events.Paste) -> None:
        # Runs before Input's own handler, which then inserts a one-line paste as usual.
        if self._handed_over(event.text):
            event.stop()
            event.prevent_default()

    def action_paste(self) -> None:
        """ctrl+v: the app's own clipboard (text copied in the app), taken as a terminal's paste is. Input's
        own action put every line of it into this field (a refused paste of binding keys half-filled the
        form); one line is inserted as Input inserts it."""
        text = self.app.clipboard
        if not self._handed_over(text):
            lines = text.splitlines()
            self.replace(lines[0] if lines else "", *self.selection)

    def _handed_over(self, text: str) -> bool:
        """Post a multi-line or a labelled one-line paste to the form; False for a plain line (kept here)."""
        if len(text.strip().splitlines()) > 1:
            self.post_message(self.MultiLinePaste(self, text))
            return True
        if (found := labelled_value(text)) is not None:
            self.post_message(self.LabelledPaste(self, *found))
            return True
        return False

    async def _on_key(self, event: events.Key) -> None:
        # Textual runs a widget's key bindings (backspace, end, ctrl+w, ...) only once the key has bubbled up
        # to the app; keys typed after it are already queued here by then and would be inserted first. Run
        # this field's own bindings here instead, in the order the keys arrived.
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)


class BindingKeysArea(TextArea):
    """The paste area. Remembers that the last change was a paste, so typed text is parsed only once
    complete (ending with a new line, or when leaving the area)."""

    pasted = False

    async def _on_paste(self, event: events.Paste) -> None:
        # Runs before TextArea's own handler inserts the text (and posts Changed).
        self.pasted = True

    def action_paste(self) -> None:
        """ctrl+v: the app's own clipboard, read at once as a terminal's paste is (not as typed lines)."""
        self.pasted = bool(self.app.clipboard) and not self.read_only  # else nothing changes (no Changed)
        super().action_paste()

    @dataclass
    class Left(Message):
        area: BindingKeysArea

    def _on_blur(self, event: events.Blur) -> None:
        self.post_message(self.Left(self))

    async def caught_up(self) -> None:
        """Return once the keys already sent to this area are in its text (a burst of keys is queued here
        while the app dispatches the next ones); at most half a second."""
        done = asyncio.Event()
        if self.call_later(done.set):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await done.wait()

    def waits_for_value(self) -> bool:
        """True when the cursor ends a line that is only a binding-key label ("Access Key:", "clientID")."""
        row, column = self.cursor_location
        line = self.document.get_line(row)
        return column == len(line) and is_bare_label(line)


class ProfileFormScreen(ModalScreen[ProfileFormResult | None]):
    """The profile form. ``existing_names`` are the names a new or renamed profile must not take."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="profileform.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="profileform.cancel"),
        Binding("ctrl+r", "toggle_secret", "Show/hide secret", id="profileform.toggle_secret"),
        # Priority: handled by the app in the order the keys arrive, before the next key is dispatched.
        Binding("tab", "next_field", "Next field", show=False, priority=True, id="profileform.next"),
        Binding(
            "shift+tab",
            "previous_field",
            "Previous field",
            show=False,
            priority=True,
            id="profileform.previous",
        ),
        Binding("enter", "submit_field", "Next field", show=False, priority=True, id="profileform.enter"),
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
        # Field id -> the error shown beside it (from saving, or a refused character while typing).
        self.errors: dict[str, str] = {}
        # The token URL the form derived (App Service keys without a token URL), while it is still shown.
        self.derived_token_url: str | None = None
        # Two keys were pasted without a gateway: derive the token URL once the gateway is typed.
        self._derive_when_gateway = False
        # The name the form suggested (from the tenant), while the user has not changed it.
        self._suggested_name: str | None = None
        # Reads two typed keys once typing pauses (see TYPED_KEYS_PAUSE_S).
        self._typed_keys_timer: Timer | None = None

    # -- layout -------------------------------------------------------------------------------------
    def _row(self, label: str, widget: Input | Select | Switch, key: str) -> Horizontal:
        return Horizontal(
            Label(label, classes="form-label"),
            widget,
            Static("", id=f"hint-{key}", classes="form-hint", markup=False),
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
            name = self._unique_name(f"{p.name}-copy")
        if self.mode is FormMode.ADD:
            secret_placeholder = "client secret (required)"
        elif self.mode is FormMode.EDIT:
            secret_placeholder = "leave empty to keep the stored secret"
        else:
            secret_placeholder = f"leave empty to copy the secret of {p.name if p else 'the original'}"
        env = p.env_fields if p else frozenset()

        def value(attr: str) -> str:
            return str(getattr(p, attr) or "") if p else ""

        def text_input(key: str, initial: str = "", placeholder: str = "", password: bool = False) -> Input:
            return PasteAwareInput(initial, id=key, compact=True, placeholder=placeholder, password=password)

        with Vertical(id="form-box") as box:
            box.border_title = titles[self.mode]
            box.border_subtitle = "ctrl+s save · esc cancel · tab next field"
            with VerticalScroll(id="form-fields"):
                yield Static(
                    "Paste the binding keys here or into any field: TokenURL, clientID, clientSecret, or the "
                    "App Service's Access Key and Secret Key.",
                    classes="form-section",
                    markup=False,
                )
                yield BindingKeysArea(
                    id="binding-keys", compact=True, soft_wrap=True, show_line_numbers=False
                )
                yield Static("", id="hint-binding", classes="form-hint", markup=False)
                yield self._row("Name", text_input("name", name), "name")
                yield self._row(
                    "Gateway", text_input("gateway", value("gateway"), "eu1 or https://…"), "gateway"
                )
                yield self._row(
                    "Token URL",
                    text_input(
                        "token_url", value("token_url"), "https://<tenant>.piam.eu1.mindsphere.io/oauth/token"
                    ),
                    "token_url",
                )
                yield self._row(
                    "Client ID",
                    text_input("client_id", value("client_id"), "<tenant>-<app>-<version>-<id>"),
                    "client_id",
                )
                yield self._row(
                    "Client secret", text_input("secret", "", secret_placeholder, password=True), "secret"
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
                yield self._row("Tenant", text_input("tenant", value("tenant")), "tenant")
                yield self._row("App name", text_input("app_name", value("app_name")), "app_name")
                yield self._row("App version", text_input("app_version", value("app_version")), "app_version")
                yield self._row(
                    "Read-only", Switch(bool(p.read_only) if p else False, id="read_only"), "read_only"
                )
                yield self._row(
                    "Production", Switch(bool(p.production) if p else False, id="production"), "production"
                )
                yield self._row(
                    "CA bundle",
                    text_input("ca_bundle", value("ca_bundle"), "optional: path to a PEM file"),
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
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _unique_name(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3``, ...: a name no profile has yet (at most 64 characters)."""
        base = base[:64]
        if base not in self.existing_names:
            return base
        number = 2
        while True:
            suffix = f"-{number}"
            candidate = base[: 64 - len(suffix)] + suffix
            if candidate not in self.existing_names:
                return candidate
            number += 1

    def on_mount(self) -> None:
        if self.mode is FormMode.EDIT and self.initial is not None:
            # Existing derived values count as the user's own.
            self._touched.update(k for k in DERIVED if getattr(self.initial, k))
        self.set_class(few_colours(self.app), "-few-colours")
        self._fit(self.app.size.width)
        self.query_one("#form-error").display = False
        self._refresh_hints()
        target = "#binding-keys" if self.mode is FormMode.ADD else "#name"
        self.query_one(target).focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        # The box is 110 columns or 96 % of the screen (keys.tcss); narrower, the hints go under the fields.
        self.set_class(min(110, width * 96 // 100) < NARROW_FORM_WIDTH, "-narrow")

    # -- moving between fields (priority bindings: see the module docstring) ----------------------------
    async def action_next_field(self) -> None:
        focused = self.focused
        if isinstance(focused, BindingKeysArea):
            await focused.caught_up()  # the app waits here: the keys after the tab are not dispatched yet
        if isinstance(focused, BindingKeysArea) and focused.waits_for_value():
            # "Access Key:" then tab: the tab separates the label from its value (the pop-up copied by hand,
            # or a paste that a terminal without bracketed paste sends as keys).
            focused.insert("\t")
            return
        self.focus_next()

    def action_previous_field(self) -> None:
        self.focus_previous()

    def action_submit_field(self) -> None:
        """Enter in a text field moves to the next field; anywhere else it does what it does there."""
        if isinstance(self.focused, PasteAwareInput):
            self.focus_next()
            return
        raise SkipAction()

    # -- reading the fields -------------------------------------------------------------------------
    def _input(self, key: str) -> Input:
        return self.query_one(f"#{key}", Input)

    def _text(self, key: str) -> str:
        return self._input(key).value.strip()

    def _clean(self, key: str) -> str:
        """The field's value through the cleaning rule; raises ``InputError`` naming a refused character."""
        return clean_value(self._input(key).value, FIELD_WORDS[key], allow_spaces=key in SPACES_ALLOWED)

    @property
    def style_value(self) -> str:
        value = self.query_one("#style", Select).value
        return value if isinstance(value, str) else STYLE_CLIENT

    def _gateway_url(self) -> str | None:
        """The gateway field as a URL, or None while it is empty or not valid."""
        try:
            return expand_gateway(self._clean("gateway"))
        except InputError:
            return None

    # -- hints beside the fields --------------------------------------------------------------------
    def _hint(self, key: str) -> tuple[str, str]:
        """(text, kind) for the hint beside ``key``; kind is "", "error", "warning" or "note"."""
        if key in self.errors:
            return self.errors[key], "error"
        if key == "name":
            if self._suggested_name and self._text("name") == self._suggested_name:
                return "suggested from the tenant", "note"
            return "", ""
        if key == "gateway":
            raw = self._text("gateway")
            if not raw:
                return "e.g. eu1", ""
            try:
                url = expand_gateway(raw)
            except ProfileError as exc:
                return error_text(exc), "error"
            warnings = gateway_warnings(raw)
            if warnings:  # the warning names the URL
                return "\n".join(f"⚠ {w}" for w in warnings), "warning"
            return f"→ {url}", ""
        if key == "token_url":
            return self._token_url_hint()
        if key == "client_id":
            return "the Access Key of the App Service", ""
        if key == "secret":
            stored = (
                f"; stored {self.secret_where}" if self.mode is FormMode.EDIT and self.secret_where else ""
            )
            if self.mode is FormMode.EDIT and not self.secret_where:
                stored = "; none stored yet"
            return f"the Secret Key of the App Service{stored}", ""
        if key == "style":
            url = self._text("token_url")
            if url and detect_style(url) == self.style_value:
                return "detected from the token URL", ""
            if url:
                return "differs from what the token URL suggests", "warning"
            return "", ""
        if key in DERIVED:
            if key not in self._touched and parse_client_id(self._text("client_id")) and self._text(key):
                return "derived from the client id", ""
            return "", ""
        if key == "read_only":
            return "no writes, deletes or uploads with this profile", ""
        if key == "production":
            return "marked in the header; deletes and overwrites ask for the name typed", ""
        return "", ""

    def _token_url_hint(self) -> tuple[str, str]:
        url = self._text("token_url")
        if not url:
            if self._derive_when_gateway:
                return (
                    "set the Gateway to derive it, or paste the Token URL from the welcome e-mail",
                    "warning",
                )
            return "", ""
        try:
            url = validate_token_url(url)
        except ProfileError as exc:
            return error_text(exc), "error"
        warnings = self._token_url_warnings(url)
        if self.derived_token_url is not None and url == self.derived_token_url:
            region = region_of(url)
            where = f" for region {region}" if region else ""
            text = f"derived{where}: replace it with the Token URL of the welcome e-mail if that differs"
            return (text + "".join(f"\n⚠ {w}" for w in warnings)), "note"
        if warnings:
            return "\n".join(f"⚠ {w}" for w in warnings), "warning"
        return "", ""

    def _token_url_warnings(self, token_url: str) -> list[str]:
        """The ``profile_warnings`` about the token URL (the gateway's own are shown beside the gateway)."""
        gateway = self._gateway_url()
        if gateway is None:
            return []
        probe = Profile(name="probe", gateway=gateway, token_url=token_url, client_id="probe")
        own = gateway_warnings(gateway)
        region = region_of(token_url)
        if own and region is not None and region == region_of(gateway):
            # The gateway's warning about its region already says it; the same region needs no second one.
            own = [*own, *(w for w in profile_warnings(probe) if f"{region!r}" in w)]
        return [w for w in profile_warnings(probe) if w not in own]

    def _set_hint(self, key: str) -> None:
        text, kind = self._hint(key)
        hint = self.query_one(f"#hint-{key}", Static)
        hint.update(text)
        for name in ("error", "warning", "note"):
            hint.set_class(kind == name, f"-{name}")
        hint.set_class(not text, "-empty")
        self.query_one(f"#row-{key}").set_class(key in self.errors, "-invalid")

    def _refresh_hints(self, *keys: str) -> None:
        for key in keys or (*FIELD_WORDS, "style", "read_only", "production"):
            self._set_hint(key)
        if not self.errors:
            self.query_one("#form-error").display = False

    def _set_binding_hint(self, text: str, kind: str = "") -> None:
        hint = self.query_one("#hint-binding", Static)
        hint.update(text)
        for name in ("error", "warning", "note"):
            hint.set_class(kind == name, f"-{name}")
        hint.set_class(not text, "-empty")

    # -- reacting to changes ------------------------------------------------------------------------
    def _check_field(self, key: str) -> None:
        """A change in ``key``: drop its old error, refuse an invisible or control character at once."""
        self.errors.pop(key, None)
        try:
            if key == "secret":
                clean_value(self._input(key).value, FIELD_WORDS[key])
            else:
                self._clean(key)
        except InputError as exc:
            self.errors[key] = error_text(exc)

    @on(Input.Changed, "#gateway")
    def _gateway_changed(self) -> None:
        self._check_field("gateway")
        self._rederive_token_url()
        self._refresh_hints("gateway", "token_url")

    @on(Input.Changed, "#token_url")
    def _token_url_changed(self, event: Input.Changed) -> None:
        self._check_field("token_url")
        if not self._filling and event.input.has_focus:
            # The user's own token URL: no longer derived.
            self.derived_token_url = None
            self._derive_when_gateway = False
        url = self._text("token_url")
        if url:
            detected = detect_style(url)
            if detected != self.style_value:
                self.query_one("#style", Select).value = detected
        self._refresh_hints("token_url", "style")

    @on(Select.Changed, "#style")
    def _style_changed(self) -> None:
        self.errors.pop("style", None)
        self._refresh_hints("style")

    @on(Input.Changed, "#client_id")
    def _client_id_changed(self) -> None:
        self._check_field("client_id")
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
        self._rederive_token_url()
        self._refresh_hints("client_id", "token_url", *DERIVED)

    @on(Input.Changed, "#tenant, #app_name, #app_version")
    def _derived_changed(self, event: Input.Changed) -> None:
        key = event.input.id or ""
        self._check_field(key)
        if not self._filling and event.input.has_focus:
            if event.value.strip():
                self._touched.add(key)
            else:
                self._touched.discard(key)
        self._refresh_hints(key)

    @on(Input.Changed, "#name, #secret, #ca_bundle")
    def _plain_changed(self, event: Input.Changed) -> None:
        key = event.input.id or ""
        self._check_field(key)
        self._refresh_hints(key)

    def _rederive_token_url(self) -> None:
        """Keep a derived token URL in step with the gateway and the client id (never the user's own)."""
        if self.derived_token_url is None and not self._derive_when_gateway:
            return
        if self.derived_token_url is not None and self._text("token_url") != self.derived_token_url:
            return
        gateway = self._gateway_url()
        parts = parse_client_id(self._text("client_id"))
        if gateway is None or parts is None:
            return
        try:
            derived = derive_token_url(gateway, parts.tenant)
        except ProfileError:
            return
        self._filling = True
        try:
            self._input("token_url").value = derived
        finally:
            self._filling = False
        if self._derive_when_gateway and "still needed" in str(
            self.query_one("#hint-binding", Static).content
        ):
            self._set_binding_hint(
                "✔ filled Client ID and Client secret from the binding keys; the Token URL is derived (see "
                "beside it)"
            )
        self.derived_token_url = derived
        self._derive_when_gateway = False

    # -- binding keys ---------------------------------------------------------------------------------
    @on(TextArea.Changed, "#binding-keys")
    def _binding_text_changed(self, event: TextArea.Changed) -> None:
        area = event.text_area
        pasted = bool(getattr(area, "pasted", False))
        if isinstance(area, BindingKeysArea):
            area.pasted = False
        self._parse_binding_area(area, final=pasted or area.text.endswith("\n"), typed=not pasted)

    @on(BindingKeysArea.Left)
    def _binding_area_left(self, message: BindingKeysArea.Left) -> None:
        self._parse_binding_area(message.area, final=True, typed=False)

    def _parse_binding_area(self, area: TextArea, *, final: bool, typed: bool) -> None:
        if self._typed_keys_timer is not None:
            self._typed_keys_timer.stop()
            self._typed_keys_timer = None
        text = area.text
        if not text.strip():
            # Emptied (also right after a fill): keep a success note, drop a stale error or waiting note.
            if "✔" not in str(self.query_one("#hint-binding", Static).content):
                self._set_binding_hint("")
            return
        if not final:
            self._set_binding_hint("waiting: the keys are read at the end of the last line (enter) or on tab")
            return
        try:
            keys = parse_binding_keys(text, gateway=self._gateway_url())
        except ProfileError as exc:
            if typed:  # typed line by line: more may follow
                self._set_binding_hint(f"waiting for more lines: {error_text(exc)}")
            else:
                self._set_binding_hint(error_text(exc), "error")
            return
        if typed and (keys.token_url_derived or not keys.token_url):
            # The App Service's two keys typed line by line: a Token URL line may follow.
            self._set_binding_hint(
                "waiting: a Token URL line may follow; the keys are read when typing pauses"
            )
            self._typed_keys_timer = self.set_timer(
                TYPED_KEYS_PAUSE_S, lambda: self._parse_binding_area(area, final=True, typed=False)
            )
            return
        # The pasted secret now lives in the masked field only.
        area.text = ""
        self._fill_from(keys)

    @on(PasteAwareInput.MultiLinePaste)
    def _multi_line_paste(self, message: PasteAwareInput.MultiLinePaste) -> None:
        try:
            keys = parse_binding_keys(message.text, gateway=self._gateway_url())
        except ProfileError as exc:
            self._set_binding_hint(f"the pasted text is not binding keys: {error_text(exc)}", "error")
            return
        self._fill_from(keys)

    @on(PasteAwareInput.LabelledPaste)
    def _labelled_paste(self, message: PasteAwareInput.LabelledPaste) -> None:
        key = "secret" if message.key == "client_secret" else message.key
        target = self._input(key)
        target.value = message.value
        target.focus()
        label = {"token_url": "Token URL", "client_id": "Client ID", "secret": "Client secret"}[key]
        self._set_binding_hint(f"✔ the pasted line filled {label}")

    def _fill_from(self, keys: BindingKeys) -> None:
        self._filling = True
        try:
            if keys.token_url:
                self._input("token_url").value = keys.token_url
                self.query_one("#style", Select).value = detect_style(keys.token_url)
            self.derived_token_url = keys.token_url if keys.token_url_derived else None
            # App Service keys without a gateway: derive the token URL once the gateway is typed (unless
            # the user already typed a token URL of their own).
            self._derive_when_gateway = not keys.token_url and not self._text("token_url")
            self._input("client_id").value = keys.client_id
            self._input("secret").value = keys.client_secret
            if keys.token_url and not keys.token_url_derived and not self._text("gateway"):
                derived = _gateway_from_token_url(keys.token_url)
                if derived:
                    self._input("gateway").value = derived
            name = self._text("name")
            if not name or name == self._suggested_name:
                parts = parse_client_id(keys.client_id)
                if parts is not None:
                    self._suggested_name = self._unique_name(parts.tenant)
                    self._input("name").value = self._suggested_name
        finally:
            self._filling = False
        filled = (
            "Client ID and Client secret"
            if not keys.token_url or keys.token_url_derived
            else ("Token URL, Client ID and Client secret")
        )
        note = f"✔ filled {filled} from the binding keys"
        if keys.token_url_derived:
            note += "; the Token URL is derived (see beside it)"
        elif not keys.token_url:
            note += "; the Token URL is still needed"
        self._set_binding_hint(note)
        self._refresh_hints()
        self._focus_first_needed()

    def field_needs_user(self, key: str) -> bool:
        """True when ``key`` is empty where a value is needed, or holds a value that is refused."""
        if key in self.errors:
            return True
        try:
            value = self._clean(key)
        except InputError:
            return True
        if key == "name":
            try:
                validate_name(value)
            except ProfileError:
                return True
            return value in self.existing_names and not (
                self.mode is FormMode.EDIT and value == self.original_name
            )
        if key == "gateway":
            return self._gateway_url() is None
        if key == "token_url":
            try:
                validate_token_url(value)
            except ProfileError:
                return True
            return False
        if key == "client_id":
            return not value
        if key == "secret":
            if not value:
                return self.mode is FormMode.ADD
            try:
                clean_secret(value)
            except InputError:
                return True
            return False
        if key in DERIVED:
            return self.style_value == STYLE_APP and not value
        return False

    def _focus_first_needed(self) -> None:
        """After a paste: focus the first field that needs the user, or Save when none does."""
        target: Widget = self.query_one("#save", Button)
        for key in NEEDS_USER_ORDER:
            if self.field_needs_user(key):
                target = self._input(key)
                break
        target.focus()

    # -- errors ----------------------------------------------------------------------------------------
    def _show_errors(self, errors: dict[str, str]) -> None:
        self.errors = {k: v for k, v in errors.items() if k != "form"}
        self._refresh_hints()
        summary = self.query_one("#form-error", Static)
        count = len(errors)
        first = next(iter(errors.values()))
        summary.update(f"✘ {first}" if count == 1 else f"✘ {count} problems: see the fields marked in red")
        summary.display = True
        first_key = next((k for k in errors if k != "form"), None)
        if first_key is not None:
            self.query_one(f"#{first_key}").focus()

    def validate(self) -> ProfileFormResult | dict[str, str]:
        """The result, or field id -> error message (one plain line each)."""
        errors: dict[str, str] = {}
        cleaned: dict[str, str] = {}
        for key in FIELD_WORDS:
            if key == "secret":
                continue
            try:
                cleaned[key] = self._clean(key)
            except InputError as exc:
                errors[key] = error_text(exc)
                cleaned[key] = ""
        name = cleaned["name"]
        if "name" not in errors:
            try:
                name = validate_name(name)
            except ProfileError as exc:
                errors["name"] = error_text(exc)
            else:
                renaming_self = self.mode is FormMode.EDIT and name == self.original_name
                if name in self.existing_names and not renaming_self:
                    errors["name"] = f"a profile named {name!r} already exists"
        gateway = token_url = ""
        if "gateway" not in errors:
            try:
                gateway = expand_gateway(cleaned["gateway"])
            except ProfileError as exc:
                errors["gateway"] = error_text(exc)
        if "token_url" not in errors:
            try:
                token_url = validate_token_url(cleaned["token_url"])
            except ProfileError as exc:
                errors["token_url"] = error_text(exc)
        client_id = cleaned["client_id"]
        if "client_id" not in errors and not client_id:
            errors["client_id"] = "the client id is empty"
        secret: str | None = None
        raw_secret = self._input("secret").value
        if raw_secret.strip() or self.mode is FormMode.ADD:
            try:
                secret = clean_secret(raw_secret)
            except InputError as exc:
                message = error_text(exc)
                if not raw_secret.strip():
                    message = "the client secret is empty (paste the binding keys or type it)"
                errors["secret"] = message
        style = self.style_value
        tenant, app_name, app_version = (cleaned[k] for k in DERIVED)
        if style == STYLE_APP:
            for key, words in (
                ("tenant", "a tenant"),
                ("app_name", "an app name"),
                ("app_version", "an app version"),
            ):
                if not cleaned[key] and key not in errors:
                    errors[key] = f"app credentials need {words}"
        ca_bundle = cleaned["ca_bundle"] or None
        if ca_bundle and "ca_bundle" not in errors and not Path(ca_bundle).expanduser().is_file():
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
            production=self.query_one("#production", Switch).value,
            ca_bundle=ca_bundle,
            env_fields=self.initial.env_fields
            if self.initial and self.mode is FormMode.EDIT
            else frozenset(),
        )
        try:
            profile = normalise_profile(profile)
        except ProfileError as exc:
            return {"form": error_text(exc)}
        return ProfileFormResult(
            profile, secret, self.mode, self.original_name, tuple(profile_warnings(profile))
        )

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
