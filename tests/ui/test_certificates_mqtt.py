"""The MQTT check and test data in the Certificates area (issue 11 §2, §3): ``k`` on an agent or device
certificate connects to the demo's broker and shows each step as it happens; ``t`` publishes test values
as the agent until done or ``t`` again; refusals are shown with their cause; a read-only profile can check
but not send data.

The simulator here runs on the real clock: the broker's TLS layer checks certificates against it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.conftest import sim_profile
from tests.ui.test_certificates import SIZE, dialog, open_certs, reload, select, type_text, wait_until
from tui.app import IhubApp
from tui.config.paths import AppPaths
from tui.config.profiles import ProfileStore
from tui.flows.certificates import StepState, register_new_ca
from tui.flows.mqtt import CheckEvent, CheckStep
from tui.screens import certificates as certificates_screen
from tui.screens.certificate_dialogs import AgentDialog, DeviceDialog
from tui.screens.certificates import CertificatesScreen
from tui.services import Services, SessionSecretStore
from tui.sim.app import create_app
from tui.sim.broker import SimBroker
from tui.sim.config import SimConfig
from tui.sim.transport import sim_transport
from tui.widgets.key_bar import KeyBar
from tui.widgets.mqtt_check import MqttCheckPane
from tui.widgets.path_input import PathInput


@pytest.fixture
def live_sim() -> Iterator[tuple[object, SimBroker]]:
    app = create_app(SimConfig())
    broker = SimBroker(app)
    broker.start()
    try:
        yield app, broker
    finally:
        broker.stop()


@pytest.fixture
def mqtt_app(live_sim) -> IhubApp:
    sim, broker = live_sim
    services = Services.for_demo(
        transport_factory=lambda: sim_transport(sim),
        clock=time.time,
        mqtt_broker=broker.address,
        mqtt_root_ca=broker.root_ca_file,
    )
    return IhubApp(services, profile="demo")


async def issue_device(app: IhubApp, screen: CertificatesScreen, pilot, settle, folder: Path) -> str:
    """A verified CA (registered by the app's own client), then ``i`` issues sensor-17 from it."""
    result = await register_new_ca(
        app.api, "Device CA", key_store=app.services.ca_key_store("demo"), key_type="ec256"
    )
    assert result.ok, result.message
    await reload(screen, app, pilot, settle)
    await select(screen, pilot, f"ca:{result.ca.id}")
    await pilot.press("i")
    form = await dialog(app, pilot, DeviceDialog)
    await type_text(pilot, "sensor-17")
    form.query_one("#device-folder", PathInput).value = str(folder)
    await pilot.press("ctrl+s")
    await settle(app, pilot)
    assert screen.selected and screen.selected.startswith("device:")
    return screen.selected


async def test_check_a_device_certificate_live_then_send_test_data(
    mqtt_app: IhubApp, live_sim, settle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, _broker = live_sim
    seen: list[tuple[CheckStep, StepState]] = []
    original = MqttCheckPane.update

    def record(self: MqttCheckPane, event: CheckEvent) -> None:
        seen.append((event.step, event.state))
        original(self, event)
        assert event.title in self.text  # on screen as it happens

    monkeypatch.setattr(MqttCheckPane, "update", record)
    monkeypatch.setattr(certificates_screen, "TEST_DATA_EVERY", 0.05)
    monkeypatch.setattr(certificates_screen, "TEST_DATA_COUNT", 3)
    async with mqtt_app.run_test(size=SIZE) as pilot:
        screen = await open_certs(mqtt_app, pilot, settle)
        assert "Check MQTT" in screen.query_one(KeyBar).plain
        await issue_device(mqtt_app, screen, pilot, settle, tmp_path / "devices")
        await pilot.press("k")
        pane = screen.check_pane
        await wait_until(pilot, lambda: pane.result is not None, "the check ended")
        await settle(mqtt_app, pilot)
        text = pane.text
        assert "✓ Accepted" in text and "accepts the certificate as demo_sensor-17" in text
        for title in (
            "Read the certificate, key and root CA",
            "Resolve the broker's name",
            "Open a TCP connection",
            "TLS handshake, broker certificate checked",
            "Client certificate accepted",
            "MQTT CONNECT",
        ):
            assert f"✓ {title}" in text, title
        assert "Publish a test time-series message" not in text  # k only connects
        steps = list(CheckStep)[:-1]
        assert seen == [pair for step in steps for pair in ((step, StepState.RUNNING), (step, StepState.OK))]
        assert "ihub certs check --cert" in text and "sensor-17-chain.pem" in text  # the same from a shell

        await pilot.press("t")
        await wait_until(pilot, lambda: "done: 3 messages" in pane.text, "the test data was sent")
        await settle(mqtt_app, pilot)
        assert "Time series (3): the asset demo_sensor-17, aspect AgentData" in pane.text
        state = sim.state.tenant
        agent = state.mqtt_agents["demo_sensor-17"]
        for _ in range(200):
            writes = state.ts_writes.get((agent.asset_id, "AgentData"), {})
            if len(writes) == 3:
                break
            await asyncio.sleep(0.01)
        assert len(writes) == 3 and all(
            18 <= r["temperature"] <= 24 and r["running"] for r in writes.values()
        )
        assert "PRIVATE KEY" not in pane.text


async def test_test_data_stops_with_t_again(
    mqtt_app: IhubApp, live_sim, settle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(certificates_screen, "TEST_DATA_EVERY", 0.05)
    async with mqtt_app.run_test(size=SIZE) as pilot:
        screen = await open_certs(mqtt_app, pilot, settle)
        await issue_device(mqtt_app, screen, pilot, settle, tmp_path / "devices")
        await pilot.press("t")
        pane = screen.check_pane
        await wait_until(pilot, lambda: len(pane.messages) >= 2, "two messages")
        await pilot.press("t")
        await wait_until(pilot, lambda: "stopped after" in pane.text, "stopped")
        await settle(mqtt_app, pilot)
        assert mqtt_app.is_running and mqtt_app.screen is screen


async def test_agent_certificate_check_and_refusal_after_deletion(
    mqtt_app: IhubApp, live_sim, settle, recorder, tmp_path: Path
) -> None:
    sim, broker = live_sim
    folder = tmp_path / "agents"
    async with mqtt_app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_certs(mqtt_app, pilot, settle)
        await pilot.press("a")
        form = await dialog(mqtt_app, pilot, AgentDialog)
        await type_text(pilot, "press-4")
        form.query_one("#agent-folder", PathInput).value = str(folder)
        await pilot.press("ctrl+s")
        await settle(mqtt_app, pilot)
        (agent_id,) = sim.state.tenant.agent_certificates
        assert screen.selected == f"agent:{agent_id}"
        # In the demo the connection facts name the simulator's broker and its root CA file.
        details = screen.details.text
        assert f"-h 127.0.0.1 -p {broker.port}" in details and str(broker.root_ca_file) in details
        await pilot.press("k")
        pane = screen.check_pane
        await wait_until(pilot, lambda: pane.result is not None, "the check ended")
        await settle(mqtt_app, pilot)
        assert pane.result.ok and "demo_press-4" in pane.text

        # Another admin deletes it: the same files are refused now, and the pane says why.
        await mqtt_app.api.mqtt.delete_agent_cert(agent_id)
        await pilot.press("k")
        await wait_until(pilot, lambda: pane.result is not None, "the second check ended")
        await settle(mqtt_app, pilot)
        assert not pane.result.ok and "✗ Refused" in pane.text
        assert "not one of the tenant's agent certificates" in pane.text
        assert "✗ MQTT CONNECT" in pane.text
        errors = [n for n in recorder.notifications("error") if n.title == "MQTT check: refused"]
        assert errors and mqtt_app.screen is screen


async def test_check_needs_an_agent_or_device_with_its_key_here(
    mqtt_app: IhubApp, live_sim, settle, recorder, tmp_path: Path
) -> None:
    sim, _broker = live_sim
    async with mqtt_app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_certs(mqtt_app, pilot, settle)
        result = await register_new_ca(
            mqtt_app.api, "Some CA", key_store=mqtt_app.services.ca_key_store("demo"), key_type="ec256"
        )
        # An agent certificate made elsewhere: its key is not on this machine.
        await mqtt_app.api.mqtt.create_agent_cert("elsewhere", None)
        await reload(screen, mqtt_app, pilot, settle)
        await select(screen, pilot, f"ca:{result.ca.id}")
        await pilot.press("k")
        await pilot.pause()
        (other,) = sim.state.tenant.agent_certificates
        await select(screen, pilot, f"agent:{other}")
        await pilot.press("k")
        await pilot.pause()
        warnings = [n.message for n in recorder.notifications("warning") if n.title == "MQTT"]
        assert "Select an agent or device certificate" in warnings[0]
        assert "not on this machine" in warnings[1] and "ihub certs check --cert elsewhere.pem" in warnings[1]
        assert screen.check_pane.result is None


async def test_read_only_profile_checks_but_sends_no_data(live_sim, settle, recorder, tmp_path: Path) -> None:
    sim, broker = live_sim
    store = ProfileStore(None)
    store.add(sim_profile("viewer").replace(read_only=True))
    store.set_default("viewer")
    secrets = SessionSecretStore()
    secrets.set("viewer", "FAKE-demo-secret-not-real")
    services = Services(
        paths=AppPaths.default(),
        profiles=store,
        secrets=secrets,
        environ={},
        transport_factory=lambda: sim_transport(sim),
        mqtt_broker=broker.address,
        mqtt_root_ca=broker.root_ca_file,
    )
    app = IhubApp(services)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_certs(app, pilot, settle)
        titles = [c.title for c in app.palette_commands()]
        assert "Certificates: check the MQTT connection" in titles
        assert "Certificates: send test data" not in titles
        screen.action_send_test_data()
        await pilot.pause()
        (refusal,) = [n for n in recorder.notifications("warning") if n.title == "Read-only"]
        assert "Cannot send test data to the tenant: profile viewer is read-only" in refusal.message
