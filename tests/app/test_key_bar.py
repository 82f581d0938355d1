"""KeyBar: the footer shows the keys that apply now, repaints when they change, and a click
on a key presses it."""

from __future__ import annotations

from pathlib import Path

from tests.app.helpers import Gate, feed, make_app, wait_for
from vmexit_tui.app.widgets.exit_table import ExitTable
from vmexit_tui.app.widgets.key_bar import KeyBar


def _drawn(bar: KeyBar) -> str:
    return "".join(strip.text for strip in bar.render_lines(bar.size.region))


async def test_the_bar_repaints_when_the_keys_change_and_a_click_presses_a_key(tmp_path: Path):
    gate = Gate()
    app = make_app(tmp_path, gate)
    async with app.run_test(size=(120, 30)) as pilot:
        await feed(pilot, app, gate, 1)
        bar = app.screen.query_one(KeyBar)
        drawn = _drawn(bar)
        assert "space Stop" in drawn and "s Sort" in drawn and "q Quit" in drawn
        assert "Record" not in drawn
        table = app.query_one(ExitTable)
        before = table.sort_column
        x = drawn.index("s Sort")
        await pilot.click(KeyBar, offset=(x + 2, 0))
        assert table.sort_column != before  # the click pressed s
        first = app.current
        await pilot.press("space")
        await wait_for(pilot, lambda: first.ended is not None)
        await pilot.pause()
        assert "space Record" in _drawn(bar) and "Stop" not in _drawn(bar)
