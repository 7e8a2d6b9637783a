"""The Certificates area's forms at 80x24 (the smallest supported terminal): the fields scroll, the
message and the buttons stay reachable, a refused field is focused and scrolled into view with its message
under it; the folder of a new agent or device certificate is checked before the form closes, so a bad one
keeps the form and what was typed, and nothing reaches the service."""

from __future__ import annotations

import io
import os
from pathlib import Path

from rich.console import Console
from textual.errors import NoWidget
from textual.widget import Widget
from textual.widgets import Button, Input

from tests.ui.test_certificates import dialog, open_certs, register_by_api, reload, select, type_text
from tui.app import IhubApp
from tui.screens.certificate_dialogs import (
    AgentDialog,
    DeviceDialog,
    ExportKeyDialog,
    FormDialog,
    RegisterCaDialog,
    SavePemDialog,
    VerifyCaDialog,
    folder_problem,
)
from tui.widgets.path_input import PathInput

SMALL = (80, 24)


def plain_screen(app: IhubApp) -> str:
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, color_system=None)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def fully_visible(app: IhubApp, widget: Widget) -> bool:
    """The widget is drawn whole on the screen (not clipped by a scroll or by the screen's edge)."""
    try:
        geometry = app.screen.find_widget(widget)
    except NoWidget:  # scrolled out of view, or not displayed
        return False
    region = geometry.region
    return geometry.clip.contains_region(region) and app.screen.region.contains_region(region)


async def tab_to_ok(pilot, app: IhubApp, form: FormDialog) -> None:
    """Tab walks the form down to its OK button; each focused widget, and then both buttons, in view."""
    for _ in range(30):
        await pilot.press("tab")
        await pilot.pause()
        focused = app.focused
        assert focused is not None and fully_visible(app, focused), (type(form).__name__, focused)
        if focused.id == "form-ok":
            break
    else:
        raise AssertionError(f"tab never reached the OK button of {type(form).__name__}")
    await pilot.pause()
    for button in ("form-ok", "form-cancel"):
        assert fully_visible(app, form.query_one(f"#{button}", Button)), (type(form).__name__, button)


async def test_register_ca_at_80x24_shows_the_refused_country_and_the_buttons(
    demo_app: IhubApp, sim, settle
) -> None:
    async with demo_app.run_test(size=SMALL) as pilot:
        await open_certs(demo_app, pilot, settle)
        await pilot.press("r")
        form = await dialog(demo_app, pilot, RegisterCaDialog)
        await type_text(pilot, "Plant 7 CA")
        country = form.query_one("#ca-c", Input)
        country.value = "Germany"
        form.query_one("#ca-cn", Input).focus()  # the field at fault is not the focused one
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert demo_app.screen is form and not sim.state.tenant.ca_certificates
        assert form.error_text == "the country must be a two-letter code such as DE or US"
        assert demo_app.focused is country and country.value == "Germany"
        message = form.query_one("#ca-c-error")
        assert fully_visible(demo_app, country) and fully_visible(demo_app, message)
        assert "the country must be a two-letter code" in plain_screen(demo_app)
        await tab_to_ok(pilot, demo_app, form)  # the buttons are reachable, scrolled into view
        # Fixed, the form goes through.
        country.value = "DE"
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        (resource,) = sim.state.tenant.ca_certificates.values()
        assert resource["name"] == "Plant 7 CA"


async def test_every_certificate_form_fits_80x24_and_tab_reaches_its_buttons(
    demo_app: IhubApp, sim, settle, tmp_path: Path
) -> None:
    async with demo_app.run_test(size=SMALL) as pilot:
        await open_certs(demo_app, pilot, settle)
        forms: list[FormDialog] = [
            RegisterCaDialog(start_folder=str(tmp_path), used_text="0 of 2 used."),
            AgentDialog(folder=str(tmp_path), tenant="demo"),
            DeviceDialog(ca_name="Plant 7 CA", folder=str(tmp_path), tenant="demo"),
            ExportKeyDialog("the CA Plant 7 CA", str(tmp_path / "ca-export.key")),
            VerifyCaDialog(
                "Plant 7 CA",
                "c0ffee" * 8,
                [f"openssl step {n} with a long line of options -out verification.pem" for n in range(8)],
                start_folder=str(tmp_path),
            ),
        ]
        for form in forms:
            demo_app.push_screen(form)
            await pilot.pause()
            await pilot.pause()
            name = type(form).__name__
            if isinstance(form, RegisterCaDialog):
                await tab_to_ok(pilot, demo_app, form)
                await pilot.press("ctrl+t")  # the longer tab
                await pilot.pause()
            await tab_to_ok(pilot, demo_app, form)
            # An empty or wrong form says why, on screen, and the buttons stay reachable.
            for field in form.query(Input):
                if field.password:
                    field.value = "short"
            await pilot.press("ctrl+s")
            await pilot.pause()
            await pilot.pause()
            await settle(demo_app, pilot)
            assert demo_app.screen is form, name
            assert form.error_text and form.error_text.split(":")[0][:30] in plain_screen(demo_app), name
            await tab_to_ok(pilot, demo_app, form)
            form.action_cancel()
            await pilot.pause()


def test_folder_problem_names_what_is_wrong(tmp_path: Path) -> None:
    assert folder_problem(tmp_path) is None
    assert folder_problem(tmp_path / "new" / "deeper") is None  # created by the flow
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert folder_problem(a_file) == f"{a_file} is a file, not a folder"
    assert folder_problem(a_file / "sub") == f"{a_file / 'sub'} cannot be created: {a_file} is a file"
    problem = folder_problem(Path("/proc/nope"))
    assert problem is not None and problem.startswith("cannot create the folder /proc/nope in /proc")
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert (folder_problem(locked) or "").startswith(f"cannot write in the folder {locked}")


async def test_a_bad_agent_folder_keeps_the_form_and_what_was_typed(
    demo_app: IhubApp, sim, settle, tmp_path: Path
) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    async with demo_app.run_test(size=SMALL) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        for bad, reason in (
            ("/proc/nope", "cannot create the folder /proc/nope in /proc"),
            (str(a_file), f"{a_file} is a file, not a folder"),
        ):
            await pilot.press("a")
            form = await dialog(demo_app, pilot, AgentDialog)
            await type_text(pilot, "line-3")
            folder = form.query_one("#agent-folder", PathInput)
            folder.value = bad
            await pilot.press("ctrl+s")
            await settle(demo_app, pilot)
            await pilot.pause()
            assert demo_app.screen is form, bad  # still open
            assert form.error_text.startswith(reason), form.error_text
            message = form.query_one("#agent-folder-error")
            assert message.display and fully_visible(demo_app, message)
            assert demo_app.focused is folder.query_one(Input)
            assert form.query_one("#agent-name", Input).value == "line-3" and folder.value == bad
            assert not sim.state.tenant.agent_certificates  # nothing reached the service
            assert form.query_one("#form-ok", Button).disabled is False
            await pilot.press("escape")
            await pilot.pause()
            assert demo_app.screen is screen


async def test_a_bad_device_folder_keeps_the_form(demo_app: IhubApp, sim, settle, tmp_path: Path) -> None:
    async with demo_app.run_test(size=SMALL) as pilot:
        screen = await open_certs(demo_app, pilot, settle)
        ca_id = await register_by_api(demo_app, "Device CA")
        await reload(screen, demo_app, pilot, settle)
        await select(screen, pilot, f"ca:{ca_id}")
        await pilot.press("i")
        form = await dialog(demo_app, pilot, DeviceDialog)
        await type_text(pilot, "sensor-17")
        folder = form.query_one("#device-folder", PathInput)
        folder.value = "/proc/nope"
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        await pilot.pause()
        assert demo_app.screen is form
        assert form.error_text.startswith("cannot create the folder /proc/nope in /proc")
        assert fully_visible(demo_app, form.query_one("#device-folder-error"))
        assert form.query_one("#device-cn", Input).value == "sensor-17"
        assert not screen.device_rows
        # A good folder then goes through.
        folder.value = str(tmp_path / "devices")
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        assert (tmp_path / "devices" / "sensor-17.key").exists()


async def test_save_pem_and_export_key_to_a_folder_that_takes_no_file_keep_the_dialog(
    demo_app: IhubApp, settle, tmp_path: Path
) -> None:
    """The folder is checked before the dialog closes: the reason is said under the file field and what
    was typed (the passphrases too) stays, so the user only corrects the path."""
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    bad = a_file / "ca.pem"
    async with demo_app.run_test(size=SMALL) as pilot:
        await settle(demo_app, pilot)
        saved: list[object] = []
        save = SavePemDialog("the CA Plant 7 CA", str(bad))
        demo_app.push_screen(save, saved.append)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        await pilot.pause()
        assert demo_app.screen is save and not saved
        assert save.error_text == f"{a_file} is a file, not a folder"
        assert fully_visible(demo_app, save.query_one("#save-path-error"))
        save.query_one("#save-path", PathInput).value = str(tmp_path / "out" / "ca.pem")
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        assert saved == [tmp_path / "out" / "ca.pem"]

        exported: list[object] = []
        export = ExportKeyDialog("the CA Plant 7 CA", str(bad))
        demo_app.push_screen(export, exported.append)
        await pilot.pause()
        export.query_one("#export-pass", Input).value = "correct horse battery"
        export.query_one("#export-pass2", Input).value = "correct horse battery"
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        await pilot.pause()
        assert demo_app.screen is export and not exported
        assert export.error_text == f"{a_file} is a file, not a folder"
        assert export.query_one("#export-pass2", Input).value == "correct horse battery"
        export.query_one("#export-path", PathInput).value = str(tmp_path / "keys" / "ca.key")
        await pilot.press("ctrl+s")
        await settle(demo_app, pilot)
        [request] = exported
        assert getattr(request, "path", None) == tmp_path / "keys" / "ca.key"
