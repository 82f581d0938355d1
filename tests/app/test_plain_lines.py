"""PlainLines: the exit table's lines rendered directly are the lines Textual's styles cache
makes of them, and a box style (padding, border) sends rendering back to Textual."""

from __future__ import annotations

import gc

import pytest
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from tests.app.helpers import wide_interval
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import RunAccumulator
from vmexit_tui.app.widgets.exit_table import ExitTable
from vmexit_tui.app.widgets.plain_lines import Line


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ExitTable()


async def _table(pilot) -> ExitTable:
    table = pilot.app.query_one(ExitTable)
    acc = RunAccumulator()
    acc.add(wide_interval(0, 30))
    table.show(acc, EventKind.VMEXIT)
    await pilot.pause()
    return table


def _both(table: ExitTable, crop: Region) -> tuple[list, list]:
    table._styles_cache.clear()
    return table.render_lines(crop), Widget.render_lines(table, crop)


@pytest.mark.parametrize("no_color", [False, True])  # NO_COLOR: the app's line filters
async def test_direct_lines_are_what_the_styles_cache_makes(no_color, monkeypatch):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    async with _TableApp().run_test(size=(60, 24)) as pilot:
        assert bool(pilot.app.no_color) == no_color
        table = await _table(pilot)
        view = table.scrollable_content_region  # the rest is under the scrollbars
        assert view.width < table.size.width and view.height < 30  # both scrollbars shown
        for crop in (view, Region(5, 2, 40, 6)):  # whole, and a part of it
            direct, textual = _both(table, crop)
            textual = [s.crop(0, crop.width) for s in textual]
            assert [list(s) for s in direct] == [list(s) for s in textual]
            assert {s.cell_length for s in direct} == {crop.width}


async def test_a_box_style_falls_back_to_textual():
    async with _TableApp().run_test(size=(60, 24)) as pilot:
        table = await _table(pilot)
        table.styles.padding = (0, 2)
        table.styles.border = ("round", "red")
        await pilot.pause()
        lines = table.render_lines(table.size.region)
        assert lines[0].text.startswith("╭") and lines[1].text.startswith("│  ")


def test_a_line_divided_at_its_end_is_freed_without_the_cyclic_collector():
    """Why `Line` exists: Textual's Strip keeps `[self]` in its own divide cache, a cycle.
    Should Textual stop doing that, the last assertion fails and `Line` can go."""

    def draw_and_drop(cls: type[Strip]) -> list[str]:
        line = cls([Segment("abc")], 3)
        assert line.divide([3]) == [line]
        return [s.text for s in line.divide([1, 3])]

    gc.collect()
    gc.disable()
    try:
        assert draw_and_drop(Line) == ["a", "bc"]
        assert gc.collect() == 0  # freed by reference counts alone
        draw_and_drop(Strip)
        assert gc.collect() > 0  # a cycle: garbage until the collector runs
    finally:
        gc.enable()
