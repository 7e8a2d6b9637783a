"""Every ``ihub`` command the README shows parses with the real parser (a renamed option or command
breaks this test, not a reader's first try), and the keys it names for each area are that area's keys."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from textual.binding import Binding

from tui.cli import build_parser, group_named

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def shown_commands() -> list[str]:
    """The ``ihub ...`` lines of the README's shell blocks, continuation lines joined, comments cut."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            line = re.sub(r"^(\.venv/bin/)?ihub\b", "ihub", line)
            if line.startswith("ihub "):
                commands.append(line.split(" > ", 1)[0].split(" < ", 1)[0])
    return commands


def test_the_readme_shows_every_command_group() -> None:
    named = [group_named(shlex.split(c)[1:]) for c in shown_commands()]
    groups = {g.name for g in named if g is not None}  # None: the app itself (ihub --profile plant)
    assert {"keys", "assets", "ts", "certs", "proxy", "sim"} <= groups


@pytest.mark.parametrize("command", shown_commands())
def test_each_shown_command_parses(command: str) -> None:
    words = [w.replace("<asset-id>", "ff0d65e90c1000b7343ac254a953c927") for w in shlex.split(command)[1:]]
    words = [re.sub(r"<([^>]+)>", r"\1", w) for w in words]
    parser = build_parser(words)
    try:
        parser.parse_args(words)
    except SystemExit as exc:  # argparse exits on an unknown option or a missing argument
        pytest.fail(f"README command does not parse: {command} (exit {exc.code})")


def area_keys(title: str) -> set[str]:
    """Keys named as `x` in the README's "### N <title>" section."""
    section = README.split(f"### {title}\n", 1)[1].split("\n#", 1)[0]
    prose = re.sub(r"```.*?```", "", section, flags=re.S)
    return {k for k in re.findall(r"`([^`\s]{1,9})`", prose) if re.fullmatch(r"[a-z0-9/+\-]|del", k)}


@pytest.mark.parametrize(
    ("title", "module", "cls"),
    [
        ("1 Keys", "tui.screens.keys", "KeysScreen"),
        ("2 Assets", "tui.screens.assets", "AssetsScreen"),
        ("3 Time series", "tui.screens.timeseries", "TimeSeriesScreen"),
        ("4 Certificates", "tui.screens.certificates", "CertificatesScreen"),
    ],
)
def test_each_area_section_names_keys_the_area_binds(title: str, module: str, cls: str) -> None:
    import importlib

    screen = getattr(importlib.import_module(module), cls)
    bound: set[str] = set()
    for klass in screen.__mro__:
        for binding in klass.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding):
                bound.update(binding.key.split(","))
                if binding.key_display:
                    bound.add(binding.key_display)
    # The area's widgets bind a few keys of their own (the tree's L, the search bar's Enter).
    from tui.widgets.asset_tree import AssetTree

    bound.update(b.key for b in AssetTree.BINDINGS if isinstance(b, Binding))
    aliases = {"/": "slash", "del": "delete", "+": "plus", "-": "minus"}
    named = area_keys(title)
    assert named, title
    missing = {k for k in named if k not in bound and aliases.get(k) not in bound}
    assert not missing, f"README section {title} names keys the area does not bind: {sorted(missing)}"
