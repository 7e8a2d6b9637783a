"""The Keys area's profile table and profile detail: widgets that show rows and post messages.

``ProfileTable`` lists the profiles (environment overrides marked ⚑, the active one ●, the default ★) and
posts ``ProfileTable.Highlighted`` when the cursor moves and ``ProfileTable.Chosen`` on enter.
``ProfileDetail`` shows every field of one profile and its masked client secret; the secret field posts
its own reveal and copy requests. The screen owns the data and decides what happens.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from tui.config.profiles import (
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_GATEWAY,
    ENV_TOKEN_URL,
    STYLE_APP,
    Profile,
)
from tui.config.secrets import StoreKind
from tui.widgets.secret_field import DEFAULT_REVEAL_SECONDS, SecretField

# Where a secret lives, in words for the table and the detail panel.
KIND_LABEL: dict[StoreKind, str] = {
    StoreKind.KEYRING: "keyring",
    StoreKind.VAULT: "vault",
    StoreKind.SESSION: "session",
    StoreKind.ENV: "env",
}
KIND_WORDS: dict[StoreKind, str] = {
    StoreKind.KEYRING: "in the OS keyring",
    StoreKind.VAULT: "in the encrypted vault file",
    StoreKind.SESSION: "for this session only",
    StoreKind.ENV: f"from {ENV_CLIENT_SECRET}",
}
# Profile field -> the variable that overrides it.
ENV_VARS: dict[str, str] = {
    "gateway": ENV_GATEWAY,
    "token_url": ENV_TOKEN_URL,
    "client_id": ENV_CLIENT_ID,
}
ENV_SHORT: dict[str, str] = {"gateway": "gw", "token_url": "url", "client_id": "id"}
UNKNOWN = "…"
KEY_HINTS = (
    "enter/a use this profile · t test the connection\n"
    "r reveal the secret for a few seconds · c copy it\n"
    "k see the token (decoded) · y copy the token\n"
    "m make default · b secret store · ? all keys"
)
# The last line in a read-only session (--read-only): the saved profiles are not changed.
KEY_HINTS_LOCKED = KEY_HINTS.rsplit("\n", 1)[0] + "\nread-only session: profiles stay as saved · ? all keys"


@dataclass
class Row:
    """One profile as the Keys area shows it (environment overrides applied)."""

    profile: Profile
    saved: bool  # False: an ad-hoc profile made only of IHUB_* variables
    location: StoreKind | None | str = UNKNOWN  # UNKNOWN until the screen's worker has looked

    @property
    def where(self) -> str | None:
        """Where the secret is, in words ("in the OS keyring"), or None when unknown or absent."""
        return KIND_WORDS[self.location] if isinstance(self.location, StoreKind) else None


@dataclass(frozen=True)
class Marks:
    """Which profile is the default and which one is active (for ★ and ●)."""

    default: str | None = None
    active: str | None = None


class ProfileTable(DataTable[str | Text]):
    """The profiles, one row each; the row key is the profile name."""

    COLUMNS = (
        ("name", "Name"),
        ("gateway", "Gateway"),
        ("client_id", "Client ID"),
        ("style", "Style"),
        ("tenant", "Tenant"),
        ("default", "Default"),
        ("read_only", "R/O"),
        ("secret", "Secret"),
        ("env", "Env"),
    )

    @dataclass
    class Highlighted(Message):
        """The cursor is on another profile (None: the table is empty)."""

        name: str | None

    @dataclass
    class Chosen(Message):
        """Enter on a profile: the user wants to use it."""

        name: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.border_title = "Profiles"

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_name(self) -> str | None:
        """The profile under the cursor, or None."""
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None
        return key

    def show(self, rows: dict[str, Row], marks: Marks, select: str | None = None) -> None:
        """Replace the rows, keeping the cursor on ``select`` when given."""
        self.clear()
        for name, row in rows.items():
            self.add_row(*cells(row, marks), key=name)
        if select is not None and select in rows:
            self.move_cursor(row=self.get_row_index(select))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(event.row_key.value))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(event.row_key.value))


def cells(row: Row, marks: Marks) -> list[str | Text]:
    """The table cells of one profile."""
    p = row.profile

    def cell(field: str, value: str) -> str | Text:
        if field in p.env_fields:
            return Text(f"{value} ⚑", style="italic yellow")
        return value

    name = Text(p.name, style="bold")
    if p.name == marks.active:
        name = Text.assemble(("● ", "green"), name)
    if not row.saved:
        name.append(" (env)", style="italic yellow")
    gateway = p.gateway.removeprefix("https://")
    location = row.location
    if isinstance(location, StoreKind):
        secret: str | Text = Text(KIND_LABEL[location], style="yellow" if location is StoreKind.ENV else "")
    elif location is None:
        secret = Text("none", style="bold red")
    else:
        secret = Text(UNKNOWN, style="dim")
    env_marks = [ENV_SHORT[f] for f in ENV_VARS if f in p.env_fields]
    if location is StoreKind.ENV:
        env_marks.append("secret")
    return [
        name,
        cell("gateway", gateway),
        cell("client_id", p.client_id),
        cell("style", "app" if p.style == STYLE_APP else "client"),
        cell("tenant", p.tenant or "-"),
        Text("★", style="bold yellow") if p.name == marks.default else "",
        _flags_cell(p),
        secret,
        Text(" ".join(env_marks), style="yellow") if env_marks else "",
    ]


class ProfileDetail(Vertical):
    """Every field of one profile, its masked client secret and the keys that act on it."""

    def __init__(self, *, reveal_seconds: float = DEFAULT_REVEAL_SECONDS, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Profile"
        self.reveal_seconds = reveal_seconds

    def compose(self) -> ComposeResult:
        yield Static("", id="profile-detail")
        yield SecretField("Client secret", reveal_seconds=self.reveal_seconds, id="secret")
        yield Static(KEY_HINTS, id="keys-hints")

    @property
    def secret_field(self) -> SecretField:
        return self.query_one("#secret", SecretField)

    def show(self, row: Row | None, marks: Marks, *, locked: bool = False) -> None:
        """Show ``row`` (None: nothing selected); ``locked``: a read-only session (no profile changes)."""
        self.query_one("#keys-hints", Static).update(KEY_HINTS_LOCKED if locked else KEY_HINTS)
        detail = self.query_one("#profile-detail", Static)
        field = self.secret_field
        if row is None:
            detail.update("")
            field.set_state(present=False)
            return
        detail.update(detail_text(row, marks))
        p = row.profile
        location = row.location
        if isinstance(location, StoreKind):
            field.set_state(present=True, note=KIND_WORDS[location], key=p.name)
        elif location is None:
            field.set_state(present=False, note="(e to add one)" if row.saved else "", key=p.name)
        else:
            field.set_state(present=field.present and field.key == p.name, note="looking…", key=p.name)


def detail_text(row: Row, marks: Marks) -> Text:
    """The profile's fields, one per line, with the environment overrides named."""
    p = row.profile
    lines = Text()

    def line(label: str, value: str, key: str | None = None) -> None:
        lines.append(f"{label:<13}", "bold")
        lines.append(value or "-")
        if key is not None and key in p.env_fields:
            var = ENV_VARS.get(key)
            lines.append(f"  ⚑ from {var}" if var else "  ⚑ from the environment", "italic yellow")
        lines.append("\n")

    flags = []
    if p.name == marks.default:
        flags.append("default")
    if p.name == marks.active:
        flags.append("active")
    if p.read_only:
        flags.append("read-only")
    if p.production:
        flags.append("▲ production")
    if not row.saved:
        flags.append("from environment variables, not saved")
    line("Name", p.name + (f"  ({', '.join(flags)})" if flags else ""))
    line("Gateway", p.gateway, "gateway")
    line("Token URL", p.token_url, "token_url")
    line("Client ID", p.client_id, "client_id")
    line("Style", p.style.replace("_", " "), "style")
    line("Tenant", p.tenant, "tenant")
    line("App", f"{p.app_name} {p.app_version}".strip(), "app_name")
    line("CA bundle", p.ca_bundle or "system default")
    lines.rstrip()
    return lines


def _flags_cell(p: Profile) -> Text | str:
    """The R/O column: ``RO`` for a read-only profile, ``▲`` for one marked production."""
    if not (p.read_only or p.production):
        return ""
    cell = Text()
    if p.read_only:
        cell.append("RO", style="bold magenta")
    if p.production:
        cell.append(" ▲" if p.read_only else "▲", style="bold red")
    return cell
