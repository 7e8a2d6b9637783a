"""Switching areas (issue 6 "Speed": key to the new area drawn within 100 ms, `make bench` measures it):
what keeps a switch short, checked on the work done rather than on the clock.

* no fixed pause: Textual waits 50 ms before drawing after every ``switch_mode``; ihub draws an area it
  has built at once, and a new one as soon as its screen is mounted, in one whole frame;
* no style sheet work: an area's first visit neither re-parses the style sheets nor restyles the app;
* the other areas' modules are imported in the background once the first screen is drawn.
"""

from __future__ import annotations

import sys
import threading

import pytest
from textual.app import App

from tui import app as app_module
from tui.app import IhubApp
from tui.areas import AREAS, Area, preload_areas
from tui.screens.base import AreaScreen
from tui.widgets.status_bar import StatusBar

SIZE = (120, 36)


def tour() -> list[Area]:
    """Every area but Assets (where the demo opens), then every area again (first and later visits)."""
    return [*AREAS[:1], *AREAS[2:], *AREAS[1:], AREAS[0]]


async def test_areas_are_drawn_without_a_pause_and_a_new_one_only_when_built(
    demo_app: IhubApp, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    textual_delay = App.delay_update

    def delay_update(self: App, delay: float = 0.05) -> None:
        pauses.append(delay)
        textual_delay(self, delay)

    monkeypatch.setattr(App, "delay_update", delay_update)
    frames: list[tuple[str, bool, bool]] = []  # (area, its screen mounted, all its widgets mounted)
    display = demo_app._display

    def spy(screen, renderable) -> None:
        if renderable is not None and isinstance(screen, AreaScreen) and not demo_app._batch_count:
            children = list(screen.walk_children())
            frames.append((screen.area.mode, screen.is_mounted, all(w.is_mounted for w in children)))
        display(screen, renderable)

    demo_app._display = spy  # type: ignore[method-assign]
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        for area in tour():
            frames.clear()
            await pilot.press(area.key)
            await settle(demo_app, pilot)
            assert demo_app.current_mode == area.mode
            assert demo_app._batch_count == 0, "the output stays held after a switch"
            assert frames, f"{area.title} was never drawn"
            assert frames[0] == (area.mode, True, True), f"{area.title} was drawn before it was built"
        assert pauses == [], "Textual's fixed pause before drawing is back"


async def test_first_visits_leave_the_style_sheets_alone(
    demo_app: IhubApp, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    refreshed: list[str] = []
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        refresh_css = demo_app.refresh_css
        monkeypatch.setattr(
            demo_app, "refresh_css", lambda *a, **k: (refreshed.append("app"), refresh_css(*a, **k))
        )
        reparse = demo_app.stylesheet.reparse
        monkeypatch.setattr(demo_app.stylesheet, "reparse", lambda: (refreshed.append("reparse"), reparse()))
        for area in tour():
            await pilot.press(area.key)
            await settle(demo_app, pilot)
            assert demo_app.current_mode == area.mode
        assert refreshed == [], "showing an area re-parsed the style sheets or restyled the whole app"


async def test_an_area_built_after_a_theme_change_has_the_new_theme(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        before = demo_app.screen.query_one(StatusBar).styles.background
        demo_app.theme = "textual-light" if demo_app.theme != "textual-light" else "nord"
        await settle(demo_app, pilot)
        after = demo_app.screen.query_one(StatusBar).styles.background
        assert after != before
        await pilot.press("1")  # Keys: built now
        await settle(demo_app, pilot)
        assert demo_app.current_mode == "keys"
        assert demo_app.screen.query_one(StatusBar).styles.background == after


async def test_the_other_areas_are_imported_once_the_first_screen_is_drawn(
    demo_app: IhubApp, settle, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[threading.Thread] = []

    def preload() -> threading.Thread:
        thread = preload_areas()
        started.append(thread)
        return thread

    monkeypatch.setattr(app_module, "preload_areas", preload)
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        assert len(started) == 1
        started[0].join(30)
        for area in AREAS:
            assert area.screen is not None
            assert area.screen.partition(":")[0] in sys.modules


def test_preload_imports_each_module_and_skips_a_broken_one() -> None:
    for name in ("tabnanny", "colorsys"):
        sys.modules.pop(name, None)
    areas = [
        Area("a", "7", "A", "", "tabnanny:check"),
        Area("b", "8", "B", "", "tui.no_such_module:Screen"),
        Area("c", "9", "C", "", "colorsys:rgb_to_hls"),
        Area("d", "0", "D", "", None),
    ]
    thread = preload_areas(areas)
    thread.join(30)
    assert thread.daemon and not thread.is_alive()
    assert "tabnanny" in sys.modules and "colorsys" in sys.modules
    assert "tui.no_such_module" not in sys.modules
