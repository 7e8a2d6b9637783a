"""Fixtures for the Pilot tests: the app around the in-process simulator, with a controllable clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from textual.message import Message
from textual.notifications import Notify

from tests.conftest import Clock
from tui.app import IhubApp
from tui.config.paths import AppPaths
from tui.config.profiles import Profile, ProfileStore
from tui.devtools.screenshots import FROZEN_TIME
from tui.services import DEMO_LOCAL_URL, Services, SessionSecretStore
from tui.sim.app import create_app
from tui.sim.config import DEMO_CLIENT_ID, SimConfig
from tui.sim.transport import sim_transport


@pytest.fixture(autouse=True)
def true_colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every app here draws for a true-colour terminal, whatever terminal runs the tests (a few styles
    change with 16 colours: ``tui.widgets.colours``); the tests of those styles set the terminal
    themselves."""
    monkeypatch.setenv("COLORTERM", "truecolor")


@pytest.fixture
def clock() -> Clock:
    return Clock(FROZEN_TIME)


@pytest.fixture
def sim(clock: Clock):
    return create_app(SimConfig(clock=clock))


@pytest.fixture
def demo_services(sim, clock: Clock) -> Services:
    return Services.for_demo(transport_factory=lambda: sim_transport(sim), clock=clock)


def sim_profile(name: str, client_id: str = DEMO_CLIENT_ID) -> Profile:
    return Profile(
        name=name,
        gateway=DEMO_LOCAL_URL,
        token_url=f"{DEMO_LOCAL_URL}/oauth/token",
        client_id=client_id,
        tenant="demo",
    )


@pytest.fixture
def make_services(sim, clock: Clock) -> Callable[..., Services]:
    """Services with in-memory profiles against the in-process simulator: ``{name: secret or None}``."""

    def make(profiles: dict[str, str | None], default: str | None = None) -> Services:
        store = ProfileStore(None)
        secrets = SessionSecretStore()
        for name, secret in profiles.items():
            store.add(sim_profile(name))
            if secret is not None:
                secrets.set(name, secret)
        store.set_default(default)
        return Services(
            paths=AppPaths.default(),
            profiles=store,
            secrets=secrets,
            environ={},
            transport_factory=lambda: sim_transport(sim),
            clock=clock,
        )

    return make


class Recorder:
    """Collects the messages the app processes (``run_test(message_hook=...)``)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        self.messages.append(message)

    def of(self, kind: type) -> list:
        return [m for m in self.messages if isinstance(m, kind)]

    def notifications(self, severity: str | None = None) -> list:
        found = [m.notification for m in self.of(Notify)]
        return [n for n in found if severity is None or n.severity == severity]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


async def _settle(app: IhubApp, pilot, limit: float = 10.0) -> None:
    # A worker that never ends fails the test after ``limit`` seconds instead of hanging the suite.
    async with asyncio.timeout(limit):
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()


@pytest.fixture
def settle():
    """``await settle(app, pilot)``: wait for the app's workers, then for the screens to catch up."""
    return _settle


@pytest.fixture
def demo_app(demo_services: Services) -> IhubApp:
    return IhubApp(demo_services, profile="demo")
