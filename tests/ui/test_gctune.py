"""The app keeps the collector out of its long-lived objects while it runs, and gives them back at exit."""

from __future__ import annotations

import gc

from tui.app import IhubApp
from tui.gctune import YOUNG_THRESHOLD, LongLivedObjects


async def test_the_app_freezes_after_its_first_paint_and_releases_at_exit(demo_app: IhubApp, settle) -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    async with demo_app.run_test(size=(100, 30)) as pilot:
        await settle(demo_app, pilot)
        assert demo_app._long_lived.frozen
        assert gc.get_freeze_count() > 10_000  # the app's modules, styles and widgets
        assert gc.get_threshold()[0] == max(YOUNG_THRESHOLD, before[0])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_freeze_and_release_are_idempotent() -> None:
    before = gc.get_threshold()
    objects = LongLivedObjects(young_threshold=5_000)
    objects.release()  # nothing to release
    objects.freeze()
    objects.freeze()
    assert objects.frozen and gc.get_threshold()[0] == max(5_000, before[0])
    objects.release()
    objects.release()
    assert not objects.frozen and gc.get_freeze_count() == 0 and gc.get_threshold() == before
