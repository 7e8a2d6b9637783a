"""Profiles: TOML round trip, derivations, binding-key pastes, environment overrides."""

from __future__ import annotations

import stat
import tomllib

import pytest

from tui.config.paths import AppPaths
from tui.config.profiles import (
    STYLE_APP,
    STYLE_CLIENT,
    ClientIdParts,
    Profile,
    ProfileError,
    ProfileStore,
    apply_env_overrides,
    derive_token_url,
    detect_style,
    expand_gateway,
    parse_binding_keys,
    parse_client_id,
    profile_from_fields,
    select_profile_name,
)

TOKEN_URL = "https://acme.piam.eu1.mindsphere.io/oauth/token"
APP_TOKEN_URL = "https://gateway.eu1.mindsphere.io/api/technicaltokenmanager/v3/oauth/token"
SECRET = "Zq8-very-secret-value-42"


def _profile(name: str = "prod", **kw: object) -> Profile:
    fields: dict[str, object] = {
        "gateway": "eu1",
        "token_url": TOKEN_URL,
        "client_id": "acme-tool-1.0.0-123456",
    }
    fields.update(kw)
    return profile_from_fields(name, **fields)  # type: ignore[arg-type]


# -- gateway, token URL, style ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("eu1", "https://gateway.eu1.mindsphere.io"),
        ("EU2", "https://gateway.eu2.mindsphere.io"),
        ("eu1-int", "https://gateway.eu1-int.mindsphere.io"),
        ("https://gateway.eu1.mindsphere.io/", "https://gateway.eu1.mindsphere.io"),
        ("HTTPS://Gateway.CN1.MindSphere.io", "https://gateway.cn1.mindsphere.io"),
        ("gateway.us1.mindsphere.io", "https://gateway.us1.mindsphere.io"),
        ("http://127.0.0.1:54321", "http://127.0.0.1:54321"),
    ],
)
def test_expand_gateway(value: str, expected: str) -> None:
    assert expand_gateway(value) == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "empty"),
        ("ftp://gateway.eu1.mindsphere.io", "https://"),
        ("https://", "host"),
        ("https://gate way.eu1.mindsphere.io", "host"),
        ("https://gateway.eu1.mindsphere.io/api/assetmanagement/v3", "bare host"),
        ("https://gateway.eu1.mindsphere.io/?x=1", "'?'"),
        ("https://user:pw@gateway.eu1.mindsphere.io", "password"),
        ("https://gateway.eu1.mindsphere.io:99999", "not a valid URL"),
    ],
)
def test_expand_gateway_rejects_bad_urls_clearly(value: str, words: str) -> None:
    with pytest.raises(ProfileError) as info:
        expand_gateway(value)
    message = str(info.value)
    assert words in message
    assert "\n" not in message


def test_derive_token_url_follows_the_sdk_rule() -> None:
    assert derive_token_url("eu1", "acme") == TOKEN_URL
    assert derive_token_url("https://gateway.eu2.mindsphere.io", "Acme") == (
        "https://acme.piam.eu2.mindsphere.io/oauth/token"
    )
    # The simulator serves its token endpoints on the gateway itself.
    assert derive_token_url("http://127.0.0.1:8080", "demo") == "http://127.0.0.1:8080/oauth/token"
    assert derive_token_url("eu1", "acme", STYLE_APP) == APP_TOKEN_URL
    with pytest.raises(ProfileError, match="tenant"):
        derive_token_url("eu1", "")


def test_detect_style_from_token_url() -> None:
    assert detect_style(TOKEN_URL) == STYLE_CLIENT
    assert detect_style(APP_TOKEN_URL) == STYLE_APP
    assert STYLE_CLIENT == "client_credentials" and STYLE_APP == "app_credentials"


# -- client id -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("client_id", "parts"),
    [
        ("demo-ihub-1.0.0-sim", ClientIdParts("demo", "ihub", "1.0.0", "sim")),
        ("acme-my-app-2.3.1-a1b2c3", ClientIdParts("acme", "my-app", "2.3.1", "a1b2c3")),
        ("acme-tool-v1.2-x-y", ClientIdParts("acme", "tool", "v1.2", "x-y")),
        ("acme-tool-1.0.0", ClientIdParts("acme", "tool", "1.0.0", "")),
        ("acme-service-credential", None),
        ("acme-1.0.0-x", None),
        ("justanid", None),
    ],
)
def test_parse_client_id(client_id: str, parts: ClientIdParts | None) -> None:
    assert parse_client_id(client_id) == parts


def test_client_id_fills_tenant_app_and_version() -> None:
    profile = profile_from_fields("p", "eu1", APP_TOKEN_URL, "acme-dashboard-2.0.1-77aa")
    assert (profile.tenant, profile.app_name, profile.app_version) == ("acme", "dashboard", "2.0.1")
    assert profile.style == STYLE_APP
    # Given values win over derived ones; an empty token URL is derived from gateway and tenant.
    explicit = profile_from_fields("q", "eu1", "", "acme-dashboard-2.0.1-77aa", tenant="other")
    assert explicit.tenant == "other"
    assert explicit.token_url == "https://other.piam.eu1.mindsphere.io/oauth/token"


def test_app_credentials_need_app_name_and_version() -> None:
    with pytest.raises(ProfileError, match="app name"):
        profile_from_fields("p", "eu1", APP_TOKEN_URL, "opaque-id")


# -- binding keys ----------------------------------------------------------------------------------
CID = "acme-tool-1.0.0-123456"
BINDING_LAYOUTS = {
    "colon": f"TokenURL: {TOKEN_URL}\nclientID: {CID}\nclientSecret: {SECRET}\n",
    "equals-spaces": f"  TokenURL = {TOKEN_URL}\r\n clientID = {CID}\r\nclientSecret = {SECRET}",
    "tabs": f"TokenURL\t{TOKEN_URL}\nclientID\t{CID}\nclientSecret\t{SECRET}",
    "label-above-value": f"TokenURL\n{TOKEN_URL}\n\nclientID\n{CID}\n\nclientSecret\n{SECRET}\n",
    "header-row": f"TokenURL\tclientID\tclientSecret\n{TOKEN_URL}\t{CID}\t{SECRET}",
    "spaced-labels": f"Token URL: {TOKEN_URL}\nClient ID: {CID}\nClient Secret: {SECRET}",
    "bare": f"{TOKEN_URL}\n{CID}\n{SECRET}\n",
    "json": (f'{{\n  "tokenUrl": "{TOKEN_URL}",\n  "clientId": "{CID}",\n  "clientSecret": "{SECRET}"\n}}'),
    "quoted-lines": f'"TokenURL": "{TOKEN_URL}",\n"clientID": "{CID}",\n"clientSecret": "{SECRET}"',
    "other-order": f"clientSecret: {SECRET}\nTokenURL: {TOKEN_URL}\nclientID: {CID}",
}


@pytest.mark.parametrize("layout", sorted(BINDING_LAYOUTS))
def test_parse_binding_keys_layouts(layout: str) -> None:
    keys = parse_binding_keys(BINDING_LAYOUTS[layout])
    assert keys.token_url == TOKEN_URL
    assert keys.client_id == "acme-tool-1.0.0-123456"
    assert keys.client_secret == SECRET
    assert SECRET not in repr(keys)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"TokenURL: {TOKEN_URL}\nclientID: acme-tool-1.0.0-123456", "clientSecret"),
        ("just one line", "three"),
        (f"acme-tool-1.0.0-123456\n{SECRET}\nthird", "TokenURL"),
        (f"TokenURL: not a url at all\nclientID: x\nclientSecret: {SECRET}", "token URL"),
    ],
)
def test_parse_binding_keys_errors_never_echo_the_secret(text: str, words: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_binding_keys(text)
    assert words in str(info.value)
    assert SECRET not in str(info.value)


# -- store -----------------------------------------------------------------------------------------
def test_profile_round_trip_private_file_without_secret(paths: AppPaths) -> None:
    store = ProfileStore(paths.profiles_file)
    prod = store.add(_profile("prod", read_only=True, ca_bundle="/etc/ssl/corp.pem"))
    app = store.add(profile_from_fields("app", "eu2", "", "acme-dash-1.2.0-xy", style=STYLE_APP))
    store.set_default("app")

    mode = stat.S_IMODE(paths.profiles_file.stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(paths.config_dir.stat().st_mode) & 0o077 == 0
    text = paths.profiles_file.read_text()
    assert "secret" not in text.lower()
    assert "env_fields" not in text
    data = tomllib.loads(text)
    assert data["default"] == "app"
    assert data["profiles"]["prod"]["read_only"] is True

    again = ProfileStore(paths.profiles_file)
    assert again.names() == ["app", "prod"]
    assert again.get("prod") == prod
    assert again.get("app") == app
    assert again.get("app").token_url == APP_TOKEN_URL.replace("eu1", "eu2")
    assert again.default_name == "app"


def test_store_mutations(paths: AppPaths) -> None:
    store = ProfileStore(paths.profiles_file)
    store.add(_profile("prod"))
    assert store.default_name == "prod"  # the first profile becomes the default
    with pytest.raises(ProfileError, match="already exists"):
        store.add(_profile("prod"))
    with pytest.raises(ProfileError, match="invalid profile name"):
        store.add(_profile("bad name!"))
    copy = store.duplicate("prod", "staging")
    assert copy.client_id == store.get("prod").client_id
    store.update("prod", store.get("prod").replace(name="production", read_only=True))
    assert "prod" not in store and store.get("production").read_only
    assert store.default_name == "production"  # the default follows a rename
    with pytest.raises(ProfileError, match="already exists"):
        store.update("staging", store.get("staging").replace(name="production"))
    store.remove("production")
    assert store.default_name is None
    with pytest.raises(KeyError):
        store.get("production")
    with pytest.raises(KeyError):
        store.set_default("nope")
    assert ProfileStore(paths.profiles_file).names() == ["staging"]


def test_memory_store_writes_nothing(paths: AppPaths) -> None:
    store = ProfileStore(None)
    store.add(_profile("demo"))
    assert store.names() == ["demo"]
    assert not paths.profiles_file.exists()


def test_changed_on_disk_tells_a_write_by_someone_else(paths: AppPaths) -> None:
    store = ProfileStore(paths.profiles_file)
    assert not store.changed_on_disk()  # not read yet
    assert store.names() == [] and not store.changed_on_disk()  # read: no file yet
    store.add(_profile("prod"))
    assert not store.changed_on_disk()  # its own write
    other = ProfileStore(paths.profiles_file)
    other.add(_profile("staging"))  # another ihub (same size and second: the inode or time tells)
    assert store.changed_on_disk()
    store.load()
    assert not store.changed_on_disk() and store.names() == ["prod", "staging"]
    paths.profiles_file.unlink()
    assert store.changed_on_disk()
    memory = ProfileStore(None)
    memory.add(_profile("demo"))
    assert not memory.changed_on_disk()


def test_broken_file_gives_a_clear_error(paths: AppPaths) -> None:
    paths.ensure(paths.config_dir)
    paths.profiles_file.write_text("[profiles.x\n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        ProfileStore(paths.profiles_file).names()
    paths.profiles_file.write_text(
        '[profiles.x]\ngateway = "ftp://x"\ntoken_url = "https://a/b"\nclient_id = "c"\n'
    )
    with pytest.raises(ProfileError, match="profile 'x'"):
        ProfileStore(paths.profiles_file).load()


# -- environment -----------------------------------------------------------------------------------
def test_env_overrides_win_and_are_reported(paths: AppPaths) -> None:
    store = ProfileStore(paths.profiles_file)
    base = store.add(_profile("prod"))
    environ = {"IHUB_GATEWAY": "eu2", "IHUB_CLIENT_ID": "other-cli-3.0.0-zz"}
    over = apply_env_overrides(base, environ)
    assert over is not None
    assert over.gateway == "https://gateway.eu2.mindsphere.io"
    assert over.client_id == "other-cli-3.0.0-zz"
    assert over.tenant == "other"
    assert over.token_url == base.token_url
    assert {"gateway", "client_id", "tenant"} <= over.env_fields
    assert "token_url" not in over.env_fields
    # Saving an overridden profile keeps the file's own values for the env fields.
    store.update("prod", over.replace(read_only=True))
    saved = ProfileStore(paths.profiles_file).get("prod")
    assert saved.gateway == "https://gateway.eu1.mindsphere.io"
    assert saved.client_id == base.client_id
    assert saved.read_only and saved.env_fields == frozenset()

    app = apply_env_overrides(base, {"IHUB_TOKEN_URL": APP_TOKEN_URL})
    assert app is not None and app.style == STYLE_APP and {"token_url", "style"} <= app.env_fields
    assert apply_env_overrides(base, {}) == base
    with pytest.raises(ProfileError, match="IHUB_GATEWAY"):
        apply_env_overrides(base, {"IHUB_GATEWAY": "ftp://nope"})


def test_env_only_profile() -> None:
    environ = {
        "IHUB_GATEWAY": "eu1",
        "IHUB_TOKEN_URL": TOKEN_URL,
        "IHUB_CLIENT_ID": "acme-tool-1.0.0-123456",
    }
    adhoc = apply_env_overrides(None, environ)
    assert adhoc is not None and adhoc.name == "env" and adhoc.tenant == "acme"
    assert {"gateway", "token_url", "client_id"} <= adhoc.env_fields
    named = apply_env_overrides(None, {**environ, "IHUB_PROFILE": "ci"})
    assert named is not None and named.name == "ci"
    assert apply_env_overrides(None, {"IHUB_GATEWAY": "eu1"}) is None


def test_select_profile_name(paths: AppPaths) -> None:
    store = ProfileStore(paths.profiles_file)
    assert select_profile_name(store, {}) is None
    store.add(_profile("only"))
    store.set_default(None)
    assert select_profile_name(store, {}) == "only"
    store.add(_profile("second"))
    assert select_profile_name(store, {}) is None
    store.set_default("second")
    assert select_profile_name(store, {}) == "second"
    assert select_profile_name(store, {"IHUB_PROFILE": "only"}) == "only"
    assert select_profile_name(store, {"IHUB_PROFILE": "only"}, cli_name="second") == "second"


def test_to_credentials_for_both_styles() -> None:
    from tui.api.auth import CredentialStyle

    client = _profile("c").to_credentials(SECRET)
    assert client.style is CredentialStyle.CLIENT_CREDENTIALS and client.token_url == TOKEN_URL
    assert client.client_secret == SECRET and SECRET not in repr(client)
    app = profile_from_fields("a", "eu1", APP_TOKEN_URL, "acme-dash-1.2.0-xy").to_credentials(SECRET)
    assert app.style is CredentialStyle.APP_CREDENTIALS
    assert (app.app_name, app.app_version, app.host_tenant, app.user_tenant) == (
        "dash",
        "1.2.0",
        "acme",
        "acme",
    )
