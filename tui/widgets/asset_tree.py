"""The lazy asset tree of the Assets area: it shows what the screen loads and asks for more by messages.

The tree never loads anything itself (textual-style §4.3). Expanding an asset whose children are not
loaded yet adds a dim "loading…" leaf and posts ``AssetTree.LoadRequested``; the screen fetches a page
(``parentId`` filter) and hands it back with ``add_page``. A node with more children than one page ends in
a "load more (N remaining)" leaf: Enter on it asks for the next page, ``L`` for all the rest. A page that
failed leaves a "could not load" leaf that retries on Enter. Moving the cursor posts ``AssetHighlighted``.

Labels are ``Text`` objects (an asset named ``[x]`` is not markup): the name, marks for assets shared
into the tenant (⇄, with the owner tenant), shared out (⇆) and decommissioned (struck through, ✝), then
the type without the tenant's prefix (dim), which a narrow pane cuts first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.widgets import Tree
from textual.widgets._tree import _TreeLine
from textual.widgets.tree import TreeNode

from tui.api.models import Asset
from tui.flows.assets import short_type


class Kind(Enum):
    ASSET = "asset"
    LOADING = "loading"
    MORE = "more"
    ERROR = "error"
    NOTE = "note"


@dataclass
class NodeData:
    """What a tree node stands for. For LOADING/MORE/ERROR leaves ``parent_id`` is the asset whose
    children they belong to."""

    kind: Kind
    asset: Asset | None = None
    parent_id: str | None = None
    loaded: bool = False  # an asset node: its first page of children is in
    pages: int = 0  # pages of children loaded
    total: int | None = None  # children the service reported
    loading: bool = False
    shown: int = 0  # asset children in the tree (kept here: counting 10 000 children per page is slow)
    width: int = 0  # the label's width in cells, measured once

    @property
    def asset_id(self) -> str | None:
        return self.asset.asset_id if self.asset is not None else None


def asset_label(asset: Asset, tenant: str | None) -> Text:
    """The label of an asset node: name, type, marks."""
    label = Text()
    if asset.is_deleted:
        label.append(asset.name or asset.asset_id, style="strike dim")
        label.append(" ✝ decommissioned", style="italic red")
    else:
        label.append(asset.name or asset.asset_id)
    if asset.is_shared:
        label.append(f" ⇄ {asset.owner_tenant or 'shared'}", style="bold magenta")
    elif asset.is_sharer:
        label.append(" ⇆ shared", style="cyan")
    label.append(f"  {short_type(asset.type_id, tenant)}", style="dim")
    return label


class AssetTree(Tree[NodeData]):
    """The asset hierarchy, loaded page by page on expand."""

    BINDING_GROUP_TITLE = "Asset tree"
    BINDINGS = [
        Binding(
            "L",
            "load_all",
            "Load all",
            id="assets.tree.load_all",
            tooltip="Load every child of the node (its 'load more' line says how many)",
            show=False,
        ),
    ]

    @dataclass
    class LoadRequested(Message):
        """Load page ``page`` of the children of ``node`` (an asset node)."""

        tree: AssetTree
        node: TreeNode[NodeData]
        page: int
        all: bool = False  # every remaining page

    @dataclass
    class AssetHighlighted(Message):
        """The cursor is on an asset (None: on a loading/more leaf, or the tree is empty)."""

        asset: Asset | None

    _batching = False  # class defaults: Tree.__init__ already lays out lines
    _batch_changed = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("assets"), NodeData(Kind.NOTE), id=id)
        self.show_root = True
        self.guide_depth = 2
        self.tenant: str | None = None
        self.by_id: dict[str, TreeNode[NodeData]] = {}

    # Tree.add marks the whole tree for a new layout after every node (a refresh each time: about 0.1 ms,
    # a second for 10 000 children). While a page is added the layout is marked once, at the end.
    def _invalidate(self) -> None:
        if self._batching:
            self._batch_changed = True
            return
        super()._invalidate()

    def _build(self) -> None:
        # Tree._build, in fewer steps per line (one call per node, the width as it goes): the same lines,
        # line numbers and virtual size, in about 60 % of the time. With 10 000 children under one asset
        # each page added lays out every line again (tests/ui/test_asset_tree_build.py compares them).
        lines: list[_TreeLine[NodeData]] = []
        append = lines.append
        label_width = self.get_label_width
        depth = self.guide_depth
        widest = 0

        def walk(
            path: list[TreeNode[NodeData]], children: Sequence[TreeNode[NodeData]], level: int, lasts: bool
        ) -> None:
            nonlocal widest
            indent = level * depth
            final = len(children) - 1
            for index, node in enumerate(children):
                node_path = [*path, node]
                node._line = len(lines)
                append(_TreeLine(node_path, index == final if lasts else True))
                width = label_width(node) + indent
                if width > widest:
                    widest = width
                if node._expanded and node._children:
                    walk(node_path, node._children, level + 1, True)  # noqa: F821 (its cell is emptied below)

        if self.show_root:
            walk([], [self.root], 0, True)
        else:
            walk([], self.root._children, 0, False)
        # ``walk`` calls itself through its closure cell: a reference cycle that would keep the previous
        # build's lines (10 000 lines and their paths) alive until a collector pass, and those passes
        # over hundreds of thousands of dead lines were the longest stalls of "load all" (100-300 ms).
        # Emptying the cell frees every build's lines as soon as the next one replaces them.
        del walk
        self._tree_lines_cached = lines
        self.virtual_size = Size(widest if lines else self.size.width, len(lines))
        if self.cursor_line != -1:
            if self.cursor_node is not None:
                self.cursor_line = self.cursor_node._line
            if self.cursor_line >= len(lines):
                self.cursor_line = -1

    @contextmanager
    def _batch(self) -> Iterator[None]:
        self._batching, self._batch_changed = True, False
        try:
            yield
        finally:
            self._batching = False
            if self._batch_changed:
                super()._invalidate()

    # -- building ----------------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        """An empty tree with one line of text (not connected, root failed)."""
        self.by_id.clear()
        self.reset(Text(text, style="italic"), NodeData(Kind.NOTE))
        self.root.allow_expand = False

    def set_root(self, asset: Asset) -> TreeNode[NodeData]:
        """Start over at ``asset`` (the tenant's root)."""
        self.tenant = asset.tenant_id or asset.name
        self.by_id.clear()
        self.reset(asset_label(asset, self.tenant), NodeData(Kind.ASSET, asset))
        self.root.allow_expand = True
        self.by_id[asset.asset_id] = self.root
        self.cursor_line = 0
        return self.root

    def start_loading(self, node: TreeNode[NodeData]) -> None:
        """Mark ``node`` as loading: a dim "loading…" leaf at the end of its children."""
        data = node.data
        if data is None:
            return
        data.loading = True
        self._drop(node, (Kind.MORE, Kind.ERROR, Kind.LOADING))
        node.add_leaf(Text("loading…", style="dim italic"), NodeData(Kind.LOADING, parent_id=data.asset_id))

    def add_page(
        self, node: TreeNode[NodeData], assets: Sequence[Asset], total: int, pages: int = 1
    ) -> list[TreeNode[NodeData]]:
        """Add a page (or several) of children to ``node``; ``total`` is the count the service reported.

        Assets already in the tree are skipped (a jump may have placed one early). Returns the new nodes.
        """
        data = node.data
        added: list[TreeNode[NodeData]] = []
        if data is None:
            return added
        self._drop(node, (Kind.MORE, Kind.ERROR, Kind.LOADING))
        by_id = self.by_id
        tenant = self.tenant
        with self._batch():
            for asset in assets:
                if asset.asset_id in by_id:
                    continue
                label = asset_label(asset, tenant)
                child = node.add(label, NodeData(Kind.ASSET, asset, width=label.cell_len), allow_expand=True)
                by_id[asset.asset_id] = child
                added.append(child)
        data.shown += len(added)
        data.loaded = True
        data.loading = False
        data.pages += pages
        data.total = total
        self._more_leaf(node)
        if not node.children:
            node.allow_expand = False
            node.collapse()
            node.refresh()
        return added

    def add_one(self, node: TreeNode[NodeData], asset: Asset) -> TreeNode[NodeData]:
        """Place one child under ``node`` before its "load more" leaf (a search hit on a later page)."""
        existing = self.by_id.get(asset.asset_id)
        if existing is not None:
            return existing
        more = _trailing(node)
        label = asset_label(asset, self.tenant)
        child = node.add(
            label,
            NodeData(Kind.ASSET, asset, width=label.cell_len),
            before=more[0] if more else None,
            allow_expand=True,
        )
        self.by_id[asset.asset_id] = child
        if node.data is not None:
            node.data.shown += 1
        node.allow_expand = True
        return child

    def load_failed(self, node: TreeNode[NodeData], message: str) -> None:
        """The page did not come: a leaf saying why; Enter on it tries again."""
        data = node.data
        if data is None:
            return
        data.loading = False
        self._drop(node, (Kind.LOADING, Kind.ERROR))
        node.add_leaf(
            Text.assemble(("⚠ could not load: ", "bold red"), (message, "red"), ("  (enter: retry)", "dim")),
            NodeData(Kind.ERROR, parent_id=data.asset_id),
        )

    def _more_leaf(self, node: TreeNode[NodeData]) -> None:
        data = node.data
        if data is None or data.total is None:
            return
        remaining = data.total - data.shown
        if remaining > 0:
            node.add_leaf(
                Text.assemble(
                    ("load more ", "bold"),
                    (f"({remaining:,} remaining)", ""),
                    ("  enter: next page · L: all", "dim"),
                ),
                NodeData(Kind.MORE, parent_id=data.asset_id),
            )

    def _drop(self, node: TreeNode[NodeData], kinds: Iterable[Kind]) -> None:
        """Remove the node's loading/more/error leaves (they are always its last children)."""
        wanted = set(kinds)
        for child in _trailing(node):
            if child.data is not None and child.data.kind in wanted:
                child.remove()

    def update_asset(self, asset: Asset) -> None:
        """Show a changed asset (after an edit or a reload)."""
        node = self.by_id.get(asset.asset_id)
        if node is None or node.data is None:
            return
        label = asset_label(asset, self.tenant)
        node.data.asset = asset
        node.data.width = label.cell_len
        node.set_label(label)

    def remove_asset(self, asset_id: str) -> TreeNode[NodeData] | None:
        """Take a deleted asset out; returns its parent node (for the cursor)."""
        node = self.by_id.pop(asset_id, None)
        if node is None or node.parent is None:
            return None
        parent = node.parent
        for child_id in _asset_ids_below(node):
            self.by_id.pop(child_id, None)
        node.remove()
        if parent.data is not None:
            parent.data.shown = max(0, parent.data.shown - 1)
            if parent.data.total is not None:
                parent.data.total = max(0, parent.data.total - 1)
        return parent

    # -- state ---------------------------------------------------------------------------------------
    @property
    def cursor_asset(self) -> Asset | None:
        node = self.cursor_node
        return node.data.asset if node is not None and node.data is not None else None

    def expanded_ids(self) -> list[str]:
        """Asset ids of the expanded, loaded nodes, parents before children."""
        found: list[str] = []

        def walk(node: TreeNode[NodeData]) -> None:
            data = node.data
            if data is None or data.kind is not Kind.ASSET or not node.is_expanded or not data.loaded:
                return
            assert data.asset is not None
            found.append(data.asset.asset_id)
            for child in node.children:
                walk(child)

        walk(self.root)
        return found

    def select_asset(self, asset_id: str) -> bool:
        """Move the cursor to an asset already in the tree, opening its ancestors."""
        node = self.by_id.get(asset_id)
        if node is None:
            return False
        parent = node.parent
        while parent is not None:
            if not parent.is_expanded:
                parent.expand()
            parent = parent.parent
        _ = self.last_line  # lay out the lines now, so the node knows its line
        self.move_cursor(node)
        self.call_after_refresh(self.scroll_to_node, node, animate=False)
        return True

    # -- rendering -----------------------------------------------------------------------------------
    def process_label(self, label: str | Text) -> Text:
        # Labels are built as Text here; a plain string is never read as markup (asset names may hold "[").
        if isinstance(label, str):
            return Text(label.splitlines()[0] if label else "")
        return label if "\n" not in label.plain else label.split()[0]

    def get_label_width(self, node: TreeNode[NodeData]) -> int:
        # The default renders every label to measure it; the label's own width plus the toggle icon is
        # the same and keeps a 10 000-child node cheap to lay out.
        data = node.data
        width = data.width if data is not None and data.width else node._label.cell_len
        return width + (len(self.ICON_NODE) if node._allow_expand else 0)

    # -- events --------------------------------------------------------------------------------------
    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        node = event.node
        data = node.data
        if data is None or data.kind is not Kind.ASSET or data.loaded or data.loading:
            return
        self.start_loading(node)
        self.post_message(self.LoadRequested(self, node, 0))

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        node = event.node
        data = node.data
        if data is None or data.kind not in (Kind.MORE, Kind.ERROR) or node.parent is None:
            return
        event.stop()
        self._request_next(node.parent)

    def _request_next(self, parent: TreeNode[NodeData], every: bool = False) -> None:
        data = parent.data
        if data is None or data.loading:
            return
        self.start_loading(parent)
        self.post_message(self.LoadRequested(self, parent, data.pages, all=every))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        data = event.node.data
        self.post_message(self.AssetHighlighted(data.asset if data is not None else None))

    def _remaining(self, node: TreeNode[NodeData] | None) -> int:
        """Children of ``node`` the service reported but the tree does not show yet."""
        data = node.data if node is not None else None
        if data is None or not data.loaded or data.total is None:
            return 0
        return data.total - data.shown

    def action_load_all(self) -> None:
        """Every child of the node under the cursor; on a child of a node with more to load (or on its
        "load more" line), every child of that node."""
        node = self.cursor_node
        if node is None or node.data is None:
            return
        if node.data.kind is not Kind.ASSET or (not self._remaining(node) and self._remaining(node.parent)):
            node = node.parent
        if node is None or node.data is None:
            return
        data = node.data
        if data.loaded and data.total is not None and data.shown >= data.total:
            self.notify("Every child of this asset is loaded.", title="Assets")
            return
        if not data.loaded and not data.loading:
            self.start_loading(node)  # marked first, so the expand below does not ask for page 0 again
            node.expand()
            self.post_message(self.LoadRequested(self, node, 0, all=True))
            return
        node.expand()
        self._request_next(node, every=True)


def _asset_ids_below(node: TreeNode[NodeData]) -> list[str]:
    found: list[str] = []
    for child in node.children:
        if child.data is not None and child.data.asset is not None:
            found.append(child.data.asset.asset_id)
        found.extend(_asset_ids_below(child))
    return found


def _trailing(node: TreeNode[NodeData]) -> list[TreeNode[NodeData]]:
    """The loading/more/error leaves at the end of a node's children (asset children come first)."""
    children = node.children
    found: list[TreeNode[NodeData]] = []
    index = len(children) - 1
    while index >= 0:
        child = children[index]
        if child.data is not None and child.data.kind is Kind.ASSET:
            break
        found.insert(0, child)
        index -= 1
    return found
