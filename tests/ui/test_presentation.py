"""Presentation mode (issue 12 §2): every area, the Requests view, dialogs and a notification are drawn with
none of the demo tenant's real identifiers: tenant names (the demo's and the owners of shared assets),
client ids, asset ids, owners' e-mail addresses, the home folder and the secret. The identifiers are
collected from the simulator's state, not from a hand-written list."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static
from textual.worker import WorkerCancelled

from tui.app import IhubApp
from tui.context import ChartRequest
from tui.flows.certificates import create_agent_certificate, register_new_ca
from tui.present import Masker
from tui.screens.assets import AssetsScreen
from tui.screens.certificates import CertificatesScreen
from tui.screens.requests import RequestsScreen
from tui.screens.timeseries import TimeSeriesScreen
from tui.services import Services
from tui.sim.config import DEMO_CLIENT_SECRET
from tui.sim.transport import sim_transport
from tui.widgets.status_bar import StatusBar

SIZE = (120, 36)
KEY = b"presentation-test-key"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PUMP_NAME = "Pump ER-1104"
AGENT_OWNERS = {"press-line-4": "ops@acme.example", "paint-robot-2": "jane.doe@plant7.example"}


def identifiers(sim) -> dict[str, set[str]]:
    """What must never be on screen, read from the simulator's state."""
    state = sim.state.tenant
    tenants = {state.tenant}
    for asset in state.assets.values():
        if asset.owner:
            tenants.add(asset.owner)
        tenants.update(asset.sharedWith)
    texts = [repr(asset) for asset in state.assets.values()]
    texts += [repr(agent) for agent in state.agent_certificates.values()]
    emails = {m for text in texts for m in EMAIL.findall(text)}
    return {
        "tenant": tenants,
        "client id": {client.client_id for client in state.config.clients},
        "asset id": set(state.assets),
        "e-mail": emails,
        "home": {str(Path.home())},
        "secret": {client.client_secret for client in state.config.clients},
    }


def plain_screen(app: IhubApp) -> str:
    """The screen as plain text, line by line (what a projector shows)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, color_system=None)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


# The app's own words, which spell the demo's tenant "demo" in capitals: the header's badge, "Demo mode".
APP_WORDS = {"DEMO", "Demo"}


def leaks(text: str, found: dict[str, set[str]]) -> list[str]:
    """The identifiers in ``text``: names as words in any case, also after a percent escape (``%22demo``
    in a curl line's query), ids and the rest anywhere."""
    problems = []
    for kind, values in found.items():
        for value in values:
            if kind in ("tenant", "client id"):
                word = rf"(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{{2}})){re.escape(value)}(?![A-Za-z0-9])"
                hits = re.finditer(word, text, re.IGNORECASE)
                hit = any(match.group(0) not in APP_WORDS for match in hits)
            else:
                hit = value.lower() in text.lower()
            if hit:
                problems.append(f"{kind} {value!r}")
    return problems


async def settled(app: IhubApp, pilot, limit: float = 20.0) -> None:
    async with asyncio.timeout(limit):
        for _ in range(3):
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:
                continue
            await pilot.pause()


async def wait_until(pilot, condition, what: str, limit: float = 10.0) -> None:
    async with asyncio.timeout(limit):
        while not condition():
            await pilot.pause(0.05)


@pytest.fixture
def presenting_services(sim, clock) -> Services:
    services = Services.for_demo(transport_factory=lambda: sim_transport(sim), clock=clock)
    services.start_presenting(Masker(KEY))
    return services


async def seed_certificates(app: IhubApp, folder: Path) -> None:
    """A verified CA and two agent certificates with owners, made through the API as an admin would."""
    api = app.api
    assert api is not None
    now = dt.datetime.fromtimestamp(app.services.clock(), dt.UTC)
    result = await register_new_ca(
        api, "Plant 7 MQTT CA", key_store=app.services.ca_key_store("demo"), key_type="ec256", now=now
    )
    assert result.ok, result.message
    for name, owner in AGENT_OWNERS.items():
        await create_agent_certificate(api, name, out_dir=folder, owner=owner, now=now)


async def test_every_area_shows_no_real_identifier(
    sim, presenting_services: Services, recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Files under the home folder: the export dialog proposes a path in the working folder.
    work = Path.home() / "projects" / "plant7"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    app = IhubApp(presenting_services, profile="demo")
    seen: list[str] = []

    def look(where: str) -> str:
        text = plain_screen(app)
        seen.append(text)
        found = leaks(text, identifiers(sim))
        assert not found, f"{where}: {found}\n{text}"
        return text

    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settled(app, pilot)
        await seed_certificates(app, tmp_path / "agents")
        bar = app.screen.query_one(StatusBar)
        assert "MASKED" in bar.marks
        # The header is laid out with the masked names (longer than "demo"): the state is never cut off.
        header = plain_screen(app).splitlines()[0]
        assert header.rstrip().endswith("connected · token 30:00"), header

        # Assets: a pump's details, then the shared assets with their owners.
        screen = app.screen
        assert isinstance(screen, AssetsScreen)
        pump = next(a for a in sim.state.tenant.assets.values() if a.name == PUMP_NAME)
        asset = await app.api.assets.get(pump.assetId)
        screen.jump_to(asset)
        await settled(app, pilot)
        text = look("Assets, a pump")
        assert PUMP_NAME in text and pump.assetId[:4] in text  # names stay; ids keep their start
        await pilot.press("s")  # include shared assets
        await settled(app, pilot)
        leased = next(a for a in sim.state.tenant.assets.values() if a.owner and a.name.startswith("Leased"))
        screen.jump_to(await app.api.assets.get(leased.assetId, include_shared=True))
        await settled(app, pilot)
        text = look("Assets, a shared asset")
        assert leased.name in text
        await pilot.press("t")  # the types: ids are "<tenant>.<Name>"
        await settled(app, pilot)
        look("Assets, types")
        await pilot.press("t")
        await settled(app, pilot)

        # Keys: a connection test and the decoded token.
        await pilot.press("1")
        await settled(app, pilot)
        await pilot.press("t")
        await settled(app, pilot)
        look("Keys, connection test")
        await pilot.press("k")
        await settled(app, pilot)
        look("Keys, token")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("r")  # reveal: refused while presenting
        await settled(app, pilot)
        look("Keys, reveal refused")
        assert any("secrets stay hidden" in n.message for n in recorder.notifications("warning"))

        # Time series: a chart of the pump, then the export dialog with a path under the home folder.
        app.open_area("timeseries", ChartRequest(pump.assetId, "PumpData", ("pressure",), PUMP_NAME))
        await settled(app, pilot)
        assert isinstance(app.screen, TimeSeriesScreen)
        look("Time series")
        await pilot.press("e")
        await settled(app, pilot)
        text = look("Time series, export dialog")
        # An input keeps its length (the cursor stays on the text): the home folder becomes "~•••".
        assert "•/projects/plant7/" in text
        await pilot.press("escape")
        await pilot.pause()

        # Certificates: the CA and the agents with their owners' e-mail addresses.
        await pilot.press("4")
        await settled(app, pilot)
        certs = app.screen
        assert isinstance(certs, CertificatesScreen)
        certs.reload()
        await settled(app, pilot)
        look("Certificates, a CA")
        for key in list(certs.agent_rows):
            certs.agent_table.focus()
            certs.agent_table.move_cursor(row=certs.agent_table.get_row_index(key))
            await settled(app, pilot)
            text = look("Certificates, an agent")
            assert "Owner" in text and "user-" in text  # the owner's e-mail, masked

        # A notification naming the tenant and the client id.
        app.action_test_connection()
        await settled(app, pilot)
        ok = [n for n in recorder.notifications() if n.title == "Connection OK"]
        assert ok and "demo-ihub" in ok[-1].message  # the message itself is real...
        look("a notification")  # ...what is drawn is masked

        # The Requests view and a request's details (paths with asset ids, the curl line).
        await pilot.press("f2")
        await settled(app, pilot)
        assert isinstance(app.screen, RequestsScreen)
        look("Requests")
        await pilot.press("enter")
        await settled(app, pilot)
        look("Requests, details")

        # The same session masks the same id the same way.
        masker = presenting_services.masker
        assert masker is not None
        assert masker.mask(pump.assetId) == masker.mask(pump.assetId) != pump.assetId
    # Every picture was looked at; the secret was never among the texts.
    assert DEMO_CLIENT_SECRET not in "".join(seen)


async def test_a_name_typed_in_another_case_is_masked_wherever_it_is_echoed(
    sim, presenting_services: Services
) -> None:
    """An owner's name typed in capitals: the search line, the hits' title and the search's curl line in the
    Requests view (its query URL-encoded, ``%22SUPPLIER%22``) show none of it."""
    app = IhubApp(presenting_services, profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        screen = app.screen
        assert isinstance(screen, AssetsScreen)
        await pilot.press("s")  # the shared assets: their owner "supplier" is learned from the answers
        await settled(app, pilot)
        masker = presenting_services.masker
        assert masker is not None and "supplier" in masker.known
        screen.action_search()
        await pilot.press(*"SUPPLIER")
        await pilot.pause()
        typed = plain_screen(app)
        assert not leaks(typed, identifiers(sim)), typed
        await pilot.press("enter")
        await settled(app, pilot)
        hits = plain_screen(app)
        assert "hit for" in hits and not leaks(hits, identifiers(sim)), hits
        await pilot.press("f2")
        await settled(app, pilot)
        requests = app.screen
        assert isinstance(requests, RequestsScreen) and requests.selected is not None
        assert "%22SUPPLIER%22" in (requests.selected.curl() or "")  # the search, newest first
        await pilot.press("enter")
        await settled(app, pilot)
        details = plain_screen(app)
        assert "curl" in details and not leaks(details, identifiers(sim)), details
        # The curl line is longer than the pane is wide: what the pane draws, all of it.
        drawn = requests.query_one("#requests-details", Static).render()
        assert "%22%7D" in str(drawn) and not leaks(str(drawn), identifiers(sim)), str(drawn)


async def test_the_palette_switches_presentation_off_and_on(sim, demo_services: Services) -> None:
    app = IhubApp(demo_services, profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        tenant = sim.state.tenant.tenant
        assert re.search(rf"(?<![A-Za-z0-9]){tenant}(?![A-Za-z0-9])", plain_screen(app))
        titles = {c.title: c for c in app.palette_commands()}
        titles["Presentation mode: on"].callback()
        await settled(app, pilot)
        masked = plain_screen(app)
        assert not leaks(masked, identifiers(sim)) and "MASKED" in masked
        word = re.search(r"tenant-[a-z]+", masked)
        assert word is not None
        titles = {c.title: c for c in app.palette_commands()}
        titles["Presentation mode: off"].callback()
        await settled(app, pilot)
        assert re.search(rf"(?<![A-Za-z0-9]){tenant}(?![A-Za-z0-9])", plain_screen(app))
        app.set_presenting(True)  # on again: the session keeps its masks
        await settled(app, pilot)
        assert word.group(0) in plain_screen(app)
