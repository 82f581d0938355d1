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
from dataclasses import dataclass, field

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, Scope

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


class ReportStreamParser:
    """Incremental parser: feed text as it arrives, get each report once it is complete.

    A report is complete at its `Total Samples` line (plus a `Lost events` line right after
    it, which `take_pending` or the next block picks up). `perf kvm stat live` prints one
    block per interval; each is the counts of that interval alone.
    """

    def __init__(self, source: str = "<input>") -> None:
        self.source = source
        self._line_no = 0
        self._partial = ""
        self._block: _Block | None = None
        self._done: list[Report] = []
        self._seen_header = False

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
        block, self._block = self._block, None
        if block is not None:
            if not block.has_table:
                raise ReportParseError(
                    self.source,
                    self._line_no,
                    "the column header line (VM-EXIT  Samples  Samples% ...)",
                    "end of input",
                )
            self._done.append(block.to_report(self.source))
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
        if block is not None and block.has_table:
            self._done.append(block.to_report(self.source))

    def _fail(self, expected: str, found: str) -> None:
        raise ReportParseError(self.source, self._line_no, expected, found)

    def _line(self, raw: str) -> None:
        line = _ANSI.sub("", raw).strip()
        if not line:
            return
        block = self._block
        if block is not None and block.total_samples is not None:
            m = _LOST.match(line)
            if m:
                block.lost_events = int(m["n"])
                self._finish()
                return
            self._finish()
            block = None
        if _TIMESTAMP.match(line):
            self._finish()
            self._block = _Block(self._line_no, timestamp=line)
            return
        m = _ANALYZE.match(line)
        if m:
            if block is not None and block.scope is not None:
                self._finish()
                block = None
            if block is None:
                block = self._block = _Block(self._line_no)
            block.scope = _scope(m)
            self._seen_header = True
            return
        if line.startswith("Analyze events for all VCPUs:"):  # perf 3.x
            if block is not None and block.scope is not None:
                self._finish()
                block = None
            if block is None:
                block = self._block = _Block(self._line_no)
            block.scope = Scope()
            self._seen_header = True
            return
        if block is None or block.scope is None:
            if not self._seen_header:
                return  # preamble before the first report (perf warnings, record status)
            self._fail("'Analyze events for ...' or a live timestamp", line)
            return
        if block.event is None:
            m = _COLUMNS.match(raw.replace("\t", " ").rstrip())
            if not m:
                self._fail(
                    "the column header (VM-EXIT|MMIO Access|IO Port Access  Samples  Samples% "
                    "Time%  Min Time  Max Time  Avg time)",
                    line,
                )
            kind = EventKind.from_column_title(m["title"])
            assert kind is not None
            block.event = kind
            block.name_width = len(m["lead"]) + len(m["title"])
            block.old_layout = m["minmax"] is None
            return
        m = _TOTAL.match(line)
        if m:
            block.total_samples = int(m["n"])
            block.total_time_us = _num(m["t"])
            return  # complete; a 'Lost events' line may still follow
        if _UNKNOWN_CODE.match(line):
            block.unknown_codes.append(line)
            return
        block.rows.append(self._row(line, block.old_layout))

    def _row(self, line: str, old_layout: bool) -> ExitStat:
        m = (_ROW_OLD if old_layout else _ROW).match(line)
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
        if line.endswith(">") and not old_layout:
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
        columns = (
            "Samples Samples% Time% Avg time"
            if old_layout
            else ("Samples Samples% Time% Min Time Max Time Avg time")
        )
        self._fail(
            f"a report row (name, then {columns} ( +- x.xx% )), "
            "an 'unknown kvm exit code' line, or 'Total Samples:N, ...'",
            line,
        )
        raise AssertionError  # unreachable


def _scope(m: re.Match[str]) -> Scope:
    pids: tuple[int, ...] = ()
    if m["pids"]:
        try:
            pids = tuple(int(p) for p in re.split(r"[,\s]+", m["pids"].strip()) if p)
        except ValueError:
            pids = ()
    vcpu = int(m["vcpu"]) if m["vcpu"] is not None else None
    return Scope(pids=pids, vcpu=vcpu)


def parse_reports(text: str, *, source: str = "<input>") -> list[Report]:
    """Every report in `text` (one per event kind, or one per live interval)."""
    parser = ReportStreamParser(source)
    reports = parser.feed(text)
    reports += parser.close()
    if not reports:
        stripped = [ln for ln in _normalize(text) if ln.strip()]
        found = stripped[0].strip() if stripped else "empty input"
        line = 1
        for i, ln in enumerate(_normalize(text), 1):
            if ln.strip():
                line = i
                break
        raise ReportParseError(
            source, line, "a perf kvm stat report ('Analyze events for ...')", found
        )
    return reports


def parse_report(text: str, *, source: str = "<input>") -> Report:
    """The single report in `text`; several blocks of one kind (live output) are merged."""
    reports = parse_reports(text, source=source)
    kinds = {r.event for r in reports}
    if len(kinds) > 1:
        raise ReportParseError(
            source,
            1,
            "one event kind per input",
            "reports for " + ", ".join(sorted(k.value for k in kinds)),
        )
    if len(reports) == 1:
        return reports[0]
    from vmexit_tui.analysis.model import merge_reports

    merged = merge_reports(reports)
    assert merged is not None
    return merged
