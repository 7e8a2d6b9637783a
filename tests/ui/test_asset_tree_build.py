"""``AssetTree._build`` lays out the same lines as Textual's ``Tree._build`` (it is only faster), and leaves
nothing for the garbage collector."""

from __future__ import annotations

import gc
import weakref

from textual.app import App, ComposeResult
from textual.widgets import Tree

from tui.api.models import Asset
from tui.widgets.asset_tree import AssetTree, Kind, NodeData


class TreeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AssetTree(id="tree")


def _asset(i: int, name: str) -> Asset:
    return Asset(asset_id=f"{i:032x}", name=name, type_id="demo.Sensor", tenant_id="demo")


def _layout(tree: AssetTree) -> tuple:
    lines = [(tuple(id(n) for n in line.path), line.last) for line in tree._tree_lines_cached or []]
    numbers = [node._line for node in tree.by_id.values()]
    return lines, numbers, tree.virtual_size, tree.cursor_line


async def test_the_same_lines_numbers_width_and_cursor_as_textual() -> None:
    app = TreeApp()
    async with app.run_test(size=(80, 24)) as pilot:
        tree = app.query_one(AssetTree)
        root = tree.set_root(_asset(0, "demo"))
        root.expand()
        parents = []
        for i in range(1, 4):
            node = root.add(f"Hall {i}", NodeData(Kind.ASSET, _asset(i, f"Hall {i}")), allow_expand=True)
            node.data.loaded = True  # type: ignore[union-attr]
            parents.append(node)
        tree.add_page(parents[0], [_asset(100 + i, f"Pump with a long name {i}") for i in range(300)], 500)
        tree.add_page(parents[2], [_asset(1000 + i, f"Motor {i}") for i in range(20)], 20)
        parents[0].expand()
        deep = tree.by_id[f"{105:032x}"]
        deep.data.loaded = True  # type: ignore[union-attr]
        tree.add_page(deep, [_asset(5000 + i, f"Sensor {i}") for i in range(5)], 5)
        deep.expand()
        parents[2].expand()
        await pilot.pause()
        for show_root, cursor in ((True, 250), (False, 40), (True, 10_000)):
            tree.show_root = show_root
            tree.cursor_line = cursor
            tree._tree_lines_cached = None
            Tree._build(tree)
            expected = _layout(tree)
            tree._tree_lines_cached = None
            tree._build()
            assert _layout(tree) == expected
            assert len(expected[0]) > 300


async def test_a_new_layout_frees_the_previous_lines_at_once() -> None:
    """The lines of one layout die when the next replaces them, not at a collector pass: with 10 000
    children every page laid out 10 000 lines again, and collecting the dead ones stalled "load all"
    for 100-300 ms (issue 8 section 5)."""
    app = TreeApp()
    async with app.run_test(size=(80, 24)) as pilot:
        tree = app.query_one(AssetTree)
        root = tree.set_root(_asset(0, "demo"))
        root.expand()
        root.data.loaded = True  # type: ignore[union-attr]
        tree.add_page(root, [_asset(100 + i, f"Pump {i}") for i in range(50)], 50)
        await pilot.pause()
        gc.disable()
        try:
            tree._build()
            lines = tree._tree_lines_cached or []
            dead = [weakref.ref(line) for line in lines]
            assert len(dead) == 51
            del lines
            tree._build()
            assert all(ref() is None for ref in dead)
        finally:
            gc.enable()
