"""Parse what `perf kvm stat report` and `perf kvm stat live` print.

The layout follows perf's `print_result()` (tools/perf/builtin-kvm.c)::

    [live: ESC[H ESC[2J "\\n" on stdout, then "%H:%M:%S.%06ld"]
    "\\n\\n"
    "Analyze events for " ("all VMs, " | "pid(s) %s, ") ("all VCPUs:\\n\\n" | "VCPU %d:\\n\\n")
    "%*s %10s %9s %9s %11s %11s %16s \\n\\n"           title, Samples ... Avg time
    "%*s %10llu %8.2f%% %8.2f%% %9.2fus %9.2fus %9.2fus ( +-%7.2f%% )\\n"   per row
    "\\nTotal Samples:%llu, Total events handled time:%.2fus.\\n\\n"
    ["\\nLost events: %llu\\n\\n"]

Rows are read by tokens anchored at the right, so wide values that overflow their column and
names containing spaces (SVM's "PF excp") parse. A row that a pager cut off (ending in ">")
keeps the fields that are whole; a cut spread becomes an upper bound. Anything else that is
not perf's layout raises `ReportParseError`, naming the line and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, Scope
from vmexit_tui.formats.pasted_lines import (
    ParseWarning,
    binary_hint,
    ends_a_table,
    is_elision,
    kind_of,
    looks_binary,
)
from vmexit_tui.formats.perf_table_view import EXPECTED_ROW as EXPECTED_TABLE_ROW
from vmexit_tui.formats.perf_table_view import HEADER as TABLE_HEADER
from vmexit_tui.formats.perf_table_view import TITLE as TABLE_TITLE
from vmexit_tui.formats.perf_table_view import TableViewRowError, infer_kind
from vmexit_tui.formats.perf_table_view import parse_row as parse_table_row

CLEAR_SCREEN = "\x1b[H\x1b[2J"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_NUM = r"[-+]?(?:\d+\.\d+|nan|inf)"
_TIMESTAMP = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{6}$")
_ANALYZE = re.compile(
    r"^Analyze events for (?:(?P<all>all VMs), |pid\(s\) (?P<pids>[^,]+(?:,\s*\d+)*), "
    r"|(?P<dazed>dazed and confused on what is monitored, ))?"
    r"(?:(?P<allv>all VCPUs)|VCPU (?P<vcpu>\d+)):$"
)
_COLUMNS = re.compile(
    r"^(?P<lead>\s*)(?P<title>VM-EXIT|MMIO Access|IO Port Access|MSR Access)\s+Samples\s+Samples%"
    r"\s+Time%(?P<minmax>\s+Min Time\s+Max Time)?\s+Avg time\s*$"
)
_ROW = re.compile(
    rf"^(?P<name>.*?\S)\s+(?P<n>\d+)\s+(?P<sp>{_NUM})%\s+(?P<tp>{_NUM})%"
    rf"\s+(?P<min>{_NUM})us\s+(?P<max>{_NUM})us\s+(?P<mean>{_NUM})us"
    rf"\s+\(\s*\+-\s*(?P<rel>{_NUM})%\s*\)$"
)
_ROW_OLD = re.compile(
    rf"^(?P<name>.*?\S)\s+(?P<n>\d+)\s+(?P<sp>{_NUM})%\s+(?P<tp>{_NUM})%"
    rf"\s+(?P<mean>{_NUM})us\s+\(\s*\+-\s*(?P<rel>{_NUM})%\s*\)$"
)
# A row cut by a pager: whole fields in order, then whatever part of the next one is visible.
_ROW_CUT = re.compile(
    rf"^(?P<name>.*?\S)\s+(?P<n>\d+)(?=\s)"
    rf"(?:\s+(?P<sp>{_NUM})%(?:\s+(?P<tp>{_NUM})%"
    rf"(?:\s+(?P<min>{_NUM})us(?:\s+(?P<max>{_NUM})us(?:\s+(?P<mean>{_NUM})us"
    rf"(?:\s*\(\s*(?:\+-?\s*(?P<rel>\d*\.?\d*))?)?)?)?)?)?)?"
    r"(?P<partial>\s*[^\s>]*)$"
)
_TOTAL = re.compile(rf"^Total Samples:(?P<n>\d+), Total events handled time:(?P<t>{_NUM})us\.$")
_LOST = re.compile(r"^Lost events: (?P<n>\d+)$")
_UNKNOWN_CODE = re.compile(r"^unknown kvm exit code:-?\d+ on \w+$")


class ReportParseError(ValueError):
    """Input that is not perf kvm stat's layout: where, what was expected, what was found."""

    def __init__(self, source: str, line: int, expected: str, found: str) -> None:
        self.source = source
        self.line = line
        self.expected = expected
        self.found = found
        shown = found if len(found) <= 80 else found[:77] + "..."
        super().__init__(f"{source}:{line}: expected {expected}, found {shown!r}")


class WrappedRowError(ReportParseError):
    """A row split over two lines, as mail clients wrap long lines: still an error, said so."""

    def __init__(self, source: str, line: int, first: str, second: str) -> None:
        ValueError.__init__(
            self,
            f"{source}:{line}: this row looks wrapped over two lines (as a mail client wraps "
            f"long lines); join lines {line} and {line + 1} and try again: "
            f"{first!r} + {second!r}",
        )
        self.source, self.line = source, line
        self.expected, self.found = "one row per line", f"{first} {second}"


class BinaryInput(ValueError):
    """Bytes that are not text at all (a perf.data file, an image, ...)."""

    def __init__(self, source: str, hint: str = "") -> None:
        self.source = source
        super().__init__(f"{source}: binary file, not a perf kvm stat report{hint}")


def decode_input(data: bytes, source: str) -> str:
    """The text of a report file; `BinaryInput` when the bytes are not text."""
    if looks_binary(data):
        raise BinaryInput(source, binary_hint(data))
    return data.decode("utf-8", errors="replace")


def _num(text: str | None) -> float | None:
    if text is None:
        return None
    value = float(text)
    return None if value != value or value in (float("inf"), float("-inf")) else value


def cut_bound(prefix: str) -> float | None:
    """Upper bound of a spread whose printed value was cut after `prefix` ("0.4" -> 0.5).

    perf prints the spread as "%7.2f", right-aligned, so a cut at a fixed column always keeps
    the whole integer part: "21" means 21.xx, below 22.
    """
    prefix = prefix.rstrip(".")
    if not prefix:
        return None
    if "." in prefix:
        decimals = len(prefix.split(".", 1)[1])
        return round(float(prefix) + 10.0**-decimals, decimals)
    return float(int(prefix) + 1)


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


def _normalize(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


_UNKNOWN_SCOPE = Scope(known=False)
_ROWISH = re.compile(r"\S\s+\d+\s+[-+]?\d+(?:\.\d+)?%")


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
        lines = _normalize(data)
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
        line = _ANSI.sub("", raw).strip()
        if self._pending is not None:
            self._resolve_pending(line, raw)
        if not line:
            return
        block = self._block
        if block is not None and block.total_samples is not None:
            m = _LOST.match(line)
            if m:
                block.lost_events = int(m["n"])
                block.last_line = self._line_no
                self._finish()
                return
            self._finish()
            block = None
        if _TIMESTAMP.match(line):
            self._new_block(timestamp=line)
            return
        m = _ANALYZE.match(line)
        if m or line.startswith("Analyze events for all VCPUs:"):  # the latter: perf 3.x
            if block is None or block.scope is not None:
                block = self._new_block()
            block.scope = _scope(m) if m else Scope()
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
            columns, view = _COLUMNS.match(header), TABLE_HEADER.match(header)
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
            m = _TOTAL.match(line)
            if m:
                block.total_samples = int(m["n"])
                block.total_time_us = _num(m["t"])
                return  # complete; a 'Lost events' line may still follow
        if _UNKNOWN_CODE.match(line):
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
        if block.table_view and not _ROWISH.search(text):
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
        m = (_ROW_OLD if block.old_layout else _ROW).match(line)
        if m:
            g = m.groupdict()
            return ExitStat(
                reason=g["name"],
                samples=int(g["n"]),
                samples_pct=_num(g["sp"]),
                time_pct=_num(g["tp"]),
                min_us=_num(g.get("min")),
                max_us=_num(g.get("max")),
                mean_us=_num(g["mean"]),
                rel_stddev_pct=_num(g["rel"]),
            )
        if line.endswith(">") and not block.old_layout:
            m = _ROW_CUT.match(line[:-1].rstrip())
            if m:
                rel = m["rel"]
                return ExitStat(
                    reason=m["name"],
                    samples=int(m["n"]),
                    samples_pct=_num(m["sp"]),
                    time_pct=_num(m["tp"]),
                    min_us=_num(m["min"]),
                    max_us=_num(m["max"]),
                    mean_us=_num(m["mean"]),
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


def _scope(m: re.Match[str]) -> Scope:
    pids: tuple[int, ...] = ()
    if m["pids"]:
        try:
            pids = tuple(int(p) for p in re.split(r"[,\s]+", m["pids"].strip()) if p)
        except ValueError:
            pids = ()
    vcpu = int(m["vcpu"]) if m["vcpu"] is not None else None
    return Scope(pids=pids, vcpu=vcpu)


@dataclass(frozen=True, slots=True)
class ParsedReport:
    """One report and the lines of the input it came from (1-based, inclusive)."""

    report: Report
    first_line: int
    last_line: int


@dataclass(frozen=True, slots=True)
class ParsedText:
    """Everything read from one input: its reports in order, and the lines skipped."""

    reports: tuple[ParsedReport, ...]
    warnings: tuple[ParseWarning, ...]

    def warnings_of(self, first: int, last: int) -> tuple[ParseWarning, ...]:
        """The warnings about lines first..last."""
        return tuple(w for w in self.warnings if first <= w.line <= last)


def parse_text(text: str, *, source: str = "<input>") -> ParsedText:
    """Every report in `text` with its line span, and warnings for the lines skipped.

    Raises `ReportParseError` when the input holds no report at all, or a broken one.
    """
    parser = ReportStreamParser(source, keep_spans=True)
    reports = parser.feed(text)
    reports += parser.close()
    if not reports:
        lines = _normalize(text)
        line, found = 1, "empty input"
        for i, ln in enumerate(lines, 1):
            if ln.strip():
                line, found = i, ln.strip()
                break
        raise ReportParseError(
            source,
            line,
            "a perf kvm stat report ('Analyze events for ...', a column header line, or "
            "perf's table view)",
            found,
        )
    spans = parser.spans
    assert len(spans) == len(reports)
    return ParsedText(
        reports=tuple(ParsedReport(r, a, b) for r, (a, b) in zip(reports, spans, strict=True)),
        warnings=tuple(parser.warnings),
    )


def parse_reports(text: str, *, source: str = "<input>") -> list[Report]:
    """Every report in `text` (one per event kind, or one per live interval)."""
    return [p.report for p in parse_text(text, source=source).reports]


def independent_reports(parsed: Sequence[ParsedReport]) -> list[ParsedReport]:
    """Reports that stand alone: consecutive live intervals (timestamped) merge into one run.

    Two `report` tables pasted one after the other (before/after) stay apart; the blocks of
    one `perf kvm stat live` session are one run, their exact merge. All of one event kind.
    """
    from vmexit_tui.analysis.model import merge_reports

    out: list[ParsedReport] = []
    live: list[ParsedReport] = []

    def flush() -> None:
        if live:
            merged = merge_reports(p.report for p in live)
            assert merged is not None
            out.append(ParsedReport(merged, live[0].first_line, live[-1].last_line))
            live.clear()

    for p in parsed:
        if p.report.timestamp is not None:
            live.append(p)
            continue
        flush()
        out.append(p)
    flush()
    return out


def separate_reports(
    text: str, *, source: str = "<input>", kind: EventKind | None = None
) -> list[Report]:
    """The separate reports of one event kind in `text` (live intervals merged into one run).

    `kind` defaults to the first kind in the input; when the input holds no report of `kind`
    but only one kind, that kind is used.
    """
    parsed = parse_text(text, source=source).reports
    kinds = list(dict.fromkeys(p.report.event for p in parsed))
    if kind not in kinds:
        if kind is not None and len(kinds) > 1:
            raise ReportParseError(
                source, 1, f"a {kind.value} report", "only " + ", ".join(kinds) + " reports"
            )
        kind = kinds[0]
    return [p.report for p in independent_reports([p for p in parsed if p.report.event == kind])]


def parse_report(text: str, *, source: str = "<input>") -> Report:
    """The single report in `text`; several blocks of one kind (live output) are merged.

    Several independent reports (two `report` tables in one file) are refused: read them
    with `parse_text` and `independent_reports`.
    """
    parsed = parse_text(text, source=source).reports
    kinds = {p.report.event for p in parsed}
    if len(kinds) > 1:
        raise ReportParseError(
            source,
            1,
            "one event kind per input",
            "reports for " + ", ".join(sorted(k.value for k in kinds)),
        )
    runs = independent_reports(parsed)
    if len(runs) > 1:
        raise ReportParseError(
            source,
            runs[1].first_line,
            "one report per input",
            f"{len(runs)} separate reports (lines "
            + ", ".join(f"{r.first_line}-{r.last_line}" for r in runs)
            + ")",
        )
    return runs[0].report
