"""The presentation masker (tui/present.py): what it finds, how it masks, and that it stays consistent."""

from __future__ import annotations

import io
import json
from urllib.parse import unquote

import httpx

from tui.config.profiles import Profile
from tui.present import MaskedStream, Masker, apply, remap_spans

HOME = "/home/alice"
ASSET = "ff0d65e90c1000b7343ac254a953c927"
OTHER = "ff0d65e90c1000b7343ac254a953c928"


def masker() -> Masker:
    m = Masker(b"k" * 16, home=HOME)
    m.learn_tenant("acme")
    m.learn_client_id("acme-ihub-1.0.0-prod")
    m.learn_secret("s3cr3t-value-0123456789")
    return m


def test_tenants_are_masked_as_words_wherever_they_stand() -> None:
    m = masker()
    text = "tenant acme · acme.PumpType · acme_agent1 · https://acme.piam.eu1.mindsphere.io/oauth/token"
    masked = m.mask(text)
    assert "acme" not in masked
    word = m.alias("tenant", "acme")
    assert word.startswith("tenant-")
    assert masked.count(word) == 4
    # Not a part of another word.
    assert m.mask("acmewidgets xacme acme2") == "acmewidgets xacme acme2"


def test_names_are_masked_in_any_case_with_the_same_mask() -> None:
    m = masker()
    word = m.alias("tenant", "acme")
    client = m.alias("client", "acme-ihub-1.0.0-prod")
    text = "ACME Acme aCmE acme.PumpType ACME.PumpType · ACME-IHUB-1.0.0-PROD Acme-ihub-1.0.0-prod"
    assert m.mask(text) == f"{word} {word} {word} {word}.PumpType {word}.PumpType · {client} {client}"
    # Learning another spelling of a known name keeps its mask (one name, one word for the session).
    m.learn_tenant("ACME")
    assert m.alias("tenant", "ACME") == word and m.mask("Acme") == word
    # Fixed width (an input field) too: as long as the text, the same word.
    assert m.mask("ACME Acme", fixed_width=True) == m.mask("acme acme", fixed_width=True)
    assert len(m.mask("ACME", fixed_width=True)) == 4
    # A name learned in capitals is masked in lower case as well ("Supplier GmbH" typed as "supplier gmbh").
    m.learn_tenant("Supplier GmbH")
    owner = m.alias("tenant", "Supplier GmbH")
    masked = m.mask("owner SUPPLIER GMBH, search 'supplier gmbh', path /Supplier GmbH/x")
    assert "supplier" not in masked.lower() and masked.count(owner) == 3
    # Ids and e-mail addresses typed in capitals get the mask of their usual spelling.
    assert m.mask(ASSET.upper())[4:] == m.mask(ASSET)[4:]
    assert m.mask("OPS@ACME.EXAMPLE") == m.mask("ops@acme.example")


def test_names_inside_url_encoded_text_are_masked() -> None:
    """Curl lines (the Requests view's details, ``--dry-run``) and service errors show queries encoded."""
    m = masker()
    m.learn_tenant("Supplier GmbH")
    word, owner = m.alias("tenant", "acme"), m.alias("tenant", "Supplier GmbH")
    url = httpx.URL(
        "https://gateway.eu1.mindsphere.io/api/assetmanagement/v3/assets",
        params={
            "filter": json.dumps({"typeId": {"startsWith": "acme."}, "parentId": ASSET}),
            "q": "Supplier GmbH",
        },
    )
    text = f"curl '{url}' · Supplier%20GmbH · supplier%20gmbh · SUPPLIER+GMBH"
    masked = m.mask(text)
    for real in ("acme", ASSET, "supplier"):
        assert real not in masked.lower(), (real, masked)
    assert word in masked and masked.count(owner) == 4 and "ff0d…" in masked
    assert unquote(m.mask(str(url))) == m.mask(unquote(str(url)))  # the same masks as the decoded text
    # A percent escape only ends a word when it is one: "%2acme" is no escape before "acme".
    assert m.mask("x%2acme 100%acme") == f"x%2acme 100%{word}"


def test_the_apps_own_words_are_not_taken_for_the_demo_tenant() -> None:
    """The simulator's tenant is "demo": the app's DEMO badge and "Demo mode" are the app's, not a name."""
    m = Masker(b"k" * 16, home="")
    m.learn_tenant("demo")
    word = m.alias("tenant", "demo")
    assert m.mask(" DEMO  in Demo mode, tenant demo") == f" DEMO  in Demo mode, tenant {word}"
    assert m.mask("dEMO demo.Pump") == f"{word} {word}.Pump"


def test_client_ids_ids_emails_home_and_secrets() -> None:
    m = masker()
    text = (
        f"client acme-ihub-1.0.0-prod id {ASSET} ca 3f2504e0-4f89-11d3-9a0c-0305e82c3301 "
        f"owner ops@acme.example file {HOME}/certs/ca.pem secret xs3cr3t-value-0123456789y"
    )
    masked = m.mask(text)
    for real in ("acme-ihub", ASSET, "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "ops@", HOME, "s3cr3t"):
        assert real not in masked, real
    assert "~/certs/ca.pem" in masked and "••••••••" in masked and "@example.org" in masked
    # Ids keep their start (partially masked): a demo can still point at "the one starting ff0d".
    assert m.mask(ASSET).startswith("ff0d…") and len(m.mask(ASSET)) == 9
    # Another folder that merely starts like the home folder is not it.
    assert m.mask("/home/alice2/x") == "/home/alice2/x"


def test_the_same_value_masks_the_same_way_and_different_values_differently() -> None:
    m = masker()
    assert m.mask(ASSET) == m.mask(f"{ASSET}") and m.mask(ASSET) != m.mask(OTHER)
    assert m.alias("tenant", "acme") == m.alias("tenant", "acme")
    m.learn_tenant("globex")
    assert m.alias("tenant", "globex") != m.alias("tenant", "acme")
    # Another session (another key) masks differently: a mask cannot be looked up elsewhere.
    other = Masker(b"x" * 16, home=HOME)
    assert other.mask(ASSET) != m.mask(ASSET)


def test_fixed_width_masks_keep_the_length() -> None:
    m = masker()
    text = f"{HOME}/exports/acme-{ASSET}.csv s3cr3t-value-0123456789"
    masked = m.mask(text, fixed_width=True)
    assert len(masked) == len(text)
    assert "acme" not in masked and ASSET not in masked and HOME not in masked and "s3cr3t" not in masked


def test_learning_from_profiles_and_api_answers() -> None:
    m = Masker(b"k" * 16, home="")
    m.learn_profile(
        Profile(
            name="prod",
            gateway="https://gateway.eu1.mindsphere.io",
            token_url="https://initech.piam.eu1.mindsphere.io/oauth/token",
            client_id="initech-tool-1.0.0-abc",
        )
    )
    assert {"initech", "initech-tool-1.0.0-abc"} <= set(m.known)
    m.learn_json(
        {
            "_embedded": {
                "assets": [
                    {
                        "tenantId": "supplier",
                        "typeId": "supplier.Fleet",
                        "sharing": {"sharedWith": ["utility"]},
                    },
                    {"typeId": "core.basicasset", "clientId": "globex_agent1"},
                ]
            }
        }
    )
    assert {"supplier", "utility", "globex_agent1"} <= set(m.known)
    assert "core" not in m.known  # the platform's own namespace is no tenant
    assert "supplier" not in m.mask("shared by tenant supplier")


def test_style_spans_follow_the_masks() -> None:
    m = masker()
    text = "at acme now"
    found = m.replacements(text)
    masked = apply(text, found)
    word = m.alias("tenant", "acme")
    spans = remap_spans([(0, 2, "a"), (3, 7, "b"), (8, 11, "c"), (5, 9, "d")], found)
    assert spans[0] == (0, 2, "a")
    assert masked[spans[1][0] : spans[1][1]] == word
    assert masked[spans[2][0] : spans[2][1]] == "now"
    assert spans[3][0] == 3  # a span starting inside a mask covers it from its start


def test_masked_stream_masks_each_line_and_the_rest_on_flush() -> None:
    out = io.StringIO()
    stream = MaskedStream(out, masker())
    stream.write("tenant ac")
    stream.write("me\nid ")
    assert out.getvalue() == f"tenant {masker().alias('tenant', 'acme')}\n"
    stream.write(ASSET)
    stream.flush()
    assert ASSET not in out.getvalue() and "ff0d…" in out.getvalue()


def test_client_ids_and_token_urls_not_learned_yet_are_masked_and_name_their_tenant() -> None:
    m = Masker(b"k" * 16, home="")
    text = "pasted initech-tool-2.1.0-x9y for https://globex.piam.eu1.mindsphere.io/oauth/token"
    masked = m.mask(text)
    assert "initech" not in masked and "globex" not in masked and "client-" in masked
    # Their tenants are learned: from now on they are masked on their own as well.
    assert "initech" not in m.mask("tenant initech") and "globex" not in m.mask("tenant globex")
    assert m.mask("version 1.0.0 of ihub-1.0") == "version 1.0.0 of ihub-1.0"
