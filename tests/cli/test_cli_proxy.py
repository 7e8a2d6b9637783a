"""``ihub proxy``: a saved profile served over loopback against the simulator; refusals and exit codes."""

from __future__ import annotations

import io
import json
import shlex
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import files_containing
from tui.cli import build_parser, main
from tui.cli.common import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE
from tui.cli.proxy import run
from tui.config.paths import AppPaths
from tui.config.profiles import Profile, ProfileStore
from tui.config.secrets import SecretStore, StoreKind
from tui.proxy import ProxyServer
from tui.services import Services
from tui.sim.config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_READONLY_CLIENT_ID,
    DEMO_READONLY_CLIENT_SECRET,
)
from tui.sim.server import SimServer

AM = "/api/assetmanagement/v3"


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


def _services(paths: AppPaths, environ: dict[str, str] | None = None) -> Services:
    environ = environ if environ is not None else {}
    return Services(
        paths=paths,
        profiles=ProfileStore(paths.profiles_file),
        secrets=SecretStore(paths, environ=environ, keyring_timeout=3.0),
        environ=environ,
    )


@pytest.fixture
def services(paths: AppPaths, sim: SimServer) -> Services:
    """Two saved profiles on the simulator (secrets in the test keyring); ``plant`` is the default."""
    services = _services(paths)
    for name, client_id, secret, read_only in (
        ("plant", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, False),
        ("viewer", DEMO_READONLY_CLIENT_ID, DEMO_READONLY_CLIENT_SECRET, True),
    ):
        services.profiles.add(
            Profile(
                name=name, gateway=sim.url, token_url=sim.token_url, client_id=client_id, read_only=read_only
            )
        )
        services.secrets.set(name, secret, StoreKind.KEYRING)
    services.profiles.set_default("plant")
    return services


class Running:
    """``ihub proxy ...`` in a thread with captured output; ``stop()`` ends it like Ctrl-C."""

    def __init__(self, services: Services, *argv: str) -> None:
        args = build_parser(["proxy"]).parse_args(["proxy", "--port", "0", *argv])
        self.out, self.err = io.StringIO(), io.StringIO()
        self.server: ProxyServer | None = None
        self.code: int | None = None
        ready = threading.Event()

        def on_ready(server: ProxyServer) -> None:
            self.server = server
            ready.set()

        def target() -> None:
            self.code = run(args, services, stdout=self.out, stderr=self.err, ready=on_ready)
            ready.set()

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()
        assert ready.wait(15)
        assert self.server is not None, self.err.getvalue()

    def stop(self) -> int | None:
        assert self.server is not None
        self.server.request_stop()
        self.thread.join(10)
        assert not self.thread.is_alive()
        return self.code


def test_serves_the_default_profile_and_the_printed_curl_works(
    services: Services, ihub_home: object, capsys: pytest.CaptureFixture[str]
) -> None:
    running = Running(services)
    try:
        lines = running.out.getvalue().splitlines()
        assert lines[0].startswith("ihub proxy: profile 'plant' -> http://127.0.0.1:")
        (try_line,) = [line for line in lines if "Try:" in line]
        command = shlex.split(try_line.split("Try:", 1)[1])
        name, value = command[command.index("-H") + 1].split(": ", 1)
        response = httpx.get(command[-1], headers={name: value})
        assert response.status_code == 200 and response.json()["typeId"] == "core.tenant"
    finally:
        assert running.stop() == EXIT_OK
    text = running.out.getvalue() + running.err.getvalue()
    assert "stopped after 1 request(s)" in text
    assert DEMO_CLIENT_SECRET not in text
    assert files_containing(ihub_home, DEMO_CLIENT_SECRET) == []  # type: ignore[arg-type]


def test_read_only_profile_named_after_the_group_and_verbose(services: Services) -> None:
    running = Running(services, "--profile", "viewer", "--verbose")
    try:
        server = running.server
        assert server is not None and server.access_key
        key = {"X-Ihub-Proxy-Key": server.access_key}
        assert httpx.get(f"{server.url}{AM}/assets/root", headers=key).status_code == 200
        refused = httpx.post(f"{server.url}{AM}/assets", headers=key, json={})
        assert refused.status_code == 403 and "read-only profile 'viewer'" in refused.text
    finally:
        running.stop()
    out = running.out.getvalue()
    assert "profile 'viewer'" in out and "Mode:        read-only" in out
    assert f"GET {AM}/assets/root -> 200" in out and f"POST {AM}/assets -> 403" in out


def test_json_lines_for_scripts(services: Services) -> None:
    running = Running(services, "-o", "json", "--verbose")
    try:
        ready = json.loads(running.out.getvalue().splitlines()[0])
        assert ready["event"] == "ready" and ready["profile"] == "plant"
        httpx.get(f"{ready['url']}{AM}/assets/root", headers={ready["key_header"]: ready["access_key"]})
    finally:
        running.stop()
    events = [json.loads(line) for line in running.out.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["ready", "request", "stopped"]
    assert events[1]["status"] == 200 and events[1]["path"] == f"{AM}/assets/root"


def test_key_from_the_environment_is_used_and_not_printed(paths: AppPaths, sim: SimServer) -> None:
    key = "from-the-environment-0123"
    services = _services(paths, {"IHUB_PROXY_KEY": key})
    services.profiles.add(
        Profile(name="p", gateway=sim.url, token_url=sim.token_url, client_id=DEMO_CLIENT_ID)
    )
    services.secrets.set("p", DEMO_CLIENT_SECRET, StoreKind.KEYRING)
    running = Running(services)
    try:
        assert running.server is not None
        url = f"{running.server.url}{AM}/assets/root"
        assert httpx.get(url, headers={"X-Ihub-Proxy-Key": key}).status_code == 200
    finally:
        running.stop()
    assert key not in running.out.getvalue() and "from IHUB_PROXY_KEY" in running.out.getvalue()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--host", "0.0.0.0"], "--allow-remote"),
        (["--host", "192.168.0.7", "--allow-remote", "--no-access-key"], "needs the access key"),
        (["--cors", "*"], "wildcard"),
        (["--port", "70000"], "--port"),
    ],
)
def test_refused_settings_exit_2_before_reading_the_secret(
    services: Services, argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = []
    monkeypatch.setattr(services, "read_secret", lambda *a, **k: read.append(1))
    out, err = io.StringIO(), io.StringIO()
    args = build_parser(["proxy"]).parse_args(["proxy", *argv])
    assert run(args, services, stdout=out, stderr=err) == EXIT_USAGE
    assert (
        err.getvalue().startswith("ihub: ") and message in err.getvalue() and err.getvalue().count("\n") == 1
    )
    assert out.getvalue() == "" and read == []


def test_missing_profile_secret_and_busy_port(services: Services, sim: SimServer) -> None:
    def call(*argv: str, svc: Services = services) -> tuple[int, str]:
        err = io.StringIO()
        code = run(
            build_parser(["proxy"]).parse_args(["proxy", *argv]), svc, stdout=io.StringIO(), stderr=err
        )
        assert "Traceback" not in err.getvalue()
        return code, err.getvalue()

    code, err = call("--profile", "nope")
    assert code == EXIT_NOT_FOUND and "no profile named 'nope'" in err
    services.profiles.add(Profile(name="nosecret", gateway=sim.url, token_url=sim.token_url, client_id="x"))
    code, err = call("--profile", "nosecret")
    assert code == EXIT_ERROR and "nosecret" in err
    taken = sim.url.rsplit(":", 1)[1]
    code, err = call("--port", taken)
    assert code == EXIT_ERROR and f"cannot listen on 127.0.0.1:{taken}" in err


def test_dry_run_reads_no_secret_and_listens_on_nothing(
    services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(services, "read_secret", lambda *a, **k: pytest.fail("the secret was read"))
    out = io.StringIO()
    args = build_parser(["proxy"]).parse_args(
        ["proxy", "--dry-run", "--read-only", "--cors", "http://localhost:3000"]
    )
    assert run(args, services, stdout=out, stderr=io.StringIO()) == EXIT_OK
    text = out.getvalue()
    assert "would serve http://127.0.0.1:8766/api/... for profile 'plant'" in text
    assert "read-only" in text and "http://localhost:3000" in text
    assert 'curl -H "Authorization: Bearer $TOKEN"' in text and DEMO_CLIENT_SECRET not in text


def test_wired_into_the_ihub_command(capsys: pytest.CaptureFixture[str]) -> None:
    """The group is in the table; with no profile at all it says what to do, in one line."""
    assert main(["proxy", "--dry-run"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("ihub: no profile selected") and err.count("\n") == 1
    assert main(["--profile", "ghost", "proxy", "--dry-run"]) == EXIT_NOT_FOUND
