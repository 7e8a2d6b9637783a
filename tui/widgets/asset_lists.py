"""Search bar and asset lists of the Assets area (search hits, the assets of a type).

``SearchBar`` reads one line (``tui.flows.assets.SEARCH_HELP``: name text, ``type:<id>`` or a raw
filter JSON) and posts ``SearchBar.SearchRequested``; escape posts ``SearchBar.Closed``. ``AssetList``
shows assets with their hierarchy path; Enter posts ``AssetList.Chosen`` and reaching the last row
posts ``AssetList.NearEnd`` so the screen can fetch the next page. Neither talks to the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input

from tui.api.models import Asset
from tui.flows.assets import SEARCH_HELP, short_type


class SearchBar(Input):
    """The search line (``/``)."""

    BINDINGS = [Binding("escape", "close", "Close search", id="assets.search.close")]

    @dataclass
    class SearchRequested(Message):
        text: str

    @dataclass
    class Closed(Message):
        pass

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder=f"Search: {SEARCH_HELP}", id=id)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.SearchRequested(event.value))

    def action_close(self) -> None:
        self.post_message(self.Closed())


def path_text(asset: Asset) -> str:
    """The breadcrumb of an asset's parents: ``demo › Erlangen › Hall ER1``."""
    return " › ".join(entry.name for entry in asset.hierarchy_path)


class AssetList(DataTable[str | Text]):
    """Assets with type and path; the row key is the asset id."""

    BINDINGS = [Binding("escape", "close", "Back", id="assets.list.close")]

    @dataclass
    class Chosen(Message):
        """Enter on an asset."""

        list: AssetList
        asset: Asset

        @property
        def control(self) -> AssetList:
            return self.list

    @dataclass
    class NearEnd(Message):
        """The cursor reached the last row and more hits exist."""

        list: AssetList

        @property
        def control(self) -> AssetList:
            return self.list

    @dataclass
    class Closed(Message):
        """Escape: the user is done with the list."""

        list: AssetList

        @property
        def control(self) -> AssetList:
            return self.list

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.assets: dict[str, Asset] = {}
        self.total: int = 0
        self.tenant: str | None = None

    def on_mount(self) -> None:
        self.add_column("Name", key="name")
        self.add_column("Type", key="type")
        self.add_column("Path", key="path")

    def show(self, assets: Sequence[Asset], total: int, tenant: str | None) -> None:
        self.clear()
        self.assets = {}
        self.tenant = tenant
        self.total = total
        self.extend(assets)

    def extend(self, assets: Sequence[Asset]) -> None:
        for asset in assets:
            if asset.asset_id in self.assets:
                continue
            self.assets[asset.asset_id] = asset
            name = Text(asset.name)
            if asset.is_deleted:
                name = Text(asset.name, style="strike dim")
                name.append(" ✝", style="red")
            elif asset.is_shared:
                name.append(f" ⇄ {asset.owner_tenant or ''}", style="magenta")
            kind = Text(short_type(asset.type_id, self.tenant), style="dim")
            self.add_row(name, kind, path_text(asset), key=asset.asset_id)

    @property
    def more(self) -> int:
        """Hits not shown yet."""
        return max(0, self.total - len(self.assets))

    @property
    def selected(self) -> Asset | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None
        return self.assets.get(key) if key is not None else None

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        asset = self.selected
        if asset is not None:
            self.post_message(self.Chosen(self, asset))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.row_count - 1 and self.more:
            self.post_message(self.NearEnd(self))

    def action_close(self) -> None:
        self.post_message(self.Closed(self))
