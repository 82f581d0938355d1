"""The parser against perf's exact layouts, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from vmexit_tui.analysis.model import EventKind
from vmexit_tui.formats.perf_parser import parse_report, parse_reports
from vmexit_tui.formats.perf_report_lines import ReportParseError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def printed_rows(raw: str) -> dict[str, list[str]]:
    """The row lines' tokens counted from the right, split by hand (an independent reading)."""
    rows = {}
    for line in raw.splitlines():
        if line.rstrip().endswith("% )"):
            tokens = line.split()
            rows[" ".join(tokens[:-10])] = tokens[-10:]
    return rows


@pytest.mark.parametrize(
    "name",
    ["vmx_perf61_pid.txt", "svm_perf64_vcpu1.txt", "mmio.txt", "ioport.txt", "chunk_whole.txt"],
)
def test_every_row_holds_the_numbers_perf_printed(name):
    raw = text(name)
    report = parse_report(raw, source=name)
    expected = printed_rows(raw)
    assert list(report.reasons) == list(expected)
    for row in report.rows:
        n, sp, tp, mn, mx, mean, _open, _pm, rel, _close = expected[row.reason]
        assert row.samples == int(n)
        assert row.samples_pct == float(sp.rstrip("%"))
        assert row.time_pct == float(tp.rstrip("%"))
        assert row.min_us == float(mn.removesuffix("us"))
        assert row.max_us == float(mx.removesuffix("us"))
        assert row.mean_us == float(mean.removesuffix("us"))
        assert row.rel_stddev_pct == float(rel.rstrip("%"))
    assert report.total_samples == sum(r.samples for r in report.rows)


def test_intel_report_scope_unknown_code_and_overflowing_columns():
    report = parse_report(text("vmx_perf61_pid.txt"))
    assert report.event is EventKind.VMEXIT
    assert report.scope.pids == (3062,) and report.scope.vcpu is None
    assert report.name_width == 20
    assert report.unknown_codes == ("unknown kvm exit code:75 on VMX",)
    assert report.row("UNKNOWN") is not None
    assert report.total_samples == 5298
    assert report.total_time_us == 2406466.35


def test_amd_names_with_spaces_forty_wide_and_one_vcpu():
    report = parse_report(text("svm_perf64_vcpu1.txt"))
    assert report.name_width == 40
    assert report.scope.all_vms and report.scope.vcpu == 1
    assert report.row("PF excp").samples == 5
    assert report.row("avic_unaccelerated_access").samples == 30


def test_mmio_and_ioport_kinds_and_keys():
    mmio = parse_report(text("mmio.txt"))
    io = parse_report(text("ioport.txt"))
    assert mmio.event is EventKind.MMIO and mmio.row("0xfee00380:W").samples == 400
    assert io.event is EventKind.IOPORT and io.row("0x3f8:POUT").samples == 300


def test_live_blocks_with_clear_screen_timestamps_and_lost_events():
    blocks = parse_reports(text("live_vmx_3_intervals.txt"))
    assert [b.timestamp for b in blocks] == [
        "14:02:07.000412",
        "14:02:08.000397",
        "14:02:09.000455",
    ]
    assert [b.lost_events for b in blocks] == [None, 3, None]
    # live resets counters per block: the merged report is the sum
    merged = parse_report(text("live_vmx_3_intervals.txt"))
    assert merged.total_samples == sum(b.total_samples for b in blocks)


def test_the_real_empty_report_of_a_nested_host():
    report = parse_report(text("nested_host_empty.txt"))
    assert report.rows == () and report.total_samples == 0 and report.total_time_us == 0.0


def test_rows_cut_by_a_pager_keep_their_fields_and_bound_the_spread():
    report = parse_report(text("pager_cut_gp_gp_bind.txt"))
    assert report.total_samples is None  # the Total line is absent: unknown, not 0
    msr = report.row("MSR_WRITE")
    assert (msr.samples, msr.samples_pct, msr.mean_us) == (24630, 41.42, 0.78)
    assert msr.rel_stddev_pct is None and msr.rel_stddev_below == 0.5
    assert report.row("MSR_READ").rel_stddev_below == 60.8


def test_a_row_cut_inside_an_earlier_column_keeps_only_whole_fields():
    raw = text("nested_host_empty.txt").replace(
        "\n\nTotal Samples:0, Total events handled time:0.00us.",
        "                 HLT       9660    17.96%    99.86%      0.63us 31300>\n",
    )
    row = parse_report(raw).row("HLT")
    assert (row.samples, row.time_pct, row.min_us) == (9660, 99.86, 0.63)
    assert row.max_us is None and row.mean_us is None and row.spread_bound is None


def test_perf_3x_layout_without_min_and_max_is_read():
    raw = (
        "\n\nAnalyze events for all VCPUs:\n\n"
        "             VM-EXIT    Samples  Samples%     Time%         Avg time \n\n"
        "         EXTERNAL_INTERRUPT     367     51.69%     1.04%      9.04us ( +-   5.60% )\n"
        "                 HLT        343    48.31%    98.96%   950.50us ( +-   9.85% )\n"
        "\nTotal Samples:710, Total events handled time:329463.68us.\n\n"
    )
    report = parse_report(raw)
    hlt = report.row("HLT")
    assert hlt.mean_us == 950.50 and hlt.min_us is None and hlt.max_us is None


def test_preamble_before_the_first_report_is_skipped():
    raw = "  Warning:\nProcessed 988 events and lost 1 chunks!\n" + text("mmio.txt")
    assert parse_report(raw).event is EventKind.MMIO


def test_nan_shares_of_an_all_zero_time_report_become_unknown():
    raw = text("nested_host_empty.txt").replace(
        "\n\nTotal Samples:0",
        "\n                 HLT          1   100.00%     -nan%      0.00us      0.00us"
        "      0.00us ( +-   0.00% )\n\nTotal Samples:1",
    )
    row = parse_report(raw).row("HLT")
    assert row.samples == 1 and row.time_pct is None


BAD = {
    "empty": ("", 1, "a perf kvm stat report"),
    "prose": ("hello\nworld\n", 1, "a perf kvm stat report"),
    "no column header": (
        "\n\nAnalyze events for all VMs, all VCPUs:\n\nHLT 1 2 3\n",
        5,
        "column header",
    ),
    "header then EOF": ("Analyze events for all VMs, all VCPUs:\n", 1, "column header"),
    "row missing a column": (None, 7, "a report row"),
    "row with a word for a number": (None, 7, "a report row"),
    "row cut before its count": (None, 7, "a report row"),
}


def _bad_text(case: str) -> str:
    base = text("mmio.txt")
    lines = base.split("\n")
    if case == "row missing a column":
        tokens = lines[6].split()
        del tokens[3]  # the Time% column
        lines[6] = " ".join(tokens)
    elif case == "row with a word for a number":
        lines[6] = lines[6].replace("400", "four", 1)
    elif case == "row cut before its count":
        lines[6] = lines[6][:26] + ">"
    return "\n".join(lines)


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_raises_one_error_type_naming_the_line(case):
    raw, line, expected = BAD[case]
    if raw is None:
        raw = _bad_text(case)
    with pytest.raises(ReportParseError) as info:
        parse_reports(raw, source="in.txt")
    err = info.value
    assert err.line == line, str(err)
    assert expected in err.expected
    assert str(err).startswith(f"in.txt:{line}: expected ")


def test_one_report_of_several_kinds_is_refused_by_parse_report():
    with pytest.raises(ReportParseError, match="one event kind per input"):
        parse_report(text("mmio.txt") + text("ioport.txt"))
    assert [r.event for r in parse_reports(text("mmio.txt") + text("ioport.txt"))] == [
        EventKind.MMIO,
        EventKind.IOPORT,
    ]
