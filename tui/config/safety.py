"""Read-only sessions and profiles, production tenants, and which destructive actions ask for a typed name.

One place decides, for the app, every area and every command (no Textual here):

* **read-only**: the session (``ihub --read-only ...`` or ``IHUB_READ_ONLY=1``) or the profile
  (``Profile.read_only``). Nothing is changed in the tenant: changes are absent from the screens and the
  palette and refused by the commands (exit 5). A read-only *session* also keeps the saved profiles as
  they are; a read-only *profile* can still be edited on the Keys screen (that is where the flag is
  turned off).
* **production**: the profile is marked so (``Profile.production``) or its tenant matches a pattern of the
  settings (``[safety] production_tenants = ["*-prod", "acme"]``, shell-style, case-insensitive). The
  header says so in its own colour and with a symbol, and destructive actions ask for the name typed.
* **typed confirmation** (``typed_confirmation``): deleting something in the tenant (an asset, a CA or an
  agent certificate) always asks for its name; replacing a file or deleting a profile asks for the name on
  a production profile and for a plain yes elsewhere.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tui.config.profiles import Profile, parse_client_id

ENV_READ_ONLY = "IHUB_READ_ONLY"
SETTINGS_SECTION = "safety"
SETTINGS_PRODUCTION = "production_tenants"
# The header's marks (a symbol and a word: readable without colour).
PRODUCTION_MARK = "▲ PRODUCTION"
READ_ONLY_MARK = "READ-ONLY"

_TRUE = frozenset({"1", "true", "yes", "on"})


class Destruction(StrEnum):
    """What a destructive action destroys (``typed_confirmation`` decides how it is confirmed)."""

    TENANT_DELETE = "tenant-delete"  # an asset, a CA certificate, an agent certificate
    FILE_OVERWRITE = "file-overwrite"  # a file replaced by an export or a save
    PROFILE_DELETE = "profile-delete"  # a saved profile and its stored secret


def typed_confirmation(kind: Destruction, production: bool) -> bool:
    """True when ``kind`` must be confirmed by typing the name (else a plain yes is enough)."""
    return production or kind is Destruction.TENANT_DELETE


def env_read_only(environ: Mapping[str, str]) -> bool:
    """``IHUB_READ_ONLY`` set to 1/true/yes/on: the whole session is read-only."""
    return environ.get(ENV_READ_ONLY, "").strip().lower() in _TRUE


def production_patterns(value: Any) -> tuple[tuple[str, ...], str | None]:
    """The settings' ``production_tenants`` as patterns, and a problem to report (None when fine).

    A string is taken as one pattern; anything but strings in a list is left out and reported."""
    if value is None:
        return (), None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return (), f"{SETTINGS_SECTION}.{SETTINGS_PRODUCTION} must be a list of tenant name patterns"
    patterns = tuple(v.strip() for v in value if isinstance(v, str) and v.strip())
    problem = None
    if len(patterns) != len(value):
        problem = (
            f"{SETTINGS_SECTION}.{SETTINGS_PRODUCTION}: only non-empty strings are patterns; others left out"
        )
    return patterns, problem


def matching_pattern(tenant: str | None, patterns: Iterable[str]) -> str | None:
    """The first pattern ``tenant`` matches (shell-style ``*``/``?``/``[...]``, case-insensitive), or None."""
    if not tenant:
        return None
    name = tenant.lower()
    for pattern in patterns:
        if fnmatch.fnmatchcase(name, pattern.lower()):
            return pattern
    return None


def profile_tenant(profile: Profile) -> str:
    """The profile's tenant: its own field, else the one in a client id ``<tenant>-<app>-<version>-...``."""
    if profile.tenant:
        return profile.tenant
    parts = parse_client_id(profile.client_id)
    return parts.tenant if parts is not None else ""


@dataclass(frozen=True)
class Safety:
    """What the session may do with the active profile, and why (plain words for messages)."""

    read_only: bool = False  # no change to the tenant
    read_only_why: str = ""  # e.g. "the session is read-only (--read-only)"
    session_read_only: bool = False  # the saved profiles stay as they are too
    production: bool = False
    production_why: str = ""  # e.g. "profile acme is marked production"

    def refusal(self, what: str) -> str:
        """The sentence a refused change shows: ``cannot delete an asset: profile x is read-only; nothing
        was changed``."""
        why = self.read_only_why or "read-only"
        return f"cannot {what}: {why}; nothing was changed"

    def typed(self, kind: Destruction) -> bool:
        """True when ``kind`` asks for the name typed with this profile (``typed_confirmation``)."""
        return typed_confirmation(kind, self.production)


def assess(
    profile: Profile | None,
    *,
    session_read_only: bool = False,
    production_tenants: Sequence[str] = (),
    tenant: str | None = None,
) -> Safety:
    """The ``Safety`` of ``profile`` in this session. ``tenant``: the tenant the service named (the token's),
    checked against the patterns as well as the profile's own."""
    read_only = session_read_only
    read_only_why = "the session is read-only (--read-only)" if session_read_only else ""
    production, production_why = False, ""
    if profile is not None:
        if profile.read_only and not read_only:
            read_only, read_only_why = True, f"profile {profile.name} is read-only"
        if profile.production:
            production, production_why = True, f"profile {profile.name} is marked production"
        else:
            for name in dict.fromkeys(t for t in (tenant, profile_tenant(profile)) if t):
                pattern = matching_pattern(name, production_tenants)
                if pattern is not None:
                    production = True
                    production_why = f"tenant {name} matches the production pattern {pattern!r}"
                    break
    return Safety(read_only, read_only_why, session_read_only, production, production_why)


__all__ = [
    "ENV_READ_ONLY",
    "PRODUCTION_MARK",
    "READ_ONLY_MARK",
    "Destruction",
    "Safety",
    "assess",
    "env_read_only",
    "matching_pattern",
    "production_patterns",
    "profile_tenant",
    "typed_confirmation",
]
