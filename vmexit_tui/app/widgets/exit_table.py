"""The live exit table: one row per reason, sortable, drawn line by line on Textual's public API.

A `ScrollView` whose `render_line` serves each line from a cache of rendered lines (the
pattern of Textualize's toolong `log_lines.py`): a line is rebuilt only when its row's text
or trend, its place (cursor, stripe) or the column widths changed. One slot per row,
overwritten: a stale line is freed at once, not aged in a cache that the garbage collector
walks. `show(acc, kind)` updates the rows (`exit_columns.update_rows`) and re-sorts only
when rows came or went or a value of the sort column changed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from functools import partial
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import RunAccumulator
from vmexit_tui.app import format as fmt
from vmexit_tui.app.format import sort_key
from vmexit_tui.app.widgets.exit_columns import (
    COLUMNS,
    HEADER,
    INDEX,
    MAX_TREND_WIDTH,
    P99_COLUMNS,
    ROW_STYLES,
    SORTABLE,
    TREND_WIDTH,
    Column,
    Frame,
    Row,
    Value,
    line_of,
    trend_text,
    update_rows,
)
from vmexit_tui.app.widgets.plain_lines import Filters, Line, PlainLines, filtered_style

__all__ = ["COLUMNS", "P99_COLUMNS", "SORTABLE", "TREND_WIDTH", "ExitTable"]

EMPTY = "no data yet"


class ExitTable(PlainLines, ScrollView, can_focus=True):
    """Exit reasons of one event kind; `show(acc, kind)` applies the latest totals.

    Rows are keyed by reason; the cursor stays on its reason across updates and sorts.
    s/S/r (through the App) and a click on a header sort; enter opens a reason.
    """

    DEFAULT_CSS = """
    ExitTable {
        background: $surface;
        color: $foreground;
        & > .exit-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .exit-table--even-row { background: $surface-lighten-1 50%; }
        & > .exit-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .exit-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .exit-table--empty { color: $text-muted; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "exit-table--header",
        "exit-table--even-row",
        "exit-table--cursor",
        "exit-table--empty",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor(-1_000_000)", "First", show=False),
        Binding("end", "cursor(1_000_000)", "Last", show=False),
        Binding("enter", "select", "Details", show=False),
    ]

    class ReasonHighlighted(Message):
        """The cursor moved to another reason."""

        def __init__(self, reason: str | None) -> None:
            super().__init__()
            self.reason = reason

    class ReasonSelected(Message):
        """Enter (or a click on the cursor's row) on a reason."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sort_column = "samples"
        self.descending = True
        self.trend_of_mean = False
        self.kind = EventKind.VMEXIT
        self.columns_spec: tuple[Column, ...] = COLUMNS
        self._index, self._sortable = INDEX, SORTABLE
        self._empty_note: str | None = None
        self.cursor_row = 0
        self._rows: dict[str, Row] = {}
        self._order: list[str] = []
        self._widths = [cell_len(self._title(c)) for c in self.columns_spec]
        self._trend_width = TREND_WIDTH
        self._acc: RunAccumulator | None = None
        self._lines: dict[str, tuple[tuple, Strip]] = {}  # reason (or HEADER): (stamp, line)
        self._layout_version = 0  # widths, sort arrow, styles: every line changes
        self._styles: dict[tuple[str, Filters], Style] = {}
        self._shown: tuple | None = None  # what `show` last applied
        self._stale = False
        self.lines_rendered = 0  # rendered (not served from the cache): for tests and benches

    @property
    def empty_note(self) -> str | None:
        """What the table says while it has no rows (None: "no data yet")."""
        return self._empty_note

    @empty_note.setter
    def empty_note(self, note: str | None) -> None:
        if note != self._empty_note:
            self._empty_note = note
            if not self._order:
                self.refresh()

    # ---- what it shows -----------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def ordered_reasons(self) -> list[str]:
        return list(self._order)

    @property
    def selected_reason(self) -> str | None:
        """The reason under the cursor, if any."""
        return self._order[self.cursor_row] if self._order else None

    @property
    def sort_title(self) -> str:
        return self.columns_spec[self._index[self.sort_column]].title

    def value(self, reason: str, column: str) -> Value:
        """The raw value a cell sorts by (the reason for `name`, None when unknown)."""
        return self._rows[reason].values[self._index[column]]

    def text(self, reason: str, column: str) -> str:
        if column == "trend":
            series = self._acc.reason_series(self.kind, reason) if self._acc else None
            return trend_text(series, self._trend_width, self.trend_of_mean)
        return self._rows[reason].texts[self._index[column]]

    @property
    def cached_lines(self) -> int:
        return len(self._lines)

    def row_version(self, reason: str) -> int:
        """Bumped whenever the row's text changes (its cached line is then rebuilt)."""
        return self._rows[reason].version

    def column_x(self, column: str) -> int:
        """Where `column` starts, in cells from the table's left edge."""
        return sum(w + 1 for w in self._widths[: self._index[column]])

    # ---- updates -----------------------------------------------------------------------
    def _use_columns(self, spec: tuple[Column, ...]) -> None:
        """Perf's columns, or the histogram columns (P99≤ for Min)."""
        self.columns_spec = spec
        self._index = {c.key: i for i, c in enumerate(spec)}
        self._sortable = tuple(c.key for c in spec if c.key != "trend")
        if self.sort_column not in self._sortable:
            self.sort_column = "samples"
        self.clear_rows()

    def clear_rows(self) -> None:
        self._shown = None
        self._rows.clear()
        self._order.clear()
        self._acc = None
        self.cursor_row = 0
        self._widths = [cell_len(self._title(c)) for c in self.columns_spec]
        self._relayout()

    def show(
        self, acc: RunAccumulator, kind: EventKind, *, trend_of_mean: bool | None = None
    ) -> None:
        """Apply the accumulator's totals for `kind`: changed rows only, then one sort."""
        if trend_of_mean is not None:
            self.trend_of_mean = trend_of_mean
        if kind != self.kind:
            self.kind = kind
            self.clear_rows()
        total = acc.total(kind)
        spec = P99_COLUMNS if any(r.histogram is not None for r in total.rows) else COLUMNS
        if spec is not self.columns_spec:
            self._use_columns(spec)
        self._acc = acc
        shown = (total, acc.last, len(acc.markers), self.trend_of_mean, self._trend_width)
        if shown == self._shown and not self._stale:
            return  # told again of the same data (a mark, a status): nothing to redo
        self._shown, self._stale = shown, False
        last = acc.last
        resort, grew = update_rows(
            self._rows,
            {r.reason: r for r in total.rows},
            self.columns_spec,
            lambda reason: None if last is None else last.rate(kind, reason),
            self._widths,
            self._index[self.sort_column],
        )
        if grew:
            self._layout_version += 1
            self._update_trend_width()  # less room left for the trend
        if resort:
            self._sort()
        self._update_size()
        self.refresh()  # a new interval moves every trend, if nothing else

    def _sort(self) -> None:
        reason = self.selected_reason
        index, descending = self._index[self.sort_column], self.descending
        rows = self._rows

        def key(r: str) -> tuple[int, float | str]:
            flag, value = sort_key(rows[r].values[index])
            return (-flag if descending else flag, value)

        self._order = sorted(rows, key=key, reverse=descending)
        if reason is not None and reason in rows:
            self.cursor_row = self._order.index(reason)
        self.cursor_row = min(self.cursor_row, max(len(self._order) - 1, 0))
        self._scroll_to_cursor()

    def sort_by(self, column: str, descending: bool | None = None) -> None:
        if column not in self._sortable:
            choices = ", ".join(self._sortable)
            raise ValueError(f"cannot sort by {column!r}; choose one of {choices}")
        if descending is None:
            descending = column != "name" if column != self.sort_column else not self.descending
        self.sort_column, self.descending = column, descending
        self._sort()
        self.refresh()

    def action_sort_next(self) -> None:
        keys = self._sortable
        column = keys[(keys.index(self.sort_column) + 1) % len(keys)]
        self.sort_by(column, column != "name")

    def action_sort_previous(self) -> None:
        keys = self._sortable
        column = keys[(keys.index(self.sort_column) - 1) % len(keys)]
        self.sort_by(column, column != "name")

    def action_reverse(self) -> None:
        self.sort_by(self.sort_column, not self.descending)

    # ---- cursor, keys, mouse -----------------------------------------------------------
    def move_cursor(self, row: int) -> None:
        row = min(max(row, 0), max(self.row_count - 1, 0))
        if row != self.cursor_row:
            self.cursor_row = row
            self._scroll_to_cursor()
            self.refresh()
            self.post_message(self.ReasonHighlighted(self.selected_reason))

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * max(self._visible_rows - 1, 1))

    def action_select(self) -> None:
        reason = self.selected_reason
        if reason is not None:
            self.post_message(self.ReasonSelected(reason))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x + int(self.scroll_x)
            for col in self.columns_spec:
                start = self.column_x(col.key)
                if start <= x < start + self._widths[self._index[col.key]] + 1:
                    if col.key in self._sortable:
                        self.sort_by(col.key)
                    return
            return
        row = int(self.scroll_y) + offset.y - 1
        if 0 <= row < self.row_count:
            if row == self.cursor_row:
                self.action_select()
            else:
                self.move_cursor(row)

    @property
    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _scroll_to_cursor(self) -> None:
        top, rows = int(self.scroll_y), self._visible_rows
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + rows:
            self.scroll_to(y=self.cursor_row - rows + 1, animate=False, immediate=True)

    # ---- size and drawing --------------------------------------------------------------
    def on_resize(self) -> None:
        self._update_trend_width()
        self._update_size()

    def watch_show_vertical_scrollbar(self) -> None:
        """Rows overflow, or fit again: the trend makes room for the scrollbar, or takes it."""
        self.call_after_refresh(self._update_trend_width)

    def _update_trend_width(self) -> None:
        """More trend points when the table has the room (issue: big terminals wasted)."""
        others = sum(w + 1 for w in self._widths[:-1]) + 1
        room = self.scrollable_content_region.width - others
        width = min(max(room, TREND_WIDTH), MAX_TREND_WIDTH)
        if width != self._trend_width:
            self._trend_width = width
            self._widths[-1] = max(cell_len(self.columns_spec[-1].title), width)
            if self._acc is not None:
                self._stale = True
                self.show(self._acc, self.kind)  # every trend changes
            self._relayout()

    def _relayout(self) -> None:
        self._layout_version += 1
        self._update_size()
        self.refresh()

    def _update_size(self) -> None:
        self.virtual_size = Size(sum(w + 1 for w in self._widths), self.row_count + 1)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget_styles()

    def _on_focus(self, event: events.Focus) -> None:
        self._forget_styles()
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self._forget_styles()
        self.refresh()

    def _forget_styles(self) -> None:
        self._styles.clear()
        self._lines.clear()

    def _style(self, component: str = "", filtered: Filters = ()) -> Style:
        """The widget's style (plus a component's), through the line filters if given;
        remembered until the styles change: `rich_style` walks every ancestor."""
        style = self._styles.get((component, filtered))
        if style is None:
            style = self.rich_style
            for name in component.split():
                style += self.get_component_rich_style(name)
            style = self._styles[component, filtered] = filtered_style(style, filtered)
        return style

    def _title(self, col: Column) -> str:
        arrow = ("▼" if self.descending else "▲") if col.key == self.sort_column else ""
        return f"{col.title}{arrow}"

    def render_line(self, y: int) -> Strip:
        return self.line_renderer(())(y)

    def line_renderer(self, filters: Filters) -> Callable[[int], Strip]:
        """Line y at this frame: what all lines share is looked up once (10 µs a line), and
        styles are filtered, not lines (a filtered copy of a line costs a second Strip)."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        frame = Frame(
            width,
            scroll_x,
            scroll_y,
            {k: self._style(k, filters) for k in ROW_STYLES},
            (self._layout_version, self.has_focus, width, scroll_x, filters),
            (self._acc and self._acc.intervals, self.trend_of_mean, self._trend_width),
        )
        return partial(self._line, frame)

    def _line(self, frame: Frame, y: int) -> Strip:
        width, styles = frame.width, frame.styles
        base = styles[""]
        if y == 0:
            slot = HEADER
            stamp: tuple = (self.sort_column, self.descending, frame.stamp)
            cells, style = [self._title(c) for c in self.columns_spec], "exit-table--header"
            sizes = [fmt.text_size(t) for t in cells]
        else:
            index = frame.scroll_y + y - 1
            if not self._order:
                return self._empty_line(y, width, styles["exit-table--empty"])
            if index >= len(self._order):
                return Line.blank(width, base)
            slot = self._order[index]
            row, cursor = self._rows[slot], index == self.cursor_row
            stamp = (row.version, cursor, index % 2, frame.stamp, frame.trend)
            cells, sizes = row.texts, row.sizes
            style = "exit-table--even-row" if index % 2 else ""
            if cursor:
                style += " exit-table--cursor"
        cached = self._lines.get(slot)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        if y:  # a row: its trend, drawn for the rows on screen only
            trend = self.text(slot, "trend")
            cells, sizes = [*cells[:-1], trend], [*sizes[:-1], len(trend)]
        cols, widths, scroll_x = self.columns_spec, self._widths, frame.scroll_x
        if scroll_x:  # scrolled sideways (a narrow terminal): the whole line, then its view
            strip = line_of(cols, widths, cells, sizes, styles[style], None, base)
            strip = Line(strip.crop_extend(scroll_x, scroll_x + width, base), width)
        else:
            strip = line_of(cols, widths, cells, sizes, styles[style], width, base)
        self._lines[slot] = (stamp, strip)
        self.lines_rendered += 1
        return strip

    def _empty_line(self, y: int, width: int, style: Style) -> Strip:
        """The empty state: why there are no rows (a silent recording), or "no data yet"."""
        lines = textwrap.wrap(self.empty_note or EMPTY, max(width - 2, 1))
        text = f" {lines[y - 1]}" if y - 1 < len(lines) else ""
        return Line([Segment(set_cell_size(text, width), style)])
