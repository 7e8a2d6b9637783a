"""The table of areas: key, mode name, title and screen factory. The app's modes, its ``1``-``4`` bindings,
the palette's "Go to" commands and the texts of areas not built yet are all made from it.

Screens are imported when an area is first shown, so starting the app does not pay for all of them.
Nothing here imports Textual at module level.
"""

from __future__ import annotations

from collections.abc import Callable
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
