"""The Assets area (key 2): the asset hierarchy as a lazy tree, search, details with latest values and 24 h
trends, types, assets shared between tenants, and writes guarded by etags.

The screen is the controller: its widgets (``AssetTree``, ``AssetDetails``, ``AssetList``, ``TypesTree``,
``TypeDetails``, ``SearchBar``) show data and post what the user asks for; every network call runs here in
an async worker through ``self.ctx.api`` and the result goes back to a widget. Nothing loads the whole
tenant: children come a page of 200 at a time when a node is expanded (issue 8 §2).

Writes (``n`` new child, ``e`` edit, ``del`` delete with a typed confirmation) send ``If-Match`` with the
etag the asset had when it was shown; on 412 the asset is read again and the user is told that someone
else changed it, nothing is overwritten. On a read-only profile the write keys are absent; assets shared
into the tenant (RECEIVER) have them disabled; a 403 from the service is said in plain words and the
write keys then refuse without sending anything.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual.widgets.tree import TreeNode

from tui.api.errors import ApiError, ConflictError, ForbiddenError, NotFoundError, PreconditionFailedError
from tui.api.models import Aspect, AspectType, Asset, AssetType, static_values, type_chain
from tui.areas import Area
from tui.config.inputs import InputError, clean_text
from tui.config.safety import Destruction
from tui.context import ChartRequest, PaletteCommand
from tui.errors import error_text
from tui.flows.assets import (
    WITH_DECOMMISSIONED,
    SearchError,
    children_filter,
    combine,
    name_contains,
    now_utc,
    read_latest,
    read_trend,
    search_filter,
    section_error,
)
from tui.messages import ConnectionChanged, Phase
from tui.screens.asset_forms import CreateAssetDialog, CreateRequest, EditAssetDialog
from tui.screens.base import OTHER_PANE, AreaScreen
from tui.widgets.asset_details import AspectTable, AssetDetails
from tui.widgets.asset_lists import AssetList, SearchBar, path_text
from tui.widgets.asset_tree import AssetTree, NodeData
from tui.widgets.asset_types import TypeDetails, TypeItem, TypesTree

if TYPE_CHECKING:
    from tui.api.client import ApiClient

PAGE = 200  # children per tree page (the AM page size the docs recommend, reference 2.2)
RESULTS_PAGE = 50  # search hits per page
TYPE_ASSETS = 50  # assets listed for a type
ALL_PAGES_IN_FLIGHT = 8  # "load all": pages requested at once
ADD_CHUNK = 500  # "load all": children added to the tree between two frames
DETAIL_DELAY = 0.06  # s: the details wait this long for a moving cursor to settle
RECENT = 20  # assets remembered for the palette
# The changes (hidden and refused while read-only: AreaScreen.CHANGES).
WRITE_ACTIONS = frozenset({"create", "edit", "delete"})
ASSET_ACTIONS = frozenset({"chart", "copy_id"})


class AssetJumpProvider(Provider):
    """The palette searches the service for assets by name as you type and jumps to the one chosen."""

    async def search(self, query: str) -> Hits:
        screen = self.screen
        text = query.strip()
        if not isinstance(screen, AssetsScreen) or len(text) < 2:
            return
        try:
            found = await screen.find_assets(text, limit=15)
        except InputError as err:  # an invisible character pasted with the name: say which
            yield Hit(1.0, f"⚠ {err}", screen.action_search, text=str(err), help="search the tree instead")
            return
        except Exception:  # noqa: S112 - the palette must not break on a failed search
            return
        matcher = self.matcher(query)
        for asset in found:
            title = f"Jump to asset: {asset.name}"
            score = max(matcher.match(title), 0.05)
            yield Hit(
                score,
                matcher.highlight(title),
                partial(screen.jump_to, asset),
                text=title,
                help=path_text(asset),
            )


class AssetsScreen(AreaScreen):
    """Tree | details; search, types, shared assets, writes."""

    BINDING_GROUP_TITLE = "Assets"
    COMMANDS = AreaScreen.COMMANDS | {AssetJumpProvider}
    CHANGES: ClassVar[dict[str, str]] = {
        "create": "create an asset",
        "edit": "change an asset",
        "delete": "delete an asset",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        OTHER_PANE,  # first: the key bar of a narrow terminal has room for a few keys only
        Binding(
            "slash", "search", "Search", id="assets.search", tooltip="Search by name, type:<id> or {filter}"
        ),
        Binding(
            "c", "chart", "Chart", id="assets.chart", tooltip="Open the aspect or variable in Time series"
        ),
        Binding("r", "reload", "Reload", id="assets.reload", tooltip="Reload (keeps open nodes and cursor)"),
        Binding(
            "s",
            "toggle_shared",
            "Shared",
            id="assets.shared",
            tooltip="Include assets shared into the tenant",
        ),
        Binding("t", "toggle_types", "Types", id="assets.types", tooltip="Asset and aspect types"),
        Binding("n", "create", "New", id="assets.create", tooltip="Create a child asset"),
        Binding(
            "e", "edit", "Edit", id="assets.edit", tooltip="Edit name, description, external id, location"
        ),
        Binding(
            "delete,x", "delete", "Delete", id="assets.delete", key_display="del", tooltip="Delete the asset"
        ),
        Binding("y", "copy_id", "Copy id", id="assets.copy_id", tooltip="Copy the asset id (OSC 52)"),
        Binding(
            "d",
            "toggle_decommissioned",
            "Decommissioned",
            id="assets.decommissioned",
            tooltip="Also show decommissioned (soft-deleted) assets",
            show=False,
        ),
        Binding("escape", "close_types", "Back to assets", id="assets.types.close", show=False),
    ]
    # 80x24: the tree (or the types) and the details take the whole width in turn; o switches.
    FOLDED_PANES = ("#assets-left", "#assets-right")

    def __init__(self, area: Area) -> None:
        super().__init__(area)
        self.include_shared = False
        self.decommissioned = False
        self.view = "tree"
        self.asset_types: dict[str, AssetType] = {}
        self.aspect_types: dict[str, AspectType] = {}
        self.types_loaded = False
        self.current: Asset | None = None
        self.write_refused: str | None = None
        self.recent: list[Asset] = []
        self._aspects: dict[tuple[str | None, bool], list[Aspect]] = {}
        self._client: ApiClient | None = None
        self._search_text = ""
        self._search_filter: dict[str, Any] | None = None

    # -- layout ----------------------------------------------------------------------------------------
    def compose_area(self) -> ComposeResult:
        with Horizontal(id="assets-body"):
            with Vertical(id="assets-left"):
                yield Static("", id="assets-note")
                yield SearchBar(id="assets-search")
                yield AssetList(id="assets-results")
                yield AssetTree(id="assets-tree")
                yield TypesTree(id="assets-types")
            with Vertical(id="assets-right"):
                yield AssetDetails(id="assets-details")
                yield TypeDetails(id="assets-type-details")

    def on_mount(self) -> None:
        for selector in (
            "#assets-note",
            "#assets-search",
            "#assets-results",
            "#assets-types",
            "#assets-type-details",
        ):
            self.query_one(selector).display = False
        self.query_one("#assets-details").can_focus = False
        self.query_one("#assets-type-details").can_focus = False
        self._titles()
        self.asset_tree.focus()

    def _note(self, text: str | None) -> None:
        """A message instead of the tree (not connected, loading, the root failed); None: the tree."""
        note = self.query_one("#assets-note", Static)
        note.update(text or "")
        note.display = text is not None
        if text is not None:
            self.asset_tree.show_message("")
        if self.view == "tree":
            self.asset_tree.display = text is None and not self.results.display

    @property
    def note_text(self) -> str:
        return str(self.query_one("#assets-note", Static).content)

    @property
    def asset_tree(self) -> AssetTree:
        return self.query_one("#assets-tree", AssetTree)

    @property
    def details(self) -> AssetDetails:
        return self.query_one("#assets-details", AssetDetails)

    @property
    def results(self) -> AssetList:
        return self.query_one("#assets-results", AssetList)

    @property
    def types_tree(self) -> TypesTree:
        return self.query_one("#assets-types", TypesTree)

    @property
    def type_details(self) -> TypeDetails:
        return self.query_one("#assets-type-details", TypeDetails)

    @property
    def tenant(self) -> str | None:
        return self.asset_tree.tenant

    @property
    def _shared(self) -> bool | None:
        """``includeShared`` as sent: True with the toggle on, nothing (the service's default) otherwise."""
        return True if self.include_shared else None

    def _titles(self) -> None:
        left = self.query_one("#assets-left", Vertical)
        flags = []
        if self.include_shared:
            flags.append("+ shared")
        if self.decommissioned:
            flags.append("+ decommissioned")
        what = "Types" if self.view == "types" else "Assets"
        left.border_title = what + (f" ({', '.join(flags)})" if flags else "")
        key = self.key_of
        left.border_subtitle = (
            f"{key('assets.search')} search · {key('assets.shared')} shared · {key('assets.types')} types"
            if self.view == "tree"
            else f"{key('assets.types')} back to assets"
        )

    # -- connection ------------------------------------------------------------------------------------
    def on_connection_changed(self, message: ConnectionChanged) -> None:
        state = message.state
        api = self.ctx.api
        if state.connected and api is not None:
            if api is not self._client:
                self._client = api
                self._start()
            return
        self._client = None
        if state.phase is Phase.CONNECTING:
            text = f"Connecting with profile {state.profile}…"
        elif state.phase is Phase.ERROR:
            text = f"Not connected: {state.error or 'the connection failed'}. Press p to choose a profile."
        else:
            text = "No profile is active. Press 1 for Keys to add one, or p to choose one."
        self._note(text)
        self.details.show_message("Nothing to show until a profile is connected.")
        self._set_current(None)

    def _start(self) -> None:
        """A new connection: forget what the old one loaded and start at the root."""
        self.asset_types = {}
        self.aspect_types = {}
        self.types_loaded = False
        self._aspects = {}
        self.write_refused = None
        self.recent = []
        self._note("Loading the root asset…")
        self._load_root()
        self._load_types()

    def _api(self) -> ApiClient | None:
        api = self.ctx.api
        if api is None:
            self.notify("Not connected: choose a profile with p.", title="Assets", severity="warning")
        return api

    # -- the tree ------------------------------------------------------------------------------------
    @work(exclusive=True, group="assets-root", exit_on_error=False, description="load the asset tree")
    async def _load_root(self, keep: bool = False) -> None:
        api = self.ctx.api
        if api is None:
            return
        tree = self.asset_tree
        expanded = tree.expanded_ids() if keep else []
        pages = {i: _pages(tree.by_id[i].data) for i in expanded}
        cursor = tree.cursor_asset.asset_id if keep and tree.cursor_asset is not None else None
        try:
            root = await api.assets.root(include_shared=self._shared)
        except ApiError as err:
            self._note(f"⚠ Could not read the root asset: {error_text(err)}\n\nPress r to try again.")
            self.details.show_message("")
            return
        self._note(None)
        tree.set_root(root)
        if keep:
            await self._reopen(expanded, pages)
        else:
            tree.root.expand()  # posts LoadRequested for the first page
        if cursor is not None and tree.select_asset(cursor):
            chosen = tree.by_id[cursor].data
            asset = chosen.asset if chosen is not None and chosen.asset is not None else root
        else:
            tree.select_asset(root.asset_id)
            asset = root
        self._set_current(asset)
        self._details(asset, keep=keep, delay=False)

    async def _reopen(self, expanded: Sequence[str], pages: dict[str, int]) -> None:
        """Open the nodes that were open before a reload, a level at a time, each level's pages at once."""
        api = self.ctx.api
        tree = self.asset_tree
        wanted = set(expanded)
        level = [tree.root.data.asset.asset_id] if tree.root.data and tree.root.data.asset else []
        level = [i for i in level if i in wanted]
        while level and api is not None:

            async def fetch(asset_id: str) -> tuple[str, list[Asset], int]:
                count = max(1, pages.get(asset_id, 1))
                results = await asyncio.gather(
                    *(self._page(api, asset_id, p) for p in range(count)), return_exceptions=True
                )
                found: list[Asset] = []
                total = 0
                for result in results:
                    if isinstance(result, BaseException):
                        raise result
                    found.extend(result[0])
                    total = result[1]
                return asset_id, found, total

            outcomes = await asyncio.gather(*(fetch(i) for i in level), return_exceptions=True)
            next_level: list[str] = []
            for asset_id, outcome in zip(level, outcomes, strict=True):
                node = tree.by_id.get(asset_id)
                if node is None:
                    continue
                if isinstance(outcome, BaseException):
                    tree.load_failed(node, error_text(outcome))
                    node.expand()
                    continue
                _id, found, total = outcome
                added = tree.add_page(node, found, total, pages=max(1, pages.get(asset_id, 1)))
                node.expand()
                next_level.extend(
                    child_id
                    for c in added
                    if (child_id := _asset_id(c.data)) is not None and child_id in wanted
                )
            level = next_level

    async def _page(self, api: ApiClient, parent_id: str, page: int) -> tuple[list[Asset], int]:
        return await api.assets.page(
            page,
            PAGE,
            children_filter(parent_id, decommissioned=self.decommissioned),
            include_shared=self._shared,
        )

    @on(AssetTree.LoadRequested)
    def _load_requested(self, message: AssetTree.LoadRequested) -> None:
        message.stop()
        data = message.node.data
        what = data.asset.name if data is not None and data.asset is not None else "children"
        self.run_worker(
            self._load_children(message.node, message.page, message.all),
            group="assets-children",
            exit_on_error=False,
            description=f"load the children of {what}",
        )

    async def _load_children(self, node: TreeNode[NodeData], page: int, every: bool = False) -> None:
        tree = self.asset_tree
        api = self.ctx.api
        data = node.data
        if data is None or data.asset is None:
            return
        if api is None:
            tree.load_failed(node, "not connected")
            return
        parent_id = data.asset.asset_id
        try:
            assets, total = await self._page(api, parent_id, page)
        except ApiError as err:
            tree.load_failed(node, error_text(err))
            return
        if tree.by_id.get(parent_id) is not node:
            return  # the tree was rebuilt meanwhile
        tree.add_page(node, assets, total)
        if not every:
            return
        last = math.ceil(total / PAGE)
        next_page = page + 1
        while next_page < last:
            batch = list(range(next_page, min(last, next_page + ALL_PAGES_IN_FLIGHT)))
            tree.start_loading(node)
            try:
                results = await asyncio.gather(*(self._page(api, parent_id, p) for p in batch))
            except ApiError as err:
                tree.load_failed(node, error_text(err))
                return
            if tree.by_id.get(parent_id) is not node:
                return
            # The tree lays all its lines out again after each addition: add a few pages at a time, and
            # let the screen draw in between (harlequin's lazy tree does the same).
            found = [a for page_assets, _t in results for a in page_assets]
            for start in range(0, len(found), ADD_CHUNK):
                final = start + ADD_CHUNK >= len(found)
                tree.add_page(
                    node, found[start : start + ADD_CHUNK], results[-1][1], pages=len(batch) if final else 0
                )
                await asyncio.sleep(0)
            next_page = batch[-1] + 1

    @on(AssetTree.AssetHighlighted)
    def _highlighted(self, message: AssetTree.AssetHighlighted) -> None:
        message.stop()
        asset = message.asset
        if asset is None or (self.current is not None and asset.asset_id == self.current.asset_id):
            if asset is not None:
                self._set_current(asset)
            return
        self._set_current(asset)
        self._details(asset)

    def _set_current(self, asset: Asset | None) -> None:
        self.current = asset
        self.refresh_bindings()

    def _remember(self, asset: Asset) -> None:
        self.recent = [a for a in self.recent if a.asset_id != asset.asset_id][: RECENT - 1]
        self.recent.insert(0, asset)

    # -- details ---------------------------------------------------------------------------------------
    def _details(self, asset: Asset, *, keep: bool = False, delay: bool = True) -> None:
        self.details.show_asset(asset, self.tenant, keep=keep)
        self._load_details(asset, delay)

    @work(exclusive=True, group="assets-details", exit_on_error=False, description="asset details")
    async def _load_details(self, asset: Asset, delay: bool = True) -> None:
        if delay:
            await asyncio.sleep(DETAIL_DELAY)  # cancelled when the cursor moves on (exclusive)
        api = self.ctx.api
        if api is None:
            return
        details = self.details
        now = now_utc(api.server_time)  # the service's now: a skewed local clock must not shift the 24 h

        async def type_section() -> None:
            try:
                asset_type, chain = await self._type_of(api, asset)
            except Exception as err:
                details.show_chain_failed(section_error(err, "the asset type"))
                details.show_variables(static_values(asset, None))
                return
            details.show_chain(chain)
            details.show_variables(static_values(asset, asset_type))

        async def latest(aspect: Aspect) -> None:
            try:
                details.aspect_table.show_latest(await read_latest(api, asset.asset_id, aspect), now)
            except Exception as err:
                message = section_error(err, "time series")
                details.aspect_table.show_latest_failed(aspect.name, message)
                details.problem("latest values", message, aspect.name)

        async def trend(aspect: Aspect) -> None:
            try:
                details.aspect_table.show_trend(
                    aspect.name, await read_trend(api, asset.asset_id, aspect, now)
                )
            except Exception as err:
                message = section_error(err, "aggregates")
                details.aspect_table.show_trend_failed(aspect.name, message)
                details.problem("24 h trend", message, aspect.name)

        async def aspect_section() -> None:
            try:
                aspects = await self._aspects_of(api, asset)
            except Exception as err:
                details.show_aspects_failed(section_error(err, "aspects"))
                return
            details.show_aspects(aspects)
            dynamic = [a for a in aspects if a.is_dynamic]
            await asyncio.gather(*(latest(a) for a in dynamic), *(trend(a) for a in dynamic))

        await asyncio.gather(type_section(), aspect_section())

    async def _type_of(self, api: ApiClient, asset: Asset) -> tuple[AssetType | None, list[AssetType]]:
        """The asset's type (exploded: inherited variables included) and its chain, from the types read
        at start when they are there, else from the service."""
        type_id = asset.type_id
        if not type_id:
            return None, []
        found = self.asset_types.get(type_id)
        if found is not None:
            return found, type_chain(self.asset_types, type_id)
        asset_type = await api.assets.asset_type(type_id, exploded=True, include_shared=self._shared)
        chain = await api.assets.asset_type_chain(type_id, include_shared=self._shared)
        return asset_type, chain

    async def _aspects_of(self, api: ApiClient, asset: Asset) -> list[Aspect]:
        """The asset's aspects; the same for every asset of a type, so read once per type."""
        key = (asset.type_id, self.include_shared)
        cached = self._aspects.get(key)
        if cached is None:
            cached = await api.assets.aspects(asset.asset_id, include_shared=self._shared)
            if asset.type_id:
                self._aspects[key] = cached
        return cached

    # -- search ----------------------------------------------------------------------------------------
    def action_search(self) -> None:
        if self.view != "tree":
            self._show_view("tree")
        self.show_pane("#assets-left")  # 80x24: the search bar is above the tree, never typed into unseen
        bar = self.query_one("#assets-search", SearchBar)
        bar.display = True
        bar.focus()

    @on(SearchBar.SearchRequested)
    def _search_submitted(self, message: SearchBar.SearchRequested) -> None:
        message.stop()
        self._search(message.text)

    @on(SearchBar.Closed)
    def _search_closed(self, message: SearchBar.Closed) -> None:
        message.stop()
        self._close_search()

    def _close_search(self) -> None:
        self.query_one("#assets-search", SearchBar).display = False
        self.results.display = False
        self.asset_tree.display = True
        self.asset_tree.focus()

    @work(exclusive=True, group="assets-search", exit_on_error=False, description="search")
    async def _search(self, text: str) -> None:
        results = self.results
        try:
            search = search_filter(text)
        except SearchError as err:
            self._results_title(f"⚠ {err}")
            results.display = True
            results.clear()
            return
        if search.filter is None:
            self._close_search()
            return
        api = self._api()
        if api is None:
            return
        query = combine(search.filter, {"deleted": WITH_DECOMMISSIONED} if self.decommissioned else None)
        self._search_text, self._search_filter = search.words, query
        results.display = True
        self.asset_tree.display = False
        self._results_title(f"searching {search.words}…")
        try:
            found, total = await api.assets.page(0, RESULTS_PAGE, query, include_shared=self._shared)
        except ApiError as err:
            results.clear()
            self._results_title(f"⚠ {error_text(err)}")
            return
        results.show(found, total, self.tenant)
        self._results_title()
        if found:
            results.focus()

    def _results_title(self, text: str | None = None) -> None:
        results = self.results
        if text is None:
            if results.total == 0:
                text = f"no asset matches: {self._search_text}"
            else:
                shown = len(results.assets)
                more = f", {shown:,} shown" if shown < results.total else ""
                hits = "hit" if results.total == 1 else "hits"
                text = f"{results.total:,} {hits} for {self._search_text}{more} · enter: jump · esc: back"
        results.border_title = text

    @on(AssetList.NearEnd, "#assets-results")
    def _more_hits(self, message: AssetList.NearEnd) -> None:
        message.stop()
        self._more_results()

    @work(exclusive=True, group="assets-search-more", exit_on_error=False, description="more search hits")
    async def _more_results(self) -> None:
        api = self.ctx.api
        results = self.results
        if api is None or not results.more:
            return
        page = len(results.assets) // RESULTS_PAGE
        try:
            found, total = await api.assets.page(
                page, RESULTS_PAGE, self._search_filter, include_shared=self._shared
            )
        except ApiError as err:
            self.ctx.show_error(err, title="More search hits")
            return
        results.total = total
        results.extend(found)
        self._results_title()

    @on(AssetList.Chosen)
    def _chosen(self, message: AssetList.Chosen) -> None:
        message.stop()
        self.jump_to(message.asset)

    @on(AssetList.Closed)
    def _list_closed(self, message: AssetList.Closed) -> None:
        message.stop()
        if message.list is self.results:
            self._close_search()
        else:
            self.types_tree.focus()

    async def find_assets(self, text: str, limit: int = 15) -> list[Asset]:
        """Assets whose name contains ``text`` (any usual case), for the palette. ``InputError`` for an
        invisible or control character in ``text`` (``clean_text``)."""
        text = clean_text(text, "search")
        api = self.ctx.api
        if api is None:
            return []
        found, _total = await api.assets.page(0, limit, name_contains(text), include_shared=self._shared)
        return found

    # -- jump ------------------------------------------------------------------------------------------
    def jump_to(self, asset: Asset) -> None:
        """Show ``asset`` in the tree: open its path (``hierarchyPath``), select it, show its details."""
        if self.view != "tree":
            self._show_view("tree")
        self.query_one("#assets-search", SearchBar).display = False
        self.results.display = False
        self.asset_tree.display = True
        self._remember(asset)
        self._jump(asset)

    @work(exclusive=True, group="assets-jump", exit_on_error=False, description="open the path to an asset")
    async def _jump(self, asset: Asset) -> None:
        tree = self.asset_tree
        api = self.ctx.api
        if api is None:
            return
        tree.focus()
        if tree.select_asset(asset.asset_id):
            self._set_current(asset)
            self._details(asset, delay=False)
            return
        path = list(asset.path_ids)
        ancestors = path[:-1]
        root = tree.root.data.asset if tree.root.data is not None else None
        if root is None or not ancestors or ancestors[0] != root.asset_id:
            self.notify(f"{asset.name} is not below the root {root.name if root else ''}.", title="Assets")
            return
        unloaded = [
            a for a in ancestors if (n := tree.by_id.get(a)) is None or n.data is None or not n.data.loaded
        ]
        outcomes = await asyncio.gather(*(self._page(api, a, 0) for a in unloaded), return_exceptions=True)
        pages = dict(zip(unloaded, outcomes, strict=True))
        for index, ancestor_id in enumerate(ancestors):
            node = tree.by_id.get(ancestor_id)
            if node is None:
                # Not among its parent's first page of children: read it and place it there.
                parent = tree.by_id.get(ancestors[index - 1])
                if parent is None:
                    return
                try:
                    found = await api.assets.get(ancestor_id, include_shared=self._shared)
                except ApiError as err:
                    self.ctx.show_error(err, title=f"Cannot open the path to {asset.name}")
                    return
                node = tree.add_one(parent, found)
            data = node.data
            if data is not None and not data.loaded and not data.loading:
                outcome = pages.get(ancestor_id)
                if isinstance(outcome, BaseException) or outcome is None:
                    message = error_text(outcome) if isinstance(outcome, BaseException) else "not loaded"
                    tree.load_failed(node, message)
                    node.expand()
                    self.ctx.show_error(message, title=f"Cannot open the path to {asset.name}")
                    return
                tree.add_page(node, outcome[0], outcome[1])
            node.expand()
        parent = tree.by_id[ancestors[-1]]
        tree.add_one(parent, asset)
        tree.select_asset(asset.asset_id)
        self._set_current(asset)
        self._details(asset, delay=False)

    # -- reload, shared, decommissioned ----------------------------------------------------------------
    def action_reload(self) -> None:
        if self._api() is None:
            return
        self._aspects = {}
        if self.view == "types":
            self.types_loaded = False
            self._load_types(show=True)
            return
        self._load_root(keep=True)

    def action_toggle_shared(self) -> None:
        self.include_shared = not self.include_shared
        self._titles()
        self.notify(
            "Assets shared into this tenant are shown (⇄ marks them, with their owner)."
            if self.include_shared
            else "Assets shared into this tenant are hidden.",
            title="Shared assets",
        )
        self._after_toggle()

    def action_toggle_decommissioned(self) -> None:
        self.decommissioned = not self.decommissioned
        self._titles()
        self.notify(
            "Decommissioned (soft-deleted) assets are shown, struck through."
            if self.decommissioned
            else "Decommissioned assets are hidden.",
            title="Decommissioned",
        )
        self._after_toggle()

    def _after_toggle(self) -> None:
        if self.ctx.api is None:
            return
        self.types_loaded = False
        self._load_types(show=self.view == "types")
        self._load_root(keep=True)
        if self.results.display and self._search_filter is not None:
            self._search(self.query_one("#assets-search", SearchBar).value)

    # -- types -----------------------------------------------------------------------------------------
    def action_toggle_types(self) -> None:
        self._show_view("types" if self.view == "tree" else "tree")
        self.show_pane("#assets-left")  # 80x24: the list of types (or the tree) first, then o for details

    def action_close_types(self) -> None:
        self.action_toggle_types()

    def _show_view(self, view: str) -> None:
        self.view = view
        types = view == "types"
        self.query_one("#assets-search", SearchBar).display = False
        self.results.display = False
        self.asset_tree.display = not types
        self.details.display = not types
        self.types_tree.display = types
        self.type_details.display = types
        self._titles()
        self.refresh_bindings()
        if types:
            self.types_tree.focus()
            if self.types_loaded:
                self._type_chosen(self.types_tree.cursor_type)
            else:
                self._load_types(show=True)
        else:
            self.asset_tree.focus()

    @work(exclusive=True, group="assets-types", exit_on_error=False, description="load the types")
    async def _load_types(self, show: bool = False) -> None:
        api = self.ctx.api
        if api is None:
            return
        if show:
            self.type_details.show(None)
        try:
            asset_types = [
                t async for t in api.assets.asset_types(exploded=True, include_shared=self._shared)
            ]
            aspect_types = [t async for t in api.assets.aspect_types(include_shared=self._shared)]
        except ApiError as err:
            if show or self.view == "types":
                self.types_tree.clear()
                self.type_details.show(None)
                self.type_details.show_failed(section_error(err, "types"))
            return
        self.asset_types = {t.id: t for t in asset_types}
        self.aspect_types = {t.id: t for t in aspect_types}
        self.types_loaded = True
        self.types_tree.show(asset_types, aspect_types)
        if self.view == "types":
            self._type_chosen(self.types_tree.cursor_type)

    @on(TypesTree.TypeHighlighted)
    def _type_highlighted(self, message: TypesTree.TypeHighlighted) -> None:
        message.stop()
        self._type_chosen(message.item)

    def _type_chosen(self, item: TypeItem | None) -> None:
        chain = type_chain(self.asset_types, item.id) if isinstance(item, AssetType) else []
        self.type_details.show(item, chain)
        if item is not None:
            self._load_type_assets(item)

    @work(exclusive=True, group="assets-type-assets", exit_on_error=False, description="assets of a type")
    async def _load_type_assets(self, item: TypeItem) -> None:
        await asyncio.sleep(DETAIL_DELAY)
        api = self.ctx.api
        if api is None:
            return
        details = self.type_details
        if isinstance(item, AssetType):
            query: dict[str, Any] = {"hasType": item.id}
            words = f"of type {item.id} or a subtype"
        else:
            users = sorted(
                t.id for t in self.asset_types.values() if any(a.aspect_type_id == item.id for a in t.aspects)
            )
            if not users:
                details.show_assets_count(0, 0, "with this aspect (no asset type uses it)")
                return
            query = {"typeId": {"in": {"value": users}}}
            words = f"with this aspect ({', '.join(users)})"
        try:
            found, total = await api.assets.page(0, TYPE_ASSETS, query, include_shared=self._shared)
        except ApiError as err:
            details.show_assets_failed(section_error(err, "assets"))
            return
        details.asset_list.show(found, total, self.tenant)
        details.show_assets_count(len(found), total, words)

    @on(AssetList.Chosen, "#type-assets")
    def _type_asset_chosen(self, message: AssetList.Chosen) -> None:
        message.stop()
        self.jump_to(message.asset)

    # -- actions on the current asset -------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if super().check_action(action, parameters) is False:  # read-only: no change (AreaScreen)
            return False
        if action in WRITE_ACTIONS:
            if self.view != "tree":
                return False
            asset = self.current
            if asset is None or asset.is_shared or asset.is_deleted:
                return None  # shown, disabled: the service would refuse (RECEIVER, decommissioned)
            if action == "delete" and asset.is_root:
                return None
            return True
        if action in ASSET_ACTIONS:
            if self.view != "tree":
                return False
            return True if self.current is not None else None
        if action == "close_types":
            return self.view == "types"  # escape elsewhere stays the widgets' (search bar, lists)
        return super().check_action(action, parameters)

    def _writable(self, action: str, verb: str) -> Asset | None:
        """The current asset if it may be changed; otherwise None after saying why in plain words."""
        asset = self.current
        if not self.may_change(action):
            return None
        if self.write_refused is not None:
            self.notify(self.write_refused, title="Assets", severity="warning")
            return None
        if asset is None:
            self.notify("No asset selected.", title="Assets", severity="warning")
            return None
        if asset.is_shared:
            self.notify(
                f"{asset.name} is shared into this tenant by tenant {asset.owner_tenant or '?'}: "
                f"it cannot be {verb} here.",
                title="Assets",
                severity="warning",
            )
            return None
        return asset

    def _refused(self, err: ForbiddenError) -> None:
        """A 403 on a write: say it plainly, and refuse further writes without sending them."""
        self.write_refused = (
            "The service refused to change assets for this client (403: no write permission). "
            "Nothing was changed; use a profile whose client may write."
        )
        self.notify(self.write_refused, title="Not allowed", severity="error", timeout=10)
        self.refresh_bindings()

    async def _stale(self, asset: Asset, api: ApiClient) -> None:
        """412: someone else changed the asset. Read it again, show it, and say so; nothing is written."""
        try:
            fresh = await api.assets.get(asset.asset_id, include_shared=self._shared)
        except ApiError as err:
            self.ctx.show_error(err, title="Reload failed")
            return
        self.asset_tree.update_asset(fresh)
        if self.current is not None and self.current.asset_id == fresh.asset_id:
            self._set_current(fresh)
            self._details(fresh, keep=True, delay=False)
        self.notify(
            f"Someone else changed {fresh.name} since it was loaded (etag {asset.etag} → {fresh.etag}). "
            "Nothing was overwritten: the details now show the current version; make your change again.",
            title="Changed elsewhere",
            severity="warning",
            timeout=12,
        )

    def action_chart(self) -> None:
        asset = self.current
        if asset is None:
            return
        target = self.details.aspect_table.target
        if target is None:
            self.notify(f"{asset.name} has no aspect to chart (or they are still loading).", title="Chart")
            return
        self._chart(*target)

    @on(AspectTable.ChartRequested)
    def _chart_requested(self, message: AspectTable.ChartRequested) -> None:
        message.stop()
        self._chart(message.aspect, message.variable)

    def _chart(self, aspect_name: str, variable: str | None) -> None:
        asset = self.current
        aspect = self.details.aspect_table.aspects.get(aspect_name)
        if asset is None or aspect is None:
            return
        if not aspect.is_dynamic:
            self.notify(f"{aspect_name} is a static aspect: it has no time series.", title="Chart")
            return
        variables = (variable,) if variable else ()
        self.ctx.open_area("timeseries", ChartRequest(asset.asset_id, aspect_name, variables, asset.name))

    def action_copy_id(self) -> None:
        asset = self.current
        if asset is None:
            return
        self.app.copy_to_clipboard(asset.asset_id)
        self.notify(f"Asset id of {asset.name} copied (through the terminal, OSC 52).", title="Copied")

    # create ------------------------------------------------------------------------------------------
    def action_create(self) -> None:
        parent = self._writable("create", "given children")
        if parent is not None:
            self._open_create(parent)

    @work(exclusive=True, group="assets-write", exit_on_error=False, description="create an asset")
    async def _open_create(self, parent: Asset) -> None:
        api = self._api()
        if api is None:
            return
        if not self.types_loaded:
            await self._load_types().wait()
        types = [
            t
            for t in self.asset_types.values()
            if t.instantiable and not (t.sharing is not None and "RECEIVER" in t.sharing.modes)
        ]
        if not types:
            self.notify("No instantiable asset type is available.", title="New asset", severity="warning")
            return
        request = await self.app.push_screen_wait(CreateAssetDialog(parent, types))
        if request is None:
            return
        await self._create(api, parent, request)

    async def _create(self, api: ApiClient, parent: Asset, request: CreateRequest) -> None:
        try:
            created = await api.assets.create(
                request.name,
                request.type_id,
                parent.asset_id,
                description=request.description,
                external_id=request.external_id,
                variables=request.variables or None,
            )
        except ForbiddenError as err:
            self._refused(err)
            return
        except ApiError as err:
            self.ctx.show_error(err, title="Asset not created")
            return
        tree = self.asset_tree
        node = tree.by_id.get(parent.asset_id)
        if node is not None and node.data is not None:
            if node.data.total is not None:
                node.data.total += 1
            tree.add_one(node, created)
            node.expand()
            tree.select_asset(created.asset_id)
        self._set_current(created)
        self._details(created, delay=False)
        self.notify(f"Created {created.name} under {parent.name}.", title="New asset")

    # edit --------------------------------------------------------------------------------------------
    def action_edit(self) -> None:
        asset = self._writable("edit", "changed")
        if asset is not None:
            self._open_edit(asset)

    @work(exclusive=True, group="assets-write", exit_on_error=False, description="edit an asset")
    async def _open_edit(self, asset: Asset) -> None:
        api = self._api()
        if api is None:
            return
        patch = await self.app.push_screen_wait(EditAssetDialog(asset))
        if patch is None:
            return
        if not patch:
            self.notify("Nothing changed.", title="Edit")
            return
        try:
            updated = await api.assets.patch(asset.asset_id, _etag(asset), patch)
        except PreconditionFailedError:
            await self._stale(asset, api)
            return
        except ForbiddenError as err:
            self._refused(err)
            return
        except ApiError as err:
            self.ctx.show_error(err, title="Not saved")
            return
        self.asset_tree.update_asset(updated)
        if self.current is not None and self.current.asset_id == updated.asset_id:
            self._set_current(updated)
            self._details(updated, keep=True, delay=False)
        self.notify(f"Saved {updated.name} (etag {updated.etag}).", title="Edit")

    # delete ------------------------------------------------------------------------------------------
    def action_delete(self) -> None:
        asset = self._writable("delete", "deleted")
        if asset is None:
            return
        if asset.is_root:
            self.notify("The root asset cannot be deleted.", title="Delete", severity="warning")
            return
        self._open_delete(asset)

    @work(exclusive=True, group="assets-write", exit_on_error=False, description="delete an asset")
    async def _open_delete(self, asset: Asset) -> None:
        api = self._api()
        if api is None:
            return
        dialog = self.destructive_dialog(
            Destruction.TENANT_DELETE,
            "Delete asset",
            f"Delete {asset.name} ({asset.asset_id})? Insights Hub keeps it as decommissioned; it cannot be "
            "changed or read by this client afterwards.",
            asset.name,
        )
        confirmed = await self.app.push_screen_wait(dialog)
        if not confirmed:
            self.notify("Nothing was deleted.", title="Delete")
            return
        try:
            await api.assets.delete(asset.asset_id, _etag(asset))
        except PreconditionFailedError:
            await self._stale(asset, api)
            return
        except ForbiddenError as err:
            self._refused(err)
            return
        except ConflictError as err:
            self.notify(
                f"{asset.name} was not deleted: {err.message}",
                title="Not deleted",
                severity="warning",
                timeout=10,
            )
            return
        except NotFoundError:
            self.notify(f"{asset.name} no longer exists.", title="Delete", severity="warning")
        except ApiError as err:
            self.ctx.show_error(err, title="Not deleted")
            return
        parent = self.asset_tree.remove_asset(asset.asset_id)
        self.recent = [a for a in self.recent if a.asset_id != asset.asset_id]
        if parent is not None:
            self.asset_tree.move_cursor(parent)
            parent_asset = parent.data.asset if parent.data is not None else None
            if parent_asset is not None:
                self._set_current(parent_asset)
                self._details(parent_asset, delay=False)
        self.notify(f"Deleted {asset.name} (kept as decommissioned by Insights Hub).", title="Delete")

    # -- palette ---------------------------------------------------------------------------------------
    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand(
            "Assets: search", "Search assets by name, type:<id> or a raw filter", self.action_search
        )
        yield PaletteCommand(
            "Assets: hide shared assets" if self.include_shared else "Assets: include shared assets",
            "Assets shared into this tenant by other tenants (includeShared)",
            self.action_toggle_shared,
        )
        yield PaletteCommand(
            "Assets: show the asset tree" if self.view == "types" else "Assets: show types",
            "Asset types by inheritance, aspect types by category",
            self.action_toggle_types,
        )
        yield PaletteCommand(
            "Assets: hide decommissioned" if self.decommissioned else "Assets: show decommissioned",
            "Soft-deleted assets, struck through",
            self.action_toggle_decommissioned,
        )
        yield PaletteCommand("Assets: reload", "Read the tree again, keeping open nodes", self.action_reload)
        for asset in self.recent:
            yield PaletteCommand(
                f"Jump to asset: {asset.name}",
                path_text(asset) or "the root",
                partial(self.jump_to, asset),
                discover=False,
            )


def _pages(data: NodeData | None) -> int:
    return data.pages if data is not None else 1


def _asset_id(data: NodeData | None) -> str | None:
    return data.asset_id if data is not None else None


def _etag(asset: Asset) -> int | str:
    """The etag to send back as ``If-Match`` (reference 2.4: a counter, sent as received)."""
    etag = asset.etag
    if etag is None:
        return "*"  # never sent by this simulator; a service without etags takes any version
    return int(etag) if isinstance(etag, float) else etag
