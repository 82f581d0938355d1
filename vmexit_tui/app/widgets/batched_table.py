"""A DataTable that turns the many refreshes of a bulk update into one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from textual.widgets import DataTable


class BatchedTable(DataTable):
    """`with table.batch(): ...` coalesces the refresh every `update_cell`/`add_row` asks for.

    A refresh costs a dirty-region computation; seventy rows of ten cells would pay it 700
    times per update. Inside the batch plain refreshes are remembered, and one is done at
    the end; refreshes of regions, layouts or recomposes pass through at once.
    """

    _batch_depth = 0
    _refresh_wanted = False

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
