"""The MQTT check and the demo agent against the simulator's broker on loopback (issue 11 §2-§4).

Certificates are made the realistic way: ``tui.pki`` for keys and certificates, ``tui.flows.certificates``
to register and verify CAs and to create agent certificates through the simulator's MindConnect MQTT API.
Each refusal is checked twice: the cause the check names, and the reason in the simulator's log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.flows.conftest import PASSPHRASE, Sim
from tui.flows.certificates import (
    Outcome,
    StepState,
    create_agent_certificate,
    issue_device_certificate,
    register_ca,
)
from tui.flows.mqtt import (
    CHECK_STEPS,
    BrokerAddress,
    Cause,
    CheckEvent,
    CheckFailed,
    CheckStep,
    DataPoint,
    check_connection,
    parse_data_points,
    publish_timeseries,
    timeseries_payload,
)
from tui.pki import CaKeyStore, create_ca
from tui.sim.broker import SimBroker

LOG = "tui.sim.mqtt"
FAST = {"peek_seconds": 0.15, "connack_timeout": 5.0, "connect_timeout": 2.0}


@dataclass
class Files:
    cert: Path
    key: Path
    client_id: str


@dataclass
class World:
    """The simulator (API client and app), its broker, and a folder for certificates."""

    sim: Sim
    broker: SimBroker
    folder: Path
    key_store: CaKeyStore

    @property
    def address(self) -> BrokerAddress:
        return BrokerAddress("127.0.0.1", self.broker.port)

    async def verified_ca(self, name: str = "Plant CA"):
        ca = await asyncio.to_thread(create_ca, name, "ec256")
        result = await register_ca(
            self.sim.api, ca.certificate_pem, key=ca.private_key, key_store=self.key_store
        )
        assert result.outcome is Outcome.VERIFIED, result.message
        return ca, result.ca

    def device(self, ca, cn: str, **kw) -> Files:
        out = self.folder / cn
        result = issue_device_certificate(
            tenant="demo",
            ca_certificate=ca.certificate,
            ca_key=ca.private_key,
            common_name=cn,
            out_dir=out,
            key_type="ec256",
            **kw,
        )
        return Files(result.files.chain, result.files.key, result.client_id)

    async def check(self, files: Files, **kw) -> tuple:
        events: list[CheckEvent] = []
        kw.setdefault("tenant", "demo")
        kw.setdefault("root_ca", self.broker.root_ca_file)
        for name, value in FAST.items():
            kw.setdefault(name, value)
        result = await check_connection(
            files.cert,
            files.key,
            broker=self.address,
            on_step=events.append,
            **kw,
        )
        return result, events


@pytest.fixture
async def world(sim, tmp_path: Path):
    s: Sim = sim()
    broker = SimBroker(s.app)
    await asyncio.to_thread(broker.start)
    store = CaKeyStore.for_tenant(tmp_path / "pki", "demo", lambda create: PASSPHRASE)
    try:
        yield World(s, broker, tmp_path / "certs", store)
    finally:
        await asyncio.to_thread(broker.stop)


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOG and "refused" in r.getMessage()]


async def _refusal_logged(caplog: pytest.LogCaptureFixture, *words: str) -> list[str]:
    """The broker's refusal lines once one holds all ``words`` (the broker logs from its own thread, and
    the client may see the connection closed a moment before the line is written)."""
    for _ in range(200):
        lines = _refusals(caplog)
        if any(all(w in line for w in words) for line in lines):
            return lines
        await asyncio.sleep(0.01)
    raise AssertionError(f"no refusal with {words} in the simulator's log: {_refusals(caplog)}")


async def _written(world: World, asset_id: str) -> dict:
    """The agent's written records, once there (amqtt acknowledges a message before its hooks run)."""
    for _ in range(200):
        writes = world.sim.state.ts_writes.get((asset_id, "AgentData"))
        if writes:
            return writes
        await asyncio.sleep(0.01)
    raise AssertionError("nothing was written")


# ------------------------------------------------------------------------------------------ accepted


async def test_certificate_from_a_verified_ca_connects_and_publishes(world: World) -> None:
    ca, _resource = await world.verified_ca()
    files = world.device(ca, "device01")
    result, events = await world.check(files, publish=True)
    assert result.accepted and result.ok and result.published, result.message
    assert result.client_id == "demo_device01" and result.cause is None
    assert [e.step for e in result.steps] == list(CHECK_STEPS)
    assert all(e.state is StepState.OK for e in result.steps)
    # Reported live: every step starts (RUNNING) before it ends, in order.
    assert [(e.step, e.state) for e in events[:2]] == [
        (CheckStep.CERTIFICATE, StepState.RUNNING),
        (CheckStep.CERTIFICATE, StepState.OK),
    ]
    assert [e.step for e in events if e.state is StepState.RUNNING] == list(CHECK_STEPS)
    assert result.tls_version in ("TLSv1.2", "TLSv1.3")
    # The check's test message reached the agent's asset (heartbeat data point).
    agent = world.sim.state.mqtt_agents["demo_device01"]
    writes = await _written(world, agent.asset_id)
    assert [rec["heartbeat"] for rec in writes.values()] == [1]


@pytest.mark.parametrize("tls", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
async def test_each_tls_version_accepts_and_refuses_alike(world: World, tls: ssl.TLSVersion) -> None:
    """mqtt.md P4: TLS 1.2 refuses in the handshake, TLS 1.3 only after it; the check names both."""
    ca, _ = await world.verified_ca()
    good = await world.check(world.device(ca, "device01"), tls_max_version=tls)
    assert good[0].accepted and good[0].tls_version == (
        "TLSv1.2" if tls is ssl.TLSVersion.TLSv1_2 else "TLSv1.3"
    )
    stranger = await asyncio.to_thread(create_ca, "Unrelated CA", "ec256")
    bad, _ = await world.check(world.device(stranger, "device02"), tls_max_version=tls)
    assert not bad.accepted and bad.cause is Cause.UNTRUSTED_ISSUER
    assert bad.failed_step is CheckStep.CLIENT_CERTIFICATE


# ------------------------------------------------------------------------------------------ refused


async def test_unverified_ca_is_refused_and_named(world: World, caplog: pytest.LogCaptureFixture) -> None:
    ca = await asyncio.to_thread(create_ca, "Pending CA", "ec256")
    pending = await register_ca(world.sim.api, ca.certificate_pem)  # no key here: uploaded, not verified
    assert pending.outcome is Outcome.NEEDS_VERIFICATION
    files = world.device(ca, "device01")
    with caplog.at_level(logging.INFO, logger=LOG):
        result, _ = await world.check(files)
        # With the tenant at hand the check says which CA and what to do.
        precise, _ = await world.check(files, api=world.sim.api, tenant=None)
    assert not result.accepted and result.cause is Cause.UNTRUSTED_ISSUER
    assert result.failed_step is CheckStep.CLIENT_CERTIFICATE
    assert "not issued by a CA certificate verified for the tenant" in result.message
    assert precise.cause is Cause.UNTRUSTED_ISSUER and "uploaded but not verified" in precise.message
    assert f"ihub certs verify {pending.ca.id}" in precise.message
    await _refusal_logged(caplog, "TLS handshake", "not issued by a verified CA")
    # Verified now: the same files connect, on the same broker, without a restart.
    from tui.flows.certificates import verify_ca

    verified = await verify_ca(world.sim.api, pending.ca.id, key=ca.private_key)
    assert verified.outcome is Outcome.VERIFIED, verified.message
    again, _ = await world.check(files)
    assert again.accepted, again.message


async def test_ca_deleted_after_issuing_is_refused(world: World, caplog: pytest.LogCaptureFixture) -> None:
    ca, resource = await world.verified_ca()
    files = world.device(ca, "device01")
    assert (await world.check(files))[0].accepted
    await world.sim.api.mqtt.delete_ca(resource.id, resource.etag)
    with caplog.at_level(logging.INFO, logger=LOG):
        result, _ = await world.check(files)
        precise, _ = await world.check(files, api=world.sim.api)
    assert not result.accepted and result.cause is Cause.UNTRUSTED_ISSUER
    assert precise.cause is Cause.UNTRUSTED_ISSUER
    assert "not one of the tenant's CA certificates" in precise.message
    await _refusal_logged(caplog, "TLS handshake", "not issued by a verified CA")


async def test_certificate_of_an_unrelated_ca_is_refused(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.verified_ca()
    stranger = await asyncio.to_thread(create_ca, "Somebody else's CA", "ec256")
    with caplog.at_level(logging.INFO, logger=LOG):
        result, _ = await world.check(world.device(stranger, "device01"))
    assert not result.accepted and result.cause is Cause.UNTRUSTED_ISSUER
    await _refusal_logged(caplog, "not issued by a verified CA certificate of tenant 'demo'")


async def test_expired_certificate_is_refused_as_expired(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    ca, _ = await world.verified_ca()
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    files = world.device(ca, "device01", days=30, now=long_ago)
    with caplog.at_level(logging.INFO, logger=LOG):
        result, events = await world.check(files)
    assert not result.accepted and result.cause is Cause.EXPIRED
    assert "expired on" in result.message
    # Noted while reading, and the broker was asked all the same.
    first = next(e for e in events if e.step is CheckStep.CERTIFICATE and e.state is not StepState.RUNNING)
    assert first.state is StepState.WARN and "asking the broker anyway" in first.detail
    await _refusal_logged(caplog, "the client certificate has expired")


async def test_wrong_client_id_is_refused(world: World, caplog: pytest.LogCaptureFixture) -> None:
    ca, _ = await world.verified_ca()
    files = world.device(ca, "device01")
    with caplog.at_level(logging.INFO, logger=LOG):
        result, _ = await world.check(files, client_id="demo_device02")
    assert not result.accepted and result.cause is Cause.WRONG_CLIENT_ID
    assert result.failed_step is CheckStep.CONNECT
    assert "expects demo_device01" in result.message
    await _refusal_logged(caplog, "CONNACK 2", "expected 'demo_device01'")


async def test_agent_certificate_connects_and_is_refused_after_deletion(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    made = await create_agent_certificate(world.sim.api, "agent007", out_dir=world.folder / "agents")
    keep = await create_agent_certificate(world.sim.api, "agent008", out_dir=world.folder / "agents")
    files = Files(made.certificate_file, made.key_file, made.agent.client_id)
    assert files.client_id == "demo_agent007"
    ok, _ = await world.check(files, publish=True)
    assert ok.accepted and ok.published and ok.client_id == "demo_agent007", ok.message
    # Without --client-id the tenant tells the agent certificate's client id.
    looked_up, _ = await world.check(files, api=world.sim.api, tenant=None)
    assert looked_up.accepted and looked_up.client_id == "demo_agent007"

    await world.sim.api.mqtt.delete_agent_cert(made.agent.id)
    with caplog.at_level(logging.INFO, logger=LOG):
        refused, _ = await world.check(files)
        precise, _ = await world.check(files, api=world.sim.api)
    assert not refused.accepted and refused.failed_step is CheckStep.CONNECT
    assert (
        refused.cause is Cause.UNTRUSTED_ISSUER and "nor is it a current agent certificate" in refused.message
    )
    assert precise.cause is Cause.AGENT_CERTIFICATE_DELETED, precise.message
    await _refusal_logged(caplog, "CONNACK 5", "was deleted")
    # The other agent certificate still connects.
    other = await world.check(Files(keep.certificate_file, keep.key_file, keep.agent.client_id))
    assert other[0].accepted


async def test_second_connection_with_one_client_id_is_refused(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    ca, _ = await world.verified_ca()
    files = world.device(ca, "device01")
    connected = asyncio.Event()
    acknowledged = []
    first = asyncio.create_task(
        publish_timeseries(
            files.cert,
            files.key,
            [DataPoint("temperature", value="20")],
            broker=world.address,
            root_ca=world.broker.root_ca_file,
            tenant="demo",
            peek_seconds=0.15,
            every=0.05,
            on_connected=lambda session: connected.set(),
            on_message=acknowledged.append,
        )
    )
    await asyncio.wait_for(connected.wait(), 10)
    with caplog.at_level(logging.INFO, logger=LOG):
        second, _ = await world.check(files)
    assert not first.done()
    assert not second.accepted and second.cause is Cause.CLIENT_ID_IN_USE
    assert "already connected" in second.message
    await _refusal_logged(caplog, "CONNACK 2", "already connected")
    # The first connection was not disturbed: it goes on publishing, every message acknowledged.
    count = len(acknowledged)
    for _ in range(200):
        if len(acknowledged) >= count + 3:
            break
        await asyncio.sleep(0.01)
    assert len(acknowledged) >= count + 3 and not first.done()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    # And once it has gone, the client id is free again.
    assert (await world.check(files))[0].accepted


async def test_port_closed_and_root_ca_mismatch(world: World, tmp_path: Path) -> None:
    ca, _ = await world.verified_ca()
    files = world.device(ca, "device01")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    result = await check_connection(
        files.cert,
        files.key,
        broker=BrokerAddress("127.0.0.1", closed_port),
        root_ca=world.broker.root_ca_file,
        tenant="demo",
        **FAST,
    )
    assert not result.accepted and result.cause is Cause.PORT_CLOSED and result.failed_step is CheckStep.TCP
    assert "nothing is listening" in result.message
    wrong_root = tmp_path / "not-the-broker-root.pem"
    wrong_root.write_text(ca.certificate_pem)
    mismatch, _ = await world.check(files, root_ca=wrong_root)
    assert mismatch.cause is Cause.ROOT_CA_MISMATCH and mismatch.failed_step is CheckStep.TLS
    assert "broker root CA mismatch" in mismatch.message


async def test_bad_files_fail_in_the_first_step(world: World, tmp_path: Path) -> None:
    ca, _ = await world.verified_ca()
    one = world.device(ca, "device01")
    two = world.device(ca, "device02")
    mixed, _ = await world.check(Files(one.cert, two.key, one.client_id))
    assert mixed.cause is Cause.KEY_MISMATCH and mixed.failed_step is CheckStep.CERTIFICATE
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"\x00\x01 not a certificate")
    unreadable, _ = await world.check(Files(junk, one.key, one.client_id))
    assert unreadable.cause is Cause.BAD_INPUT and len(unreadable.steps) == 1
    no_tenant, _ = await world.check(one, tenant=None)
    assert no_tenant.cause is Cause.NO_CLIENT_ID


# ------------------------------------------------------------------------------------------ publish


async def test_published_values_read_back_through_iot_time_series(world: World) -> None:
    ca, _ = await world.verified_ca()
    files = world.device(ca, "pump42")
    stamps = [dt.datetime(2026, 1, 1, 12, 0, i, tzinfo=dt.UTC) for i in range(3)]
    ticks = iter(stamps)
    seen = []
    sent = await publish_timeseries(
        files.cert,
        files.key,
        parse_data_points(["temperature=21.5", "running=true", "pressure=1..2"]),
        broker=world.address,
        root_ca=world.broker.root_ca_file,
        tenant="demo",
        peek_seconds=0.15,
        every=0.05,
        count=3,
        seed=7,
        clock=lambda: next(ticks),
        on_message=seen.append,
    )
    assert sent == 3 and [m.number for m in seen] == [1, 2, 3]
    assert seen[0].topic == "tc/demo/demo_pump42/o/mc_v3/ts"
    api = world.sim.api
    asset_id = world.sim.state.mqtt_agents["demo_pump42"].asset_id
    # The broker acknowledges a message before it is stored (so does the real service): read until all
    # three are there.
    for _ in range(200):
        records = await api.timeseries.read(
            asset_id, "AgentData", stamps[0] - dt.timedelta(seconds=1), stamps[-1]
        )
        if len(records) == 3:
            break
        await asyncio.sleep(0.01)
    assert [r["temperature"] for r in records] == [21.5, 21.5, 21.5]
    assert [r["running"] for r in records] == [True, True, True]
    assert all(1 <= r["pressure"] <= 2 for r in records) and records[0]["temperature_qc"] == 0
    # The agent is an asset of the tenant, with the aspect the Time series area charts.
    asset = await api.assets.get(asset_id)
    assert asset.name == "demo_pump42"
    assert [a.name for a in await api.assets.aspects(asset_id)] == ["AgentData"]


async def test_publish_to_a_refusing_broker_raises_the_plain_cause(world: World) -> None:
    stranger = await asyncio.to_thread(create_ca, "Unrelated CA", "ec256")
    files = world.device(stranger, "device01")
    with pytest.raises(CheckFailed) as raised:
        await publish_timeseries(
            files.cert,
            files.key,
            [DataPoint("temperature", value="1")],
            broker=world.address,
            root_ca=world.broker.root_ca_file,
            tenant="demo",
        )
    assert raised.value.cause is Cause.UNTRUSTED_ISSUER


def test_data_points_and_payload_shape() -> None:
    points = parse_data_points(["temperature=21.5", "level=10..20", "status=ok"])
    assert (
        points[0] == DataPoint("temperature", value="21.5") and points[1].low == 10 and points[1].high == 20
    )
    for bad in (["temperature"], ["=1"], ["a=1", "a=2"], ["x=1..y"], [], ["t="]):
        with pytest.raises(ValueError):
            parse_data_points(bad)
    payload = timeseries_payload(
        {"temperature": "21.5"}, dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
    )
    assert payload == (
        b'{"timeseries":[{"timestamp":"2026-01-02T03:04:05.678Z","values":'
        b'[{"dataPointId":"temperature","value":"21.5","qualityCode":"0"}]}]}'
    )


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("mindconnectmqtt.eu1.mindsphere.io:8883", "mindconnectmqtt.eu1.mindsphere.io", 8883),
        ("mqtts://127.0.0.1:18883", "127.0.0.1", 18883),
        ("[::1]:1883", "::1", 1883),
        ("broker.example", "broker.example", 8883),
    ],
)
def test_broker_address(text: str, host: str, port: int) -> None:
    parsed = BrokerAddress.parse(text)
    assert (parsed.host, parsed.port) == (host, port)
    for bad in ("", "host:99999", "host:abc", "a b:1"):
        with pytest.raises(ValueError):
            BrokerAddress.parse(bad)
