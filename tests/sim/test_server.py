"""The simulator over real loopback HTTP (uvicorn in a thread) and the `ihub sim` option helpers."""

from __future__ import annotations

import argparse
import json

import httpx
import pytest

from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.server import SimServer, SimServerError, build_parser_args, config_from_args, serve_forever


def _token(client: httpx.Client, server: SimServer, client_id: str, secret: str) -> httpx.Response:
    return client.post(server.token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret))


def test_server_answers_token_and_asset_listing_over_loopback() -> None:
    with SimServer(SimConfig()) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        assert server.token_url == f"{server.url}/oauth/token"
        with httpx.Client(trust_env=False) as client:
            token = _token(client, server, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
            assert token.status_code == 200
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            root = client.get(f"{server.url}/api/assetmanagement/v3/assets/root", headers=headers).json()
            listing = client.get(
                f"{server.url}/api/assetmanagement/v3/assets",
                params={"filter": json.dumps({"parentId": root["assetId"]}), "sort": "name,asc"},
                headers=headers,
            )
            assert listing.status_code == 200
            names = [a["name"] for a in listing.json()["_embedded"]["assets"]]
            assert names == ["Chengdu", "Chicago", "Erlangen"]
    with pytest.raises(httpx.TransportError), httpx.Client(trust_env=False) as client:
        client.get(f"{server.url}/token_keys", timeout=2)


def test_drop_over_loopback_is_a_transport_error() -> None:
    config = SimConfig(fault_rate=1.0, faults=("drop",))
    with SimServer(config) as server, httpx.Client(trust_env=False) as client:
        token = _token(client, server, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        with pytest.raises(httpx.TransportError):
            client.get(f"{server.url}/api/assetmanagement/v3/assets", headers=headers)
        # The server keeps serving after a drop.
        assert client.get(f"{server.url}/token_keys").status_code == 200
        assert server.app.state.tenant.counters["faults_drop"] == 1


def test_refuses_a_non_loopback_host() -> None:
    with pytest.raises(SimServerError, match="loopback"):
        SimServer(SimConfig(), host="0.0.0.0")


def test_config_from_args_and_extra_client() -> None:
    parser = build_parser_args(argparse.ArgumentParser())
    ns = parser.parse_args(
        [
            "--assets", "500", "--latency", "20", "--fault-rate", "0.1", "--faults", "429,drop",
            "--max-page-size", "200", "--token-ttl", "60", "--seed", "9",
            "--client-id", "mine-app-1.0.0", "--client-secret", "FAKE-mine",
        ]
    )  # fmt: skip
    config = config_from_args(ns)
    assert (config.assets, config.latency_ms, config.fault_rate) == (500, 20.0, 0.1)
    assert (config.faults, config.max_page_size, config.token_ttl, config.seed) == (
        ("429", "drop"),
        200,
        60,
        9,
    )
    ids = [c.client_id for c in config.clients]
    assert ids[0] == "mine-app-1.0.0" and DEMO_CLIENT_ID in ids
    assert not config.clients[0].read_only
    assert "FAKE-mine" not in repr(config.clients[0])
    with SimServer(config) as server, httpx.Client(trust_env=False) as client:
        assert _token(client, server, "mine-app-1.0.0", "FAKE-mine").json()["expires_in"] == 60


@pytest.mark.parametrize(
    "argv",
    [
        ["--faults", "404"],
        ["--fault-rate", "2"],
        ["--client-id", "x"],
        ["--assets", "-1"],
        ["--max-page-size", "0"],
    ],
)
def test_config_from_args_rejects_bad_values(argv: list[str]) -> None:
    ns = build_parser_args(argparse.ArgumentParser()).parse_args(argv)
    with pytest.raises(ValueError):
        config_from_args(ns)


def test_serve_forever_prints_how_to_connect_and_stops_on_ctrl_c() -> None:
    lines: list[str] = []
    urls: list[str] = []

    def print_fn(line: str) -> None:
        lines.append(line)
        if "Gateway:" in line:
            urls.append(line.split()[-1])
        if line.startswith("Press Ctrl-C"):
            # The server is up: it answers, then the user presses Ctrl-C.
            with httpx.Client(trust_env=False) as client:
                assert client.get(f"{urls[0]}/token_keys").status_code == 200
            raise KeyboardInterrupt

    config = SimConfig()
    serve_forever(config, 0, print_fn=print_fn)
    text = "\n".join(lines)
    assert f"Token URL:      {urls[0]}/oauth/token" in text
    assert DEMO_CLIENT_ID in text and DEMO_CLIENT_SECRET in text
    assert lines[-1] == "Stopping the simulator."
    with pytest.raises(httpx.TransportError), httpx.Client(trust_env=False) as client:
        client.get(f"{urls[0]}/token_keys", timeout=2)


def test_serve_forever_prints_the_broker_address_and_its_root_ca_file(tmp_path) -> None:
    """Issue 11 §1: the startup output names the broker (mqtts://127.0.0.1:P) and the root CA file a client
    needs, and the broker is listening there with a certificate from that root CA."""
    import logging
    import socket
    import ssl

    lines: list[str] = []
    root_ca = tmp_path / "broker-root.pem"

    def print_fn(line: str) -> None:
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            broker = next(x for x in lines if "MQTT broker:" in x).split()[2]
            assert broker.startswith("mqtts://127.0.0.1:")
            port = int(broker.rsplit(":", 1)[1])
            context = ssl.create_default_context(cafile=str(root_ca))
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    assert tls.version() == "TLSv1.3"  # the broker's certificate chains to the file
            raise KeyboardInterrupt

    mqtt_log = logging.getLogger("tui.sim.mqtt")
    handlers = list(mqtt_log.handlers)
    try:
        serve_forever(SimConfig(), 0, print_fn=print_fn, mqtt_port=0, mqtt_root_ca=root_ca)
    finally:
        for handler in [h for h in mqtt_log.handlers if h not in handlers]:
            mqtt_log.removeHandler(handler)  # serve_forever logs the broker to this test's stderr
    text = "\n".join(lines)
    assert f"  Broker root CA: {root_ca}" in text
    assert f"--root-ca {root_ca} --client-id demo_<CN>" in text  # the ready check line
    assert root_ca.read_text().startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize("port", [99999, -1, 65536])
def test_a_port_out_of_range_is_a_plain_error(port: int, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 7: `ihub sim --port 99999` ended in an OverflowError traceback."""
    with pytest.raises(SimServerError, match="between 0 and 65535"):
        SimServer(SimConfig(), port=port)
    from tui.cli import main

    assert main(["sim", "--port", str(port)]) == 2  # a usage error
    err = capsys.readouterr().err
    assert err.startswith("ihub: --port must be between 0 and 65535") and "Traceback" not in err


def test_retry_after_knobs_and_date_header_over_loopback() -> None:
    import email.utils
    import time

    parser = build_parser_args(argparse.ArgumentParser())
    config = config_from_args(
        parser.parse_args(
            ["--fault-rate", "1", "--faults", "429", "--retry-after", "3600", "--retry-after-date"]
        )
    )
    assert config.retry_after_s == 3600 and config.retry_after_http_date
    config.clock = lambda: time.time() - 7200  # the simulator's clock two hours behind
    with SimServer(config) as server:
        response = httpx.get(f"{server.url}/api/assetmanagement/v3/assets/root")
    assert response.status_code == 429
    date = email.utils.parsedate_to_datetime(response.headers["date"]).timestamp()
    retry_at = email.utils.parsedate_to_datetime(response.headers["retry-after"]).timestamp()
    assert abs(date - (time.time() - 7200)) < 5
    assert retry_at - date == pytest.approx(3600, abs=1)
    assert len(response.headers.get_list("date")) == 1


def test_kept_alive_requests_are_not_delayed_by_nagle() -> None:
    """A response written in two parts must not wait for a delayed ACK (40 ms per request on Linux)."""
    import socket as sock_module

    server = SimServer(SimConfig(), port=0)
    server.start()
    try:
        with sock_module.create_connection(("127.0.0.1", server.port)) as conn:
            listener_nodelay = server._socket.getsockopt(sock_module.IPPROTO_TCP, sock_module.TCP_NODELAY)
            assert listener_nodelay
            conn.sendall(b"GET /token_keys HTTP/1.1\r\nHost: x\r\n\r\n")
            assert conn.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        server.stop()
