"""``serve()``, what ``ihub proxy`` runs: startup text, a working curl line, --verbose, refusals."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import threading

import httpx
import pytest

from tests.proxy.conftest import AM
from tui.config.profiles import Profile
from tui.proxy import ProxyConfigError, ProxyError, ProxyServer, serve
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tui.sim.server import SimServer


def _profile(sim: SimServer, **kw: object) -> Profile:
    return Profile(name="demo", gateway=sim.url, token_url=sim.token_url, client_id=DEMO_CLIENT_ID, **kw)  # type: ignore[arg-type]


class Running:
    """``serve()`` in a thread, its output collected, stopped on exit."""

    def __init__(self, profile: Profile, **options: object) -> None:
        self.out: list[str] = []
        self.err: list[str] = []
        self.server: ProxyServer | None = None
        self.result: object = None
        ready = threading.Event()

        def on_ready(server: ProxyServer) -> None:
            self.server = server
            ready.set()

        def run() -> None:
            self.result = serve(
                profile,
                DEMO_CLIENT_SECRET,
                port=0,
                environ={},
                out=self.out.append,
                err=self.err.append,
                ready=on_ready,
                **options,  # type: ignore[arg-type]
            )

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(10)

    def stop(self) -> None:
        assert self.server is not None
        self.server.request_stop()
        self.thread.join(10)
        assert not self.thread.is_alive()


def test_startup_text_and_its_curl_example_work_against_the_simulator(sim: SimServer) -> None:
    running = Running(_profile(sim))
    try:
        server = running.server
        assert server is not None and server.access_key
        text = "\n".join(running.out)
        assert f"profile 'demo' -> {sim.url}" in text
        assert f"URL:         {server.url}/api/..." in text
        assert f"Access key:  {server.access_key}" in text
        assert "Mode:        read and write" in text
        (try_line,) = [line for line in running.out if line.strip().startswith("Try:")]
        command = shlex.split(try_line.split("Try:", 1)[1])
        assert command[0] == "curl" and server.access_key in try_line
        curl = shutil.which("curl")
        if curl:
            done = subprocess.run(  # noqa: S603 (the printed example, against loopback)
                [curl, "-s", "-f", *command[1:]], capture_output=True, timeout=30, check=False
            )
            assert done.returncode == 0, done.stderr
            body = done.stdout
        else:  # the same request the example makes
            header = command[command.index("-H") + 1]
            name, value = header.split(": ", 1)
            body = httpx.get(command[-1], headers={name: value}).content
        assert b'"typeId":"core.tenant"' in body
        assert running.err == []
    finally:
        running.stop()
    assert running.out[-1] == "ihub proxy stopped after 1 request(s) (1 forwarded)."


def test_verbose_prints_each_request(sim: SimServer) -> None:
    running = Running(_profile(sim), verbose=True)
    try:
        server = running.server
        assert server is not None and server.access_key
        httpx.get(
            f"{server.url}{AM}/assets", params={"size": 2}, headers={"X-Ihub-Proxy-Key": server.access_key}
        )
        httpx.get(f"{server.url}{AM}/assets", params={"ihub_proxy_key": "wrong-key-xxxxxxxxxxxx"})
    finally:
        running.stop()
    lines = [line for line in running.out if " GET " in line]
    assert len(lines) == 2
    assert f"GET {AM}/assets?size=2 -> 200 " in lines[0] and " ms " in lines[0]
    assert f"GET {AM}/assets -> 401 " in lines[1] and "(refused: access-key)" in lines[1]
    assert "wrong-key" not in "\n".join(running.out)


def test_read_only_profile_and_warnings(sim: SimServer) -> None:
    running = Running(_profile(sim, read_only=True), access_key=False)
    try:
        server = running.server
        assert server is not None
        assert httpx.post(f"{server.url}{AM}/assets", json={}).status_code == 403
        assert httpx.get(f"{server.url}{AM}/assets/root").status_code == 200
    finally:
        running.stop()
    assert running.err and running.err[0].startswith("WARNING: no access key")
    assert "  Mode:        read-only: only GET and HEAD are forwarded" in running.out


def test_refusals_come_before_anything_is_served_or_printed(sim: SimServer) -> None:
    out: list[str] = []
    with pytest.raises(ProxyConfigError, match="--allow-remote"):
        serve(_profile(sim), DEMO_CLIENT_SECRET, host="0.0.0.0", port=0, environ={}, out=out.append)
    with pytest.raises(ProxyConfigError, match="wildcard"):
        serve(_profile(sim), DEMO_CLIENT_SECRET, port=0, cors="*", environ={}, out=out.append)
    taken = int(sim.url.rsplit(":", 1)[1])
    with pytest.raises(ProxyError, match="cannot listen"):
        serve(_profile(sim), DEMO_CLIENT_SECRET, port=taken, environ={}, out=out.append)
    assert out == []
