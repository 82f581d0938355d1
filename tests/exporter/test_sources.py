"""Sources: the kernel source's per-vCPU reports and log2 histograms become observations."""

from __future__ import annotations

import pytest

from vmexit_tui.analysis.histogram import Log2Histogram
from vmexit_tui.analysis.model import EventKind, ExitStat, Report
from vmexit_tui.analysis.running import Interval
from vmexit_tui.exporter.sources import SourceUnavailable, observations, plan, row_histogram
from vmexit_tui.exporter.store import ALL_VCPUS
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo
from vmexit_tui.recording import demo


def guest(n_vcpus: int) -> VmInfo:
    vcpus = tuple(VCpu(i, 100 + i, (i,)) for i in range(n_vcpus))
    return VmInfo(99, "g", "qemu", 1.0, None, 0, vcpus, Pinning.BIND)


def report(*rows: ExitStat) -> Report:
    return Report(event=EventKind.VMEXIT, rows=rows)


def test_per_vcpu_reports_and_kernel_histograms():
    h0 = Log2Histogram.from_counts({2.0: 3, 8.0: 1})
    h1 = Log2Histogram.from_counts({4.0: 2})
    interval = Interval(
        0, 0.0, 1.0,
        {EventKind.VMEXIT: report(ExitStat("npf", 6, mean_us=3.0))},
        vcpus={0: report(ExitStat("npf", 4, mean_us=3.0, histogram=h0)),
               1: report(ExitStat("npf", 2, mean_us=3.0, histogram=h1))},
    )  # fmt: skip
    obs = {(o.vcpu, o.reason): o for o in observations(interval, guest(2))}
    assert set(obs) == {("0", "npf"), ("1", "npf")}
    assert dict(obs[("0", "npf")].buckets) == {2.0: 3, 8.0: 1}
    assert obs[("1", "npf")].count == 2 and obs[("1", "npf")].time_us == 6.0


def test_without_a_vcpu_split_one_vcpu_guest_is_vcpu_0_else_all():
    interval = Interval(0, 0.0, 1.0, {EventKind.VMEXIT: report(ExitStat("hlt", 5))})
    assert [o.vcpu for o in observations(interval, guest(1))] == ["0"]
    assert [o.vcpu for o in observations(interval, guest(4))] == [ALL_VCPUS]
    assert observations(interval, guest(4))[0].buckets is None  # count mode: no histogram


def test_row_histogram_reads_log2histogram_or_nothing():
    assert row_histogram(ExitStat("x", 1)) is None
    stat = ExitStat("x", 3, histogram=Log2Histogram.from_counts({1.0: 1, 2.0: 2}))
    assert dict(row_histogram(stat)) == {1.0: 1, 2.0: 2}


def test_demo_histograms_add_up_to_each_row():
    for n in (1, 7, 1000):
        stat = ExitStat("x", n, min_us=0.4, max_us=300.0, mean_us=3.2, rel_stddev_pct=2.0)
        hist = demo.simulated_histogram(stat)
        assert sum(hist.values()) == n
        assert min(hist) >= 0.5 and max(hist) <= 512  # inside the row's min..max buckets


def test_sources_this_host_cannot_run_are_one_line():
    for mode in ("kernel", "count", "auto", "nonsense"):
        try:
            plan(mode)
        except SourceUnavailable as exc:
            assert "\n" not in str(exc) and str(exc)
        else:  # a host with hist triggers or perf counting (the lab) runs it
            assert mode != "nonsense"
    with pytest.raises(SourceUnavailable, match="unknown source"):
        plan("nonsense")
