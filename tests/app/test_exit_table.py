"""ExitTable: rows change only where their text changed; lines come from a cache; the
order follows the sort column and the cursor stays on its reason."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.app.helpers import wide_interval
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import RunAccumulator
from vmexit_tui.app.widgets.exit_table import COLUMNS, TREND_WIDTH, ExitTable


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ExitTable()


def _texts(table: ExitTable) -> dict[tuple[str, str], str]:
    return {(r, c.key): table.text(r, c.key) for r in table.ordered_reasons for c in COLUMNS}


async def _showing(pilot, reasons: int) -> tuple[ExitTable, RunAccumulator]:
    """The table of `pilot`'s app showing one interval of `reasons` reasons."""
    table = pilot.app.query_one(ExitTable)
    acc = RunAccumulator()
    acc.add(wide_interval(0, reasons))
    table.show(acc, EventKind.VMEXIT)
    await pilot.pause()
    return table, acc


async def test_only_rows_whose_text_changed_get_a_new_version():
    async with _TableApp().run_test(size=(100, 30)) as pilot:
        table, acc = await _showing(pilot, 20)
        before = _texts(table)
        versions = {r: table.row_version(r) for r in table.ordered_reasons}
        table.show(acc, EventKind.VMEXIT)  # the same totals again: nothing changes
        assert {r: table.row_version(r) for r in table.ordered_reasons} == versions

        acc.add(wide_interval(1, 20))
        table.show(acc, EventKind.VMEXIT)
        after = _texts(table)
        bumped = {r for r in versions if table.row_version(r) != versions[r]}
        assert bumped
        for reason in versions:
            same = all(after[(reason, c.key)] == before[(reason, c.key)] for c in COLUMNS)
            assert same == (reason not in bumped), reason
        samples = [table.value(r, "samples") for r in table.ordered_reasons]
        assert samples == sorted(samples, reverse=True)


async def test_a_repaint_without_changes_renders_no_line_again():
    async with _TableApp().run_test(size=(100, 30)) as pilot:
        table, _ = await _showing(pilot, 20)
        rendered = table.lines_rendered
        assert rendered >= 21  # header and twenty rows
        table.refresh()
        await pilot.pause()
        assert table.lines_rendered == rendered  # every line served from the cache
        table.move_cursor(3)
        await pilot.pause()
        assert table.lines_rendered == rendered + 2  # the old and the new cursor row
        table.sort_by("samples", descending=True)  # a sort that leaves every row in place
        await pilot.pause()
        assert table.lines_rendered == rendered + 2  # rows are cached by place, not sort


async def test_a_new_interval_redraws_the_rows_and_their_trends_but_not_the_header():
    async with _TableApp().run_test(size=(100, 30)) as pilot:
        table, acc = await _showing(pilot, 20)
        header = table.render_lines(table.size.region)[0]
        rendered = table.lines_rendered
        acc.add(wide_interval(1, 20))
        table.show(acc, EventKind.VMEXIT)
        await pilot.pause()
        lines = table.render_lines(table.size.region)
        assert lines[0] is header  # the same line, served from the cache
        assert table.lines_rendered == rendered + 20  # every row: its trend moved


async def test_cursor_stays_on_its_reason_across_sorts_and_the_empty_state_explains():
    async with _TableApp().run_test(size=(100, 30)) as pilot:
        table = pilot.app.query_one(ExitTable)
        table.empty_note = "perf recorded nothing: is the VM idle?"
        await pilot.pause()
        assert "perf recorded nothing" in str(table.render_line(1).text)
        acc = RunAccumulator()
        acc.add(wide_interval(0, 20))
        table.show(acc, EventKind.VMEXIT)
        table.move_cursor(5)
        reason = table.selected_reason
        for column in ("name", "mean", "max", "rate"):
            table.sort_by(column)
            assert table.selected_reason == reason
            assert table.ordered_reasons.index(reason) == table.cursor_row
        names = table.ordered_reasons
        table.sort_by("name", descending=False)
        assert table.ordered_reasons == sorted(names)


async def test_a_wide_table_shows_more_trend_points():
    trends = {}
    for width in (80, 200):
        async with _TableApp().run_test(size=(width, 30)) as pilot:
            table = pilot.app.query_one(ExitTable)
            acc = RunAccumulator()
            for i in range(40):
                acc.add(wide_interval(i, 10))
            table.show(acc, EventKind.VMEXIT)
            await pilot.pause()
            trends[width] = table.text(table.ordered_reasons[0], "trend")
            assert table.virtual_size.width <= width  # never wider than the terminal
    assert TREND_WIDTH <= len(trends[80]) < len(trends[200])


async def test_rows_that_overflow_take_the_trends_room_for_the_scrollbar_not_a_second_bar():
    async with _TableApp().run_test(size=(120, 20)) as pilot:
        table, acc = await _showing(pilot, 5)
        assert not table.show_vertical_scrollbar
        trend = table._trend_width
        acc.add(wide_interval(1, 40))  # more rows than lines: the vertical scrollbar shows
        table.show(acc, EventKind.VMEXIT)
        await pilot.pause()
        assert table.show_vertical_scrollbar and not table.show_horizontal_scrollbar
        assert table.virtual_size.width == table.scrollable_content_region.width
        assert table._trend_width == trend - 2  # the scrollbar's two cells


async def test_a_table_scrolled_sideways_shows_the_same_lines_shifted():
    async with _TableApp().run_test(size=(50, 20)) as pilot:  # narrower than the columns
        table, _ = await _showing(pilot, 10)
        assert table.virtual_size.width > table.size.width
        whole = [table.render_line(y).text for y in range(5)]
        assert all(len(line) == table.size.width for line in whole)
        table.scroll_to(x=7, animate=False, immediate=True)
        await pilot.pause()
        shifted = [table.render_line(y).text for y in range(5)]
        assert all(len(line) == table.size.width for line in shifted)
        for before, after in zip(whole, shifted, strict=True):
            assert after[: table.size.width - 7] == before[7:]


async def test_the_line_cache_keeps_only_each_rows_latest_line():
    async with _TableApp().run_test(size=(100, 30)) as pilot:
        table = pilot.app.query_one(ExitTable)
        acc = RunAccumulator()
        for i in range(30):  # every row's text changes every interval
            acc.add(wide_interval(i, 20))
            table.show(acc, EventKind.VMEXIT)
            await pilot.pause()
        assert table.cached_lines == 1 + 20  # the header and each row's latest line
