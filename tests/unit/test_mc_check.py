"""`make mc-check` (tui/devtools/mc_check.py) without npm: a stand-in for mc shows that a failing or
wrong command fails the check, that numbers are compared with what the simulator serves and that the
demo secret and the passkey never reach the report. The real mc runs only in `make mc-check`."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from tui.devtools import mc_check
from tui.sim.config import DEMO_CLIENT_SECRET

FAKE_MC = """#!{python} -S
import os, sys
args = sys.argv[1:]
if args == ["--version"]:
    print("fake mc 0.0.0")
    sys.exit(0)
# Echo everything, secrets and a token included: the report must mask them.
print("args:", " ".join(args))
print("passkey=" + os.environ.get("MDSP_PASSKEY", ""))
print("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")
if args[:1] == ["list-assets"]:
    print("999 assets listed.")
    sys.exit(0)
print("Network error occured Not Found")
sys.exit(1)
"""


def _fake_mc(tmp_path: Path) -> Path:
    path = tmp_path / "mc"
    path.write_text(FAKE_MC.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_without_mc_the_check_cannot_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert mc_check.main(["--mc", str(tmp_path / "missing" / "mc")]) == 2
    assert "no mc executable" in capsys.readouterr().err


@pytest.mark.parametrize("verbose", [False, True], ids=["failures", "verbose"])
def test_failing_and_wrong_commands_fail_the_check_and_secrets_stay_hidden(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], verbose: bool
) -> None:
    options = ["--verbose"] if verbose else []
    assert mc_check.main(["--mc", str(_fake_mc(tmp_path)), *options]) == 1
    out = capsys.readouterr().out
    rows = {
        line.split("  ")[0].strip(): line for line in out.splitlines() if "  ok  " in line or " FAIL " in line
    }
    assert len(rows) >= 25 and all(" FAIL " in row for row in rows.values())
    # rc 0 is not enough: the number must be the one the simulator serves (254 assets in the demo).
    listed = rows["list-assets"]
    assert listed.split()[1] == "0" and "but the simulator serves" in listed
    # A failing command shows its last line; a step that needs an earlier one says so.
    assert "Network error occured Not Found" in rows["asset-info --assetid <pump>"]
    assert "not run: needs the asset" in rows["assets --mode delete --assetid <new asset>"]
    assert "0 of " in out and "mc commands ok" in out
    # The fake echoed the demo secret (sc --password), the passkey (argument and MDSP_PASSKEY), a token.
    assert DEMO_CLIENT_SECRET not in out
    assert "passkey=***" in out and "--passkey ***" in out
    assert "eyJhbGciOiJSUzI1NiJ9" not in out and "token <token>" in out
