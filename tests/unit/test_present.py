"""The presentation masker (tui/present.py): what it finds, how it masks, and that it stays consistent."""

from __future__ import annotations

import io

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
    # Not a part of another word, and not in another case (the DEMO badge, "Acme Str.").
    assert m.mask("acmewidgets ACME Acme") == "acmewidgets ACME Acme"


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
