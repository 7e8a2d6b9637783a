"""Issue 7 sections 5 and 7 in the config layer: one cleaning rule at every input boundary (pastes, profile
fields, environment variables, files read, the secret store), plain HTTP only on loopback, warnings for an
unknown region or a dotless host, plain words instead of class names, whole-value masking."""

from __future__ import annotations

import pytest

from tests.conftest import InMemoryKeyring, files_containing
from tui.api.errors import mask_secret
from tui.config.inputs import InputError, clean_secret, clean_value
from tui.config.paths import AppPaths
from tui.config.profiles import (
    ProfileError,
    ProfileStore,
    apply_env_overrides,
    expand_gateway,
    gateway_warnings,
    parse_binding_keys,
    profile_from_fields,
    profile_warnings,
    select_profile_name,
    validate_token_url,
)
from tui.config.secrets import SecretStore, SecretValueError, StoreKind, _first_line
from tui.config.vault import VaultPassphraseError
from tui.errors import error_text

SECRET25 = "FAKE-secret-0123456789abc"
TOKEN_URL = "https://acme.piam.eu1.mindsphere.io/oauth/token"
CID = "acme-tool-1.0.0-1234"


# -- the rule ---------------------------------------------------------------------------------------------
def test_trailing_zero_width_space_in_a_secret_is_named() -> None:
    """The field report: stored as it was, it later failed as "wrong client secret"."""
    assert len(SECRET25) == 25
    with pytest.raises(InputError) as info:
        clean_secret(SECRET25 + "\u200b")
    assert str(info.value) == "the client secret contains an invisible character, U+200B, at position 26"
    assert SECRET25 not in str(info.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc\u200bdef", "the client id contains an invisible character, U+200B, at position 4"),
        ("abc\u00a0def", "the client id contains an invisible character, U+00A0, at position 4"),
        ("abc\u2060def", "the client id contains an invisible character, U+2060, at position 4"),
        ("abc\ufeffdef", "the client id contains an invisible character, U+FEFF, at position 4"),
        ("abc\u202edef", "the client id contains an invisible character, U+202E, at position 4"),
        ("abc\ufe0fdef", "the client id contains an invisible character, U+FE0F, at position 4"),
        ("abc\x07def", "the client id contains a control character, U+0007, at position 4"),
        ("abc\x00def", "the client id contains a control character, U+0000, at position 4"),
        ("abc def", "the client id contains a space at position 4"),
        ("abc\tdef", "the client id contains a tab at position 4"),
        (
            "abc\ndef",
            "the client id contains a line break at position 4 (was more than one line pasted into it?)",
        ),
        (
            "abc\ufffddef",
            "the client id contains a replacement character, U+FFFD (text decoded with the wrong "
            "encoding), at position 4",
        ),
    ],
)
def test_every_invisible_or_control_character_is_refused_by_name(value: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        clean_value(value, "client id")
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "position"),
    [
        ("foo\x01bar", 4),
        ("\ufeff  foo\x01bar", 4),  # counted after the leading BOM and spaces are dropped
        (" \ufeff foo\x01bar", 4),
        # "MüllerMü" with decomposed umlauts (as copied from a macOS file name): 8 characters seen, 10 code
        # points; the control character is the 9th character the user counts (it was reported at 11).
        ("Mu\u0308llerMu\u0308\x01", 9),
        ("\U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7\x01", 3),  # two flags, two code points each
        ("\U0001f44d\U0001f3fda\x01", 3),  # an emoji with its skin tone is one character
        ("€€€\x01", 4),  # characters, not bytes
        ("ab\u034f", 3),  # a refused combining character counts itself
    ],
)
def test_a_refused_character_is_at_the_position_the_user_counts(value: str, position: int) -> None:
    with pytest.raises(InputError, match=f"U\\+(0001|034F), at position {position}$"):
        clean_value(value, "client id")
    with pytest.raises(InputError, match=f"at position {position}$"):
        parse_binding_keys(f"clientID: {value}\nclientSecret: {SECRET25}")


@pytest.mark.parametrize(
    "value", ["\ufeffabc", "  abc\r\n", "\ufeff abc \t", "\u00a0abc\u3000", " \ufeffabc"]
)
def test_leading_bom_and_surrounding_whitespace_are_removed(value: str) -> None:
    assert clean_value(value, "client id") == "abc"


def test_spaces_allowed_where_asked() -> None:
    assert clean_value(" /etc/ssl/My CA.pem ", "CA bundle path", allow_spaces=True) == "/etc/ssl/My CA.pem"
    with pytest.raises(InputError, match="U\\+200B"):
        clean_value("/etc/My\u200bCA.pem", "CA bundle path", allow_spaces=True)


@pytest.mark.parametrize("short", ["s", "wrong", "x1", "11-chars-ab"])
def test_secrets_too_short_to_be_real_are_refused(short: str) -> None:
    with pytest.raises(InputError, match="too short to be real"):
        clean_secret(short)
    with pytest.raises(InputError, match="is empty"):
        clean_secret(" \n")


# -- every boundary of the config layer ------------------------------------------------------------------
def test_binding_keys_paste_starting_with_a_bom() -> None:
    """The field report: "the token URL must start with https:// (got ://)"."""
    keys = parse_binding_keys(f"\ufeffTokenURL: {TOKEN_URL}\nclientID: {CID}\nclientSecret: {SECRET25}\n")
    assert keys == (TOKEN_URL, CID, SECRET25, False)


def test_binding_keys_paste_with_an_invisible_character_in_the_secret() -> None:
    text = f"TokenURL: {TOKEN_URL}\nclientID: {CID}\nclientSecret: {SECRET25}\u200b\n"
    with pytest.raises(ProfileError) as info:
        parse_binding_keys(text)
    assert str(info.value) == "the client secret contains an invisible character, U+200B, at position 26"


def test_profile_fields_are_cleaned_or_refused() -> None:
    profile = profile_from_fields("\ufeffprod ", " eu1\n", f"\ufeff{TOKEN_URL} ", f" {CID}\t")
    assert (profile.name, profile.gateway, profile.token_url, profile.client_id) == (
        "prod",
        "https://gateway.eu1.mindsphere.io",
        TOKEN_URL,
        CID,
    )
    assert profile.tenant == "acme"
    with pytest.raises(
        ProfileError, match="the client id contains an invisible character, U\\+200B, at position 5"
    ):
        profile_from_fields("p", "eu1", TOKEN_URL, "acme\u200b-tool-1.0.0-1")
    with pytest.raises(ProfileError, match="the token URL contains an invisible character, U\\+200B"):
        profile_from_fields("p", "eu1", TOKEN_URL + "\u200b", CID)
    with pytest.raises(ProfileError, match="the gateway URL contains an invisible character, U\\+00AD"):
        profile_from_fields("p", "gateway.eu1\u00ad.mindsphere.io", TOKEN_URL, CID)
    with pytest.raises(ProfileError, match="the profile name contains an invisible character, U\\+200D"):
        profile_from_fields("pr\u200dod", "eu1", TOKEN_URL, CID)
    with pytest.raises(ProfileError, match="the tenant contains a control character, U\\+001B"):
        profile_from_fields("p", "eu1", TOKEN_URL, CID, tenant="ac\x1bme")


def test_environment_variables_are_cleaned_or_refused() -> None:
    environ = {
        "IHUB_GATEWAY": "\ufeffeu1\n",
        "IHUB_TOKEN_URL": f"{TOKEN_URL}\n",
        "IHUB_CLIENT_ID": f"\ufeff{CID}\r\n",
    }
    adhoc = apply_env_overrides(None, environ)
    assert adhoc is not None and adhoc.client_id == CID and adhoc.token_url == TOKEN_URL
    with pytest.raises(ProfileError) as info:
        apply_env_overrides(None, {**environ, "IHUB_CLIENT_ID": CID + "\u200b"})
    assert str(info.value) == (
        "IHUB_CLIENT_ID: the client id contains an invisible character, U+200B, at position 21"
    )
    with pytest.raises(ProfileError, match="IHUB_PROFILE: the profile name contains an invisible character"):
        select_profile_name(ProfileStore(None), {"IHUB_PROFILE": "pr\u200bod"})
    assert select_profile_name(ProfileStore(None), {"IHUB_PROFILE": "\ufeffprod\n"}) == "prod"


def test_environment_secret_is_cleaned_or_refused(paths: AppPaths) -> None:
    store = SecretStore(paths, environ={"IHUB_CLIENT_SECRET": f"\ufeff{SECRET25}\n"})
    secret = store.get("any")
    assert secret is not None and secret.value == SECRET25 and secret.kind is StoreKind.ENV
    bad = SecretStore(paths, environ={"IHUB_CLIENT_SECRET": SECRET25 + "\u200b"})
    with pytest.raises(SecretValueError) as info:
        bad.get("any")
    assert str(info.value) == (
        "IHUB_CLIENT_SECRET: the client secret contains an invisible character, U+200B, at position 26"
    )


def test_secret_store_set_cleans_or_refuses_and_stores_nothing_bad(
    paths: AppPaths, memory_keyring: InMemoryKeyring, ihub_home
) -> None:
    store = SecretStore(paths, environ={})
    with pytest.raises(SecretValueError, match="U\\+200B, at position 26"):
        store.set("prod", SECRET25 + "\u200b")
    with pytest.raises(SecretValueError, match="too short to be real"):
        store.set("prod", "s")
    assert memory_keyring.store == {} and store.where("prod") is None
    assert store.set("prod", f"\ufeff {SECRET25}\r\n") is StoreKind.KEYRING
    assert memory_keyring.store[("ihub:prod", "client_secret")] == SECRET25
    assert store.set("mem", f"{SECRET25}\n", StoreKind.SESSION) is StoreKind.SESSION
    assert store.get("mem").value == SECRET25  # type: ignore[union-attr]
    assert files_containing(ihub_home, SECRET25) == []


def test_profiles_file_read_with_a_bom_and_with_an_invisible_character(paths: AppPaths) -> None:
    paths.ensure(paths.config_dir)
    table = f'[profiles.prod]\ngateway = "eu1"\ntoken_url = "{TOKEN_URL}"\nclient_id = "{CID}"\n'
    paths.profiles_file.write_bytes(b"\xef\xbb\xbf" + table.encode())  # saved by Notepad
    assert ProfileStore(paths.profiles_file).get("prod").client_id == CID
    paths.profiles_file.write_text(table.replace(CID, CID + "\\u200B"))
    with pytest.raises(ProfileError) as info:
        ProfileStore(paths.profiles_file).load()
    assert "profile 'prod'" in str(info.value)
    assert "the client id contains an invisible character, U+200B, at position 21" in str(info.value)


# -- section 7: plain HTTP, warnings, plain words, masking -------------------------------------------
@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:8080", "http://gateway.eu1.mindsphere.io", "http://notlocalhost"]
)
def test_plain_http_off_loopback_is_refused(url: str) -> None:
    with pytest.raises(ProfileError) as info:
        expand_gateway(url)
    assert "plain HTTP" in str(info.value) and "unencrypted" in str(info.value)
    with pytest.raises(ProfileError, match="plain HTTP"):
        validate_token_url(url + "/oauth/token")
    with pytest.raises(ProfileError, match="IHUB_GATEWAY: the gateway URL uses plain HTTP"):
        apply_env_overrides(None, {"IHUB_GATEWAY": url})


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:8080", "http://sim.ihub.localhost"]
)
def test_plain_http_on_loopback_is_the_simulator(url: str) -> None:
    assert expand_gateway(url) == url


def test_unknown_region_and_dotless_host_warn() -> None:
    assert expand_gateway("eu9") == "https://gateway.eu9.mindsphere.io"
    (warning,) = gateway_warnings("eu9")
    assert warning.startswith("'eu9' is not a known Insights Hub region")
    assert expand_gateway("notaurl") == "https://notaurl"
    (warning,) = gateway_warnings("notaurl")
    assert "'notaurl' has no dot" in warning
    for fine in (
        "eu1",
        "eu2",
        "eu1-int",
        "https://gateway.eu1.mindsphere.io",
        "http://127.0.0.1:8080",
        "http://localhost",
    ):
        assert gateway_warnings(fine) == [], fine
    assert gateway_warnings("ftp://refused") == []  # refused anyway: the error says why


def test_profile_warnings_include_a_region_mismatch() -> None:
    profile = profile_from_fields("p", "eu1", "https://acme.piam.eu2.mindsphere.io/oauth/token", CID)
    assert profile_warnings(profile) == [
        "the token URL is in region eu2 but the gateway in eu1: tokens from one region are not accepted in "
        "another"
    ]
    assert profile_warnings(profile_from_fields("q", "eu1", TOKEN_URL, CID)) == []


def test_a_broken_url_is_not_a_valid_url() -> None:
    """The field report: "must start with https:// (got ://)"."""
    with pytest.raises(ProfileError) as info:
        validate_token_url("ht!tp://::not a url")
    assert str(info.value) == "the token URL 'ht!tp://::not a url' is not a valid URL"
    with pytest.raises(ProfileError, match="must start with https:// \\(got ftp://\\)"):
        validate_token_url("ftp://x.example/oauth/token")


def test_error_text_never_shows_a_class_name() -> None:
    assert error_text(VaultPassphraseError("wrong vault passphrase")) == "wrong vault passphrase"
    assert error_text(TimeoutError()) == "no answer in time"
    assert error_text(KeyError("prod")) == "not found: prod"
    assert (
        error_text(FileNotFoundError(2, "No such file or directory", "/x/ca.pem"))
        == "file not found: /x/ca.pem"
    )
    assert error_text(RuntimeError()).startswith("an unexpected error (details in ")
    assert error_text(ValueError(f"echo {SECRET25}"), secret=SECRET25) == "echo ***"


def test_keyring_errors_in_plain_words() -> None:
    import keyring.errors

    assert _first_line(keyring.errors.KeyringLocked()) == "the keyring is locked"
    assert _first_line(RuntimeError(f"D-Bus said {SECRET25}"), SECRET25) == "D-Bus said ***"
    assert "Error" not in _first_line(keyring.errors.InitError())


def test_masking_replaces_whole_values_only() -> None:
    """The field report: with the secret "s", "Connection refu***ed" and "***kipped"."""
    text = "Connection refused; skipped"
    assert mask_secret(text, "s") == text
    assert mask_secret(f"got {SECRET25} back", SECRET25) == "got *** back"
    assert mask_secret(text, "") == text and mask_secret(text, None) == text


def test_only_the_stores_that_will_be_used_are_offered(paths: AppPaths, fail_keyring: None) -> None:
    """Issue 7: the demo offered the vault file, then kept the secret for the session only."""
    from tui.services import SessionSecretStore

    assert SessionSecretStore().available_kinds() == (StoreKind.SESSION,)
    assert SecretStore(paths, environ={}).available_kinds() == (
        StoreKind.VAULT,
        StoreKind.SESSION,
        StoreKind.ENV,
    )
    assert SecretStore(None, environ={}).available_kinds() == (StoreKind.SESSION, StoreKind.ENV)


def test_a_usable_keyring_is_offered_first(paths: AppPaths) -> None:
    assert SecretStore(paths, environ={}).available_kinds()[0] is StoreKind.KEYRING
