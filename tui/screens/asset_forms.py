"""Dialogs for the Assets area's writes: create a child asset, edit one, delete one with a typed confirmation.

The dialogs only collect and check input (every field through ``clean_value``; numbers, booleans and
timestamps against the variable's data type); the screen sends the request with ``If-Match`` and says
what happened. Nothing is sent from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from tui.api.models import Asset, AssetType, VariableDefinition
from tui.config.inputs import InputError, clean_value
from tui.flows.assets import typed_value

LOCATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("streetAddress", "Street"),
    ("postalCode", "Postal code"),
    ("locality", "Locality"),
    ("region", "Region"),
    ("country", "Country"),
    ("latitude", "Latitude"),
    ("longitude", "Longitude"),
)


@dataclass
class CreateRequest:
    """What the create form returns."""

    type_id: str
    name: str
    external_id: str | None = None
    description: str | None = None
    variables: list[dict[str, Any]] = field(default_factory=list)


def check_variable(definition: VariableDefinition, text: str) -> str:
    """A typed value for a variable, cleaned and checked against its data type; returned as the string
    the API takes (reference 2.4). Raises ``InputError``."""
    value = clean_value(text, f"value of {definition.name}", allow_spaces=True)
    kind = (definition.data_type or "").upper()
    typed = typed_value(value, kind)
    if kind in ("INT", "LONG", "DOUBLE") and isinstance(typed, str):
        raise InputError(f"{definition.name} must be a {'whole ' if kind != 'DOUBLE' else ''}number")
    if kind == "BOOLEAN" and isinstance(typed, str):
        raise InputError(f"{definition.name} must be true or false")
    if kind == "TIMESTAMP" and isinstance(typed, str):
        raise InputError(f"{definition.name} must be a time such as 2024-03-01T10:00:00Z")
    if kind == "STRING" and definition.length and len(value) > definition.length:
        raise InputError(f"{definition.name} is longer than {definition.length} characters")
    return value


def _row(label: str, widget: Input | Select[str], hint: str = "") -> Horizontal:
    return Horizontal(
        Label(label, classes="form-label"),
        widget,
        Static(hint, classes="form-hint", markup=False),
        classes="form-row",
    )


class AssetFormDialog(ModalScreen[Any]):
    """The base of the create and edit dialogs: collect, check, dismiss with the result (None: cancel)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="assets.form.cancel")]

    def _error(self, message: str) -> None:
        error = self.query_one("#form-error", Static)
        error.update(message)
        error.display = bool(message)

    def _text(self, widget_id: str, what: str, *, required: bool = False) -> str:
        value = clean_value(self.query_one(f"#{widget_id}", Input).value, what, allow_spaces=True)
        if required and not value:
            raise InputError(f"the {what} is required")
        return value

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def _submit(self) -> None:
        try:
            result = self.collect()
        except InputError as err:
            self._error(str(err))
            return
        self.dismiss(result)

    def collect(self) -> Any:  # pragma: no cover - every dialog defines it
        raise NotImplementedError


class CreateAssetDialog(AssetFormDialog):
    """A new child asset: type (instantiable types of this tenant), name, external id, description, and
    values for the type's variables (defaults shown as placeholders)."""

    def __init__(self, parent: Asset, types: Sequence[AssetType]) -> None:
        super().__init__(classes="dialog")
        self.parent_asset = parent
        self.types = {t.id: t for t in types}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box form-box") as box:
            box.border_title = f"New asset under {self.parent_asset.name}"
            options = [(f"{t.name}  ({t.id})", t.id) for t in sorted(self.types.values(), key=lambda t: t.id)]
            with VerticalScroll(classes="form-fields"):
                yield _row("Type", Select(options, prompt="choose a type", id="type"), "required")
                yield _row("Name", Input(id="name", placeholder="e.g. Pump ER-1299"), "required")
                yield _row("External id", Input(id="external-id"))
                yield _row("Description", Input(id="description"))
                yield Static("", id="form-variables-heading", classes="form-section")
                yield Vertical(id="form-variables")
            yield Static("", id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#form-error").display = False
        self.query_one("#form-variables-heading").display = False
        self.query_one("#type", Select).focus()

    @property
    def chosen_type(self) -> AssetType | None:
        value = self.query_one("#type", Select).value
        return self.types.get(value) if isinstance(value, str) else None

    @on(Select.Changed, "#type")
    async def _type_changed(self) -> None:
        box = self.query_one("#form-variables", Vertical)
        await box.remove_children()
        chosen = self.chosen_type
        heading = self.query_one("#form-variables-heading", Static)
        if chosen is None or not chosen.variables:
            heading.display = False
            return
        heading.update(f"Variables of {chosen.name} (empty: the type's default)")
        heading.display = True
        rows = []
        for index, variable in enumerate(chosen.variables):
            unit = f" {variable.unit}" if variable.unit else ""
            hint = f"{variable.data_type or '?'}{unit}"
            default = "" if variable.default_value is None else str(variable.default_value)
            rows.append(_row(variable.name, Input(id=f"var-{index}", placeholder=default), hint))
        await box.mount_all(rows)

    def collect(self) -> CreateRequest:
        chosen = self.chosen_type
        if chosen is None:
            raise InputError("choose the type of the new asset")
        name = self._text("name", "name", required=True)
        external_id = self._text("external-id", "external id") or None
        description = self._text("description", "description") or None
        variables: list[dict[str, Any]] = []
        for index, variable in enumerate(chosen.variables):
            text = self.query_one(f"#var-{index}", Input).value
            if text.strip():
                variables.append({"name": variable.name, "value": check_variable(variable, text)})
        return CreateRequest(chosen.id, name, external_id, description, variables)


class EditAssetDialog(AssetFormDialog):
    """Name, external id, description and location of an asset; returns the merge-patch body of what
    changed (``{}`` when nothing did)."""

    def __init__(self, asset: Asset) -> None:
        super().__init__(classes="dialog")
        self.asset = asset

    def _current(self) -> dict[str, str]:
        a = self.asset
        location = a.location.to_json() if a.location is not None else {}
        values = {
            "name": a.name,
            "externalId": a.external_id or "",
            "description": a.description or "",
        }
        for key, _label in LOCATION_FIELDS:
            value = location.get(key)
            values[key] = "" if value is None else str(value)
        return values

    def compose(self) -> ComposeResult:
        current = self._current()
        with Vertical(classes="dialog-box form-box") as box:
            box.border_title = f"Edit {self.asset.name}"
            box.border_subtitle = f"etag {self.asset.etag}"
            with VerticalScroll(classes="form-fields"):
                yield _row("Name", Input(current["name"], id="name"), "required")
                yield _row("External id", Input(current["externalId"], id="externalId"))
                yield _row("Description", Input(current["description"], id="description"))
                yield Static("Location", classes="form-section")
                for key, label in LOCATION_FIELDS:
                    hint = "decimal degrees" if key in ("latitude", "longitude") else ""
                    yield _row(label, Input(current[key], id=key), hint)
            yield Static("", id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#form-error").display = False
        self.query_one("#name", Input).focus()

    def collect(self) -> dict[str, Any]:
        current = self._current()
        patch: dict[str, Any] = {}
        name = self._text("name", "name", required=True)
        if name != current["name"]:
            patch["name"] = name
        for key, what in (("externalId", "external id"), ("description", "description")):
            value = self._text(key, what)
            if value != current[key]:
                patch[key] = value or None
        location: dict[str, Any] = {}
        for key, label in LOCATION_FIELDS:
            value = self._text(key, label.lower())
            if value == current[key]:
                continue
            if key in ("latitude", "longitude") and value:
                try:
                    number = float(value)
                except ValueError:
                    raise InputError(f"the {label.lower()} must be a number in decimal degrees") from None
                limit = 90 if key == "latitude" else 180
                if abs(number) > limit:
                    raise InputError(f"the {label.lower()} must be between -{limit} and {limit}")
                location[key] = number
            else:
                location[key] = value or None
        if location:
            patch["location"] = location
        return patch
