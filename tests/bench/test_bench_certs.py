"""Benchmark (issue 10 §7): create a CA and run the whole register-and-verify flow against the simulator
over loopback (uvicorn in a thread), per key type. Printed: the time of one registration, the share of it
spent generating keys (the CA key and the verification certificate's key), the other local work (key
store, signing, lint) and the API round trips, and the ratio to a plain API call measured in the same run.
Nothing here is a timed assertion.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tui.api.auth import Credentials, CredentialStyle
from tui.api.client import ApiClient, ConnectionConfig
from tui.flows.certificates import Step, StepEvent, register_new_ca
from tui.pki import CaKeyStore
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimConfig
from tui.sim.server import SimServer

RUNS = {"ec256": 8, "ec384": 5, "rsa2048": 5, "rsa3072": 3, "rsa4096": 2}
NETWORK_STEPS = (Step.LINT, Step.UPLOAD, Step.REGISTRATION_CODE, Step.VERIFY)


def _report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    for name, value in rows:
        print(f"   {name:<44} {value}")


async def _bench(server: SimServer, folder: Path) -> list[tuple[str, str]]:
    creds = Credentials(
        CredentialStyle.CLIENT_CREDENTIALS, server.token_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )
    store = CaKeyStore.for_tenant(folder, "demo", lambda create: "benchmark passphrase, not a secret")
    rows: list[tuple[str, str]] = []
    async with ApiClient(ConnectionConfig(gateway=server.url, credentials=creds)) as api:
        await api.tokens.get()
        # Baseline: one plain API round trip (list the CA certificates), measured in this run.
        calls = []
        for _ in range(20):
            t0 = time.perf_counter()
            await api.mqtt.list_ca()
            calls.append(time.perf_counter() - t0)
        baseline = statistics.median(calls)
        rows.append(("baseline: one API call (list CAs)", f"{baseline * 1000:.1f} ms"))
        for key_type, runs in RUNS.items():
            totals, keygen, network = [], [], []
            for i in range(runs):
                events: list[StepEvent] = []
                t0 = time.perf_counter()
                result = await register_new_ca(
                    api, f"bench {key_type} {i}", key_store=store, key_type=key_type, on_step=events.append
                )
                elapsed = time.perf_counter() - t0
                assert result.ok, result.message
                totals.append(elapsed)
                keygen.append(result.key_generation_seconds)
                network.append(sum(e.elapsed for e in result.steps if e.step in NETWORK_STEPS))
                await api.mqtt.delete_ca(result.ca.id, result.ca.etag)  # stay under the limit of two
            total = statistics.median(totals)
            gen = statistics.median(keygen)
            net = statistics.median(network)
            other = max(0.0, total - gen - net)
            rows.append(
                (
                    f"{key_type}: create + register + verify",
                    f"{total * 1000:7.1f} ms (median of {runs}), {total / baseline:5.1f}x one API call",
                )
            )
            rows.append(
                (
                    "   key generation / API steps / other",
                    f"{gen / total:5.1%} ({gen * 1000:.1f} ms) / {net / total:5.1%} ({net * 1000:.1f} ms) / "
                    f"{other / total:5.1%} ({other * 1000:.1f} ms)",
                )
            )
    return rows


def test_bench_register_ca() -> None:
    server = SimServer(SimConfig())
    server.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            rows = asyncio.run(_bench(server, Path(folder)))
    finally:
        server.stop()
    _report("CA registration with proof of possession (create CA, lint, keep key, upload, verify)", rows)
