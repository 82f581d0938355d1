"""Side-by-side runs: per reason each run's samples, share and mean, changes that matter marked."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.cache import LRUCache
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from vmexit_tui.analysis.compare_session import CompareSession, RunKey
from vmexit_tui.analysis.comparison import ComparedRun, Comparison, RunCell
from vmexit_tui.app import format as fmt
from vmexit_tui.app.format import NumberText
from vmexit_tui.app.throttle import Throttle
from vmexit_tui.formats import numbers

COMPARE_REFRESH_S = 1.0
WIDE = 160  # from this width the findings stand beside the table
_METRIC_COLUMN = {"share": "share", "samples": "samples", "rate": "samples", "mean_us": "mean"}
_UP, _DOWN = "▲", "▼"
_RUN_COLUMNS = ("samples", "share", "mean")
CELL_MEMO_SIZE = 2_000
SCROLLBAR_ALLOWANCE = 2  # a vertical scrollbar may take these columns
# How the table narrows when the pane cannot show it whole, in this order: the run labels
# become letters (named in the header), then the mean change goes, then the per-run means
# (their findings stay marked in the findings list). Wide enough: the first that fits.
FIT_STEPS: tuple[tuple[bool, frozenset[str]], ...] = (
    (False, frozenset()),
    (True, frozenset()),
    (True, frozenset({"d:mean"})),
    (True, frozenset({"d:mean", "mean"})),
)


def _delta(value: float | None, shown: str) -> NumberText:
    return NumberText(shown, value)


def findings_text(comparison: Comparison | None) -> Text:
    """The findings as a list, most significant first; long ones wrap (the box scrolls)."""
    text = Text()
    if comparison is None:
        return text
    for note in comparison.notes:  # e.g. a run with no exits
        text.append(f"⚠ {note}\n", style="bold yellow")
    findings = comparison.findings
    if not findings:
        text.append("No change passes the significance test.\n", style="dim")
    for f in findings:
        arrow = _UP if f.direction == "up" else _DOWN
        text.append(f"{arrow} ", style="bold red" if f.direction == "up" else "bold green")
        text.append(f"{f.text}\n")
    if comparison.differences:
        text.append(
            "Differences (durations unknown: count changes, descriptive, not tested)\n",
            style="bold dim",
        )
        for d in comparison.differences:
            text.append(f"· {d.text}\n", style="dim")
    text.rstrip()
    return text


def _letter(i: int) -> str:
    return "ABCDEFGH"[i] if i < 8 else str(i)


def _narrowed(
    columns: tuple[tuple[str, Text], ...],
    rows: dict[str, list[Text]],
    letters: bool,
    dropped: frozenset[str],
) -> tuple[tuple[tuple[str, Text], ...], dict[str, list[Text]]]:
    """The columns and rows of one FIT_STEPS entry: run labels as letters, some columns gone.

    A column key is "reason", "RUN:metric" or "d:metric"; `dropped` names metrics ("mean")
    or whole keys ("d:mean")."""
    keep = [
        j
        for j, (key, _) in enumerate(columns)
        if key not in dropped and not (key[0].isdigit() and key.partition(":")[2] in dropped)
    ]
    out: list[tuple[str, Text]] = []
    for j in keep:
        key, label = columns[j]
        run, _, metric = key.partition(":")
        if letters and run.isdigit() and metric == "samples":
            label = Text(f"{_letter(int(run))} n", justify="right")
        out.append((key, label))
    return tuple(out), {r: [cells[j] for j in keep] for r, cells in rows.items()}


def _table_width(columns: tuple[tuple[str, Text], ...], rows: dict[str, list[Text]]) -> int:
    """What a DataTable (one cell of padding each side) needs to show these whole."""
    widths = [label.cell_len for _, label in columns]
    for cells in rows.values():
        widths = [max(w, cell.cell_len) for w, cell in zip(widths, cells, strict=True)]
    return sum(w + 2 for w in widths)


def _same_text(old: object, new: object) -> bool:
    return (
        isinstance(old, Text)
        and isinstance(new, Text)
        and old.plain == new.plain
        and old.style == new.style
    )


class ComparePane(Vertical):
    """Header naming the runs (baseline marked), the side-by-side table and the findings.

    It owns its `CompareSession` (which runs, which baseline). The App tells it what
    changed: `changed()` after the runs changed, `live_changed(run)` with the live run's
    figures, `set_shown(...)` when its tab comes and goes. It recomputes and redraws only
    while shown, at most once per `refresh_s`.
    """

    class Failed(Message):
        """The runs could not be compared; `error` says why."""

        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, *, id: str | None = None, refresh_s: float = COMPARE_REFRESH_S) -> None:
        super().__init__(id=id)
        self.session = CompareSession()
        self.comparison: Comparison | None = None
        self.drawn_hook: Callable[[Comparison | None], None] | None = None
        self.shown = False
        self._live: ComparedRun | None = None
        self._columns: tuple[tuple[str, Text], ...] = ()
        self._title: Text | None = None
        self._note = ""
        self._cell_memo: LRUCache = LRUCache(CELL_MEMO_SIZE)
        self.fit_step = 0  # the FIT_STEPS entry the table is drawn with
        self._throttle = Throttle(self, refresh_s, self._redraw_if_dirty)

    @property
    def refresh_s(self) -> float:
        return self._throttle.every_s

    @refresh_s.setter
    def refresh_s(self, seconds: float) -> None:
        self._throttle.every_s = seconds

    def compose(self) -> ComposeResult:
        yield Static(id="compare-header")
        yield Static(id="compare-context")  # host RT setup and latency per run (issue 11)
        with Horizontal(id="compare-main"):
            yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="compare-findings-box", can_focus=True):
                yield Static(id="compare-findings")

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDE, "-wide")
        if self.comparison is not None:
            self.show(self.comparison, note=self._note)

    # ---- told by the App ---------------------------------------------------------------
    def changed(self) -> None:
        """The session's runs or baseline changed: redraw at once when shown."""
        self.session.dirty = True
        self._throttle.reset()
        self.refresh_soon()

    def live_changed(self, run: ComparedRun | None) -> None:
        """The live run's figures changed (a new interval)."""
        self._live = run
        if self.session.has_live:
            self.session.dirty = True
            self.refresh_soon()

    def run_keys(self) -> list[RunKey]:
        """The keys of the compared runs, in the comparison's order (the live run's only
        while there is one)."""
        return [k for k, r in self.session.runs if r is not None or self._live is not None]

    def show_context(self, text: str) -> None:
        """The runs' RT setup and latency above the table; hidden when empty."""
        static = self.query_one("#compare-context", Static)
        static.update(text)
        static.set_class(bool(text), "-active")

    def set_shown(self, shown: bool) -> None:
        self.shown = shown
        self.refresh_soon()

    def refresh_soon(self) -> None:
        if self.shown and self.session.dirty:
            self._throttle()

    def redraw(self) -> None:
        """Recompute the comparison and draw it now."""
        result = self.session.recompute(self._live)
        if result.error:
            self.post_message(self.Failed(result.error))
        self.show(result.comparison, note=result.note)
        if self.drawn_hook is not None:  # the app adds the runs' RT setup and latency
            self.drawn_hook(result.comparison)
        if result.alone is not None:
            self.query_one("#compare-header", Static).update(
                Text(f"{result.alone}: pick one more run with o to compare.", style="dim")
            )

    def _redraw_if_dirty(self) -> None:
        if self.shown and self.session.dirty:
            self.redraw()

    # ---- drawing -----------------------------------------------------------------------
    def show(self, comparison: Comparison | None, *, note: str = "") -> None:
        """Show a comparison (at most four runs); cells are updated in place while the runs
        and reasons stay the same, so a growing live run re-renders only what changed."""
        self.comparison = comparison
        self._note = note
        self._show(comparison, note, self.query_one("#compare-table", DataTable))

    def _show(self, comparison: Comparison | None, note: str, table: DataTable) -> None:
        header = self.query_one("#compare-header", Static)
        cursor_reason = None
        if table.row_count:
            try:
                cursor_reason = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            except Exception:
                cursor_reason = None
        if comparison is None or not comparison.runs:
            table.clear(columns=True)
            self._columns = ()
            self._title = None
            header.update(Text("No runs to compare yet: press o to pick runs.", style="dim"))
            self.query_one("#compare-findings", Static).update("")
            return
        runs = comparison.runs
        base = comparison.baseline
        full_columns = self._column_titles(comparison)
        full_rows = self._rows(comparison)
        self.fit_step = self._fit_step(full_columns, full_rows)
        letters, dropped = FIT_STEPS[self.fit_step]
        title = Text()
        for i, run in enumerate(runs):
            if i:
                title.append("  vs  ", style="dim")
            if letters:
                title.append(f"{_letter(i)} ", style="bold cyan")
            title.append(run.label, style="bold reverse" if i == base else "bold")
            info = getattr(run, "info", None)
            if info is not None and getattr(info, "simulated", False):
                title.append(" (simulated)", style="magenta")
        title.append("   baseline: ", style="dim")
        title.append(runs[base].label, style="dim")
        if note:
            title.append(f"   {note}", style="dim italic")
        if title != self._title:
            self._title = title
            header.update(title)

        columns, rows = _narrowed(full_columns, full_rows, letters, dropped)
        if columns != self._columns or set(rows) != {k.value for k in table.rows}:
            table.clear(columns=True)
            for key, label in columns:
                table.add_column(label, key=key)
            self._columns = columns
            for reason, cells in rows.items():
                table.add_row(*cells, key=reason)
        else:
            self._update_in_place(table, rows)
        if cursor_reason is not None and cursor_reason in table.rows:
            table.move_cursor(row=table.get_row_index(cursor_reason), animate=False)
        table.styles.max_height = table.row_count + 2 if not self.has_class("-wide") else None
        self.query_one("#compare-findings", Static).update(findings_text(comparison))

    def _fit_step(self, columns: tuple[tuple[str, Text], ...], rows: dict[str, list[Text]]) -> int:
        """The first FIT_STEPS entry whose table the pane shows whole (the last if none)."""
        if self.has_class("-wide") or not self.size.width:
            return 0
        room = self.size.width - SCROLLBAR_ALLOWANCE
        for step, (letters, dropped) in enumerate(FIT_STEPS):
            if _table_width(*_narrowed(columns, rows, letters, dropped)) <= room:
                return step
        return len(FIT_STEPS) - 1

    @staticmethod
    def _column_titles(comparison: Comparison) -> tuple[tuple[str, Text], ...]:
        columns: list[tuple[str, Text]] = [("reason", Text("Reason"))]
        for i, run in enumerate(comparison.runs):
            short = run.label if len(run.label) <= 12 else run.label[:11] + "…"
            columns.append((f"{i}:samples", Text(f"{short} n", justify="right")))
            columns.append((f"{i}:share", Text("%", justify="right")))
            columns.append((f"{i}:mean", Text("µs", justify="right")))
        if len(comparison.runs) == 2:
            columns.append(("d:share", Text("Δ%pt", justify="right")))
            columns.append(("d:mean", Text("Δmean", justify="right")))
        return tuple(columns)

    def _rows(self, comparison: Comparison) -> dict[str, list[Text]]:
        """Each reason's cells, in the comparison's order."""
        marks: dict[tuple[str, int, str], str] = {}
        for f in comparison.findings:
            column = _METRIC_COLUMN.get(f.metric, "samples")
            marks.setdefault((f.reason, f.pair[1], column), f.direction)
        marked = {k[0] for k in marks}
        two = len(comparison.runs) == 2
        rows: dict[str, list[Text]] = {}
        for row in comparison.rows:
            cells: list[Text] = [Text(row.reason, style="bold" if row.reason in marked else "")]
            for i, cell in enumerate(row.cells):
                cells.extend(self._run_cells(row.reason, i, cell, marks))
            if two:
                other = 1 - comparison.baseline
                share_d, mean_d = row.share_delta[other], row.mean_delta_pct[other]
                cells.append(_delta(share_d, numbers.pp(share_d, unit=False)))
                cells.append(_delta(mean_d, numbers.change(mean_d)))
            rows[row.reason] = cells
        return rows

    def _update_in_place(self, table: DataTable, rows: dict[str, list[Text]]) -> None:
        """Same columns and reasons: replace only the cells whose text or style changed,
        then restore the comparison's row order."""
        keys = [key for key, _ in self._columns]
        for reason, cells in rows.items():
            shown = table.get_row(reason)
            for key, old, new in zip(keys, shown, cells, strict=True):
                if old is not new and not _same_text(old, new):
                    table.update_cell(reason, key, new, update_width=True)
        order = {reason: i for i, reason in enumerate(rows)}
        if [r.key.value for r in table.ordered_rows] != list(order):
            table.sort("reason", key=lambda text: order[text.plain])

    def _run_cells(
        self, reason: str, i: int, cell: RunCell | None, marks: dict[tuple[str, int, str], str]
    ) -> Sequence[NumberText]:
        """The cells of one run, reused while its figures and marks stay the same (the fixed
        runs of a live comparison), so the table sees the same objects and skips them."""
        key = (reason, i, cell, tuple(marks.get((reason, i, c)) for c in _RUN_COLUMNS))
        hit = self._cell_memo.get(key)
        if hit is None:
            hit = self._cell_memo[key] = self._make_run_cells(reason, i, cell, marks)
        return hit

    @staticmethod
    def _make_run_cells(
        reason: str, i: int, cell: RunCell | None, marks: dict[tuple[str, int, str], str]
    ) -> Sequence[NumberText]:
        if cell is None:
            return [NumberText(fmt.ABSENT, None, "dim") for _ in range(3)]  # no exits
        out = []
        for column, display, value in (
            ("samples", fmt.count(cell.samples), cell.samples),
            ("share", fmt.pct(cell.share_pct), cell.share_pct),
            ("mean", fmt.us(cell.mean_us), cell.mean_us),
        ):
            direction = marks.get((reason, i, column))
            if direction is None:
                out.append(NumberText(display, value))
            else:
                arrow = _UP if direction == "up" else _DOWN
                style = "bold red" if direction == "up" else "bold green"
                out.append(NumberText(f"{arrow}{display}", value, style))
        return out
