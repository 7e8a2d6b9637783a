"""Read-only and production (tui/config/safety.py): who decides, the settings' patterns, the saved flag."""

from __future__ import annotations

import tomllib

import pytest

from tui.config.paths import AppPaths
from tui.config.profiles import ProfileError, ProfileStore, profile_from_fields
from tui.config.safety import (
    Destruction,
    assess,
    env_read_only,
    matching_pattern,
    production_patterns,
    typed_confirmation,
)
from tui.config.settings import Settings
from tui.services import Services


def profile(name: str = "p", client_id: str = "acme-ihub-1.0.0-x", **kw):
    return profile_from_fields(name, "eu1", "", client_id, **kw)


def test_read_only_comes_from_the_session_or_the_profile_and_says_which() -> None:
    assert not assess(profile()).read_only
    by_profile = assess(profile("viewer", read_only=True))
    assert by_profile.read_only and not by_profile.session_read_only
    assert by_profile.refusal("delete an asset") == (
        "cannot delete an asset: profile viewer is read-only; nothing was changed"
    )
    by_session = assess(profile(), session_read_only=True)
    assert by_session.read_only and by_session.session_read_only
    assert "the session is read-only (--read-only)" in by_session.refusal("delete an asset")
    assert assess(None, session_read_only=True).read_only  # no profile yet: still read-only


def test_production_by_flag_or_by_tenant_pattern() -> None:
    assert assess(profile(production=True)).production
    assert "marked production" in assess(profile("x", production=True)).production_why
    patterns = ("*-prod", "ACME")
    found = assess(profile(), production_tenants=patterns)  # tenant "acme" from the client id
    assert found.production and "matches the production pattern 'ACME'" in found.production_why
    assert assess(profile(client_id="plant-ihub-1.0.0-x"), production_tenants=patterns).production is False
    # The tenant the token names counts too.
    plain = profile(client_id="plant-ihub-1.0.0-x")
    assert assess(plain, production_tenants=patterns, tenant="plant7-prod").production
    assert matching_pattern("Plant7-PROD", patterns) == "*-prod"
    assert matching_pattern("", patterns) is None


def test_which_destructive_actions_ask_for_the_name() -> None:
    assert typed_confirmation(Destruction.TENANT_DELETE, production=False)
    assert not typed_confirmation(Destruction.FILE_OVERWRITE, production=False)
    assert not typed_confirmation(Destruction.PROFILE_DELETE, production=False)
    for kind in Destruction:
        assert typed_confirmation(kind, production=True)


def test_settings_patterns_and_their_problems() -> None:
    assert production_patterns(None) == ((), None)
    assert production_patterns("acme") == (("acme",), None)
    patterns, problem = production_patterns(["*-prod", 3, ""])
    assert patterns == ("*-prod",) and problem is not None and "left out" in problem
    assert production_patterns({"x": 1})[1] is not None


def test_services_read_the_settings_and_the_environment(tmp_path) -> None:
    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "l", tmp_path / "x")
    Settings(paths.settings_file).set("safety", "production_tenants", ["acme"])
    services = Services(paths=paths, profiles=ProfileStore(None), secrets=None, environ={})  # type: ignore[arg-type]
    assert services.safety(profile()).production
    assert not services.read_only
    assert (
        Services(
            paths=paths,
            profiles=ProfileStore(None),
            secrets=None,  # type: ignore[arg-type]
            environ={"IHUB_READ_ONLY": "1"},
        )
        .safety(profile())
        .read_only
    )
    assert env_read_only({"IHUB_READ_ONLY": "yes"}) and not env_read_only({"IHUB_READ_ONLY": "0"})


def test_the_production_flag_is_saved_only_when_set(tmp_path) -> None:
    path = tmp_path / "profiles.toml"
    store = ProfileStore(path)
    store.add(profile("prod", production=True))
    store.add(profile("test"))
    data = tomllib.loads(path.read_text())
    assert data["profiles"]["prod"]["production"] is True and "production" not in data["profiles"]["test"]
    again = ProfileStore(path)
    assert again.get("prod").production and not again.get("test").production
    path.write_text(path.read_text().replace("production = true", 'production = "yes"'))
    with pytest.raises(ProfileError, match="production must be true or false"):
        ProfileStore(path).load()
