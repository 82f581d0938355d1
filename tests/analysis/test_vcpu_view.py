"""Per-vCPU rows: totals, last-interval rate, top reasons and p99 bound per vCPU."""

from __future__ import annotations

from vmexit_tui.analysis.histogram import Log2Histogram
from vmexit_tui.analysis.model import EventKind, ExitStat, Report
from vmexit_tui.analysis.running import Interval, RunAccumulator
from vmexit_tui.analysis.vcpu_view import vcpu_rows
from vmexit_tui.host.discovery import VCpu
from vmexit_tui.host.vcpu_sched import ThreadSched


def rep(**rows: list[int]) -> Report:
    return Report(
        EventKind.VMEXIT,
        tuple(
            ExitStat(k, len(v), mean_us=sum(v) / len(v), histogram=Log2Histogram.of_values(v))
            for k, v in rows.items()
        ),
    )


def test_rows_per_vcpu_add_up_and_carry_scheduling():
    acc = RunAccumulator()
    v0, v1 = rep(io=[3] * 6, hlt=[100] * 2), rep(msr=[5] * 4)
    acc.add(
        Interval(
            0,
            0.0,
            2.0,
            {EventKind.VMEXIT: rep(io=[3] * 6, hlt=[100] * 2, msr=[5] * 4)},
            vcpus={0: v0, 1: v1},
        )
    )
    sched = {11: ThreadSched(11, (2,), 2, "FIFO", 95)}
    rows = vcpu_rows(acc, [VCpu(0, 11, (2,)), VCpu(1, 12, (3,)), VCpu(2, 13, (3,))], sched.get)
    assert [r.index for r in rows] == [0, 1, 2]  # vCPU 2 made no exits yet: still a row
    r0, r1, r2 = rows
    assert r0.samples + r1.samples == acc.total().sample_count
    assert r0.top == (("io", 75.0), ("hlt", 25.0))
    assert r0.rate == 4.0 and r2.rate == 0.0 and r2.samples == 0
    assert r0.p99_us == 128.0 and r1.p99_us == 8.0
    assert r0.sched is not None and r0.sched.label == "FIFO 95" and r0.sched.affinity == "2"
    assert r1.sched is None


def test_thread_sched_labels():
    assert ThreadSched(1, (0, 1, 2, 5), 1, "OTHER", 0).label == "OTHER"
    assert ThreadSched(1, (0, 1, 2, 5), 1, "RR", 10).label == "RR 10"
    assert ThreadSched(1, (0, 1, 2, 5), 1, "RR", 10).affinity == "0-2,5"
