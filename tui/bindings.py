"""Every key binding of ihub by its id: what it is for (the help's groups) and the user's keymap.

Each ``Binding`` in ihub has an ``id`` (``area.action``); this table gives each one a purpose, so the help
(``?``/F1) lists the keys of the current area by what they do rather than by the widget that holds them,
and it is the list of ids a keymap may name. The keymap lives in ``settings.toml``::

    [keys]
    "assets.search" = "ctrl+f"        # one key
    "app.quit" = "q,ctrl+c"           # several keys, comma-separated (or a TOML list)

``check_keymap`` turns that table into what ``App.set_keymap`` takes and says, in plain words, which entries
it ignored (an unknown id, a key that no terminal sends). A test checks that this table and the bindings in
the code name the same ids, so the check needs no screen module at start.

No Textual at module level: the key names are checked with ``textual.keys`` when a keymap is read.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

# The purposes, in the order the help shows them.
NAVIGATE = "Navigate"
VIEW = "View"
CHANGE = "Change"
COPY = "Copy and export"
CONNECTION = "Connection"
APP = "App"
# Textual's own widget keys (a list's cursor, scrolling, a tree's toggle): no ihub id, listed last.
CURSOR = "Cursor and scrolling"
PURPOSES: tuple[str, ...] = (NAVIGATE, VIEW, CHANGE, COPY, CONNECTION, APP, CURSOR)

BINDING_PURPOSES: dict[str, str] = {
    # -- the app (tui/app.py) ------------------------------------------------------------------------
    "app.area.keys": NAVIGATE,
    "app.area.assets": NAVIGATE,
    "app.area.timeseries": NAVIGATE,
    "app.area.certificates": NAVIGATE,
    "app.switch_profile": CONNECTION,
    "app.requests": CONNECTION,
    "app.help": APP,
    "app.command_palette": APP,
    "app.mouse": APP,
    "app.dismiss_notifications": APP,
    "app.quit": APP,
    "app.quit_anywhere": APP,
    "help.close": NAVIGATE,
    "dialog.cancel": NAVIGATE,
    "dialog.cancel_n": NAVIGATE,
    "dialog.confirm": CHANGE,
    "dialog.close": NAVIGATE,
    "vault.cancel": NAVIGATE,
    "requests.close": NAVIGATE,
    "requests.details": VIEW,
    "requests.copy": COPY,
    "requests.failed": VIEW,
    "proxy.close": NAVIGATE,
    "proxy.reveal": VIEW,
    "proxy.copy_key": COPY,
    "proxy.copy_url": COPY,
    "proxy.curl": COPY,
    "proxy.stop": CONNECTION,
    # -- Keys ------------------------------------------------------------------------------------------
    "keys.add": CHANGE,
    "keys.edit": CHANGE,
    "keys.duplicate": CHANGE,
    "keys.delete": CHANGE,
    "keys.default": CHANGE,
    "keys.secret_store": CHANGE,
    "keys.activate": CONNECTION,
    "keys.test": CONNECTION,
    "keys.token": CONNECTION,
    "keys.reveal": VIEW,
    "keys.reload": VIEW,
    "area.other_pane": VIEW,
    "keys.copy_secret": COPY,
    "keys.copy_token": COPY,
    "profileform.save": CHANGE,
    "profileform.cancel": NAVIGATE,
    "profileform.toggle_secret": VIEW,
    "profileform.next": NAVIGATE,
    "profileform.previous": NAVIGATE,
    "profileform.enter": NAVIGATE,
    "secretstore.vault": CHANGE,
    "secretstore.session": CHANGE,
    "secretstore.env": CHANGE,
    "secretstore.cancel": NAVIGATE,
    "secret.reveal": VIEW,
    "secret.copy": COPY,
    "token.close": NAVIGATE,
    "token.copy": COPY,
    # -- Assets ----------------------------------------------------------------------------------------
    "assets.search": NAVIGATE,
    "assets.chart": NAVIGATE,
    "assets.search.close": NAVIGATE,
    "assets.list.close": NAVIGATE,
    "assets.reload": VIEW,
    "assets.shared": VIEW,
    "assets.types": VIEW,
    "assets.types.close": NAVIGATE,
    "assets.decommissioned": VIEW,
    "assets.tree.load_all": VIEW,
    "assets.create": CHANGE,
    "assets.edit": CHANGE,
    "assets.delete": CHANGE,
    "assets.copy_id": COPY,
    "assets.form.cancel": NAVIGATE,
    # -- Time series -----------------------------------------------------------------------------------
    "ts.zoom_in": NAVIGATE,
    "ts.zoom_out": NAVIGATE,
    "ts.pan_left": NAVIGATE,
    "ts.pan_right": NAVIGATE,
    "ts.cursor_left": NAVIGATE,
    "ts.cursor_right": NAVIGATE,
    "ts.hide_cursor": NAVIGATE,
    "ts.reset": NAVIGATE,
    "ts.pick": VIEW,
    "ts.range": VIEW,
    "ts.source": VIEW,
    "ts.table": VIEW,
    "ts.stats": VIEW,
    "ts.live": VIEW,
    "ts.clear": VIEW,
    "ts.refresh": VIEW,
    "ts.export": COPY,
    "ts.range.cancel": NAVIGATE,
    "ts.export.cancel": NAVIGATE,
    "ts.picker.next": NAVIGATE,
    "ts.picker.previous": NAVIGATE,
    "ts.picker.page_down": NAVIGATE,
    "ts.picker.page_up": NAVIGATE,
    "ts.picker.back": NAVIGATE,
    # -- Certificates ----------------------------------------------------------------------------------
    "certs.register": CHANGE,
    "certs.verify": CHANGE,
    "certs.new_agent": CHANGE,
    "certs.issue_device": CHANGE,
    "certs.delete": CHANGE,
    "certs.send_test_data": CHANGE,
    "certs.check": CONNECTION,
    "certs.details": VIEW,
    "certs.reload": VIEW,
    "certs.copy_pem": COPY,
    "certs.save_pem": COPY,
    "certs.copy_mosquitto": COPY,
    "certs.export_key": COPY,
    "form.cancel": NAVIGATE,
    "form.submit": CHANGE,
    "register.other_tab": NAVIGATE,
    "path.complete": CHANGE,
    "browser.cancel": NAVIGATE,
    "browser.parent": NAVIGATE,
}


def purpose_of(binding_id: str | None) -> str:
    """The help group of a binding; bindings of Textual's own widgets (no ihub id) move a cursor, scroll or
    open a node: ``CURSOR``."""
    if binding_id is None:
        return CURSOR
    return BINDING_PURPOSES.get(binding_id, NAVIGATE)


# -- the user's keymap ---------------------------------------------------------------------------------

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})


def key_problem(key: str) -> str | None:
    """Why ``key`` (one key, e.g. ``ctrl+f``, ``f5``, ``?``, ``question_mark``) is not a key a terminal
    sends, or None when it is one."""
    from textual.keys import KEY_NAME_REPLACEMENTS, Keys

    if not key:
        return "an empty key"
    if key != key.strip() or " " in key:
        return f"{key!r} has spaces (write ctrl+f, not ctrl + f)"
    *mods, name = key.split("+") if len(key) > 1 else [key]
    unknown = [mod for mod in mods if mod.lower() not in MODIFIERS]
    if unknown:
        return f"{key!r}: {unknown[0]!r} is not a modifier (ctrl, shift, alt, meta, super, hyper)"
    if not name:
        return f"{key!r} has a modifier but no key"
    if len(name) == 1:
        return None if name.isprintable() else f"{key!r} is not a printable key"
    lowered = name.lower()
    if lowered in {k.value for k in Keys} or lowered in KEY_NAME_REPLACEMENTS.values():
        return None
    try:
        unicodedata.lookup(lowered.replace("_", " ").upper())
    except KeyError:
        return f"{key!r}: no key is called {name!r} (e.g. f5, escape, delete, pageup, slash, ctrl+f)"
    return None


@dataclass(frozen=True)
class KeymapCheck:
    """What ``check_keymap`` kept (``binding id -> keys``, for ``App.set_keymap``) and what it ignored."""

    keymap: dict[str, str]
    problems: list[str]


def check_keymap(raw: object, known: Mapping[str, str] | None = None) -> KeymapCheck:
    """The ``[keys]`` table of ``settings.toml`` checked: keys are binding ids (``BINDING_PURPOSES``),
    values a key or keys (``"ctrl+f"``, ``"q,ctrl+c"`` or a list). Bad entries are left out and each is
    named in one plain line; nothing raises."""
    ids = BINDING_PURPOSES if known is None else known
    if raw is None:
        return KeymapCheck({}, [])
    if not isinstance(raw, Mapping):
        return KeymapCheck({}, ['[keys] must be a table of binding id = "key" lines; it was ignored'])
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, value in raw.items():
        if binding_id not in ids:
            close = difflib.get_close_matches(str(binding_id), list(ids), n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]}?)" if close else " (the help, ?, shows each key's id)"
            problems.append(f"[keys] {binding_id!r} is not a binding id{hint}; ignored")
            continue
        if isinstance(value, str):
            keys = [part.strip() for part in value.split(",")]
        elif isinstance(value, list) and all(isinstance(part, str) for part in value):
            keys = [part.strip() for part in value]
        else:
            problems.append(f'[keys] {binding_id}: write the key as text, e.g. "ctrl+f"; ignored')
            continue
        bad = next((problem for key in keys if (problem := key_problem(key)) is not None), None)
        if bad is not None or not keys:
            problems.append(f"[keys] {binding_id}: {bad or 'no key given'}; ignored")
            continue
        keymap[str(binding_id)] = ",".join(keys)
    return KeymapCheck(keymap, problems)
