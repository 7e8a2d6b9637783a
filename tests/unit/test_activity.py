"""The activity log (issue 12 §3): one JSON line per call, nothing secret, rotation, the proxy's hook,
the session's calls and "copy as curl"."""

from __future__ import annotations

import asyncio
import json
import stat
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import Clock
from tui.api.activity import (
    ActivityEntry,
    ActivityLog,
    LoggedAsyncClient,
    ReadStats,
    dumps,
    loads,
    log_files,
    read_entries,
    redact_query,
)
from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.api.curl import curl_line
from tui.api.errors import NotFoundError, TransportError
from tui.config.paths import AppPaths
from tui.config.profiles import Profile, ProfileStore
from tui.services import DEMO_LOCAL_URL, Services, SessionSecretStore
from tui.sim.app import create_app
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.transport import sim_transport

NOW = 1_750_000_000.0


def _services(paths: AppPaths, sim, clock: Clock | None = None) -> Services:
    store = ProfileStore(None)
    store.add(
        Profile(
            name="plant",
            gateway=DEMO_LOCAL_URL,
            token_url=f"{DEMO_LOCAL_URL}/oauth/token",
            client_id=DEMO_CLIENT_ID,
            tenant="demo",
        )
    )
    secrets = SessionSecretStore()
    secrets.set("plant", DEMO_CLIENT_SECRET)
    return Services(
        paths=paths,
        profiles=store,
        secrets=secrets,
        environ={},
        transport_factory=lambda: sim_transport(sim),
        clock=clock or Clock(NOW),
    )


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_every_call_is_one_json_line_with_status_timing_logref_and_nothing_secret(
    paths: AppPaths,
) -> None:
    clock = Clock(NOW)
    sim = create_app(SimConfig(clock=clock))
    services = _services(paths, sim, clock)
    connection = await services.open("plant")
    api = connection.client
    try:
        root = await api.assets.root()
        await api.assets.get_raw(root.asset_id)
        with pytest.raises(NotFoundError) as refused:
            await api.assets.get("no-such-asset")
        token = api.tokens.token
        assert token is not None
    finally:
        await api.aclose()

    lines = _lines(paths.activity_file)
    assert [(e["kind"], e["method"], e["status"]) for e in lines] == [
        ("token", "POST", 200),
        ("api", "GET", 200),
        ("api", "GET", 200),
        ("api", "GET", 404),
    ]
    first = lines[0]
    # The keys in a fixed order; the time is the services' clock (UTC, ms).
    assert list(first)[:7] == ["time", "profile", "source", "kind", "method", "host", "path"]
    assert first["time"] == "2025-06-15T15:06:40.000Z"
    assert (first["profile"], first["source"], first["path"]) == ("plant", "cli", "/oauth/token")
    for entry in lines:
        assert entry["ms"] >= 0 and entry["bytes"] > 0
    missing = lines[-1]
    assert missing["path"] == "/api/assetmanagement/v3/assets/no-such-asset"
    # The service's logref (the same one the error carries) and its one-line message.
    assert missing["logref"] == refused.value.logref and missing["logref"]
    assert "not found" in missing["error"]

    text = paths.activity_file.read_text()
    for secret in (
        DEMO_CLIENT_SECRET,
        token.access_token,
        "Bearer",
        "Basic",
        "Authorization",
        "access_token",
    ):
        assert secret not in text
    assert stat.S_IMODE(paths.activity_file.stat().st_mode) == 0o600
    # The session keeps the same calls, newest first.
    assert [c.entry.status for c in services.activity.session()] == [404, 200, 200, 200]


async def test_retries_refreshes_and_calls_without_an_answer_are_logged(paths: AppPaths) -> None:
    calls = {"n": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": f"tok-{calls['n']}", "expires_in": 3600})
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(401, headers={"X-Correlation-ID": "corr-1"})
        if calls["n"] == 2:
            return httpx.Response(200, json={"ok": True}, headers={"X-Correlation-ID": "corr-2"})
        raise httpx.ConnectError("connection refused", request=request)

    log = ActivityLog(paths.activity_file, clock=Clock(NOW))
    creds = Credentials(CredentialStyle.CLIENT_CREDENTIALS, "https://t.example/oauth/token", "cid", "s" * 20)
    config = ConnectionConfig("https://gw.example", creds, max_retries=0)

    async def no_sleep(_delay: float) -> None:
        return None

    api = ApiClient(
        config, transport=httpx.MockTransport(handler), activity=log.recorder("p"), sleep=no_sleep
    )
    async with api:
        await api.get_json("/api/x", params={"size": 5, "access_token": "leak-me"})
        with pytest.raises(TransportError):
            await api.get_json("/api/y")
    lines = _lines(paths.activity_file)
    assert [(e["kind"], e["path"], e.get("status")) for e in lines] == [
        ("token", "/oauth/token", 200),
        ("api", "/api/x", 401),
        ("token", "/oauth/token", 200),  # the refresh after the 401
        ("api", "/api/x", 200),
        ("api", "/api/y", None),  # no answer: no status, the reason instead
    ]
    assert lines[1]["logref"] == "corr-1" and lines[3]["logref"] == "corr-2"
    assert lines[1]["host"] == "gw.example" and lines[0]["host"] == "t.example"
    assert lines[3]["query"] == "size=5&access_token=REDACTED"
    assert lines[4]["error"].startswith("ConnectError")
    assert "leak-me" not in paths.activity_file.read_text()


def test_query_values_named_like_credentials_are_redacted() -> None:
    assert redact_query("") == ""
    assert redact_query("page=0&size=200") == "page=0&size=200"
    assert (
        redact_query("token=a&client_secret=b&X-Amz-Signature=c&ihub_proxy_key=d&sig=e&sortKey=f&key=g")
        == "token=REDACTED&client_secret=REDACTED&X-Amz-Signature=REDACTED&ihub_proxy_key=REDACTED"
        "&sig=REDACTED&sortKey=f&key=REDACTED"
    )


def _entry(n: int, **fields: object) -> ActivityEntry:
    values: dict = {
        "time": f"2025-06-15T15:06:{n % 60:02d}.000Z",
        "profile": "p",
        "source": "cli",
        "kind": "api",
        "method": "GET",
        "host": "gw.example",
        "path": f"/api/n/{n}",
        "status": 200,
        "ms": 1.5,
        "size": 10,
    }
    values.update(fields)
    return ActivityEntry(**values)


def test_the_log_is_rotated_by_size_and_read_back_in_order(paths: AppPaths) -> None:
    path = paths.activity_file
    log = ActivityLog(path, max_bytes=2_000, backups=2)
    for n in range(200):
        log.record(_entry(n))
    log.close()
    files = log_files(path)
    assert [f.name for f in files] == ["activity.jsonl.2", "activity.jsonl.1", "activity.jsonl"]
    assert all(f.stat().st_size <= 2_000 for f in files)
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    # The oldest lines were dropped with the third backup; what is left is the newest, in order.
    numbers = [int(e.path.rsplit("/", 1)[1]) for e in read_entries(path)]
    assert numbers == list(range(numbers[0], 200)) and 0 < numbers[0] and len(numbers) >= 20
    # The session keeps its own (bounded) list, independent of the files.
    assert log.count == 200 and log.session(1)[0].entry.path == "/api/n/199"


def test_a_log_that_grows_from_an_existing_file_rotates_when_it_reaches_the_limit(paths: AppPaths) -> None:
    path = paths.activity_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(_entry(0)) + "\n")
    start = path.stat().st_size
    line = len(dumps(_entry(1))) + 1
    log = ActivityLog(path, max_bytes=start + 3 * line, backups=1)
    for n in range(1, 4):  # the file reaches the limit with the third line: rotated before it
        log.record(_entry(n))
    log.close()

    def paths_in(file: Path) -> list[str]:
        return [json.loads(line)["path"] for line in file.read_text().splitlines()]

    assert paths_in(path.with_name("activity.jsonl.1")) == ["/api/n/0", "/api/n/1", "/api/n/2"]
    assert paths_in(path) == ["/api/n/3"]
    assert [e.path for e in read_entries(path)] == [f"/api/n/{n}" for n in range(4)]


def test_a_process_writes_on_in_the_current_file_after_another_one_rotated_or_removed_it(
    paths: AppPaths,
) -> None:
    """The app and a CLI command append to the same log: when the command rotates it (here twice, with
    one backup, so the app's file is deleted), the app's next line goes to the current file, not into the
    backup or the deleted file it had open. The same when the file is removed under it."""
    path = paths.activity_file
    app = ActivityLog(path, max_bytes=2_000, backups=1, source="app")
    cli = ActivityLog(path, max_bytes=2_000, backups=1)
    app.record(_entry(0, path="/app/first"))
    for n in range(60):  # about 6 000 bytes: rotated twice
        cli.record(_entry(n, path=f"/cli/{n}"))
    app.record(_entry(1, path="/app/after-rotation"))
    assert "/app/after-rotation" in {e.path for e in read_entries(path)}
    assert "/app/after-rotation" in path.read_text()
    path.unlink()
    app.record(_entry(2, path="/app/after-removal"))
    app.close()
    cli.close()
    assert "/app/after-removal" in path.read_text()
    assert app.problem is None and cli.problem is None


_WRITER = """
import sys
from pathlib import Path
from tui.api.activity import ActivityEntry, ActivityLog

path, name, lines = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
log = ActivityLog(path, max_bytes=2_000, backups=500, source="cli")
for n in range(lines):
    log.record(ActivityEntry(time="2025-06-15T15:06:00.000Z", profile="p", source="cli", kind="api",
                             method="GET", host="h", path=f"/{name}/{n}", status=200, ms=1.0, size=1))
log.close()
print(log.problem or "")
"""


def test_processes_that_rotate_one_log_at_the_same_time_keep_logging_and_lose_no_line(
    paths: AppPaths,
) -> None:
    """Three processes append to one log with a small limit (a rotation every ~15 lines each): a rotation
    that meets another one under way neither stops a process's file log nor drops a file (enough
    backups are kept that every line must still be there, once)."""
    import subprocess
    import sys

    path = paths.activity_file
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = 600  # ~250 kB: about 130 files of 2 kB, fewer than the 500 backups kept
    writers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            [sys.executable, "-c", _WRITER, str(path), f"w{i}", str(lines)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    results = [w.communicate(timeout=120) for w in writers]
    assert [(w.returncode, out.strip()) for w, (out, _err) in zip(writers, results, strict=True)] == [
        (0, "")
    ] * 3, results
    written = [e.path for e in read_entries(path)]
    assert sorted(written) == sorted(f"/w{i}/{n}" for i in range(3) for n in range(lines))


def test_a_log_pointed_at_something_other_than_a_file_is_never_rotated(tmp_path: Path) -> None:
    path = tmp_path / "activity.jsonl"
    path.symlink_to("/dev/null")  # were it rotated, the link (not /dev/null) would be renamed
    log = ActivityLog(path, max_bytes=500, backups=2)
    for n in range(50):
        log.record(_entry(n))
    log.close()
    assert path.is_symlink() and not (tmp_path / "activity.jsonl.1").exists()
    assert log.problem is None and log.count == 50


def test_unreadable_lines_are_skipped_and_counted(paths: AppPaths) -> None:
    path = paths.activity_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(_entry(1)) + "\n{torn line\nnot json\n" + dumps(_entry(2)) + "\n")
    stats = ReadStats()
    assert [e.path for e in read_entries(path, stats)] == ["/api/n/1", "/api/n/2"]
    assert stats.skipped == 2


def test_a_log_that_cannot_be_written_says_why_and_the_session_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    log = ActivityLog(blocker / "activity.jsonl")
    log.record(_entry(1))
    log.record(_entry(2))
    assert log.problem is not None and "could not be written" in log.problem
    assert [c.entry.path for c in log.session()] == ["/api/n/2", "/api/n/1"]


@dataclass(frozen=True)
class FakeProxyEvent:
    """The fields of ``tui.proxy.RequestEvent`` the listener reads."""

    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    bytes_sent: int
    bytes_received: int
    forwarded: bool
    at: float
    refused: str | None = None
    error: str | None = None


def test_the_proxy_logs_with_one_subscribe_line(paths: AppPaths) -> None:
    log = ActivityLog(paths.activity_file)
    listener = log.proxy_listener("plant", gateway="https://gateway.eu1.mindsphere.io")
    listener(
        FakeProxyEvent(
            "GET", "/api/assetmanagement/v3/assets", "size=1&token=x", 200, 12.34, 99, 0, True, NOW
        )
    )
    listener(FakeProxyEvent("DELETE", "/api/x", "", 403, 0.1, 0, 0, False, NOW, refused="read-only"))
    listener(FakeProxyEvent("GET", "/api/y", "", 502, 5.0, 20, 0, False, NOW, error="gateway unreachable"))
    lines = _lines(paths.activity_file)
    assert len(lines) == 2  # the refused request never reached the service
    assert lines[0] == {
        "time": "2025-06-15T15:06:40.000Z",
        "profile": "plant",
        "source": "proxy",
        "kind": "api",
        "method": "GET",
        "host": "gateway.eu1.mindsphere.io",
        "path": "/api/assetmanagement/v3/assets",
        "query": "size=1&token=REDACTED",
        "status": 200,
        "ms": 12.3,
        "bytes": 99,
    }
    assert "status" not in lines[1] and lines[1]["error"] == "gateway unreachable"
    curl = log.session()[1].curl()
    assert curl == (
        "curl 'https://gateway.eu1.mindsphere.io/api/assetmanagement/v3/assets?size=1&token=REDACTED' "
        '-H "Authorization: Bearer $TOKEN"'
    )


async def test_the_demo_logs_to_its_session_only(paths: AppPaths) -> None:
    sim = create_app(SimConfig())
    services = Services.for_demo(transport_factory=lambda: sim_transport(sim), paths=paths)
    assert services.activity is not None and services.activity.path is None
    assert services.error_log_file is None
    connection = await services.open("demo")
    async with connection.client as api:
        await api.assets.root()
    assert [c.entry.kind for c in services.activity.session()] == ["api", "token"]
    assert not paths.log_dir.exists() or not any(paths.log_dir.iterdir())


def test_copy_as_curl_shows_variables_never_credentials() -> None:
    log = ActivityLog(None)
    recorder = log.recorder("plant")
    secret_basic = "Basic ZGVtby1jbGllbnQ6RkFLRS10ZXN0LXNlY3JldA=="
    token_request = httpx.Request(
        "POST",
        "https://demo.piam.eu1.example.test/oauth/token",
        headers={"Authorization": secret_basic},
        data={"grant_type": "client_credentials"},
        extensions={"ihub_activity_kind": "token"},
    )
    recorder.answered(token_request, httpx.Response(200, content=b"{}", request=token_request), NOW, 0.01)
    app_token = httpx.Request(
        "POST", "https://gw.example/api/technicaltokenmanager/v3/oauth/token",
        headers={"X-SPACE-AUTH-KEY": secret_basic}, json={"appName": "a"},
    )  # fmt: skip
    recorder.answered(app_token, httpx.Response(200, content=b"{}", request=app_token), NOW, 0.01)
    api_call = httpx.Request(
        "PUT", "https://gw.example/api/assetmanagement/v3/assets/a1",
        headers={"Authorization": "Bearer eyJhbGciOi.eyJzdWIi.c2ln", "If-Match": "3", "Cookie": "s=1"},
        json={"name": "Pump 'A'"},
    )  # fmt: skip
    recorder.answered(api_call, httpx.Response(204, request=api_call), NOW, 0.01)

    put, app, token = (call.curl() or "" for call in log.session())
    assert put.startswith("curl -X PUT https://gw.example/api/assetmanagement/v3/assets/a1")
    assert '-H "Authorization: Bearer $TOKEN"' in put and "-H 'if-match: 3'" in put
    assert '-H "cookie: $COOKIE"' in put
    assert "--data-binary" in put and "Pump" in put
    assert token.startswith("curl -X POST https://demo.piam.eu1.example.test/oauth/token")
    assert '-u "$CLIENT_ID:$CLIENT_SECRET"' in token and "grant_type=client_credentials" in token
    assert "X-SPACE-AUTH-KEY: Basic $(printf" in app
    for line in (put, app, token):
        assert "ZGVtby1j" not in line and "eyJ" not in line and "s=1" not in line
    # The dry run's renderer is the same function.
    assert curl_line(api_call) == put


async def test_a_streamed_response_is_logged_when_closed(paths: AppPaths) -> None:
    log = ActivityLog(paths.activity_file)

    async def body():
        for _ in range(5):
            yield b"x" * 1000

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body()))
    async with LoggedAsyncClient(transport=transport, activity=log.recorder("p")) as client:
        async with client.stream("GET", "https://gw.example/api/big") as response:
            assert log.count == 0  # nothing yet: the body is still being read
            async for _chunk in response.aiter_bytes():
                pass
        assert log.count == 1
    (line,) = _lines(paths.activity_file)
    assert (line["path"], line["status"], line["bytes"]) == ("/api/big", 200, 5000)


async def test_a_cancelled_call_is_logged_as_cancelled_not_as_failed(paths: AppPaths) -> None:
    """Cancelled by the user or the app (leaving a screen cancels its workers): it happened, so it is in the
    log, but the service and the network did not fail."""
    log = ActivityLog(paths.activity_file)
    started = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.sleep(10)
        return httpx.Response(200)

    async with LoggedAsyncClient(transport=httpx.MockTransport(slow), activity=log.recorder("p")) as client:
        task = asyncio.create_task(client.get("https://gw.example/api/slow"))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    (line,) = _lines(paths.activity_file)
    assert line["error"] == "cancelled" and "status" not in line
    (entry,) = read_entries(paths.activity_file)
    assert entry.cancelled and not entry.failed
    assert [c.entry.path for c in log.session()] == ["/api/slow"]
    assert log.session(failed=True) == []
    # No answer for another reason, or an error status: a failure, not a cancelled call.
    refused = loads(dumps(entry).replace('"cancelled"', '"ConnectError: refused"'))
    assert refused.failed and not refused.cancelled
    answered = loads(dumps(entry).replace('"error"', '"status":503,"error"'))
    assert answered.failed and not answered.cancelled
