"""BatchedTable: its direct drawing of number cells matches DataTable's, bulk updates apply."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from vmexit_tui.app.format import NumberText
from vmexit_tui.app.widgets.batched_table import BatchedTable


def _cells() -> list[NumberText]:
    left = NumberText(" EPT_VIOLATION", "EPT_VIOLATION")
    left.justify = "left"
    return [
        left,
        NumberText(" 1,234", 1234),
        NumberText("▲0.48", 0.48, "bold red"),
        NumberText("-", None, "dim"),
        NumberText(" a text far too long for its column", None),
    ]


class _TableApp(App[None]):
    def __init__(self, padding: int, fixed_columns: int) -> None:
        super().__init__()
        self.padding = padding
        self.fixed_columns = fixed_columns

    def compose(self) -> ComposeResult:
        yield BatchedTable(
            cursor_type="row",
            zebra_stripes=True,
            cell_padding=self.padding,
            fixed_columns=self.fixed_columns,
        )

    def on_mount(self) -> None:
        table = self.query_one(BatchedTable)
        for i in range(5):
            table.add_column(f"c{i}", key=f"c{i}", width=None if i < 4 else 8)
        for r in range(4):
            table.add_row(*_cells(), key=f"r{r}")


@pytest.mark.parametrize(("padding", "fixed_columns"), [(0, 0), (1, 0), (1, 1)])
async def test_number_cells_are_drawn_as_datatable_draws_them(padding, fixed_columns):
    app = _TableApp(padding, fixed_columns)
    async with app.run_test(size=(90, 12)) as pilot:
        table = app.query_one(BatchedTable)
        table.focus()
        await pilot.pause()
        compared = 0
        for row in range(table.row_count):
            for column, col in enumerate(table.ordered_columns):
                value = table.get_cell_at((row, column))
                for cursor in (False, True):
                    for hover in (False, True):
                        style = table.rich_style
                        width = col.get_render_width(table)
                        fast = table._render_number(value, row, column, style, width, cursor, hover)
                        slow = DataTable._render_cell(
                            table, row, column, style, width, cursor, hover
                        )
                        assert fast == slow, (row, column, cursor, hover)
                        compared += 1
        assert compared == 4 * 5 * 4


async def test_set_cells_updates_values_and_grows_columns():
    app = _TableApp(1, 0)
    async with app.run_test(size=(90, 12)) as pilot:
        table = app.query_one(BatchedTable)
        await pilot.pause()
        before = table.columns["c1"].content_width  # type: ignore[index]
        wide = NumberText(" 123,456,789,012", 123456789012)
        n = table.set_cells([("r0", "c1", wide, True), ("r2", "c3", NumberText("7", 7), False)])
        await pilot.pause()
        assert n == 2
        assert table.get_cell("r0", "c1") is wide
        assert table.get_cell("r2", "c3").value == 7
        assert table.columns["c1"].content_width == wide.cell_len > before  # type: ignore[index]
        with pytest.raises(KeyError):
            table.set_cells([("nope", "c1", wide, False)])
        with pytest.raises(KeyError):
            table.set_cells([("r0", "nope", wide, False)])
        assert all(len(row) == 5 for row in table._data.values())


async def test_set_changed_replaces_only_cells_that_differ():
    app = _TableApp(1, 0)
    async with app.run_test(size=(90, 12)) as pilot:
        table = app.query_one(BatchedTable)
        await pilot.pause()
        kept = table.get_cell("r1", "c0")
        same_text = NumberText(kept.plain, "other value, same text")
        new = NumberText(" 42,000,000,000", 42e9)
        rows = {"r1": [same_text, new, *(table.get_cell("r1", f"c{i}") for i in (2, 3, 4))]}
        columns = [f"c{i}" for i in range(5)]
        count = table._update_count
        changed = table.set_changed(rows, columns, lambda a, b: a.plain == b.plain)
        await pilot.pause()
        assert changed == 1
        assert table.get_cell("r1", "c0") is kept
        assert table.get_cell("r1", "c1") is new
        assert table._update_count == count + 1
        assert table.columns["c1"].content_width >= new.cell_len  # type: ignore[index]
        assert table.set_changed(rows, columns, lambda a, b: a.plain == b.plain) == 0
        with pytest.raises(KeyError):
            table.set_changed({"nope": rows["r1"]}, columns, lambda a, b: False)


async def test_header_cells_are_redrawn_when_their_label_changes_and_kept_otherwise():
    app = _TableApp(1, 0)
    async with app.run_test(size=(90, 12)) as pilot:
        table = app.query_one(BatchedTable)
        await pilot.pause()
        style, width = table.rich_style, table.ordered_columns[2].get_render_width(table)
        first = table._render_cell(-1, 2, style, width)
        assert first == DataTable._render_cell(table, -1, 2, style, width)
        table.set_cells([("r0", "c0", NumberText("x", None), False)])  # any update
        assert table._render_cell(-1, 2, style, width) is first
        table.columns["c2"].label = NumberText(" c2▼", None)  # type: ignore[index]
        table._update_count += 1
        relabelled = table._render_cell(-1, 2, style, width)
        assert "c2▼" in "".join(seg.text for seg in relabelled[0])
        assert relabelled == DataTable._render_cell(table, -1, 2, style, width)
