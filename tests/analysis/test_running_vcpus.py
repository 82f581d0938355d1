"""RunAccumulator with per-vCPU reports: totals per vCPU next to the totals per reason."""

from __future__ import annotations

from vmexit_tui.analysis.model import EventKind, ExitStat, Report
from vmexit_tui.analysis.running import Interval, RunAccumulator


def rep(**counts: int) -> Report:
    return Report(EventKind.VMEXIT, tuple(ExitStat(k, v, mean_us=1.0) for k, v in counts.items()))


def test_vcpu_reports_accumulate_per_vcpu_and_intervals_without_them_still_work():
    acc = RunAccumulator()
    acc.add(
        Interval(
            0,
            0.0,
            1.0,
            {EventKind.VMEXIT: rep(hlt=5, msr=3)},
            vcpus={0: rep(hlt=5, msr=1), 1: rep(msr=2)},
        )
    )
    acc.add(Interval(1, 1.0, 2.0, {EventKind.VMEXIT: rep(hlt=1)}, vcpus={1: rep(hlt=1)}))
    acc.add(Interval(2, 2.0, 3.0, {EventKind.VMEXIT: rep(io=4)}))  # a source without vCPUs
    assert sorted(acc.vcpu_totals) == [0, 1]
    assert acc.vcpu_totals[0].sample_count == 6
    assert {r.reason: r.samples for r in acc.vcpu_totals[1].rows} == {"msr": 2, "hlt": 1}
    assert acc.total().sample_count == 13
    assert Interval(3, 0.0, 1.0, {}).vcpus is None
