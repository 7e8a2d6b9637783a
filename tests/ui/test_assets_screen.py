"""The Assets screen (issue 8 §2, §6) against the in-process simulator: lazy tree with load more, search and
jump, details with latest values and trends, the shared toggle, etag-guarded writes, read-only profiles and
errors shown where they happen."""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest
from textual.widgets import Input, Select
from textual.worker import WorkerCancelled

from tests.conftest import Clock
from tui.app import IhubApp
from tui.config.inputs import InputError
from tui.config.paths import AppPaths
from tui.config.profiles import Profile, ProfileStore
from tui.context import ChartRequest
from tui.devtools.screenshots import FROZEN_TIME
from tui.flows.assets import SPARK_BLOCKS
from tui.messages import AreaRequested
from tui.screens.asset_forms import CreateAssetDialog, EditAssetDialog
from tui.screens.assets import AssetJumpProvider, AssetsScreen
from tui.screens.dialogs import ConfirmDialog
from tui.services import DEMO_LOCAL_URL, Services, SessionSecretStore
from tui.sim.app import create_app
from tui.sim.config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_READONLY_CLIENT_ID,
    DEMO_READONLY_CLIENT_SECRET,
    READ_SCOPES,
    SimClient,
    SimConfig,
    default_clients,
)
from tui.sim.transport import sim_transport
from tui.widgets.asset_tree import AssetTree, Kind

SIZE = (120, 40)
PUMP = "ff0d65e90c1000b7343ac254a953c927"  # Pump ER-1104
LINE = "4edcd35050035f77b7eb4b597514eda8"  # Line ER11
WIDE = "50e4dd7ff9183afec49e7524bf095400"  # 10 000 children with --assets 20000
NO_TS_CLIENT = "demo-ihub-1.0.0-nots"
NO_TS_SECRET = "FAKE-no-timeseries-secret"


class FaultyTransport(httpx.AsyncBaseTransport):
    """The simulator, except that requests whose path contains a key of ``faults`` get that status."""

    def __init__(self, inner: httpx.AsyncBaseTransport, faults: dict[str, int]) -> None:
        self.inner = inner
        self.faults = faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for fragment, status in self.faults.items():
            if fragment in request.url.path:
                body = {"errors": [{"code": "mdsp.core.generic.internalServerError", "message": "boom"}]}
                # Retry-After: 0 lets the client's retries of a 5xx run at once.
                return httpx.Response(status, json=body, headers={"Retry-After": "0"}, request=request)
        return await self.inner.handle_async_request(request)


def make_sim(assets: int = 0):
    clients = [
        *default_clients(),
        SimClient(
            NO_TS_CLIENT, NO_TS_SECRET, tuple(s for s in READ_SCOPES if s.startswith("mdsp:core:asset"))
        ),
    ]
    return create_app(SimConfig(clock=Clock(FROZEN_TIME), clients=clients, assets=assets))


@pytest.fixture
def sim():
    return make_sim()


def build_app(
    sim,
    *,
    client_id: str = DEMO_CLIENT_ID,
    secret: str = DEMO_CLIENT_SECRET,
    read_only: bool = False,
    faults: dict[str, int] | None = None,
) -> IhubApp:
    store = ProfileStore(None)
    store.add(
        Profile(
            name="sim",
            gateway=DEMO_LOCAL_URL,
            token_url=f"{DEMO_LOCAL_URL}/oauth/token",
            client_id=client_id,
            tenant="demo",
            read_only=read_only,
        )
    )
    store.set_default("sim")
    secrets = SessionSecretStore()
    secrets.set("sim", secret)
    rules = faults if faults is not None else {}
    services = Services(
        paths=AppPaths.default(),
        profiles=store,
        secrets=secrets,
        environ={},
        transport_factory=lambda: FaultyTransport(sim_transport(sim), rules),
        clock=Clock(FROZEN_TIME),
    )
    return IhubApp(services, profile="sim")


async def settled(app: IhubApp, pilot, limit: float = 20.0) -> None:
    """Wait for the app's workers; one cancelled by a newer one of its group (the details of an asset the
    cursor left) counts as done."""
    async with asyncio.timeout(limit):
        for _ in range(3):
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:
                continue
            await pilot.pause()


async def wait_for(pilot, condition, limit: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (a worker waiting on a dialog never "completes")."""
    async with asyncio.timeout(limit):
        while not condition():
            await pilot.pause(0.01)


async def open_assets(app: IhubApp, pilot) -> AssetsScreen:
    await settled(app, pilot)
    screen = app.screen
    assert isinstance(screen, AssetsScreen)
    assert screen.asset_tree.root.data is not None and screen.asset_tree.root.data.asset is not None
    return screen


async def jump(screen: AssetsScreen, pilot, asset_id: str) -> None:
    api = screen.ctx.api
    assert api is not None
    asset = await api.assets.get(asset_id, include_shared=True)
    screen.jump_to(asset)
    await settled(screen.app, pilot)


def text_of(widget) -> str:
    """What a Static shows, as plain text (its content may be a Rich table)."""
    from rich.console import Console

    console = Console(width=160, record=True, color_system=None, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def labels(node) -> list[str]:
    return [child.label.plain for child in node.children]


def cell(screen: AssetsScreen, row: str, column: str) -> str:
    value = screen.details.aspect_table.get_cell(row, column)
    return getattr(value, "plain", str(value))


def key_bar(app: IhubApp) -> str:
    from tui.widgets.key_bar import KeyBar

    return app.screen.query_one(KeyBar).plain


# -- the tree ---------------------------------------------------------------------------------------------


async def test_the_tree_starts_at_the_root_with_its_children_and_marks_shared_assets(sim) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        tree = screen.asset_tree
        assert tree.root.label.plain.startswith("demo  core.tenant")
        assert [label.split("  ")[0] for label in labels(tree.root)] == ["Chengdu", "Chicago", "Erlangen"]
        await jump(screen, pilot, "6d64957c3c4b8148dcc696944e19d6a2")  # Hall CH1, shared out
        assert "⇆ shared" in tree.cursor_node.label.plain
        assert screen.details.asset.asset_id == "6d64957c3c4b8148dcc696944e19d6a2"


async def test_expand_shows_loading_then_a_page_and_load_more_then_all() -> None:
    sim = make_sim(assets=20000)
    app = build_app(sim)
    seen: list[list[Kind]] = []  # the node's children when each page was asked for

    def hook(message) -> None:
        if isinstance(message, AssetTree.LoadRequested):
            seen.append([c.data.kind for c in message.node.children])

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await open_assets(app, pilot)
        tree = screen.asset_tree
        api = screen.ctx.api
        wide = await api.assets.get(WIDE)
        await jump(screen, pilot, WIDE)
        node = tree.by_id[WIDE]
        assert wide.name == "Wide" and not node.is_expanded
        seen.clear()
        await pilot.press("enter")  # expand: a dim "loading…" leaf while the page is read
        await settled(app, pilot)
        assert seen and all(kinds == [Kind.LOADING] for kinds in seen)  # (once per DOM hop)
        children = node.children
        assert sum(c.data.kind is Kind.ASSET for c in children) == 200
        assert children[-1].data.kind is Kind.MORE
        assert "load more (9,800 remaining)" in children[-1].label.plain
        # Enter on "load more": the next page.
        tree.select_asset(children[-1].data.parent_id)  # back on Wide, then down to the last line
        tree.move_cursor(children[-1])
        await pilot.press("enter")
        await settled(app, pilot)
        assert sum(c.data.kind is Kind.ASSET for c in node.children) == 400
        assert "9,600 remaining" in node.children[-1].label.plain
        # L: every remaining child, never the rest of the tenant.
        await pilot.press("L")
        await settled(app, pilot)
        names = [c.data.asset.name for c in node.children if c.data.kind is Kind.ASSET]
        assert len(names) == len(set(names)) == 10_000
        assert names == sorted(names)
        assert node.children[-1].data.kind is Kind.ASSET
        assert len(tree.by_id) < 10_300  # the generated Tree and Deep parts were never read


async def test_a_failed_page_is_said_in_place_and_enter_retries(sim) -> None:
    faults: dict[str, int] = {}
    app = build_app(sim, faults=faults)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        tree = screen.asset_tree
        faults["/assets"] = 500  # every Asset Management listing now fails
        erlangen = next(c for c in tree.root.children if c.label.plain.startswith("Erlangen"))
        tree.move_cursor(erlangen)
        await pilot.press("enter")
        await settled(app, pilot)
        [leaf] = erlangen.children
        assert leaf.data.kind is Kind.ERROR
        assert "could not load" in leaf.label.plain and "internal error" in leaf.label.plain
        assert "Traceback" not in leaf.label.plain
        faults.clear()
        tree.move_cursor(leaf)
        await pilot.press("enter")
        await settled(app, pilot)
        assert [c.data.kind for c in erlangen.children] == [Kind.ASSET] * 3
        assert app.is_running


async def test_reload_keeps_open_nodes_and_the_cursor(sim) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, PUMP)
        opened = screen.asset_tree.expanded_ids()
        assert LINE in opened
        sim.state.tenant.assets[PUMP].name = "Pump ER-1104 (renamed)"  # changed elsewhere
        sim.state.tenant.version += 1
        await pilot.press("r")
        await settled(app, pilot)
        tree = screen.asset_tree
        assert tree.expanded_ids() == opened
        assert tree.cursor_asset.asset_id == PUMP
        assert tree.cursor_node.label.plain.startswith("Pump ER-1104 (renamed)")


# -- search and jump --------------------------------------------------------------------------------------


async def test_search_lists_hits_with_their_path_and_enter_jumps_to_the_hit(sim) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        await pilot.press("slash")
        await pilot.press(*"pump er-11", "enter")  # any usual case
        await settled(app, pilot)
        results = screen.results
        assert results.display and not screen.asset_tree.display
        rows = [
            [str(getattr(c, "plain", c)) for c in results.get_row_at(i)] for i in range(results.row_count)
        ]
        assert rows[0][0] == "Pump ER-1104"
        assert rows[0][2] == "demo › Erlangen › Hall ER1 › Line ER11"
        assert "2 hits" in results.border_title
        await pilot.press("enter")
        await settled(app, pilot)
        tree = screen.asset_tree
        assert tree.display and not results.display
        assert tree.cursor_asset.asset_id == PUMP
        assert {LINE, "9d1085c6a86d03d73466d2b2f814e22c"} <= set(tree.expanded_ids())
        assert screen.details.asset.asset_id == PUMP


async def test_search_by_type_includes_subtypes_and_a_bad_filter_is_explained(sim) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        screen.action_search()
        screen._search("type:demo.Pump")
        await settled(app, pilot)
        types = {a.type_id for a in screen.results.assets.values()}
        assert types == {"demo.Pump", "demo.DosingPump"}
        screen._search('{"name": ')
        await settled(app, pilot)
        assert screen.results.border_title.startswith("⚠ the filter is not valid JSON")
        screen._search('{"externalId": "SN-1004"}')
        await settled(app, pilot)
        assert list(screen.results.assets) == [PUMP]
        await pilot.press("escape")
        assert screen.asset_tree.display and not screen.results.display


async def test_a_search_pasted_with_an_invisible_character_says_which(sim) -> None:
    """Issue 7 section 5: a name copied with a zero-width space matched nothing, silently."""
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        screen.action_search()
        screen._search("Pump ER-1104\u200b")
        await settled(app, pilot)
        assert screen.results.border_title == (
            "⚠ the search contains an invisible character, U+200B, at position 13"
        )
        screen._search("\ufeff Pump ER-1104 ")  # a leading BOM and surrounding spaces are dropped
        await settled(app, pilot)
        assert list(screen.results.assets) == [PUMP]
        with pytest.raises(InputError, match=r"U\+00A0, at position 5"):
            await screen.find_assets("Pump\u00a0ER")  # the palette's search, told as a hit


async def test_jump_to_a_hit_eight_levels_deep_opens_its_whole_path() -> None:
    sim = make_sim(assets=20000)
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        screen.action_search()
        screen._search("Level 08")
        await settled(app, pilot)
        [hit] = screen.results.assets.values()
        assert len(hit.hierarchy_path) == 10
        await pilot.press("enter")
        await settled(app, pilot)
        tree = screen.asset_tree
        assert tree.cursor_asset.asset_id == hit.asset_id
        assert set(hit.path_ids[:-1]) <= set(tree.expanded_ids())


async def test_the_palette_jumps_to_an_asset_by_name(sim) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        provider = AssetJumpProvider(screen)
        hits = [hit async for hit in provider.search("er-1104")]
        assert [hit.text for hit in hits] == ["Jump to asset: Pump ER-1104"]
        assert hits[0].help == "demo › Erlangen › Hall ER1 › Line ER11"
        hits[0].command()
        await settled(app, pilot)
        assert screen.asset_tree.cursor_asset.asset_id == PUMP
        # Once visited, the asset is also among the area's own palette commands.
        titles = [c.title for c in app.palette_commands()]
        assert "Jump to asset: Pump ER-1104" in titles and "Assets: search" in titles


# -- details ----------------------------------------------------------------------------------------------


async def test_details_show_facts_static_values_latest_values_and_trends(sim) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, PUMP)
        details = screen.details
        facts = text_of(details.query_one("#details-facts"))
        assert "Pump ← Machine ← core.basicdevice ← core.basicasset" in facts
        assert "49.59080, 11.00490" in facts and "Europe/Berlin" in facts and "SN-1004" in facts
        rows = {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in facts.splitlines() if line}
        assert rows["Path"] == "demo › Erlangen › Hall ER1 › Line ER11 › Pump ER-1104"
        assert rows["Asset id"] == PUMP and rows["Twin type"] == "performance"
        assert rows["Location"].startswith("Demo Str. 1, Building 1") and "91052 Erlangen" in rows["Location"]
        assert rows["Etag"] == "0" and rows["Sharing"] == "not shared"
        assert cell(screen, "Vibration/velocityRms", "type") == "DOUBLE mm/s"  # data type and unit
        variables = text_of(details.query_one("#details-variables"))
        assert "ratedFlow" in variables and "100 m3/h" in variables
        assert cell(screen, "Vibration", "value") == "at 08:00:00Z"  # the frozen clock: 2025-06-16 08:00Z
        velocity = cell(screen, "Vibration/velocityRms", "value")
        assert velocity.endswith(" mm/s") and float(velocity.split()[0]) > 0
        assert cell(screen, "Vibration/velocityRms", "quality") == "good"
        assert cell(screen, "Vibration/zone", "quality") == "—"  # no quality code
        trend = cell(screen, "Vibration/velocityRms", "trend")
        assert len(trend) == 12 and set(trend) <= set(SPARK_BLOCKS) and len(set(trend)) > 2
        assert cell(screen, "Nameplate/year", "value") == "2021"
        assert cell(screen, "Maintenance/ratedPower", "value") == "30 kW"
        assert not details.problems


async def test_no_time_series_permission_is_said_in_its_section_and_the_rest_stays(sim) -> None:
    app = build_app(sim, client_id=NO_TS_CLIENT, secret=NO_TS_SECRET)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, PUMP)
        details = screen.details
        problems = text_of(details.query_one("#details-problems"))
        assert "latest values of" in problems and "no permission to read time series" in problems
        assert "no permission to read aggregates" in problems
        assert cell(screen, "Vibration", "value").startswith("⚠ no permission to read time series")
        assert cell(screen, "Nameplate/year", "value") == "2021"  # static values still there
        assert "Pump ← Machine" in text_of(details.query_one("#details-facts"))


async def test_404_and_500_are_shown_in_the_section_they_hit(sim) -> None:
    faults: dict[str, int] = {"/iottsaggregates/": 500}
    app = build_app(sim, faults=faults)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, PUMP)
        problems = text_of(screen.details.query_one("#details-problems"))
        assert "24 h trend of" in problems and "could not read aggregates" in problems
        assert cell(screen, "Vibration/velocityRms", "quality") == "good"  # latest values unaffected
        # The asset disappears on the server: its aspects answer 404, the facts stay.
        sim.state.tenant.assets[LINE].deleted = "2025-06-16T07:00:00.000Z"
        assert screen.asset_tree.select_asset(LINE)  # still in the tree from the jump above
        await settled(app, pilot)
        note = text_of(screen.details.query_one("#details-aspects-note"))
        assert note.startswith("⚠ no aspects found") and "not found" in note
        assert "Line ER11" in text_of(screen.details.query_one("#details-facts"))
        assert app.is_running


async def test_c_opens_the_highlighted_variable_in_time_series(sim, recorder) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, PUMP)
        table = screen.details.aspect_table
        table.focus()
        table.move_cursor(row=table.get_row_index("Vibration/velocityRms"))
        await pilot.press("c")
        await settled(app, pilot)
        [request] = [m.request for m in recorder.of(AreaRequested)]
        assert request == ChartRequest(PUMP, "Vibration", ("velocityRms",), "Pump ER-1104")
        assert app.current_mode == "timeseries"


async def test_c_on_an_aspect_charts_its_variables_and_a_static_one_is_refused(sim, recorder) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, PUMP)
        table = screen.details.aspect_table
        table.focus()
        # A static aspect has no time series: said in place, the area stays.
        table.move_cursor(row=table.get_row_index("Maintenance"))
        await pilot.press("c")
        await settled(app, pilot)
        assert recorder.of(AreaRequested) == [] and app.current_mode == "assets"
        assert any("static aspect" in str(n.message) for n in recorder.notifications())
        # The aspect's header row: the whole aspect (no variable named: the area charts its numeric ones).
        table.move_cursor(row=table.get_row_index("Vibration"))
        await pilot.press("c")
        await settled(app, pilot)
        [request] = [m.request for m in recorder.of(AreaRequested)]
        assert request == ChartRequest(PUMP, "Vibration", (), "Pump ER-1104")
        assert app.current_mode == "timeseries"


# -- shared assets ----------------------------------------------------------------------------------------


async def test_the_shared_toggle_shows_received_assets_marked_and_read_only(sim) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        assert not any("Supplier Equipment" in label for label in labels(screen.asset_tree.root))
        await pilot.press("s")
        await settled(app, pilot)
        tree = screen.asset_tree
        supplier = next(c for c in tree.root.children if c.label.plain.startswith("Supplier Equipment"))
        assert "⇄ supplier" in supplier.label.plain
        assert "+ shared" in screen.query_one("#assets-left").border_title
        tree.move_cursor(supplier)
        await settled(app, pilot)
        facts = text_of(screen.details.query_one("#details-facts"))
        assert "shared into this tenant by tenant supplier (RECEIVER)" in facts
        for action in ("edit", "delete", "create"):
            assert screen.check_action(action, ()) is None  # shown, disabled
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, EditAssetDialog)
        await pilot.press("s")
        await settled(app, pilot)
        assert not any("Supplier Equipment" in label for label in labels(screen.asset_tree.root))


# -- writes -----------------------------------------------------------------------------------------------


async def test_a_stale_etag_edit_reloads_says_so_and_overwrites_nothing(sim, recorder) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, PUMP)
        server = sim.state.tenant.assets[PUMP]
        server.description, server.etag = "changed by a colleague", server.etag + 1  # someone else
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, EditAssetDialog)
        dialog.query_one("#description", Input).value = "my change"
        await pilot.click("#ok")
        await settled(app, pilot)
        assert server.description == "changed by a colleague"
        assert server.etag == 1
        [warning] = [n for n in recorder.notifications("warning") if n.title == "Changed elsewhere"]
        assert (
            "Someone else changed Pump ER-1104" in warning.message
            and "Nothing was overwritten" in warning.message
        )
        assert screen.current.description == "changed by a colleague" and screen.current.etag == 1
        assert "changed by a colleague" in text_of(screen.details.query_one("#details-facts"))
        # The next edit starts from the current version and succeeds.
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#description", Input).value = "my change"
        await pilot.click("#ok")
        await settled(app, pilot)
        assert server.description == "my change" and server.etag == 2


async def test_create_a_child_from_a_type_and_delete_it_with_a_typed_confirmation(sim) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, LINE)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CreateAssetDialog))
        dialog = app.screen
        assert isinstance(dialog, CreateAssetDialog)
        dialog.query_one("#type", Select).value = "demo.Pump"
        await pilot.pause()
        dialog.query_one("#name", Input).value = "Pump ER-1199"
        dialog.query_one("#var-1", Input).value = "not a number"  # ratedFlow is DOUBLE
        await pilot.click("#ok")
        await pilot.pause()
        assert app.screen is dialog
        assert "must be a number" in text_of(dialog.query_one("#form-error"))
        field = dialog.query_one("#var-1", Input)
        field.value = "150"
        field.focus()
        await pilot.press("enter")  # Enter in any field submits the form
        await settled(app, pilot)
        tree = screen.asset_tree
        created = tree.cursor_asset
        assert created.name == "Pump ER-1199" and created.parent_id == LINE
        assert sim.state.tenant.assets[created.asset_id].variables[-1] == {
            "name": "ratedFlow",
            "value": "150",
        }
        # Delete: the button stays off until the name is typed exactly.
        await pilot.press("delete")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.typed == "Pump ER-1199"
        await pilot.press(*"Pump ER-11")
        assert dialog.query_one("#confirm").disabled
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and sim.state.tenant.assets[created.asset_id].deleted is None
        await pilot.press(*"99", "enter")
        await settled(app, pilot)
        assert sim.state.tenant.assets[created.asset_id].deleted is not None
        assert created.asset_id not in tree.by_id
        assert tree.cursor_asset.asset_id == LINE


async def test_a_read_only_profile_has_no_write_action(sim) -> None:
    app = build_app(sim, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, PUMP)
        bar = key_bar(app)
        assert "Edit" not in bar and "New" not in bar and "Delete" not in bar and "Search" in bar
        for action in ("create", "edit", "delete"):
            assert screen.check_action(action, ()) is False
        for key in ("n", "e", "delete", "x"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen
        from tui.screens.help import help_sections

        words = " ".join(text for section in help_sections(app, screen) for _k, text in section.entries)
        assert "Edit name" not in words and "Delete the asset" not in words and "Search by name" in words


async def test_a_403_on_a_write_is_said_plainly_and_later_writes_are_refused_unsent(sim, recorder) -> None:
    app = build_app(sim, client_id=DEMO_READONLY_CLIENT_ID, secret=DEMO_READONLY_CLIENT_SECRET)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, PUMP)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#name", Input).value = "Renamed"
        await pilot.click("#ok")
        await settled(app, pilot)
        assert sim.state.tenant.assets[PUMP].name == "Pump ER-1104"
        [error] = [n for n in recorder.notifications("error") if n.title == "Not allowed"]
        assert "403" in error.message and "Nothing was changed" in error.message
        await pilot.press("e")
        await pilot.pause()
        assert app.screen is screen  # refused without a dialog, in words
        assert recorder.notifications("warning")[-1].message == error.message


async def test_edit_changes_name_external_id_and_location_and_refuses_a_bad_latitude(sim) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, PUMP)
        server = sim.state.tenant.assets[PUMP]
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, EditAssetDialog)
        assert dialog.query_one("#externalId", Input).value == "SN-1004"
        dialog.query_one("#name", Input).value = "Pump ER-1104 A"
        dialog.query_one("#externalId", Input).value = "SN-2004"
        latitude = dialog.query_one("#latitude", Input)
        latitude.value = "91"  # beyond the pole
        latitude.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and server.name == "Pump ER-1104"
        assert "between -90 and 90" in text_of(dialog.query_one("#form-error"))
        latitude.value = "49.6"
        dialog.query_one("#locality", Input).value = "Fürth"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        await settled(app, pilot)
        assert (server.name, server.externalId, server.etag) == ("Pump ER-1104 A", "SN-2004", 1)
        assert server.location["latitude"] == 49.6 and server.location["locality"] == "Fürth"
        assert server.location["longitude"] == pytest.approx(11.0049)  # the fields not edited stay
        assert screen.asset_tree.cursor_node.label.plain.startswith("Pump ER-1104 A")
        facts = text_of(screen.details.query_one("#details-facts"))
        assert "SN-2004" in facts and "Fürth" in facts


async def test_y_copies_the_asset_id(sim, recorder) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        screen = await open_assets(app, pilot)
        await jump(screen, pilot, PUMP)
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == PUMP
        assert any("Pump ER-1104" in n.message for n in recorder.notifications() if n.title == "Copied")


async def test_decommissioned_assets_are_shown_struck_through_on_d_and_cannot_be_changed(sim) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        tree = screen.asset_tree

        def erlangen():
            return next(c for c in tree.root.children if c.label.plain.startswith("Erlangen"))

        tree.move_cursor(erlangen())
        await pilot.press("enter")
        await settled(app, pilot)
        assert not any("Retired" in label for label in labels(erlangen()))
        await pilot.press("d")
        await settled(app, pilot)
        assert "+ decommissioned" in screen.query_one("#assets-left").border_title
        [retired] = [c for c in erlangen().children if c.label.plain.startswith("Retired Pump ER-0")]
        assert "✝ decommissioned" in retired.label.plain
        assert any("strike" in str(span.style) for span in retired.label.spans)
        tree.move_cursor(retired)
        await settled(app, pilot)
        assert "2024-03-15T08:00:00.000Z" in text_of(screen.details.query_one("#details-facts"))
        for action in ("edit", "delete", "create"):
            assert screen.check_action(action, ()) is None  # shown, disabled
        await pilot.press("d")
        await settled(app, pilot)
        assert not any("Retired" in label for label in labels(erlangen()))


# -- types ------------------------------------------------------------------------------------------------


async def test_types_view_shows_the_inheritance_and_the_assets_of_a_type(sim) -> None:
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_assets(app, pilot)
        await pilot.press("t")
        await settled(app, pilot)
        types = screen.types_tree
        assert types.display and not screen.asset_tree.display
        node = types.by_id["demo.DosingPump"]
        assert node.parent.data.id == "demo.Pump" and node.parent.parent.data.id == "demo.Machine"
        types.select_type("demo.Pump")
        await settled(app, pilot)
        details = screen.type_details
        assert "ratedFlow" in text_of(details.query_one("#type-variables"))
        assets = details.asset_list.assets.values()
        assert {a.type_id for a in assets} == {"demo.Pump", "demo.DosingPump"}
        assert "of type demo.Pump or a subtype" in text_of(details.query_one("#type-assets-heading"))
        types.select_type("demo.PumpVibration")  # an aspect type: the assets of the types that use it
        await settled(app, pilot)
        assert PUMP in details.asset_list.assets
        details.asset_list.focus()
        details.asset_list.move_cursor(row=details.asset_list.get_row_index(PUMP))
        await pilot.press("enter")
        await settled(app, pilot)
        assert screen.view == "tree" and screen.asset_tree.cursor_asset.asset_id == PUMP


async def test_not_connected_says_so_instead_of_a_tree(sim) -> None:
    app = build_app(sim, secret="FAKE-wrong-secret-here")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        screen = app.screen
        assert isinstance(screen, AssetsScreen)
        assert (
            screen.note_text.startswith("Not connected:")
            and "rejected the client id or secret" in screen.note_text
        )
        assert not screen.asset_tree.display
        assert app.is_running
