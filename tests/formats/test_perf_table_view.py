"""perf >= 6.4's table view: read into the model exactly, printed back byte for byte."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, Scope
from vmexit_tui.formats.perf_parser import parse_report, parse_text
from vmexit_tui.formats.perf_report_lines import ReportParseError
from vmexit_tui.formats.perf_table_view import UnprintableRow, format_table_view

PASTED = Path(__file__).parents[1] / "fixtures" / "pasted"
VIEWS = sorted(PASTED.glob("table_view_*.txt"))


def printed(raw: str) -> dict[str, list[str]]:
    """Row tokens split by hand from the right (an independent reading of the fixture)."""
    rows = {}
    for line in raw.splitlines():
        tokens = line.split()
        if len(tokens) >= 8 and tokens[-1].isdigit() and tokens[-6].endswith("%"):
            rows[" ".join(tokens[:-7])] = tokens[-7:]
    return rows


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: p.name)
def test_every_row_holds_the_numbers_perf_printed_in_microseconds(path):
    raw = path.read_text()
    report = parse_report(raw, source=path.name)
    expected = printed(raw)
    assert list(report.reasons) == list(expected)
    for row in report.rows:
        n, sp, t, tp, mx, mn, mean = expected[row.reason]
        assert row.samples == int(n)
        assert row.samples_pct == float(sp.rstrip("%"))
        assert row.time_pct == float(tp.rstrip("%"))
        assert row.max_us == int(mx) / 1000 and row.min_us == int(mn) / 1000
        assert row.mean_us == int(t) / int(n) / 1000  # Time / Samples, exact
        assert int(row.mean_us * 1000) == int(mean) or abs(row.mean_us * 1000 - int(mean)) < 1
        assert row.rel_stddev_pct is None and row.rel_stddev_below is None  # no spread
    assert report.total_samples is None and report.total_time_us is None  # no Total line
    assert not report.scope.known  # no Analyze line


def test_the_title_bar_and_the_event_kind_from_the_keys():
    vmx = parse_text((PASTED / "table_view_vmx.txt").read_text())
    assert vmx.reports[0].report.event is EventKind.VMEXIT and not vmx.warnings
    io = parse_report((PASTED / "table_view_ioport.txt").read_text())
    assert io.event is EventKind.IOPORT and io.row("0x3f8:POUT").samples == 120
    svm = parse_report((PASTED / "table_view_svm_by_time_no_title.txt").read_text())
    assert svm.row("PF excp").samples == 5 and svm.name_width == 40


def test_a_screen_copy_missing_rows_is_read_with_a_warning():
    lines = (PASTED / "table_view_vmx.txt").read_text().splitlines()
    parsed = parse_text("\n".join([*lines[:5], "? - help"]) + "\n", source="tv")
    assert len(parsed.reports[0].report.rows) == 3
    kinds = {w.kind: w for w in parsed.warnings}
    assert "11 entries" in kinds["incomplete table"].text
    assert kinds["note"].line == 6 and kinds["note"].text == "? - help"


def test_whole_percentages_are_read_too():
    raw = (
        "Event name  Samples  Sample%  Time (ns)  Time%  Max Time (ns)  Min Time (ns)  "
        "Mean Time (ns)\n"
        "HLT  3  75%  3000  97%  1500  500  1000\n"
        "MSR_WRITE  1  25%  90  3%  90  90  90\n"
    )
    report = parse_report(raw)
    assert report.row("HLT").samples_pct == 75.0 and report.row("MSR_WRITE").time_pct == 3.0


def test_a_mean_that_contradicts_time_over_samples_is_an_error():
    raw = (PASTED / "table_view_ioport.txt").read_text().replace("  5372\n", "  9372\n")
    assert "9372" in raw
    with pytest.raises(ReportParseError, match="Mean Time 9372 is not Time / Samples"):
        parse_report(raw, source="tv")


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: p.name)
def test_writing_what_was_parsed_gives_perfs_text_back_byte_for_byte(path):
    raw = path.read_text()
    report = parse_report(raw)
    assert format_table_view(report, title=raw.startswith("KVM event")) == raw


names = st.from_regex(r"[A-Za-z][A-Za-z_0-9]{0,12}( [a-z]{1,5})?", fullmatch=True)
pct = st.integers(min_value=0, max_value=10000).map(lambda v: v / 100)


@st.composite
def table_views(draw):
    rows = []
    for name in draw(st.lists(names, unique=True, min_size=1, max_size=8)):
        n = draw(st.integers(min_value=1, max_value=10**7))
        lo = draw(st.integers(min_value=0, max_value=10**6))
        hi = draw(st.integers(min_value=lo, max_value=10**10))
        total = draw(st.integers(min_value=lo * n, max_value=max(hi * n, lo * n)))
        rows.append(
            ExitStat(
                reason=name,
                samples=n,
                samples_pct=draw(pct),
                time_pct=draw(pct),
                min_us=lo / 1000,
                max_us=hi / 1000,
                mean_us=total / n / 1000,
            )
        )
    if all(r.reason.startswith(("0x", "0:")) for r in rows):  # would read as another kind
        rows[0] = replace(rows[0], reason="HLT")
    return Report(event=EventKind.VMEXIT, rows=tuple(rows), scope=Scope(known=False), name_width=40)


@settings(max_examples=300, deadline=None)
@given(table_views(), st.booleans())
def test_parse_of_write_is_the_identity(report, title):
    text = format_table_view(report, title=title)
    assert parse_report(text, source="w") == replace(report, source="w")


def test_values_the_table_view_cannot_print_are_refused():
    row = ExitStat("HLT", 3, samples_pct=1.0, time_pct=1.0, min_us=None, max_us=2, mean_us=1.5)
    with pytest.raises(UnprintableRow, match="'HLT': the min is unknown"):
        format_table_view(Report(EventKind.VMEXIT, (row,)))
