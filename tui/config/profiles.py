"""Connection profiles: the non-secret half of a set of Insights Hub credentials.

Profiles live in ``profiles.toml`` in the config folder (mode 0600). The client secret is never a field
here: it lives in the secret store (``tui.config.secrets``).

File layout::

    default = "prod"

    [profiles.prod]
    gateway = "https://gateway.eu1.mindsphere.io"
    token_url = "https://acme.piam.eu1.mindsphere.io/oauth/token"
    client_id = "acme-tool-1.0.0-123456"
    style = "client_credentials"
    tenant = "acme"
    ...
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from tui.config.settings import SettingsError, read_toml, write_toml

STYLE_CLIENT = "client_credentials"
STYLE_APP = "app_credentials"
STYLES: tuple[str, ...] = (STYLE_CLIENT, STYLE_APP)

# A token URL naming the technical token manager means app credentials (reference 1.2).
APP_TOKEN_MARKER = "technicaltokenmanager"
APP_TOKEN_PATH = "/api/technicaltokenmanager/v3/oauth/token"
CLIENT_TOKEN_PATH = "/oauth/token"

ENV_PROFILE = "IHUB_PROFILE"
ENV_GATEWAY = "IHUB_GATEWAY"
ENV_TOKEN_URL = "IHUB_TOKEN_URL"
ENV_CLIENT_ID = "IHUB_CLIENT_ID"
ENV_CLIENT_SECRET = "IHUB_CLIENT_SECRET"
ENV_PROFILE_DEFAULT_NAME = "env"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# A region shortcut such as eu1, eu2, us1, cn1, eu1-int.
_REGION_RE = re.compile(r"^[a-z]{2,4}[0-9]{1,2}(?:-[a-z0-9]+)?$")
_VERSION_RE = re.compile(r"^v?[0-9]+(?:\.[0-9A-Za-z]+)+$")
_HOST_RE = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$"
)

# The fields saved to the TOML file, in order. ``name`` is the table key, ``env_fields`` never saved.
_SAVED_FIELDS: tuple[str, ...] = (
    "gateway",
    "token_url",
    "client_id",
    "style",
    "tenant",
    "app_name",
    "app_version",
    "read_only",
    "ca_bundle",
)


class ProfileError(ValueError):
    """A profile value or the profiles file is not acceptable; the message is one clear line."""


@dataclass
class Profile:
    """The non-secret settings of one connection. No secret field, ever."""

    name: str
    gateway: str
    token_url: str
    client_id: str
    style: str = STYLE_CLIENT
    tenant: str = ""
    app_name: str = ""
    app_version: str = ""
    read_only: bool = False
    ca_bundle: str | None = None
    # Names of the fields whose value came from the environment (IHUB_*). Never saved.
    env_fields: frozenset[str] = frozenset()

    def replace(self, **changes: Any) -> Profile:
        return dataclasses.replace(self, **changes)

    def to_credentials(self, client_secret: str) -> Any:
        """Build ``tui.api.auth.Credentials`` for this profile (host and user tenant = ``tenant``)."""
        from tui.api.auth import Credentials, CredentialStyle

        tenant = self.tenant or (parse_client_id(self.client_id) or ClientIdParts("", "", "", "")).tenant
        return Credentials(
            style=CredentialStyle(self.style),
            token_url=self.token_url,
            client_id=self.client_id,
            client_secret=client_secret,
            app_name=self.app_name,
            app_version=self.app_version,
            host_tenant=tenant,
            user_tenant=tenant,
        )


class ClientIdParts(NamedTuple):
    tenant: str
    app: str
    version: str
    suffix: str


class BindingKeys(NamedTuple):
    token_url: str
    client_id: str
    client_secret: str

    def __repr__(self) -> str:  # the secret never reaches a repr
        return f"BindingKeys(token_url={self.token_url!r}, client_id={self.client_id!r}, client_secret=***)"


# --------------------------------------------------------------------------------------------------
# Field helpers
# --------------------------------------------------------------------------------------------------
def validate_name(name: str) -> str:
    value = name.strip()
    if not _NAME_RE.match(value):
        raise ProfileError(
            f"invalid profile name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def _normalise_url(value: str, what: str, *, keep_path: bool) -> str:
    text = value.strip()
    if not text:
        raise ProfileError(f"the {what} is empty")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ProfileError(f"the {what} {value.strip()!r} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ProfileError(f"the {what} must start with https:// (got {parts.scheme}://)")
    host = (parts.hostname or "").lower()
    if not host or not _HOST_RE.match(host if ":" not in host else f"[{host}]"):
        raise ProfileError(f"the {what} {value.strip()!r} has no valid host name")
    if parts.username or parts.password:
        raise ProfileError(f"the {what} must not contain a user name or password")
    if parts.query or parts.fragment:
        raise ProfileError(f"the {what} must not contain '?' or '#'")
    if any(ch.isspace() for ch in text):
        raise ProfileError(f"the {what} {value.strip()!r} contains spaces")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = parts.path.rstrip("/")
    if not keep_path and path:
        raise ProfileError(f"the {what} must be a bare host, such as https://gateway.eu1.mindsphere.io")
    return urlunsplit((scheme, netloc, path, "", ""))


def expand_gateway(value: str) -> str:
    """``eu1`` -> ``https://gateway.eu1.mindsphere.io``; a URL is validated and normalised."""
    text = value.strip()
    if _REGION_RE.match(text.lower()):
        return f"https://gateway.{text.lower()}.mindsphere.io"
    return _normalise_url(text, "gateway URL", keep_path=False)


def validate_token_url(value: str) -> str:
    url = _normalise_url(value, "token URL", keep_path=True)
    if not urlsplit(url).path:
        raise ProfileError(f"the token URL {url!r} has no path (expected .../oauth/token)")
    return url


def detect_style(token_url: str) -> str:
    """App credentials when the token URL is the technical token manager, else client credentials."""
    return STYLE_APP if APP_TOKEN_MARKER in token_url.lower() else STYLE_CLIENT


def derive_token_url(gateway: str, tenant: str, style: str = STYLE_CLIENT) -> str:
    """The token URL for ``gateway``: ``https://{tenant}.piam.{region}.mindsphere.io/oauth/token``.

    As the SDK does (reference 1.1), a leading ``gateway.`` label becomes ``{tenant}.piam.``. A gateway of
    another shape (the simulator) serves the token endpoint itself: ``{gateway}/oauth/token``. App
    credentials use the gateway's technical token manager (reference 1.2).
    """
    base = expand_gateway(gateway)
    if style == STYLE_APP:
        return base + APP_TOKEN_PATH
    parts = urlsplit(base)
    host = parts.hostname or ""
    if host.startswith("gateway."):
        tenant = tenant.strip().lower()
        if not tenant:
            raise ProfileError("a tenant is needed to derive the token URL from the gateway")
        if not re.match(r"^[a-z0-9][a-z0-9-]*$", tenant):
            raise ProfileError(f"invalid tenant name {tenant!r}")
        netloc = f"{tenant}.piam.{host[len('gateway.') :]}"
        if parts.port is not None:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, CLIENT_TOKEN_PATH, "", ""))
    return base + CLIENT_TOKEN_PATH


def parse_client_id(client_id: str) -> ClientIdParts | None:
    """Split ``<tenant>-<app>-<version>-<suffix>`` (the suffix may be absent); None when it does not fit.

    The version is the first dash-separated part after the app that looks like ``1.0.0``; the app name
    may itself contain dashes.
    """
    parts = client_id.strip().split("-")
    if len(parts) < 3 or not parts[0]:
        return None
    for index in range(2, len(parts)):
        if _VERSION_RE.match(parts[index]):
            app = "-".join(parts[1:index])
            suffix = "-".join(parts[index + 1 :])
            if not app or (index + 1 < len(parts) and not suffix):
                return None
            return ClientIdParts(parts[0], app, parts[index], suffix)
    return None


_LABELS: dict[str, str] = {
    "tokenurl": "token_url",
    "tokenendpoint": "token_url",
    "clientid": "client_id",
    "clientsecret": "client_secret",
}
_LABEL_RE = re.compile(
    r"""^\s*["']?(token[\s_-]*(?:url|endpoint)|client[\s_-]*id|client[\s_-]*secret)["']?"""
    r"""\s*(?:[:=]\s*|\t+\s*|\s+|$)(.*)$""",
    re.IGNORECASE,
)


def _label_key(label: str) -> str:
    return _LABELS[re.sub(r"[\s_-]", "", label.lower())]


def _bare_label(cell: str) -> str | None:
    """The field key when ``cell`` is a label with no value, else None."""
    match = _LABEL_RE.match(cell.strip())
    if match is None or match.group(2).strip():
        return None
    return _label_key(match.group(1))


def _clean_value(value: str) -> str:
    text = value.strip().rstrip(",").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def parse_binding_keys(text: str) -> BindingKeys:
    """Parse the three lines of the tenant's binding-keys pop-up (TokenURL, clientID, clientSecret).

    Accepted: ``Label: value`` / ``Label = value`` / ``Label<TAB>value`` lines; a label on its own line
    followed by the value; a tab-separated header row followed by a value row; a JSON object; or three
    bare values (the URL is recognised, the other two are clientID then clientSecret).
    """
    found: dict[str, str] = {}
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            for key, value in data.items():
                norm = re.sub(r"[\s_-]", "", str(key).lower())
                if norm in _LABELS and isinstance(value, str):
                    found[_LABELS[norm]] = value.strip()
            return _binding_keys_from(found)

    lines = [line for line in (raw.strip() for raw in text.splitlines()) if line]
    # A tab-separated header row of labels followed by a row of values.
    if len(lines) >= 2 and "\t" in lines[0]:
        header = [_bare_label(cell) for cell in lines[0].split("\t") if cell.strip()]
        values = [cell.strip() for cell in lines[1].split("\t") if cell.strip()]
        if header and None not in header and len(values) == len(header):
            for key, value in zip(header, values, strict=True):
                found[str(key)] = _clean_value(value)
            return _binding_keys_from(found)

    pending: str | None = None
    bare: list[str] = []
    for line in lines:
        match = _LABEL_RE.match(line)
        if match:
            key = _label_key(match.group(1))
            value = _clean_value(match.group(2))
            if value:
                found[key] = value
                pending = None
            else:
                pending = key
            continue
        if line in "{}":
            continue
        if pending is not None:
            found[pending] = _clean_value(line)
            pending = None
        else:
            bare.append(_clean_value(line))

    if not found and bare:
        if len(bare) != 3:
            raise ProfileError(
                "expected the three binding-key lines (TokenURL, clientID, clientSecret), "
                f"got {len(bare)} lines"
            )
        urls = [v for v in bare if v.lower().startswith(("http://", "https://"))]
        if len(urls) != 1:
            raise ProfileError("could not tell which of the three lines is the TokenURL")
        rest = [v for v in bare if v is not urls[0]]
        found = {"token_url": urls[0], "client_id": rest[0], "client_secret": rest[1]}
    elif bare and found:
        # Labelled lines plus leftovers: fill the missing fields in pop-up order.
        for key in ("token_url", "client_id", "client_secret"):
            if key not in found and bare:
                found[key] = bare.pop(0)
    return _binding_keys_from(found)


def _binding_keys_from(found: Mapping[str, str]) -> BindingKeys:
    names = {"token_url": "TokenURL", "client_id": "clientID", "client_secret": "clientSecret"}
    missing = [names[k] for k in names if not found.get(k)]
    if missing:
        raise ProfileError("binding keys incomplete: missing " + ", ".join(missing))
    token_url = validate_token_url(found["token_url"])
    client_id = found["client_id"]
    if any(ch.isspace() for ch in client_id):
        raise ProfileError("the clientID contains spaces")
    secret = found["client_secret"]
    if any(ch.isspace() for ch in secret):
        raise ProfileError("the clientSecret contains spaces (was more than one line pasted into it?)")
    return BindingKeys(token_url, client_id, secret)


def profile_from_fields(
    name: str,
    gateway: str,
    token_url: str,
    client_id: str,
    *,
    style: str | None = None,
    tenant: str = "",
    app_name: str = "",
    app_version: str = "",
    read_only: bool = False,
    ca_bundle: str | None = None,
) -> Profile:
    """Build a validated profile from user input, filling what can be derived.

    The style is detected from the token URL unless given; tenant, app name and version come from a
    client id of the form ``<tenant>-<app>-<version>-<suffix>`` unless given; an empty token URL is
    derived from the gateway and tenant.
    """
    parts = parse_client_id(client_id)
    tenant = tenant.strip() or (parts.tenant if parts else "")
    app_name = app_name.strip() or (parts.app if parts else "")
    app_version = app_version.strip() or (parts.version if parts else "")
    if not token_url.strip():
        token_url = derive_token_url(gateway, tenant, style or STYLE_CLIENT)
    profile = Profile(
        name=name,
        gateway=gateway,
        token_url=token_url,
        client_id=client_id,
        style=style or detect_style(token_url),
        tenant=tenant,
        app_name=app_name,
        app_version=app_version,
        read_only=read_only,
        ca_bundle=ca_bundle,
    )
    return normalise_profile(profile)


def normalise_profile(profile: Profile) -> Profile:
    """Validate every field and return the normalised profile (raises ``ProfileError``)."""
    client_id = profile.client_id.strip()
    if not client_id:
        raise ProfileError("the client id is empty")
    if any(ch.isspace() for ch in client_id):
        raise ProfileError("the client id contains spaces")
    if profile.style not in STYLES:
        raise ProfileError(f"unknown credential style {profile.style!r}: use {' or '.join(STYLES)}")
    if profile.style == STYLE_APP and not (profile.app_name.strip() and profile.app_version.strip()):
        raise ProfileError("app credentials need an app name and an app version")
    if profile.style == STYLE_APP and not profile.tenant.strip():
        raise ProfileError("app credentials need a tenant")
    ca_bundle = profile.ca_bundle.strip() if profile.ca_bundle else None
    return profile.replace(
        name=validate_name(profile.name),
        gateway=expand_gateway(profile.gateway),
        token_url=validate_token_url(profile.token_url),
        client_id=client_id,
        tenant=profile.tenant.strip(),
        app_name=profile.app_name.strip(),
        app_version=profile.app_version.strip(),
        read_only=bool(profile.read_only),
        ca_bundle=ca_bundle or None,
    )


# --------------------------------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------------------------------
def _profile_to_table(profile: Profile) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for name in _SAVED_FIELDS:
        value = getattr(profile, name)
        if value is None:
            continue
        table[name] = value
    return table


def _profile_from_table(name: str, table: Any, path: Path) -> Profile:
    if not isinstance(table, dict):
        raise ProfileError(f"profile {name!r} in {path} is not a table")
    kwargs: dict[str, Any] = {}
    for key in _SAVED_FIELDS:
        if key in table:
            kwargs[key] = table[key]
    for key in ("gateway", "token_url", "client_id"):
        if not isinstance(kwargs.get(key), str):
            raise ProfileError(f"profile {name!r} in {path} has no {key}")
    for key in ("style", "tenant", "app_name", "app_version", "ca_bundle"):
        if key in kwargs and not isinstance(kwargs[key], str):
            raise ProfileError(f"profile {name!r} in {path}: {key} must be a string")
    if "read_only" in kwargs and not isinstance(kwargs["read_only"], bool):
        raise ProfileError(f"profile {name!r} in {path}: read_only must be true or false")
    try:
        return normalise_profile(Profile(name=name, **kwargs))
    except ProfileError as exc:
        raise ProfileError(f"profile {name!r} in {path}: {exc}") from None


class ProfileStore:
    """The profiles file; ``path=None`` keeps the profiles in memory (the demo).

    The file is read on first use (or by ``load()``); every mutation saves atomically (mode 0600).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._profiles: dict[str, Profile] = {}
        self._default: str | None = None
        self._loaded = path is None

    # -- reading ------------------------------------------------------------------------------------
    def load(self) -> None:
        """(Re-)read the file. Raises ``ProfileError`` for a broken file."""
        if self.path is None:
            self._loaded = True
            return
        try:
            data = read_toml(self.path, "profiles")
        except SettingsError as exc:
            raise ProfileError(str(exc)) from None
        tables = data.get("profiles", {})
        if not isinstance(tables, dict):
            raise ProfileError(f"'profiles' in {self.path} is not a table")
        profiles = {name: _profile_from_table(name, table, self.path) for name, table in tables.items()}
        default = data.get("default")
        self._profiles = profiles
        self._default = default if isinstance(default, str) and default in profiles else None
        self._loaded = True

    def _ensure(self) -> None:
        if not self._loaded:
            self.load()

    def names(self) -> list[str]:
        self._ensure()
        return sorted(self._profiles, key=str.lower)

    def list(self) -> list[Profile]:
        self._ensure()
        return [self._profiles[name] for name in self.names()]

    def get(self, name: str) -> Profile:
        """The profile called ``name``; ``KeyError`` when there is none."""
        self._ensure()
        return self._profiles[name]

    def __contains__(self, name: object) -> bool:
        self._ensure()
        return name in self._profiles

    def __len__(self) -> int:
        self._ensure()
        return len(self._profiles)

    @property
    def default_name(self) -> str | None:
        self._ensure()
        return self._default

    # -- changing -----------------------------------------------------------------------------------
    def add(self, profile: Profile) -> Profile:
        """Add a new profile (validated and normalised). The first profile of an empty store becomes the
        default."""
        self._ensure()
        clean = normalise_profile(profile).replace(env_fields=frozenset())
        if clean.name in self._profiles:
            raise ProfileError(f"a profile named {clean.name!r} already exists")
        self._profiles[clean.name] = clean
        if self._default is None and len(self._profiles) == 1:
            self._default = clean.name
        self._save()
        return clean

    def update(self, old_name: str, profile: Profile) -> Profile:
        """Replace profile ``old_name`` (maybe renaming it). Fields listed in ``profile.env_fields``
        keep their saved value: environment overrides are never written to the file."""
        self._ensure()
        old = self._profiles[old_name]
        kept = {name: getattr(old, name) for name in profile.env_fields if name in _SAVED_FIELDS}
        clean = normalise_profile(profile.replace(**kept)).replace(env_fields=frozenset())
        if clean.name != old_name and clean.name in self._profiles:
            raise ProfileError(f"a profile named {clean.name!r} already exists")
        # Keep the order stable: rebuild the dict with the new entry in place of the old one.
        self._profiles = {
            (clean.name if name == old_name else name): (clean if name == old_name else value)
            for name, value in self._profiles.items()
        }
        if self._default == old_name:
            self._default = clean.name
        self._save()
        return clean

    def remove(self, name: str) -> None:
        """Remove profile ``name`` (``KeyError`` when unknown). Its secret is the secret store's job."""
        self._ensure()
        del self._profiles[name]
        if self._default == name:
            self._default = None
        self._save()

    def duplicate(self, name: str, new_name: str) -> Profile:
        return self.add(self.get(name).replace(name=new_name, env_fields=frozenset()))

    def set_default(self, name: str | None) -> None:
        """Make ``name`` the default profile (``KeyError`` when unknown); ``None`` clears it."""
        self._ensure()
        if name is not None and name not in self._profiles:
            raise KeyError(name)
        self._default = name
        self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        data: dict[str, Any] = {}
        if self._default is not None:
            data["default"] = self._default
        data["profiles"] = {name: _profile_to_table(p) for name, p in self._profiles.items()}
        try:
            write_toml(self.path, data)
        except OSError as exc:
            raise ProfileError(f"cannot write the profiles file {self.path}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------------
def apply_env_overrides(profile: Profile | None, environ: Mapping[str, str]) -> Profile | None:
    """Apply ``IHUB_GATEWAY``, ``IHUB_TOKEN_URL`` and ``IHUB_CLIENT_ID`` to ``profile``.

    Overridden fields are listed in ``env_fields``. A token URL from the environment also sets the style
    it implies; a client id from the environment that has the ``<tenant>-<app>-<version>`` form also sets
    tenant, app name and version. With no profile but all three variables set, an ad-hoc profile named
    ``IHUB_PROFILE`` (or ``env``) is returned. Raises ``ProfileError`` naming the variable when a value is
    not acceptable.
    """
    gateway = environ.get(ENV_GATEWAY, "").strip()
    token_url = environ.get(ENV_TOKEN_URL, "").strip()
    client_id = environ.get(ENV_CLIENT_ID, "").strip()
    changes: dict[str, Any] = {}
    try:
        if gateway:
            changes["gateway"] = expand_gateway(gateway)
    except ProfileError as exc:
        raise ProfileError(f"{ENV_GATEWAY}: {exc}") from None
    try:
        if token_url:
            changes["token_url"] = validate_token_url(token_url)
    except ProfileError as exc:
        raise ProfileError(f"{ENV_TOKEN_URL}: {exc}") from None
    if client_id:
        if any(ch.isspace() for ch in client_id):
            raise ProfileError(f"{ENV_CLIENT_ID}: the client id contains spaces")
        changes["client_id"] = client_id
        parts = parse_client_id(client_id)
        if parts is not None:
            changes.update(tenant=parts.tenant, app_name=parts.app, app_version=parts.version)

    if profile is None:
        if not (gateway and token_url and client_id):
            return None
        name = environ.get(ENV_PROFILE, "").strip() or ENV_PROFILE_DEFAULT_NAME
        try:
            name = validate_name(name)
        except ProfileError as exc:
            raise ProfileError(f"{ENV_PROFILE}: {exc}") from None
        style = detect_style(changes["token_url"])
        fields = frozenset(changes) | {"style"}
        return Profile(name=name, style=style, env_fields=fields, **changes)

    if "token_url" in changes:
        style = detect_style(changes["token_url"])
        if style != profile.style:
            changes["style"] = style
    if not changes:
        return profile
    return profile.replace(env_fields=profile.env_fields | frozenset(changes), **changes)


def select_profile_name(
    store: ProfileStore, environ: Mapping[str, str], cli_name: str | None = None
) -> str | None:
    """The profile to use: ``--profile`` > ``IHUB_PROFILE`` > the default > the only profile > None."""
    if cli_name:
        return cli_name
    from_env = environ.get(ENV_PROFILE, "").strip()
    if from_env:
        return from_env
    if store.default_name:
        return store.default_name
    names = store.names()
    if len(names) == 1:
        return names[0]
    return None
