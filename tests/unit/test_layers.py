"""The UI-free layers never import Textual (and the simulator never imports the client)."""

from __future__ import annotations

import json
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UI_FREE = ("tui.api", "tui.config", "tui.pki", "tui.sim", "tui.flows", "tui.proxy")
# Single UI-free modules outside those packages (the UI and the CLI call them).
UI_FREE_MODULES = ("tui.services", "tui.errors", "tui.context")


def _modules(package: str) -> list[str]:
    folder = ROOT / package.replace(".", "/")
    if not folder.is_dir():
        return []
    names = [package]
    for info in pkgutil.walk_packages([str(folder)], prefix=package + "."):
        names.append(info.name)
    return sorted(names)


def _import_in_subprocess(modules: list[str]) -> dict[str, object]:
    code = (
        "import importlib, json, sys\n"
        f"mods = {modules!r}\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        "print(json.dumps({'textual': sorted(k for k in sys.modules if k == 'textual' or "
        "k.startswith('textual.')), 'loaded': sorted(sys.modules)}))\n"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed code)
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_ui_free_layers_do_not_import_textual() -> None:
    modules = [m for package in UI_FREE for m in _modules(package)] + list(UI_FREE_MODULES)
    assert "tui.api.client" in modules and "tui.api.auth" in modules
    assert "tui.pki.lint" in modules and "tui.flows.certificates" in modules
    report = _import_in_subprocess(modules)
    assert report["textual"] == []


@pytest.mark.parametrize("package", ["tui.sim"])
def test_simulator_does_not_import_client_or_config(package: str) -> None:
    modules = _modules(package)
    if not modules:
        pytest.skip(f"{package} not present")
    report = _import_in_subprocess(modules)
    loaded = report["loaded"]
    assert isinstance(loaded, list)
    leaked = [m for m in loaded if m.startswith(("tui.api", "tui.config"))]
    assert leaked == []


def test_api_does_not_import_simulator_or_config() -> None:
    report = _import_in_subprocess(_modules("tui.api"))
    loaded = report["loaded"]
    assert isinstance(loaded, list)
    assert [m for m in loaded if m.startswith(("tui.sim", "tui.config", "textual"))] == []


def test_import_contracts_hold() -> None:
    """The import-linter contracts in pyproject.toml (who may import whom; tui/ARCHITECTURE.md)."""
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed code)
        [sys.executable, "-c", "from importlinter.cli import lint_imports; raise SystemExit(lint_imports())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
    # Every contract in pyproject.toml is checked and kept.
    contracts = _contracts()
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout


def _contracts() -> dict[str, dict[str, list[str]]]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        table = tomllib.load(file)["tool"]["importlinter"]["contracts"]
    return {c["name"]: c for c in table}


def test_the_contracts_cover_the_layers_and_every_command_group() -> None:
    """The contracts issue 6 asks for, and every group module but ``demo`` (which opens the app) under the
    "never import Textual" contract, so a new group cannot slip out of it."""
    from tui.cli import GROUPS

    contracts = list(_contracts().values())

    def forbidden(source: str, target: str) -> bool:
        return any(
            c["type"] == "forbidden" and source in c["source_modules"] and target in c["forbidden_modules"]
            for c in contracts
        )

    for layer in ("tui.api", "tui.config", "tui.pki", "tui.sim"):
        assert forbidden(layer, "textual"), layer
    assert forbidden("tui.sim", "tui.api") and forbidden("tui.sim", "tui.config")
    for ui in ("tui.screens", "tui.widgets", "tui.commands"):
        assert forbidden(ui, "tui.app"), ui
    for group in GROUPS:
        if group.name != "demo":
            assert forbidden(f"tui.cli.{group.module}", "textual"), group.module
    assert forbidden("tui.cli.common", "textual")


def test_pki_uses_cryptography_only() -> None:
    """tui.pki: cryptography and the standard library; no API client, config, simulator or network."""
    report = _import_in_subprocess(_modules("tui.pki"))
    loaded = report["loaded"]
    assert isinstance(loaded, list)
    assert [
        m for m in loaded if m.startswith(("tui.api", "tui.config", "tui.sim", "tui.flows", "httpx"))
    ] == []


def test_flows_do_not_import_the_simulator() -> None:
    report = _import_in_subprocess(_modules("tui.flows"))
    loaded = report["loaded"]
    assert isinstance(loaded, list)
    assert [m for m in loaded if m.startswith(("tui.sim", "tui.app", "tui.screens", "tui.widgets"))] == []


def test_proxy_does_not_import_simulator_or_config() -> None:
    """The proxy needs the API layer only (a Profile is passed in, never imported at run time)."""
    modules = _modules("tui.proxy")
    assert "tui.proxy.server" in modules
    report = _import_in_subprocess(modules)
    loaded = report["loaded"]
    assert isinstance(loaded, list)
    assert [m for m in loaded if m.startswith(("tui.sim", "tui.config", "textual"))] == []


def test_one_shared_test_clock() -> None:
    """Tests move time with the one ``Clock`` of tests/conftest.py (a subclass may change how it ticks);
    no test module writes a clock of its own."""
    tests = ROOT / "tests"
    own = re.compile(r"^class (\w*Clock)\b(?!\(Clock\))", re.M)
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in tests.rglob("*.py")
        if path != tests / "conftest.py"
        for name in own.findall(path.read_text(encoding="utf-8"))
    }
    assert found == set()
