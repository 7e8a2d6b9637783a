"""Presentation mode: one masker for everything that reaches a screen, a notification or the CLI's output.

``Masker`` finds what identifies a customer in any text and replaces it, the same way every time within
a session (keyed by a random session key, so a mask cannot be looked up in another session):

=======================  ===========================================  ===================================
what                     found by                                     shown as
=======================  ===========================================  ===================================
tenant names             the profiles, the token, the API's answers   ``tenant-maple``
                         (``tenantId``, owners, ``<tenant>.Type``)
client ids               the profiles, the token, the API's answers   ``client-3f9ac1``
asset and other ids      32 hex characters, UUIDs                     ``8a1f…c07e`` (start kept)
e-mail addresses         their shape                                  ``user-5b2e@example.org``
the home folder          its path (``Path.home()``)                   ``~``
secrets                  every secret read in this session            ``••••••••``
=======================  ===========================================  ===================================

Learned names are found in any case (``ACME``, ``Acme``: the same mask as ``acme``) and inside URL-encoded
text (``%22acme.Pump%22``, ``Supplier%20GmbH``, ``Supplier+GmbH``: curl lines and service errors show
queries encoded); only ``APP_WORDS``, the app's own spelling of the simulator's tenant, are left as they are.

``replacements(text)`` lists ``(start, end, mask)``; ``mask(text)`` applies them. With ``fixed_width`` every
mask has the length of what it hides (for text a cursor moves in, such as an input field).
``learn_json(body)`` takes identifiers from an API answer before the app sees it (``Services`` does it for
every answer while presenting). ``MaskedStream`` masks a text stream line by line (``ihub --present``).

No Textual here; ``tui/widgets/masking.py`` applies the masker where Textual turns text into pixels.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

# Neutral words for tenant masks (a tenant keeps its word for the session).
WORDS = (
    "amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "indigo", "juniper", "kelp",
    "lumen", "maple", "nova", "onyx", "pine", "quartz", "river", "slate", "tundra", "umber", "violet",
    "willow", "yarrow", "zephyr", "aspen", "coral", "dune", "fern", "glacier", "heath", "iris",
)  # fmt: skip
SECRET_MASK = "••••••••"
# Tenant-like names never masked: the platform's own namespace and words too short to be a tenant.
NOT_TENANTS = frozenset({"core", "mdsp", "mindsphere", "siemens"})
MIN_TENANT = 3
# The app's own words that spell the simulator's tenant ("demo") in another case: the header's DEMO badge,
# "Demo mode". Left as written (the lower-case name is masked), unless a name was learned in this spelling.
APP_WORDS = frozenset({"DEMO", "Demo"})
# JSON keys whose string value is a tenant name, or a client id; type-id keys carry "<tenant>.<Name>".
TENANT_KEYS = frozenset(
    {"tenantId", "tenant", "ten", "ownerTenant", "subtenant", "subTenant", "hostTenant", "userTenant"}
)
TENANT_LIST_KEYS = frozenset({"sharedWith", "tenants"})
CLIENT_ID_KEYS = frozenset({"clientId", "client_id", "cid"})
TYPE_ID_KEYS = frozenset({"typeId", "aspectTypeId", "parentTypeId", "id", "assetTypeId"})
# Walk at most this many JSON nodes per answer (a page of 200 assets is about 10 000).
JSON_BUDGET = 200_000

_TYPE_ID = re.compile(r"^([a-z][a-z0-9]{2,})\.[A-Za-z][\w.]*$")
# Where a word starts: after a character that is not a letter or a digit, or, in a text with a "%", after a
# percent escape as well (``%22acme`` in an encoded query is ``"acme``). Text without a "%" (nearly all of it)
# is searched with the plain boundary: the escape's look-behind costs about a microsecond a pattern a line.
_PLAIN_START = r"(?<![0-9A-Za-z])"
_ENCODED_START = r"(?:(?<![0-9A-Za-z])|(?<=%[0-9A-Fa-f]{2}))"
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?![\w-])")
# The tenant in a token URL, known or not yet: https://<tenant>.piam.<region>.mindsphere.io/...
_PIAM_TENANT = re.compile(r"(?<=://)[a-z0-9-]{3,}(?=\.piam\.)")


def _patterns(start: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """What is masked by its shape, its words starting where ``start`` says."""
    # Client ids of the binding keys, known or not yet: <tenant>-<app>-<version>-<suffix> (reference 1.1).
    client_start = start.replace("(?<![0-9A-Za-z])", r"(?<![\w.-])")
    client_id = client_start + r"[a-z][a-z0-9]{2,}-[A-Za-z0-9_]+-\d+\.\d+\.\d+-[\w.-]+(?![\w-])"
    uuid = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    return (
        (_EMAIL, "email"),
        (re.compile(client_id), "client"),
        (_PIAM_TENANT, "tenant"),
        (re.compile(start + uuid + r"(?![0-9A-Za-z])"), "id"),
        (re.compile(start + r"[0-9a-fA-F]{32}(?![0-9A-Za-z])"), "id"),
    )


_PATTERNS = _patterns(_PLAIN_START)
_ENCODED_PATTERNS = _patterns(_ENCODED_START)

Replacement = tuple[int, int, str]


class Masker:
    """Masks identifiers in text, consistently within a session. Thread-safe; cheap when nothing matches.

    ``key``: the session key (random when None; tests and screenshots pass a fixed one so their pictures
    stay the same). ``home``: the home folder (``Path.home()`` when None; "" for none).
    """

    def __init__(self, key: bytes | None = None, *, home: str | None = None) -> None:
        self._key = key if key is not None else os.urandom(16)
        self._lock = threading.Lock()
        self._literals: dict[str, str] = {}  # value -> kind: tenant, client, secret
        # Every spelling the literal regex finds, in lower case -> (the value as first learned, its kind).
        self._folded: dict[str, tuple[str, str]] = {}
        self._aliases: dict[tuple[str, str], str] = {}
        self._words_used: dict[str, str] = {}  # word -> tenant
        self._regexes: dict[bool, re.Pattern[str] | None] = {}  # for text with a "%" or without
        self._cache: dict[tuple[str, bool], list[Replacement]] = {}
        home_text = str(Path.home()) if home is None else home
        self.home = home_text.rstrip("/") if home_text not in ("", "/") else ""

    # -- learning ----------------------------------------------------------------------------------
    def learn_tenant(self, name: str | None) -> None:
        """Mask ``name`` wherever it stands as a word (``demo``, ``demo.PumpType``, ``demo_agent1``)."""
        if name and len(name) >= MIN_TENANT and name.lower() not in NOT_TENANTS:
            self._learn(name.strip(), "tenant")

    def learn_client_id(self, client_id: str | None) -> None:
        if client_id and len(client_id) >= MIN_TENANT:
            self._learn(client_id.strip(), "client")

    def learn_secret(self, secret: str | None) -> None:
        """Mask ``secret`` wherever it appears (secrets are at least 12 characters: no word boundary)."""
        if secret and len(secret) >= 8:
            self._learn(secret, "secret")

    def learn_profile(self, profile: Any) -> None:
        """The tenant and client id of a profile (``tui.config.profiles.Profile`` or alike)."""
        tenant = getattr(profile, "tenant", "") or ""
        client_id = getattr(profile, "client_id", "") or ""
        self.learn_tenant(tenant)
        self.learn_client_id(client_id)
        head = client_id.split("-", 1)[0]
        if "-" in client_id and head:  # <tenant>-<app>-<version>-<suffix>
            self.learn_tenant(head)
        token_url = getattr(profile, "token_url", "") or ""
        match = re.match(r"https?://([a-z0-9-]+)\.piam\.", token_url)
        if match:
            self.learn_tenant(match.group(1))

    def learn_json(self, data: Any) -> None:
        """Tenants and client ids in an API answer: ``tenantId`` and alike, owners, ``<tenant>.Type`` ids."""
        budget = JSON_BUDGET
        stack = [data]
        while stack and budget > 0:
            node = stack.pop()
            budget -= 1
            if isinstance(node, dict):
                for key, value in node.items():
                    if isinstance(value, str):
                        if key in TENANT_KEYS:
                            self.learn_tenant(value)
                        elif key in CLIENT_ID_KEYS:
                            self.learn_client_id(value)
                        elif key in TYPE_ID_KEYS:
                            match = _TYPE_ID.match(value)
                            if match:
                                self.learn_tenant(match.group(1))
                    elif key in TENANT_LIST_KEYS and isinstance(value, list):
                        for item in value:
                            if isinstance(item, str):
                                self.learn_tenant(item)
                            else:
                                stack.append(item)
                    elif isinstance(value, dict | list):
                        stack.append(value)
            elif isinstance(node, list):
                stack.extend(item for item in node if isinstance(item, dict | list))

    def _learn(self, value: str, kind: str) -> None:
        if not value or value in self._literals:
            return
        with self._lock:
            if value in self._literals:
                return
            self._literals[value] = kind
            folded = value.lower()
            if folded in self._folded:  # another spelling of a known name: found already, masked the same
                return
            self._folded[folded] = (value, kind)
            if kind != "secret":  # as a URL's query or path shows it (names with spaces and alike)
                for encoded in (quote(value, safe=""), quote_plus(value, safe="")):
                    self._folded.setdefault(encoded.lower(), (value, kind))
            self._regexes = {}
            self._cache = {}

    def _canonical(self, found: str) -> tuple[str, str] | None:
        """The learned value and kind that ``found`` (a match of the literal regex) spells."""
        known = self._folded.get(found.lower())
        if known is not None:
            return known
        for spelling, known in list(self._folded.items()):  # a case the lower-casing does not map back
            if re.fullmatch(re.escape(spelling), found, re.IGNORECASE):
                return known
        return None

    @property
    def known(self) -> dict[str, str]:
        """What was learned so far: value -> kind (for tests and diagnostics; holds secrets, never shown)."""
        return dict(self._literals)

    # -- masks -------------------------------------------------------------------------------------
    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()

    def alias(self, kind: str, value: str) -> str:
        """The mask of ``value`` (of ``kind``: tenant, client, secret, id, email, home); a learned name in
        another spelling has the mask of the name."""
        cached = self._aliases.get((kind, value))
        if cached is not None:
            return cached
        if kind in ("tenant", "client"):
            known = self._folded.get(value.lower())
            if known is not None and known[0] != value:
                return self.alias(known[1], known[0])
        digest = self._digest(kind, value.lower() if kind in ("id", "email") else value)
        if kind == "tenant":
            index = int(digest[:8], 16)
            for step in range(len(WORDS) * 4):
                word = WORDS[(index + step) % len(WORDS)] + (
                    "" if step < len(WORDS) else str(step // len(WORDS))
                )
                owner = self._words_used.setdefault(word, value)
                if owner == value:
                    break
            alias = f"tenant-{word}"
        elif kind == "client":
            alias = f"client-{digest[:6]}"
        elif kind == "secret":
            alias = SECRET_MASK
        elif kind == "id":
            alias = f"{value[:4]}…{digest[:4]}"
        elif kind == "email":
            alias = f"user-{digest[:4]}@example.org"
        elif kind == "home":
            alias = "~"
        else:
            alias = "•" * len(value)
        self._aliases[(kind, value)] = alias
        return alias

    def _fixed(self, kind: str, value: str, n: int) -> str:
        """A mask ``n`` characters long (the length of the text it hides; ids keep their start and show
        the hash at the end)."""
        if kind == "id":
            digest = self._digest(kind, value.lower())
            return (value[:4] + "•" * max(0, n - 8) + digest[:4])[:n]
        if kind == "secret":
            return "•" * n
        alias = self.alias(kind, value)
        if kind == "tenant":
            alias = alias.removeprefix("tenant-")
        return alias[:n].ljust(n, "•")

    def _literal_regex(self, encoded: bool = False) -> re.Pattern[str] | None:
        """The learned values and the home folder as one regex (``encoded``: for text with a "%")."""
        regex = self._regexes.get(encoded)
        if regex is not None or not (self._literals or self.home):
            return regex
        with self._lock:
            # One alternation of the names (longest first), their word boundaries checked once; then the
            # secrets anywhere, then the home folder. Names in any case; the home folder as it is.
            words: list[str] = []
            secrets: list[str] = []
            for spelling, (_value, kind) in sorted(self._folded.items(), key=lambda i: -len(i[0])):
                (secrets if kind == "secret" else words).append(re.escape(spelling))
            parts = []
            if words:
                start = _ENCODED_START if encoded else _PLAIN_START
                parts.append(f"(?i:{start}(?:{'|'.join(words)})(?![A-Za-z0-9]))")
            if secrets:
                parts.append(f"(?i:{'|'.join(secrets)})")
            if self.home:
                parts.append(f"{re.escape(self.home)}(?![^/\\s\"'`:;,)\\]}}>])")
            self._regexes[encoded] = regex = re.compile("|".join(parts))
        return regex

    def replacements(self, text: str, *, fixed_width: bool = False) -> list[Replacement]:
        """Where ``text`` holds something to mask: ``(start, end, mask)``, in order, not overlapping."""
        if not text:
            return []
        key = (text, fixed_width)
        found = self._cache.get(key)
        if found is not None:
            return found
        candidates: list[tuple[int, int, str, str]] = []  # start, end, kind, the value it stands for
        encoded = "%" in text
        regex = self._literal_regex(encoded)
        if regex is not None:
            for match in regex.finditer(text):
                spelled = match.group(0)
                if spelled == self.home:
                    candidates.append((match.start(), match.end(), "home", spelled))
                    continue
                known = self._canonical(spelled)
                if known is not None and (spelled not in APP_WORDS or spelled in self._literals):
                    candidates.append((match.start(), match.end(), known[1], known[0]))
        for pattern, kind in _ENCODED_PATTERNS if encoded else _PATTERNS:
            if (kind == "email" and "@" not in text) or (pattern is _PIAM_TENANT and ".piam." not in text):
                continue
            for match in pattern.finditer(text):
                candidates.append((match.start(), match.end(), kind, match.group(0)))
        # A client id or a token URL not learned yet names a tenant: learn it and look again.
        folded = self._folded
        new_tenants = {
            name
            for _start, _stop, kind, value in candidates
            if kind in ("client", "tenant")
            for name in [value.split("-", 1)[0] if kind == "client" else value]
            if name.lower() not in folded and len(name) >= MIN_TENANT and name.lower() not in NOT_TENANTS
        }
        if new_tenants:
            for name in new_tenants:
                self.learn_tenant(name)
            return self.replacements(text, fixed_width=fixed_width)
        candidates.sort(key=lambda c: (c[0], c[0] - c[1]))
        result: list[Replacement] = []
        end = 0
        for start, stop, kind, value in candidates:
            if start < end:
                continue
            mask = self._fixed(kind, value, stop - start) if fixed_width else self.alias(kind, value)
            result.append((start, stop, mask))
            end = stop
        if len(self._cache) > 20_000:
            self._cache = {}
        self._cache[key] = result
        return result

    def mask(self, text: str, *, fixed_width: bool = False) -> str:
        """``text`` with every identifier masked."""
        found = self.replacements(text, fixed_width=fixed_width)
        return apply(text, found) if found else text

    def masks(self, values: Iterable[str]) -> list[str]:
        return [self.mask(v) for v in values]


def apply(text: str, replacements: list[Replacement]) -> str:
    """``text`` with ``replacements`` (ordered, not overlapping) applied."""
    parts: list[str] = []
    last = 0
    for start, end, mask in replacements:
        parts.append(text[last:start])
        parts.append(mask)
        last = end
    parts.append(text[last:])
    return "".join(parts)


def remap_spans(
    spans: Iterable[tuple[int, int, Any]], replacements: list[Replacement]
) -> list[tuple[int, int, Any]]:
    """Style spans ``(start, end, style)`` of a text moved to the text with ``replacements`` applied; a span
    that covers part of a masked value covers its whole mask."""

    def moved(offset: int, is_end: bool) -> int:
        shift = 0
        for start, end, mask in replacements:
            if end <= offset:  # wholly before: the offset moves by the change in length
                shift += len(mask) - (end - start)
                continue
            if is_end and offset > start:  # ends inside a masked value: covers the whole mask
                return start + shift + len(mask)
            if not is_end and offset >= start:  # starts inside a masked value: at its start
                return start + shift
            break
        return offset + shift

    result = []
    for start, end, style in spans:
        new_start, new_end = moved(start, False), moved(end, True)
        if new_end > new_start:
            result.append((new_start, new_end, style))
    return result


class MaskedStream:
    """A text stream that masks what is written to it, line by line (``ihub --present``'s output)."""

    def __init__(self, stream: TextIO, masker: Masker) -> None:
        self._stream = stream
        self._masker = masker
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            done, _, self._pending = self._pending.rpartition("\n")
            self._stream.write(self._masker.mask(done) + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._masker.mask(self._pending))
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return bool(getattr(self._stream, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


__all__ = ["Masker", "MaskedStream", "apply", "remap_spans"]
