"""A DataTable that batches the refreshes of a bulk update and re-renders only changed cells."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey

from vmexit_tui.app.format import NumberText

CELL_CACHE_SIZE = 10_000


class BatchedTable(DataTable):
    """`with table.batch(): ...` coalesces the refresh every `update_cell`/`add_row` asks for.

    A refresh costs a dirty-region computation; seventy rows of ten cells would pay it 700
    times per update. Inside the batch plain refreshes are remembered, and one is done at
    the end; refreshes of regions, layouts or recomposes pass through at once.

    DataTable (Textual 8.2.8, pinned) keys its cell render cache on a table-wide update
    counter, so one `update_cell` makes every visible cell render again through Rich. This
    table also keeps each cell's rendered lines together with the cell value they came from:
    a cell whose value object is the same one (held by the cache, so its identity cannot be
    reused) at the same place, width and style is not rendered again. A `NumberText` cell
    in a one-line row is drawn straight into its segments, without Rich's general
    padding, wrapping and styling pipeline (same segments, a tenth of the cost).
    """

    _batch_depth = 0
    _refresh_wanted = False
    _cell_lines: LRUCache | None = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if not self._batch_depth and self._refresh_wanted:
                self._refresh_wanted = False
                super().refresh()

    def refresh(
        self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False
    ):
        if self._batch_depth and not regions and repaint and not layout and not recompose:
            self._refresh_wanted = True
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def set_cells(self, cells: Iterable[tuple[str, str, object, bool]]) -> int:
        """Set many cells at once: (row key, column key, value, grow column to fit).

        What `update_cell` does per cell, with one cache invalidation and one refresh for
        all of them. Returns how many cells were set. Unknown keys raise `KeyError`.
        """
        data = self._data
        rows = {key.value: key for key in data}  # the stored keys: found by identity
        columns = {key.value: key for key in self.columns}
        n = 0
        for row, column, value, grow in cells:
            row_key, column_key = rows[row], columns[column]
            data[row_key][column_key] = value
            if grow:
                self._updated_cells.add(CellKey(row_key, column_key))
                self._require_update_dimensions = True
            n += 1
        if n:
            self._update_count += 1
            self.refresh()
        return n

    def set_changed(
        self,
        rows: Mapping[str, Sequence[object]],
        columns: Sequence[str],
        same: Callable[[object, object], bool],
    ) -> int:
        """Set the cells of `rows` (values in the order of `columns`) that are not `same` as
        the ones shown, growing columns where a new value is wider; one refresh for all.
        Returns how many cells changed. Unknown rows or columns raise `KeyError`."""
        data = self._data
        row_keys = {key.value: key for key in data}
        column_keys = [{key.value: key for key in self.columns}[c] for c in columns]
        widths = [self.columns[key].content_width for key in column_keys]
        n = 0
        for row, values in rows.items():
            cells = data[row_keys[row]]
            for column_key, width, value in zip(column_keys, widths, values, strict=True):
                old = cells.get(column_key)
                if old is value or (old is not None and same(old, value)):
                    continue
                cells[column_key] = value
                if getattr(value, "cell_len", 0) > width:
                    self._updated_cells.add(CellKey(row_keys[row], column_key))
                    self._require_update_dimensions = True
                n += 1
        if n:
            self._update_count += 1
            self.refresh()
        return n

    def _render_number(
        self,
        value: NumberText,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[list[Segment]]:
        """The lines `DataTable._render_cell` makes of a one-line `NumberText`, built directly."""
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component, post = self._get_styles_to_render_cell(
            False,
            False,
            fixed,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component
        own = (
            value.style
            if isinstance(value.style, Style)
            else self.app.console.get_style(value.style)
        )
        pad = self.cell_padding
        inner = max(width - 2 * pad, 0)
        text = Segment(value.line(inner), pre + own + post if own or post else pre)
        if not pad:
            return [[text]]
        space = Segment(" " * pad, pre + post if post else pre)
        return [[space, text, space]]

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        if column_index < 0:  # row labels: as DataTable does
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if row_index == -1:  # header cells: kept while the label object stays the same
            return self._render_header(column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        row = self.rows.get(row_key)
        value = self._data.get(row_key, {}).get(column_key)
        if row is None or row.height == 0:  # auto height not measured yet: no caching
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if self._cell_lines is None:
            self._cell_lines = LRUCache(CELL_CACHE_SIZE)
        key = (
            row_key,
            column_key,
            row_index,  # the lines carry the row and column index as mouse metadata
            column_index,
            row.height,
            base_style,
            width,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
            self.cell_padding,
            self.fixed_rows,
            self.fixed_columns,
        )
        hit = self._cell_lines.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        if isinstance(value, NumberText) and row.height == 1 and width >= 2 * self.cell_padding:
            lines = self._render_number(
                value, row_index, column_index, base_style, width, cursor, hover
            )
        else:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._cell_lines[key] = (value, lines)
        return lines

    _row_styles: dict | None = None

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        """DataTable's row style, remembered: each lookup walks the widget's ancestors
        (`rich_style`), once per painted line. Forgotten when styles or caches change."""
        if row_index < 0:
            kind = -1
        elif row_index < self.fixed_rows:
            kind = -2
        else:
            kind = row_index % 2 if self.zebra_stripes else -3
        key = (kind, base_style, self._pseudo_class_state, self.app.theme)
        if self._row_styles is None:
            self._row_styles = {}
        style = self._row_styles.get(key)
        if style is None:
            if len(self._row_styles) > 64:
                self._row_styles.clear()
            style = self._row_styles[key] = super()._get_row_style(row_index, base_style)
        return style

    def _render_header(
        self, column_index: int, base_style: Style, width: int, cursor: bool, hover: bool
    ) -> list[list[Segment]]:
        column_key = self._column_locations.get_key(column_index)
        label = self.columns[column_key].label if column_key in self.columns else None
        if self._cell_lines is None:
            self._cell_lines = LRUCache(CELL_CACHE_SIZE)
        key = (
            "header",
            column_key,
            column_index,
            self.header_height,
            base_style,
            width,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
            self.cell_padding,
            self.fixed_columns,
            self.cursor_type,
        )
        hit = self._cell_lines.get(key)
        if hit is not None and hit[0] is label and label is not None:
            return hit[1]
        lines = super()._render_cell(-1, column_index, base_style, width, cursor, hover)
        self._cell_lines[key] = (label, lines)
        return lines

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._row_styles = None
        if self._cell_lines is not None:
            self._cell_lines.clear()

    def notify_style_update(self) -> None:
        self._row_styles = None
        if self._cell_lines is not None:
            self._cell_lines.clear()
        super().notify_style_update()
