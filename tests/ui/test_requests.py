"""The Requests view: the session's calls from the palette or F2, details, failed only, copy as curl."""

from __future__ import annotations

import asyncio
import base64
import re
import time

import httpx
import pytest
from textual.widgets import DataTable

from tests.ui.test_certificates_forms import plain_screen
from tui.api.errors import NotFoundError
from tui.app import IhubApp
from tui.screens.requests import RequestsScreen
from tui.sim.config import DEMO_CLIENT_SECRET

SIZE = (100, 30)


def rows(screen: RequestsScreen) -> list[tuple[str, str, str]]:
    """(method, status, path) of every row, top to bottom."""
    return [(c.entry.method, str(c.entry.status), c.entry.path) for c in screen._shown]


async def test_requests_view_from_the_palette_copies_a_call_as_curl(demo_app: IhubApp, settle) -> None:
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        api = app.api
        assert api is not None
        await api.assets.root()
        with pytest.raises(NotFoundError):
            await api.assets.get("no-such-asset")
        token = api.tokens.token
        assert token is not None

        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Requests")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RequestsScreen)
        # Newest first: the failed call, the root; further down the token request the connection made
        # (the Assets area's own reads come in between).
        shown = rows(screen)
        failed = shown.index(("GET", "404", "/api/assetmanagement/v3/assets/no-such-asset"))
        root = shown.index(("GET", "200", "/api/assetmanagement/v3/assets/root"))
        assert failed < root  # newest first
        assert shown[-1] == ("POST", "200", "/oauth/token")  # the connection's token request came first
        assert all(c.entry.source == "app" for c in screen._shown)

        # Copy as curl goes to the terminal's clipboard through OSC 52.
        await pilot.press(*["down"] * failed)
        written: list[str] = []
        driver = app._driver
        assert driver is not None
        original_write = driver.write
        driver.write = lambda data: (written.append(data), original_write(data))[1]  # type: ignore[method-assign]
        await pilot.press("c")
        await pilot.pause()
        curl = app.clipboard
        assert curl.startswith("curl http://sim.ihub.localhost/api/assetmanagement/v3/assets/no-such-asset")
        assert '-H "Authorization: Bearer $TOKEN"' in curl
        assert token.access_token not in curl
        osc = [w for w in written if w.startswith("\x1b]52;c;")]
        assert osc and base64.b64decode(osc[-1][7:-1]).decode() == curl

        # The token request: client id and secret as variables, never their values.
        await pilot.press(*["down"] * (len(shown) - 1 - failed))
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard.startswith("curl -X POST http://sim.ihub.localhost/oauth/token")
        assert '-u "$CLIENT_ID:$CLIENT_SECRET"' in app.clipboard
        assert DEMO_CLIENT_SECRET not in app.clipboard and "Basic " not in app.clipboard


async def test_details_failed_only_and_new_calls(demo_app: IhubApp, settle) -> None:
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        api = app.api
        assert api is not None
        with pytest.raises(NotFoundError) as missing:
            await api.assets.get("gone")
        await pilot.press("f2")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RequestsScreen)

        details = screen.query_one("#requests-details")
        assert not details.display
        await pilot.press("enter")
        await pilot.pause()
        assert details.display
        text = str(details.render())
        assert "status    404" in text and f"logref    {missing.value.logref}" in text
        assert re.search(r"curl      curl http://\S+/assets/gone", text)

        everything = len(rows(screen))
        await pilot.press("f")
        await pilot.pause()
        assert rows(screen) == [("GET", "404", "/api/assetmanagement/v3/assets/gone")]
        assert "latest 1 failed call of" in str(screen.query_one("#requests-summary").render())
        await pilot.press("f")
        await pilot.pause()
        assert len(rows(screen)) == everything

        # Calls made while the view is open show up (the view follows the session's log).
        await api.assets.root()
        for _ in range(40):  # the view looks for new calls every second
            await pilot.pause(0.1)
            if len(rows(screen)) == everything + 1:
                break
        assert rows(screen)[0] == ("GET", "200", "/api/assetmanagement/v3/assets/root")
        # The selection stays on the call it was on.
        assert screen.selected is not None and screen.selected.entry.path.endswith("/gone")

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RequestsScreen)


async def test_a_cancelled_call_is_shown_as_cancelled_and_is_not_failed(demo_app: IhubApp, settle) -> None:
    """A call cancelled by the user or the app (leaving a screen cancels its workers) is listed as such, with
    no error, and "failed only" leaves it out."""
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        api = app.api
        assert api is not None and app.services.activity is not None
        with pytest.raises(NotFoundError):
            await api.assets.get("gone")
        # What the logged HTTP client records when the task awaiting an answer is cancelled.
        request = httpx.Request("GET", "http://sim.ihub.localhost/api/assetmanagement/v3/assets/left")
        app.services.activity.recorder("demo").failed(request, asyncio.CancelledError(), time.time(), 0.25)
        await pilot.press("f2")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RequestsScreen)
        newest = screen._shown[0]
        assert newest.entry.path.endswith("/left")
        table = screen.query_one(DataTable)
        assert str(table.get_row_at(0)[2]) == "cancelled"  # not "failed"
        await pilot.press("enter")
        await pilot.pause()
        text = str(screen.query_one("#requests-details").render())
        assert "status    cancelled" in text and "error" not in text
        await pilot.press("f")
        await pilot.pause()
        assert rows(screen) == [("GET", "404", "/api/assetmanagement/v3/assets/gone")]


async def test_an_empty_session_says_so(make_services, settle) -> None:
    app = IhubApp(make_services({}))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RequestsScreen)
        assert "No API calls yet" in str(screen.query_one("#requests-summary").render())
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == ""


async def _details_of_a_long_call(app: IhubApp, pilot, settle) -> None:
    """Make a call whose curl line is long (a filter in the query), open the Requests view on its details."""
    await settle(app, pilot)
    assert app.api is not None
    await app.api.assets.page(0, 7, {"name": {"contains": "Pump ER-1104 with a long enough name"}})
    await pilot.press("f2")
    await settle(app, pilot)
    assert isinstance(app.screen, RequestsScreen)
    await pilot.press("enter")
    await pilot.pause()


async def test_a_long_curl_line_is_shown_whole_in_the_details(demo_app: IhubApp, settle) -> None:
    """A call's curl line longer than the pane folds onto the next lines and the details pane grows to
    show it to its end (it stopped at 12 lines)."""
    async with demo_app.run_test(size=(80, 30)) as pilot:
        await _details_of_a_long_call(demo_app, pilot, settle)
        lines = plain_screen(demo_app).splitlines()
        curl = next(i for i, line in enumerate(lines) if "curl      curl" in line)
        shown = "".join(line.strip(" │") for line in lines[curl:])
        assert "size=7" in shown and "$TOKEN" in shown  # the whole curl line, to its last header


async def test_at_80x24_tab_gives_the_details_the_keys_to_scroll(demo_app: IhubApp, settle) -> None:
    """At 80x24 the pane cannot show a long curl line whole: tab gives it the keys, end/page keys scroll."""
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await _details_of_a_long_call(demo_app, pilot, settle)
        assert "$TOKEN" not in plain_screen(demo_app)
        await pilot.press("tab")
        await pilot.pause()
        assert demo_app.focused is demo_app.screen.query_one("#requests-details-box")
        await pilot.press("end")
        await pilot.pause()
        assert "$TOKEN" in plain_screen(demo_app)
