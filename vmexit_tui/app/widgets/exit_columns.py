"""The columns of the live exit table: title, how a reason's figures become the cell's text,
the raw value it sorts by; the rows those make (`update_rows`), and how a row's cells
become one line. No Textual widget here: the table (`exit_table.py`) draws them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from vmexit_tui.analysis.model import ExitStat
from vmexit_tui.analysis.running import ReasonSeries
from vmexit_tui.app import format as fmt
from vmexit_tui.app.widgets.plain_lines import Line

Value = float | str | None


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    text: Callable[[ExitStat, float | None], tuple[str, Value]]
    left: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("name", "Reason", lambda r, _rate: (r.reason, r.reason), left=True),
    Column("samples", "Samples", lambda r, _rate: (fmt.count(r.samples), r.samples)),
    Column("share", "Smp%", lambda r, _rate: (fmt.pct(r.samples_pct), r.samples_pct)),
    Column("time_pct", "Time%", lambda r, _rate: (fmt.pct(r.time_pct), r.time_pct)),
    Column("rate", "Rate", lambda _r, rate: (fmt.rate(rate), rate)),
    Column("mean", "Mean", lambda r, _rate: (fmt.us_short(r.mean_us), r.mean_us)),
    Column("min", "Min", lambda r, _rate: (fmt.us_short(r.min_us), r.min_us)),
    Column("max", "Max", lambda r, _rate: (fmt.us_short(r.max_us), r.max_us)),
    Column(
        "spread",
        "Spr%",
        lambda r, _rate: (
            fmt.spread_short(r.rel_stddev_pct, r.rel_stddev_below),
            r.spread_bound,
        ),
    ),
    # drawn for the rows on screen only (`trend_text`): not sortable, and of a fixed width
    Column("trend", "Trend", lambda _r, _rate: ("", None), left=True),
)
# Sources that keep a latency histogram (the kernel source) have no exact min but a p99
# bound: their table shows P99≤ where perf's Min is.
P99_COLUMN = Column(
    "p99",
    "P99≤",
    lambda r, _rate: (fmt.us_short(r.percentile_bound(0.99)), r.percentile_bound(0.99)),
)
P99_COLUMNS = tuple(P99_COLUMN if c.key == "min" else c for c in COLUMNS)
SORTABLE = tuple(c.key for c in COLUMNS if c.key != "trend")
INDEX = {c.key: i for i, c in enumerate(COLUMNS)}
TREND_WIDTH = 8  # at least: with the narrow number formats, the table fits 80 columns
MAX_TREND_WIDTH = 64  # a wide terminal shows this many points of the trend


HEADER = "\0header"  # the header's slot in the line cache (no reason is named so)
ROW_STYLES = (  # the component classes a line is drawn in
    "",
    "exit-table--even-row",
    " exit-table--cursor",
    "exit-table--even-row exit-table--cursor",
    "exit-table--header",
    "exit-table--empty",
)


class Frame(NamedTuple):
    """What every line of one frame shares."""

    width: int
    scroll_x: int
    scroll_y: int
    styles: dict[str, Style]
    stamp: tuple  # what every line is drawn from
    trend: tuple  # and what every row's trend is drawn from


@dataclass(slots=True)
class Row:
    """One reason's cells: texts (the trend's is drawn on screen), sort values, widths."""

    texts: list[str]
    values: list[Value]
    sizes: list[int]  # cells of each text
    version: int = 0  # bumped when a text changes: the row's cached line is redrawn


def update_rows(
    rows: dict[str, Row],
    stats: dict[str, ExitStat],
    columns: tuple[Column, ...],
    rate_of: Callable[[str], float | None],
    widths: list[int],
    sort_index: int,
) -> tuple[bool, bool]:
    """Bring `rows` to `stats` (by reason) and widen `widths` to fit their texts. Returns
    whether to re-sort (rows came or went, or a text of the sort column changed) and
    whether a column widened."""
    resort = grew = False
    for gone in [r for r in rows if r not in stats]:
        del rows[gone]
        resort = True
    for reason, stat in stats.items():
        row, rate = rows.get(reason), rate_of(reason)
        cells = [c.text(stat, rate) for c in columns]
        texts = [t for t, _ in cells]
        if row is None:
            row = rows[reason] = Row(texts, [v for _, v in cells], [])
            resort = True
        elif texts != row.texts:
            resort = resort or texts[sort_index] != row.texts[sort_index]
            row.texts, row.values = texts, [v for _, v in cells]
            row.version += 1
        else:
            continue
        row.sizes = [fmt.text_size(t) for t in texts]
        for i, size in enumerate(row.sizes):
            if size > widths[i]:
                widths[i] = size
                grew = True
    return resort, grew


def line_of(
    columns: tuple[Column, ...],
    widths: list[int],
    cells: list[str],
    sizes: list[int],
    style: Style,
    width: int | None,
    base: Style,
) -> Strip:
    """A row's cells (of `sizes` cells each) at their column widths, in one segment of
    `style`; fitted to `width` (cut, or padded in the `base` style) unless it is None. One
    Strip per line: each one Textual builds costs several caches."""
    parts = [" "]
    for col, size, text, n in zip(columns, widths, cells, sizes, strict=True):
        if n > size:
            text, n = set_cell_size(text, size), size
        pad = " " * (size - n)
        parts += (text + pad if col.left else pad + text), " "
    text = "".join(parts[:-1])
    length = sum(widths) + len(widths)  # a leading space and one between cells
    if width is None:
        return Line([Segment(text, style)], length)
    if length >= width:
        return Line([Segment(set_cell_size(text, width), style)], width)
    return Line([Segment(text, style), Segment(" " * (width - length), base)], width)


def trend_text(series: ReasonSeries | None, width: int, of_mean: bool) -> str:
    """The last `width` points of a reason's rate (or mean) as bars."""
    tail = series.tail(width) if series is not None else []
    return fmt.bars([p.mean_us for p in tail] if of_mean else [p.rate for p in tail], width)
