"""The fleet table: one row per host × guest, updated in place, sortable like the live table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from vmexit_tui.app import format as fmt
from vmexit_tui.app.format import NumberText, sort_key
from vmexit_tui.exporter.fleet import FleetRow, FleetView


@dataclass(frozen=True, slots=True)
class FleetColumn:
    key: str
    title: str
    value: Callable[[FleetRow], tuple[str, float | str | None]]
    left: bool = False


def _share(row: FleetRow) -> tuple[str, float | None]:
    if row.top_share is None:
        return fmt.UNKNOWN, None
    return f"{fmt.pct(100.0 * row.top_share)}%", row.top_share


def _status(row: FleetRow) -> tuple[str, str]:
    return ("✗ " + row.error, row.error) if row.error else ("ok", "")


COLUMNS: tuple[FleetColumn, ...] = (
    FleetColumn(
        "host", "Host", lambda r: (f"✗ {r.host}" if r.error else r.host, r.host), left=True
    ),
    FleetColumn("vm", "VM", lambda r: (r.vm or "—", r.vm or ""), left=True),
    FleetColumn("rate", "Exits/s", lambda r: (fmt.rate(r.exits_per_s), r.exits_per_s)),
    FleetColumn("top", "Top reason", lambda r: (r.top_reason or "—", r.top_reason), left=True),
    FleetColumn("share", "Top%", _share),
    FleetColumn("pinning", "Pinning", lambda r: (r.pinning or "—", r.pinning), left=True),
    FleetColumn("status", "Status", _status, left=True),
)
SORTABLE = tuple(c.key for c in COLUMNS)
_TEXT_COLUMNS = {"host", "vm", "top", "pinning", "status"}


class FleetTable(DataTable):
    """Rows keyed `host\\0vm`: new rows added, gone rows removed, changed cells updated."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.sort_column = "rate"
        self.descending = True

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.add_column(self._title(col), key=col.key)

    def _title(self, col: FleetColumn) -> Text:
        arrow = ("▼" if self.descending else "▲") if col.key == self.sort_column else ""
        return Text(f"{col.title}{arrow}")

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def show(self, view: FleetView) -> None:
        """Apply a new view: in-place updates, then one sort."""
        wanted = {row.key: row for row in view.rows}
        for gone in [k for k in self.rows if k.value not in wanted]:
            self.remove_row(gone)
        for key, row in wanted.items():
            cells = [self._cell(col, row) for col in COLUMNS]
            if key in self.rows:
                for col, cell in zip(COLUMNS, cells, strict=True):
                    self.update_cell(key, col.key, cell, update_width=True)
            else:
                self.add_row(*cells, key=key)
        self.resort()

    @staticmethod
    def _cell(col: FleetColumn, row: FleetRow) -> NumberText:
        display, value = col.value(row)
        cell = NumberText(f" {display}", value, style="red" if row.error else "")
        if col.left:
            cell.justify = "left"
        return cell

    def resort(self) -> None:
        """Sort by the current column, keeping the cursor on the same host and guest."""
        keep = self.selected_key
        descending = self.descending

        def key(cell: NumberText) -> tuple[int, float | str]:
            flag, value = sort_key(cell.value)
            return (-flag if descending else flag, value)

        self.sort(self.sort_column, key=key, reverse=descending)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(RowKey(keep)), animate=False)

    def sort_by(self, column: str, descending: bool | None = None) -> None:
        if column not in SORTABLE:
            raise ValueError(f"cannot sort by {column!r}; choose one of {', '.join(SORTABLE)}")
        if descending is None:
            descending = column not in _TEXT_COLUMNS
        self.sort_column, self.descending = column, descending
        for col in COLUMNS:
            self.columns[col.key].label = self._title(col)  # type: ignore[index]
        self._require_update_dimensions = True
        self.refresh()
        self.resort()

    def action_sort_next(self) -> None:
        i = SORTABLE.index(self.sort_column)
        self.sort_by(SORTABLE[(i + 1) % len(SORTABLE)])

    def action_reverse(self) -> None:
        self.sort_by(self.sort_column, not self.descending)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value
        if column in SORTABLE:
            same = column == self.sort_column
            self.sort_by(column, not self.descending if same else None)
