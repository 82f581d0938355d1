"""ExitTable: only cells whose text changed are replaced; the order follows the sort column."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.app.helpers import wide_interval
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import RunAccumulator
from vmexit_tui.app.widgets.exit_table import COLUMNS, ExitTable


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ExitTable()


def _cells(table: ExitTable) -> dict[tuple[str, str], object]:
    return {
        (row.value, col.key): table.get_cell(row.value, col.key)
        for row in table.rows
        for col in COLUMNS
    }


async def test_unchanged_cells_keep_their_objects_and_changed_ones_are_replaced():
    async with _TableApp().run_test(size=(100, 30)) as pilot:
        table = pilot.app.query_one(ExitTable)
        acc = RunAccumulator()
        acc.add(wide_interval(0, 20))
        table.show(acc, EventKind.VMEXIT)
        await pilot.pause()
        before, count = _cells(table), table._update_count
        table.show(acc, EventKind.VMEXIT)  # the same totals again: nothing to replace
        assert _cells(table) == before
        assert all(table.get_cell(r, c) is v for (r, c), v in before.items())
        assert table._update_count == count

        acc.add(wide_interval(1, 20))
        table.show(acc, EventKind.VMEXIT)
        after = _cells(table)
        replaced = {k for k, v in after.items() if v is not before[k]}
        assert replaced and all(after[k].plain != before[k].plain for k in replaced)
        assert all(after[k].plain == before[k].plain for k in after.keys() - replaced)
        samples = [table.get_cell(r.key.value, "samples").value for r in table.ordered_rows]
        assert samples == sorted(samples, reverse=True)
