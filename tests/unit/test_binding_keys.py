"""Issue 14: every label the seeds and pop-ups use (TokenURL, Token URL, clientID, Client ID, Access Key,
clientSecret, Client Secret, Secret Key), in any order and case, with ':', '=', tabs or line breaks; the App
Service's two-key paste with a derived token URL; the welcome e-mail's block with prose around it."""

from __future__ import annotations

import itertools

import pytest

from tui.config.profiles import ProfileError, parse_binding_keys

TOKEN_URL = "https://acme.piam.eu1.mindsphere.io/oauth/token"
CID = "acme-tool-1.0.0-1234"
SECRET = "FAKEsecretFAKEsecret"

LABEL_SETS = {
    "iiot-for-makers": ("TokenURL", "clientID", "clientSecret"),
    "welcome-e-mail": ("Token URL", "Client ID", "Client Secret"),
    "app-service": ("Token URL", "Access Key", "Secret Key"),
}
SEPARATORS = {
    "colon": ": ",
    "tight-colon": ":",
    "equals": " = ",
    "tab": "\t",
    "tabs": "\t\t",
    "line-break": "\n",
}
ORDERS = {"pop-up order": (0, 1, 2), "reversed": (2, 1, 0), "secret first": (2, 0, 1)}
CASES = {"as-is": str, "upper": str.upper, "lower": str.lower}


def _paste(labels: tuple[str, str, str], separator: str, order: tuple[int, ...], case=str) -> str:
    values = (TOKEN_URL, CID, SECRET)
    return "\n".join(f"{case(labels[i])}{separator}{values[i]}" for i in order) + "\n"


@pytest.mark.parametrize(
    ("label_set", "separator", "order"), list(itertools.product(LABEL_SETS, SEPARATORS, ORDERS))
)
def test_each_label_set_in_each_order_and_separator(label_set: str, separator: str, order: str) -> None:
    keys = parse_binding_keys(_paste(LABEL_SETS[label_set], SEPARATORS[separator], ORDERS[order]))
    assert keys == (TOKEN_URL, CID, SECRET, False)


@pytest.mark.parametrize(("label_set", "case"), list(itertools.product(LABEL_SETS, CASES)))
def test_labels_in_any_case(label_set: str, case: str) -> None:
    keys = parse_binding_keys(_paste(LABEL_SETS[label_set], ": ", (1, 0, 2), CASES[case]))
    assert keys == (TOKEN_URL, CID, SECRET, False)


def test_app_service_two_line_paste() -> None:
    """The field report: "expected the three binding-key lines ..., got 2 lines"."""
    text = f"Access Key: {CID}\nSecret Key: {SECRET}"
    keys = parse_binding_keys(text)
    assert (keys.client_id, keys.client_secret, keys.token_url, keys.token_url_derived) == (
        CID,
        SECRET,
        "",
        False,
    )
    derived = parse_binding_keys(text, gateway="eu1")
    assert derived.token_url == TOKEN_URL and derived.token_url_derived
    assert parse_binding_keys(text, gateway="https://gateway.eu2.mindsphere.io").token_url == (
        "https://acme.piam.eu2.mindsphere.io/oauth/token"
    )
    assert parse_binding_keys(f"Secret Key\t{SECRET}\nAccess Key\t{CID}", gateway="eu1") == (
        TOKEN_URL,
        CID,
        SECRET,
        True,
    )


def test_app_service_keys_with_tabs_and_the_token_url_line() -> None:
    """The field report: "the clientID contains spaces" (the label was taken as part of the value)."""
    text = f"Access Key\t{CID}\nSecret Key\t{SECRET}\nToken URL: {TOKEN_URL}"
    assert parse_binding_keys(text, gateway="eu2") == (TOKEN_URL, CID, SECRET, False)  # the given one wins


def test_two_key_paste_without_a_tenant_in_the_client_id_leaves_the_token_url_to_the_user() -> None:
    keys = parse_binding_keys(f"Access Key: opaqueid\nSecret Key: {SECRET}", gateway="eu1")
    assert keys.token_url == "" and not keys.token_url_derived


def test_two_bare_lines_keep_the_pop_up_order() -> None:
    assert parse_binding_keys(f"{CID}\n{SECRET}\n", gateway="eu1") == (TOKEN_URL, CID, SECRET, True)


def test_welcome_e_mail_block() -> None:
    text = f"""Dear Sir or Madam,

your tenant acme has been provisioned. Please find the credentials of your application below.
Keep the Client Secret confidential and do not share it.

Token URL: {TOKEN_URL}
Client ID: {CID}
Client Secret: {SECRET}

If you have questions, contact your administrator.
Best regards,
Your Insights Hub team
"""
    assert parse_binding_keys(text) == (TOKEN_URL, CID, SECRET, False)


def test_e_mail_block_as_a_bulleted_html_mail_with_invisible_padding() -> None:
    text = (
        "Hello,\r\n\r\nhere are your credentials:\r\n"
        f"\u2022 **Token URL:**\u00a0{TOKEN_URL}\r\n"
        f"\u2022 **Client ID:**\u00a0{CID}\r\n"
        f"\u200b\u2022 **Client Secret:** {SECRET}\r\n"
        "Regards\r\n"
    )
    assert parse_binding_keys(text) == (TOKEN_URL, CID, SECRET, False)


def test_e_mail_with_labels_and_values_on_separate_lines() -> None:
    text = f"Your keys:\n\nToken URL\n{TOKEN_URL}\n\nAccess Key\n{CID}\n\nSecret Key\n{SECRET}\n\nThanks!"
    assert parse_binding_keys(text) == (TOKEN_URL, CID, SECRET, False)


def test_header_row_and_json_with_app_service_labels() -> None:
    assert parse_binding_keys(f"Access Key\tSecret Key\n{CID}\t{SECRET}", gateway="eu1") == (
        TOKEN_URL,
        CID,
        SECRET,
        True,
    )
    assert parse_binding_keys(
        f'{{"accessKey": "{CID}", "secretKey": "{SECRET}", "tokenUrl": "{TOKEN_URL}"}}'
    ) == (
        TOKEN_URL,
        CID,
        SECRET,
        False,
    )


def test_unlabelled_three_lines_keep_the_order_rule() -> None:
    assert parse_binding_keys(f"{CID}\n{TOKEN_URL}\n{SECRET}") == (TOKEN_URL, CID, SECRET, False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"Access Key: {CID}", "binding keys incomplete: missing clientSecret (Secret Key)"),
        (
            f"Token URL: {TOKEN_URL}\nSecret Key: {SECRET}",
            "binding keys incomplete: missing clientID (Access Key)",
        ),
        ("Hello,\nplease find the keys attached.\n", "expected the three binding keys"),
        (f"{TOKEN_URL}\n{SECRET}", "expected the three binding keys"),
        (
            f"\ufeffAccess Key: {CID}\nSecret Key: {SECRET}\u200b",
            "the client secret contains an invisible character, U+200B, at position 21",
        ),
        (
            f"Access Key: {CID}\u00a0x\nSecret Key: {SECRET}",
            "the client id contains an invisible character, U+00A0, at position 21",
        ),
        (f"Access Key: {CID}\nSecret Key: FAKE", "the client secret is too short to be real"),
    ],
)
def test_errors_name_the_problem_and_never_echo_the_secret(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_binding_keys(text, gateway="eu1")
    assert str(info.value).startswith(message)
    assert SECRET not in str(info.value)


def test_bom_before_an_app_service_paste() -> None:
    assert parse_binding_keys(f"\ufeffAccess Key: {CID}\r\nSecret Key: {SECRET}\r\n").client_id == CID
