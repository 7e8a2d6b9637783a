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

from tui.config.inputs import InputError, clean_secret, clean_value, strip_bom
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
# Insights Hub regions: eu1 and eu2 are in the reference (section 5.1), China 1 in the public region docs;
# us1 and jp1 are UNCONFIRMED. Any other shortcut is still expanded, with a warning (profile_warnings).
KNOWN_REGIONS: tuple[str, ...] = ("eu1", "eu2", "cn1", "us1", "jp1")
_GATEWAY_HOST_RE = re.compile(r"^gateway\.([a-z0-9-]+)\.mindsphere\.io$")
_PIAM_HOST_RE = re.compile(r"^[a-z0-9-]+\.piam\.([a-z0-9-]+)\.mindsphere\.io$")
_VERSION_RE = re.compile(r"^v?[0-9]+(?:\.[0-9A-Za-z]+)+$")
_HOST_RE = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$"
)

# The fields saved to the TOML file, in order. ``name`` is the table key, ``env_fields`` never saved.
SAVED_FIELDS: tuple[str, ...] = (
    "gateway",
    "token_url",
    "client_id",
    "style",
    "tenant",
    "app_name",
    "app_version",
    "read_only",
    "production",
    "ca_bundle",
)


class ProfileError(InputError):
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
    # Marked as a production tenant: the header says so and destructive actions ask for the name typed
    # (``tui.config.safety``; a tenant name matching the settings' ``production_tenants`` counts too).
    production: bool = False
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
    """Parsed binding keys. ``token_url_derived`` is True when the paste held no token URL (the App
    Service pop-up shows only the Access Key and the Secret Key) and ``token_url`` was derived from the
    gateway's region and the tenant in the client id: a proposal the user may replace with the token URL
    of the welcome e-mail. ``token_url`` is empty when it could not be derived (no gateway given, or a
    client id without a tenant)."""

    token_url: str
    client_id: str
    client_secret: str
    token_url_derived: bool = False

    def __repr__(self) -> str:  # the secret never reaches a repr
        derived = ", token_url_derived=True" if self.token_url_derived else ""
        return (
            f"BindingKeys(token_url={self.token_url!r}, client_id={self.client_id!r}, client_secret=***"
            f"{derived})"
        )


# --------------------------------------------------------------------------------------------------
# Field helpers
# --------------------------------------------------------------------------------------------------
def _clean(value: str, what: str, *, allow_spaces: bool = False) -> str:
    """``clean_value`` with its refusal as a ``ProfileError``."""
    try:
        return clean_value(value, what, allow_spaces=allow_spaces)
    except InputError as exc:
        raise ProfileError(str(exc)) from None


def validate_name(name: str) -> str:
    value = _clean(name, "profile name", allow_spaces=True)  # spaces: refused below with the rule
    if not _NAME_RE.match(value):
        raise ProfileError(
            f"invalid profile name {value!r}: use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def is_loopback_host(host: str) -> bool:
    """``localhost``, ``*.localhost`` (RFC 6761) or a loopback address such as 127.0.0.1 or ::1."""
    from tui.api.errors import is_loopback_host as _is_loopback

    return _is_loopback(host)


def _normalise_url(value: str, what: str, *, keep_path: bool) -> str:
    text = _clean(value, what, allow_spaces=True)  # spaces are refused below, as "not a valid URL"
    if not text:
        raise ProfileError(f"the {what} is empty")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ProfileError(f"the {what} {value.strip()!r} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme) or text.index("://") != len(parts.scheme):
        raise ProfileError(f"the {what} {value.strip()!r} is not a valid URL")
    if scheme not in ("http", "https"):
        raise ProfileError(f"the {what} must start with https:// (got {scheme}://)")
    host = (parts.hostname or "").lower()
    if not host or not _HOST_RE.match(host if ":" not in host else f"[{host}]"):
        raise ProfileError(f"the {what} {value.strip()!r} is not a valid URL: it has no valid host name")
    if parts.username or parts.password:
        raise ProfileError(f"the {what} must not contain a user name or password")
    if parts.query or parts.fragment:
        raise ProfileError(f"the {what} must not contain '?' or '#'")
    if " " in text:
        raise ProfileError(
            f"the {what} {text!r} is not a valid URL: it contains a space at position {text.index(' ') + 1}"
        )
    if scheme == "http" and not is_loopback_host(host):
        raise ProfileError(
            f"the {what} uses plain HTTP: the client secret and the tokens would travel unencrypted to "
            f"{host}. Use https:// (plain HTTP is accepted only for a simulator on this machine: localhost, "
            "127.0.0.1 or ::1)"
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = parts.path.rstrip("/")
    if not keep_path and path:
        raise ProfileError(f"the {what} must be a bare host, such as https://gateway.eu1.mindsphere.io")
    return urlunsplit((scheme, netloc, path, "", ""))


def expand_gateway(value: str) -> str:
    """``eu1`` -> ``https://gateway.eu1.mindsphere.io``; a URL is validated and normalised.

    Plain HTTP is refused except for a loopback host (the simulator). An unknown region or a host without
    a dot is accepted: ``gateway_warnings`` says what looks wrong.
    """
    text = _clean(value, "gateway URL", allow_spaces=True)
    if _REGION_RE.match(text.lower()):
        return f"https://gateway.{text.lower()}.mindsphere.io"
    return _normalise_url(text, "gateway URL", keep_path=False)


def validate_token_url(value: str) -> str:
    url = _normalise_url(value, "token URL", keep_path=True)
    if not urlsplit(url).path:
        raise ProfileError(f"the token URL {url!r} has no path (expected .../oauth/token)")
    return url


def region_of(url: str) -> str | None:
    """The Insights Hub region of a gateway or token URL (``gateway.eu1...``, ``acme.piam.eu1...``)."""
    host = (urlsplit(url).hostname or "").lower()
    match = _GATEWAY_HOST_RE.match(host) or _PIAM_HOST_RE.match(host)
    return match.group(1) if match else None


def _region_known(region: str) -> bool:
    return region.split("-", 1)[0] in KNOWN_REGIONS


def _host_warning(url: str, what: str) -> str | None:
    host = (urlsplit(url).hostname or "").lower()
    if host and "." not in host and ":" not in host and not is_loopback_host(host):
        return (
            f"the {what} host {host!r} has no dot: is it a typo? Insights Hub hosts look like "
            "gateway.eu1.mindsphere.io"
        )
    region = region_of(url)
    if region is not None and not _region_known(region):
        return (
            f"{region!r} is not a known Insights Hub region (known: {', '.join(KNOWN_REGIONS)}); check the "
            f"{what} {url}"
        )
    return None


def gateway_warnings(value: str) -> list[str]:
    """What looks wrong about an accepted gateway value: an unknown region (``eu9``), a host without a
    dot (``notaurl``). Empty when nothing does, or when the value is refused anyway."""
    try:
        url = expand_gateway(value)
    except ProfileError:
        return []
    warning = _host_warning(url, "gateway")
    return [warning] if warning else []


def profile_warnings(profile: Profile) -> list[str]:
    """Warnings for a valid profile: unknown regions, hosts without a dot, a token URL in another region
    than the gateway. The CLI prints them and the form shows them; none stops the profile being saved."""
    warnings = gateway_warnings(profile.gateway)
    token_warning = _host_warning(profile.token_url, "token URL")
    if token_warning and token_warning not in warnings:
        warnings.append(token_warning)
    gateway_region, token_region = region_of(profile.gateway), region_of(profile.token_url)
    if gateway_region and token_region and gateway_region != token_region:
        warnings.append(
            f"the token URL is in region {token_region} but the gateway in {gateway_region}: tokens from one "
            "region are not accepted in another"
        )
    return warnings


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


# Binding-key labels, normalised (lower case, no spaces, '_' or '-'): the IIoT for Makers pop-up (TokenURL,
# clientID, clientSecret), the welcome e-mail (Token URL, Client ID, Client Secret) and the App Service
# pop-up (Access Key = the client id, Secret Key = the client secret).
_LABELS: dict[str, str] = {
    "tokenurl": "token_url",
    "tokenendpoint": "token_url",
    "clientid": "client_id",
    "accesskey": "client_id",
    "clientsecret": "client_secret",
    "secretkey": "client_secret",
}
_FIELD_NAMES = {
    "token_url": "TokenURL",
    "client_id": "clientID (Access Key)",
    "client_secret": "clientSecret (Secret Key)",
}
_LABEL_WORDS = (
    r"token[\s_-]*(?:url|endpoint)|client[\s_-]*id|client[\s_-]*secret|access[\s_-]*key|secret[\s_-]*key"
)
# Invisible characters that may sit around a label (the value itself is checked by clean_value).
_EDGE = r"[\s\u200b-\u200d\u2060\ufeff]"
_LABEL_RE = re.compile(
    rf"""^{_EDGE}*(?:[-*\u2022\u00b7>]+{_EDGE}*)?(?:\*\*|__)?["']?({_LABEL_WORDS})["']?(?:\*\*|__)?"""
    rf"""[ \u00a0]*(?:(?:[:=]|\t)[ \t\u00a0]*(?:\*\*|__)?[ \t\u00a0]*(.*?)|{_EDGE}*)$""",
    re.IGNORECASE,
)


def _label_key(label: str) -> str:
    return _LABELS[re.sub(r"[\s_-]", "", label.lower())]


def _bare_label(cell: str) -> str | None:
    """The field key when ``cell`` is a label with no value, else None."""
    match = _LABEL_RE.match(cell.strip())
    if match is None or (match.group(2) or "").strip():
        return None
    return _label_key(match.group(1))


def labelled_value(line: str) -> tuple[str, str] | None:
    """``(field, value)`` for one line "label: value" (any label ``parse_binding_keys`` reads, with ``:``,
    ``=`` or a tab), the field being ``token_url``, ``client_id`` or ``client_secret``; else None. The value
    is not cleaned here (the field's own rule names a refused character)."""
    text = strip_bom(line).strip()
    if not text or "\n" in text or "\r" in text:
        return None
    match = _LABEL_RE.match(text)
    value = _clean_value(match.group(2) or "") if match else ""
    if match is None or not value:
        return None
    return _label_key(match.group(1)), value


def is_bare_label(text: str) -> bool:
    """True when ``text`` is a binding-key label still waiting for its value ("Access Key:", "clientID")."""
    return _bare_label(text) is not None


def _clean_value(value: str) -> str:
    text = strip_bom(value).strip().rstrip(",").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        text = text[1:-1].strip()
    return text


def _is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def parse_binding_keys(text: str, *, gateway: str | None = None) -> BindingKeys:
    """Parse pasted binding keys: the tenant's pop-up, the App Service pop-up or the welcome e-mail.

    Labels, in any order and case: ``TokenURL``/``Token URL``, ``clientID``/``Client ID``/``Access Key``,
    ``clientSecret``/``Client Secret``/``Secret Key``; between label and value ``:``, ``=``, tabs or a line
    break. Also accepted: a tab-separated header row of labels followed by a row of values; a JSON object;
    bare values (a URL is recognised as the token URL, the other lines are the client id then the client
    secret, as in the pop-up). Lines of prose around the values (an e-mail) are ignored.

    With only the client id and the secret (the App Service pop-up's two keys), the token URL is derived
    for ``gateway``'s region and the tenant in the client id, and ``token_url_derived`` is set; without a
    gateway (or a tenant) ``token_url`` is empty. A leading byte-order mark is dropped; an invisible or
    control character inside a value is refused, naming it. Raises ``ProfileError``; no message holds the
    secret.
    """
    found: dict[str, str] = {}
    text = strip_bom(text)
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            for key, value in data.items():
                norm = re.sub(r"[\s_-]", "", str(key).lower())
                if norm in _LABELS and isinstance(value, str) and _LABELS[norm] not in found:
                    found[_LABELS[norm]] = value
            return _binding_keys_from(found, gateway)

    lines = [line for line in (strip_bom(raw).strip() for raw in text.splitlines()) if line]
    # A tab-separated header row of labels followed by a row of values.
    if len(lines) >= 2 and "\t" in lines[0]:
        header = [_bare_label(cell) for cell in lines[0].split("\t") if cell.strip()]
        values = [cell.strip() for cell in lines[1].split("\t") if cell.strip()]
        if header and None not in header and len(values) == len(header):
            for key, value in zip(header, values, strict=True):
                found.setdefault(str(key), _clean_value(value))
            return _binding_keys_from(found, gateway)

    pending: str | None = None
    bare: list[str] = []
    for line in lines:
        match = _LABEL_RE.match(line)
        if match:
            key = _label_key(match.group(1))
            value = _clean_value(match.group(2) or "")
            if value:
                found.setdefault(key, value)
                pending = None
            else:
                pending = key
            continue
        if line in ("{", "}"):
            continue
        if pending is not None:
            found.setdefault(pending, _clean_value(line))
            pending = None
            continue
        value = _clean_value(line)
        if value and not any(ch in " \t\u00a0" for ch in value):
            bare.append(value)  # a single word; a line with spaces is prose and ignored

    if not found:
        urls = [v for v in bare if _is_url(v)]
        rest = [v for v in bare if not _is_url(v)]
        if len(bare) == 3 and len(urls) != 1:
            raise ProfileError("could not tell which of the three lines is the TokenURL")
        if len(bare) not in (2, 3) or len(urls) > 1 or (len(bare) == 2 and urls):
            lines_word = "value line" if len(bare) == 1 else "value lines"
            raise ProfileError(
                "expected the three binding keys (TokenURL, clientID, clientSecret) or the two keys of the "
                f"App Service (Access Key, Secret Key), got {len(bare)} {lines_word}"
            )
        if urls:
            found["token_url"] = urls[0]
        found["client_id"], found["client_secret"] = rest[0], rest[1]
    else:
        # Labelled values plus unlabelled single words: a URL fills a missing token URL; the other words
        # fill a missing client id and secret in pop-up order, but only when they are exactly as many.
        if "token_url" not in found:
            urls = [v for v in bare if _is_url(v)]
            if len(urls) == 1:
                found["token_url"] = urls[0]
        missing = [k for k in ("client_id", "client_secret") if k not in found]
        rest = [v for v in bare if not _is_url(v)]
        if missing and len(rest) == len(missing):
            found.update(zip(missing, rest, strict=True))
    return _binding_keys_from(found, gateway)


def _binding_keys_from(found: Mapping[str, str], gateway: str | None = None) -> BindingKeys:
    missing = [_FIELD_NAMES[k] for k in ("client_id", "client_secret") if not found.get(k)]
    if missing:  # the token URL is not required: it can be derived from the region and the client id
        raise ProfileError("binding keys incomplete: missing " + ", ".join(missing))
    client_id = _clean(found["client_id"], "client id")
    try:
        secret = clean_secret(found["client_secret"], "client secret")
    except InputError as exc:
        raise ProfileError(str(exc)) from None
    if found.get("token_url"):
        return BindingKeys(validate_token_url(found["token_url"]), client_id, secret)
    parts = parse_client_id(client_id)
    if gateway and gateway.strip() and parts is not None:
        return BindingKeys(derive_token_url(gateway, parts.tenant), client_id, secret, token_url_derived=True)
    return BindingKeys("", client_id, secret)


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
    production: bool = False,
    ca_bundle: str | None = None,
) -> Profile:
    """Build a validated profile from user input, filling what can be derived.

    The style is detected from the token URL unless given; tenant, app name and version come from a
    client id of the form ``<tenant>-<app>-<version>-<suffix>`` unless given; an empty token URL is
    derived from the gateway and tenant. Every field goes through ``clean_value`` first (a leading BOM and
    surrounding whitespace removed, invisible characters refused, naming them).
    """
    client_id = _clean(client_id, "client id")
    parts = parse_client_id(client_id)
    tenant = _clean(tenant, "tenant") or (parts.tenant if parts else "")
    app_name = _clean(app_name, "app name") or (parts.app if parts else "")
    app_version = _clean(app_version, "app version") or (parts.version if parts else "")
    token_url = _clean(token_url, "token URL", allow_spaces=True)
    if not token_url:
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
        production=production,
        ca_bundle=ca_bundle,
    )
    return normalise_profile(profile)


def normalise_profile(profile: Profile) -> Profile:
    """Validate every field and return the normalised profile (raises ``ProfileError``).

    Each field is cleaned by ``clean_value``: a leading BOM and surrounding whitespace go; an invisible or
    control character (or a space, except in the CA bundle path) is refused with a message naming it.
    """
    client_id = _clean(profile.client_id, "client id")
    if not client_id:
        raise ProfileError("the client id is empty")
    tenant = _clean(profile.tenant, "tenant")
    app_name = _clean(profile.app_name, "app name")
    app_version = _clean(profile.app_version, "app version")
    if profile.style not in STYLES:
        raise ProfileError(f"unknown credential style {profile.style!r}: use {' or '.join(STYLES)}")
    if profile.style == STYLE_APP and not (app_name and app_version):
        raise ProfileError("app credentials need an app name and an app version")
    if profile.style == STYLE_APP and not tenant:
        raise ProfileError("app credentials need a tenant")
    ca_bundle = _clean(profile.ca_bundle, "CA bundle path", allow_spaces=True) if profile.ca_bundle else None
    return profile.replace(
        name=validate_name(profile.name),
        gateway=expand_gateway(profile.gateway),
        token_url=validate_token_url(profile.token_url),
        client_id=client_id,
        tenant=tenant,
        app_name=app_name,
        app_version=app_version,
        read_only=bool(profile.read_only),
        production=bool(profile.production),
        ca_bundle=ca_bundle or None,
    )


# --------------------------------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------------------------------
def _profile_to_table(profile: Profile) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for name in SAVED_FIELDS:
        value = getattr(profile, name)
        if value is None or (name == "production" and not value):  # written only when set
            continue
        table[name] = value
    return table


def _profile_from_table(name: str, table: Any, path: Path) -> Profile:
    if not isinstance(table, dict):
        raise ProfileError(f"profile {name!r} in {path} is not a table")
    kwargs: dict[str, Any] = {}
    for key in SAVED_FIELDS:
        if key in table:
            kwargs[key] = table[key]
    for key in ("gateway", "token_url", "client_id"):
        if not isinstance(kwargs.get(key), str):
            raise ProfileError(f"profile {name!r} in {path} has no {key}")
    for key in ("style", "tenant", "app_name", "app_version", "ca_bundle"):
        if key in kwargs and not isinstance(kwargs[key], str):
            raise ProfileError(f"profile {name!r} in {path}: {key} must be a string")
    for key in ("read_only", "production"):
        if key in kwargs and not isinstance(kwargs[key], bool):
            raise ProfileError(f"profile {name!r} in {path}: {key} must be true or false")
    try:
        return normalise_profile(Profile(name=name, **kwargs))
    except ProfileError as exc:
        raise ProfileError(f"profile {name!r} in {path}: {exc}") from None


class ProfileStore:
    """The profiles file; ``path=None`` keeps the profiles in memory (the demo).

    The file is read on first use (or by ``load()``); every mutation saves atomically (mode 0600).
    ``changed_on_disk()`` tells whether something else (another ihub, an editor) wrote it since.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._profiles: dict[str, Profile] = {}
        self._default: str | None = None
        self._loaded = path is None
        self._stamp: tuple[int, int, int] | None = None  # the file as last read or written

    # -- reading ------------------------------------------------------------------------------------
    def load(self) -> None:
        """(Re-)read the file. Raises ``ProfileError`` for a broken file."""
        if self.path is None:
            self._loaded = True
            return
        stamp = _file_stamp(self.path)
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
        self._stamp = stamp

    def changed_on_disk(self) -> bool:
        """True when the file was written, created or removed by someone else since this store last read
        or wrote it (a ``stat``, no read). Always False in memory and before the first read."""
        return self.path is not None and self._loaded and _file_stamp(self.path) != self._stamp

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
        kept = {name: getattr(old, name) for name in profile.env_fields if name in SAVED_FIELDS}
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
        self._stamp = _file_stamp(self.path)


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells one version of a file from another without reading it: (inode, size, mtime in ns)."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


# --------------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------------
def env_value(environ: Mapping[str, str], variable: str, what: str, *, allow_spaces: bool = False) -> str:
    """The cleaned value of an environment variable ("" when unset); ``ProfileError`` naming the variable
    when it holds an invisible or control character."""
    try:
        return clean_value(environ.get(variable, ""), what, allow_spaces=allow_spaces)
    except InputError as exc:
        raise ProfileError(f"{variable}: {exc}") from None


def apply_env_overrides(profile: Profile | None, environ: Mapping[str, str]) -> Profile | None:
    """Apply ``IHUB_GATEWAY``, ``IHUB_TOKEN_URL`` and ``IHUB_CLIENT_ID`` to ``profile``.

    Overridden fields are listed in ``env_fields``. A token URL from the environment also sets the style
    it implies; a client id from the environment that has the ``<tenant>-<app>-<version>`` form also sets
    tenant, app name and version. With no profile but all three variables set, an ad-hoc profile named
    ``IHUB_PROFILE`` (or ``env``) is returned. Raises ``ProfileError`` naming the variable when a value is
    not acceptable, invisible characters included (every value goes through ``clean_value``).
    """
    gateway = env_value(environ, ENV_GATEWAY, "gateway URL", allow_spaces=True)
    token_url = env_value(environ, ENV_TOKEN_URL, "token URL", allow_spaces=True)
    client_id = env_value(environ, ENV_CLIENT_ID, "client id")
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
        changes["client_id"] = client_id
        parts = parse_client_id(client_id)
        if parts is not None:
            changes.update(tenant=parts.tenant, app_name=parts.app, app_version=parts.version)

    if profile is None:
        if not (gateway and token_url and client_id):
            return None
        name = env_value(environ, ENV_PROFILE, "profile name") or ENV_PROFILE_DEFAULT_NAME
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
    """The profile to use: ``--profile`` > ``IHUB_PROFILE`` > the default > the only profile > None.

    Both names are cleaned (``ProfileError`` for an invisible character in them).
    """
    if cli_name and cli_name.strip():
        return _clean(cli_name, "profile name")
    from_env = env_value(environ, ENV_PROFILE, "profile name")
    if from_env:
        return from_env
    if store.default_name:
        return store.default_name
    names = store.names()
    if len(names) == 1:
        return names[0]
    return None
