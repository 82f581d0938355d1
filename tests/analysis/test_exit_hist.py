"""Cumulative in-kernel tables → interval reports, on the table captured in the lab."""

from __future__ import annotations

from pathlib import Path

from vmexit_tui.analysis.exit_hist import ExitCounts, reason_namer, to_reports
from vmexit_tui.analysis.histogram import Log2Histogram
from vmexit_tui.formats.tracefs_hist import exit_counts, exit_reason_tables

FIX = Path(__file__).parents[1] / "fixtures" / "tracefs"
NAMES = exit_reason_tables((FIX / "kvm_exit_format_lab_6.1.txt").read_text()).svm


def lab_counts() -> ExitCounts:
    return exit_counts((FIX / "hist_synthetic_lab_6.1.txt").read_text())


def test_the_lab_table_becomes_per_reason_and_per_vcpu_reports():
    counts = lab_counts()
    total, vcpus = to_reports(counts, reason_namer(NAMES), source="kernel")
    assert sorted(vcpus) == [0, 1]
    by = {r.reason: r for r in total.rows}
    assert set(by) == {"cpuid", "io", "interrupt"}
    # the log2 table's hitcounts add up per reason; the vCPU reports add up to the total
    assert total.sample_count == counts.total
    assert sum(v.sample_count for v in vcpus.values()) == total.sample_count
    for reason, row in by.items():
        assert row.samples == sum(
            r.samples for v in vcpus.values() for r in v.rows if r.reason == reason
        )
        assert row.histogram is not None and row.histogram.count == row.samples
        assert row.min_us is None and row.max_us is None  # bounds only
    cpuid = by["cpuid"]
    lat = sum(lat for (_, code, _), (_, lat) in counts.cells.items() if code == 114)
    assert cpuid.mean_us == lat / cpuid.samples
    assert abs(sum(r.samples_pct for r in total.rows) - 100) < 1e-9
    assert total.total_time_us == sum(lat for _, lat in counts.cells.values())


def test_two_readings_subtract_into_the_interval_between_them():
    a = ExitCounts({(0, 114, 5): (10, 200), (1, 123, 3): (4, 20)}, dropped=0)
    b = ExitCounts({(0, 114, 5): (15, 310), (1, 123, 3): (4, 20), (1, 96, 7): (2, 200)}, 1)
    d = b.minus(a)
    assert d.cells == {(0, 114, 5): (5, 110), (1, 96, 7): (2, 200)}
    assert d.dropped == 1
    total, vcpus = to_reports(d, reason_namer(NAMES))
    assert {r.reason: r.samples for r in total.rows} == {"cpuid": 5, "interrupt": 2}
    assert vcpus[1].rows[0].histogram == Log2Histogram.from_counts({128: 2})
    assert total.lost_events == 1


def test_a_reading_that_went_backwards_starts_over():
    a = ExitCounts({(0, 114, 5): (10, 200)})
    b = ExitCounts({(0, 114, 5): (3, 50)})
    assert b.minus(a).cells == {(0, 114, 5): (3, 50)}


def test_names_from_the_kernel_then_the_fallback_then_unknown():
    name_of = reason_namer({124: "msr"}, {120: "hlt"})
    assert [name_of(c) for c in (124, 120, 9999)] == ["msr", "hlt", "UNKNOWN(9999)"]
    total, _ = to_reports(ExitCounts({(0, 9999, 2): (1, 3)}), name_of)
    assert total.rows[0].reason == "UNKNOWN(9999)"
    assert total.unknown_codes == ("9999",)
