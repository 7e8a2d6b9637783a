"""After a full session (CLI and app: add a profile, test it, connect, API calls, a failing call, a token
refresh, an agent certificate whose private key the service returns, an unexpected error), the log
folder holds the calls and the traceback, and no secret, token or private key (issue 12 §3)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
from pathlib import Path

import pytest

from tui import cli
from tui.api.errors import NotFoundError
from tui.app import IhubApp
from tui.config.paths import AppPaths
from tui.flows.certificates import create_agent_certificate
from tui.messages import Phase
from tui.services import Services
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.server import SimServer

JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


@pytest.fixture
def server():
    sim = SimServer(SimConfig())
    sim.start()
    yield sim
    sim.stop()


def _files(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file()]


async def test_a_full_session_leaves_no_secret_token_or_private_key_in_the_logs(
    server: SimServer,
    paths: AppPaths,
    ihub_home: Path,
    settle,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The CLI: add a profile (the secret from standard input) and test it.
    monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_CLIENT_SECRET + "\n"))
    # (The CLI runs its own event loop, so it runs in a thread here.)
    added = await asyncio.to_thread(
        cli.main,
        ["keys", "add", "plant", "--gateway", server.url, "--token-url", server.token_url,
         "--client-id", DEMO_CLIENT_ID, "--tenant", "demo", "--secret-stdin", "--default"],
    )  # fmt: skip
    assert added == 0
    assert await asyncio.to_thread(cli.main, ["keys", "test", "plant"]) == 0

    # The app on the saved profile, over loopback like a real tenant.
    tokens: list[str] = []
    out_dir = ihub_home / "agent-certs"
    app = IhubApp(Services.default(), profile="plant")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        api = app.api
        assert api is not None and app.connection.phase is Phase.CONNECTED
        tokens.append(api.tokens.token.access_token)  # type: ignore[union-attr]
        await api.assets.root()
        with pytest.raises(NotFoundError):
            await api.assets.get("no-such-asset")
        # A token refresh on the same client, then a reconnect ("Test connection") with a new client.
        tokens.append((await api.tokens.get(force=True)).access_token)
        await api.assets.root()
        app.action_test_connection()
        await settle(app, pilot)
        assert app.api is not None and app.api is not api
        tokens.append(app.api.tokens.token.access_token)  # type: ignore[union-attr]
        # The service hands back an agent certificate's private key.
        await create_agent_certificate(app.api, "edge-1", out_dir=out_dir)
        # A bug whose message carries the token and the secret.
        leaked = tokens[-1]

        def broken_help() -> None:
            raise RuntimeError(f"bug with {leaked} and {DEMO_CLIENT_SECRET}")

        app.action_help = broken_help  # type: ignore[method-assign]
        await pilot.press("question_mark")
        await pilot.pause()
        app._exception = None

    capsys.readouterr()
    assert await asyncio.to_thread(cli.main, ["log", "-o", "json"]) == 0
    logged = json.loads(capsys.readouterr().out)

    # The log has the session: both sources, token requests, the failure with its logref, the upload.
    assert {e["source"] for e in logged} == {"cli", "app"}
    assert sum(e["kind"] == "token" for e in logged) >= 4
    failed = [e for e in logged if e["status"] == 404]
    assert failed and failed[0]["logref"] and failed[0]["path"].endswith("/no-such-asset")
    assert any(e["method"] == "POST" and "agent" in e["path"].lower() for e in logged), logged
    assert "bug with" in paths.log_file.read_text()

    # ... and nothing secret anywhere in the log, config or cache folders.
    key_text = next(out_dir.glob("*.key")).read_text()
    key_body = [line for line in key_text.splitlines() if line and not line.startswith("-----")]
    basic = base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
    needles = [DEMO_CLIENT_SECRET, basic, *tokens, *key_body[:3], "PRIVATE KEY", "Bearer e"]
    assert all(JWT.search(token.encode()) for token in tokens)  # the search would find a token
    files = _files(paths.log_dir, paths.config_dir, paths.cache_dir)
    assert paths.activity_file in files and paths.log_file in files
    for file in files:
        data = file.read_bytes()
        assert not JWT.search(data), file
        for needle in needles:
            assert needle.encode() not in data, (file, needle[:12])
