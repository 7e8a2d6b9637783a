"""The local API proxy started from the app (issue 13 §3): palette, dialog, header count, activity log,
stop, profile switch, reconnect, read-only, a taken port, exit, and the demo's loopback simulator."""

from __future__ import annotations

import base64
import dataclasses
import socket
from collections.abc import Iterator

import httpx
import pytest
from textual.app import App

from tui import app_proxy
from tui.app import IhubApp
from tui.messages import ConnectionState, Phase, ProxyStatus
from tui.proxy import DEFAULT_PORT, ENV_PROXY_KEY, KEY_HEADER, KEY_PARAM, KeySource
from tui.screens import proxy_dialog
from tui.screens.proxy_dialog import ProxyDialog
from tui.screens.requests import RequestsScreen
from tui.services import Services
from tui.sim.config import DEMO_CLIENT_SECRET, SimConfig
from tui.sim.server import SimServer
from tui.widgets.secret_field import SecretField
from tui.widgets.status_bar import StatusBar, describe_proxy

SIZE = (100, 30)
ROOT = "/api/assetmanagement/v3/assets/root"
ASSETS = "/api/assetmanagement/v3/assets"


def header(app: IhubApp) -> str:
    """The area's header as plain text (under any dialog)."""
    screen = next(s for s in reversed(app.screen_stack) if s.query(StatusBar))
    return screen.query_one(StatusBar).render().plain


async def palette(pilot, app: IhubApp, query: str) -> None:
    """Run the palette's best match for ``query`` (short: each key press takes a while)."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*query)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause()


async def start_proxy(pilot, app: IhubApp, settle) -> ProxyDialog:
    app.proxy.port = 0  # any free port: tests never depend on 8766 being free
    await palette(pilot, app, "proxy for")
    await settle(app, pilot)
    dialog = app.screen
    assert isinstance(dialog, ProxyDialog)
    return dialog


def key_of(app: IhubApp) -> dict[str, str]:
    key = app.proxy.access_key
    assert key is not None
    return {KEY_HEADER: key}


async def refused(url: str) -> bool:
    """True when nothing listens at ``url`` any more."""
    try:
        async with httpx.AsyncClient() as client:
            await client.get(url + ROOT, timeout=2)
    except httpx.ConnectError:
        return True
    return False


def test_the_names_the_app_repeats_match_the_proxys() -> None:
    # The dialog and the app do not import tui.proxy (uvicorn) until a proxy starts; their copies agree.
    assert app_proxy.DEFAULT_PORT == DEFAULT_PORT and app_proxy.KEY_FROM_ENV == KeySource.ENV
    assert (proxy_dialog.KEY_HEADER, proxy_dialog.KEY_PARAM, proxy_dialog.ENV_PROXY_KEY) == (
        KEY_HEADER,
        KEY_PARAM,
        ENV_PROXY_KEY,
    )


async def test_start_from_the_palette_forward_count_log_and_stop(demo_app: IhubApp, settle) -> None:
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "proxy" not in header(app)
        dialog = await start_proxy(pilot, app, settle)
        url = app.proxy.url
        assert url is not None and url.startswith("http://127.0.0.1:")
        key = app.proxy.access_key
        assert key is not None and len(key) >= 16
        # The dialog names URL, profile and mode; the key stays masked on screen.
        facts = dialog.facts_text
        assert f"{url}/api/..." in facts and "demo →" in facts and "read and write" in facts
        assert key not in app.export_screenshot()
        assert "proxy" in header(app) and f":{app.proxy.status.port} · 0" in header(app)  # type: ignore[union-attr]

        # A request with the key reaches the simulator: the same body as the app's own call.
        api = app.api
        assert api is not None
        token = await api.tokens.get()
        gateway = api.config.gateway
        direct = await api.http.get(
            f"{gateway}{ROOT}", headers={"Authorization": f"Bearer {token.access_token}"}
        )
        async with httpx.AsyncClient() as client:
            through = await client.get(url + ROOT, headers=key_of(app))
            assert through.status_code == 200
            # Byte for byte, apart from the links that now point at the proxy.
            assert through.content == direct.content.replace(gateway.encode(), url.encode())
            # Without the key: 401, nothing forwarded, nothing logged.
            assert (await client.get(url + ROOT)).status_code == 401
        await pilot.pause()
        status = app.proxy.status
        assert status is not None and (status.forwarded, status.refused) == (1, 1)
        assert "1 forwarded · 1 refused · 0 failed" in dialog.facts_text
        # The header follows (the area's header under the dialog).
        assert f":{status.port} · 1" in header(app)

        # The activity log has the forwarded call, marked as the proxy's.
        activity = app.services.activity
        assert activity is not None
        proxied = [c for c in activity.session(50) if c.entry.source == "proxy"]
        assert [(c.entry.method, c.entry.path, c.entry.status) for c in proxied] == [("GET", ROOT, 200)]
        assert proxied[0].entry.profile == "demo"

        # c copies the key through the terminal (OSC 52); r shows it for a few seconds.
        written: list[str] = []
        driver = app._driver
        assert driver is not None
        original_write = driver.write
        driver.write = lambda data: (written.append(data), original_write(data))[1]  # type: ignore[method-assign]
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == key
        osc = [w for w in written if w.startswith("\x1b]52;c;")]
        assert osc and base64.b64decode(osc[-1][7:-1]).decode() == key
        field = dialog.query_one(SecretField)
        assert key not in field.shown_text
        await pilot.press("r")
        await pilot.pause()
        assert key in field.shown_text
        await pilot.press("r")
        await pilot.pause()
        assert key not in field.shown_text
        await pilot.press("u")
        assert app.clipboard == url
        await pilot.press("y")
        assert app.clipboard == f"curl -H \"{KEY_HEADER}: ${ENV_PROXY_KEY}\" '{url}{ROOT}'"

        # The Requests view lists the proxied call.
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f2")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RequestsScreen)
        assert any(c.entry.source == "proxy" and c.entry.path == ROOT for c in screen._shown)
        await pilot.press("escape")
        await pilot.pause()

        # The palette shows the dialog again, then stops the proxy.
        await palette(pilot, app, "access key")
        assert isinstance(app.screen, ProxyDialog)
        await pilot.press("escape")
        await palette(pilot, app, "stop prox")
        await settle(app, pilot)
        assert not app.proxy.running
        assert "proxy" not in header(app)
        assert await refused(url)


async def test_stop_from_the_dialog_and_exit_stop_it(demo_app: IhubApp, settle) -> None:
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await start_proxy(pilot, app, settle)
        url = app.proxy.url
        assert url is not None
        await pilot.press("s")
        await settle(app, pilot)
        assert not app.proxy.running and not isinstance(app.screen, ProxyDialog)
        assert await refused(url)

        await start_proxy(pilot, app, settle)
        url = app.proxy.url
        assert url is not None
    # Leaving the app stops it.
    assert not app.proxy.running
    assert await refused(url)


async def test_switching_profile_stops_it_and_a_reconnect_keeps_port_and_key(
    make_services, settle, recorder
) -> None:
    services = make_services({"alpha": DEMO_CLIENT_SECRET, "beta": DEMO_CLIENT_SECRET}, default="alpha")
    app = IhubApp(services)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(app, pilot)
        await start_proxy(pilot, app, settle)
        await pilot.press("escape")
        url, key = app.proxy.url, app.proxy.access_key
        assert url is not None and key is not None

        # "Test connection" makes a new client: the proxy follows it on the same port with the same key.
        old_client = app.api
        await palette(pilot, app, "test conn")
        await settle(app, pilot)
        assert app.api is not old_client and app.proxy.running
        assert (app.proxy.url, app.proxy.access_key) == (url, key)
        async with httpx.AsyncClient() as client:
            assert (await client.get(url + ROOT, headers={KEY_HEADER: key})).status_code == 200

        # Another profile: the proxy stops (its token belonged to alpha's connection) and says so.
        await palette(pilot, app, "file: beta")
        await settle(app, pilot)
        assert app.connection.profile == "beta" and app.connection.phase is Phase.CONNECTED
        assert not app.proxy.running
        assert await refused(url)
        assert any("stopped" in n.message and "alpha" in n.message for n in recorder.notifications())
        assert "proxy" not in header(app)


async def test_a_read_only_profile_starts_a_read_only_proxy(make_services, settle, sim) -> None:
    services = make_services({"viewer": DEMO_CLIENT_SECRET})
    profile = services.profiles.get("viewer")
    services.profiles.update("viewer", dataclasses.replace(profile, read_only=True))
    app = IhubApp(services, profile="viewer")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.connection.read_only
        dialog = await start_proxy(pilot, app, settle)
        assert "read-only: only GET and HEAD are forwarded" in dialog.facts_text
        url = app.proxy.url
        assert url is not None
        before = len(sim.state.tenant.assets)
        requests_before = sim.state.tenant.counters.get("requests", 0)
        body = {"name": "Pump 9", "typeId": "core.basicasset", "parentId": "x"}
        async with httpx.AsyncClient() as client:
            write = await client.post(url + ASSETS, json=body, headers=key_of(app))
            assert write.status_code == 403 and write.headers["X-Ihub-Proxy-Error"] == "read-only"
            deleted = await client.delete(f"{url}{ASSETS}/anything", headers=key_of(app))
            assert deleted.status_code == 403
            assert (await client.get(url + ROOT, headers=key_of(app))).status_code == 200
        # The writes reached nothing; the read did.
        assert len(sim.state.tenant.assets) == before
        assert sim.state.tenant.counters.get("requests", 0) == requests_before + 1
        await pilot.pause()
        status = app.proxy.status
        assert status is not None and status.read_only and (status.forwarded, status.refused) == (1, 2)


@pytest.fixture
def taken_port() -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()[1]
    sock.close()


async def test_a_taken_port_is_a_plain_notification_and_any_free_port_works(
    demo_app: IhubApp, settle, recorder, taken_port: int
) -> None:
    app = demo_app
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(app, pilot)
        app.proxy.port = taken_port
        await palette(pilot, app, "proxy for")
        await settle(app, pilot)
        assert not app.proxy.running and not isinstance(app.screen, ProxyDialog)
        errors = recorder.notifications("error")
        assert [n.title for n in errors] == ["Proxy not started"]
        assert f"port {taken_port} is in use" in errors[0].message
        assert "Start proxy on any free port" in errors[0].message
        assert "Traceback" not in errors[0].message and "--port" not in errors[0].message

        await palette(pilot, app, "free port")
        await settle(app, pilot)
        assert app.proxy.running and isinstance(app.screen, ProxyDialog)
        assert app.proxy.status is not None and app.proxy.status.port not in (0, taken_port)


async def test_without_a_connection_it_asks_for_one(make_services, settle, recorder) -> None:
    services = make_services({"nosecret": None})
    app = IhubApp(services, profile="nosecret")
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(app, pilot)
        assert app.connection.phase is Phase.ERROR
        app.action_start_proxy()
        await settle(app, pilot)
        assert not app.proxy.running
        assert any("Connect a profile first" in n.message for n in recorder.notifications("warning"))


async def test_the_demo_over_loopback_forwards_through_the_network(settle) -> None:
    # `ihub demo` runs the simulator as a loopback server, not in-process: the proxy then uses the network.
    server = SimServer(SimConfig())
    server.start()
    try:
        services = Services.for_demo(server.url)
        app = IhubApp(services, profile="demo")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await start_proxy(pilot, app, settle)
            url = app.proxy.url
            assert url is not None
            before = server.app.state.tenant.counters.get("requests", 0)
            async with httpx.AsyncClient() as client:
                response = await client.get(f"{url}{ROOT}?{KEY_PARAM}={app.proxy.access_key}")
            assert response.status_code == 200 and response.json()["assetId"]
            assert server.app.state.tenant.counters.get("requests", 0) == before + 1
            # Links to the gateway come back pointing at the proxy.
            assert server.url not in response.text
            # The key sent in the query is in no log line and no curl copy.
            await pilot.pause()  # the proxy's event follows the response's last byte
            key = app.proxy.access_key
            assert key is not None
            calls = services.activity.session(100)  # type: ignore[union-attr]
            assert any(c.entry.source == "proxy" and c.entry.path == ROOT for c in calls)
            assert all(key not in f"{c.entry.query} {c.curl()}" for c in calls)
    finally:
        server.stop()


def test_header_proxy_forms_fit_the_room() -> None:
    status = ProxyStatus(profile="demo", url="http://127.0.0.1:8766", port=8766, gateway="g", forwarded=1)
    assert describe_proxy(status, 80) == "proxy http://127.0.0.1:8766 · 1 request"
    assert describe_proxy(status, 25) == "proxy :8766 · 1 request"
    assert describe_proxy(dataclasses.replace(status, forwarded=12), 15) == "proxy :8766 · 12"
    assert describe_proxy(status, 3) == "proxy :8766 · 1"


async def test_the_header_keeps_the_proxy_and_the_connection_within_80_columns() -> None:
    state = ConnectionState(Phase.CONNECTED, profile="plant", tenant="acme", expires_at=2e9)
    status = ProxyStatus(profile="plant", url="http://127.0.0.1:8766", port=8766, gateway="g", forwarded=42)

    class Bar(App[None]):
        def compose(self):
            yield StatusBar("Time series", state=state, demo=True, clock=lambda: 2e9 - 600)

    for width in (160, 100, 80):
        app = Bar()
        async with app.run_test(size=(width, 3)) as pilot:
            bar = app.query_one(StatusBar)
            bar.proxy = status
            await pilot.pause()
            plain = bar.render().plain
            assert len(plain) <= width, plain
            assert "proxy :8766 · 42" in plain or "proxy http://127.0.0.1:8766 · 42 requests" in plain, plain
            assert "plant · tenant acme" in plain, plain
            assert plain.rstrip().endswith(("10:00", "…")), plain
            bar.set_notice("⚠ 4 days left: CA Urgent CA", "critical")
            await pilot.pause()
            plain = bar.render().plain
            assert len(plain) <= width and "⚠ 4 days left" in plain, plain
            assert "proxy :8766 · 42" in plain or "proxy http://127.0.0.1:8766 · 42" in plain, plain
            bar.proxy = None
            await pilot.pause()
            assert "proxy" not in bar.render().plain
