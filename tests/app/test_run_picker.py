"""RunPicker: a corrupt snapshot is listed, marked with its reason, and cannot be picked."""

from __future__ import annotations

from textual.app import App
from textual.widgets import OptionList

from vmexit_tui.app.screens.run_picker import PickerEntry, RunPicker

ENTRIES = (
    PickerEntry("builtin:gp-rt-raw", "GP-RT-RAW", "Built-in reference runs"),
    PickerEntry("bad:/x/broken.json", "broken.json", "Snapshots", error="truncated JSON (line 1)"),
    PickerEntry("snap:run:/x/good.json", "run: good (good.json)", "Snapshots"),
)


async def test_a_corrupt_snapshot_is_shown_marked_and_not_pickable():
    app = App[None]()
    picked: list[str | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(RunPicker(ENTRIES, title="Add a run"), picked.append)
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        bad = options.get_option("bad:/x/broken.json")
        assert bad.disabled
        assert "✗ broken.json — unreadable: truncated JSON (line 1)" in str(bad.prompt)
        await pilot.press("down", "down", "down")  # the cursor skips the disabled entry
        assert options.highlighted is not None
        assert options.get_option_at_index(options.highlighted).id == "snap:run:/x/good.json"
        await pilot.press("enter")
        await pilot.pause()
    assert picked == ["snap:run:/x/good.json"]
