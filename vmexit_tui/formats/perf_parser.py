"""Parse what `perf kvm stat report` and `perf kvm stat live` print: whole texts into reports.

`parse_text` reads every report of an input with its line span and the lines it skipped
(`vmexit_tui.formats.perf_stream_parser` does the reading, line by line);
`independent_reports` and `separate_reports` tell apart the pages of one paste;
`parse_report` wants exactly one report. The layout and its errors are described in
`vmexit_tui.formats.perf_report_lines`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vmexit_tui.analysis.model import EventKind, Report
from vmexit_tui.formats.pasted_lines import ParseWarning
from vmexit_tui.formats.perf_report_lines import ReportParseError, split_lines
from vmexit_tui.formats.perf_stream_parser import ReportStreamParser


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
        lines = split_lines(text)
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
