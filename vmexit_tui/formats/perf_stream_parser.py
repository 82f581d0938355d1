"""The incremental parser of perf kvm stat text: lines in, each report out once it is complete.

It reads the classic layout (`vmexit_tui.formats.perf_report_lines`), perf >= 6.4's table view
(`vmexit_tui.formats.perf_table_view`) and pasted text (`vmexit_tui.formats.pasted_lines`).
`vmexit_tui.formats.perf_parser` assembles whole texts from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, Scope
from vmexit_tui.formats.pasted_lines import (
    ParseWarning,
    ends_a_table,
    is_elision,
    kind_of,
)
from vmexit_tui.formats.perf_report_lines import (
    ANALYZE,
    ANSI,
    COLUMNS,
    LOST,
    ROW,
    ROW_CUT,
    ROW_OLD,
    ROWISH,
    TIMESTAMP,
    TOTAL,
    UNKNOWN_CODE,
    ReportParseError,
    WrappedRowError,
    cut_bound,
    num,
    scope_of,
    split_lines,
)
from vmexit_tui.formats.perf_table_view import EXPECTED_ROW as EXPECTED_TABLE_ROW
from vmexit_tui.formats.perf_table_view import HEADER as TABLE_HEADER
from vmexit_tui.formats.perf_table_view import TITLE as TABLE_TITLE
from vmexit_tui.formats.perf_table_view import TableViewRowError, infer_kind
from vmexit_tui.formats.perf_table_view import parse_row as parse_table_row


@dataclass
class _Block:
    start_line: int
    timestamp: str | None = None
    scope: Scope | None = None
    event: EventKind | None = None
    name_width: int = 20
    old_layout: bool = False
    table_view: bool = False
    title_entries: int | None = None
    last_line: int = 0
    rows: list[ExitStat] = field(default_factory=list)
    unknown_codes: list[str] = field(default_factory=list)
    total_samples: int | None = None
    total_time_us: float | None = None
    lost_events: int | None = None

    @property
    def has_table(self) -> bool:
        return self.event is not None

    def to_report(self, source: str) -> Report:
        assert self.event is not None and self.scope is not None
        return Report(
            event=self.event,
            rows=tuple(self.rows),
            total_samples=self.total_samples,
            total_time_us=self.total_time_us,
            scope=self.scope,
            lost_events=self.lost_events,
            name_width=self.name_width,
            timestamp=self.timestamp,
            unknown_codes=tuple(self.unknown_codes),
            source=source,
        )


_UNKNOWN_SCOPE = Scope(known=False)


class ReportStreamParser:
    """Incremental parser: feed text as it arrives, get each report once it is complete.

    A report is complete at its `Total Samples` line (plus a `Lost events` line right after
    it, which `take_pending` or the next block picks up). `perf kvm stat live` prints one
    block per interval; each is the counts of that interval alone.

    Lines outside a table that are not perf's (notes, shell prompts, elisions) are skipped and
    listed in `warnings` (the first `MAX_WARNINGS`; `warnings_dropped` counts the rest). With
    `keep_spans`, `spans` holds the first and last line of each report handed out.
    """

    MAX_WARNINGS = 1000

    def __init__(self, source: str = "<input>", *, keep_spans: bool = False) -> None:
        self.source = source
        self._line_no = 0
        self._partial = ""
        self._block: _Block | None = None
        self._done: list[Report] = []
        self._seen_header = False
        self._pending: tuple[int, str] | None = None  # a failed row: wrapped onto the next line?
        self.warnings: list[ParseWarning] = []
        self.warnings_dropped = 0
        self.keep_spans = keep_spans
        self.spans: list[tuple[int, int]] = []

    def feed(self, text: str) -> list[Report]:
        """Consume more text; return the reports completed by it."""
        data = self._partial + text
        lines = split_lines(data)
        self._partial = lines.pop()  # the unterminated last line waits for more text
        for line in lines:
            self._line_no += 1
            self._line(line)
        out, self._done = self._done, []
        return out

    def close(self) -> list[Report]:
        """End of input: flush, and fail on a report left without its table."""
        if self._partial:
            self._line_no += 1
            self._line(self._partial)
            self._partial = ""
        if self._pending is not None:
            self._resolve_pending("", "")
        block = self._block
        if block is not None:
            if not block.has_table:
                self._block = None
                raise ReportParseError(
                    self.source,
                    self._line_no,
                    "the column header line (VM-EXIT  Samples  Samples% ...)",
                    "end of input",
                )
            self._finish()
        out, self._done = self._done, []
        return out

    def take_complete(self) -> list[Report]:
        """Reports whose `Total Samples` line has arrived, without waiting for the next block.

        A live source calls this once its pipe has gone quiet: a `Lost events` line, if any,
        comes in the same burst as the table.
        """
        if self._block is not None and self._block.total_samples is not None:
            self._finish()
        out, self._done = self._done, []
        return out

    @property
    def seen_header(self) -> bool:
        return self._seen_header

    def _finish(self) -> None:
        block, self._block = self._block, None
        if block is None or not block.has_table:
            return
        if block.table_view:
            kind, note = infer_kind(tuple(block.rows))
            block.event = kind
            if note:
                self._warn(block.start_line, "guess", note)
            if block.title_entries is not None and block.title_entries != len(block.rows):
                self._warn(
                    block.start_line,
                    "incomplete table",
                    f"perf's title says {block.title_entries} entries; "
                    f"{len(block.rows)} rows were pasted",
                )
        self._done.append(block.to_report(self.source))
        if self.keep_spans:
            self.spans.append((block.start_line, max(block.last_line, block.start_line)))

    def _warn(self, line: int, kind: str, text: str) -> None:
        if len(self.warnings) < self.MAX_WARNINGS:  # a long live session must not grow
            self.warnings.append(ParseWarning(self.source, line, kind, text))
        else:
            self.warnings_dropped += 1

    def _skip(self, line: str) -> None:
        self._warn(self._line_no, kind_of(line), line)

    def _fail(self, expected: str, found: str) -> None:
        raise ReportParseError(self.source, self._line_no, expected, found)

    def _new_block(self, **kwargs: object) -> _Block:
        self._finish()
        block = self._block = _Block(self._line_no, last_line=self._line_no, **kwargs)  # type: ignore[arg-type]
        return block

    def _line(self, raw: str) -> None:
        line = ANSI.sub("", raw).strip()
        if self._pending is not None:
            self._resolve_pending(line, raw)
        if not line:
            return
        block = self._block
        if block is not None and block.total_samples is not None:
            m = LOST.match(line)
            if m:
                block.lost_events = int(m["n"])
                block.last_line = self._line_no
                self._finish()
                return
            self._finish()
            block = None
        if TIMESTAMP.match(line):
            self._new_block(timestamp=line)
            return
        m = ANALYZE.match(line)
        if m or line.startswith("Analyze events for all VCPUs:"):  # the latter: perf 3.x
            if block is None or block.scope is not None:
                block = self._new_block()
            block.scope = scope_of(m) if m else Scope()
            block.last_line = self._line_no
            self._seen_header = True
            return
        m = TABLE_TITLE.match(line)
        if m:
            block = self._new_block(scope=_UNKNOWN_SCOPE, table_view=True)
            block.title_entries = int(m["n"])
            self._seen_header = True
            return
        columns = view = None
        if "Samples" in line:  # both column headers hold it; rows never do
            header = raw.replace("\t", " ").rstrip()
            columns, view = COLUMNS.match(header), TABLE_HEADER.match(header)
        if block is None or block.scope is None or (block.has_table and (columns or view)):
            if columns or view:  # an excerpt that starts at the column header
                if block is None or block.has_table:
                    block = self._new_block()
                block.scope = _UNKNOWN_SCOPE
                block.table_view = view is not None
                self._seen_header = True
            else:
                self._skip(line)  # a note, a prompt, perf's own messages: not a report
                return
        block.last_line = self._line_no
        if block.event is None:
            if view is not None:  # perf's scope line pasted above the table view
                block.table_view = True
            if block.table_view:
                if not view:
                    self._fail(
                        "the table view's column header (Event name  Samples  Sample%  "
                        "Time (ns) ...)",
                        line,
                    )
                assert view is not None
                block.event = EventKind.VMEXIT  # the keys decide at the end of the table
                block.name_width = len(view["lead"]) + len("Event name")
                return
            if not columns:
                self._fail(
                    "the column header (VM-EXIT|MMIO Access|IO Port Access  Samples  Samples% "
                    "Time%  Min Time  Max Time  Avg time)",
                    line,
                )
            assert columns is not None
            kind = EventKind.from_column_title(columns["title"])
            assert kind is not None
            block.event = kind
            block.name_width = len(columns["lead"]) + len(columns["title"])
            block.old_layout = columns["minmax"] is None
            return
        if not block.table_view:
            m = TOTAL.match(line)
            if m:
                block.total_samples = int(m["n"])
                block.total_time_us = num(m["t"])
                return  # complete; a 'Lost events' line may still follow
        if UNKNOWN_CODE.match(line):
            block.unknown_codes.append(line)
            return
        row = self._try_row(line, block)
        if row is not None:
            block.rows.append(row)
        elif is_elision(line):
            self._warn(self._line_no, "elision", line)
        elif ends_a_table(line):  # the paste stopped before perf's end of the table
            block.last_line = self._line_no - 1
            self._finish()
            self._skip(line)
        else:
            self._pending = (self._line_no, line)  # a wrapped row, or the end of a table view

    def _resolve_pending(self, line: str, raw: str) -> None:
        """The line after one that is no row: a wrapped row, the end of a table, or an error."""
        assert self._pending is not None
        no, text = self._pending
        self._pending = None
        block = self._block
        assert block is not None
        if (
            line
            and self._try_row(line, block) is None
            and any(self._try_row(text + sep + line, block) is not None for sep in (" ", ""))
        ):
            raise WrappedRowError(self.source, no, text, line)
        if block.table_view and not ROWISH.search(text):
            block.last_line = no - 1  # the table ended; this line is the pasted text after it
            self._finish()
            self._warn(no, kind_of(text), text)
            return
        self._row_error(no, text, block)

    def _try_row(self, line: str, block: _Block) -> ExitStat | None:
        if block.table_view:
            try:
                return parse_table_row(line)
            except TableViewRowError as exc:
                raise ReportParseError(self.source, self._line_no, str(exc), line) from None
        m = (ROW_OLD if block.old_layout else ROW).match(line)
        if m:
            g = m.groupdict()
            return ExitStat(
                reason=g["name"],
                samples=int(g["n"]),
                samples_pct=num(g["sp"]),
                time_pct=num(g["tp"]),
                min_us=num(g.get("min")),
                max_us=num(g.get("max")),
                mean_us=num(g["mean"]),
                rel_stddev_pct=num(g["rel"]),
            )
        if line.endswith(">") and not block.old_layout:
            m = ROW_CUT.match(line[:-1].rstrip())
            if m:
                rel = m["rel"]
                return ExitStat(
                    reason=m["name"],
                    samples=int(m["n"]),
                    samples_pct=num(m["sp"]),
                    time_pct=num(m["tp"]),
                    min_us=num(m["min"]),
                    max_us=num(m["max"]),
                    mean_us=num(m["mean"]),
                    rel_stddev_below=cut_bound(rel) if rel else None,
                )
        return None

    def _row_error(self, line_no: int, line: str, block: _Block) -> None:
        if block.table_view:
            expected = EXPECTED_TABLE_ROW
        else:
            columns = (
                "Samples Samples% Time% Avg time"
                if block.old_layout
                else ("Samples Samples% Time% Min Time Max Time Avg time")
            )
            expected = (
                f"a report row (name, then {columns} ( +- x.xx% )), "
                "an 'unknown kvm exit code' line, or 'Total Samples:N, ...'"
            )
        raise ReportParseError(self.source, line_no, expected, line)
