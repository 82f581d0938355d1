"""The model: exact merge (property-tested against perf's arithmetic), sorting, unknowns."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.perf_arith import report_of
from vmexit_tui.analysis.model import (
    EventKind,
    ExitStat,
    Report,
    empty_report,
    m2_from_rel,
    merge_reports,
    rel_stddev,
    sort_rows,
)
from vmexit_tui.formats.perf_parser import parse_report

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"

reasons = st.sampled_from(["EPT_VIOLATION", "MSR_WRITE", "HLT", "IO_INSTRUCTION", "CPUID", "npf"])
times_ns = st.lists(st.integers(min_value=100, max_value=50_000_000), min_size=1, max_size=60)
sample_sets = st.dictionaries(reasons, times_ns, min_size=1, max_size=6)


def close(a: float | None, b: float | None, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def assert_same_report(got: Report, want: Report) -> None:
    assert got.total_samples == want.total_samples
    assert close(got.total_time_us, want.total_time_us)
    assert sorted(got.reasons) == sorted(want.reasons)
    for w in want.rows:
        g = got.row(w.reason)
        assert g is not None
        assert g.samples == w.samples
        for field in ("min_us", "max_us", "mean_us", "samples_pct", "time_pct"):
            assert close(getattr(g, field), getattr(w, field)), (w.reason, field)
        # the spread goes through sqrt of a difference: compare to 1e-7 relative
        assert close(g.rel_stddev_pct, w.rel_stddev_pct, rel=1e-7, abs_=1e-9), w.reason
        # and to print precision, as perf would show it
        assert f"{g.rel_stddev_pct:7.2f}" == f"{w.rel_stddev_pct:7.2f}" or close(
            g.rel_stddev_pct, w.rel_stddev_pct, rel=1e-7
        )


@settings(max_examples=200, deadline=None)
@given(sample_sets, st.data())
def test_merging_two_halves_equals_the_report_of_the_whole(events, data):
    first, second = {}, {}
    for reason, xs in events.items():
        cut = data.draw(st.integers(min_value=0, max_value=len(xs)), label=reason)
        first[reason], second[reason] = xs[:cut], xs[cut:]
    parts = [r for r in (report_of(first), report_of(second)) if r.rows]
    merged = merge_reports(parts)
    assert merged is not None
    assert_same_report(merged, report_of(events))


@settings(max_examples=100, deadline=None)
@given(sample_sets, sample_sets, sample_sets)
def test_merge_is_associative_and_commutative(a, b, c):
    ra, rb, rc = report_of(a), report_of(b), report_of(c)
    assert_same_report(ra.merge(rb).merge(rc), ra.merge(rb.merge(rc)))
    assert_same_report(ra.merge(rb), rb.merge(ra))


def test_empty_report_is_the_identity_of_merge():
    r = report_of({"HLT": [1000, 5000, 9000], "CPUID": [700]})
    assert_same_report(empty_report().merge(r), r)
    assert_same_report(r.merge(empty_report()), r)


def test_merged_printed_chunks_equal_the_printed_whole_to_print_precision():
    """The chunk fixtures are two halves of one sample set printed by perf's formats."""
    a = parse_report((FIXTURES / "chunk_a.txt").read_text())
    b = parse_report((FIXTURES / "chunk_b.txt").read_text())
    whole = parse_report((FIXTURES / "chunk_whole.txt").read_text())
    merged = a.merge(b)
    assert merged.total_samples == whole.total_samples
    assert merged.total_time_us == pytest.approx(whole.total_time_us, abs=0.01 * len(whole.rows))
    for w in whole.rows:
        g = merged.row(w.reason)
        assert g is not None and g.samples == w.samples
        assert g.min_us == w.min_us and g.max_us == w.max_us
        # inputs were rounded to 0.01 us and 0.01 %: the merge is exact up to that
        assert g.mean_us == pytest.approx(w.mean_us, abs=0.006)
        assert g.samples_pct == pytest.approx(w.samples_pct, abs=0.006)
        assert g.rel_stddev_pct == pytest.approx(w.rel_stddev_pct, abs=0.02, rel=0.02)


def test_m2_round_trips_through_perfs_printed_spread():
    n, mean, m2 = 250, 3.5, 812.25
    assert m2_from_rel(n, mean, rel_stddev(n, mean, m2)) == pytest.approx(m2)
    assert rel_stddev(1, 3.0, 0.0) == 0.0  # perf prints 0 for a single sample


def test_unknown_values_stay_unknown_and_a_bound_merges_into_a_bound():
    a = ExitStat("HLT", 10, mean_us=5.0, min_us=1.0, max_us=9.0, rel_stddev_below=4.0)
    b = ExitStat("HLT", 30, mean_us=7.0, min_us=None, max_us=20.0, rel_stddev_pct=2.0)
    m = a.merge(b)
    assert m.samples == 40
    assert m.mean_us == pytest.approx(6.5)
    assert m.min_us is None and m.max_us == 20.0
    assert m.rel_stddev_pct is None
    exact = ExitStat("HLT", 10, mean_us=5.0, rel_stddev_pct=4.0).merge(b)
    assert m.rel_stddev_below == pytest.approx(exact.rel_stddev_pct)
    no_mean = ExitStat("HLT", 5).merge(b)
    assert no_mean.mean_us is None and no_mean.rel_stddev_pct is None


def test_accumulating_from_empty_keeps_the_scope_of_the_chunks():
    chunk = parse_report((FIXTURES / "chunk_a.txt").read_text(), source="a")
    total = empty_report().merge(chunk).merge(chunk)
    assert total.scope.pids == (4242,)
    mixed = total.merge(
        parse_report((FIXTURES / "mmio.txt").read_text().replace("MMIO Access", "    VM-EXIT"))
    )
    assert mixed.scope.all_vms  # different scopes merged: all that can be said


def test_merging_different_kinds_or_reasons_is_refused():
    with pytest.raises(ValueError, match="vmexit report with a mmio"):
        empty_report(EventKind.VMEXIT).merge(empty_report(EventKind.MMIO))
    with pytest.raises(ValueError, match="cannot merge 'HLT'"):
        ExitStat("HLT", 1).merge(ExitStat("CPUID", 1))


def test_sort_rows_puts_unknowns_last_in_either_direction():
    rows = [ExitStat("A", 5, mean_us=2.0), ExitStat("B", 9), ExitStat("C", 1, mean_us=7.0)]
    assert [r.reason for r in sort_rows(rows, "mean")] == ["C", "A", "B"]
    assert [r.reason for r in sort_rows(rows, "mean", descending=False)] == ["A", "C", "B"]
    assert [r.reason for r in sort_rows(rows, "samples")] == ["B", "A", "C"]
    assert [r.reason for r in sort_rows(rows, "name", descending=False)] == ["A", "B", "C"]
    with pytest.raises(ValueError, match="unknown sort key 'bogus'"):
        sort_rows(rows, "bogus")


def test_rows_with_histograms_merge_them_exactly_and_read_bounds_from_them():
    from vmexit_tui.analysis.histogram import Log2Histogram

    a = ExitStat("hlt", 3, mean_us=10.0, histogram=Log2Histogram.of_values([8, 9, 13]))
    b = ExitStat("hlt", 2, mean_us=40.0, histogram=Log2Histogram.of_values([30, 50]))
    m = a.merge(b)
    assert m.histogram == Log2Histogram.of_values([8, 9, 13, 30, 50])
    assert m.max_us is None and m.max_bound == 64.0  # no exact max: the bucket bound
    assert m.percentile_bound(0.5) == 16.0
    assert a.merge(ExitStat("hlt", 1, mean_us=5.0)).histogram is None  # one side unknown
    assert ExitStat("hlt", 0).merge(a).histogram == a.histogram
    assert ExitStat("hlt", 1, max_us=7.5).max_bound == 7.5
    assert ExitStat("hlt", 1).percentile_bound(0.99) is None


def test_reports_with_histogram_rows_merge_exactly():
    from vmexit_tui.analysis.histogram import Log2Histogram

    def rep(vals: list[int]) -> Report:
        return Report(
            EventKind.VMEXIT,
            (
                ExitStat(
                    "npf",
                    len(vals),
                    mean_us=sum(vals) / len(vals),
                    histogram=Log2Histogram.of_values(vals),
                ),
            ),
        )

    merged = merge_reports([rep([1, 2]), rep([100]), rep([3, 3, 3])])
    assert merged is not None
    row = merged.row("npf")
    assert row is not None and row.samples == 6
    assert row.histogram == Log2Histogram.of_values([1, 2, 100, 3, 3, 3])


def test_with_pct_changes_the_percentages_and_keeps_every_other_field():
    from dataclasses import fields, replace

    from vmexit_tui.analysis.histogram import Log2Histogram

    values = iter(range(1, 100))
    full = ExitStat(
        **{
            f.name: "hlt" if f.name == "reason" else next(values)
            for f in fields(ExitStat)
            if f.name != "histogram"
        },
        histogram=Log2Histogram.of_values([3, 9]),
    )
    assert full.with_pct(7.5, None) == replace(full, samples_pct=7.5, time_pct=None)


def test_row_finds_the_first_row_of_a_reason_and_the_lookup_leaves_equality_alone():
    first, second = ExitStat("HLT", 1), ExitStat("HLT", 2)
    report = Report(EventKind.VMEXIT, (ExitStat("MSR_READ", 3), first, second))
    twin = Report(EventKind.VMEXIT, report.rows)
    assert report.row("HLT") is first and report.row("IO") is None
    assert report == twin and hash(report) == hash(twin)  # one looked up, one not
    assert "_by_reason" not in repr(report)
