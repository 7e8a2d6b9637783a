"""The simulator's MQTT broker on loopback (issue 11 §1): TLS and its root CA, the gate, the log of every
refusal, time-series messages into IoT Time Series v3 and Aggregates v4, and bad input that never stops it.

Certificates come the realistic way: ``tui.pki`` and ``tui.flows.certificates`` through the simulator's
MindConnect MQTT API. MQTT clients are paho-mqtt, as agents use it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from cryptography import x509

from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.flows.certificates import Outcome, issue_device_certificate, register_ca
from tui.pki import CaKeyStore, create_ca
from tui.sim.agents import AGENT_ASPECT, ensure_agent, write_timeseries
from tui.sim.app import create_app
from tui.sim.broker import SimBroker, SimBrokerError
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.model import TenantState
from tui.sim.server import SimServer
from tui.sim.tenant import build_tenant
from tui.sim.transport import sim_transport

LOG = "tui.sim.mqtt"
GATEWAY = "http://sim.ihub.test"


@dataclass
class Device:
    cert: Path
    key: Path
    client_id: str


@dataclass
class Setup:
    app: Any
    broker: SimBroker
    device: Device
    other: Device  # same CA, CN device02

    @property
    def state(self) -> TenantState:
        return self.app.state.tenant


async def _make(tmp: Path) -> tuple[Any, Device, Device]:
    app = create_app(SimConfig())
    creds = Credentials(
        CredentialStyle.CLIENT_CREDENTIALS, GATEWAY + "/oauth/token", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )
    async with ApiClient(ConnectionConfig(GATEWAY, creds), transport=sim_transport(app)) as api:
        ca = create_ca("Broker test CA", "ec256")
        store = CaKeyStore.for_tenant(tmp / "pki", "demo", lambda create: "test-only passphrase, not secret")
        result = await register_ca(api, ca.certificate_pem, key=ca.private_key, key_store=store)
        assert result.outcome is Outcome.VERIFIED, result.message
    devices = []
    for cn in ("device01", "device02"):
        issued = issue_device_certificate(
            tenant="demo",
            ca_certificate=ca.certificate,
            ca_key=ca.private_key,
            common_name=cn,
            out_dir=tmp / cn,
            key_type="ec256",
        )
        devices.append(Device(issued.files.chain, issued.files.key, issued.client_id))
    return app, devices[0], devices[1]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    app, device, other = asyncio.run(_make(tmp_path))
    broker = SimBroker(app)
    broker.start()
    try:
        yield Setup(app, broker, device, other)
    finally:
        broker.stop()


class Agent:
    """A paho-mqtt client as an agent runs it (MQTT 3.1.1, TLS, client certificate)."""

    def __init__(
        self, setup: Setup, device: Device | None, client_id: str | None = None, clean: bool = True
    ) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or (device.client_id if device else "demo_nobody"),
            protocol=mqtt.MQTTv311,
            clean_session=clean,
            reconnect_on_failure=False,
        )
        ctx = ssl.create_default_context(cafile=str(setup.broker.root_ca_file))
        if device is not None:
            ctx.load_cert_chain(str(device.cert), str(device.key))
        self.client.tls_set_context(ctx)
        self.setup = setup
        self.rc: int | None = None
        self.closed = threading.Event()
        self.answered = threading.Event()
        self.client.on_connect = self._connected
        self.client.on_disconnect = lambda *a: (self.closed.set(), self.answered.set())

    def _connected(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.rc = int(reason.value)
        self.answered.set()

    def connect(self) -> int | None:
        """paho's reason code (0 accepted, 133 client id, 135 not authorised) or None (closed, no CONNACK)."""
        try:
            self.client.connect("127.0.0.1", self.setup.broker.port)
        except (ssl.SSLError, OSError):
            self._close_socket()
            return None
        self.client.loop_start()
        self.answered.wait(5)
        return self.rc

    def publish(self, payload: bytes | str, topic: str | None = None) -> bool:
        topic = topic or f"tc/demo/{self.client._client_id.decode()}/o/mc_v3/ts"
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)
        return info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self._close_socket()

    def _close_socket(self) -> None:
        sock = self.client.socket()
        if sock is not None:
            sock.close()


def _ts(*values: tuple[str, str], stamp: str = "2026-01-01T12:00:00.000Z") -> bytes:
    return json.dumps(
        {
            "timeseries": [
                {
                    "timestamp": stamp,
                    "values": [{"dataPointId": k, "value": v, "qualityCode": "0"} for k, v in values],
                }
            ]
        }
    ).encode()


def _wait(predicate, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOG]


# ----------------------------------------------------------------------------------- TLS and root CA


def test_root_ca_file_and_server_certificate(setup: Setup) -> None:
    root = x509.load_pem_x509_certificate(setup.broker.root_ca_file.read_bytes())
    assert "broker root CA" in root.subject.rfc4514_string()
    assert setup.broker.url == f"mqtts://127.0.0.1:{setup.broker.port}"
    # The server certificate chains to it and names localhost and the loopback addresses (mqtt.md P5).
    ctx = ssl.create_default_context(cafile=str(setup.broker.root_ca_file))
    ctx.load_cert_chain(str(setup.device.cert), str(setup.device.key))
    for host in ("127.0.0.1", "localhost"):
        with socket.create_connection(("127.0.0.1", setup.broker.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
    private = setup.broker.root_ca_file.parent
    setup.broker.stop()
    assert not private.exists()  # the server key went with it


def test_a_taken_port_is_a_plain_error(setup: Setup) -> None:
    with pytest.raises(SimBrokerError, match="Cannot listen"):
        SimBroker(setup.app, port=setup.broker.port).start()


def test_no_client_certificate_is_refused_in_tls_with_the_reason_logged(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOG)
    agent = Agent(setup, None, client_id="demo_device01")
    assert agent.connect() is None  # no CONNACK: the broker closed the connection
    agent.close()
    _wait(lambda: any("sent no certificate" in m for m in _lines(caplog)), "the refusal in the log")


# ------------------------------------------------------------------------------------------- gate


def test_accepted_then_refusals_each_logged(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOG)
    first = Agent(setup, setup.device)
    assert first.connect() == 0
    twin = Agent(setup, setup.device)
    assert twin.connect() == 133  # CONNACK 2: one connection per client id
    twin.close()
    wrong = Agent(setup, setup.device, client_id="demo_device02")
    assert wrong.connect() == 133
    wrong.close()
    assert first.publish(_ts(("temperature", "20.5")))  # the first one was not disturbed
    first.close()
    lines = _lines(caplog)
    assert any("connected as demo_device01" in m for m in lines)
    assert any("already connected" in m and "CONNACK 2" in m for m in lines)
    assert any("expected 'demo_device01'" in m for m in lines)


def test_a_persistent_session_does_not_carry_an_old_certificate(setup: Setup) -> None:
    """mqtt.md P1: amqtt reuses a persistent session's old TLS object; the gate checks every CONNECT."""
    first = Agent(setup, setup.device, clean=False)
    assert first.connect() == 0
    first.close()
    _wait(lambda: "demo_device01" not in setup.broker.online, "the first session to end")
    impostor = Agent(setup, setup.other, client_id="demo_device01", clean=False)
    assert impostor.connect() == 133
    impostor.close()
    again = Agent(setup, setup.device, clean=False)  # the rightful owner reconnects at once
    assert again.connect() == 0
    again.close()


def test_agent_asset_is_created_on_first_connection(setup: Setup) -> None:
    agent = Agent(setup, setup.device)
    assert agent.connect() == 0
    agent.close()
    state = setup.state
    record = state.mqtt_agents["demo_device01"]
    asset = state.assets[record.asset_id]
    assert asset.name == "demo_device01" and asset.parentId == state.root_id
    assert record.asset_id in state.children[state.root_id]
    assert record.mappings["temperature"] == (record.asset_id, AGENT_ASPECT, "temperature")


# ------------------------------------------------------------------------------------- time series


def test_published_values_show_in_time_series_and_aggregates(setup: Setup) -> None:
    agent = Agent(setup, setup.device)
    assert agent.connect() == 0
    for minute, value in enumerate(("10", "20", "30")):
        stamp = f"2026-01-01T12:0{minute}:00.000Z"
        assert agent.publish(_ts(("temperature", value), ("status", "ok"), stamp=stamp))
    agent.close()
    asset_id = setup.state.mqtt_agents["demo_device01"].asset_id
    _wait(lambda: len(setup.state.ts_writes.get((asset_id, AGENT_ASPECT), {})) == 3, "three records")

    async def read() -> tuple[Any, Any, Any]:
        async with httpx.AsyncClient(transport=sim_transport(setup.app), base_url=GATEWAY) as http:
            token = (
                await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                )
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            window = {"from": "2026-01-01T11:00:00Z", "to": "2026-01-01T13:00:00Z"}
            ts = await http.get(
                f"/api/iottimeseries/v3/timeseries/{asset_id}/{AGENT_ASPECT}", params=window, headers=headers
            )
            agg = await http.get(
                "/api/iottsaggregates/v4/aggregates",
                params={
                    "assetId": asset_id,
                    "aspectName": AGENT_ASPECT,
                    "intervalUnit": "hour",
                    "intervalValue": 1,
                    **window,
                },
                headers=headers,
            )
            empty = await http.get(
                f"/api/iottimeseries/v3/timeseries/{asset_id}/{AGENT_ASPECT}",
                params={"from": "2026-01-02T00:00:00Z", "to": "2026-01-02T06:00:00Z"},
                headers=headers,
            )
            return ts, agg, empty

    ts, agg, empty = asyncio.run(read())
    assert ts.status_code == 200, ts.text
    assert [(r["_time"], r["temperature"], r["status"]) for r in ts.json()] == [
        ("2026-01-01T12:00:00.000Z", 10.0, "ok"),
        ("2026-01-01T12:01:00.000Z", 20.0, "ok"),
        ("2026-01-01T12:02:00.000Z", 30.0, "ok"),
    ]
    hour = [a for a in agg.json()["aggregates"] if a["starttime"] == "2026-01-01T12:00:00Z"][0]
    assert hour["temperature"]["average"] == 20.0 and hour["temperature"]["countgood"] == 3
    # Only what the agent published: no synthetic signal on an agent's aspect.
    assert empty.json() == []


def test_malformed_payloads_never_stop_the_broker(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOG)
    agent = Agent(setup, setup.device)
    assert agent.connect() == 0
    bad: list[bytes | str] = [
        b"\xff\xfe not json",
        "[]",
        '{"timeseries": "nope"}',
        '{"timeseries": [1, {"values": 3}]}',
        '{"timeseries": [{"timestamp": "yesterday", "values": []}]}',
        _ts(("no_such_point", "1")),
        _ts(("temperature", "warm")),
        _ts(("counter", "1.5"), ("running", "maybe")),
        _ts(("status", "x" * 300)),
        b"{" * 100_000,
        b"0" * 300_000,
    ]
    for payload in bad:
        assert agent.publish(payload)
    # Other topics: another client's time series (dropped), events (not processed).
    assert agent.publish(_ts(("temperature", "1")), topic="tc/demo/demo_device02/o/mc_v3/ts")
    assert agent.publish(b'{"events": []}', topic="tc/demo/demo_device01/o/mc_v3/e")
    # Not MQTT at all, over TLS and over plain TCP.
    ctx = ssl.create_default_context(cafile=str(setup.broker.root_ca_file))
    ctx.load_cert_chain(str(setup.device.cert), str(setup.device.key))
    with socket.create_connection(("127.0.0.1", setup.broker.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET / HTTP/1.1\r\n\r\n")
    with socket.create_connection(("127.0.0.1", setup.broker.port), timeout=5) as raw:
        raw.sendall(b"\x10\xff\xff\xff\xff\x7f garbage")
    # Still serving: a good message is written, and a new client connects.
    assert agent.publish(_ts(("temperature", "21.5"), stamp="2026-02-01T00:00:00.000Z"))
    agent.close()
    asset_id = setup.state.mqtt_agents["demo_device01"].asset_id
    writes = setup.state.ts_writes.setdefault((asset_id, AGENT_ASPECT), {})
    _wait(lambda: any(r.get("temperature") == 21.5 for r in writes.values()), "the good message")
    assert [r for r in writes.values() if r.get("temperature") == 1.0] == []  # not from another topic
    again = Agent(setup, setup.other)
    assert again.connect() == 0
    again.close()
    lines = "\n".join(_lines(caplog))
    for reason in (
        "not JSON",
        'no "timeseries" list',
        "is not ISO 8601",
        "'no_such_point' is not mapped",
        "'warm' is not a number",
        "is not an integer",
        "longer than 255",
        "larger than 256 KiB",
        "publishes on its own topic",
    ):
        assert reason in lines, reason


# ----------------------------------------------------------------------------------- data mapping


def _agent_state() -> tuple[TenantState, str]:
    state = build_tenant(SimConfig())
    agent = ensure_agent(state, "demo_pump", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    return state, agent.asset_id


def test_values_are_typed_merged_by_time_and_keep_quality_codes() -> None:
    state, asset_id = _agent_state()
    one = _ts(("temperature", "21.5"), ("counter", "42"), ("running", "true"), stamp="2026-01-01T00:00:00Z")
    two = json.dumps(
        {
            "timeseries": [
                {
                    "timestamp": "2026-01-01T00:00:00.000+00:00",
                    "values": [{"dataPointId": "pressure", "value": "1.25", "qualityCode": "1073741824"}],
                }
            ]
        }
    ).encode()
    assert write_timeseries(state, "demo_pump", one).written == 3
    assert write_timeseries(state, "demo_pump", two).written == 1
    record = state.ts_writes[(asset_id, AGENT_ASPECT)][1767225600000]
    assert record == {
        "temperature": 21.5,
        "temperature_qc": 0,
        "counter": 42,
        "counter_qc": 0,
        "running": True,
        "running_qc": 0,
        "pressure": 1.25,
        "pressure_qc": 1073741824,
    }
    partial = write_timeseries(state, "demo_pump", _ts(("level", "5"), ("nope", "1"), ("counter", "1e99")))
    assert partial.written == 1 and len(partial.dropped) == 2
    assert write_timeseries(state, "nobody", one).dropped == ["no agent for client id nobody"]


def test_agent_asset_is_found_again_and_recreated_when_deleted() -> None:
    state, asset_id = _agent_state()
    now = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert ensure_agent(state, "demo_pump", now).asset_id == asset_id
    state.assets[asset_id].deleted = "2026-01-02T00:00:00Z"
    assert ensure_agent(state, "demo_pump", now).asset_id != asset_id


# ------------------------------------------------------------------------------------- SimServer


def test_sim_server_runs_the_broker_beside_http(tmp_path: Path) -> None:
    root_ca = tmp_path / "root.pem"
    with SimServer(SimConfig(), mqtt_port=0, mqtt_root_ca=root_ca) as server:
        broker = server.broker
        assert isinstance(broker, SimBroker) and broker.app is server.app
        assert broker.root_ca_file == root_ca and root_ca.read_text().startswith(
            "-----BEGIN CERTIFICATE-----"
        )
        # The broker's certificate verifies against the root CA file (TLS 1.3: the client's side of the
        # handshake ends before the broker judges the missing client certificate).
        ctx = ssl.create_default_context(cafile=str(root_ca))
        with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                assert tls.version() == "TLSv1.3"
                try:
                    closed = tls.recv(1) == b""  # and then it closes the connection
                except (ssl.SSLError, ConnectionResetError):
                    closed = True
                assert closed
        port = broker.port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
