"""The kill test of issue 10 §2: a process killed between the key write and the upload leaves the CA key
readable (passphrase in the secret store, key file complete); a process killed in the middle of the key
write leaves no half-written key. Real subprocesses, killed with SIGKILL (no clean-up code runs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tui.config.paths import AppPaths
from tui.config.secrets import SecretStore
from tui.flows.certificates import ca_key_store
from tui.pki.verify import key_matches_certificate

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import asyncio, json, os, signal, sys
from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.config.paths import AppPaths
from tui.config.secrets import SecretStore
from tui.flows.certificates import Step, StepState, ca_key_store, register_new_ca
from tui.pki import files
from tui.sim.app import create_app
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.transport import sim_transport

MODE = sys.argv[1]

if MODE == "during-write":
    real_replace = os.replace
    def replace_then_die(src, dst):
        if str(dst).endswith(".key"):
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst)
    files.os.replace = replace_then_die

async def main():
    app = create_app(SimConfig())
    gateway = "http://sim.ihub.test"
    style = CredentialStyle.CLIENT_CREDENTIALS
    creds = Credentials(style, gateway + "/oauth/token", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    api = ApiClient(ConnectionConfig(gateway, creds), transport=sim_transport(app))
    paths = AppPaths.default()
    store = ca_key_store(paths, SecretStore(paths), "demo")

    def on_step(event):
        if MODE == "after-save" and event.step is Step.SAVE_KEY and event.state is StepState.OK:
            posts = len(app.state.tenant.ca_certificates)
            print(json.dumps({"uploaded_before_kill": posts}), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    result = await register_new_ca(api, "kill test CA", key_store=store, key_type="ec256", on_step=on_step)
    print(json.dumps({"finished": result.outcome.value}), flush=True)

asyncio.run(main())
"""


def _run(mode: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT, mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def child_env() -> dict[str, str]:
    """The test's isolated folders; no OS keyring, so the passphrase goes to the encrypted vault."""
    env = dict(os.environ)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["IHUB_VAULT_PASSPHRASE"] = "FAKE-vault-passphrase-for-the-kill-test"
    return env


def test_killed_between_key_write_and_upload_leaves_the_key_readable(child_env) -> None:
    done = _run("after-save", child_env)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"uploaded_before_kill": 0}
    # A new process (this one) finds the key through the secret store and opens it.
    paths = AppPaths.default()
    store = ca_key_store(paths, SecretStore(paths, environ=child_env), "demo", environ=child_env)
    (stored,) = store.list()
    assert stored.certificate is not None and stored.certificate.subject.rfc4514_string() == "CN=kill test CA"
    key = store.load_key(stored.certificate)
    assert key_matches_certificate(key, stored.certificate)
    assert oct(stored.key_path.stat().st_mode & 0o777) == "0o600"


def test_killed_during_the_key_write_leaves_no_half_key(child_env) -> None:
    done = _run("during-write", child_env)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    paths = AppPaths.default()
    folder = paths.pki_dir / "demo"
    assert not list(folder.glob("*.key"))  # the complete file never got its name
    store = ca_key_store(paths, SecretStore(paths, environ=child_env), "demo", environ=child_env)
    assert store.list() == []
    # And the next run works normally.
    finished = _run("normal", child_env)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert json.loads(finished.stdout.strip().splitlines()[-1]) == {"finished": "verified"}
    assert len(store.list()) == 1
