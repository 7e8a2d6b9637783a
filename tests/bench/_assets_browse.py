"""The Assets app driven headless against a simulator URL, for the benchmarks (not a test module).

``python -m tests.bench._assets_browse URL`` runs the browsing session of issue 8 §5 in a fresh
interpreter (expand 10 nodes, 5 searches, 20 details) and prints one JSON line with the resident memory
before and after, so nothing else of the benchmark run is counted.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from tui.app import IhubApp
from tui.config.paths import AppPaths
from tui.config.profiles import Profile, ProfileStore
from tui.services import Services, SessionSecretStore
from tui.sim.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

SIZE = (120, 40)


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bench_services(url: str) -> Services:
    """The app's services on one profile for the simulator at ``url``, over the real loopback network."""
    store = ProfileStore(None)
    store.add(
        Profile(
            name="bench", gateway=url, token_url=f"{url}/oauth/token", client_id=DEMO_CLIENT_ID, tenant="demo"
        )
    )
    store.set_default("bench")
    secrets = SessionSecretStore()
    secrets.set("bench", DEMO_CLIENT_SECRET)
    return Services(
        paths=AppPaths.default(), profiles=store, secrets=secrets, environ={}, transport_factory=None
    )


def bench_app(url: str) -> IhubApp:
    return IhubApp(bench_services(url), profile="bench")


async def settle(app: IhubApp, limit: float = 60.0) -> None:
    """Wait for the app's workers (one cancelled by a newer one of its group counts as done)."""
    from textual.worker import WorkerCancelled

    async with asyncio.timeout(limit):
        for _ in range(3):
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:
                continue
            await asyncio.sleep(0)


async def until(condition: Callable[[], bool], limit: float = 30.0, step: float = 0.001) -> float:
    """Seconds until ``condition()`` holds (checked every ``step`` on the app's own loop)."""
    start = time.perf_counter()
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110 (polling the app's state, as a user's eyes would)
            await asyncio.sleep(step)
    return time.perf_counter() - start


class StallMeter:
    """A timer inside the app's event loop: the longest gap beyond its own period between two ticks."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.longest = 0.0
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.period)
            self.longest = max(self.longest, time.perf_counter() - before - self.period)

    def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
        return self.longest


async def browse(url: str) -> dict[str, Any]:
    """Expand 10 nodes, run 5 searches and show 20 assets' details; the RSS before and after."""
    from tui.screens.assets import AssetsScreen
    from tui.widgets.asset_tree import Kind

    gc.collect()
    before = rss_mb()
    app = bench_app(url)
    expanded = searches = details = 0
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AssetsScreen)
        tree = screen.asset_tree
        api = screen.ctx.api
        assert api is not None

        async def expand(name: str) -> None:
            nonlocal expanded
            node = next(n for n in tree.by_id.values() if n.data is not None and n.data.asset.name == name)
            tree.select_asset(node.data.asset.asset_id)
            node.expand()
            await settle(app)
            await until(lambda: node.data is not None and node.data.loaded)
            expanded += 1

        expanded += 1  # the root, opened at start
        for name in (
            "Generated",
            "Wide",
            "Tree",
            "Node T000000",
            "Node T000001",
            "Deep",
            "Level 01",
            "Erlangen",
            "Chicago",
        ):
            await expand(name)
        chosen = []
        for text in ("Sensor W00", "Node T0001", "Level 0", "Pump", "type:demo.Motor"):
            screen.action_search()
            screen._search(text)
            await settle(app)
            searches += 1
            chosen.extend(list(screen.results.assets.values())[:4])
        for asset in chosen[:20]:
            screen.jump_to(asset)
            await settle(app)
            await until(
                lambda asset=asset: (
                    screen.details.asset is not None and screen.details.asset.asset_id == asset.asset_id
                )
            )
            details += 1
        nodes = sum(1 for n in tree.by_id.values() if n.data is not None and n.data.kind is Kind.ASSET)
        gc.collect()
        after = rss_mb()
        peak = rss_mb("VmHWM")
    return {
        "before": before,
        "after": after,
        "peak": peak,
        "expanded": expanded,
        "searches": searches,
        "details": details,
        "nodes": nodes,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(browse(sys.argv[1]))))
