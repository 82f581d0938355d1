"""What people paste around perf's tables: each shape read, or refused, as issue 13 says."""

from __future__ import annotations

from pathlib import Path

import pytest

from vmexit_tui.formats.pasted_lines import kind_of, looks_binary
from vmexit_tui.formats.perf_parser import (
    independent_reports,
    parse_report,
    parse_reports,
    parse_text,
)
from vmexit_tui.formats.perf_report_lines import (
    BinaryInput,
    ReportParseError,
    WrappedRowError,
    decode_input,
)

PASTED = Path(__file__).parents[1] / "fixtures" / "pasted"
REPORTS = Path(__file__).parents[1] / "fixtures" / "reports"


def text(name: str) -> str:
    return (PASTED / name).read_text()


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("[..]", "elision"),
        ("[...]", "elision"),
        ("...", "elision"),
        ("…", "elision"),
        ("<snip>", "elision"),
        ("[snip]", "elision"),
        ("-- snip --", "elision"),
        ("$ perf kvm stat report", "shell prompt"),
        ("# perf kvm stat live -d 1", "shell prompt"),
        ("root@host:~# perf kvm stat report --event=vmexit", "shell prompt"),
        ("[root@rhel9 ~]# perf kvm stat report", "shell prompt"),
        ("(venv) me@box:~/x$ ls", "shell prompt"),
        ("root@host:~#", "shell prompt"),
        ("sudo perf kvm stat report", "command"),
        ("perf kvm -i perf.data.guest stat report", "command"),
        ("[ perf record: Captured and wrote 1.2 MB perf.data.guest ]", "perf message"),
        ("Note: HLT dominates", "note"),
    ],
)
def test_kinds_of_pasted_lines(line, kind):
    assert kind_of(line) == kind


def test_an_excerpt_from_the_column_header_is_read_with_its_scope_unknown():
    excerpt = text("excerpt_from_header.txt")
    report = parse_report(excerpt)
    assert not report.scope.known
    assert len(report.rows) == 11 and report.total_samples == sum(r.samples for r in report.rows)


def test_an_excerpt_reads_the_same_rows_as_the_whole_report():
    whole = (REPORTS / "vmx_perf61_pid.txt").read_text()
    excerpt = whole[whole.index("             VM-EXIT") :]
    a, b = parse_report(whole), parse_report(excerpt)
    assert a.rows == b.rows and a.total_time_us == b.total_time_us
    assert a.scope.known and not b.scope.known


def test_prompts_commands_and_a_note_after_the_total_are_skipped_with_warnings():
    parsed = parse_text(text("mail_prompt_note.txt"), source="mail")
    [only] = parsed.reports
    assert only.report.scope.pids == (3062,) and len(only.report.rows) == 11
    got = [(w.line, w.kind) for w in parsed.warnings]
    assert got == [
        (1, "note"),
        (3, "shell prompt"),
        (4, "perf message"),
        (5, "shell prompt"),
        (26, "note"),
        (27, "shell prompt"),
    ]
    assert str(parsed.warnings[4]) == (
        "mail:26: skipped note: 'Note: HLT dominates because the guest is idle.'"
    )
    # never read as a row: the reasons are exactly perf's
    assert "Note:" not in " ".join(only.report.reasons)


def test_elision_lines_inside_a_table_are_skipped_and_named():
    parsed = parse_text(text("elided_rows.txt"))
    assert [(w.line, w.text) for w in parsed.warnings] == [(8, "[..]"), (11, "..."), (13, "<snip>")]
    assert len(parsed.reports[0].report.rows) == 8  # 11 rows, 3 replaced by elisions


def test_a_prompt_inside_a_table_ends_it_with_its_totals_unknown():
    lines = (REPORTS / "mmio.txt").read_text().split("\n")
    cut = "\n".join([*lines[:8], "$ exit"])
    parsed = parse_text(cut)
    report = parsed.reports[0].report
    assert len(report.rows) == 2 and report.total_samples is None
    assert parsed.warnings[0].kind == "shell prompt"


def test_two_reports_in_one_file_stay_apart_and_live_intervals_merge():
    parsed = parse_text(text("before_after.txt"))
    runs = independent_reports(parsed.reports)
    assert [r.report.total_samples for r in runs] == [2114, 1323]
    assert [(r.first_line, r.last_line) for r in runs] == [(4, 20), (25, 41)]
    live = parse_text((REPORTS / "live_vmx_3_intervals.txt").read_text())
    [merged] = independent_reports(live.reports)
    assert merged.report.total_samples == sum(p.report.total_samples for p in live.reports)
    with pytest.raises(ReportParseError, match="2 separate reports"):
        parse_report(text("before_after.txt"))


def _wrap(line: str, at: int) -> str:
    return line[:at].rstrip() + "\n" + line[at:].lstrip()


@pytest.mark.parametrize("at", [20, 44, 85])  # after the name, mid-row, inside "( +- x% )"
def test_a_row_a_mail_client_wrapped_is_an_error_that_says_so_and_shows_it(at):
    lines = (REPORTS / "mmio.txt").read_text().split("\n")
    lines[6] = _wrap(lines[6], at)
    with pytest.raises(WrappedRowError) as info:
        parse_reports("\n".join(lines), source="mail.txt")
    msg = str(info.value)
    assert msg.startswith("mail.txt:7: this row looks wrapped over two lines")
    assert "join lines 7 and 8" in msg and "0xfee00380:W" in msg


def test_a_wrapped_table_view_row_is_an_error_too():
    lines = text("table_view_vmx.txt").split("\n")
    lines[4] = _wrap(lines[4], 40)  # the long HLT row, after its name
    with pytest.raises(WrappedRowError, match=r":5: this row looks wrapped.*HLT"):
        parse_reports("\n".join(lines))


def test_a_broken_row_that_is_not_wrapped_keeps_the_plain_error():
    lines = (REPORTS / "mmio.txt").read_text().split("\n")
    lines[6] = lines[6].replace("%", "", 1)
    with pytest.raises(ReportParseError) as info:
        parse_reports("\n".join(lines), source="in")
    assert not isinstance(info.value, WrappedRowError) and info.value.line == 7


def test_nbsp_as_whitespace_still_parses():
    raw = (REPORTS / "mmio.txt").read_text().replace("    ", "\u00a0   ")
    assert parse_report(raw).rows == parse_report((REPORTS / "mmio.txt").read_text()).rows


def test_binary_input_is_recognised_and_text_is_not():
    assert looks_binary(b"PERFILE2\x00\x01\x02" + bytes(range(256)))
    assert looks_binary(bytes(range(128, 256)) * 10)
    assert not looks_binary((REPORTS / "mmio.txt").read_bytes())
    assert not looks_binary("  ±0.50% \u00a0 x".encode() * 100)
    with pytest.raises(BinaryInput, match=r"^x.data: binary file, not a perf kvm stat report"):
        decode_input(b"PERFILE2\x00\x00", "x.data")


def test_a_long_stream_keeps_no_more_than_max_warnings():
    from vmexit_tui.formats.perf_stream_parser import ReportStreamParser

    parser = ReportStreamParser("live")
    parser.feed("a perf message\n" * (ReportStreamParser.MAX_WARNINGS + 5))
    assert len(parser.warnings) == ReportStreamParser.MAX_WARNINGS
    assert parser.warnings_dropped == 5 and parser.spans == []


def test_a_name_column_the_author_trimmed_still_parses():
    raw = (REPORTS / "vmx_perf61_pid.txt").read_text()
    trimmed = "\n".join(line.lstrip() for line in raw.split("\n"))
    a, b = parse_report(raw), parse_report(trimmed)
    assert a.rows == b.rows and a.unknown_codes == b.unknown_codes
    assert b.name_width == len("VM-EXIT")


def test_a_table_view_excerpt_with_perfs_stderr_message_keeps_the_unknown_code():
    lines = text("table_view_vmx.txt").split("\n")
    lines.insert(3, "unknown kvm exit code:75 on VMX")
    report = parse_report("\n".join(lines))
    assert report.unknown_codes == ("unknown kvm exit code:75 on VMX",) and len(report.rows) == 11


def test_the_scope_line_above_a_table_view_is_kept():
    raw = "Analyze events for pid(s) 3062, all VCPUs:\n\n" + text("table_view_ioport.txt")
    report = parse_report(raw.replace("KVM event statistics (2 entries)\n", ""))
    assert report.scope.known and report.scope.pids == (3062,)
    assert report.event.value == "ioport" and len(report.rows) == 2
