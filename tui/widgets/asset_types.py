"""Types of the Assets area: asset types as their inheritance tree, aspect types by category, and the
details of one type (variables with data types and units, aspects, and the assets that use it).

``TypesTree`` posts ``TypesTree.TypeHighlighted`` when the cursor moves; ``TypeDetails`` shows what the
screen gives it and lists the assets of the type in an ``AssetList`` (Enter jumps to one in the tree).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from tui.api.models import AspectType, AssetType, VariableDefinition
from tui.widgets.asset_details import facts_table
from tui.widgets.asset_lists import AssetList

TypeItem = AssetType | AspectType


def _type_label(item: TypeItem) -> Text:
    label = Text(item.name or item.id)
    label.append(f"  {item.id}", style="dim")
    if isinstance(item, AssetType) and item.instantiable is False:
        label.append("  abstract", style="italic dim")
    if item.sharing is not None and "RECEIVER" in item.sharing.modes:
        label.append(f"  ⇄ {item.tenant_id or 'shared'}", style="magenta")
    return label


class TypesTree(Tree[TypeItem | None]):
    """Asset types by inheritance, aspect types by category."""

    BINDING_GROUP_TITLE = "Types"

    @dataclass
    class TypeHighlighted(Message):
        item: TypeItem | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("types"), None, id=id)
        self.show_root = False
        self.guide_depth = 2
        self.by_id: dict[str, TreeNode[TypeItem | None]] = {}

    def show(self, asset_types: Sequence[AssetType], aspect_types: Sequence[AspectType]) -> None:
        self.clear()
        self.by_id = {}
        ids = {t.id for t in asset_types}
        children: dict[str | None, list[AssetType]] = {}
        for t in asset_types:
            parent = t.parent_type_id if t.parent_type_id in ids else None
            children.setdefault(parent, []).append(t)
        top = self.root.add(
            Text.assemble(("Asset types", "bold"), f" ({len(asset_types)})"), None, expand=True
        )

        def add(node: TreeNode[TypeItem | None], parent: str | None, depth: int) -> None:
            for t in sorted(children.get(parent, []), key=lambda x: x.id):
                has_children = bool(children.get(t.id))
                child = node.add(_type_label(t), t, expand=depth < 6, allow_expand=has_children)
                self.by_id[t.id] = child
                add(child, t.id, depth + 1)

        add(top, None, 0)
        aspects = self.root.add(
            Text.assemble(("Aspect types", "bold"), f" ({len(aspect_types)})"), None, expand=True
        )
        for category in ("dynamic", "static"):
            members = sorted(
                (a for a in aspect_types if (a.category or "").lower() == category), key=lambda a: a.id
            )
            if not members:
                continue
            group = aspects.add(Text(f"{category} ({len(members)})", style="italic"), None, expand=True)
            for a in members:
                self.by_id[a.id] = group.add_leaf(_type_label(a), a)
        others = [a for a in aspect_types if (a.category or "").lower() not in ("dynamic", "static")]
        for a in others:
            self.by_id[a.id] = aspects.add_leaf(_type_label(a), a)
        self.cursor_line = 0

    def select_type(self, type_id: str) -> bool:
        node = self.by_id.get(type_id)
        if node is None:
            return False
        self.move_cursor(node)
        self.call_after_refresh(self.scroll_to_node, node, animate=False)
        return True

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[TypeItem | None]) -> None:
        self.post_message(self.TypeHighlighted(event.node.data))

    @property
    def cursor_type(self) -> TypeItem | None:
        node = self.cursor_node
        return node.data if node is not None else None


def variables_table(variables: Sequence[VariableDefinition]) -> Table | Text:
    if not variables:
        return Text("none", style="dim")
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for column in ("Name", "Data type", "Unit", "QC", "Default", "From"):
        table.add_column(column, no_wrap=column != "Default")
    for v in variables:
        origin = "inherited" if v.inherited else ""
        table.add_row(
            v.name,
            v.data_type or "?",
            v.unit or "",
            "yes" if v.quality_code else "",
            "" if v.default_value is None else str(v.default_value),
            Text(origin, style="dim"),
        )
    return table


class TypeDetails(VerticalScroll):
    """One asset type or aspect type, and the assets that use it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Type"
        self.item: TypeItem | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="type-facts")
        yield Static("Variables", classes="details-heading")
        yield Static("", id="type-variables")
        yield Static("Aspects", classes="details-heading", id="type-aspects-heading")
        yield Static("", id="type-aspects")
        yield Static("Assets of this type", classes="details-heading", id="type-assets-heading")
        yield AssetList(id="type-assets")

    @property
    def asset_list(self) -> AssetList:
        return self.query_one("#type-assets", AssetList)

    def show(self, item: TypeItem | None, chain: Sequence[AssetType] = ()) -> None:
        self.item = item
        facts = self.query_one("#type-facts", Static)
        variables = self.query_one("#type-variables", Static)
        aspects = self.query_one("#type-aspects", Static)
        heading = self.query_one("#type-aspects-heading", Static)
        self.asset_list.clear()
        if item is None:
            self.border_title = "Type"
            facts.update(Text("Choose a type on the left.", style="italic"))
            variables.update("")
            aspects.update("")
            self.set_class(True, "-empty")
            return
        self.set_class(False, "-empty")
        self.border_title = item.name or item.id
        rows: list[tuple[str, str]] = [
            ("Id", item.id),
            ("Name", item.name),
            ("Description", item.description or ""),
        ]
        if isinstance(item, AssetType):
            rows += [
                (
                    "Inherits",
                    " ← ".join(t.id for t in chain[1:]) if len(chain) > 1 else (item.parent_type_id or ""),
                ),
                ("Instantiable", "yes" if item.instantiable else "no (abstract)"),
                ("Scope", item.scope or ""),
            ]
        else:
            rows += [("Category", item.category or ""), ("Scope", item.scope or "")]
        if item.tenant_id:
            rows.append(("Tenant", item.tenant_id))
        facts.update(facts_table(rows))
        variables.update(variables_table(item.variables))
        if isinstance(item, AssetType):
            heading.display = aspects.display = True
            if item.aspects:
                table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
                for column in ("Aspect", "Aspect type", "Category", "From"):
                    table.add_column(column, no_wrap=True)
                for a in item.aspects:
                    category = a.aspect_type.category if a.aspect_type is not None else ""
                    table.add_row(
                        a.name,
                        a.aspect_type_id or "",
                        category or "",
                        Text("inherited" if a.inherited else "", style="dim"),
                    )
                aspects.update(table)
            else:
                aspects.update(Text("none", style="dim"))
        else:
            heading.display = aspects.display = False
        self.query_one("#type-assets-heading", Static).update("Assets of this type: loading…")

    def show_failed(self, message: str) -> None:
        """The types could not be read: say why instead of the details."""
        self.show(None)
        self.query_one("#type-facts", Static).update(Text(f"⚠ {message}", style="red"))

    def show_assets_count(self, shown: int, total: int, words: str) -> None:
        text = f"Assets {words}: {total:,}" + (f" (first {shown:,} listed)" if shown < total else "")
        self.query_one("#type-assets-heading", Static).update(text)

    def show_assets_failed(self, message: str) -> None:
        self.query_one("#type-assets-heading", Static).update(
            Text(f"Assets of this type: ⚠ {message}", style="red")
        )
