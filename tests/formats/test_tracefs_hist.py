"""The hist-file and format-file parsers, on text captured from real kernels (fixtures/tracefs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vmexit_tui.formats.tracefs_hist import (
    HistParseError,
    exit_reason_tables,
    parse_hist,
)

FIX = Path(__file__).parents[1] / "fixtures" / "tracefs"


def read(name: str) -> str:
    return (FIX / name).read_text()


def test_synthetic_hist_with_a_counts_table_and_a_log2_table():
    counts, log2, _onmax = parse_hist(read("hist_synthetic_lab_6.1.txt"), "hist")
    assert counts.trigger.startswith("hist:keys=vcpu,reason:vals=hitcount,lat")
    assert counts.hits == 4444 and counts.dropped == 0
    assert len(counts.entries) == 6
    first = counts.entries[0]
    assert first.keys == {"vcpu": 0, "reason": 96}
    assert first.values == {"hitcount": 28, "lat": 86973}
    assert sum(e.values["hitcount"] for e in counts.entries) == counts.hits

    assert log2.trigger.startswith("hist:keys=vcpu,reason,lat.log2:vals=hitcount,lat")
    assert log2.key_names == ("vcpu", "reason", "lat.log2")
    top = log2.entries[0]
    assert top.keys == {"vcpu": 0, "reason": 114, "lat.log2": 13}
    assert top.values == {"hitcount": 1, "lat": 7760}
    # `~ 2^9  }` (padded exponent) and `~ 2^0` (the bucket of 0 and 1 µs) both read
    assert {"vcpu": 1, "reason": 123, "lat.log2": 0} in [e.keys for e in log2.entries]
    zero = next(e for e in log2.entries if e.keys["lat.log2"] == 0)
    assert zero.values["lat"] == 0
    # every bucket's summed latency lies inside its (2^(k-1), 2^k] bound
    for e in log2.entries:
        k, n, lat = e.keys["lat.log2"], e.values["hitcount"], e.values["lat"]
        assert lat <= n * 2**k
        assert k == 0 or lat > n * 2 ** (k - 1)


def test_onmax_lines_add_their_values_to_the_entry_above():
    tables = parse_hist(read("hist_synthetic_onmax_lab_6.1.txt"))
    onmax = tables[-1]
    assert "onmax($m).save(lat)" in onmax.trigger
    e = onmax.entries[0]
    assert e.keys == {"vcpu": 0, "reason": 96}
    assert e.values == {"hitcount": 23, "max": 12647, "lat": 12647}


def test_variable_tables_with_a_filter_keep_the_filter_in_the_spec():
    (table,) = parse_hist(read("hist_kvm_exit_lab_6.1.txt"))
    assert table.trigger.endswith("if common_pid==142 || common_pid==145 || common_pid==146")
    assert [e.keys["common_pid"] for e in table.entries] == [146, 145]
    assert table.hits == 6822


def test_an_empty_hist_file_has_no_tables():
    assert parse_hist("") == []
    text = "# event histogram\n#\n# trigger info: hist:keys=vcpu [active]\n#\n\n\nTotals:\n"
    text += "    Hits: 0\n    Entries: 0\n    Dropped: 0\n"
    (t,) = parse_hist(text)
    assert t.entries == () and t.hits == 0 and t.key_names == ()


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("{ vcpu: 1 } hitcount: 3\n", 1, "`# trigger info:`"),
        ("# trigger info: hist:keys=x [active]\n{ vcpu: abc } hitcount: 3\n", 2, "a key"),
        ("# trigger info: hist:keys=x [active]\n{ vcpu: 1 } hitcount: lots\n", 2, "values"),
        ("# trigger info: hist:keys=x [active]\ngarbage here\n", 2, "a `{ keys } values` line"),
    ],
)
def test_bad_lines_are_refused_with_file_line_and_expectation(text, line, expected):
    with pytest.raises(HistParseError) as e:
        parse_hist(text, "/sys/kernel/tracing/x/hist")
    assert e.value.line == line
    assert str(e.value).startswith(f"/sys/kernel/tracing/x/hist:{line}: expected {expected}")


def test_reason_tables_of_the_lab_kernel():
    tables = exit_reason_tables(read("kvm_exit_format_lab_6.1.txt"))
    assert tables.svm[0x60] == "interrupt"
    assert tables.svm[114] == "cpuid" and tables.svm[123] == "io" and tables.svm[124] == "msr"
    assert tables.svm[0x40 + 13] == "GP excp"
    assert tables.svm[0x400] == "npf"
    assert tables.svm[0xFFFFFFFF] == "invalid_guest_state"  # { -1, ... } of an unsigned field
    assert tables.vmx[48] == "EPT_VIOLATION" and tables.vmx[30] == "IO_INSTRUCTION"
    assert tables.for_vendor("svm") is tables.svm


def test_reason_tables_of_a_newer_kernel_know_newer_names():
    tables = exit_reason_tables(read("kvm_exit_format_host.txt"))
    assert tables.vmx[84] == "MSR_READ_IMM"
    assert tables.svm[0xA6] == "idle-halt"


def test_a_format_without_symbolic_reasons_is_refused():
    with pytest.raises(HistParseError, match="format:3: expected __print_symbolic"):
        exit_reason_tables('name: x\nID: 1\nprint fmt: "vcpu %u", REC->vcpu_id\n')
    with pytest.raises(HistParseError, match="a `print fmt:` line"):
        exit_reason_tables("name: x\n")
