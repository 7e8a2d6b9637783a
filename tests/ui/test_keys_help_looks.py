"""Keys, help and looks (issue 12 §1, §4): the binding table, the palette, the help by purpose, keymaps
and themes from settings.toml, panes folded on a narrow terminal."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import partial

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import tui
from tui.app import IhubApp
from tui.areas import AREAS
from tui.bindings import BINDING_PURPOSES, PURPOSES, check_keymap, key_problem
from tui.config.settings import Settings
from tui.screens.base import AreaScreen
from tui.screens.help import HelpScreen
from tui.widgets.key_bar import KeyBar

SIZE = (120, 36)
SKIPPED = (
    "tui.__main__",
    "tui.cli",
    "tui.sim",
    "tui.api",
    "tui.proxy",
    "tui.devtools",
    "tui.pki",
    "tui.flows",
)


def code_bindings() -> dict[str, list[tuple[str, Binding]]]:
    """Every Binding declared by a class of ihub: id -> [(class, binding)]; None collects those without id."""
    found: dict[str, list[tuple[str, Binding]]] = {}
    for info in pkgutil.walk_packages(tui.__path__, "tui."):
        if info.name.startswith(SKIPPED):
            continue
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if inspect.isclass(cls) and issubclass(cls, DOMNode) and cls.__module__ == module.__name__:
                for binding in cls.__dict__.get("BINDINGS", []):
                    assert isinstance(binding, Binding), (cls, binding)
                    found.setdefault(binding.id, []).append((cls.__name__, binding))
    from tui.screens.base import OTHER_PANE

    found.setdefault(OTHER_PANE.id, [])
    return found


def test_every_binding_has_an_id_and_a_purpose() -> None:
    found = code_bindings()
    assert None not in found, found.get(None)  # a keymap can only name bindings that have an id
    assert set(found) == set(BINDING_PURPOSES)  # no binding without a purpose, no stale purpose
    assert set(BINDING_PURPOSES.values()) <= set(PURPOSES)


def test_check_keymap_keeps_good_entries_and_names_each_bad_one() -> None:
    checked = check_keymap(
        {
            "assets.search": "ctrl+f",
            "app.quit": ["q", "ctrl+c"],
            "assets.serch": "x",
            "assets.reload": "ctrl+",
            "ts.zoom_in": 5,
            "keys.add": "hyper+ctrl+nothing",
            "certs.verify": "ctrl + v",
            "app.help": "question_mark,f1",
        }
    )
    assert checked.keymap == {
        "assets.search": "ctrl+f",
        "app.quit": "q,ctrl+c",
        "app.help": "question_mark,f1",
    }
    text = "\n".join(checked.problems)
    assert len(checked.problems) == 5
    assert "'assets.serch' is not a binding id (did you mean assets.search?)" in text
    assert "assets.reload: 'ctrl+' has a modifier but no key" in text
    assert "ts.zoom_in: write the key as text" in text
    assert "keys.add" in text and "no key is called 'nothing'" in text
    assert "certs.verify" in text and "spaces" in text
    assert check_keymap(["not", "a", "table"]).problems and check_keymap(None).problems == []
    for key in ("a", "?", "ctrl+f", "f5", "escape", "delete", "question_mark", "shift+tab", "ctrl+pageup"):
        assert key_problem(key) is None, key


def _covers(command, screen: AreaScreen, action: str) -> bool:
    callback = command.callback
    if isinstance(callback, partial):
        return callback.args[:1] == (action,)
    name = getattr(callback, "__name__", "")
    return getattr(callback, "__self__", None) is screen and name == f"action_{action.split('(')[0]}"


async def test_the_palette_lists_every_action_of_each_area(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        for area in AREAS:
            demo_app.switch_area(area.mode)
            await settle(demo_app, pilot)
            screen = demo_app.screen
            assert isinstance(screen, AreaScreen)
            commands = list(demo_app.palette_commands())
            for _key, binding in screen._bindings:
                if binding.id is None or not (binding.description or binding.tooltip):
                    continue  # Textual's own (tab: focus next)
                name = binding.action.split("(")[0]
                if screen.check_action(name, ()) is not True:
                    continue  # hidden or disabled now (o on a wide terminal, a change without the right)
                assert any(_covers(c, screen, binding.action) for c in commands), (area.mode, binding.id)
            # And the app's own: areas, profile, requests, mouse, help.
            titles = {c.title for c in commands}
            assert {"Go to Assets", "Requests", "Help", "Mouse capture: off"} <= titles


async def test_a_command_made_from_a_key_runs_its_action(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        await pilot.press("1")
        await settle(demo_app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Keys: Token")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(demo_app, pilot)
        assert type(demo_app.screen).__name__ == "TokenDialog"


@pytest.mark.parametrize("area", [a.mode for a in AREAS])
async def test_help_lists_the_area_keys_by_purpose(demo_app: IhubApp, settle, area: str) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        demo_app.switch_area(area)
        await settle(demo_app, pilot)
        screen = demo_app.screen
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(demo_app.screen, HelpScreen)
        sections = demo_app.screen.sections
        assert [s.title for s in sections] == [p for p in PURPOSES if p in {s.title for s in sections}]
        where = {i: s.title for s in sections for i in s.ids if i is not None}
        for _key, binding in screen._bindings:
            if binding.id and screen.check_action(binding.action.split("(")[0], ()) is True:
                assert where.get(binding.id) == BINDING_PURPOSES[binding.id], binding.id


def _services_with_settings(demo_services, tmp_path, text: str):
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    demo_services.preferences = Settings(path)
    return demo_services, path


async def test_hints_in_panes_name_the_remapped_keys(demo_services, tmp_path, settle) -> None:
    services, _path = _services_with_settings(
        demo_services, tmp_path, '[keys]\n"assets.search" = "ctrl+f"\n"ts.pick" = "ctrl+t"\n'
    )
    app = IhubApp(services, profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        left = app.screen.query_one("#assets-left")
        assert str(left.border_subtitle).startswith("^f search · s shared · t types")
        await pilot.press("3")
        await settle(app, pilot)
        screen = app.screen
        assert screen.picker.box.placeholder == "^t: Search assets…"
        assert "Press ^t to pick" in str(screen.query_one("#ts-message").render())


async def test_keymap_from_settings_remaps_keys_and_tells_bad_entries(
    demo_services, tmp_path, settle, recorder
) -> None:
    services, _path = _services_with_settings(
        demo_services,
        tmp_path,
        '[keys]\n"assets.search" = "ctrl+f"\n"assets.serch" = "x"\n"assets.reload" = "ctrl+"\n',
    )
    app = IhubApp(services, profile="demo")
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(app, pilot)
        warnings = recorder.notifications("warning")
        assert len(warnings) == 1 and app.is_running
        assert "assets.serch" in warnings[0].message and "assets.reload" in warnings[0].message
        assert "settings.toml" in warnings[0].message
        assert "^f Search" in app.screen.query_one(KeyBar).plain
        search = app.screen.query_one("#assets-search")
        await pilot.press("slash")
        await pilot.pause()
        assert not search.display  # / no longer searches
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert search.display
        await pilot.press("escape")
        await pilot.press("f1")
        await pilot.pause()
        keys = {i: k for s in app.screen.sections for (k, _t), i in zip(s.entries, s.ids, strict=True)}
        assert keys["assets.search"] == "^f"


async def test_a_clash_made_by_the_keymap_is_told(demo_services, tmp_path, settle, recorder) -> None:
    services, _ = _services_with_settings(demo_services, tmp_path, '[keys]\n"assets.search" = "c"\n')
    app = IhubApp(services, profile="demo")
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        messages = [n.message for n in recorder.notifications("warning")]
        assert any("assets.chart" in m for m in messages), messages


async def test_theme_choice_is_remembered_and_restored(demo_services, tmp_path, settle, recorder) -> None:
    services, path = _services_with_settings(demo_services, tmp_path, "")
    app = IhubApp(services, profile="demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.theme == "textual-dark"
        app.theme = "nord"
        await pilot.pause()
    assert Settings(path).theme == "nord"
    again = IhubApp(services, profile="demo")
    async with again.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(again, pilot)
        assert again.theme == "nord"
        assert recorder.notifications("warning") == []
    path.write_text('[ui]\ntheme = "no-such-theme"\n', encoding="utf-8")
    third = IhubApp(services, profile="demo")
    async with third.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(third, pilot)
        assert third.theme == "textual-dark"
        assert any("no-such-theme" in n.message for n in recorder.notifications("warning"))


async def test_a_broken_settings_file_is_told_and_the_app_runs(demo_services, tmp_path, settle, recorder):
    services, _ = _services_with_settings(demo_services, tmp_path, "[keys\nnot toml")
    app = IhubApp(services, profile="demo")
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await settle(app, pilot)
        assert app.is_running
        assert any("not valid TOML" in n.message for n in recorder.notifications("warning"))


async def test_a_narrow_terminal_folds_side_by_side_panes_behind_o(demo_app: IhubApp, settle) -> None:
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await settle(demo_app, pilot)
        screen = demo_app.screen
        tree, details = screen.query_one("#assets-left"), screen.query_one("#assets-right")
        assert screen.has_class("-narrow", "-short")
        assert tree.display and not details.display
        assert "o Other pane" in screen.query_one(KeyBar).plain
        await pilot.press("o")
        await pilot.pause()
        assert details.display and not tree.display
        # Focus never stays on a folded-away widget (the root has no aspects: nothing to focus there).
        assert screen.focused is None or details in screen.focused.ancestors_with_self
        await pilot.press("o")
        await pilot.pause()
        assert tree.display and not details.display
        # / and t from the details pane bring the tree pane back: nothing is typed into a hidden box.
        await pilot.press("o", "slash")
        await pilot.pause()
        assert tree.display and not details.display and screen.query_one("#assets-search").has_focus
        await pilot.press("escape", "o", "t")
        await settle(demo_app, pilot)
        assert tree.display and not details.display and screen.view == "types"
        await pilot.press("escape")  # leaves the types
        await pilot.pause()
        assert screen.view == "tree"
        # After a dialog on the details pane, focus is never given back into the folded tree pane.
        await pilot.press("o", "p")
        await settle(demo_app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        focused = screen.focused
        assert focused is None or tree not in focused.ancestors_with_self or tree.display
        await pilot.press("slash")
        await pilot.pause()
        assert tree.display and screen.query_one("#assets-search").value == ""
        await pilot.press("escape")
        # Keys: the profile, and after t the connection test, one at a time.
        await pilot.press("1")
        await settle(demo_app, pilot)
        keys = demo_app.screen
        detail, report = keys.query_one("#keys-detail"), keys.query_one("#keys-report")
        assert detail.display and not report.display
        await pilot.press("t")
        await settle(demo_app, pilot)
        assert report.display and not detail.display
        # Wider again: everything side by side, and no o.
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert detail.display and report.display and not keys.has_class("-narrow")
        assert "Other pane" not in keys.query_one(KeyBar).plain
        await pilot.press("2")
        await pilot.pause()
        assert tree.display and details.display


@pytest.mark.parametrize("area", [a.mode for a in AREAS])
async def test_escape_dismisses_the_notifications_where_it_has_no_other_use(
    demo_app: IhubApp, settle, area: str
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(demo_app, pilot)
        demo_app.switch_area(area)
        await settle(demo_app, pilot)
        demo_app.notify("Saved somewhere", title="Exported", timeout=30)
        demo_app.notify("Something failed", severity="error", timeout=30)
        await pilot.pause()
        assert len(demo_app._notifications) == 2
        await pilot.press("question_mark")  # a dialog: escape closes it, the notifications stay
        await settle(demo_app, pilot)
        assert isinstance(demo_app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(demo_app, pilot)
        assert not isinstance(demo_app.screen, HelpScreen)
        assert len(demo_app._notifications) == 2
        await pilot.press("escape")
        await settle(demo_app, pilot)
        assert len(demo_app._notifications) == 0
