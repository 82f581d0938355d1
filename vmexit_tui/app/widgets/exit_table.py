"""The live exit table: one row per reason, updated in place, sorted once per update."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from vmexit_tui.analysis.model import EventKind, ExitStat
from vmexit_tui.analysis.running import RunAccumulator
from vmexit_tui.app import format as fmt
from vmexit_tui.app.format import NumberText, sort_key
from vmexit_tui.app.widgets.batched_table import BatchedTable


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    text: Callable[[ExitStat, float | None, str], tuple[str, float | str | None]]
    left: bool = False

    def make(self, display: str, value: float | str | None) -> NumberText:
        """The cell for `display`; the leading space separates columns."""
        cell = NumberText(f" {display}", value)
        if self.left:
            cell.justify = "left"
        return cell

    def cell(self, stat: ExitStat, rate: float | None, trend: str) -> NumberText:
        return self.make(*self.text(stat, rate, trend))


COLUMNS: tuple[Column, ...] = (
    Column("name", "Reason", lambda r, _rate, _t: (r.reason, r.reason), left=True),
    Column("samples", "Samples", lambda r, _rate, _t: (fmt.count(r.samples), r.samples)),
    Column("share", "Smp%", lambda r, _rate, _t: (fmt.pct(r.samples_pct), r.samples_pct)),
    Column("time_pct", "Time%", lambda r, _rate, _t: (fmt.pct(r.time_pct), r.time_pct)),
    Column("rate", "Rate", lambda _r, rate, _t: (fmt.rate(rate), rate)),
    Column("mean", "Mean", lambda r, _rate, _t: (fmt.us_short(r.mean_us), r.mean_us)),
    Column("min", "Min", lambda r, _rate, _t: (fmt.us_short(r.min_us), r.min_us)),
    Column("max", "Max", lambda r, _rate, _t: (fmt.us_short(r.max_us), r.max_us)),
    Column(
        "spread",
        "Spr%",
        lambda r, _rate, _t: (
            fmt.spread_short(r.rel_stddev_pct, r.rel_stddev_below),
            r.spread_bound,
        ),
    ),
    Column("trend", "Trend", lambda _r, _rate, trend: (trend, None)),
)
SORTABLE = tuple(c.key for c in COLUMNS if c.key != "trend")
# Sources that keep a latency histogram (the kernel source) have no exact min but a p99 bound:
# the table then shows P99≤ where Min was.
P99_COLUMN = Column(
    "p99",
    "P99≤",
    lambda r, _rate, _t: (fmt.us_short(r.percentile_bound(0.99)), r.percentile_bound(0.99)),
)
P99_COLUMNS = tuple(P99_COLUMN if c.key == "min" else c for c in COLUMNS)
TREND_WIDTH = 8  # with the narrow number formats, the table fits 80 columns


class ExitTable(BatchedTable):
    """Exit reasons of one event kind; `show(acc, kind)` applies the latest totals.

    Rows are keyed by reason. Existing rows get `update_cell` only where the text changed,
    new rows are added, vanished ones removed, then one sort; the cursor stays on its reason.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0)
        self.sort_column = "samples"
        self.descending = True
        self.trend_of_mean = False
        self._shown: dict[tuple[str, str], str] = {}
        self.kind = EventKind.VMEXIT
        self.spec: tuple[Column, ...] = COLUMNS

    @property
    def sortable(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.spec if c.key != "trend")

    def on_mount(self) -> None:
        for col in self.spec:
            self.add_column(self._title(col), key=col.key)

    def _use_columns(self, spec: tuple[Column, ...]) -> None:
        """Switch between the perf columns and the histogram columns (P99 for Min)."""
        self.spec = spec
        self.clear(columns=True)
        self._shown.clear()
        if self.sort_column not in self.sortable:
            self.sort_column = "samples"
        for col in spec:
            self.add_column(self._title(col), key=col.key)

    def _title(self, col: Column) -> Text:
        arrow = ("▼" if self.descending else "▲") if col.key == self.sort_column else ""
        title = NumberText(f" {col.title}{arrow}", None, "bold" if arrow else "")
        title.justify = "left" if col.key in ("name", "trend") else "right"
        return title

    def _retitle(self) -> None:
        for col in self.spec:
            column = self.columns[col.key]  # type: ignore[index]
            column.label = self._title(col)
            # DataTable sizes a column by its label only when added: make room for the arrow
            column.content_width = max(column.content_width, column.label.cell_len)
        self._require_update_dimensions = True
        self.refresh()

    @property
    def selected_reason(self) -> str | None:
        """The reason under the cursor, if any."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # cursor outside the rows while they change
            return None
        return key.value

    def show(self, acc: RunAccumulator, kind: EventKind) -> None:
        """Apply the accumulator's totals for `kind`: in-place updates, then one sort."""
        with self.batch():
            self._apply(acc, kind)

    def _apply(self, acc: RunAccumulator, kind: EventKind) -> None:
        if kind != self.kind:
            self.kind = kind
            self.clear()
            self._shown.clear()
        total = acc.total(kind)
        spec = P99_COLUMNS if any(r.histogram is not None for r in total.rows) else COLUMNS
        if spec is not self.spec:
            self._use_columns(spec)
        series = acc.series.get(kind, {})
        rows = {r.reason: r for r in total.rows}
        last = acc.last.reports.get(kind) if acc.last is not None else None
        duration = acc.last.duration if acc.last is not None else 0.0
        last_counts = {r.reason: r.samples for r in last.rows} if last is not None else {}
        for gone in [k for k in self.rows if k.value not in rows]:
            self.remove_row(gone)
            self._shown = {k: v for k, v in self._shown.items() if k[0] != gone.value}
        widths = {key.value: col.content_width for key, col in self.columns.items()}
        changed = False
        updates: list[tuple[str, str, NumberText, bool]] = []
        shown = self._shown
        for reason, stat in rows.items():
            s = series.get(reason)
            tail = s.points[-TREND_WIDTH:] if s is not None else ()
            values = [p.mean_us for p in tail] if self.trend_of_mean else [p.rate for p in tail]
            trend = fmt.bars(values, TREND_WIDTH)
            rate = last_counts.get(reason, 0) / duration if duration > 0 else None
            if reason not in self.rows:
                cells = [c.cell(stat, rate, trend) for c in self.spec]
                self.add_row(*cells, key=reason)
                for col, cell in zip(self.spec, cells, strict=True):
                    shown[(reason, col.key)] = cell.plain[1:]  # the text, as `col.text` gives it
                changed = True
                continue
            for col in self.spec:  # compare the text first: most cells keep theirs
                text, value = col.text(stat, rate, trend)
                if shown.get((reason, col.key)) != text:
                    grow = cell_len(text) + 1 > widths.get(col.key, 0)
                    updates.append((reason, col.key, col.make(text, value), grow))
                    shown[(reason, col.key)] = text
                    changed = changed or col.key == self.sort_column
        self.set_cells(updates)
        if changed:  # rows came or went, or a value of the sort column changed
            self.resort()

    def resort(self) -> None:
        """Sort by the current column, keeping the cursor on the same reason."""
        reason = self.selected_reason
        descending = self.descending

        def key(cell: NumberText) -> tuple[int, float | str]:
            flag, value = sort_key(cell.value)
            return (-flag if descending else flag, value)

        self.sort(self.sort_column, key=key, reverse=descending)
        if reason is not None and reason in self.rows:
            self.move_cursor(row=self.get_row_index(RowKey(reason)), animate=False)

    def sort_by(self, column: str, descending: bool | None = None) -> None:
        if column not in self.sortable:
            raise ValueError(f"cannot sort by {column!r}; choose one of {', '.join(self.sortable)}")
        if descending is None:
            descending = column != "name" if column != self.sort_column else not self.descending
        self.sort_column, self.descending = column, descending
        self._retitle()
        self.resort()

    def action_sort_next(self) -> None:
        sortable = self.sortable
        i = sortable.index(self.sort_column)
        column = sortable[(i + 1) % len(sortable)]
        self.sort_by(column, column != "name")

    def action_sort_previous(self) -> None:
        sortable = self.sortable
        i = sortable.index(self.sort_column)
        column = sortable[(i - 1) % len(sortable)]
        self.sort_by(column, column != "name")

    def action_reverse(self) -> None:
        self.sort_by(self.sort_column, not self.descending)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value
        if column in self.sortable:
            self.sort_by(column)
