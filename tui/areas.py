"""The table of areas: key, mode name, title and screen factory. The app's modes, its ``1``-``4`` bindings,
the palette's "Go to" commands and the texts of areas not built yet are all made from it.

Screens are imported when an area is first shown, so starting the app does not pay for all of them;
``preload_areas()`` imports them in a background thread once the first screen is drawn, so that the first
visit of another area does not pay for them either (the Time series and Certificates modules bring numpy
and cryptography: 0.1-0.2 s).
Nothing here imports Textual at module level.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True)
class Area:
    """One area of the app."""

    mode: str  # the Textual mode name, e.g. "assets"
    key: str  # the key that opens it, e.g. "2"
    title: str  # shown in the header, the help and the palette
    description: str  # one line for the palette
    screen: str | None  # "module:Class" of its screen; None while the area is not built yet
    planned: str = ""  # what the area will do, shown while ``screen`` is None

    def factory(self) -> Callable[[], Screen]:
        """A zero-argument callable that builds the area's screen (importing its module on first use)."""
        area = self

        def build() -> Screen:
            if area.screen is None:
                from tui.screens.placeholder import PlaceholderScreen

                return PlaceholderScreen(area)
            module, _, name = area.screen.partition(":")
            screen: Screen = getattr(import_module(module), name)(area)
            return screen

        return build


AREAS: tuple[Area, ...] = (
    Area(
        "keys",
        "1",
        "Keys",
        "Profiles, client secrets and connection tests",
        "tui.screens.keys:KeysScreen",
    ),
    Area(
        "assets",
        "2",
        "Assets",
        "The asset hierarchy: types, aspects, variables, latest values",
        "tui.screens.assets:AssetsScreen",
    ),
    Area(
        "timeseries",
        "3",
        "Time series",
        "Raw values and aggregates for chosen variables",
        "tui.screens.timeseries:TimeSeriesScreen",
    ),
    Area(
        "certificates",
        "4",
        "Certificates",
        "MQTT certificates: local CA, verification, agent certificates",
        "tui.screens.certificates:CertificatesScreen",
    ),
)

AREA_BY_MODE: dict[str, Area] = {area.mode: area for area in AREAS}


def area(mode: str) -> Area:
    """The area called ``mode``; ``KeyError`` for an unknown one."""
    return AREA_BY_MODE[mode]


def preload_areas(areas: Iterable[Area] = AREAS) -> threading.Thread:
    """Import the screen module of every area (of ``areas``) in a daemon thread; an import error is left for
    the area's first visit to report. The thread holds the interpreter lock only in short turns, so the app
    stays responsive while it runs."""

    def load() -> None:
        for area in areas:
            if area.screen is not None:
                try:
                    import_module(area.screen.partition(":")[0])
                except Exception:  # noqa: S112 - the first visit imports it again and reports the error
                    continue

    thread = threading.Thread(target=load, name="ihub-preload-areas", daemon=True)
    thread.start()
    return thread
