"""Agent certificates (the key saved before anything else is done with the response, both response shapes),
device certificates from a local CA (client id ``<tenant>_<CN>``), connection facts, and the CA list
(issue 10 §2, §3)."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import stat
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import Clock, MockGateway, Sleeps, credentials
from tests.flows.conftest import Sim
from tui.api.client import ApiClient, ConnectionConfig
from tui.api.errors import BadRequestError, ConflictError, ResponseFormatError
from tui.api.mqtt import is_ca_limit_error
from tui.flows import certificates as flows
from tui.flows.certificates import (
    CertificateFlowError,
    ca_overview,
    client_id_for,
    connection_facts,
    create_agent_certificate,
    expiry_level,
    issue_device_certificate,
    region_of,
    register_ca,
    registered_ca,
)
from tui.pki import (
    CaKeyStore,
    FileWriteError,
    SubjectError,
    chains_to_ca,
    create_ca,
    load_certificate,
    load_private_key,
    read_file,
)
from tui.pki.verify import key_matches_certificate


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_agent_certificate_files_modes_and_facts(sim, tmp_path: Path) -> None:
    s: Sim = sim()
    out = tmp_path / "agents"
    result = await create_agent_certificate(s.api, "device001", owner="ops@example.test", out_dir=out)
    assert result.key_file == out / "device001.key" and result.certificate_file == out / "device001.pem"
    assert _mode(result.key_file) == 0o600 and _mode(out) == 0o700 and _mode(result.certificate_file) == 0o644
    cert = load_certificate(read_file(result.certificate_file))
    assert key_matches_certificate(load_private_key(read_file(result.key_file)), cert)
    assert result.agent.client_id == "demo_device001" and result.agent.private_key
    assert result.facts.client_id == "demo_device001"
    assert result.facts.topic_prefix == "tc/demo/demo_device001/o/mc_v3/"
    assert result.facts.key_file == result.key_file
    # The simulator's gateway is no Insights Hub region: no broker is made up.
    assert result.facts.host is None and result.facts.mosquitto_pub is None
    assert any("not known" in n for n in result.facts.notes)
    listed = await s.api.mqtt.list_agent_certs()
    assert [a.id for a in listed] == [result.agent.id] and listed[0].private_key is None


async def test_agent_folder_is_checked_before_the_request(sim, tmp_path: Path) -> None:
    s: Sim = sim()
    (tmp_path / "device001.key").write_text("an older key that must not be lost")
    with pytest.raises(FileWriteError, match="already exists"):
        await create_agent_certificate(s.api, "device001", out_dir=tmp_path)
    assert (tmp_path / "device001.key").read_text() == "an older key that must not be lost"
    with pytest.raises(CertificateFlowError, match="letters, digits"):
        await create_agent_certificate(s.api, "bad name!", out_dir=tmp_path)
    assert s.transport.calls == [] and s.state.agent_certificates == {}


async def test_agent_certificate_deleted_again_when_its_key_cannot_be_written(
    sim, tmp_path: Path, monkeypatch
) -> None:
    s: Sim = sim()

    def disk_full(path, data, **kwargs):
        raise FileWriteError(f"cannot write {path}: No space left on device")

    monkeypatch.setattr(flows, "write_file", disk_full)
    with pytest.raises(CertificateFlowError, match="could not be saved .*No space left.*deleted again"):
        await create_agent_certificate(s.api, "device002", out_dir=tmp_path)
    assert s.state.agent_certificates == {}


def _agent_api(response_body: dict, tmp_clock: Clock) -> ApiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/agentCertificates"):
            return httpx.Response(201, json=response_body)
        return httpx.Response(404, json={"errors": [{"code": "x", "message": "not here"}]})

    gateway = MockGateway(handler, tmp_clock)
    config = ConnectionConfig("https://gateway.eu1.mindsphere.io", credentials())
    return ApiClient(config, transport=httpx.MockTransport(gateway), clock=tmp_clock, sleep=Sleeps())


@pytest.fixture(scope="module")
def agent_pems() -> tuple[str, str]:
    ca = create_ca("agent CA", "ec256")
    from tui.pki import issue_certificate
    from tui.pki.keys import private_key_pem

    issued = issue_certificate(ca.certificate, ca.private_key, "demo_dev", key_type="ec256")
    return issued.certificate_pem, private_key_pem(issued.private_key).decode()


@pytest.mark.parametrize("shape", ["flat", "credentials"])
async def test_both_response_shapes(shape: str, agent_pems, tmp_path: Path) -> None:
    cert_pem, key_pem = agent_pems
    body: dict = {
        "id": "01G16QJSRNKA3JD4DQE2Z7KPEK",
        "name": "dev",
        "clientId": "demo_dev",
        "status": "READY",
    }
    if shape == "flat":
        body |= {"privateKey": key_pem, "publicKey": cert_pem}
    else:
        body |= {"credentials": {"certificatePem": cert_pem, "privateKey": key_pem}}
    api = _agent_api(body, Clock(dt.datetime.now(dt.UTC).timestamp()))
    try:
        result = await create_agent_certificate(api, "dev", out_dir=tmp_path)
    finally:
        await api.aclose()
    assert result.key_file.read_text() == key_pem and result.certificate_file.read_text() == cert_pem
    assert result.facts.broker == "mindconnectmqtt.eu1.mindsphere.io:8883"
    assert result.facts.mosquitto_pub is not None and "-i demo_dev" in result.facts.mosquitto_pub


async def test_the_key_is_saved_even_when_the_response_cannot_be_parsed(agent_pems, tmp_path: Path) -> None:
    cert_pem, key_pem = agent_pems
    # No id and no client id: the model refuses the response, but the key is already on disk.
    api = _agent_api(
        {"privateKey": key_pem, "publicKey": cert_pem}, Clock(dt.datetime.now(dt.UTC).timestamp())
    )
    try:
        with pytest.raises(ResponseFormatError, match="without id"):
            await create_agent_certificate(api, "dev", out_dir=tmp_path)
    finally:
        await api.aclose()
    assert (tmp_path / "dev.key").read_text() == key_pem
    assert _mode(tmp_path / "dev.key") == 0o600


async def test_api_keep_hook_runs_before_parsing(agent_pems) -> None:
    cert_pem, key_pem = agent_pems
    order: list[str] = []
    api = _agent_api({"credentials": {"privateKey": key_pem}}, Clock(dt.datetime.now(dt.UTC).timestamp()))

    async def keep(certificate: str | None, private_key: str) -> None:
        order.append(f"kept:{certificate is None}:{private_key == key_pem}")

    try:
        with pytest.raises(ResponseFormatError):
            await api.mqtt.create_agent_cert("dev", keep=keep)
    finally:
        await api.aclose()
    assert order == ["kept:True:True"]
    no_key = _agent_api({"id": "x", "name": "dev"}, Clock(dt.datetime.now(dt.UTC).timestamp()))
    try:
        with pytest.raises(ResponseFormatError, match="no private key"):
            await no_key.mqtt.create_agent_cert("dev", keep=keep)
    finally:
        await no_key.aclose()
    assert len(order) == 1


def test_limit_error_variants() -> None:
    assert is_ca_limit_error(
        BadRequestError("x", status=400, code="mdsp.core.mindconnectmqtt.caCertificateLimitReached")
    )
    assert is_ca_limit_error(ConflictError("CA certificate limit exceeded", status=409))
    assert not is_ca_limit_error(ConflictError("already uploaded", status=409, code="duplicate"))
    assert not is_ca_limit_error(ValueError("limit"))


def test_device_certificate_from_a_local_ca(tmp_path: Path, ec_ca) -> None:
    now = dt.datetime(2026, 5, 4, 3, 2, 1, tzinfo=dt.UTC)
    result = issue_device_certificate(
        tenant="mytenant",
        ca_certificate=ec_ca.certificate,
        ca_key=ec_ca.private_key,
        common_name="device01",
        out_dir=tmp_path / "devices",
        gateway="https://gateway.eu1.mindsphere.io",
        now=dt.datetime.now(dt.UTC),
    )
    assert result.client_id == "mytenant_device01"
    files = result.files
    assert [p.name for p in (files.certificate, files.key, files.chain)] == [
        "device01.pem",
        "device01.key",
        "device01-chain.pem",
    ]
    assert _mode(files.key) == 0o600
    assert chains_to_ca(load_certificate(read_file(files.certificate)), ec_ca.certificate).ok
    facts = result.facts
    assert facts.broker == "mindconnectmqtt.eu1.mindsphere.io:8883"
    assert facts.topic_prefix == "tc/mytenant/mytenant_device01/o/mc_v3/"
    assert facts.certificate_file == files.chain and facts.key_file == files.key
    argv = shlex.split(facts.mosquitto_pub)
    assert argv[0] == "mosquitto_pub"
    pairs = dict(zip(argv[1:-1:2], argv[2::2], strict=False))
    assert pairs["-h"] == "mindconnectmqtt.eu1.mindsphere.io" and pairs["-p"] == "8883"
    assert pairs["--cert"] == str(files.chain) and pairs["--key"] == str(files.key)
    assert pairs["-i"] == "mytenant_device01" and pairs["-t"] == "tc/mytenant/mytenant_device01/o/mc_v3/ts"
    assert pairs["--cafile"] == "MindSphereRootCA1.pem" and pairs["-V"] == "mqttv311"
    payload = json.loads(pairs["-m"])
    assert payload["timeseries"][0]["values"][0]["dataPointId"] == "dp1"
    stamped = connection_facts("t", "t_c", now=now)
    assert "2026-05-04T03:02:01.000Z" in stamped.mosquitto_pub
    with pytest.raises(SubjectError, match="file name"):
        issue_device_certificate(
            tenant="t",
            ca_certificate=ec_ca.certificate,
            ca_key=ec_ca.private_key,
            common_name="../x",
            out_dir=tmp_path,
        )


def test_regions_client_ids_and_expiry_levels() -> None:
    assert region_of("https://gateway.eu1.mindsphere.io") == "eu1"
    assert region_of("https://gateway.eu2-int.mindsphere.io") == "eu2"
    assert region_of("http://127.0.0.1:8765") is None
    assert client_id_for("acme", "dev1") == "acme_dev1"
    assert client_id_for("acme", "dev1", "eu2") == "dev1"
    facts = connection_facts("acme", "acme_dev1", broker=("127.0.0.1", 18883))
    assert facts.broker == "127.0.0.1:18883" and "-p 18883" in facts.mosquitto_pub
    assert facts.timeseries_topic == "tc/acme/acme_dev1/o/mc_v3/ts"
    assert [expiry_level(d) for d in (None, 100, 30, 8, 7, 0, -1)] == [
        None,
        None,
        "warning",
        "warning",
        "critical",
        "critical",
        "expired",
    ]


async def test_ca_overview_and_registered_ca(sim, key_store: CaKeyStore) -> None:
    s: Sim = sim()
    mine = create_ca("mine", "ec256")
    await register_ca(s.api, mine.certificate_pem, key=mine.private_key, key_store=key_store)
    elsewhere = create_ca("elsewhere", "ec256")
    await register_ca(s.api, elsewhere.certificate_pem)
    overview = await ca_overview(s.api, key_store)
    assert overview.used_text == "2 of 2 used"
    rows = {row.ca.name: row for row in overview.rows}
    assert rows["mine"].key_on_machine and rows["mine"].ca.verified
    assert not rows["elsewhere"].key_on_machine and not rows["elsewhere"].ca.verified
    assert rows["mine"].info.days_left in (363, 364) and rows["mine"].expiry is None
    found = await registered_ca(s.api, mine.certificate)
    assert found is not None and found.verified
    assert await registered_ca(s.api, create_ca("x", "ec256").certificate) is None
